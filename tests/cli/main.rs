//! The `argos-cloud` binary as a user runs it, on throwaway copies of the project.

mod aws;
mod bad_input;
mod cache;
mod deploy;
mod own_formations;
mod policy;
mod role_tester;
mod scenario;
mod support;
mod topology;
mod workflows;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

use support::TempProject;

pub(crate) fn argos(project: &TempProject) -> Command {
    Command::from_std(support::argos_command(&project.root()))
}

#[test]
fn validate_passes_on_the_shipped_project() {
    let project = TempProject::shipped();
    let lint = support::cfn_lint(&project);
    let assert = argos(&project)
        .args(["staging", "validate"])
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for step in [
        "settings",
        "names",
        "merge",
        "references",
        "tags",
        "size",
        "parameters",
        "image",
        "policy",
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("ok  {step} "))),
            "{step} not ok:\n{out}"
        );
    }
    if lint.is_some() {
        let line = out
            .lines()
            .find(|l| l.contains("cfn-lint "))
            .unwrap_or_default();
        assert!(line.trim_start().starts_with("ok"), "cfn-lint:\n{out}");
        assert!(line.contains(": 0 errors"), "{line}");
    }
    assert!(out.contains("validate: staging passed"), "{out}");
    assert!(
        project.root().join("playbooks/group_vars/all.yml").exists(),
        "all.yml made from the sample"
    );
}

#[test]
fn a_bad_environment_name_says_which_rule_it_breaks() {
    let project = TempProject::shipped();
    for (env, rule) in [
        ("Staging", "must start with a lowercase letter"),
        ("stag_ing", "'_' is not allowed"),
        ("staging-", "must not end with a hyphen"),
        ("st--aging", "two hyphens in a row"),
        ("image", "reserved"),
        ("a-very-long-environment-name", "at most 24"),
    ] {
        argos(&project)
            .args([env, "validate", "--no-lint"])
            .assert()
            .failure()
            .stdout(contains(format!("environment name {env:?} is not valid")).and(contains(rule)));
    }
}

#[test]
fn malformed_settings_name_the_file_and_line() {
    let project = TempProject::shipped();
    project.write_settings(
        &project
            .sample()
            .replace("region: us-east-1", "region: [us-east-1"),
    );
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(contains("playbooks/group_vars/all.yml:").and(contains("YAML syntax error")));

    let text = project
        .sample()
        .replace("db_name: argos ", "db_name: argos-db ");
    let line = text
        .lines()
        .position(|l| l.starts_with("db_name:"))
        .unwrap()
        + 1;
    project.write_settings(&text);
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(
            contains(
                "Parameters.DBName: \"argos-db\" does not match its AllowedPattern \
                 \"^[a-zA-Z][a-zA-Z0-9_]*$\": a letter, then letters, digits or underscores",
            )
            .and(contains(
                format!(
                    "`db_name` from {}",
                    project
                        .root()
                        .join("playbooks/group_vars/all.yml")
                        .display()
                ) + &format!(":{line}"),
            )),
        );
}

#[test]
fn a_missing_key_is_named() {
    let project = TempProject::shipped();
    let text: String = project
        .sample()
        .lines()
        .filter(|l| !l.starts_with("key_name:"))
        .map(|l| format!("{l}\n"))
        .collect();
    project.write_settings(&text);
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(contains("all.yml: missing key `key_name`"));
}

#[test]
fn secrets_stay_out_of_the_output() {
    let project = TempProject::shipped();
    let secret = "leaky password value";
    let out = argos(&project)
        .args(["staging", "validate", "--no-lint", "--set"])
        .arg(format!("db_pass={secret}"))
        .assert()
        .failure()
        .stdout(contains("`db_pass` from --set").and(contains("not shown")))
        .get_output()
        .clone();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(secret), "{all}");

    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .env("ARGOS_DB_PASS", secret)
        .assert()
        .failure()
        .stdout(
            contains("`db_pass` from environment variable ARGOS_DB_PASS")
                .and(contains(secret).not()),
        );
}

#[test]
fn malformed_json_names_the_file_and_line() {
    let project = TempProject::shipped();
    project.write_formation(
        "extra.json",
        "{\n  \"Resources\": {\n    \"Extra\": {\"Type\": \"AWS::SNS::Topic\"},\n  \n}\n",
    );
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(contains("extra.json:5:1: invalid JSON: trailing comma"));
    argos(&project)
        .args(["staging", "template"])
        .assert()
        .failure()
        .stderr(contains("extra.json:5:"));
}

#[test]
fn a_clash_with_a_shipped_formation_names_both_files() {
    let project = TempProject::shipped();
    project.write_formation(
        "extra.json",
        r#"{"Resources": {"Database": {"Type": "AWS::SNS::Topic"}}}"#,
    );
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(
            contains("logical id `Database` is defined twice")
                .and(contains("database.json:"))
                .and(contains("extra.json:1")),
        );
}

#[test]
fn a_dangling_reference_fails_validation() {
    let project = TempProject::shipped();
    project.write_formation(
        "extra.json",
        r#"{"Resources": {"Extra": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "AppNmae"}}}}}"#,
    );
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .failure()
        .stdout(contains(
            "Resources.Extra.Properties.TopicName.Ref: Ref names `AppNmae`",
        ));
}

#[test]
fn template_prints_the_merged_template() {
    let project = TempProject::shipped();
    let out = argos(&project)
        .args(["staging", "template"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let template: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    for id in ["Vpc", "Database", "KnowledgeInstance", "AppServerInstance"] {
        assert!(template["Resources"].get(id).is_some(), "{id}");
    }
    assert!(template["Resources"].get("ImageInstance").is_none());

    let out = argos(&project)
        .args(["staging", "template", "--image", "--compact"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1);
    let image: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(image["Resources"].get("ImageInstance").is_some());
}

#[test]
fn update_on_local_backends_exits_2_and_says_why() {
    // (`clean` removes the machine's baked images: harness/tests/scenarios/bake.rs
    // tests it on an app of its own, never on the images other tests use.)
    let project = TempProject::shipped();
    for backend in ["docker", "vagrant"] {
        argos(&project)
            .args(["--backend", backend, "staging", "update"])
            .assert()
            .code(2)
            .stderr(
                contains(format!("`update` on {backend} is not built yet"))
                    .and(contains("decommission and commission again")),
            );
    }
}

#[test]
fn a_vagrant_environment_that_was_never_made_has_no_hosts() {
    let project = TempProject::shipped();
    argos(&project)
        .args(["--backend", "vagrant", "nothere", "status"])
        .assert()
        .success()
        .stdout(contains("hosts 0"));
}

/// The commands `--help` lists under "Commands:".
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts with two spaces; its wrapped description with more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Every command `--help` lists has help of its own, and so does every
/// subcommand of `scenario` and `cache`; every command is a reserved
/// environment name, so `argos-cloud deploy` is never read as an
/// environment called "deploy".
#[test]
fn every_command_has_help() {
    let project = TempProject::shipped();
    let help = |args: &[&str]| -> String {
        let output = argos(&project).args(args).arg("--help").output().unwrap();
        assert!(output.status.success(), "{args:?} --help failed");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("Usage"), "{args:?} --help: {text}");
        text
    };
    let top = help(&[]);
    assert!(top.contains("<ENV> <COMMAND>"), "{top}");
    let commands = listed_commands(&top);
    for command in [
        "commission",
        "deploy",
        "check",
        "validate",
        "scenario",
        "cache",
    ] {
        assert!(
            commands.iter().any(|c| c == command),
            "{command} missing from {commands:?}"
        );
    }
    let reserved: Vec<&str> = argos_cloud::model::names::RESERVED_ENV_NAMES
        .iter()
        .copied()
        .filter(|n| *n != "image")
        .collect();
    let mut listed: Vec<&str> = commands.iter().map(String::as_str).collect();
    listed.sort_unstable();
    let mut reserved_sorted = reserved.clone();
    reserved_sorted.sort_unstable();
    assert_eq!(
        listed, reserved_sorted,
        "commands and reserved environment names differ"
    );
    for command in &commands {
        match command.as_str() {
            // Commands without an environment name.
            "scenario" | "cache" => {
                let subcommands = listed_commands(&help(&[command]));
                assert!(subcommands.len() >= 3, "{command}: {subcommands:?}");
                for subcommand in subcommands.iter().filter(|s| *s != "help") {
                    help(&[command, subcommand]);
                }
            }
            "completions" => {
                help(&[command]);
            }
            "help" => {}
            _ => {
                help(&["staging", command]);
            }
        }
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    let project = TempProject::shipped();
    for shell in ["bash", "zsh", "fish"] {
        argos(&project)
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(contains("argos-cloud"));
    }
}

#[test]
fn a_command_without_an_environment_is_a_usage_error() {
    let project = TempProject::shipped();
    argos(&project)
        .arg("validate")
        .assert()
        .code(2)
        .stderr(contains("needs an environment"));
}

#[test]
fn a_folder_that_is_not_a_project_is_named() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("argos-cloud")
        .unwrap()
        .arg("--root")
        .arg(dir.path())
        .args(["staging", "validate"])
        .assert()
        .failure()
        .stderr(contains(
            "is not an argos-cloud project folder: it has no formations/",
        ));
}
