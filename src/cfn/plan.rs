//! The plan of a stack: its name, every parameter its template declares
//! with the value it gets (no template default is relied on, so an update
//! never drifts), where each value came from, and the stack's tags. The
//! values come from the settings' `parameters:` (or `image_parameters:`)
//! mapping; a declared parameter the settings do not map gets its Default,
//! passed explicitly. Checked against the template's own constraints before
//! any API call, each problem naming the formation's line and the settings'.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::cfn::template::{Finding, Section, Template};
use crate::model::names::{EnvNames, RunTags, Tag};
use crate::model::secret::Secret;
use crate::model::settings::{Lists, Origin, ParameterMap, Scope, Settings};

#[derive(Debug, Clone)]
pub enum ParameterValue {
    Plain(String),
    Secret(Secret),
}

impl ParameterValue {
    /// The value to send. Secrets are exposed here only.
    pub fn expose(&self) -> &str {
        match self {
            ParameterValue::Plain(value) => value,
            ParameterValue::Secret(secret) => secret.expose(),
        }
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, ParameterValue::Secret(_))
    }

    /// The value for a person to read: a secret masked.
    pub fn shown(&self) -> String {
        match self {
            ParameterValue::Plain(value) => value.clone(),
            ParameterValue::Secret(_) => Secret::REDACTED.to_owned(),
        }
    }
}

/// Where a parameter's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The settings' entry for it, and the keys its value was made from.
    Mapped {
        entry: Origin,
        keys: Vec<(String, Origin)>,
    },
    /// The formation's `Default`, passed explicitly.
    Default { location: String },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Mapped { entry, keys } if keys.is_empty() => write!(f, "{entry}"),
            Source::Mapped { entry, keys } => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|(key, origin)| match origin {
                        Origin::Builtin => format!("`{key}` (built in)"),
                        origin => format!("`{key}` from {origin}"),
                    })
                    .collect();
                write!(f, "{entry}, {}", keys.join(", "))
            }
            Source::Default { location } => write!(f, "its Default, {location}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub key: String,
    pub value: ParameterValue,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub stack_name: String,
    pub parameters: Vec<Parameter>,
    pub tags: Vec<Tag>,
    /// What could not be planned, each naming the formation's line and the
    /// settings' line; [`Plan::check`] returns them with the rest.
    pub problems: Vec<Finding>,
}

/// The built-ins a `{{ name }}` can take besides the settings' keys.
fn builtins(
    settings: &Settings,
    env: &str,
    app_image_id: &str,
    stack_name: &str,
    run: Option<&RunTags>,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("app_name", settings.app_name.to_string()),
        ("env", env.to_owned()),
        ("app_image_id", app_image_id.to_owned()),
        ("stack_name", stack_name.to_owned()),
        ("image_name", settings.app_name.image_name()),
        ("run_id", run.map(|r| r.run_id.clone()).unwrap_or_default()),
    ])
}

impl Plan {
    /// The stack of one environment. `app_image_id` is the baked `<app>-image`.
    pub fn environment(
        settings: &Settings,
        names: &EnvNames,
        template: &Template,
        app_image_id: &str,
        run: Option<&RunTags>,
    ) -> Self {
        let stack_name = names.stack();
        let builtins = builtins(settings, names.env.as_str(), app_image_id, &stack_name, run);
        Self::build(
            stack_name,
            names.stack_tags(run),
            &settings.parameters,
            settings,
            template,
            &builtins,
        )
    }

    /// The stack the shared `<app>-image` is baked from, named `stack_name`.
    pub fn image(settings: &Settings, template: &Template, stack_name: &str) -> Self {
        let builtins = builtins(settings, "", "", stack_name, None);
        Self::build(
            stack_name.to_owned(),
            vec![Tag::new(
                crate::model::names::tag_keys::APP,
                settings.app_name.as_str(),
            )],
            &settings.image_parameters,
            settings,
            template,
            &builtins,
        )
    }

    fn build(
        stack_name: String,
        tags: Vec<Tag>,
        map: &ParameterMap,
        settings: &Settings,
        template: &Template,
        builtins: &BTreeMap<&'static str, String>,
    ) -> Self {
        let scope = Scope {
            values: &settings.values,
            builtins,
        };
        let mut parameters = Vec::new();
        let mut problems = Vec::new();
        let settings_file = settings.source.display().to_string();
        for (id, declaration) in template.entries(Section::Parameters) {
            let location = template.locate(Section::Parameters, id);
            let report = |message: String| Finding {
                location: location.clone(),
                at: format!("Parameters.{id}"),
                message,
            };
            let no_echo = is_no_echo(declaration);
            let kind = declaration
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let lists = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
                Lists::Joined
            } else {
                Lists::Refused
            };
            match map.get(id) {
                Some(entry) => match scope.render_with(&entry.template, lists) {
                    Ok(rendered) => {
                        let value = if rendered.secret || no_echo {
                            ParameterValue::Secret(Secret::new(rendered.text))
                        } else {
                            ParameterValue::Plain(rendered.text)
                        };
                        if rendered.secret && !no_echo {
                            problems.push(report(format!(
                                "its value ({}) is a secret, but the parameter is not \
                                 \"NoEcho\": true; CloudFormation would show it in the \
                                 console and in DescribeStacks",
                                entry.origin
                            )));
                        }
                        parameters.push(Parameter {
                            key: id.clone(),
                            value,
                            source: Source::Mapped {
                                entry: entry.origin.clone(),
                                keys: rendered.keys,
                            },
                        });
                    }
                    Err(problem) => problems.push(report(format!(
                        "its value in the settings ({}: {}.{id}) cannot be made: {problem}",
                        entry.origin, map.key
                    ))),
                },
                None => match declaration.get("Default") {
                    Some(default) => parameters.push(Parameter {
                        key: id.clone(),
                        value: match scalar(default) {
                            Some(text) if no_echo => ParameterValue::Secret(Secret::new(text)),
                            Some(text) => ParameterValue::Plain(text),
                            None => ParameterValue::Plain(default.to_string()),
                        },
                        source: Source::Default {
                            location: location.clone(),
                        },
                    }),
                    None => problems.push(report(format!(
                        "has no Default, and the settings give it no value: add `{id}: ...` \
                         (a value or \"{{{{ key }}}}\") under `{}:` in {settings_file}",
                        map.key
                    ))),
                },
            }
        }
        for entry in &map.entries {
            if !template.contains(Section::Parameters, &entry.name) {
                problems.push(Finding {
                    location: entry.origin.to_string(),
                    at: format!("{}.{}", map.key, entry.name),
                    message: format!(
                        "no formation of stack {stack_name} declares a parameter {} \
                         (CloudFormation refuses unknown parameters): remove the entry, or \
                         declare the parameter",
                        entry.name
                    ),
                });
            }
        }
        Self {
            stack_name,
            parameters,
            tags,
            problems,
        }
    }

    /// The parameters as sent: every value, secrets included.
    pub fn parameter_values(&self) -> Vec<(String, String)> {
        self.parameters
            .iter()
            .map(|p| (p.key.to_string(), p.value.expose().to_owned()))
            .collect()
    }

    /// The stack's tags as key/value pairs.
    pub fn tag_pairs(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<&ParameterValue> {
        self.parameters
            .iter()
            .find(|p| p.key == key)
            .map(|p| &p.value)
    }

    /// What a `Ref` to parameter `key` resolves to, for checks that follow
    /// values: never a secret's value.
    pub fn resolve(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            ParameterValue::Plain(value) => Some(value),
            ParameterValue::Secret(_) => None,
        }
    }

    /// What could not be planned, then every value against its
    /// declaration's constraints. Each names the formation's line, and the
    /// settings' line where the value came from.
    pub fn check(&self, template: &Template) -> Vec<Finding> {
        let mut findings = self.problems.clone();
        for parameter in &self.parameters {
            let Some(declaration) = template.get(Section::Parameters, &parameter.key) else {
                continue;
            };
            for problem in constraint_problems(declaration, &parameter.value) {
                findings.push(Finding {
                    location: template.locate(Section::Parameters, &parameter.key),
                    at: format!("Parameters.{}", parameter.key),
                    message: format!("{problem} (the value: {})", parameter.source),
                });
            }
        }
        findings
    }
}

/// `"NoEcho": true`, or `"true"` as many hand-written templates have it:
/// CloudFormation takes both.
pub fn is_no_echo(declaration: &Value) -> bool {
    match declaration.get("NoEcho") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Where a value breaks its parameter's declaration. Secret values are never quoted.
fn constraint_problems(declaration: &Value, value: &ParameterValue) -> Vec<String> {
    let mut problems = Vec::new();
    let text = value.expose();
    let shown = if value.is_secret() {
        "the value (not shown)".to_owned()
    } else {
        format!("{text:?}")
    };
    let field = |name: &str| declaration.get(name);
    if let Some(allowed) = field("AllowedValues").and_then(Value::as_array)
        && !allowed.iter().any(|v| scalar(v).as_deref() == Some(text))
    {
        problems.push(format!("{shown} is not one of its AllowedValues"));
    }
    // CloudFormation says a declaration's ConstraintDescription when a
    // value breaks it: so does argos-cloud.
    let described = field("ConstraintDescription")
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    if let Some(pattern) = field("AllowedPattern").and_then(Value::as_str) {
        // CloudFormation matches the whole value.
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) if !regex.is_match(text) => problems.push(format!(
                "{shown} does not match its AllowedPattern {pattern:?}{described}"
            )),
            Ok(_) => {}
            Err(_) => problems.push(format!(
                "AllowedPattern {pattern:?} is not a regular expression argos-cloud can check"
            )),
        }
    }
    let len = text.chars().count() as f64;
    if let Some(min) = field("MinLength").and_then(number)
        && len < min
    {
        problems.push(format!("{shown} is shorter than its MinLength {min}"));
    }
    if let Some(max) = field("MaxLength").and_then(number)
        && len > max
    {
        problems.push(format!("{shown} is longer than its MaxLength {max}"));
    }
    if field("Type").and_then(Value::as_str) == Some("Number") {
        match text.parse::<f64>() {
            Err(_) => problems.push(format!("{shown} is not a Number")),
            Ok(n) => {
                if let Some(min) = field("MinValue").and_then(number)
                    && n < min
                {
                    problems.push(format!("{shown} is below its MinValue {min}"));
                }
                if let Some(max) = field("MaxValue").and_then(number)
                    && n > max
                {
                    problems.push(format!("{shown} is above its MaxValue {max}"));
                }
            }
        }
    }
    // The AWS-specific types CloudFormation checks against the account: their
    // form, at least, can be checked here.
    let ami = Regex::new("^ami-([0-9a-f]{8}|[0-9a-f]{17})$").expect("a fixed pattern");
    match field("Type").and_then(Value::as_str) {
        Some("AWS::EC2::Image::Id") if !ami.is_match(text) => problems.push(format!(
            "{shown} is not an AMI id (ami- and 8 or 17 hex digits), as its Type \
             AWS::EC2::Image::Id wants"
        )),
        Some("AWS::EC2::KeyPair::KeyName") if text.is_empty() || text.len() > 255 => problems.push(
            format!("{shown} is not a key pair name (1 to 255 characters), as its Type wants"),
        ),
        _ => {}
    }
    problems
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// CloudFormation writes numeric bounds as numbers or strings.
fn number(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_str()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::cfn::template::{Formation, merge};
    use crate::model::names::{AppName, EnvName};
    use crate::model::project::Project;
    use crate::model::settings::{self, Overrides};

    const SAMPLE: &str = include_str!("../../playbooks/group_vars/all.sample.yml");

    fn settings_with(overrides: &Overrides) -> Settings {
        settings::parse(Path::new("all.yml"), SAMPLE, overrides).unwrap()
    }

    fn names() -> EnvNames {
        EnvNames::new(
            AppName::new("argos").unwrap(),
            EnvName::new("staging").unwrap(),
        )
    }

    fn template(parameters: serde_json::Value) -> Template {
        let body =
            json!({"Parameters": parameters, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}});
        let formation = Formation::parse(
            Path::new("p.json"),
            serde_json::to_string_pretty(&body).unwrap(),
        )
        .unwrap();
        merge(vec![formation], "test").unwrap()
    }

    fn texts(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_shipped_plan_matches_the_shipped_formations() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let formations =
            crate::cfn::template::Formations::load(&Project::open(root).unwrap()).unwrap();
        let settings = settings_with(&Overrides::default());
        let plan = Plan::environment(
            &settings,
            &names(),
            &formations.environment,
            "ami-0123456789abcdef0",
            None,
        );
        assert_eq!(
            texts(&plan.check(&formations.environment)),
            Vec::<String>::new()
        );
        let image = Plan::image(&settings, &formations.image, "argos-image");
        assert_eq!(texts(&image.check(&formations.image)), Vec::<String>::new());
        assert_eq!(plan.stack_name, "argos-staging");
        assert!(plan.get("DBPassword").unwrap().is_secret());
        assert_eq!(
            plan.get("AppImageId").unwrap().expose(),
            "ami-0123456789abcdef0"
        );
        assert_eq!(plan.get("EnvironmentName").unwrap().expose(), "staging");
        assert_eq!(plan.get("TasksEnabled").unwrap().expose(), "false");
        assert!(
            !format!("{plan:?}").contains("ChangeMe-0000"),
            "secret in Debug"
        );
        assert_eq!(
            plan.parameters.len(),
            formations.environment.ids(Section::Parameters).count()
        );
    }

    #[test]
    fn exactly_what_the_formations_declare_is_passed() {
        let settings = settings_with(&Overrides::default());
        let plan = Plan::environment(
            &settings,
            &names(),
            &template(json!({
                "AppName": {"Type": "String"},
                "Forgotten": {"Type": "String"},
                "Defaulted": {"Type": "String", "Default": "x"}
            })),
            "ami-0123456789abcdef0",
            None,
        );
        let text = texts(&plan.problems);
        assert!(
            text.iter().any(|t| t.starts_with(
                "p.json:6: Parameters.Forgotten: has no Default, \
                 and the settings give it no value: add `Forgotten: ...`"
            )),
            "{text:#?}"
        );
        assert!(
            text.iter().any(|t| t.contains("all.yml:") && t.contains("parameters.EnvironmentName: no formation of stack argos-staging declares a parameter EnvironmentName")),
            "{text:#?}"
        );
        // A Default is passed explicitly, and said to be one.
        let defaulted = plan
            .parameters
            .iter()
            .find(|p| p.key == "Defaulted")
            .unwrap();
        assert_eq!(defaulted.value.expose(), "x");
        assert_eq!(defaulted.source.to_string(), "its Default, p.json:9");
        assert!(
            !text.iter().any(|t| t.contains("src/")),
            "no message names the engine's files"
        );
    }

    #[test]
    fn values_are_checked_against_the_declared_constraints_without_showing_secrets() {
        let mut overrides = Overrides::default();
        overrides.flag("db_name", &"x".repeat(70));
        overrides.flag("db_pass", "bad password");
        let settings = settings_with(&overrides);
        let plan = Plan::environment(
            &settings,
            &names(),
            &template(json!({
                "DBName": {"Type": "String", "MaxLength": 63},
                "DBPassword": {"Type": "String", "AllowedPattern": "[^ ]+", "NoEcho": "true"},
                "DBAllocatedStorage": {"Type": "Number", "MaxValue": 10},
                "DBMultiAZ": {"Type": "String", "AllowedValues": ["yes", "no"]},
                "BaseImageId": {"Type": "AWS::EC2::Image::Id"}
            })),
            "ami-0123456789abcdef0",
            None,
        );
        let findings = plan.check(&template(json!({
            "DBName": {"Type": "String", "MaxLength": 63},
            "DBPassword": {"Type": "String", "AllowedPattern": "[^ ]+", "NoEcho": "true"},
            "DBAllocatedStorage": {"Type": "Number", "MaxValue": 10},
            "DBMultiAZ": {"Type": "String", "AllowedValues": ["yes", "no"]},
            "BaseImageId": {"Type": "AWS::EC2::Image::Id"}
        })));
        let text = texts(&findings);
        let about = |id: &str| {
            text.iter()
                .filter(|t| t.contains(&format!("Parameters.{id}:")))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert!(
            about("DBName")[0].contains("longer than its MaxLength 63"),
            "{text:#?}"
        );
        assert!(
            about("DBName")[0].contains("`db_name` from --set"),
            "names where the value came from: {text:#?}"
        );
        let password = about("DBPassword");
        assert_eq!(
            password.len(),
            1,
            "NoEcho \"true\" is NoEcho: {password:#?}"
        );
        assert!(
            password[0].contains("the value (not shown) does not match"),
            "{password:#?}"
        );
        assert!(
            !text.iter().any(|t| t.contains("bad password")),
            "secret shown: {text:#?}"
        );
        assert!(
            about("DBAllocatedStorage")[0].contains("above its MaxValue 10"),
            "{text:#?}"
        );
        assert!(
            about("DBMultiAZ")[0].contains("\"false\" is not one of its AllowedValues"),
            "{text:#?}"
        );
        assert!(
            about("BaseImageId").is_empty(),
            "the sample's AMI is an AMI id"
        );
    }

    #[test]
    fn a_secret_needs_no_echo() {
        let settings = settings_with(&Overrides::default());
        let plan = Plan::environment(
            &settings,
            &names(),
            &template(json!({"DBPassword": {"Type": "String"}})),
            "ami-0123456789abcdef0",
            None,
        );
        let text = texts(&plan.problems);
        assert!(
            text.iter()
                .any(|t| t.contains("Parameters.DBPassword: its value (all.yml:")
                    && t.contains("is a secret, but the parameter is not \"NoEcho\": true")),
            "{text:#?}"
        );
    }

    #[test]
    fn harness_environments_carry_run_tags_on_the_stack() {
        let settings = settings_with(&Overrides::default());
        let run = RunTags::new("run-42", std::time::Duration::from_secs(3600));
        let plan = Plan::environment(
            &settings,
            &names(),
            &template(json!({})),
            "ami-0123456789abcdef0",
            Some(&run),
        );
        let keys: Vec<&str> = plan.tags.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["Env", "App", "argos:run", "argos:expires"]);
    }
}
