//! The AWS commands as a user runs them, against moto's server.

use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;

use argos_harness::Emulator;
use argos_harness::scenarios::docker;

use crate::argos;
use crate::support::{TempProject, ansible};

/// An AMI moto knows.
const MOTO_AMI: &str = "ami-1e749f67";

fn emulator() -> Emulator {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(Emulator::start())
        .unwrap()
}

fn on(emulator: &Emulator, project: &TempProject) -> assert_cmd::Command {
    let mut cmd = argos(project);
    cmd.args(["--endpoint", emulator.endpoint(), "--set"])
        .arg(format!("base_ami={MOTO_AMI}"));
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE");
    cmd
}

/// What a successful `argos-cloud ARGS...` on the emulator printed, as JSON.
fn json_from(emulator: &Emulator, project: &TempProject, args: &[&str]) -> serde_json::Value {
    let out = on(emulator, project)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// `argos-cloud ENV inventory --list` on the emulator.
fn inventory_list(emulator: &Emulator, project: &TempProject, env: &str) -> serde_json::Value {
    json_from(emulator, project, &[env, "inventory", "--list"])
}

#[test]
fn commission_status_decommission_and_clean_on_the_emulator() {
    let emulator = emulator();
    let project = TempProject::shipped();

    on(&emulator, &project)
        .args(["clitest", "commission"])
        .assert()
        .success()
        .stdout(
            contains("commissioned argos-clitest (CREATE_COMPLETE)").and(contains("DatabasePort")),
        )
        .stderr(
            contains("image argos-image: none yet; baking it").and(contains("CREATE_COMPLETE")),
        );

    let out = on(&emulator, &project)
        .args(["clitest", "status", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let status: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(status["stack"]["status"], "CREATE_COMPLETE");
    assert!(
        status["instances"].as_array().unwrap().len() >= 2,
        "{status}"
    );
    assert_eq!(status["databases"][0]["port"], 5432);

    on(&emulator, &project)
        .args(["clitest", "commission"])
        .assert()
        .failure()
        .stderr(contains("stack argos-clitest already exists"));

    let inventory = inventory_list(&emulator, &project, "clitest");
    assert_eq!(
        inventory["knowledge"]["hosts"],
        serde_json::json!(["argos-clitest-knowledge"]),
        "{inventory:#}"
    );
    let database = inventory["database"]["hosts"][0].as_str().unwrap();
    assert_eq!(
        inventory["_meta"]["hostvars"][database]["db_port"], 5432,
        "the endpoint comes from RDS"
    );
    let knowledge = &inventory["_meta"]["hostvars"]["argos-clitest-knowledge"];
    assert!(
        knowledge["ansible_ssh_private_key_file"]
            .as_str()
            .unwrap()
            .ends_with("keys/argos.pem")
    );
    on(&emulator, &project)
        .args(["clitest", "inventory", "--host", "argos-clitest-knowledge"])
        .assert()
        .success()
        .stdout(contains("\"private_address\""));
    on(&emulator, &project)
        .args(["clitest", "deploy"])
        .assert()
        .failure()
        .stderr(contains(
            "deploy needs hosts to reach over SSH: no data plane on the emulator",
        ));

    on(&emulator, &project)
        .args(["clitest", "decommission", "--yes"])
        .assert()
        .success()
        .stdout(contains("decommissioned argos-clitest"));
    on(&emulator, &project)
        .args(["clitest", "decommission"])
        .assert()
        .success()
        .stdout(contains("argos-clitest does not exist: nothing to delete"));
    on(&emulator, &project)
        .args(["clitest", "status"])
        .assert()
        .success()
        .stdout(contains("does not exist").and(contains("instances 0")));
    on(&emulator, &project)
        .args(["clitest", "clean", "--yes"])
        .assert()
        .success()
        .stdout(contains("clean: 1 image(s)"));
    on(&emulator, &project)
        .args(["clitest", "sweep"])
        .assert()
        .success()
        .stdout(contains("sweep: nothing to delete"));
}

/// Ansible itself reads the environment through `inventory`, used as a
/// dynamic-inventory script, and sees the groups, hosts and variables.
#[test]
fn ansible_reads_an_environment_through_the_inventory_command() {
    let Some(ansible) = ansible() else { return };
    let ansible_inventory = ansible.program().with_file_name("ansible-inventory");
    let emulator = emulator();
    let project = TempProject::shipped();
    on(&emulator, &project)
        .args(["dyn", "commission"])
        .assert()
        .success();

    let script = project.root().join("inventory.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' --root '{}' --endpoint '{}' --set base_ami={MOTO_AMI} dyn inventory \"$@\"\n",
            assert_cmd::cargo::cargo_bin("argos-cloud").display(),
            project.root().display(),
            emulator.endpoint(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut command = std::process::Command::new(&ansible_inventory);
    command.arg("-i").arg(&script).arg("--list");
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("ARGOS_"))
    {
        command.env_remove(name);
    }
    command
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE");
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        seen["knowledge"]["hosts"],
        serde_json::json!(["argos-dyn-knowledge"]),
        "{seen:#}"
    );
    assert_eq!(
        seen["app"]["hosts"].as_array().unwrap().len(),
        1,
        "{seen:#}"
    );
    let database = seen["database"]["hosts"][0].as_str().unwrap();
    let hostvars = &seen["_meta"]["hostvars"];
    assert_eq!(hostvars[database]["db_port"], 5432, "{seen:#}");
    assert_eq!(hostvars[database]["ansible_connection"], "local");
    let knowledge = &hostvars["argos-dyn-knowledge"];
    assert_eq!(knowledge["env_name"], "dyn", "group vars reach the hosts");
    assert!(knowledge["ansible_host"].is_string(), "{knowledge:#}");
    assert_eq!(knowledge["ansible_user"], "admin", "{knowledge:#}");

    on(&emulator, &project)
        .args(["dyn", "decommission", "--yes"])
        .assert()
        .success();
}

#[test]
fn production_is_not_decommissioned_without_confirmation() {
    let emulator = emulator();
    let project = TempProject::shipped();
    on(&emulator, &project)
        .args(["production", "decommission"])
        .assert()
        .failure()
        .stderr(contains(
            "refusing to decommission argos-production without --yes",
        ));
    on(&emulator, &project)
        .args(["production", "clean"])
        .assert()
        .failure()
        .stderr(contains("refusing to delete argos-image"));
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let project = TempProject::shipped();
    // Nothing listens on port 9 of this machine.
    argos(&project)
        .args([
            "--endpoint",
            "http://127.0.0.1:9",
            "--set",
            "base_ami=ami-1e749f67",
            "staging",
            "status",
        ])
        .assert()
        .failure()
        .stderr(contains("argos-cloud: DescribeStacks:").and(contains("dispatch failure")));
}

#[test]
fn a_scenario_asking_for_hosts_the_formations_do_not_make_is_refused_before_any_call() {
    let project = TempProject::shipped();
    for (text, said) in [
        (
            "description: own hosts\nrole: app\nhosts: [{name: web, groups: [app]}]\n",
            "hosts: on aws the formations make the hosts",
        ),
        (
            "description: a group no formation makes\nrole: app\ngroups: [app, collector]\n",
            "groups: no formation makes collector hosts on aws",
        ),
    ] {
        let file = project.root().join("aws-hosts.yaml");
        std::fs::write(&file, text).unwrap();
        // The endpoint does not exist: any call would fail differently.
        argos(&project)
            .args([
                "--backend",
                "aws",
                "--endpoint",
                "http://127.0.0.1:9",
                "--set",
                "base_ami=ami-1e749f67",
                "scenario",
                "run",
            ])
            .arg(&file)
            .assert()
            .failure()
            .stderr(contains("aws-hosts.yaml: ").and(contains(said)));
    }
}

#[test]
fn bad_settings_stop_a_commission_before_any_call() {
    let project = TempProject::shipped();
    // The endpoint does not exist: any call would fail differently.
    argos(&project)
        .args([
            "--endpoint",
            "http://127.0.0.1:9",
            "--set",
            "db_name=bad-name",
            "staging",
            "commission",
        ])
        .assert()
        .failure()
        .stderr(
            contains("Parameters.DBName")
                .and(contains("`db_name` from --set"))
                .and(contains("DescribeStacks").not()),
        );
}

#[test]
fn a_commission_on_aws_without_ansible_stops_before_any_call() {
    let project = TempProject::shipped();
    // Not a loopback endpoint, so hosts are reachable and the image bake
    // needs Ansible; nothing answers there, so any call would fail otherwise.
    argos(&project)
        .args([
            "--endpoint",
            "http://192.0.2.1:9",
            "--set",
            "base_ami=ami-1e749f67",
            "staging",
            "commission",
        ])
        .env("PATH", "/nonexistent")
        .env_remove("ARGOS_ANSIBLE_PLAYBOOK")
        .env_remove("ARGOS_VENV")
        .assert()
        .failure()
        .stderr(
            contains("commission bakes the image with Ansible: ansible-playbook not found")
                .and(contains("DescribeStacks").not()),
        );
}

/// The nightly smoke, rehearsed: the same scenario file on the emulator
/// runs the whole control-plane half (bake, stack, tags, teardown); the
/// steps that need a data plane say they were skipped and why, in the
/// output and in JUnit, and nothing of the run is left.
#[test]
fn the_nightly_smoke_rehearses_on_the_emulator_with_data_plane_steps_skipped() {
    let emulator = emulator();
    let project = TempProject::shipped();
    let junit = project.root().join("smoke.xml");
    let smoke = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/full-stack.yaml");
    let out = on(&emulator, &project)
        .args([
            "--backend",
            "aws",
            "--no-data-plane",
            "scenario",
            "run",
            "--env",
            "smoke1",
            "--junit",
        ])
        .arg(&junit)
        .arg(&smoke)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("scenario full-stack on aws (argos-smoke1): passed")
            && out.contains("(3 of 5 steps skipped)"),
        "{out}"
    );
    for step in ["converge", "idempotence", "verify"] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(step))
            .unwrap_or_else(|| panic!("no {step} line in:\n{out}"));
        assert!(
            line.contains("skipped no data plane on the emulator"),
            "{line}"
        );
    }
    assert!(out.contains("ok    tags on "), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches("<skipped message=\"no data plane on the emulator\">")
            .count(),
        3,
        "{xml}"
    );
    let report = quick_junit::Report::deserialize_from_str(&xml)
        .unwrap_or_else(|e| panic!("not JUnit XML ({e}):\n{xml}"));
    let suites: Vec<(&str, usize, usize, usize)> = report
        .test_suites
        .iter()
        .map(|s| (s.name.as_str(), s.tests, s.failures, s.skipped))
        .collect();
    assert_eq!(suites, [("full-stack (aws)", 5, 0, 3)], "{xml}");
    // Nothing of the run is left: not the stack, not its image bake.
    on(&emulator, &project)
        .args(["smoke1", "sweep", "--run", "smoke1"])
        .assert()
        .success()
        .stdout(contains("sweep: nothing to delete"));
}

/// An emulator and a runnable project, where the data plane can run
/// (Docker and Ansible here; a loud skip otherwise, never in CI).
fn data_plane_fixture() -> Option<(Emulator, TempProject)> {
    if !crate::support::docker_here() || ansible().is_none() {
        return None;
    }
    Some((emulator(), TempProject::runnable()))
}

/// The events a `--message-format json` run printed.
fn events_of(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The first event of kind `kind`.
fn event<'a>(events: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    events
        .iter()
        .find(|e| e["event"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event among {} events", events.len()))
}

/// No container or network labelled `key=value` is left, nor the AMI copy
/// `copy`.
fn nothing_left_in_docker(key: &str, value: &str, copy: &str) {
    let filter = format!("label={key}={value}");
    for kind in [&["ps", "-a"][..], &["network", "ls"][..]] {
        let mut args = kind.to_vec();
        args.extend(["-q", "--filter", &filter]);
        assert_eq!(docker(&args).unwrap(), "", "docker {kind:?} left");
    }
    assert!(
        docker(&["image", "inspect", copy]).is_err(),
        "{copy}, the local copy of an AMI that is gone, is left"
    );
}

/// What of environment `env` the emulator holds: the stack's id and status,
/// its instances and its databases.
fn environment(emulator: &Emulator, project: &TempProject, env: &str) -> serde_json::Value {
    let status = json_from(emulator, project, &[env, "status", "--json"]);
    let ids = |key: &str, state: &str| {
        let mut ids: Vec<String> = status[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {}", i["id"], i[state]))
            .collect();
        ids.sort();
        ids
    };
    serde_json::json!({
        "stack": status["stack"],
        "instances": ids("instances", "state"),
        "databases": ids("databases", "status"),
    })
}

/// A scenario run with `--env staging` while `staging` exists: refused by
/// name, and the run's teardown leaves the stack, its instances and its
/// database as they were (it used to delete the stack by name).
#[test]
fn a_scenario_run_on_an_existing_environment_leaves_it_as_it_was_on_the_emulator() {
    let emulator = emulator();
    let project = TempProject::shipped();
    on(&emulator, &project)
        .args(["staging", "commission"])
        .assert()
        .success();
    let before = environment(&emulator, &project, "staging");
    assert_eq!(before["stack"]["status"], "CREATE_COMPLETE", "{before}");
    assert!(
        before["instances"].as_array().unwrap().len() >= 2,
        "{before}"
    );
    assert_eq!(before["databases"].as_array().unwrap().len(), 1, "{before}");
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/database.yaml");
    let run = on(&emulator, &project)
        .args([
            "--backend",
            "aws",
            "--no-data-plane",
            "scenario",
            "run",
            "--env",
            "staging",
        ])
        .arg(&scenario)
        .assert()
        .failure();
    let out = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert_eq!(environment(&emulator, &project, "staging"), before, "{out}");
    run.stdout(
        contains("environment argos-staging exists already (stack argos-staging")
            .and(contains("this run made nothing and leaves it as it is"))
            .and(contains("this run made nothing, so it removed nothing")),
    );
}

/// An expired leftover the sweep cannot delete (here a snapshot tagged by a
/// dead run but still used by the operator's image, which EC2 refuses to
/// delete) does not stop a scenario run: the create step names it with the
/// command that removes it, and the run passes. (It used to fail every run.)
#[test]
fn an_expired_leftover_that_cannot_be_deleted_does_not_stop_a_run_on_the_emulator() {
    let emulator = emulator();
    let project = TempProject::shipped();
    on(&emulator, &project)
        .args(["operator", "commission"])
        .assert()
        .success();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let snapshot = runtime.block_on(async {
        let aws = argos_cloud::backend::aws::Aws::connect(&emulator.aws_options("us-east-1")).await;
        let images = aws.images(&[]).await.unwrap();
        let image = images
            .iter()
            .find(|i| i.name == "argos-image")
            .unwrap_or_else(|| panic!("no argos-image in {images:?}"));
        let snapshot = image
            .snapshot_ids
            .first()
            .expect("the image has a snapshot");
        let dead = vec![
            ("argos:run".to_owned(), "deadrun".to_owned()),
            (
                "argos:expires".to_owned(),
                "2020-01-01T00:00:00Z".to_owned(),
            ),
            ("Env".to_owned(), "deadrun".to_owned()),
        ];
        aws.create_tags(std::slice::from_ref(snapshot), &dead)
            .await
            .unwrap();
        snapshot.clone()
    });
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/database.yaml");
    on(&emulator, &project)
        .args([
            "--backend",
            "aws",
            "--no-data-plane",
            "scenario",
            "run",
            "--env",
            "run1",
        ])
        .arg(&scenario)
        .assert()
        .success()
        .stdout(
            contains("kept 1 that could not be removed")
                .and(contains(format!("snapshot {snapshot} (run deadrun")))
                .and(contains(
                    "remove it with `argos-cloud --backend aws deadrun sweep --run deadrun --yes`",
                )),
        );
}

/// The knowledge formation rewritten as the original Argos formations write
/// group tags: `"Group": {"Ref": "KnowledgeGroup"}`, the parameter
/// defaulting to `knowledge`. How many tags it rewrote.
fn knowledge_group_by_ref(project: &TempProject) -> usize {
    fn rewrite(value: &mut serde_json::Value) -> usize {
        match value {
            serde_json::Value::Object(object) => {
                let mut count = 0;
                if object.get("Key") == Some(&"Group".into())
                    && object.get("Value") == Some(&"knowledge".into())
                {
                    object.insert("Value".into(), serde_json::json!({"Ref": "KnowledgeGroup"}));
                    count += 1;
                }
                count + object.values_mut().map(rewrite).sum::<usize>()
            }
            serde_json::Value::Array(items) => items.iter_mut().map(rewrite).sum(),
            _ => 0,
        }
    }
    let file = project.root().join("formations/knowledge.json");
    let mut formation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let rewritten = rewrite(&mut formation);
    formation["Parameters"]["KnowledgeGroup"] = serde_json::json!({
        "Type": "String",
        "Default": "knowledge",
        "Description": "The group of the knowledge host."
    });
    std::fs::write(&file, serde_json::to_string_pretty(&formation).unwrap()).unwrap();
    rewritten
}

#[test]
fn group_tags_written_as_a_ref_to_a_parameter_validate_and_find_their_hosts() {
    let project = TempProject::shipped();
    assert!(knowledge_group_by_ref(&project) > 0);
    argos(&project)
        .args(["staging", "validate", "--no-lint"])
        .assert()
        .success()
        .stdout(
            contains("tags        25 taggable resources carry").and(contains(
                "parameters  29 passed explicitly (28 from the settings' `parameters:`, 1 \
                 Defaults), each within its formation's constraints",
            )),
        );

    let emulator = emulator();
    on(&emulator, &project)
        .args(["refs", "commission"])
        .assert()
        .success();
    let inventory = inventory_list(&emulator, &project, "refs");
    assert_eq!(
        inventory["knowledge"]["hosts"].as_array().map(Vec::len),
        Some(1),
        "the knowledge host is found by the group its parameter names: {inventory}"
    );
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    /// The nightly smoke in full on the emulator's data plane (`--data-plane`):
    /// the bake instance, every instance and the RDS database get hosts, so
    /// all five steps run and the probes pass (app to the database through the
    /// endpoint the stack reported, with the stack's master user and password;
    /// to Fuseki; to NER). Nothing of the run is left: no stack, instance,
    /// image or database on the emulator; no container, network or image in
    /// Docker.
    #[test]
    fn the_nightly_smoke_runs_every_step_on_the_emulator_data_plane() {
        let Some((emulator, project)) = data_plane_fixture() else {
            return;
        };
        let smoke = project.root().join("scenarios/full-stack.yaml");
        let output = on(&emulator, &project)
            .args([
                "--backend",
                "aws",
                "--message-format",
                "json",
                "scenario",
                "run",
                "--data-plane",
                "--env",
                "dplane1",
            ])
            .arg(&smoke)
            .assert()
            .success()
            .get_output()
            .clone();
        let events = events_of(&output.stdout);
        let all = events
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        // The bake's AMI became a local image, and app hosts started from it.
        let copy = event(&events, "image_local_copy")["copy"]
            .as_str()
            .expect("the copy's name")
            .to_owned();
        assert_eq!(event(&events, "scenario_finished")["passed"], true, "{all}");
        for step in ["create", "converge", "idempotence", "verify", "destroy"] {
            let finished = events
                .iter()
                .find(|e| e["event"] == "step_finished" && e["step"] == step)
                .unwrap_or_else(|| panic!("no {step} step in:\n{all}"));
            assert_eq!(finished["outcome"], "passed", "{finished}");
        }
        let verified = events
            .iter()
            .find(|e| e["event"] == "step_finished" && e["step"] == "verify")
            .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        for probe in [
            "ok    postgres app -> database",
            "ok    sparql-ask app -> knowledge",
            "ok    ner app -> knowledge",
        ] {
            assert!(verified.contains(probe), "no `{probe}` in:\n{verified}");
        }
        on(&emulator, &project)
            .args(["dplane1", "sweep", "--run", "dplane1"])
            .assert()
            .success()
            .stdout(contains("sweep: nothing to delete"));
        nothing_left_in_docker(argos_cloud::model::names::tag_keys::RUN, "dplane1", &copy);
    }

    /// The operator's commands on the emulator's data plane (`--data-plane`):
    /// `commission` bakes for real and makes the stand-ins, `deploy` converges
    /// every group through the EC2-tag inventory, `check` passes every probe,
    /// `decommission` and `clean` leave no container, network or AMI copy.
    #[test]
    fn deploy_and_check_run_on_the_emulator_data_plane() {
        let Some((emulator, project)) = data_plane_fixture() else {
            return;
        };
        let argos = |args: &[&str]| {
            let mut command = on(&emulator, &project);
            command.arg("--data-plane").args(args);
            command
        };
        // Whatever fails below, the stand-ins go while the emulator still runs
        // (a failed assertion would otherwise leave them to clash with the next run).
        let on_plane = || argos(&[]);
        let _decommission = crate::support::Decommission {
            argos: &on_plane,
            env: "opsdp",
        };
        let made = argos(&["--message-format", "json", "opsdp", "commission"])
            .assert()
            .success();
        let events = events_of(&made.get_output().stdout);
        let copy = event(&events, "image_local_copy")["copy"]
            .as_str()
            .expect("the copy's name")
            .to_owned();
        argos(&["opsdp", "deploy"])
            .assert()
            .success()
            .stdout(contains("app.yml ok").and(contains("slowest tasks:")));
        let checked = argos(&["--message-format", "json", "opsdp", "check"])
            .assert()
            .success();
        let probes: Vec<serde_json::Value> = events_of(&checked.get_output().stdout)
            .into_iter()
            .filter(|e| e["event"] == "probe_finished")
            .collect();
        for kind in ["http ", "postgres ", "sparql-ask ", "ner "] {
            assert!(
                probes
                    .iter()
                    .any(|p| p["probe"].as_str().is_some_and(|n| n.starts_with(kind))),
                "no {kind}probe among {probes:?}"
            );
        }
        let failed: Vec<_> = probes.iter().filter(|p| p["passed"] != true).collect();
        assert!(failed.is_empty(), "failed probes: {failed:?}");
        argos(&["opsdp", "decommission", "--yes"])
            .assert()
            .success();
        argos(&["opsdp", "clean", "--yes"]).assert().success();
        nothing_left_in_docker(argos_cloud::model::names::tag_keys::ENV, "opsdp", &copy);
    }

    /// SIGINT while the data plane converges the database stand-in: exit 130,
    /// and nothing of the run is left: no stack, image or database on the
    /// emulator; no container, network or AMI copy in Docker.
    #[test]
    fn sigint_during_a_data_plane_commission_leaves_nothing() {
        let Some((emulator, project)) = data_plane_fixture() else {
            return;
        };
        let mut command = crate::support::argos_command(&project.root());
        command
            .args(["--endpoint", emulator.endpoint(), "--set"])
            .arg(format!("base_ami={MOTO_AMI}"))
            .args(["--backend", "aws", "--data-plane", "scenario", "run"])
            .args(["--env", "sigdp"])
            .arg(project.root().join("scenarios/full-stack.yaml"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_PROFILE");
        let mut run = crate::support::Running::start(command);
        let copy = run.wait_for_event("image_local_copy", |_| true, Duration::from_secs(300));
        run.wait_for_event("stand_ins_placing", |_| true, Duration::from_secs(300));
        run.wait_for_ansible("TASK [database", Duration::from_secs(300));
        run.stops_on("INT", "argos-sigdp");
        nothing_left_in_docker(
            argos_cloud::model::names::tag_keys::RUN,
            "sigdp",
            copy["copy"].as_str().expect("the copy's name"),
        );
        on(&emulator, &project)
            .args(["sigdp", "sweep", "--run", "sigdp"])
            .assert()
            .success()
            .stdout(contains("sweep: nothing to delete"));
    }
}
