//! The interface the scenario runner, the environment guard and the CLI use
//! for a backend that makes hosts: Docker containers, Vagrant machines, or
//! an AWS environment. Everything a backend makes carries the same tags
//! (the four tags and the harness tags), so finding, checking and sweeping
//! work alike on all of them. This module names no backend: they implement
//! it, and [`crate::backend::choose`] chooses one.
//!
//! The methods are synchronous on purpose: the guard's `Drop` must be able
//! to tear an environment down without a runtime.

use std::time::SystemTime;

pub mod aws;
pub mod choose;
pub mod containers;
pub mod docker;
mod objects;
pub mod vagrant;

pub use objects::{Labelled, NotRemoved, SweepReport};

use crate::converge::inventory::{Expect, Inventory};
use crate::model::names::{EnvName, EnvNames, Group};
use crate::model::settings::Settings;
use crate::model::topology::Topology;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// What the backend said went wrong (a `DockerError`, a `VagrantError`,
    /// an AWS `EngineError`), as it says it.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
    #[error("stopped by {signal}")]
    Interrupted { signal: &'static str },
}

/// One host a local backend makes. Scenarios declare them (`hosts:`), or
/// get one per group ([`HostSpec::for_group`]); on AWS the formations
/// decide instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// The host's own name, the last part of its `Name` (`<app>-<env>-<name>`)
    /// and its hostname: lowercase letters, digits and hyphens.
    pub name: String,
    /// Its `Group` tag.
    pub group: Group,
    /// Further Ansible groups it is in.
    pub groups: Vec<Group>,
    /// The image it runs; default the project's systemd host image.
    pub image: Option<String>,
    /// A Vagrant machine's memory, MiB.
    pub memory_mb: u32,
    /// Ports published on loopback, as `docker run -p` takes them
    /// (`127.0.0.1:8080:80`); Docker and Vagrant's docker provider.
    pub published_ports: Vec<String>,
    /// Further `docker run` arguments (`--tmpfs /var/cache`, `-e KEY=VALUE`).
    pub docker_args: Vec<String>,
}

impl HostSpec {
    /// The one host of `group`, named after it, sized by the topology.
    pub fn for_group(group: &Group, topology: &Topology) -> Self {
        Self {
            name: group.as_str().replace('_', "-"),
            group: group.clone(),
            groups: Vec::new(),
            image: None,
            memory_mb: topology.memory_mb(group),
            published_ports: Vec::new(),
            docker_args: Vec::new(),
        }
    }

    /// Every group it is in, its `Group` tag first.
    pub fn all_groups(&self) -> impl Iterator<Item = &Group> {
        std::iter::once(&self.group).chain(&self.groups)
    }
}

/// One host as `status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostStatus {
    pub name: String,
    pub group: String,
    pub state: String,
    /// The address the environment's other hosts use.
    pub address: Option<String>,
    /// How a person logs in by hand.
    pub login: String,
}

pub trait Backend: Send + Sync {
    /// `docker` or `vagrant`, as `--backend` spells it.
    fn kind(&self) -> &'static str;

    fn settings(&self) -> &Settings;

    fn names(&self, env: &EnvName) -> EnvNames {
        EnvNames::new(self.settings().app_name.clone(), env.clone())
    }

    /// What of environment `env` exists already, whoever made it: a short
    /// description, or None when nothing does. A run's create refuses to
    /// start on an environment that exists, and leaves it as it is.
    fn existing(&self, env: &EnvName) -> Result<Option<String>, BackendError>;

    /// Make these hosts (AWS: what the formations say); an environment
    /// that exists is an error.
    fn commission(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), BackendError>;

    /// The running hosts, as Ansible and the probes reach them.
    fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, BackendError>;

    fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, BackendError>;

    /// Remove the environment; idempotent. Returns how many hosts went. A
    /// backend built for a run removes only what carries that run's
    /// `argos:run` id: an environment of the same name made by anyone else
    /// (an operator, another run) is left as it is.
    fn decommission(&self, env: &EnvName) -> Result<usize, BackendError>;

    /// Every harness-labelled object, or those of run `run`.
    fn labelled(&self, run: Option<&str>) -> Result<Vec<Labelled>, BackendError>;

    /// The objects of run `run` that must carry the four tags (Name, Group,
    /// Env, App) besides the harness tags: on local backends all of them.
    fn tagged_hosts(&self, run: &str) -> Result<Vec<Labelled>, BackendError> {
        self.labelled(Some(run))
    }

    /// Remove expired harness objects, or all of run `run`. Expired
    /// objects that cannot be removed (a network a stranger's container
    /// still uses, a stack in DELETE_FAILED) are reported in
    /// [`SweepReport::failed`] and the sweep goes on; for run `run` (a
    /// teardown of the run's own objects) any failure is an error.
    fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, BackendError>;

    /// What this machine keeps for every run (baked images): shown by
    /// `status` and `sweep` as the machine's, never a run's, and removed
    /// only by [`Backend::clean`].
    fn machine_objects(&self) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }

    /// Remove the machine's objects (`clean`); returns what went.
    fn clean(&self) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }

    /// Whether this backend's hosts stand in for the internet's services
    /// (they cannot reach them): local hosts do, and an emulator's data
    /// plane; AWS's real hosts do not. The project's profile decides what
    /// that means for its roles.
    fn stands_in(&self) -> bool {
        true
    }

    /// Whether hosts can be reached (deploy, probes); the reason when not,
    /// which the runner reports for every step it therefore skips.
    fn data_plane(&self) -> Result<(), String> {
        Ok(())
    }
}
