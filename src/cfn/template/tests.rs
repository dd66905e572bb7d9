use std::path::Path;

use serde_json::json;

use super::*;
use crate::model::project::Project;

/// A throwaway project holding the given formations (file name, JSON).
struct TempProject {
    dir: tempfile::TempDir,
}

impl TempProject {
    fn new(files: &[(&str, serde_json::Value)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("formations")).unwrap();
        std::fs::create_dir_all(dir.path().join("playbooks")).unwrap();
        let project = Self { dir };
        project.write(
            "image.json",
            &json!({"Resources": {"ImageInstance": {"Type": "AWS::EC2::Instance"}}}).to_string(),
        );
        for (name, body) in files {
            project.write(name, &serde_json::to_string_pretty(body).unwrap());
        }
        project
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join("formations").join(name), text).unwrap();
    }

    fn load(&self) -> Result<Formations, TemplateError> {
        Formations::load(&Project::open(self.dir.path()).unwrap())
    }
}

fn shipped() -> Formations {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Formations::load(&Project::open(root).unwrap()).expect("shipped formations merge")
}

/// A formation that defines `id` in `section`, with a valid shape for it.
fn defining(section: Section, id: &str) -> serde_json::Value {
    let entry = match section {
        Section::Parameters => json!({"Type": "String"}),
        Section::Mappings => json!({"Key": {"Value": "x"}}),
        Section::Conditions => json!({"Fn::Equals": ["a", "a"]}),
        Section::Resources => json!({"Type": "AWS::SNS::Topic"}),
        Section::Outputs => json!({"Value": "x"}),
    };
    json!({ section.as_str(): { id: entry } })
}

#[test]
fn a_clash_in_every_pair_of_sections_names_both_files() {
    for first in Section::ALL {
        for second in Section::ALL {
            let project = TempProject::new(&[
                ("a.json", defining(first, "Shared")),
                ("b.json", defining(second, "Shared")),
            ]);
            let error = project.load().expect_err("a clash must fail the merge");
            let TemplateError::Clashes { clashes } = &error else {
                panic!("{first} vs {second}: {error}");
            };
            assert_eq!(clashes.len(), 1);
            assert_eq!(clashes[0].first.section, first);
            assert_eq!(clashes[0].second.section, second);
            let message = error.to_string();
            assert!(message.contains("`Shared`"), "{message}");
            assert!(
                message.contains("a.json:"),
                "first file and line: {message}"
            );
            assert!(
                message.contains("b.json:"),
                "second file and line: {message}"
            );
            assert!(
                message.contains(first.singular()) && message.contains(second.singular()),
                "{message}"
            );
        }
    }
}

#[test]
fn a_parameter_and_a_resource_of_one_name_in_one_file_clash() {
    // The original's worker.json had exactly this, and its merge let it through.
    let project = TempProject::new(&[(
        "worker.json",
        json!({
            "Parameters": {"WorkerGroup": {"Type": "String"}},
            "Resources": {"WorkerGroup": {"Type": "AWS::SNS::Topic"}}
        }),
    )]);
    let message = project.load().unwrap_err().to_string();
    assert!(
        message.contains("as a parameter in ") && message.contains("as a resource in "),
        "{message}"
    );
    assert!(message.matches("worker.json:").count() == 2, "{message}");
}

#[test]
fn every_clash_is_reported() {
    let project = TempProject::new(&[
        (
            "a.json",
            json!({"Parameters": {"One": {"Type": "String"}, "Two": {"Type": "String"}}}),
        ),
        (
            "b.json",
            json!({"Outputs": {"One": {"Value": "x"}, "Two": {"Value": "y"}}}),
        ),
    ]);
    let TemplateError::Clashes { clashes } = project.load().unwrap_err() else {
        panic!()
    };
    assert_eq!(clashes.len(), 2);
}

#[test]
fn malformed_json_names_the_file_line_and_column() {
    let project = TempProject::new(&[]);
    project.write(
        "broken.json",
        "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::SNS::Topic\"},\n  }\n}\n",
    );
    let message = project.load().unwrap_err().to_string();
    assert!(
        message.contains("broken.json:4:3: invalid JSON: trailing comma"),
        "{message}"
    );
}

#[test]
fn unknown_top_level_keys_and_bad_sections_are_rejected() {
    let project =
        TempProject::new(&[("t.json", json!({"Transform": "AWS::Serverless-2016-10-31"}))]);
    let message = project.load().unwrap_err().to_string();
    assert!(
        message.contains("t.json: unsupported top-level key `Transform`"),
        "{message}"
    );

    let project = TempProject::new(&[("s.json", json!({"Resources": []}))]);
    let message = project.load().unwrap_err().to_string();
    assert!(
        message.contains("s.json: `Resources` must be an object"),
        "{message}"
    );

    let project =
        TempProject::new(&[("v.json", json!({"AWSTemplateFormatVersion": "2011-01-01"}))]);
    assert!(matches!(
        project.load().unwrap_err(),
        TemplateError::BadVersion { .. }
    ));
}

#[test]
fn a_missing_image_formation_is_named() {
    let project = TempProject::new(&[]);
    std::fs::remove_file(project.dir.path().join("formations/image.json")).unwrap();
    let message = project.load().unwrap_err().to_string();
    assert!(message.contains("image.json: missing"), "{message}");
}

#[test]
fn references_across_files_resolve() {
    let project = TempProject::new(&[
        (
            "a.json",
            json!({"Parameters": {"Name": {"Type": "String"}}, "Conditions": {"On": {"Fn::Equals": [{"Ref": "Name"}, "x"]}}}),
        ),
        (
            "b.json",
            json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Condition": "On",
            "Properties": {"TopicName": {"Fn::Sub": "${Name}-${AWS::Region}-${!Literal}"}}}},
            "Outputs": {"Arn": {"Value": {"Fn::If": ["On", {"Fn::GetAtt": ["Topic", "TopicArn"]}, {"Ref": "AWS::NoValue"}]}}}}),
        ),
    ]);
    let formations = project.load().unwrap();
    assert_eq!(references::check(&formations.environment), vec![]);
}

fn dangling(resources: serde_json::Value) -> Vec<Finding> {
    let project = TempProject::new(&[
        (
            "a.json",
            json!({"Parameters": {"Name": {"Type": "String"}}, "Conditions": {"On": {"Fn::Equals": ["a", "a"]}}}),
        ),
        ("b.json", json!({"Resources": resources})),
    ]);
    references::check(&project.load().unwrap().environment)
}

#[test]
fn a_dangling_ref_names_file_line_path_and_target() {
    let findings = dangling(
        json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Nmae"}}}}),
    );
    assert_eq!(findings.len(), 1);
    let message = findings[0].to_string();
    assert!(
        message.starts_with("formations/b.json:") || message.contains("b.json:"),
        "{message}"
    );
    assert!(
        message.contains("Resources.Topic.Properties.TopicName.Ref"),
        "{message}"
    );
    assert!(
        message.contains("Ref names `Nmae`, which is not a parameter or resource"),
        "{message}"
    );
}

#[test]
fn every_kind_of_dangling_reference_is_found() {
    let cases = [
        (
            json!({"Fn::GetAtt": ["Missing", "Arn"]}),
            "Fn::GetAtt names `Missing`",
        ),
        (
            json!({"Fn::If": ["NoSuchCondition", "a", "b"]}),
            "Fn::If names `NoSuchCondition`",
        ),
        (json!({"Fn::Sub": "${Missing}"}), "Fn::Sub names `Missing`"),
        (
            json!({"Fn::Sub": "${Missing.Arn}"}),
            "Fn::Sub names `Missing`",
        ),
        (
            json!({"Fn::FindInMap": ["NoMap", "a", "b"]}),
            "Fn::FindInMap names `NoMap`",
        ),
        (json!({"Fn::GetAtt": "Topic.TopicArn"}), "use the long form"),
        (json!({"Ref": "On"}), "(`On` is a condition)"),
    ];
    for (value, expected) in cases {
        let findings = dangling(
            json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": value}}}),
        );
        assert_eq!(findings.len(), 1, "{value}: {findings:?}");
        assert!(
            findings[0].message.contains(expected),
            "{value}: {}",
            findings[0]
        );
    }
    let findings = dangling(
        json!({"Topic": {"Type": "AWS::SNS::Topic", "Condition": "Off", "DependsOn": ["Ghost"]}}),
    );
    let messages: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("Condition names `Off`"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("DependsOn names `Ghost`"),
        "{messages:?}"
    );
}

#[test]
fn conditions_may_only_ref_parameters() {
    let project = TempProject::new(&[(
        "a.json",
        json!({"Conditions": {"On": {"Fn::Equals": [{"Ref": "Topic"}, "x"]}, "Both": {"Fn::And": [{"Condition": "On"}, {"Condition": "Nope"}]}},
               "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
    )]);
    let findings = references::check(&project.load().unwrap().environment);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(
        findings[0]
            .message
            .contains("conditions can only Ref parameters")
    );
    assert!(findings[1].message.contains("Condition names `Nope`"));
}

#[test]
fn a_template_over_the_inline_limit_is_refused() {
    let resources: serde_json::Map<String, serde_json::Value> = (0..400)
        .map(|i| {
            (
                format!("Topic{i}"),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x".repeat(120)}}),
            )
        })
        .collect();
    let project = TempProject::new(&[("big.json", json!({"Resources": resources}))]);
    let template = project.load().unwrap().environment;
    let error = template.check_size().unwrap_err();
    let TemplateError::TooLarge { bytes } = error else {
        panic!("{error}")
    };
    assert!(bytes > INLINE_BODY_LIMIT);
    assert!(error.to_string().contains("51200"), "{error}");
}

fn four_tags(group: &str) -> serde_json::Value {
    json!([
        {"Key": "Name", "Value": {"Fn::Join": ["-", [{"Ref": "AppName"}, {"Ref": "EnvironmentName"}, group]]}},
        {"Key": "Group", "Value": group},
        {"Key": "Env", "Value": {"Ref": "EnvironmentName"}},
        {"Key": "App", "Value": {"Ref": "AppName"}}
    ])
}

fn tag_findings(resource: serde_json::Value) -> Vec<String> {
    formation_tag_findings(json!({"Resources": {"Thing": resource}}))
}

/// The tags of `template` with the values a plan of the sample settings
/// passes: app `argos`, environment `staging`, other parameters their Default.
fn tags_of(template: &Template, scope: tagging::Scope) -> tagging::TagReport {
    let parameter = |name: &str| match name {
        "AppName" => Some("argos".to_owned()),
        "EnvironmentName" => Some("staging".to_owned()),
        other => template
            .get(Section::Parameters, other)?
            .get("Default")?
            .as_str()
            .map(str::to_owned),
    };
    let resolver = super::evaluate::Resolver {
        parameter: &parameter,
        stack_name: "argos-staging",
        region: "us-east-1",
    };
    tagging::check(
        template,
        scope,
        &tagging::Expected {
            app: "argos",
            env: (scope == tagging::Scope::Environment).then_some("staging"),
            resolver: &resolver,
        },
    )
}

/// The tag findings of a project of one formation.
fn formation_tag_findings(formation: serde_json::Value) -> Vec<String> {
    let project = TempProject::new(&[("a.json", formation)]);
    tags_of(
        &project.load().unwrap().environment,
        tagging::Scope::Environment,
    )
    .findings
    .iter()
    .map(ToString::to_string)
    .collect()
}

#[test]
fn taggable_resources_must_carry_the_four_tags() {
    let ok = json!({"Type": "AWS::EC2::VPC", "Properties": {"Tags": four_tags("network")}});
    assert_eq!(tag_findings(ok), Vec::<String>::new());

    let untagged = tag_findings(json!({"Type": "AWS::EC2::VPC", "Properties": {}}));
    assert!(untagged[0].contains("no Tags"), "{untagged:?}");

    let mut three = four_tags("network");
    three.as_array_mut().unwrap().pop();
    let missing = tag_findings(json!({"Type": "AWS::EC2::Subnet", "Properties": {"Tags": three}}));
    assert!(missing[0].contains("missing tag(s) App"), "{missing:?}");

    // Which groups exist is the topology's to say (validate's topology
    // step); here a group must only be a group name.
    let bad_group = tag_findings(
        json!({"Type": "AWS::EC2::Instance", "Properties": {"Tags": four_tags("front-end")}}),
    );
    assert!(
        bad_group[0].contains("not a group name: '-' is not allowed"),
        "{bad_group:?}"
    );

    // Tags are checked by value: a literal that is right for this
    // environment is right, one for another is not.
    let mut literal = four_tags("app");
    literal[0]["Value"] = json!("argos-staging-app");
    let right =
        tag_findings(json!({"Type": "AWS::EC2::Instance", "Properties": {"Tags": literal}}));
    assert_eq!(right, Vec::<String>::new());
    let mut wrong_name = four_tags("app");
    wrong_name[0]["Value"] = json!("argos-production-app");
    let hard_coded =
        tag_findings(json!({"Type": "AWS::EC2::Instance", "Properties": {"Tags": wrong_name}}));
    assert!(
        hard_coded[0]
            .contains("Name tag is \"argos-production-app\", expected \"argos-staging-app\""),
        "{hard_coded:?}"
    );
}

/// Tag findings of one resource tagged `tags`, beside parameter `KnowledgeGroup`.
fn findings_with_group_parameter(
    parameter: serde_json::Value,
    tags: serde_json::Value,
) -> Vec<String> {
    formation_tag_findings(json!({
        "Parameters": {"KnowledgeGroup": parameter},
        "Resources": {"Host": {"Type": "AWS::EC2::Instance", "Properties": {"Tags": tags}}}
    }))
}

#[test]
fn a_group_tag_may_ref_a_parameter_whose_default_names_the_group() {
    // As the original Argos formations write it.
    let by_ref = json!({"Ref": "KnowledgeGroup"});
    let mut tags = four_tags("knowledge");
    tags[1]["Value"] = by_ref.clone();
    let knowledge = json!({"Type": "String", "Default": "knowledge"});
    assert_eq!(
        findings_with_group_parameter(knowledge.clone(), tags.clone()),
        Vec::<String>::new()
    );
    // The Name may spell the group the same way.
    let mut ref_named = tags.clone();
    ref_named[0]["Value"] =
        json!({"Fn::Join": ["-", [{"Ref": "AppName"}, {"Ref": "EnvironmentName"}, by_ref]]});
    assert_eq!(
        findings_with_group_parameter(knowledge.clone(), ref_named),
        Vec::<String>::new()
    );
    let mut sub_named = tags.clone();
    sub_named[0]["Value"] = json!({"Fn::Sub": "${AppName}-${EnvironmentName}-${KnowledgeGroup}"});
    assert_eq!(
        findings_with_group_parameter(knowledge, sub_named),
        Vec::<String>::new()
    );

    let unknown = findings_with_group_parameter(
        json!({"Type": "String", "Default": "Frontend"}),
        tags.clone(),
    );
    assert!(
        unknown[0].contains(r#"Group tag is "Frontend", not a group name"#),
        "{unknown:?}"
    );
    let no_default = findings_with_group_parameter(json!({"Type": "String"}), tags.clone());
    assert!(
        no_default[0].contains(
            r#"Group tag is {"Ref":"KnowledgeGroup"}: KnowledgeGroup has no value before the stack is made"#
        ),
        "{no_default:?}"
    );
    let mut undeclared = tags;
    undeclared[1]["Value"] = json!({"Ref": "SomeGroup"});
    let undeclared = findings_with_group_parameter(
        json!({"Type": "String", "Default": "knowledge"}),
        undeclared,
    );
    assert!(
        undeclared[0].contains("SomeGroup has no value before the stack is made"),
        "{undeclared:?}"
    );
}

#[test]
fn autoscaling_tags_must_propagate_and_launch_templates_tag_what_they_launch() {
    let asg = tag_findings(
        json!({"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"Tags": four_tags("app")}}),
    );
    assert!(asg[0].contains("PropagateAtLaunch"), "{asg:?}");

    let spec = |kind: &str| json!({"ResourceType": kind, "Tags": four_tags("worker")});
    let complete = json!({"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "TagSpecifications": [spec("launch-template")],
        "LaunchTemplateData": {"TagSpecifications": [spec("instance"), spec("volume")]}}});
    assert_eq!(tag_findings(complete), Vec::<String>::new());
    let no_volume = json!({"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "TagSpecifications": [spec("launch-template")],
        "LaunchTemplateData": {"TagSpecifications": [spec("instance")]}}});
    let findings = tag_findings(no_volume);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0].contains("no TagSpecification for ResourceType \"volume\""),
        "{findings:?}"
    );
}

#[test]
fn the_shipped_formations_pass_every_check() {
    let formations = shipped();
    let environment = &formations.environment;
    assert_eq!(references::check(environment), vec![]);
    assert_eq!(references::check(&formations.image), vec![]);
    let tags = tags_of(environment, tagging::Scope::Environment);
    assert_eq!(tags.findings, vec![]);
    assert!(
        tags.checked >= 20,
        "only {} taggable resources",
        tags.checked
    );
    assert_eq!(
        tags_of(&formations.image, tagging::Scope::Image).findings,
        vec![]
    );
    assert!(environment.check_size().unwrap() < INLINE_BODY_LIMIT);
    // The shape the design promises.
    for id in [
        "Vpc",
        "Database",
        "DatabaseSubnetGroup",
        "AppServerInstance",
        "AppServerGroup",
        "AppLoadBalancer",
        "KnowledgeInstance",
        "BrokerInstance",
        "WorkerGroup",
    ] {
        assert!(environment.contains(Section::Resources, id), "{id}");
    }
    assert!(
        !environment.contains(Section::Resources, "ImageInstance"),
        "image.json must not be merged"
    );
}

#[test]
fn the_shipped_security_groups_admit_only_what_the_design_allows() {
    let formations = shipped();
    let environment = &formations.environment;
    let (mut rules, mut operator_rules) = (0, 0);
    for (id, resource) in environment.entries(Section::Resources) {
        if resource["Type"] != "AWS::EC2::SecurityGroupIngress" {
            continue;
        }
        rules += 1;
        assert!(resource["Properties"].get("CidrIpv6").is_none(), "{id}");
        let rule = &resource["Properties"];
        let port = rule["FromPort"].as_i64().unwrap_or(-1);
        if let Some(cidr) = rule.get("CidrIp") {
            if cidr == &json!("0.0.0.0/0") {
                assert_eq!(port, 80, "{id}: only HTTP may be open to the world");
            } else {
                assert_eq!(cidr, &json!({"Ref": "OperatorCidr"}), "{id}");
                assert_eq!(port, 22, "{id}: the operator range is for SSH");
                // The rule that lets a run's operator in names that run.
                assert_eq!(
                    rule["Description"],
                    json!({"Fn::Sub": "SSH from the operator, environment ${EnvironmentName}"}),
                    "{id}"
                );
                operator_rules += 1;
            }
        } else {
            let source = rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]
                .as_str()
                .or(rule["SourceSecurityGroupId"]["Ref"].as_str());
            let source = source.unwrap_or_else(|| panic!("{id}: no source"));
            if [5432, 3030, 8080, 5672, 6379].contains(&port) {
                assert!(
                    ["AppServerSecurityGroup", "WorkerSecurityGroup"].contains(&source),
                    "{id}: port {port} from {source}"
                );
            }
        }
    }
    assert!(rules >= 15, "only {rules} ingress rules checked");
    assert_eq!(
        operator_rules, 4,
        "SSH to app, knowledge, broker and worker"
    );

    // The bake's stack is shared by environments: its rule names the stack,
    // `<app>-image`, or `<app>-image-<run>` for a run's own bake.
    let bake = &formations
        .image
        .get(Section::Resources, "ImageSshFromOperator")
        .expect("image.json: ImageSshFromOperator")["Properties"];
    assert_eq!(bake["CidrIp"], json!({"Ref": "OperatorCidr"}));
    assert_eq!(
        bake["Description"],
        json!({"Fn::Sub": "SSH from the operator, image bake stack ${AWS::StackName}"})
    );
}

#[test]
fn the_shipped_formations_start_app_and_worker_from_the_baked_image() {
    let formations = shipped();
    let parameter = |name: &str| match name {
        "AppName" => Some("argos".to_owned()),
        "EnvironmentName" => Some("staging".to_owned()),
        _ => None,
    };
    let resolver = super::evaluate::Resolver {
        parameter: &parameter,
        stack_name: "argos-staging",
        region: "us-east-1",
    };
    let found = super::images::group_images(&formations.environment, &resolver, &["AppImageId"]);
    assert!(
        found
            .iter()
            .all(|i| i.baked == (i.parameter == "AppImageId"))
    );
    let mut images: Vec<(String, String, String)> = found
        .into_iter()
        .map(|i| (i.group.to_string(), i.resource, i.parameter))
        .collect();
    images.sort();
    images.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2);
    let by_group: Vec<(&str, &str)> = images
        .iter()
        .map(|(g, _, p)| (g.as_str(), p.as_str()))
        .collect();
    assert_eq!(
        by_group,
        [
            ("app", "AppImageId"),
            ("broker", "BaseImageId"),
            ("knowledge", "BaseImageId"),
            ("worker", "AppImageId")
        ],
        "{images:#?}"
    );
}

#[test]
fn a_key_twice_in_one_formation_is_an_error_naming_both_lines() {
    let project = TempProject::new(&[]);
    project.write(
        "network.json",
        "{\n  \"Resources\": {\n    \"Vpc\": {\"Type\": \"AWS::EC2::VPC\"},\n    \
         \"Vpc\": {\"Type\": \"AWS::SNS::Topic\"}\n  }\n}\n",
    );
    let error = project.load().unwrap_err().to_string();
    assert!(
        error.ends_with(
            "network.json:4: `Vpc` is written twice in one object, at line 3 and here: \
             the second would replace the first in silence; remove one"
        ),
        "{error}"
    );
    project.write(
        "network.json",
        "{\"Resources\": {\"A\": {\"Type\": \"AWS::SNS::Topic\"}},\n\"Resources\": {}}\n",
    );
    let error = project.load().unwrap_err().to_string();
    assert!(
        error.contains("network.json:2: `Resources` is written twice"),
        "{error}"
    );
}

#[test]
fn the_template_sent_keeps_numbers_as_written() {
    let project = TempProject::new(&[]);
    project.write(
        "app.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": \
         {\"A\": 1.10, \"B\": 123456789012345678901234567890, \"C\": [1e3, -0]}}}}",
    );
    let template = project.load().unwrap().environment;
    let compact = template.to_json();
    assert!(
        compact.contains("{\"A\":1.10,\"B\":123456789012345678901234567890,\"C\":[1e3,-0]}"),
        "{compact}"
    );
    let pretty = template.to_pretty_json();
    assert!(pretty.contains("\"A\": 1.10,"), "{pretty}");
    assert!(
        pretty.contains("123456789012345678901234567890"),
        "{pretty}"
    );
    // Both forms are the same JSON as the template's own value.
    let a: serde_json::Value = serde_json::from_str(&compact).unwrap();
    let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    assert_eq!(a, b);
    assert_eq!(a["Resources"]["T"]["Type"], "AWS::SNS::Topic");
}

#[test]
fn the_shipped_template_is_written_as_serde_json_would_write_it() {
    // The shipped formations hold no number that serde_json rewrites, so
    // both writers agree byte for byte.
    let template = shipped().environment;
    let value: serde_json::Value = serde_json::from_str(&template.to_json()).unwrap();
    assert_eq!(template.to_json(), serde_json::to_string(&value).unwrap());
    assert_eq!(
        template.to_pretty_json(),
        serde_json::to_string_pretty(&value).unwrap()
    );
}

#[test]
fn a_resource_that_depends_on_itself_or_in_a_loop_is_found() {
    let topic = |extra: serde_json::Value| {
        let mut resource = json!({"Type": "AWS::SNS::Topic", "Properties": {}});
        for (k, v) in extra.as_object().unwrap() {
            if k == "DependsOn" {
                resource["DependsOn"] = v.clone();
            } else {
                resource["Properties"][k] = v.clone();
            }
        }
        resource
    };
    let self_ref = dangling(json!({"A": topic(json!({"TopicName": {"Ref": "A"}}))}));
    assert_eq!(self_ref.len(), 1, "{self_ref:?}");
    assert_eq!(self_ref[0].at, "Resources.A");
    assert!(
        self_ref[0]
            .message
            .contains("the resource depends on itself: A → A"),
        "{self_ref:?}"
    );
    assert!(self_ref[0].location.ends_with("b.json:3"), "{self_ref:?}");
    let self_depends = dangling(json!({"A": topic(json!({"DependsOn": "A"}))}));
    assert!(self_depends[0].message.contains("depends on itself"));
    let looped = dangling(json!({
        "A": topic(json!({"DependsOn": ["B"]})),
        "B": topic(json!({"DisplayName": {"Fn::GetAtt": ["C", "TopicName"]}})),
        "C": topic(json!({"TopicName": {"Fn::Sub": "x-${A}"}})),
        "D": topic(json!({"DependsOn": "A"})),
    }));
    assert_eq!(looped.len(), 1, "one loop, found once: {looped:?}");
    assert!(
        looped[0]
            .message
            .contains("a circular dependency between resources: A → B → C → A"),
        "{looped:?}"
    );
}

#[test]
fn a_condition_loop_and_a_malformed_sub_are_found() {
    let project = TempProject::new(&[(
        "a.json",
        json!({"Conditions": {
                  "X": {"Fn::And": [{"Condition": "Y"}, {"Fn::Equals": ["a", "a"]}]},
                  "Y": {"Fn::Or": [{"Condition": "X"}, {"Fn::Equals": ["a", "b"]}]}},
               "Resources": {"T": {"Type": "AWS::SNS::Topic",
                                   "Properties": {"TopicName": {"Fn::Sub": "argos-${"}}}}}),
    )]);
    let findings = references::check(&project.load().unwrap().environment);
    let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert_eq!(findings.len(), 2, "{text:#?}");
    assert!(
        text.iter().any(|t| t.contains(
            "Resources.T.Properties.TopicName.Fn::Sub: Fn::Sub \"argos-${\": `${` has no closing `}`"
        )),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("a circular dependency between conditions: X → Y → X")),
        "{text:#?}"
    );
}
