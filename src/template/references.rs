//! Dangling references: every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable,
//! `Fn::If` and `Condition`, `Fn::FindInMap` and `DependsOn` must name an id
//! the (merged) template defines, of the right kind. Neither emulator catches
//! these; CloudFormation would, after the stack call.

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
    for formation in template.formations() {
        for section in [Section::Conditions, Section::Resources, Section::Outputs] {
            for (id, value) in formation.entries(section) {
                let mut walker = Walker {
                    template,
                    formation,
                    section,
                    id,
                    findings: &mut findings,
                };
                walker.entry(value);
            }
        }
    }
    findings
}

struct Walker<'a> {
    template: &'a Template,
    formation: &'a Formation,
    section: Section,
    id: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl Walker<'_> {
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
        for name in sub_variables(text) {
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
                    }
                }
            }
        }
    }
}

/// The `${...}` names in a `Fn::Sub` string, skipping literal `${!...}`.
fn sub_variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_variables_skip_literals() {
        assert_eq!(
            sub_variables("${AppName}-${!Literal}-${Db.Endpoint.Address}"),
            ["AppName", "Db.Endpoint.Address"]
        );
        assert!(sub_variables("no variables").is_empty());
    }
}
