//! A throwaway environment on Docker that tears itself down: on drop (test
//! end, `?`, panic). It carries the harness tags (`argos:run`, and an expiry
//! for `sweep`), and `ARGOS_KEEP=1` keeps a failed one for debugging, printing
//! how to reach it and how to delete it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argos_cloud::deploy::{
    self, AnsiblePlaybook, DeployError, DeployReport, DeployRequest, HostKeys,
};
use argos_cloud::docker::{DockerBackend, DockerError};
use argos_cloud::inventory::{Expect, Inventory};
use argos_cloud::names::{EnvName, Group, RunTags};
use argos_cloud::progress::Progress;
use argos_cloud::project::Project;
use argos_cloud::settings::{self, Overrides};
use serde_json::Map;

/// How long a harness environment may live before `sweep` removes it.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error("settings: {0}")]
    Settings(String),
}

/// A unique, valid environment name: `t-<label>-<id>`.
pub fn unique_env_name(label: &str) -> EnvName {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let id = format!(
        "{:06x}",
        (nanos ^ u128::from(std::process::id()) << 20) & 0xff_ffff
    );
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(12)
        .collect();
    EnvName::new(&format!("t-{label}-{id}")).expect("t-<label>-<hex> is a valid name")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_owned()
}

pub struct DockerEnvironment {
    pub backend: DockerBackend,
    pub env: EnvName,
    groups: Vec<Group>,
    keep_on_failure: bool,
}

impl DockerEnvironment {
    /// Hosts for `groups` on a new network, from the repository's sample settings.
    pub fn create(label: &str, groups: &[Group]) -> Result<Self, EnvironmentError> {
        let project = Project::open(workspace_root())
            .map_err(|e| EnvironmentError::Settings(e.to_string()))?;
        let text = std::fs::read_to_string(project.path(Project::SAMPLE_SETTINGS))
            .map_err(|e| EnvironmentError::Settings(e.to_string()))?;
        let settings = settings::parse(
            Path::new(Project::SAMPLE_SETTINGS),
            &text,
            &Overrides::default(),
        )
        .map_err(|e| EnvironmentError::Settings(e.to_string()))?;
        let env = unique_env_name(label);
        let run = RunTags::new(env.as_str(), TIME_TO_LIVE);
        let backend = DockerBackend {
            project,
            settings,
            progress: Progress::stderr(),
            run: Some(run),
        };
        let environment = Self {
            backend,
            env,
            groups: groups.to_vec(),
            keep_on_failure: std::env::var("ARGOS_KEEP").is_ok_and(|v| v == "1"),
        };
        // Created inside the guard: a half-made environment is torn down too.
        environment.backend.commission(&environment.env, groups)?;
        Ok(environment)
    }

    pub fn inventory(&self) -> Result<Inventory, EnvironmentError> {
        Ok(self
            .backend
            .inventory(&self.env, Expect::groups(&self.groups))?)
    }

    /// Run `roles` with the local backends' stand-ins switched on.
    pub async fn deploy(&self, roles: &[&str]) -> Result<DeployReport, EnvironmentError> {
        let inventory = self.inventory()?;
        let ansible = AnsiblePlaybook::locate(&self.backend.project)?;
        let extra_vars = argos_cloud::docker::with_standins(Map::new());
        let request = DeployRequest {
            project: &self.backend.project,
            inventory: &inventory,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            extra_vars,
            host_keys: HostKeys::Accept,
            log_dir: self.backend.project.path("target/argos-logs"),
            reach_timeout: Duration::from_secs(120),
            progress: self.backend.progress.clone(),
        };
        Ok(deploy::deploy(&ansible, &request).await?)
    }
}

impl Drop for DockerEnvironment {
    fn drop(&mut self) {
        if self.keep_on_failure && std::thread::panicking() {
            let stack = self.backend.names(&self.env).stack();
            eprintln!(
                "ARGOS_KEEP=1: keeping failed environment {stack}.\n  reach a host: ssh -i {} {}@<address> \
                 (addresses: `argos-cloud --backend docker {} status`)\n  delete it:    argos-cloud --backend docker {} decommission",
                self.backend
                    .private_key(&self.backend.names(&self.env))
                    .display(),
                argos_cloud::docker::HOST_USER,
                self.env,
                self.env,
            );
            return;
        }
        if let Err(error) = self.backend.decommission(&self.env) {
            eprintln!(
                "argos-harness: could not remove environment {}: {error}",
                self.env
            );
        }
    }
}
