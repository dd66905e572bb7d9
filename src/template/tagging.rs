//! Every taggable resource carries the four tags, built from the same
//! parameters the engine passes, so Ansible and `sweep` find it by tag:
//! `Name=<app>-<env>-<group>`, `Group`, `Env`, `App` (names.rs decides them).
//! The image formation is shared by all environments: `Name=<app>-image`,
//! `Group=image`, `App`, no `Env`. A `Group` tag names its group as a
//! literal, or as a `Ref` to a parameter whose `Default` is the group (as
//! the original Argos formations write it: `{"Ref": "KnowledgeGroup"}`).

use serde_json::{Value, json};

use super::{Finding, Section, Template};
use crate::names::{Group, tag_keys};

/// Resource types that take a `Tags` list and so must carry the four tags.
pub const TAGGABLE_TYPES: &[&str] = &[
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::EC2::EIP",
    "AWS::EC2::Instance",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::Volume",
    "AWS::EC2::VPC",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
];

const LAUNCH_TEMPLATE: &str = "AWS::EC2::LaunchTemplate";
const AUTOSCALING_GROUP: &str = "AWS::AutoScaling::AutoScalingGroup";

/// Which kind of template is checked: tags differ for the shared image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Environment,
    Image,
}

/// What the check found: problems, and how many resources were checked.
#[derive(Debug, Default)]
pub struct TagReport {
    pub checked: usize,
    pub findings: Vec<Finding>,
    /// The group each tagged resource belongs to, as (where, resource, group):
    /// the topology is checked against them.
    pub groups: Vec<(String, String, Group)>,
}

pub fn check(template: &Template, scope: Scope) -> TagReport {
    let mut report = TagReport::default();
    for (id, resource) in template.entries(Section::Resources) {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let properties = resource.get("Properties");
        let mut problems: Vec<(String, String)> = Vec::new();
        let path = format!("Resources.{id}.Properties");
        if kind == LAUNCH_TEMPLATE {
            report.checked += 1;
            launch_template(template, properties, &path, scope, &mut problems);
        } else if TAGGABLE_TYPES.contains(&kind) || properties.and_then(|p| p.get("Tags")).is_some()
        {
            report.checked += 1;
            let tags = properties.and_then(|p| p.get("Tags"));
            let at = format!("{path}.Tags");
            match tag_list(template, tags, scope, kind == AUTOSCALING_GROUP) {
                Ok(group) => report.groups.push((
                    template.locate(Section::Resources, id),
                    id.to_owned(),
                    group,
                )),
                Err(problem) => problems.push((at, problem)),
            }
        }
        for (at, message) in problems {
            report.findings.push(Finding {
                location: template.locate(Section::Resources, id),
                at,
                message,
            });
        }
    }
    report
}

/// Launch templates tag themselves and, through their data, the instances
/// and volumes launched from them.
fn launch_template(
    template: &Template,
    properties: Option<&Value>,
    path: &str,
    scope: Scope,
    problems: &mut Vec<(String, String)>,
) {
    let own = properties.and_then(|p| p.get("TagSpecifications"));
    let data = properties
        .and_then(|p| p.get("LaunchTemplateData"))
        .and_then(|d| d.get("TagSpecifications"));
    for (specs, at, resource_type) in [
        (own, format!("{path}.TagSpecifications"), "launch-template"),
        (
            data,
            format!("{path}.LaunchTemplateData.TagSpecifications"),
            "instance",
        ),
        (
            data,
            format!("{path}.LaunchTemplateData.TagSpecifications"),
            "volume",
        ),
    ] {
        let spec = specs
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| s.get("ResourceType").and_then(Value::as_str) == Some(resource_type));
        let result = match spec {
            None => Err(format!(
                "no TagSpecification for ResourceType {resource_type:?}"
            )),
            Some(spec) => tag_list(template, spec.get("Tags"), scope, false)
                .map(drop)
                .map_err(|p| format!("ResourceType {resource_type:?}: {p}")),
        };
        if let Err(problem) = result {
            problems.push((at, problem));
        }
    }
}

/// Check one `Tags` list; `propagate` requires `PropagateAtLaunch: true`.
fn tag_list(
    template: &Template,
    tags: Option<&Value>,
    scope: Scope,
    propagate: bool,
) -> Result<Group, String> {
    let required: &[&str] = match scope {
        Scope::Environment => &[
            tag_keys::NAME,
            tag_keys::GROUP,
            tag_keys::ENV,
            tag_keys::APP,
        ],
        Scope::Image => &[tag_keys::NAME, tag_keys::GROUP, tag_keys::APP],
    };
    let Some(tags) = tags.and_then(Value::as_array) else {
        return Err(format!(
            "no Tags: every taggable resource carries {}",
            required.join(", ")
        ));
    };
    let find = |key: &str| {
        tags.iter()
            .find(|t| t.get("Key").and_then(Value::as_str) == Some(key))
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| find(k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing tag(s) {}", missing.join(", ")));
    }
    if propagate
        && let Some(tag) = required
            .iter()
            .filter_map(|k| find(k))
            .find(|t| t.get("PropagateAtLaunch") != Some(&Value::Bool(true)))
    {
        return Err(format!(
            "tag {} needs \"PropagateAtLaunch\": true so instances carry it",
            tag.get("Key").unwrap_or(&Value::Null)
        ));
    }
    let value = |key: &str| {
        find(key)
            .and_then(|t| t.get("Value"))
            .cloned()
            .unwrap_or(Value::Null)
    };

    let group_value = value(tag_keys::GROUP);
    let group = match group_name(template, &group_value) {
        Ok(name) => Group::new(&name).map_err(|e| {
            let named = if group_value.is_string() {
                String::new()
            } else {
                format!(" (its parameter's Default is {name:?})")
            };
            format!(
                "Group tag is {group_value}{named}, not a group name: {}",
                e.rule
            )
        })?,
        Err(problem) => return Err(format!("Group tag is {group_value}: {problem}")),
    };
    if (group == Group::IMAGE) != (scope == Scope::Image) {
        return Err(match scope {
            Scope::Image => "the image formation's resources belong to Group \"image\"".into(),
            Scope::Environment => {
                "Group \"image\" belongs to image.json, not an environment".into()
            }
        });
    }
    let expected_name = expected_name(scope, &group);
    let name = value(tag_keys::NAME);
    if !name_matches(&name, scope, &group, &group_value) {
        return Err(format!("Name tag is {name}, expected {expected_name}"));
    }
    let app = value(tag_keys::APP);
    if app != json!({"Ref": "AppName"}) {
        return Err(format!(
            "App tag is {app}, expected {{\"Ref\":\"AppName\"}}"
        ));
    }
    if scope == Scope::Environment {
        let env = value(tag_keys::ENV);
        if env != json!({"Ref": "EnvironmentName"}) {
            return Err(format!(
                "Env tag is {env}, expected {{\"Ref\":\"EnvironmentName\"}}"
            ));
        }
    }
    Ok(group)
}

fn expected_name(scope: Scope, group: &Group) -> Value {
    match scope {
        Scope::Environment => {
            json!({"Fn::Join": ["-", [{"Ref": "AppName"}, {"Ref": "EnvironmentName"}, group.as_str()]]})
        }
        Scope::Image => json!({"Fn::Join": ["-", [{"Ref": "AppName"}, "image"]]}),
    }
}

/// The Join form, or the same name written with `Fn::Sub`; in an
/// environment the group part may be written as the `Group` tag writes it
/// (`{"Ref": "KnowledgeGroup"}`, `${KnowledgeGroup}`).
fn name_matches(name: &Value, scope: Scope, group: &Group, group_tag: &Value) -> bool {
    let sub = match scope {
        Scope::Environment => format!("${{AppName}}-${{EnvironmentName}}-{group}"),
        Scope::Image => "${AppName}-image".to_owned(),
    };
    if *name == expected_name(scope, group) || *name == json!({ "Fn::Sub": sub }) {
        return true;
    }
    let Some(parameter) = group_tag.get("Ref").and_then(Value::as_str) else {
        return false;
    };
    scope == Scope::Environment
        && (*name
            == json!({"Fn::Join": ["-", [{"Ref": "AppName"}, {"Ref": "EnvironmentName"}, group_tag]]})
            || *name
                == json!({ "Fn::Sub": format!("${{AppName}}-${{EnvironmentName}}-${{{parameter}}}") }))
}

/// The group a `Group` tag names: its literal value, or the `Default` of
/// the parameter it `Ref`s.
pub(crate) fn group_name(template: &Template, tag: &Value) -> Result<String, String> {
    if let Some(literal) = tag.as_str() {
        return Ok(literal.to_owned());
    }
    let Some(parameter) = tag
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("Ref"))
        .and_then(Value::as_str)
    else {
        return Err("expected a group name, or a Ref to a parameter whose Default is one".into());
    };
    let Some(declared) = template.get(Section::Parameters, parameter) else {
        return Err(format!("parameter {parameter} is not declared"));
    };
    declared
        .get("Default")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "parameter {parameter} has no Default naming the group (the engine never passes it)"
            )
        })
}

/// The parameters that name a group: every `Group` tag's `Ref`, with the
/// parameter's `Default` (the group), once each.
pub fn group_parameters(template: &Template) -> Vec<(String, String)> {
    fn walk(value: &Value, template: &Template, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                if object.get("Key").and_then(Value::as_str) == Some(tag_keys::GROUP)
                    && let Some(tag) = object.get("Value")
                    && let Some(parameter) = tag.get("Ref").and_then(Value::as_str)
                    && let Ok(group) = group_name(template, tag)
                    && !found.iter().any(|(p, _)| p == parameter)
                {
                    found.push((parameter.to_owned(), group));
                }
                for inner in object.values() {
                    walk(inner, template, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, template, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (_, resource) in template.entries(Section::Resources) {
        walk(resource, template, &mut found);
    }
    found
}
