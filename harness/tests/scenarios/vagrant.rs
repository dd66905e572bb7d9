//! The Vagrant backend, whatever `ARGOS_BACKEND` says: the app and knowledge
//! scenarios on real Vagrant machines (the docker provider), with nothing
//! left in Vagrant's index or among the labelled Docker objects afterwards;
//! and Vagrant's own failure modes as clear errors before a deadline.

use std::process::Command;
use std::time::{Duration, Instant};

use argos_cloud::backend::choose::LocalKind;
use argos_cloud::backend::containers::Containers;
use argos_cloud::backend::vagrant::{VagrantBackend, VagrantError};
use argos_cloud::model::names::{EnvName, RunTags};
use argos_cloud::scenario::report::Outcome;
use argos_cloud::scenario::run::{RunOptions, scenario_settings, unique_env_name};
use argos_cloud::scenario::{Scenario, Step};
use argos_cloud::sys::progress::Progress;
use argos_harness::scenarios;

fn shipped(file: &str) -> Scenario {
    scenarios::load(&scenarios::workspace_root().join("scenarios").join(file))
}

/// Vagrant's machine index after pruning: the lines naming `stack`.
fn in_vagrant_index(stack: &str) -> Vec<String> {
    let output = Command::new("vagrant")
        .args(["global-status", "--prune"])
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .output()
        .expect("vagrant runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(stack))
        .map(str::to_owned)
        .collect()
}

async fn passes_on_vagrant(file: &str) {
    passes_on_vagrant_as(shipped(file)).await;
}

async fn passes_on_vagrant_as(scenario: Scenario) {
    passes_on_vagrant_with(scenario, scenarios::options_on(LocalKind::Vagrant)).await;
}

async fn passes_on_vagrant_with(scenario: Scenario, options: RunOptions) {
    if !scenarios::available(LocalKind::Vagrant) {
        return;
    }
    let report = scenarios::run_with(&scenario, &options).await;
    assert_eq!(report.backend, "vagrant");
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
    let env = report.environment.trim_start_matches("argos-");
    let observer = scenarios::observer(&options, &scenario, None);
    assert_eq!(
        observer.labelled(Some(env)).unwrap(),
        [],
        "labelled Docker objects left"
    );
    assert_eq!(
        in_vagrant_index(&report.environment),
        Vec::<String>::new(),
        "machines left in vagrant global-status"
    );
    let folder = options
        .project
        .path(&format!(".argos/vagrant/{}", report.environment));
    assert!(!folder.exists(), "{} is left", folder.display());
}

/// App: the app → database, app → knowledge:3030 and app → knowledge:8080
/// probes run between Vagrant machines.
#[tokio::test]
async fn app_on_vagrant() {
    passes_on_vagrant("app.yaml").await;
}

#[tokio::test]
async fn knowledge_on_vagrant() {
    passes_on_vagrant("knowledge.yaml").await;
}

/// A Galaxy-shaped role's own Molecule scenario, as it is, on Vagrant.
#[tokio::test]
async fn a_molecule_scenario_on_vagrant() {
    let role = scenarios::workspace_root().join("tests/fixtures/galaxy/ansible-role-motd");
    let (scenario, _) = argos_cloud::scenario::load_any(&role).unwrap_or_else(|e| panic!("{e}"));
    // Its Debian 12 image, mapped to the Vagrant provider's Debian 12 image
    // (which has the vagrant user): nothing can be pulled here.
    let mut options = scenarios::options_on(LocalKind::Vagrant);
    options.platform_images = vec![argos_cloud::scenario::platform_image::ImageMapping {
        pattern: scenarios::GALAXY_IMAGE.to_owned(),
        image: argos_cloud::backend::vagrant::VAGRANT_IMAGE.to_owned(),
    }];
    passes_on_vagrant_with(scenario, options).await;
}

fn vagrant_backend(scenario: &Scenario, run: &RunTags) -> VagrantBackend {
    let options = scenarios::options_on(LocalKind::Vagrant);
    VagrantBackend::new(Containers {
        project: options.project.clone(),
        settings: scenario_settings(scenario, &options).unwrap().settings,
        progress: Progress::stderr(),
        run: Some(run.clone()),
        bake_vars: serde_json::Map::new(),
    })
}

/// An image whose SSH user cannot log in: Vagrant would retry until its
/// boot timeout (two minutes); the backend stops at the first refusal.
#[test]
fn a_refused_ssh_key_is_an_error_at_once_not_a_boot_timeout() {
    if !scenarios::available(LocalKind::Vagrant) {
        return;
    }
    let scenario = shipped("database.yaml");
    let env = unique_env_name("vagrantkey");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let mut backend = vagrant_backend(&scenario, &run);
    // argos-host has no vagrant user, so sshd refuses every key for it.
    backend.image = argos_cloud::backend::containers::HOST_IMAGE.into();
    let started = Instant::now();
    let error = backend
        .commission(&env, &scenarios::hosts(&["database"]))
        .unwrap_err();
    let took = started.elapsed();
    backend.decommission(&env).unwrap();
    assert!(
        matches!(&error, VagrantError::SshAuthentication { machine, .. } if machine == "database"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("refused the environment's SSH key"),
        "{error}"
    );
    assert!(
        took < Duration::from_secs(100),
        "took {took:?}: as long as Vagrant's own boot timeout"
    );
    let observer = scenarios::observer(&scenarios::options_on(LocalKind::Vagrant), &scenario, None);
    assert_eq!(observer.labelled(Some(&run.run_id)).unwrap(), []);
}

/// A provider this machine lacks fails the create step by name, and
/// nothing was made.
#[tokio::test]
async fn a_missing_provider_fails_create_and_makes_nothing() {
    if !scenarios::available(LocalKind::Vagrant) {
        return;
    }
    if Command::new("VBoxManage").arg("--version").output().is_ok() {
        argos_harness::skip::missing(
            "a machine without VirtualBox",
            "VirtualBox is installed here, so it is not a missing provider",
        );
        return;
    }
    let mut options = scenarios::options_on(LocalKind::Vagrant);
    options.overrides.flag("vagrant_provider", "virtualbox");
    let report = scenarios::run_with(&shipped("database.yaml"), &options).await;
    let reason = match &report.step(Step::Create).unwrap().outcome {
        Outcome::Failed(reason) => reason.clone(),
        other => panic!("create should fail: {other:?}\n{report}"),
    };
    assert!(
        reason.contains("the Vagrant provider virtualbox is not available here")
            && reason.contains("VBoxManage"),
        "{reason}"
    );
    let env = report.environment.trim_start_matches("argos-");
    let observer = scenarios::observer(&options, &shipped("database.yaml"), None);
    assert_eq!(observer.labelled(Some(env)).unwrap(), []);
    assert!(
        !options
            .project
            .path(&format!(".argos/vagrant/{}", report.environment))
            .exists()
    );
}

/// An operator's Vagrant environment (no run id), destroyed when the test
/// is done with it, whatever happened.
struct OperatorMachines {
    backend: VagrantBackend,
    env: EnvName,
}

impl Drop for OperatorMachines {
    fn drop(&mut self) {
        if let Err(error) = self.backend.decommission(&self.env) {
            eprintln!(
                "could not remove the test's environment {}: {error}",
                self.env
            );
        }
    }
}

/// `scenario run --env dev` on Vagrant while the operator's `dev` exists:
/// refused by name, and `vagrant destroy` never runs on it (it used to:
/// teardown went by the environment's folder, not the run's id).
#[tokio::test]
async fn a_scenario_run_on_an_existing_vagrant_environment_leaves_it_as_it_was() {
    if !scenarios::available(LocalKind::Vagrant) {
        return;
    }
    let scenario = shipped("database.yaml");
    let mut options = scenarios::options_on(LocalKind::Vagrant);
    let env = unique_env_name("vagrantop");
    let operator = OperatorMachines {
        backend: VagrantBackend::new(Containers {
            project: options.project.clone(),
            settings: scenario_settings(&scenario, &options).unwrap().settings,
            progress: Progress::stderr(),
            run: None,
            bake_vars: serde_json::Map::new(),
        }),
        env: env.clone(),
    };
    operator
        .backend
        .commission(&env, &scenarios::hosts(&["database"]))
        .unwrap();
    let before = operator.backend.status(&env).unwrap();
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0].state, "running", "{before:?}");

    options.env = Some(env.clone());
    let report = scenarios::run_with(&scenario, &options).await;
    let after = operator.backend.status(&env).unwrap();
    assert_eq!(
        after
            .iter()
            .map(|h| (&h.name, &h.state))
            .collect::<Vec<_>>(),
        before
            .iter()
            .map(|h| (&h.name, &h.state))
            .collect::<Vec<_>>(),
        "{report}"
    );
    match &report.step(Step::Create).unwrap().outcome {
        Outcome::Failed(reason) => assert!(
            reason.contains(&format!(
                "environment argos-{env} exists already (Vagrant project"
            )),
            "{reason}"
        ),
        other => panic!("create should be refused: {other:?}\n{report}"),
    }
}
