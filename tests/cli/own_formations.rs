//! Another team's formations, playbooks and settings (`tests/fixtures/ledger`)
//! run through the engine with no Rust change: their parameters are mapped
//! in the settings, each environment has its own values, and a mistake in
//! the mapping names the formation's line and the settings' line.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

use crate::argos;
use crate::support::{TempProject, ansible, docker_here};

/// An AMI moto knows.
const MOTO_AMI: &str = "ami-1e749f67";

/// What the command printed, with the project's folder left out of its
/// paths (as a user who runs it in the folder sees them).
fn run_in(project: &TempProject, command: &mut Command) -> (String, Option<i32>) {
    let output = command.output().unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let root = format!("{}/", project.root().display());
    (text.replace(&root, ""), output.status.code())
}

fn ledger() -> TempProject {
    TempProject::fixture("ledger")
}

fn line_of(text: &str, starts: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(starts))
        .unwrap_or_else(|| panic!("{starts:?} not found"))
        + 1
}

#[test]
fn each_environment_validates_with_its_own_values() {
    let project = ledger();
    for env in ["staging", "production"] {
        let (out, code) = run_in(
            &project,
            argos(&project).args([env, "validate", "--no-lint", "--explain"]),
        );
        assert_eq!(code, Some(0), "{env}:\n{out}");
        assert!(
            out.contains("the baked ones (api) start from ServiceAMI on AWS"),
            "{out}"
        );
    }
    let (staging, _) = run_in(
        &project,
        argos(&project).args(["staging", "template", "--parameters"]),
    );
    let staging_line = |key: &str| {
        staging
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing:\n{staging}"))
            .to_owned()
    };
    assert!(
        staging_line("ApiServerType").contains("t3.small"),
        "{staging}"
    );
    assert!(
        staging_line("ApiServerType")
            .contains("`api_instance_type` from playbooks/group_vars/staging.yml:4"),
        "{staging}"
    );
    assert!(staging_line("JobsServerType").contains("its Default, formations/jobs.json:"));
    assert!(staging_line("Stage").contains("staging"));
    let (production, _) = run_in(
        &project,
        argos(&project).args(["production", "template", "--parameters"]),
    );
    assert!(
        production
            .lines()
            .any(|l| l.contains("AlertEmail") && l.contains("ops@example.org")),
        "only production sets AlertEmail:\n{production}"
    );
    assert!(
        production
            .lines()
            .any(|l| l.contains("ApiServerType") && l.contains("m5.large"))
    );
    let (image, _) = run_in(
        &project,
        argos(&project).args(["staging", "template", "--parameters", "--image"]),
    );
    assert!(
        image
            .lines()
            .any(|l| l.contains("BakeInstanceName") && l.contains("ledger-image")),
        "{image}"
    );
    // Any key of the settings may be overridden, the project's own too.
    let (out, code) = run_in(
        &project,
        argos(&project).args([
            "--set",
            "api_instance_type=t3.medium",
            "staging",
            "template",
            "--parameters",
        ]),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("ApiServerType") && l.contains("t3.medium"))
    );
}

#[test]
fn a_mapping_mistake_names_the_formations_line_and_the_settings_line() {
    let project = ledger();
    let sample_path = project.root().join("playbooks/group_vars/all.sample.yml");
    let sample = std::fs::read_to_string(&sample_path).unwrap();
    let api = std::fs::read_to_string(project.root().join("formations/api.json")).unwrap();
    let api_server_type = line_of(&api, "\"ApiServerType\": {");
    let validate = |settings: &str, staging: Option<&str>| {
        project.write_settings(settings);
        if let Some(text) = staging {
            std::fs::write(
                project.root().join("playbooks/group_vars/staging.yml"),
                text,
            )
            .unwrap();
        }
        let (out, code) = run_in(
            &project,
            argos(&project).args(["staging", "validate", "--no-lint"]),
        );
        assert_eq!(code, Some(1), "{out}");
        assert!(
            !out.contains("src/"),
            "a message names the engine's source:\n{out}"
        );
        out
    };

    // A declared parameter with no Default and no value.
    let unmapped = sample.replace("  ApiServerType: \"{{ api_instance_type }}\"\n", "");
    let out = validate(&unmapped, None);
    assert!(
        out.contains(&format!(
            "formations/api.json:{api_server_type}: Parameters.ApiServerType: has no Default, and \
             the settings give it no value: add `ApiServerType: ...` (a value or \"{{{{ key }}}}\") \
             under `parameters:` in"
        )),
        "{out}"
    );

    // A value for a parameter no formation declares.
    let extra = sample.replace("parameters:\n", "parameters:\n  ApiServerSize: t3.micro\n");
    let line = line_of(&extra, "ApiServerSize:");
    let out = validate(&extra, None);
    assert!(
        out.contains(&format!(
            "playbooks/group_vars/all.yml:{line}: parameters.ApiServerSize: no formation of \
             stack ledger-staging declares a parameter ApiServerSize"
        )),
        "{out}"
    );

    // A value outside AllowedValues, from the environment's own file.
    let out = validate(
        &sample,
        Some("api_instance_type: c7.huge\nstage_label: staging\n"),
    );
    let mapping = line_of(&sample, "ApiServerType:");
    assert!(
        out.contains(&format!(
            "formations/api.json:{api_server_type}: Parameters.ApiServerType: \"c7.huge\" is not \
             one of its AllowedValues (the value: playbooks/group_vars/all.yml:{mapping}, \
             `api_instance_type` from playbooks/group_vars/staging.yml:1)"
        )),
        "{out}"
    );

    // A value that breaks AllowedPattern.
    let bad_cidr = sample.replace("admin_cidr: 198.51.100.0/24", "admin_cidr: everywhere");
    let base = std::fs::read_to_string(project.root().join("formations/base.json")).unwrap();
    let out = validate(&bad_cidr, Some("stage_label: staging\n"));
    assert!(
        out.contains(&format!(
            "formations/base.json:{}: Parameters.AdminCidr: \"everywhere\" does not match its \
             AllowedPattern",
            line_of(&base, "\"AdminCidr\": {")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "`admin_cidr` from playbooks/group_vars/all.yml:{}",
            line_of(&bad_cidr, "admin_cidr:")
        )),
        "{out}"
    );
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    /// commission (the bake for real), inventory, deploy, the stack's
    /// parameters read back, decommission: nothing left.
    #[test]
    fn the_cycle_runs_on_the_emulator_data_plane_with_no_rust_change() {
        if !docker_here() || ansible().is_none() {
            return;
        }
        let emulator = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(argos_harness::Emulator::start())
            .unwrap();
        let project = ledger();
        let on = || {
            let mut command = argos(&project);
            command
                .args(["--endpoint", emulator.endpoint(), "--data-plane", "--set"])
                .arg(format!("base_ami={MOTO_AMI}"))
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_PROFILE");
            command
        };
        on().args(["staging", "commission"]).assert().success();
        let cleanup = crate::support::Decommission {
            argos: &on,
            env: "staging",
        };
        let inventory: serde_json::Value = serde_json::from_slice(
            &on()
                .args(["staging", "inventory", "--list"])
                .assert()
                .success()
                .get_output()
                .stdout,
        )
        .unwrap();
        for group in ["api", "jobs", "staging"] {
            assert_eq!(
                inventory[group]["hosts"].as_array().map(Vec::len),
                Some(if group == "staging" { 2 } else { 1 }),
                "group {group}: {inventory:#}"
            );
        }
        on().args(["staging", "deploy"])
            .assert()
            .success()
            .stdout(contains("api.yml ok").and(contains("jobs.yml ok")));
        // Ansible read the environment's own settings, as argos-cloud did.
        let api = argos_harness::scenarios::docker(&[
            "ps",
            "-q",
            "--filter",
            "label=App=ledger",
            "--filter",
            "label=Env=staging",
            "--filter",
            "label=Group=api",
        ])
        .unwrap();
        let config =
            argos_harness::scenarios::docker(&["exec", api.trim(), "cat", "/etc/ledger/api.conf"])
                .unwrap();
        assert!(config.contains("stage=staging"), "{config}");
        assert!(config.contains("instance_type=t3.small"), "{config}");
        // The stack got exactly the parameters the settings say, per environment.
        let stack = tokio::runtime::Runtime::new().unwrap().block_on(async {
            let aws =
                argos_cloud::backend::aws::Aws::connect(&emulator.aws_options("eu-west-1")).await;
            aws.stack("ledger-staging")
                .await
                .unwrap()
                .expect("the stack")
        });
        let mut parameters = stack.parameters.clone();
        parameters.sort();
        let expected = [
            ("AdminCidr", "198.51.100.0/24"),
            ("AlertEmail", ""),
            ("ApiServerType", "t3.small"),
            ("Application", "ledger"),
            ("JobsGroupName", "jobs"),
            ("JobsServerType", "t3.micro"),
            ("PlainAMI", MOTO_AMI),
            ("SshKeyName", "ledger-ops"),
            ("Stage", "staging"),
        ];
        for (key, value) in expected {
            assert!(
                parameters.iter().any(|(k, v)| k == key && v == value),
                "{key}={value:?} not in {parameters:?}"
            );
        }
        let service = parameters.iter().find(|(k, _)| k == "ServiceAMI").unwrap();
        assert!(
            service.1.starts_with("ami-") && service.1 != MOTO_AMI,
            "the baked image: {service:?}"
        );
        assert_eq!(parameters.len(), 10, "{parameters:?}");
        drop(cleanup);
        let leftovers =
            argos_harness::scenarios::docker(&["ps", "-aq", "--filter", "label=App=ledger"])
                .unwrap();
        assert_eq!(leftovers.trim(), "", "containers left");
    }
}
