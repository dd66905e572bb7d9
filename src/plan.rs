//! The plan of a stack: its name, every parameter passed explicitly (no
//! template default is relied on, so an update never drifts), and its tags.
//! Checked against the template's own constraints before any API call.

use regex::Regex;
use serde_json::Value;

use crate::names::{EnvNames, RunTags, Tag};
use crate::secret::Secret;
use crate::settings::Settings;
use crate::template::{Finding, Section, Template};

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
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub key: std::borrow::Cow<'static, str>,
    pub value: ParameterValue,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub stack_name: String,
    pub parameters: Vec<Parameter>,
    pub tags: Vec<Tag>,
}

fn plain(key: &'static str, value: impl ToString) -> Parameter {
    Parameter {
        key: key.into(),
        value: ParameterValue::Plain(value.to_string()),
    }
}

fn secret(key: &'static str, value: &Secret) -> Parameter {
    Parameter {
        key: key.into(),
        value: ParameterValue::Secret(value.clone()),
    }
}

impl Plan {
    /// The stack of one environment. `app_image_id` is the baked `<app>-image`.
    pub fn environment(
        settings: &Settings,
        names: &EnvNames,
        app_image_id: &str,
        run: Option<&RunTags>,
    ) -> Self {
        let (a, s, d) = (&settings.access, &settings.sizes, &settings.database);
        let parameters = vec![
            // global.json
            plain("AppName", &names.app),
            plain("EnvironmentName", &names.env),
            plain("KeyName", &a.key_name),
            plain("BaseImageId", &a.base_ami),
            plain("AppImageId", app_image_id),
            plain("OperatorCidr", &a.operator_cidr),
            plain("TasksEnabled", s.tasks_enabled),
            // network.json
            plain("VpcCidr", &a.vpc_cidr),
            // database.json
            plain("DBName", &d.name),
            plain("DBUser", &d.user),
            secret("DBPassword", &d.password),
            plain("DBInstanceClass", &d.instance_class),
            plain("DBAllocatedStorage", d.allocated_storage),
            plain("DBEngineVersion", &d.engine_version),
            plain("DBMultiAZ", d.multi_az),
            // app.json
            plain("AppInstanceType", &s.app_instance_type),
            plain("AppAutoScaling", s.app_autoscaling),
            plain("AppMinSize", s.app_min_size),
            plain("AppMaxSize", s.app_max_size),
            plain("AppHealthCheckPath", &s.app_health_check_path),
            // knowledge.json
            plain("KnowledgeInstanceType", &s.knowledge_instance_type),
            plain("KnowledgeVolumeSize", s.knowledge_volume_size),
            plain("KnowledgeRootDevice", &a.base_ami_root_device),
            // broker.json, worker.json
            plain("BrokerInstanceType", &s.broker_instance_type),
            plain("WorkerInstanceType", &s.worker_instance_type),
            plain("WorkerMinSize", s.worker_min_size),
            plain("WorkerMaxSize", s.worker_max_size),
        ];
        // Groups the engine has no key for pass their formations' own
        // parameters through the topology.
        let parameters = parameters
            .into_iter()
            .chain(settings.topology.groups.iter().flat_map(|spec| {
                spec.parameters.iter().map(|(key, value)| Parameter {
                    key: key.clone().into(),
                    value: ParameterValue::Plain(value.clone()),
                })
            }))
            .collect();
        Self {
            stack_name: names.stack(),
            parameters,
            tags: names.stack_tags(run),
        }
    }

    /// The stack the shared `<app>-image` is baked from.
    pub fn image(settings: &Settings) -> Self {
        let a = &settings.access;
        Self {
            stack_name: settings.app_name.image_name(),
            parameters: vec![
                plain("AppName", &settings.app_name),
                plain("BaseImageId", &a.base_ami),
                plain("KeyName", &a.key_name),
                plain("OperatorCidr", &a.operator_cidr),
                plain("ImageInstanceType", &settings.sizes.image_instance_type),
            ],
            tags: vec![Tag::new(
                crate::names::tag_keys::APP,
                settings.app_name.as_str(),
            )],
        }
    }

    /// Also pass the parameters that name a group (a `Group` tag's `Ref`,
    /// as the original Argos formations write it), each with its Default:
    /// every parameter is passed explicitly, these included.
    pub fn with_group_parameters(mut self, template: &Template) -> Self {
        for (key, default) in crate::template::tagging::group_parameters(template) {
            if self.get(&key).is_none() {
                self.parameters.push(Parameter {
                    key: key.into(),
                    value: ParameterValue::Plain(default),
                });
            }
        }
        self
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

    /// Every template parameter is passed or has a default, every passed
    /// parameter exists, and every value meets the template's constraints.
    pub fn check(&self, template: &Template) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut report = |id: &str, message: String| {
            findings.push(Finding {
                location: template.locate(Section::Parameters, id),
                at: format!("Parameters.{id}"),
                message,
            })
        };
        for (id, declaration) in template.entries(Section::Parameters) {
            match self.get(id) {
                Some(value) => {
                    for problem in constraint_problems(declaration, value) {
                        report(id, problem);
                    }
                }
                None if declaration.get("Default").is_none() => report(
                    id,
                    format!(
                        "has no Default and argos-cloud passes no value for it \
                         (stack {}): give it a Default or pass it in src/plan.rs",
                        self.stack_name
                    ),
                ),
                None => report(
                    id,
                    "is not passed explicitly: argos-cloud passes every parameter so an \
                     update never falls back to a default; add it to src/plan.rs"
                        .into(),
                ),
            }
        }
        for parameter in &self.parameters {
            if !template.contains(Section::Parameters, &parameter.key) {
                findings.push(Finding {
                    location: "src/plan.rs".into(),
                    at: format!("Parameters.{}", parameter.key),
                    message: format!(
                        "is passed to stack {} but no formation declares it \
                         (CloudFormation rejects unknown parameters)",
                        self.stack_name
                    ),
                });
            }
        }
        findings
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
    if value.is_secret() && field("NoEcho") != Some(&Value::Bool(true)) {
        problems.push(
            "carries a secret but is not \"NoEcho\": true; CloudFormation would show it \
             in the console and in DescribeStacks"
                .into(),
        );
    }
    if let Some(allowed) = field("AllowedValues").and_then(Value::as_array)
        && !allowed.iter().any(|v| scalar(v).as_deref() == Some(text))
    {
        problems.push(format!("{shown} is not one of its AllowedValues"));
    }
    if let Some(pattern) = field("AllowedPattern").and_then(Value::as_str) {
        // CloudFormation matches the whole value.
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) if !regex.is_match(text) => problems.push(format!(
                "{shown} does not match its AllowedPattern {pattern:?}"
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
    use crate::names::{AppName, EnvName};
    use crate::project::Project;
    use crate::settings::{self, Overrides};
    use crate::template::{Formation, merge};

    fn sample_settings() -> Settings {
        let text = include_str!("../playbooks/group_vars/all.sample.yml");
        settings::parse(Path::new("all.yml"), text, &Overrides::default()).unwrap()
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
        let formation = Formation::parse(Path::new("p.json"), body.to_string()).unwrap();
        merge(vec![formation], "test").unwrap()
    }

    #[test]
    fn the_shipped_plan_matches_the_shipped_formations() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let formations = crate::template::Formations::load(&Project::open(root).unwrap()).unwrap();
        let settings = sample_settings();
        let plan = Plan::environment(&settings, &names(), "ami-0123456789abcdef0", None);
        assert_eq!(plan.check(&formations.environment), vec![]);
        assert_eq!(Plan::image(&settings).check(&formations.image), vec![]);
        assert_eq!(plan.stack_name, "argos-staging");
        assert!(plan.get("DBPassword").unwrap().is_secret());
        assert!(
            !format!("{plan:?}").contains("ChangeMe-0000"),
            "secret in Debug"
        );
    }

    #[test]
    fn missing_and_unknown_parameters_are_found() {
        let settings = sample_settings();
        let plan = Plan::environment(&settings, &names(), "ami-0123456789abcdef0", None);
        let findings = plan.check(&template(json!({
            "AppName": {"Type": "String"},
            "Forgotten": {"Type": "String"},
            "Defaulted": {"Type": "String", "Default": "x"}
        })));
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("Parameters.Forgotten: has no Default")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("Parameters.Defaulted: is not passed explicitly")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("Parameters.EnvironmentName: is passed")),
            "{text:#?}"
        );
    }

    #[test]
    fn values_are_checked_against_the_declared_constraints_without_showing_secrets() {
        let mut settings = sample_settings();
        settings.database.name = "x".repeat(70);
        settings.database.password = Secret::new("bad password");
        let plan = Plan::environment(&settings, &names(), "ami-0123456789abcdef0", None);
        let findings = plan.check(&template(json!({
            "DBName": {"Type": "String", "MaxLength": 63},
            "DBPassword": {"Type": "String", "AllowedPattern": "[^ ]+"},
            "DBAllocatedStorage": {"Type": "Number", "MaxValue": 10},
            "DBMultiAZ": {"Type": "String", "AllowedValues": ["yes", "no"]}
        })));
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
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
        let password = about("DBPassword");
        assert!(
            password.iter().any(|t| t.contains("not \"NoEcho\"")),
            "{password:#?}"
        );
        assert!(
            password
                .iter()
                .any(|t| t.contains("the value (not shown) does not match")),
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
    }

    #[test]
    fn harness_environments_carry_run_tags_on_the_stack() {
        let settings = sample_settings();
        let run = RunTags::new("run-42", std::time::Duration::from_secs(3600));
        let plan = Plan::environment(&settings, &names(), "ami-0123456789abcdef0", Some(&run));
        let keys: Vec<&str> = plan.tags.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["Env", "App", "argos:run", "argos:expires"]);
    }
}
