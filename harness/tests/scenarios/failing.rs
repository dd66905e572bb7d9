//! Scenarios built to fail, proving each check can: a wrong database
//! password, a closed port, a role that changes something on every run.
//! Each failure must name the host, the probe (or task) and the reason.

use std::path::{Path, PathBuf};

use argos_cloud::backend::choose::{BackendChoice, LocalKind};
use argos_cloud::model::project::Project;
use argos_cloud::scenario::Step;
use argos_cloud::scenario::report::{Outcome, ScenarioReport};
use argos_harness::scenarios;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/fixtures")
        .join(name)
}

fn failed_at(report: &ScenarioReport, step: Step) -> String {
    assert!(!report.passed(), "{report}");
    let reason = match &report.step(step).expect("the step ran").outcome {
        Outcome::Failed(reason) => reason.clone(),
        other => panic!("{step} should have failed, but: {other:?}\n{report}"),
    };
    // Whatever failed, the environment is gone.
    assert!(
        matches!(
            report.step(Step::Destroy).map(|s| &s.outcome),
            Some(Outcome::Passed(_))
        ),
        "{report}"
    );
    reason
}

async fn run_fast(file: &Path) -> ScenarioReport {
    let mut options = scenarios::options();
    // These probes are meant to fail: no need to wait long for them.
    options.probe_deadline = std::time::Duration::from_secs(4);
    scenarios::run_with(&scenarios::load(file), &options).await
}

#[tokio::test]
async fn a_wrong_database_password_fails_the_postgres_probe() {
    if !scenarios::backend_available() {
        return;
    }
    let report = run_fast(&fixture("wrong-db-password.yaml")).await;
    let reason = failed_at(&report, Step::Verify);
    let host = format!("{}-database", report.environment);
    for part in [
        "FAIL  postgres database -> database",
        &format!("on {host}"),
        "password authentication failed for user",
    ] {
        assert!(reason.contains(part), "missing {part:?} in:\n{reason}");
    }
    assert!(
        !report.to_string().contains("not-the-db-password"),
        "a password reached the report:\n{report}"
    );
}

#[tokio::test]
async fn a_closed_port_fails_connectivity_and_an_open_one_passes() {
    if !scenarios::backend_available() {
        return;
    }
    let report = run_fast(&fixture("closed-port.yaml")).await;
    let reason = failed_at(&report, Step::Verify);
    assert!(reason.starts_with("1 check(s) failed"), "{reason}");
    assert!(
        reason.contains(":22) on "),
        "the open port is reported: {reason}"
    );
    let failure = reason
        .lines()
        .find(|l| l.starts_with("FAIL"))
        .expect("a failure line");
    for part in [
        "tcp database -> database",
        ":5433)",
        &format!("on {}-database", report.environment),
        "Connection refused",
    ] {
        assert!(failure.contains(part), "missing {part:?} in {failure}");
    }
}

/// The project, copied, with a database role that runs `date` every time.
fn project_with_a_non_idempotent_role() -> tempfile::TempDir {
    let root = scenarios::workspace_root();
    let copy = tempfile::tempdir().unwrap();
    for dir in ["formations", "playbooks", "docker", "Vagrantfile"] {
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(root.join(dir))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    // The same Ansible as the real project (deploy looks in <project>/.venv).
    if root.join(".venv").is_dir() {
        std::os::unix::fs::symlink(root.join(".venv"), copy.path().join(".venv")).unwrap();
    }
    let tasks = copy.path().join("playbooks/roles/database/tasks/main.yml");
    let mut text = std::fs::read_to_string(&tasks).unwrap();
    text.push_str(
        "\n- name: Record the time of every run (not idempotent, on purpose)\n  ansible.builtin.command: date\n",
    );
    std::fs::write(&tasks, text).unwrap();
    copy
}

#[tokio::test]
async fn a_role_that_changes_something_every_run_fails_idempotence() {
    if !scenarios::backend_available() {
        return;
    }
    let copy = project_with_a_non_idempotent_role();
    let mut options = scenarios::options();
    options.project = Project::open(copy.path()).unwrap();
    options.log_dir = scenarios::workspace_root().join("target/argos-logs");
    let report =
        scenarios::run_with(&scenarios::load(&fixture("not-idempotent.yaml")), &options).await;
    assert!(matches!(
        report.step(Step::Converge).map(|s| &s.outcome),
        Some(Outcome::Passed(_))
    ));
    let reason = failed_at(&report, Step::Idempotence);
    for part in [
        "idempotence: the second run of database changed 1 task(s)",
        &format!("host {}-database", report.environment),
        "task \"database : Record the time of every run (not idempotent, on purpose)\" changed",
    ] {
        assert!(reason.contains(part), "missing {part:?} in:\n{reason}");
    }
}

#[tokio::test]
async fn keep_on_failure_leaves_the_environment_and_says_how_to_reach_it() {
    if !scenarios::backend_available() {
        return;
    }
    let mut options = scenarios::options();
    options.probe_deadline = std::time::Duration::from_secs(2);
    options.keep_on_failure = true;
    let scenario = scenarios::load(&fixture("closed-port.yaml"));
    let report = scenarios::run_with(&scenario, &options).await;
    let kept = match &report.step(Step::Destroy).unwrap().outcome {
        Outcome::Skipped(text) => text.clone(),
        other => panic!("destroy should be skipped: {other:?}"),
    };
    let env = report.environment.trim_start_matches("argos-").to_owned();
    // Still there: remove it the way the message says, then check.
    let backend = scenarios::observer(&options, &scenario, None);
    let left = backend.labelled(Some(&env)).unwrap();
    let env_name = argos_cloud::model::names::EnvName::new(&env).unwrap();
    backend.decommission(&env_name).unwrap();
    assert_eq!(left.len(), 2, "the host and the network stay: {left:?}");
    let login = match options.backend {
        BackendChoice::Local(LocalKind::Docker) => "ssh -i ",
        BackendChoice::Local(LocalKind::Vagrant) => "vagrant ssh database",
        BackendChoice::Aws { .. } => panic!("the roles suite runs on local backends"),
    };
    for part in [
        "kept environment",
        login,
        &format!(
            "argos-cloud --backend {} {env} decommission",
            options.backend.name()
        ),
    ] {
        assert!(kept.contains(part), "missing {part:?} in:\n{kept}");
    }
    assert!(backend.labelled(Some(&env)).unwrap().is_empty());
}
