//! `argos-cloud scenario run|check|schema`: the roles harness without cargo.

use std::process::ExitCode;
use std::time::Duration;

use argos_cloud::backend::choose::{BackendChoice, LocalKind};
use argos_cloud::cli::{BackendKind, Cli, MessageFormat, ScenarioAction};
use argos_cloud::model::names::EnvName;
use argos_cloud::model::project::Project;
use argos_cloud::scenario::{self, run};

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
        ScenarioAction::Run {
            files,
            keep,
            junit,
            ttl,
            settings,
            env,
        } => {
            let backend = match cli.backend {
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
            };
            let project = Project::open(&cli.root).map_err(|e| e.to_string())?;
            // Every file is read and checked before anything is created.
            let scenarios = files
                .iter()
                .map(|f| {
                    let (scenario, notes) = scenario::load_any(f).map_err(|e| e.to_string())?;
                    say_notes(&scenario.name, &notes);
                    Ok(scenario)
                })
                .collect::<Result<Vec<_>, String>>()?;
            let mut options = run::RunOptions::new(
                project.clone(),
                settings
                    .clone()
                    .unwrap_or_else(|| run::default_settings_file(&project)),
            );
            options.backend = backend;
            if let Some(env) = env {
                if files.len() != 1 {
                    return Err(format!(
                        "--env {env} names one environment, so it takes one scenario file, not {}",
                        files.len()
                    ));
                }
                options.env = Some(EnvName::new(env).map_err(|e| format!("--env: {e}"))?);
            }
            options.overrides = overrides(cli)?;
            options.progress = cli.progress();
            options.keep_on_failure = *keep;
            options.time_to_live = Duration::from_secs(*ttl);
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let mut failed = Vec::new();
            let mut reports = Vec::new();
            for scenario in &scenarios {
                let outcome = runtime.block_on(argos_cloud::sys::signal::until_signal(run::run(
                    scenario, &options,
                )));
                match outcome {
                    Err(signal) => {
                        eprintln!(
                            "argos-cloud: scenario {} interrupted by {signal}; its environment was removed",
                            scenario.name
                        );
                        return Ok(ExitCode::from(130));
                    }
                    Ok(Err(error)) => return Err(format!("scenario {}: {error}", scenario.name)),
                    Ok(Ok(report)) => {
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
            if let Some(path) = junit {
                std::fs::write(path, scenario::report::junit(&reports))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if failed.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!("scenario(s) failed: {}", failed.join(", ")))
            }
        }
    }
}

/// What reading a Molecule scenario changed or ignored, once each.
fn say_notes(scenario: &str, notes: &[String]) {
    for note in notes {
        eprintln!("scenario {scenario}: {note}");
    }
}

/// Whether Docker's engine answers here: an emulator's scenario runs get
/// stand-in hosts by default where it does.
fn docker_runs() -> bool {
    argos_cloud::sys::process::succeeds("docker", &["info"])
}
