//! Running a scenario: the steps (each in `steps.rs`) in order on a
//! throwaway environment held by an [`EnvironmentGuard`], each timed; after
//! a failed step only `destroy` runs. Problems found before anything exists
//! (settings, the role, Ansible, Docker) are errors; what happens after is
//! the report.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::guard::EnvironmentGuard;
use super::report::{Outcome, ScenarioReport, StepReport};
use super::run_plan::RunPlan;
use super::steps::Steps;
use super::{Scenario, Step};
use crate::backends::{BackendChoice, LocalKind};
use crate::deploy::{self, AnsiblePlaybook, RunKnownHosts};
use crate::names::{EnvName, RunTags};
use crate::progress::Progress;
use crate::project::Project;
use crate::settings::{self, Origin, Overrides, Settings};

/// How long a harness environment may live before any sweep removes it.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub project: Project,
    /// Where the environment's hosts run.
    pub backend: BackendChoice,
    /// The settings file the scenario starts from (the sample, for tests).
    pub settings_file: PathBuf,
    /// The caller's overrides; the scenario's `settings` go on top.
    pub overrides: Overrides,
    /// Keep a failed environment and say how to reach it.
    pub keep_on_failure: bool,
    pub time_to_live: Duration,
    /// How long one probe may keep failing before it counts as failed.
    pub probe_deadline: Duration,
    /// How long a new host may take to answer SSH.
    pub reach_timeout: Duration,
    pub log_dir: PathBuf,
    pub progress: Progress,
    /// The environment's name; default `t-<scenario>-<id>`.
    pub env: Option<EnvName>,
}

impl RunOptions {
    pub fn new(project: Project, settings_file: PathBuf) -> Self {
        let log_dir = project.path(".argos/logs");
        Self {
            project,
            backend: BackendChoice::Local(LocalKind::Docker),
            settings_file,
            overrides: Overrides::default(),
            keep_on_failure: false,
            time_to_live: TIME_TO_LIVE,
            probe_deadline: Duration::from_secs(30),
            reach_timeout: Duration::from_secs(120),
            log_dir,
            progress: Progress::stderr(),
            env: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Each error names its own file and line (the settings file, a
    /// variable, the scenario's `settings:`).
    #[error("{errors}")]
    Settings { errors: settings::SettingsErrors },
    #[error(transparent)]
    Deploy(#[from] deploy::DeployError),
    /// The scenario does not fit the project (its role, its groups), said
    /// before anything is made.
    #[error("{}: {message}", file.display())]
    Scenario { file: PathBuf, message: String },
    #[error("{0}")]
    Backend(String),
}

/// A unique, valid environment name: `t-<label>-<id>`, the label made of
/// the first 12 letters and digits of `label` (lowercased), `x` if it has none.
pub fn unique_env_name(label: &str) -> EnvName {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let id = format!(
        "{:06x}",
        (nanos ^ (u128::from(std::process::id()) << 20)) & 0xff_ffff
    );
    let mut label: String = label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(12)
        .collect();
    if label.is_empty() {
        label.push('x');
    }
    EnvName::new(&format!("t-{label}-{id}")).expect("t-<label>-<hex> is a valid name")
}

/// What a scenario runs with: the settings file, the caller's overrides,
/// then the scenario's own.
pub struct ScenarioSettings {
    pub settings: Settings,
    pub overrides: Overrides,
    /// The settings file's values as Ansible variables: Ansible must see the
    /// file the run was checked against, not whatever `group_vars/all.yml` holds.
    pub file_vars: serde_json::Map<String, serde_json::Value>,
}

pub fn scenario_settings(
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<ScenarioSettings, RunError> {
    let file = options
        .project
        .path(&options.settings_file.to_string_lossy());
    let mut overrides = options.overrides.clone();
    for (key, value) in &scenario.settings {
        // Errors about the value name the scenario's line, not a flag.
        overrides.set_from(
            key,
            value,
            Origin::Scenario {
                path: scenario.file.clone(),
                line: scenario.settings_lines.get(key).copied(),
            },
        );
    }
    let (settings, file_vars) = settings::read_with_vars(&file, &overrides)
        .map_err(|e| RunError::Settings { errors: e })?;
    Ok(ScenarioSettings {
        settings,
        overrides,
        file_vars,
    })
}

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
    let env = options
        .env
        .clone()
        .unwrap_or_else(|| unique_env_name(&scenario.name));
    let run = RunTags::new(env.as_str(), options.time_to_live);
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
    let steps_run = scenario.steps();
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
    let mut guard = EnvironmentGuard::new(backend, env, &run, options.keep_on_failure);
    let stack = guard.backend().names(guard.env()).stack();
    let mut report = ScenarioReport {
        scenario: scenario.name.clone(),
        backend: guard.backend().kind().into(),
        environment: stack.clone(),
        steps: Vec::new(),
    };
    let extra_vars = guard.backend().ansible_vars(extra_vars);
    // New hosts: their keys are learnt on first contact and checked after.
    let mut known_hosts = RunKnownHosts::new(&options.project, &stack);
    let topology = guard.backend().settings().topology.clone();
    let steps = Steps {
        scenario,
        options,
        extra_vars,
        ansible: ansible.as_ref(),
        host_keys: known_hosts.host_keys(),
        topology: &topology,
        plan: &plan,
    };
    let mut failed = false;
    for step in &steps_run {
        let started = Instant::now();
        let outcome = if failed && *step != Step::Destroy {
            Outcome::Skipped("an earlier step failed".into())
        } else {
            options
                .progress
                .say(format!("scenario {}: {step} ({stack})", scenario.name));
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
                Step::Verify => steps.verify(&guard).await,
                Step::Destroy if guard.keeps() => Outcome::Skipped(guard.keep()),
                Step::Destroy => steps.destroy(&mut guard),
            }
        };
        if crate::signal::received().is_some() {
            // A signal cut the step short: no more steps; the guard, dropped
            // below, removes the environment.
            break;
        }
        if let Outcome::Failed(reason) = &outcome {
            options.progress.say(format!(
                "scenario {}: {step} FAILED: {reason}",
                scenario.name
            ));
            failed = true;
            guard.mark_failed();
        }
        report.steps.push(StepReport {
            step: *step,
            duration: started.elapsed(),
            outcome,
        });
    }
    if guard.keeps() {
        known_hosts.keep();
    }
    // A scenario without a destroy step still leaves nothing: the guard goes now.
    drop(guard);
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
