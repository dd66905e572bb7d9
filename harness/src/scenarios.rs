//! Running scenario files from tests: the repository's sample settings (so
//! a run never depends on a developer's own `all.yml`), logs under `target/`,
//! the backend from `ARGOS_BACKEND`, and SIGINT/SIGTERM (nextest's timeout
//! signal) turned into a clean teardown.

use std::path::{Path, PathBuf};

use argos_cloud::backend::Backend;
use argos_cloud::backend::choose::{BackendChoice, LocalKind};
use argos_cloud::model::names::RunTags;
use argos_cloud::model::project::Project;
use argos_cloud::scenario::report::{Outcome, ScenarioReport};
use argos_cloud::scenario::run::{self, RunOptions};
use argos_cloud::scenario::{self, Scenario};
use argos_cloud::sys::process::succeeds;
use argos_cloud::sys::progress::Progress;

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

/// Options for a test run on [`backend()`]: sample settings, logs in
/// `target/argos-logs`.
pub fn options() -> RunOptions {
    options_on(backend())
}

/// Options for a test run on `kind`, whatever `ARGOS_BACKEND` says.
pub fn options_on(kind: LocalKind) -> RunOptions {
    let project = Project::open(workspace_root()).expect("the workspace is a project");
    let mut options = RunOptions::new(project.clone(), PathBuf::from(Project::SAMPLE_SETTINGS));
    options.backend = BackendChoice::Local(kind);
    options.log_dir = project.path("target/argos-logs");
    options.keep_on_failure = std::env::var("ARGOS_KEEP").is_ok_and(|v| v == "1");
    options
}

/// The image the Galaxy fixtures name (with `MOLECULE_DISTRO` unset).
pub const GALAXY_IMAGE: &str = "geerlingguy/docker-debian12-ansible:latest";

/// Nothing can be pulled where the tests run: the fixtures' Debian 12 image
/// mapped to the project's Debian 12 host image, as a user maps it (the
/// report then names the image that ran).
pub fn galaxy_image_mapped() -> argos_cloud::scenario::platform_image::ImageMapping {
    argos_cloud::scenario::platform_image::ImageMapping {
        pattern: GALAXY_IMAGE.to_owned(),
        image: argos_cloud::backend::containers::HOST_IMAGE.to_owned(),
    }
}

/// The backend tests run on: `ARGOS_BACKEND`, docker by default. A backend
/// the suite cannot run on is a failure, never a silent pass.
pub fn backend() -> LocalKind {
    let name = std::env::var("ARGOS_BACKEND").unwrap_or_else(|_| "docker".into());
    LocalKind::parse(&name).unwrap_or_else(|| {
        panic!("ARGOS_BACKEND={name}: the roles suite runs on docker or vagrant")
    })
}

/// The backend of `options`, for looking at (or removing) what a run made.
pub fn observer(
    options: &RunOptions,
    scenario: &Scenario,
    run: Option<RunTags>,
) -> Box<dyn Backend> {
    let settings = run::scenario_settings(scenario, options)
        .unwrap_or_else(|e| panic!("{e}"))
        .settings;
    let env = run::unique_env_name("observer");
    options
        .backend
        .build(
            options.project.clone(),
            settings,
            &env,
            Progress::stderr(),
            run,
            Default::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether `kind` can run here: Docker's engine, and for vagrant the
/// vagrant command too; and the Python tools a run needs (Ansible), which
/// are installed into the project's venv if they are not there yet. Under
/// CI an absence is a failure, not a skip.
pub fn available(kind: LocalKind) -> bool {
    let mut missing = Vec::new();
    let tools = crate::tools::ensure_venv();
    if let Err(error) = &tools {
        missing.push(error.to_string());
    }
    if !succeeds("docker", &["info"]) {
        missing.push("Docker is not available (docker info failed)".into());
    }
    if kind == LocalKind::Vagrant && !succeeds("vagrant", &["--version"]) {
        missing.push("Vagrant is not installed (vagrant --version failed)".into());
    }
    if missing.is_empty() {
        return true;
    }
    crate::skip::missing(
        &format!("what the {} backend needs", kind.as_str()),
        missing.join("; "),
    );
    false
}

/// [`available`] for the suite's backend.
pub fn backend_available() -> bool {
    available(backend())
}

pub fn load(path: &Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `scenario` with `options`; a signal tears it down and fails the test.
pub async fn run_with(scenario: &Scenario, options: &RunOptions) -> ScenarioReport {
    match argos_cloud::sys::signal::until_signal(run::run(scenario, options)).await {
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

/// Whether every step of `scenario` ran and passed; the first that did not,
/// with its outcome, when not.
pub fn every_step_passed(scenario: &Scenario, report: &ScenarioReport) -> Result<(), String> {
    for step in &scenario.steps() {
        match report.step(*step).map(|s| &s.outcome) {
            Some(Outcome::Passed(_)) => {}
            Some(other) => return Err(format!("{step}: {other:?}\n{report}")),
            None => return Err(format!("{step} was not reported\n{report}")),
        }
    }
    Ok(())
}

/// [`every_step_passed`], as an assertion.
pub fn assert_every_step_passed(scenario: &Scenario, report: &ScenarioReport) {
    if let Err(problem) = every_step_passed(scenario, report) {
        panic!("{problem}");
    }
}

/// One host per group, named after it, as a scenario's `groups` makes them.
pub fn hosts(groups: &[&str]) -> Vec<argos_cloud::backend::HostSpec> {
    let topology = argos_cloud::model::topology::Topology::default();
    groups
        .iter()
        .map(|g| {
            let group = argos_cloud::model::names::Group::new(g).expect("a group name");
            argos_cloud::backend::HostSpec::for_group(&group, &topology)
        })
        .collect()
}

/// `docker ARGS`: its output, trimmed, or its error output. For tests
/// that look at what the engine made, or remove what they made themselves.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("docker {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
