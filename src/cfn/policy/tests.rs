use std::path::{Path, PathBuf};

use super::*;
use crate::cfn::plan::{Parameter, ParameterValue, Source};
use crate::cfn::template::{Formation, merge};
use crate::model::settings::Origin;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy")
}

fn shipped() -> Vec<RuleFile> {
    rules::SHIPPED
        .iter()
        .map(|(name, text)| rules::parse(PathBuf::from(name), true, text.to_string()).unwrap())
        .collect()
}

fn template(file: &Path) -> Template {
    merge(vec![Formation::load(file).unwrap()], "policy fixture").unwrap()
}

/// A plan that gives each parameter the value of `values`.
fn plan(values: &[(&str, &str)]) -> Plan {
    Plan {
        stack_name: "argos-staging".into(),
        parameters: values
            .iter()
            .map(|(key, value)| Parameter {
                key: (*key).to_owned(),
                value: ParameterValue::Plain((*value).to_owned()),
                source: Source::Default {
                    location: "test".into(),
                },
            })
            .collect(),
        tags: Vec::new(),
        problems: Vec::new(),
    }
}

/// The settings each fixture needs to break its rule: a production
/// environment, an operator range of anywhere.
fn settings() -> PolicySettings {
    PolicySettings {
        production: true,
        ..PolicySettings::default()
    }
}

fn check_template(file: &Path, settings: &PolicySettings) -> PolicyReport {
    let template = template(file);
    let plan = plan(&[
        ("OperatorCidr", "0.0.0.0/0"),
        ("DBDeletionProtection", "false"),
    ]);
    let subjects = [Subject {
        label: "environment",
        template: &template,
        plan: &plan,
        env: Some("staging"),
    }];
    evaluate(&shipped(), &subjects, &[], settings)
}

fn all_findings(report: &PolicyReport) -> Vec<&PolicyFinding> {
    report
        .failures
        .iter()
        .chain(&report.notes)
        .chain(report.excepted.iter().map(|(f, _)| f))
        .collect()
}

/// The line of the first line of `file` that holds `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
        + 1
}

/// Each shipped rule, its fixture's offending resource and the text of the
/// offending line.
const CASES: &[(&str, &str, &str)] = &[
    (
        "ssh_or_rdp_from_anywhere",
        "BastionGroup",
        "\"FromPort\": 22",
    ),
    (
        "port_open_to_anywhere",
        "FusekiFromWorld",
        "\"FromPort\": 3030",
    ),
    (
        "cidr_parameter_resolves_to_anywhere",
        "SshFromOperator",
        "\"CidrIp\"",
    ),
    (
        "rds_publicly_accessible",
        "Database",
        "\"PubliclyAccessible\": true",
    ),
    (
        "rds_storage_not_encrypted",
        "Database",
        "\"StorageEncrypted\": false",
    ),
    (
        "rds_no_deletion_protection_in_production",
        "Database",
        "\"DeletionProtection\"",
    ),
    ("ebs_volume_not_encrypted", "DataVolume", "\"Properties\""),
    (
        "block_device_not_encrypted",
        "AppLaunchTemplate",
        "\"Encrypted\": false",
    ),
    ("s3_public_acl", "Exports", "\"AccessControl\""),
    ("s3_no_public_access_block", "Exports", "\"Properties\""),
    ("s3_no_default_encryption", "Exports", "\"Properties\""),
    (
        "secret_parameter_without_noecho",
        "Parameters.SearchApiToken",
        "\"SearchApiToken\"",
    ),
    ("iam_any_action_on_any_resource", "AppRole", "\"Action\": ["),
];

#[test]
fn every_shipped_rule_finds_its_fixture_at_its_line_and_nothing_else() {
    for (rule, resource, needle) in CASES {
        let file = fixtures().join(format!("formations/{rule}.json"));
        let report = check_template(&file, &settings());
        assert!(report.problems.is_empty(), "{rule}: {:?}", report.problems);
        let found = all_findings(&report);
        assert_eq!(
            found.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
            vec![*rule],
            "{rule}: {found:#?}"
        );
        let finding = found[0];
        assert_eq!(finding.resource, *resource, "{rule}");
        let expected = format!("{}:{}", file.display(), line_of(&file, needle));
        assert_eq!(finding.location, expected, "{rule}: {finding}");
        assert!(
            finding.why.is_some() && finding.fix.is_some(),
            "{rule}: {finding}"
        );
    }
}

#[test]
fn every_shipped_rule_has_a_fixture_and_the_readme_names_it() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for file in shipped() {
        for rule in &file.rules {
            let fixture = match file.input {
                Input::Formations => fixtures().join(format!("formations/{}.json", rule.name)),
                Input::IamPolicies => fixtures().join(format!("iam/{}.json", rule.name)),
            };
            assert!(fixture.is_file(), "{}: no {}", rule.name, fixture.display());
            assert!(
                CASES.iter().any(|(r, _, _)| *r == rule.name) || file.input == Input::IamPolicies,
                "{}: not in CASES",
                rule.name
            );
            assert!(
                readme.contains(&format!("`{}`", rule.name)),
                "README.md does not list rule `{}`",
                rule.name
            );
        }
    }
}

#[test]
fn a_low_finding_is_a_note_and_a_high_one_fails() {
    let report = check_template(
        &fixtures().join("formations/s3_no_default_encryption.json"),
        &settings(),
    );
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.notes.len(), 1);
    let report = check_template(
        &fixtures().join("formations/s3_public_acl.json"),
        &settings(),
    );
    assert!(!report.passed());
}

#[test]
fn the_production_rule_follows_the_parameter_to_the_settings_value() {
    let file = fixtures().join("formations/rds_no_deletion_protection_in_production.json");
    // Not production: no finding.
    let report = check_template(&file, &PolicySettings::default());
    assert!(all_findings(&report).is_empty(), "{:?}", report.failures);
    // Production, and the parameter given "true": no finding either.
    let template = template(&file);
    let plan = plan(&[("DBDeletionProtection", "true")]);
    let subjects = [Subject {
        label: "environment",
        template: &template,
        plan: &plan,
        env: Some("production"),
    }];
    let report = evaluate(&shipped(), &subjects, &[], &settings());
    assert!(all_findings(&report).is_empty(), "{:?}", report.failures);
}

#[test]
fn a_secret_parameters_default_is_never_in_a_finding() {
    let report = check_template(
        &fixtures().join("formations/secret_parameter_without_noecho.json"),
        &settings(),
    );
    let text = report.failures[0].to_string();
    assert!(!text.contains("tok-DO-NOT-PRINT"), "{text}");
}

#[test]
fn an_exception_with_its_reason_accepts_the_finding_and_a_wrong_one_is_an_error() {
    let file = fixtures().join("formations/ssh_or_rdp_from_anywhere.json");
    let exception = |rule: &str, resource: &str| PolicyException {
        rule: rule.into(),
        resource: resource.into(),
        reason: "the bastion's own allow-list is enforced by its sshd".into(),
        origin: Origin::File {
            path: "all.yml".into(),
            line: Some(7),
        },
    };
    let accepted = PolicySettings {
        exceptions: vec![exception("ssh_or_rdp_from_anywhere", "BastionGroup")],
        ..settings()
    };
    let report = check_template(&file, &accepted);
    assert!(
        report.passed(),
        "{:?} {:?}",
        report.failures,
        report.problems
    );
    assert_eq!(report.excepted.len(), 1);
    assert_eq!(report.exceptions.len(), 1);

    for (rule, resource, problem) in [
        (
            "ssh_from_anywhere",
            "BastionGroup",
            "no rule is named \"ssh_from_anywhere\"",
        ),
        (
            "ssh_or_rdp_from_anywhere",
            "Bastion",
            "no resource \"Bastion\"",
        ),
    ] {
        let wrong = PolicySettings {
            exceptions: vec![exception(rule, resource)],
            ..settings()
        };
        let report = check_template(&file, &wrong);
        assert!(!report.passed());
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.starts_with("all.yml:7: ") && p.contains(problem)),
            "{:?}",
            report.problems
        );
    }
}

#[test]
fn the_iam_rule_fails_on_a_policy_that_may_tag_any_image_before_the_sweep() {
    let iam: Vec<RuleFile> = shipped()
        .into_iter()
        .filter(|f| f.input == Input::IamPolicies)
        .collect();
    let fixture = fixtures().join("iam/iam_tag_then_delete.json");
    let policy = documents::read_policy(&fixture, "iam_tag_then_delete.json").unwrap();
    let report = evaluate(&iam, &[], &[policy], &settings());
    assert_eq!(report.failures.len(), 1, "{:?}", report.problems);
    let finding = &report.failures[0];
    assert_eq!(finding.rule, "iam_tag_then_delete");
    assert_eq!(finding.resource, "iam_tag_then_delete.json#TagAnything");
    assert!(finding.location.starts_with("iam_tag_then_delete.json:"));

    // The nightly role's own policy tags only at creation: clean. Without
    // that condition (the policy as it once was) it is the same path.
    let nightly = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/aws-iam/nightly-policy.json");
    let policy = documents::read_policy(&nightly, "nightly-policy.json").unwrap();
    let report = evaluate(&iam, &[], &[policy], &settings());
    assert!(report.passed(), "{:?}", report.failures);

    let text = std::fs::read_to_string(&nightly).unwrap();
    let mut opened: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tagger = opened["Statement"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| {
            s["Condition"]["StringEquals"]
                .get("ec2:CreateAction")
                .is_some()
        })
        .expect("a statement tags only at creation");
    let sid = tagger["Sid"].as_str().unwrap().to_owned();
    tagger["Condition"]
        .as_object_mut()
        .unwrap()
        .remove("StringEquals");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opened.json");
    std::fs::write(&file, serde_json::to_string_pretty(&opened).unwrap()).unwrap();
    let policy = documents::read_policy(&file, "opened.json").unwrap();
    let report = evaluate(&iam, &[], &[policy], &settings());
    assert_eq!(
        report
            .failures
            .iter()
            .map(|f| f.resource.as_str())
            .collect::<Vec<_>>(),
        vec![format!("opened.json#{sid}")]
    );

    // Tagging is harmless when nothing deletes by the tag.
    opened["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != "SweepOnlyWhatTestRunsTagged");
    std::fs::write(&file, serde_json::to_string_pretty(&opened).unwrap()).unwrap();
    let policy = documents::read_policy(&file, "opened.json").unwrap();
    assert!(evaluate(&iam, &[], &[policy], &settings()).passed());
}

#[test]
fn a_rule_file_with_a_bad_header_or_a_duplicate_name_names_its_line() {
    let error = rules::parse(
        "policies/own.guard".into(),
        false,
        "# mine\n#   severity: urgent\nrule mine { Resources exists }\n".into(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "policies/own.guard:2: severity \"urgent\" is not high or low"
    );
    let error = rules::parse("policies/empty.guard".into(), false, "# nothing\n".into())
        .unwrap_err()
        .to_string();
    assert!(error.contains("no `rule NAME"), "{error}");
}

/// The rules that fire on one security group entry from anywhere.
fn rules_on_ingress(entry: serde_json::Value) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("group.json");
    let mut properties = entry;
    properties["GroupId"] = "sg-0123456789abcdef0".into();
    let formation = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"OperatorCidr": {"Type": "String"}},
        "Resources": {"Entry": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": properties}}
    });
    std::fs::write(&file, serde_json::to_string_pretty(&formation).unwrap()).unwrap();
    let report = check_template(&file, &PolicySettings::default());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let mut rules: Vec<String> = all_findings(&report)
        .iter()
        .map(|f| f.rule.clone())
        .collect();
    rules.sort();
    rules
}

#[test]
fn the_network_rules_read_ports_protocols_and_both_address_families() {
    let ssh = "ssh_or_rdp_from_anywhere";
    let port = "port_open_to_anywhere";
    let param = "cidr_parameter_resolves_to_anywhere";
    let tcp = |from: i64, to: i64, cidr: (&str, serde_json::Value)| {
        let mut entry = serde_json::json!({"IpProtocol": "tcp", "FromPort": from, "ToPort": to});
        entry[cidr.0] = cidr.1;
        entry
    };
    let v4 = || ("CidrIp", serde_json::json!("0.0.0.0/0"));
    let v6 = || ("CidrIpv6", serde_json::json!("::/0"));
    for (entry, expected) in [
        (tcp(443, 443, v4()), vec![]),
        (tcp(80, 80, v6()), vec![]),
        (tcp(22, 22, v6()), vec![ssh]),
        (tcp(3389, 3389, v4()), vec![ssh]),
        // A range that takes in SSH is SSH's finding; one that does not is
        // the other rule's, even when it starts at 80.
        (tcp(0, 1024, v4()), vec![ssh]),
        (tcp(80, 443, v4()), vec![port]),
        (tcp(5432, 5432, v6()), vec![port]),
        (
            tcp(22, 22, ("CidrIp", serde_json::json!("10.0.0.0/8"))),
            vec![],
        ),
        // Ports written as text, as CloudFormation also reads them.
        (
            serde_json::json!({"IpProtocol": "tcp", "FromPort": "5432", "ToPort": "5432", "CidrIp": "0.0.0.0/0"}),
            vec![port],
        ),
        (
            serde_json::json!({"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22", "CidrIp": "0.0.0.0/0"}),
            vec![ssh],
        ),
        (
            serde_json::json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}),
            vec![ssh],
        ),
        // From a parameter the settings give 0.0.0.0/0 (see check_template).
        (
            tcp(
                22,
                22,
                ("CidrIp", serde_json::json!({"Ref": "OperatorCidr"})),
            ),
            vec![param],
        ),
    ] {
        let expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        assert_eq!(rules_on_ingress(entry.clone()), expected, "{entry}");
    }
}
