//! Every taggable resource carries the four tags, so Ansible and `sweep`
//! find it by tag: `Name=<app>-<env>-<group>`, `Group`, `Env`, `App`
//! (names.rs decides them). The image formation is shared by all
//! environments: `Name=<app>-image`, `Group=image`, `App`, no `Env`.
//!
//! Tags are checked by the values CloudFormation will give them, not by how
//! they are spelt: a `Ref` takes the value the plan passes its parameter
//! (whatever the formation calls it), `Fn::Join` and `Fn::Sub` are worked
//! out ([`super::evaluate`]).

use serde_json::Value;

use super::evaluate::Resolver;
use super::{Finding, Section, Template};
use crate::model::names::{Group, tag_keys};

/// What the tags must say, and how their values resolve.
pub struct Expected<'a> {
    pub app: &'a str,
    /// The environment's name; `None` for the image formation.
    pub env: Option<&'a str>,
    pub resolver: &'a Resolver<'a>,
}

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

pub fn check(template: &Template, scope: Scope, expected: &Expected<'_>) -> TagReport {
    let mut report = TagReport::default();
    for (id, resource) in template.entries(Section::Resources) {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let properties = resource.get("Properties");
        let mut problems: Vec<(String, String)> = Vec::new();
        let path = format!("Resources.{id}.Properties");
        if kind == LAUNCH_TEMPLATE {
            report.checked += 1;
            launch_template(properties, &path, scope, expected, &mut problems);
        } else if TAGGABLE_TYPES.contains(&kind) || properties.and_then(|p| p.get("Tags")).is_some()
        {
            report.checked += 1;
            let tags = properties.and_then(|p| p.get("Tags"));
            let at = format!("{path}.Tags");
            match tag_list(tags, scope, expected, kind == AUTOSCALING_GROUP) {
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
    properties: Option<&Value>,
    path: &str,
    scope: Scope,
    expected: &Expected<'_>,
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
            Some(spec) => tag_list(spec.get("Tags"), scope, expected, false)
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
    tags: Option<&Value>,
    scope: Scope,
    expected: &Expected<'_>,
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
    // Each tag's value, as CloudFormation will work it out.
    let value = |key: &str| -> Result<String, String> {
        let written = find(key)
            .and_then(|t| t.get("Value"))
            .unwrap_or(&Value::Null);
        expected
            .resolver
            .string(written)
            .map_err(|why| format!("{key} tag is {written}: {why}"))
    };
    let group_value = value(tag_keys::GROUP)?;
    let group = Group::new(&group_value)
        .map_err(|e| format!("Group tag is {group_value:?}, not a group name: {}", e.rule))?;
    if (group == Group::IMAGE) != (scope == Scope::Image) {
        return Err(match scope {
            Scope::Image => "the image formation's resources belong to Group \"image\"".into(),
            Scope::Environment => {
                "Group \"image\" belongs to image.json, not an environment".into()
            }
        });
    }
    let expected_name = match (scope, expected.env) {
        (Scope::Environment, Some(env)) => format!("{}-{env}-{group}", expected.app),
        _ => format!("{}-image", expected.app),
    };
    let name = value(tag_keys::NAME)?;
    if name != expected_name {
        return Err(format!(
            "Name tag is {name:?}, expected {expected_name:?} (<app>-<env>-<group>)"
        ));
    }
    let app = value(tag_keys::APP)?;
    if app != expected.app {
        return Err(format!("App tag is {app:?}, expected {:?}", expected.app));
    }
    if let (Scope::Environment, Some(env)) = (scope, expected.env) {
        let found = value(tag_keys::ENV)?;
        if found != env {
            return Err(format!("Env tag is {found:?}, expected {env:?}"));
        }
    }
    Ok(group)
}

/// The group a `Group` tag names, as CloudFormation will work it out.
pub(crate) fn group_name(resolver: &Resolver<'_>, tag: &Value) -> Result<String, String> {
    resolver.string(tag)
}
