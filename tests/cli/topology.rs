//! The topology is data: a group added as a project adds one (a formation
//! resource tagged with it, a playbook and its role, a line in the settings'
//! `topology`) is validated, templated, made, converged and probed with no
//! change to Rust code. The files are `tests/fixtures/collector/`.

use std::path::Path;

use crate::argos;
use crate::support::{TempProject, ansible, docker_here};

/// A runnable copy of the project with the collector group added.
fn project_with_a_collector() -> TempProject {
    let project = TempProject::runnable();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector");
    for folder in ["formations", "playbooks", "scenarios"] {
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(fixture.join(folder))
            .arg(project.root())
            .status()
            .unwrap();
        assert!(status.success(), "copying {folder}");
    }
    let settings = project.root().join("playbooks/group_vars/all.sample.yml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let worker = "  - {group: worker, baked: true, when: tasks_enabled, after: [database, knowledge, broker]}\n";
    assert!(
        text.contains(worker),
        "the sample's topology ends with the worker"
    );
    let text = text.replace(
        worker,
        &format!("{worker}  - {{group: collector, ports: [9100]}}\n"),
    );
    // Its own key, and its formation's parameter mapped to it: no Rust.
    let text = text.replacen(
        "\nimage_parameters:",
        "\n  CollectorInstanceType: \"{{ collector_instance_type }}\"\nimage_parameters:",
        1,
    );
    let text = format!("{text}collector_instance_type: t3.micro\n");
    std::fs::write(&settings, text).unwrap();
    project
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn run_ok(project: &TempProject, args: &[&str]) -> String {
    let output = argos(project).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "argos-cloud {args:?} failed:\n{}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

#[test]
fn a_group_added_as_data_validates_and_templates() {
    let project = project_with_a_collector();
    let validated = run_ok(&project, &["staging", "validate"]);
    assert!(
        validated.contains(
            "6 groups, deployed in this order: database, knowledge, broker, app, worker, collector"
        ),
        "{validated}"
    );
    let template = run_ok(&project, &["staging", "template"]);
    assert!(template.contains("\"CollectorInstance\""), "{template}");

    // The same group missing from the topology is named with its file.
    let settings = project.root().join("playbooks/group_vars/all.sample.yml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let without = text
        .lines()
        .filter(|l| !l.contains("group: collector"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&settings, without).unwrap();
    let _ = std::fs::remove_file(project.root().join("playbooks/group_vars/all.yml"));
    let output = argos(&project)
        .args(["staging", "validate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stdout(&output);
    assert!(
        text.contains(
            "collector.yml: group collector has a playbook but is not in the settings' `topology`"
        ),
        "{text}"
    );
    assert!(
        text.contains("resource CollectorInstance is tagged Group=collector, which is not in the settings' `topology`"),
        "{text}"
    );
}

/// Decommissions a CLI environment when the test is done with it.
struct Decommissioned<'a> {
    project: &'a TempProject,
    env: String,
}

impl Drop for Decommissioned<'_> {
    fn drop(&mut self) {
        let _ = argos(self.project)
            .args(["--backend", "docker", &self.env, "decommission", "--yes"])
            .output();
    }
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    /// The collector converged and probed by a scenario, then made, listed
    /// and deployed through the local CLI.
    #[test]
    fn a_group_added_as_data_runs_on_docker_through_a_scenario_and_the_cli() {
        if !docker_here() || ansible().is_none() {
            return;
        }
        let project = project_with_a_collector();
        let scenario = project.root().join("scenarios/collector.yaml");
        let report = run_ok(
            &project,
            &[
                "--backend",
                "docker",
                "scenario",
                "run",
                scenario.to_str().unwrap(),
            ],
        );
        for line in [
            "unit collector.service on collector is active",
            "tcp collector:9100 is open",
            "file /etc/collector.conf on collector",
            "command `systemctl show -p ExecStart collector` on collector",
            "collector: 0 changes on the second run",
        ] {
            assert!(report.contains(line), "{line:?} missing:\n{report}");
        }

        let env = format!("coll{}", std::process::id() % 100_000);
        let _environment = Decommissioned {
            project: &project,
            env: env.clone(),
        };
        run_ok(&project, &["--backend", "docker", &env, "commission"]);
        let inventory: serde_json::Value = serde_json::from_str(&run_ok(
            &project,
            &["--backend", "docker", &env, "inventory", "--list"],
        ))
        .unwrap();
        let collectors = inventory["collector"]["hosts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            collectors,
            [serde_json::json!(format!("argos-{env}-collector"))],
            "{inventory:#}"
        );
        let deployed = run_ok(
            &project,
            &[
                "--backend",
                "docker",
                &env,
                "deploy",
                "--roles",
                "collector",
            ],
        );
        assert!(deployed.contains("collector.yml"), "{deployed}");
    }
}
