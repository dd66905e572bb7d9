//! References: every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, `Fn::If` and
//! `Condition`, `Fn::FindInMap` and `DependsOn` must name an id the (merged)
//! template defines, of the right kind; no resource may depend on itself,
//! directly or through others, and no condition on itself; a `Fn::Sub`
//! string must be well formed. Neither emulator catches these; CloudFormation
//! would, after the stack call. cfn-lint does too, but is not always there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Finding, Formation, Section, Template};

/// Parameters AWS defines for every stack.
pub const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Check every formation of `template` against the ids of the whole template.
pub fn check(template: &Template) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut edges = Edges::new();
    for formation in template.formations() {
        for section in [Section::Conditions, Section::Resources, Section::Outputs] {
            for (id, value) in formation.entries(section) {
                let mut walker = Walker {
                    template,
                    formation,
                    section,
                    id,
                    findings: &mut findings,
                    edges: &mut edges,
                };
                walker.entry(value);
            }
        }
    }
    for (section, what) in [
        (Section::Resources, "resource"),
        (Section::Conditions, "condition"),
    ] {
        for cycle in cycles(&edges, section) {
            let first = &cycle[0];
            let path = cycle
                .iter()
                .chain(std::iter::once(first))
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" → ");
            findings.push(Finding {
                location: template.locate(section, first),
                at: format!("{section}.{first}"),
                message: if cycle.len() == 1 {
                    format!("the {what} depends on itself: {path}")
                } else {
                    format!(
                        "a circular dependency between {what}s: {path} (CloudFormation \
                         cannot order them)"
                    )
                },
            });
        }
    }
    findings
}

/// Who depends on whom, within one section: (section, from) → targets.
type Edges = BTreeMap<(Section, String), Vec<String>>;

/// Every cycle of `section`'s graph, each once, starting at its first id in
/// name order. Iterative, so a long chain cannot overflow the stack.
fn cycles(edges: &Edges, section: Section) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let nodes: Vec<&String> = edges
        .keys()
        .filter(|(s, _)| *s == section)
        .map(|(_, id)| id)
        .collect();
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    let targets = |id: &str| {
        edges
            .get(&(section, id.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    let mut found: Vec<Vec<String>> = Vec::new();
    for start in nodes {
        if marks.get(start.as_str()).copied().unwrap_or(Mark::New) != Mark::New {
            continue;
        }
        // (node, index of the next target to visit)
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some((node, next)) = stack.pop() {
            let Some(target) = targets(node).get(next) else {
                marks.insert(node, Mark::Done);
                continue;
            };
            stack.push((node, next + 1));
            match marks.get(target.as_str()).copied().unwrap_or(Mark::New) {
                Mark::New => {
                    marks.insert(target, Mark::Open);
                    stack.push((target, 0));
                }
                Mark::Open => {
                    let at = stack
                        .iter()
                        .position(|(n, _)| *n == target)
                        .expect("an open node is on the stack");
                    let mut cycle: Vec<String> =
                        stack[at..].iter().map(|(n, _)| (*n).to_owned()).collect();
                    let smallest = (0..cycle.len())
                        .min_by_key(|i| &cycle[*i])
                        .expect("a cycle has a member");
                    cycle.rotate_left(smallest);
                    if !found.contains(&cycle) {
                        found.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
    }
    found
}

struct Walker<'a> {
    template: &'a Template,
    formation: &'a Formation,
    section: Section,
    id: &'a str,
    findings: &'a mut Vec<Finding>,
    edges: &'a mut Edges,
}

impl Walker<'_> {
    /// This entry depends on `target` of its own section.
    fn depends(&mut self, target: &str) {
        self.edges
            .entry((self.section, self.id.to_owned()))
            .or_default()
            .push(target.to_owned());
    }

    fn report(&mut self, path: &str, message: String) {
        self.findings.push(Finding {
            location: self.formation.locate(self.section, self.id),
            at: path.to_owned(),
            message,
        });
    }

    fn entry(&mut self, value: &Value) {
        let path = format!("{}.{}", self.section, self.id);
        match (self.section, value) {
            (Section::Resources | Section::Outputs, Value::Object(entry)) => {
                for (key, child) in entry {
                    let child_path = format!("{path}.{key}");
                    match key.as_str() {
                        "Condition" => self.condition_name(&child_path, child),
                        "DependsOn" => self.depends_on(&child_path, child),
                        _ => self.walk(&child_path, child),
                    }
                }
            }
            _ => self.walk(&path, value),
        }
    }

    fn walk(&mut self, path: &str, value: &Value) {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                if !self.intrinsic(path, key, arg) {
                    self.walk(&format!("{path}.{key}"), arg);
                }
            }
            Value::Object(map) => self.walk_map(path, map),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(&format!("{path}[{i}]"), item);
                }
            }
            _ => {}
        }
    }

    fn walk_map(&mut self, path: &str, map: &Map<String, Value>) {
        for (key, child) in map {
            self.walk(&format!("{path}.{key}"), child);
        }
    }

    /// Handle an intrinsic function; false when `key` is not one we check.
    fn intrinsic(&mut self, path: &str, key: &str, arg: &Value) -> bool {
        let path = &format!("{path}.{key}");
        match key {
            "Ref" => match arg.as_str() {
                Some(target) => self.reference(path, target),
                None => self.report(path, "Ref takes a logical id (a string)".into()),
            },
            "Fn::GetAtt" => match arg {
                Value::Array(parts) => {
                    match (parts.first().and_then(Value::as_str), parts.len()) {
                        (Some(resource), 2) => self.resource(path, resource, "Fn::GetAtt"),
                        _ => self.report(path, "Fn::GetAtt takes [resource id, attribute]".into()),
                    }
                    if let Some(attribute) = parts.get(1) {
                        self.walk(path, attribute);
                    }
                }
                Value::String(short) => self.report(
                    path,
                    format!(
                        "use the long form {{\"Fn::GetAtt\": [\"{}\", \"{}\"]}} instead of \
                         \"{short}\" (emulators only understand the long form)",
                        short.split_once('.').map_or(short.as_str(), |(r, _)| r),
                        short.split_once('.').map_or("", |(_, a)| a),
                    ),
                ),
                _ => self.report(path, "Fn::GetAtt takes [resource id, attribute]".into()),
            },
            "Fn::If" => match arg.as_array().map(Vec::as_slice) {
                Some([Value::String(condition), yes, no]) => {
                    self.known(path, Section::Conditions, condition, "Fn::If");
                    self.walk(path, yes);
                    self.walk(path, no);
                }
                _ => self.report(
                    path,
                    "Fn::If takes [condition, value if true, value if false]".into(),
                ),
            },
            "Condition" if self.section == Section::Conditions => {
                self.condition_name(path, arg);
            }
            "Fn::FindInMap" => {
                if let Some(Value::String(mapping)) = arg.as_array().and_then(|a| a.first()) {
                    self.known(path, Section::Mappings, mapping, "Fn::FindInMap");
                }
                self.walk(path, arg);
            }
            "Fn::Sub" => self.sub(path, arg),
            _ => return false,
        }
        true
    }

    fn reference(&mut self, path: &str, target: &str) {
        if PSEUDO_PARAMETERS.contains(&target)
            || self.template.contains(Section::Parameters, target)
        {
            return;
        }
        if self.template.contains(Section::Resources, target) {
            if self.section == Section::Resources {
                self.depends(target);
            }
            if self.section == Section::Conditions {
                self.report(
                    path,
                    format!("conditions can only Ref parameters, and `{target}` is a resource"),
                );
            }
            return;
        }
        self.unknown(path, target, "Ref", "a parameter or resource");
    }

    fn resource(&mut self, path: &str, target: &str, what: &str) {
        self.known(path, Section::Resources, target, what);
    }

    fn known(&mut self, path: &str, section: Section, target: &str, what: &str) {
        if section == self.section && self.template.contains(section, target) {
            self.depends(target);
        }
        if !self.template.contains(section, target) {
            let kind = section.singular();
            self.unknown(path, target, what, kind);
        }
    }

    fn unknown(&mut self, path: &str, target: &str, what: &str, expected: &str) {
        let elsewhere = Section::ALL
            .into_iter()
            .find(|s| self.template.contains(*s, target))
            .map(|s| format!(" (`{target}` is {})", s.singular()))
            .unwrap_or_default();
        self.report(
            path,
            format!("{what} names `{target}`, which is not {expected} in any merged formation{elsewhere}"),
        );
    }

    fn condition_name(&mut self, path: &str, value: &Value) {
        match value.as_str() {
            Some(condition) => self.known(path, Section::Conditions, condition, "Condition"),
            None => self.report(path, "Condition takes a condition name (a string)".into()),
        }
    }

    fn depends_on(&mut self, path: &str, value: &Value) {
        let targets: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for target in targets {
            match target.as_str() {
                Some(target) => self.resource(path, target, "DependsOn"),
                None => self.report(path, "DependsOn takes resource ids".into()),
            }
        }
    }

    /// `Fn::Sub`: `${Name}` and `${Resource.Attribute}` outside the variable map.
    fn sub(&mut self, path: &str, arg: &Value) {
        let (text, variables) = match arg {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                _ => {
                    self.report(
                        path,
                        "Fn::Sub takes a string or [string, {variables}]".into(),
                    );
                    return;
                }
            },
            _ => {
                self.report(
                    path,
                    "Fn::Sub takes a string or [string, {variables}]".into(),
                );
                return;
            }
        };
        if let Some(vars) = variables {
            self.walk_map(path, vars);
        }
        let names = match sub_variables(text) {
            Ok(names) => names,
            Err(problem) => {
                self.report(path, format!("Fn::Sub {text:?}: {problem}"));
                return;
            }
        };
        for name in names {
            if variables.is_some_and(|v| v.contains_key(name)) {
                continue;
            }
            match name.split_once('.') {
                Some((resource, _)) => self.resource(path, resource, "Fn::Sub"),
                None => {
                    if !PSEUDO_PARAMETERS.contains(&name)
                        && !self.template.contains(Section::Parameters, name)
                        && !self.template.contains(Section::Resources, name)
                    {
                        self.unknown(path, name, "Fn::Sub", "a parameter or resource");
                    } else if self.section == Section::Resources
                        && !self.template.contains(Section::Parameters, name)
                        && self.template.contains(Section::Resources, name)
                    {
                        self.depends(name);
                    }
                }
            }
        }
    }
}

/// The `${...}` names in a `Fn::Sub` string, skipping literal `${!...}`;
/// a `${` with no `}` or with no name is an error, as CloudFormation has it.
fn sub_variables(text: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` has no closing `}` (write `${!` for a literal `${`)".into());
        };
        let name = after[..end].trim();
        if name.is_empty() {
            return Err("`${}` names nothing".into());
        }
        if !name.starts_with('!') {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_variables_skip_literals() {
        assert_eq!(
            sub_variables("${AppName}-${!Literal}-${Db.Endpoint.Address}").unwrap(),
            ["AppName", "Db.Endpoint.Address"]
        );
        assert!(sub_variables("no variables").unwrap().is_empty());
        assert!(sub_variables("${").is_err());
        assert!(sub_variables("a-${}").is_err());
    }
}
