//! Running scenario files from tests: the repository's sample settings (so
//! a run never depends on a developer's own `all.yml`), logs under `target/`,
//! the backend from `ARGOS_BACKEND`, and SIGINT/SIGTERM (nextest's timeout
//! signal) turned into a clean teardown.

use std::path::{Path, PathBuf};

use argos_cloud::project::Project;
use argos_cloud::scenario::report::ScenarioReport;
use argos_cloud::scenario::run::{self, RunOptions};
use argos_cloud::scenario::{self, Scenario};

pub use crate::workspace_root;

/// The shipped scenario files, sorted.
pub fn shipped() -> Vec<PathBuf> {
    let dir = workspace_root().join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| run::is_scenario_file(path))
        .collect();
    files.sort();
    files
}

/// Options for a test run: sample settings, logs in `target/argos-logs`.
pub fn options() -> RunOptions {
    let project = Project::open(workspace_root()).expect("the workspace is a project");
    let mut options = RunOptions::new(project.clone(), PathBuf::from(Project::SAMPLE_SETTINGS));
    options.log_dir = project.path("target/argos-logs");
    options.keep_on_failure = std::env::var("ARGOS_KEEP").is_ok_and(|v| v == "1");
    options
}

/// The backend tests run on: `ARGOS_BACKEND`, docker by default. Only
/// docker is built; anything else is a failure, never a silent pass.
pub fn backend() -> String {
    let backend = std::env::var("ARGOS_BACKEND").unwrap_or_else(|_| "docker".into());
    assert_eq!(
        backend, "docker",
        "ARGOS_BACKEND={backend}: scenarios run on docker today; vagrant and aws arrive with issue #7"
    );
    backend
}

/// Docker must be here; under CI its absence is a failure, not a skip.
pub fn docker_available() -> bool {
    let ok = std::process::Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have a running Docker engine"
        );
        eprintln!("SKIPPED: Docker is not available here (docker info failed)");
    }
    ok
}

pub fn load(path: &Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `scenario` with `options`; a signal tears it down and fails the test.
pub async fn run_with(scenario: &Scenario, options: &RunOptions) -> ScenarioReport {
    match run::until_signal(run::run(scenario, options)).await {
        Ok(Ok(report)) => {
            // The step table goes to the test's output, and so into JUnit.
            println!("{report}");
            report
        }
        Ok(Err(error)) => panic!("scenario {} could not start: {error}", scenario.name),
        Err(signal) => panic!(
            "scenario {} interrupted by {signal}; its environment was removed",
            scenario.name
        ),
    }
}
