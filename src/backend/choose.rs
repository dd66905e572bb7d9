//! Choosing a backend: the factory above the concrete backends, so the
//! [`crate::backend`] interface stays a leaf that names none of them.

use serde_json::{Map, Value};

use crate::backend::Backend;
use crate::backend::docker::DockerBackend;
use crate::backend::vagrant::VagrantBackend;
use crate::model::names::{EnvName, RunTags};
use crate::model::project::Project;
use crate::model::settings::Settings;
use crate::sys::progress::Progress;

/// Which local backend to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalKind {
    Docker,
    Vagrant,
}

impl LocalKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "docker" => Some(Self::Docker),
            "vagrant" => Some(Self::Vagrant),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Vagrant => "vagrant",
        }
    }
}

/// Where a scenario's environment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    Local(LocalKind),
    /// AWS, or the emulator at `endpoint`; on an emulator, `data_plane`
    /// gives its instances and databases hosts (containers).
    Aws {
        endpoint: Option<String>,
        data_plane: bool,
    },
}

impl BackendChoice {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local(kind) => kind.as_str(),
            Self::Aws { .. } => "aws",
        }
    }

    /// The backend for environment `env`; AWS checks its formations first.
    /// `bake_vars` are what Ansible sees when the image is baked.
    pub fn build(
        &self,
        project: Project,
        settings: Settings,
        env: &EnvName,
        progress: Progress,
        run: Option<RunTags>,
        bake_vars: Map<String, Value>,
    ) -> Result<Box<dyn Backend>, String> {
        match self {
            Self::Local(kind) => Ok(local(*kind, project, settings, progress, run, bake_vars)),
            Self::Aws {
                endpoint,
                data_plane,
            } => Ok(Box::new(crate::backend::aws::AwsHosts::connect(
                project,
                settings,
                env,
                crate::backend::aws::Target {
                    endpoint: endpoint.clone(),
                    data_plane: *data_plane,
                },
                progress,
                run,
                bake_vars,
            )?)),
        }
    }
}

/// A local backend of `kind`. `run` labels everything it makes as a harness
/// run's (None for an operator's own environment); `bake_vars` are what
/// Ansible sees when the image is baked.
pub fn local(
    kind: LocalKind,
    project: Project,
    settings: Settings,
    progress: Progress,
    run: Option<RunTags>,
    bake_vars: Map<String, Value>,
) -> Box<dyn Backend> {
    let docker = DockerBackend {
        project,
        settings,
        progress,
        run,
        bake_vars,
    };
    match kind {
        LocalKind::Docker => Box::new(docker),
        LocalKind::Vagrant => Box::new(VagrantBackend::new(docker)),
    }
}
