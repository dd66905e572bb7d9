//! What a scenario run is given: where it runs, the settings it starts
//! from (the scenario's own `settings:` on top, each naming its line), how
//! long it may live, and the errors found before anything is made.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Scenario;
use super::dev_loop::LoopCommand;
use super::platform_image::ImageMapping;
use crate::backend::choose::{BackendChoice, LocalKind};
use crate::converge::deploy;
use crate::model::names::EnvName;
use crate::model::project::Project;
use crate::model::settings::{self, Origin, Overrides, Settings};
use crate::sys::progress::Progress;

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
    /// Platform images the user maps to others (`--platform-image`).
    pub platform_images: Vec<ImageMapping>,
    /// A command of the development loop on the scenario's kept
    /// environment, instead of a whole throwaway run.
    pub loop_command: Option<LoopCommand>,
    /// Run the platforms that say `privileged: true` privileged.
    pub privileged: bool,
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
            platform_images: Vec::new(),
            loop_command: None,
            privileged: false,
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
    let label = crate::model::names::label_of(label);
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
