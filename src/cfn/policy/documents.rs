//! What Guard reads, and the way back from its findings to a file and line.
//!
//! A template goes to Guard as it is, with one key added at the top:
//!
//! ```json
//! "Argos": {"Environment": "staging", "Production": false,
//!           "Parameters": {"OperatorCidr": "203.0.113.0/24", ...}}
//! ```
//!
//! `Argos.Parameters` holds each parameter's value as the settings give it,
//! secrets left out, so a rule can follow a `Ref` to what the stack will
//! really get. An IAM policy document goes as it is.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::cfn::plan::{Plan, is_no_echo};
use crate::cfn::template::{Section, Template};
use crate::input::json::{Item, outline};
use crate::model::project::Project;
use crate::model::settings::PolicySettings;
use crate::model::settings::values::named_like_a_secret;

use super::guard::Violation;

/// Policy documents may be at most this big (IAM's own limit is 10 KiB for
/// a managed policy; this leaves room for hand-written ones).
const POLICY_DOCUMENT: crate::input::file::Limit = crate::input::file::Limit {
    what: "an IAM policy document",
    bytes: 1024 * 1024,
};

/// One document Guard evaluates.
pub struct Document<'a> {
    /// The JSON Guard reads.
    pub json: String,
    source: Source<'a>,
}

enum Source<'a> {
    Template {
        template: &'a Template,
        plan: &'a Plan,
    },
    Policy {
        shown: String,
        outline: Item,
        value: Value,
    },
}

/// Where a violation is, for a person: the resource, its file:line, the
/// path within the resource and the value found there.
pub struct Located {
    pub resource: String,
    pub location: String,
    pub path: String,
    pub value: String,
}

/// The template with the `Argos` key added.
pub fn of_template<'a>(
    label: &'static str,
    template: &'a Template,
    plan: &'a Plan,
    env: Option<&str>,
    policy: &PolicySettings,
) -> Document<'a> {
    let values: Map<String, Value> = plan
        .parameters
        .iter()
        .filter_map(|p| {
            Some((
                p.key.clone(),
                Value::String(plan.resolve(&p.key)?.to_owned()),
            ))
        })
        .collect();
    let mut body = template.body().clone();
    body.values_mut().for_each(ports_as_numbers);
    body.insert(
        "Argos".into(),
        json!({
            "Template": label,
            "Environment": env,
            "Production": policy.production,
            "Parameters": values,
        }),
    );
    Document {
        json: Value::Object(body).to_string(),
        source: Source::Template { template, plan },
    }
}

/// CloudFormation reads `"FromPort": "22"` as the number 22; Guard would
/// not compare the text with a number, so the rules see numbers.
fn ports_as_numbers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if matches!(key.as_str(), "FromPort" | "ToPort")
                    && let Some(port) = value.as_str().and_then(|s| s.trim().parse::<i64>().ok())
                {
                    *value = Value::from(port);
                } else {
                    ports_as_numbers(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(ports_as_numbers),
        _ => {}
    }
}

/// The documents `iam_policies` names: files, or folders of `*.json`.
pub fn iam_policies(
    project: &Project,
    named: &[String],
) -> Result<Vec<Document<'static>>, Vec<String>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut problems = Vec::new();
    for name in named {
        let path = project.path(name);
        if path.is_dir() {
            files.extend(crate::input::file::named_with_extension(&path, "json"));
        } else if path.exists() {
            files.push(path);
        } else {
            problems.push(format!(
                "iam_policies: {name}: no such file or folder (paths are from the project's root, {})",
                project.root().display()
            ));
        }
    }
    let mut documents = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(project.root())
            .unwrap_or(&file)
            .display()
            .to_string();
        match read_policy(&file, &shown) {
            Ok(document) => documents.push(document),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(documents)
    } else {
        Err(problems)
    }
}

pub fn read_policy(file: &Path, shown: &str) -> Result<Document<'static>, String> {
    let text = crate::input::file::read_text(file, POLICY_DOCUMENT).map_err(|e| e.to_string())?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{shown}:{}: not JSON: {e}", e.line()))?;
    let outline = outline(&text).map_err(|e| format!("{shown}:{e}"))?;
    if value.get("Statement").is_none() {
        return Err(format!(
            "{shown}: not an IAM policy document (no Statement); iam_policies names only policies"
        ));
    }
    Ok(Document {
        json: text,
        source: Source::Policy {
            shown: shown.to_owned(),
            outline,
            value,
        },
    })
}

impl Document<'_> {
    /// Whether `resource` (as an exception writes it) is in this document.
    pub fn has_resource(&self, resource: &str) -> bool {
        match &self.source {
            Source::Template { template, .. } => match resource.strip_prefix("Parameters.") {
                Some(parameter) => template.contains(Section::Parameters, parameter),
                None => template.contains(Section::Resources, resource),
            },
            Source::Policy { shown, value, .. } => statements(value)
                .enumerate()
                .any(|(i, s)| statement_name(shown, s, i) == resource),
        }
    }

    /// The resource, file:line, path and value of a violation.
    pub fn locate(&self, violation: &Violation) -> Located {
        let segments: Vec<&str> = violation
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        match &self.source {
            Source::Template { template, plan } => {
                locate_in_template(template, plan, &segments, violation)
            }
            Source::Policy {
                shown,
                outline,
                value,
            } => {
                let (resource, within) = match segments.as_slice() {
                    ["Statement", index, rest @ ..] if index.parse::<usize>().is_ok() => {
                        let i: usize = index.parse().unwrap_or_default();
                        let statement = statements(value).nth(i).unwrap_or(&Value::Null);
                        (statement_name(shown, statement, i), rest)
                    }
                    ["Statement", rest @ ..] => (
                        statement_name(shown, value.get("Statement").unwrap_or(&Value::Null), 0),
                        rest,
                    ),
                    _ => (shown.clone(), segments.as_slice()),
                };
                let line = outline.deepest_key_line(&segments);
                Located {
                    resource,
                    location: match line {
                        Some(line) => format!("{shown}:{line}"),
                        None => shown.clone(),
                    },
                    path: dotted(within),
                    value: shown_value(violation.value.as_ref()),
                }
            }
        }
    }
}

fn locate_in_template(
    template: &Template,
    plan: &Plan,
    segments: &[&str],
    violation: &Violation,
) -> Located {
    let (section, id, within) = match segments {
        [section, id, rest @ ..] => (Section::parse(section), Some(*id), rest),
        _ => (None, None, segments),
    };
    let (resource, location) = match (section, id) {
        (Some(section), Some(id)) => {
            let resource = match section {
                Section::Resources => id.to_owned(),
                other => format!("{other}.{id}"),
            };
            let location = template
                .origin(section, id)
                .map(|f| match f.line_at(segments) {
                    Some(line) => format!("{}:{line}", f.file.display()),
                    None => f.file.display().to_string(),
                })
                .unwrap_or_else(|| template.locate(section, id));
            (resource, location)
        }
        _ => (
            segments.first().copied().unwrap_or("template").to_owned(),
            template
                .formations()
                .first()
                .map(|f| f.file.display().to_string())
                .unwrap_or_default(),
        ),
    };
    // Never a secret parameter's Default, whatever a rule looked at.
    let secret = matches!((section, id), (Some(Section::Parameters), Some(id))
        if named_like_a_secret(id)
            || template.get(Section::Parameters, id).is_some_and(is_no_echo));
    let mut value = if secret {
        "(not shown: a secret's parameter)".to_owned()
    } else {
        shown_value(violation.value.as_ref())
    };
    // A `Ref` to a parameter: what the settings give it.
    if let Some(Value::String(name)) = violation.value.as_ref().and_then(|v| v.get("Ref"))
        && let Some(given) = plan.resolve(name)
    {
        value.push_str(&format!(" (the settings give {name} {given:?})"));
    }
    Located {
        resource,
        location,
        path: dotted(within),
        value,
    }
}

/// The statements of a policy, one or a list.
fn statements(policy: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => Box::new(items.iter()),
        Some(one) => Box::new(std::iter::once(one)),
        None => Box::new(std::iter::empty()),
    }
}

/// `nightly-policy.json#SweepOnlyWhatTestRunsTagged`, or `#Statement[3]`
/// for a statement without a Sid.
fn statement_name(shown: &str, statement: &Value, index: usize) -> String {
    let file = Path::new(shown)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.to_owned());
    match statement.get("Sid").and_then(Value::as_str) {
        Some(sid) => format!("{file}#{sid}"),
        None => format!("{file}#Statement[{index}]"),
    }
}

/// `Properties.SecurityGroupIngress[0].FromPort`.
fn dotted(segments: &[&str]) -> String {
    let mut out = String::new();
    for segment in segments {
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    if out.is_empty() {
        "(the resource)".into()
    } else {
        out
    }
}

/// A value as compact JSON, cut short: a finding is one line.
fn shown_value(value: Option<&Value>) -> String {
    const MOST: usize = 100;
    let Some(value) = value else {
        return String::new();
    };
    let text = value.to_string();
    if text.chars().count() > MOST {
        format!("{}…", text.chars().take(MOST).collect::<String>())
    } else {
        text
    }
}
