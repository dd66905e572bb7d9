//! `argos-cloud scenario run|check|schema`: the roles harness without cargo.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argos_cloud::backend::choose::{BackendChoice, LocalKind};
use argos_cloud::cli::{BackendKind, Cli, MessageFormat, RunArgs, ScenarioAction};
use argos_cloud::model::names::EnvName;
use argos_cloud::model::project::Project;
use argos_cloud::scenario::report::ScenarioReport;
use argos_cloud::scenario::{self, Scenario, matrix, run};

use crate::overrides;

pub fn command(cli: &Cli, action: &ScenarioAction) -> Result<ExitCode, String> {
    match action {
        ScenarioAction::Schema => {
            print!("{}", scenario::schema::json());
            Ok(ExitCode::SUCCESS)
        }
        ScenarioAction::Import { path } => {
            let (scenario, notes) = scenario::import(path).map_err(|e| e.to_string())?;
            say_notes(&scenario.name, &notes);
            print!("{}", scenario::molecule::to_yaml(&scenario));
            Ok(ExitCode::SUCCESS)
        }
        ScenarioAction::Check { files } => {
            // Every file is checked; all problems are shown at once.
            let project = Project::open(&cli.root).ok();
            let mut problems = Vec::new();
            for file in files {
                let fits = |s: &scenario::Scenario| match &project {
                    Some(project) => run::check_fits(
                        s,
                        &run::RunOptions::new(project.clone(), run::default_settings_file(project)),
                    )
                    .map_err(|e| e.to_string()),
                    None => Ok(()),
                };
                match scenario::load_any(file)
                    .map_err(|e| e.to_string())
                    .and_then(|(s, notes)| {
                        fits(&s)?;
                        Ok((s, notes))
                    }) {
                    Ok((s, notes)) => {
                        say_notes(&s.name, &notes);
                        println!(
                            "ok: {} ({} steps, role {})",
                            file.display(),
                            s.steps().len(),
                            s.role
                        );
                    }
                    Err(e) => problems.push(e),
                }
            }
            if problems.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(problems.join("\n"))
            }
        }
        ScenarioAction::Run { files, run } => {
            let project = Project::open(&cli.root).map_err(|e| e.to_string())?;
            let scenarios = load_all(files, run)?;
            run_scenarios(cli, backend(cli, cli.backend), &project, &scenarios, run)
        }
    }
}

/// Where `kind` runs a scenario: an AWS emulator gets stand-in hosts where
/// Docker runs, unless `--no-data-plane`.
pub fn backend(cli: &Cli, kind: BackendKind) -> BackendChoice {
    match kind {
        BackendKind::Docker => BackendChoice::Local(LocalKind::Docker),
        BackendKind::Vagrant => BackendChoice::Local(LocalKind::Vagrant),
        BackendKind::Aws => BackendChoice::Aws {
            endpoint: cli.endpoint.clone(),
            data_plane: cli.data_plane_choice().unwrap_or_else(|| {
                cli.endpoint
                    .as_deref()
                    .is_some_and(argos_cloud::backend::aws::is_loopback)
                    && docker_runs()
            }),
        },
    }
}

/// Every file read and checked before anything is created: once, or once
/// per combination of `--matrix`.
pub fn load_all(files: &[PathBuf], run: &RunArgs) -> Result<Vec<Scenario>, String> {
    let combinations = matrix::combinations(&run.matrix)?;
    let mut scenarios = Vec::new();
    for file in files {
        for combination in &combinations {
            let (scenario, notes) =
                scenario::load_any_with(file, combination).map_err(|e| e.to_string())?;
            say_notes(&scenario.name, &notes);
            scenarios.push(scenario);
        }
    }
    Ok(scenarios)
}

/// Run `scenarios` on `backend`, `run.jobs` side by side, each on an
/// environment of its own; the reports in order, then one summary.
pub fn run_scenarios(
    cli: &Cli,
    backend: BackendChoice,
    project: &Project,
    scenarios: &[Scenario],
    run: &RunArgs,
) -> Result<ExitCode, String> {
    let mut options = run::RunOptions::new(
        project.clone(),
        run.settings
            .clone()
            .unwrap_or_else(|| run::default_settings_file(project)),
    );
    options.backend = backend;
    if let Some(env) = &run.env {
        if scenarios.len() != 1 {
            return Err(format!(
                "--env {env} names one environment, so it takes one scenario, not {}",
                scenarios.len()
            ));
        }
        options.env = Some(EnvName::new(env).map_err(|e| format!("--env: {e}"))?);
    }
    options.overrides = overrides(cli)?;
    options.progress = cli.progress();
    options.keep_on_failure = run.keep;
    options.time_to_live = Duration::from_secs(run.ttl);
    options.platform_images = run.platform_images.clone();
    options.privileged = run.privileged;
    let outcomes = run_side_by_side(scenarios, &options, usize::from(run.jobs));
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut interrupted = None;
    for (scenario, outcome) in scenarios.iter().zip(outcomes) {
        match outcome {
            None => {}
            Some(Err(signal)) => interrupted = Some(signal),
            Some(Ok(Err(error))) => errors.push(format!("scenario {}: {error}", scenario.name)),
            Some(Ok(Ok(report))) => {
                // With JSON messages, the steps were events already.
                if cli.message_format == MessageFormat::Human {
                    print!("{report}");
                }
                if !report.passed() {
                    failed.push(scenario.name.clone());
                }
                reports.push(report);
            }
        }
    }
    if let Some(path) = &run.junit {
        std::fs::write(path, scenario::report::junit(&reports))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(signal) = interrupted {
        eprintln!(
            "argos-cloud: interrupted by {signal}; the environments of the runs were removed"
        );
        return Ok(ExitCode::from(130));
    }
    if scenarios.len() > 1 && cli.message_format == MessageFormat::Human {
        println!("{}", summary(&reports, &errors));
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!("scenario(s) failed: {}", failed.join(", ")))
    }
}

type RunOutcome = Result<Result<ScenarioReport, run::RunError>, &'static str>;

/// Each scenario run on a thread of its own (`jobs` at a time), with its
/// own runtime: much of a run waits synchronously on Docker, and one run's
/// wait must not hold up another's. The outcomes in the scenarios' order;
/// None for one never started because a signal came first.
fn run_side_by_side(
    scenarios: &[Scenario],
    options: &run::RunOptions,
    jobs: usize,
) -> Vec<Option<RunOutcome>> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<RunOutcome>>> =
        Mutex::new(scenarios.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, scenarios.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(scenario) = scenarios.get(index) else {
                        return;
                    };
                    if argos_cloud::sys::signal::received().is_some() {
                        return;
                    }
                    let outcome = match tokio::runtime::Runtime::new() {
                        Ok(runtime) => runtime.block_on(argos_cloud::sys::signal::until_signal(
                            run::run(scenario, options),
                        )),
                        Err(e) => Ok(Err(run::RunError::Backend(format!(
                            "starting the run's runtime: {e}"
                        )))),
                    };
                    outcomes.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(outcome);
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// One line per run and the totals: what several runs come to.
fn summary(reports: &[ScenarioReport], errors: &[String]) -> String {
    let passed = reports.iter().filter(|r| r.passed()).count();
    let mut text = String::from("summary:\n");
    for report in reports {
        text.push_str(&format!(
            "  {:<7} {} ({}) in {:.1} s\n",
            if report.passed() { "passed" } else { "FAILED" },
            report.scenario,
            report.backend,
            report.total().as_secs_f64()
        ));
    }
    for error in errors {
        text.push_str(&format!(
            "  ERROR   {}\n",
            error.lines().next().unwrap_or_default()
        ));
    }
    text.push_str(&format!(
        "{passed} passed, {} failed, {} could not start",
        reports.len() - passed,
        errors.len()
    ));
    text
}

/// What reading a Molecule scenario changed or ignored, once each.
pub fn say_notes(scenario: &str, notes: &[String]) {
    for note in notes {
        eprintln!("scenario {scenario}: {note}");
    }
}

/// Whether Docker's engine answers here: an emulator's scenario runs get
/// stand-in hosts by default where it does.
fn docker_runs() -> bool {
    argos_cloud::sys::process::succeeds("docker", &["info"])
}
