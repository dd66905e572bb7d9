//! Running a scenario: the steps (each in `steps.rs`) in order on a
//! throwaway environment held by an [`EnvironmentGuard`], each timed; after
//! a failed step only `destroy` runs. Problems found before anything exists
//! (settings, the role, Ansible, Docker) are errors; what happens after is
//! the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::guard::EnvironmentGuard;
pub use super::options::{
    RunError, RunOptions, ScenarioSettings, TIME_TO_LIVE, scenario_settings, unique_env_name,
};
use super::report::{Outcome, ScenarioReport, StepReport};
use super::run_plan::RunPlan;
use super::steps::Steps;
use super::{Scenario, Step};
use super::{dev_loop, platform_image};
use crate::backend::choose::BackendChoice;
use crate::converge::deploy::{self, AnsiblePlaybook, RunKnownHosts, SshMasters};
use crate::model::names::RunTags;
use crate::model::project::Project;
use crate::sys::progress::Event;

/// Whether `scenario` fits the project: its role is found, its playbooks
/// and requirements exist. What `run` checks before making anything.
pub fn check_fits(scenario: &Scenario, options: &RunOptions) -> Result<(), RunError> {
    let ScenarioSettings { settings, .. } = scenario_settings(scenario, options)?;
    RunPlan::new(scenario, options, &settings.topology).map(drop)
}

/// Run `scenario` on the options' backend. Everything it makes is gone when
/// this returns (or is dropped), unless keep-on-failure kept a failed
/// environment.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<ScenarioReport, RunError> {
    let ScenarioSettings { settings, .. } = scenario_settings(scenario, options)?;
    let plan = RunPlan::new(scenario, options, &settings.topology)?;
    let env = match (&options.env, options.loop_command) {
        (Some(env), _) => env.clone(),
        (None, Some(_)) => dev_loop::kept_env_name(scenario),
        (None, None) => unique_env_name(&scenario.name),
    };
    let run = match options.loop_command {
        Some(_) => RunTags::kept(env.as_str(), dev_loop::kept_folder(scenario)),
        None => RunTags::new(env.as_str(), options.time_to_live),
    };
    // The checked file and every override: Ansible must see what was checked.
    let extra_vars = settings.vars();
    let backend = options
        .backend
        .build(
            options.project.clone(),
            settings,
            &env,
            options.progress.clone(),
            Some(run.clone()),
            extra_vars.clone(),
        )
        .map_err(RunError::Backend)?;
    if backend.kind() == "aws" {
        RunPlan::check_on_aws(scenario, &backend.settings().topology)?;
    }
    // The loop's steps depend on whether its kept environment stands.
    let (steps_run, stands) = match options.loop_command {
        None => (scenario.steps(), false),
        Some(command) => {
            let stands = backend
                .existing(&env)
                .map_err(|e| RunError::Backend(e.to_string()))?
                .is_some();
            let steps = dev_loop::steps(command, scenario, stands).map_err(|message| {
                RunError::Scenario {
                    file: scenario.file.clone(),
                    message,
                }
            })?;
            (steps, stands)
        }
    };
    // The platforms' images are found (or pulled) before anything is made,
    // and the hosts run the images found. Only a run that makes hosts needs them.
    let images = match options.backend {
        BackendChoice::Local(_) if steps_run.contains(&Step::Create) => {
            platform_image::resolve(&scenario.hosts, &options.platform_images, &options.progress)
                .map_err(|e| RunError::Scenario {
                    file: scenario.file.clone(),
                    message: e.to_string(),
                })?
        }
        _ => Vec::new(),
    };
    // Privileged only when the platform says so and the user asks.
    let privileged: Vec<String> = if options.privileged && steps_run.contains(&Step::Create) {
        scenario
            .hosts
            .iter()
            .filter(|h| h.privileged)
            .map(|h| h.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let as_run;
    let scenario = if images.is_empty() && privileged.is_empty() {
        scenario
    } else {
        let mut copy = scenario.clone();
        platform_image::apply(&mut copy.hosts, &images);
        for host in copy
            .hosts
            .iter_mut()
            .filter(|h| privileged.contains(&h.name))
        {
            host.docker_args.push("--privileged".to_owned());
        }
        as_run = copy;
        &as_run
    };
    // Without a data plane the converge steps are skipped: no Ansible needed.
    let uses_ansible = steps_run.iter().any(|s| {
        matches!(
            s,
            Step::Dependency | Step::Prepare | Step::Converge | Step::SideEffect
        )
    }) || scenario.playbooks.verify.is_some();
    let ansible = if uses_ansible && backend.data_plane().is_ok() {
        Some(AnsiblePlaybook::locate(&options.project)?)
    } else {
        None
    };
    if let Some(ansible) = &ansible {
        platform_image::check_docker_connection(&images, ansible.program()).map_err(|e| {
            RunError::Scenario {
                file: scenario.file.clone(),
                message: e.to_string(),
            }
        })?;
        // `ansible_strategy: mitogen` where Mitogen cannot run fails here,
        // before anything is made (`auto` falls back, saying why).
        deploy::resolve_strategy(backend.settings().ansible_strategy, ansible)
            .map_err(deploy::DeployError::from)?;
    }
    let mut guard = if options.loop_command.is_some() {
        EnvironmentGuard::kept(backend, env, &run)
    } else {
        EnvironmentGuard::new(backend, env, &run, options.keep_on_failure)
    };
    if stands {
        guard.adopt().map_err(RunError::Backend)?;
    }
    let stack = guard.backend().names(guard.env()).stack();
    let mut report = ScenarioReport {
        scenario: scenario.name.clone(),
        backend: guard.backend().kind().into(),
        environment: stack.clone(),
        images: images
            .iter()
            .map(ToString::to_string)
            .chain(
                privileged
                    .iter()
                    .map(|host| format!("{host} runs privileged (--privileged)")),
            )
            .collect(),
        steps: Vec::new(),
    };
    let extra_vars = crate::profile::argos::ansible_vars(guard.backend().stands_in(), extra_vars);
    // New hosts: their keys are learnt on first contact and checked after.
    // A kept environment's hosts keep the keys they showed before.
    let mut known_hosts = if guard.is_kept() {
        RunKnownHosts::kept(&options.project, &stack)
    } else {
        RunKnownHosts::new(&options.project, &stack)
    };
    let topology = guard.backend().settings().topology.clone();
    let steps = Steps {
        scenario,
        options,
        extra_vars,
        ansible: ansible.as_ref(),
        host_keys: known_hosts.host_keys(),
        topology: &topology,
        plan: &plan,
        interpreters: Default::default(),
        masters: SshMasters::new(&stack).map_err(deploy::DeployError::from)?,
    };
    let mut failed = false;
    for step in &steps_run {
        let started = Instant::now();
        let mut checks = Vec::new();
        let outcome = if failed && *step != Step::Destroy {
            Outcome::Skipped("an earlier step failed".into())
        } else {
            options.progress.emit(Event::StepStarted {
                scenario: scenario.name.clone(),
                step: step.to_string(),
                stack: stack.to_string(),
            });
            match step {
                Step::Dependency => steps.dependency(),
                Step::Create => steps.create(&mut guard),
                Step::Prepare | Step::Converge | Step::Idempotence | Step::SideEffect
                    if let Err(reason) = guard.backend().data_plane() =>
                {
                    Outcome::Skipped(reason)
                }
                Step::Prepare => {
                    steps
                        .playbook(&guard, "prepare", scenario.playbooks.prepare.as_deref())
                        .await
                }
                Step::Converge => steps.converge(&guard).await,
                Step::Idempotence => steps.idempotence(&guard).await,
                Step::SideEffect => {
                    steps
                        .playbook(
                            &guard,
                            "side_effect",
                            scenario.playbooks.side_effect.as_deref(),
                        )
                        .await
                }
                Step::Verify => {
                    let (outcome, tests) = steps.verify(&guard).await;
                    checks = tests;
                    outcome
                }
                Step::Destroy if guard.keeps() && !guard.is_kept() => {
                    Outcome::Skipped(guard.keep())
                }
                Step::Destroy => steps.destroy(&mut guard),
            }
        };
        if crate::sys::signal::received().is_some() {
            // A signal cut the step short: no more steps; the guard, dropped
            // below, removes the environment.
            break;
        }
        if let Outcome::Failed(reason) = &outcome {
            options.progress.emit(Event::StepFailed {
                scenario: scenario.name.clone(),
                step: step.to_string(),
                reason: reason.clone(),
            });
            failed = true;
            guard.mark_failed();
        }
        let (kind, detail) = match &outcome {
            Outcome::Passed(detail) => ("passed", detail),
            Outcome::Failed(reason) => ("failed", reason),
            Outcome::Skipped(reason) => ("skipped", reason),
        };
        options.progress.emit(Event::StepFinished {
            scenario: scenario.name.clone(),
            step: step.to_string(),
            outcome: kind.to_owned(),
            detail: detail.clone(),
            seconds: started.elapsed().as_secs_f64(),
        });
        report.steps.push(StepReport {
            step: *step,
            duration: started.elapsed(),
            outcome,
            checks,
        });
    }
    if guard.keeps() {
        known_hosts.keep();
    } else {
        known_hosts.forget();
    }
    // A scenario without a destroy step still leaves nothing: the guard goes now.
    drop(guard);
    options.progress.emit(Event::ScenarioFinished {
        scenario: scenario.name.clone(),
        passed: report.passed(),
        seconds: report.steps.iter().map(|s| s.duration.as_secs_f64()).sum(),
    });
    Ok(report)
}

/// The settings file a scenario run starts from when none is named.
pub fn default_settings_file(project: &Project) -> PathBuf {
    let own = project.path(Project::SETTINGS);
    if own.is_file() {
        PathBuf::from(Project::SETTINGS)
    } else {
        PathBuf::from(Project::SAMPLE_SETTINGS)
    }
}

/// Whether `path` looks like a scenario file (`*.yaml` outside hidden folders).
pub fn is_scenario_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml")
}
