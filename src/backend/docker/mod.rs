//! The Docker backend: environments of Docker containers on this machine's
//! engine, made by [`crate::backend::containers`] (the builder every
//! container host is made with) and labelled with the four tags.

use std::time::SystemTime;

use crate::backend::containers::DockerError;
use crate::backend::{Backend, BackendError, HostSpec, HostStatus, Labelled, SweepReport};
use crate::converge::inventory::{Expect, Inventory};
use crate::model::names::EnvName;
use crate::model::settings::Settings;

/// A Docker environment's hosts: the shared container builder.
pub use crate::backend::containers::Containers as DockerBackend;

impl From<DockerError> for BackendError {
    fn from(error: DockerError) -> Self {
        BackendError::Failed(Box::new(error))
    }
}

impl Backend for DockerBackend {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn existing(&self, env: &EnvName) -> Result<Option<String>, BackendError> {
        Ok(DockerBackend::existing(self, env)?)
    }

    fn commission(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), BackendError> {
        Ok(DockerBackend::commission(self, env, hosts)?)
    }

    fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, BackendError> {
        Ok(DockerBackend::inventory(self, env, expect)?)
    }

    fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, BackendError> {
        Ok(DockerBackend::status(self, env)?)
    }

    fn decommission(&self, env: &EnvName) -> Result<usize, BackendError> {
        Ok(DockerBackend::decommission(self, env)?)
    }

    fn labelled(&self, run: Option<&str>) -> Result<Vec<Labelled>, BackendError> {
        Ok(DockerBackend::labelled(self, run)?)
    }

    fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, BackendError> {
        Ok(DockerBackend::sweep(self, run, now)?)
    }

    fn machine_objects(&self) -> Result<Vec<String>, BackendError> {
        let mut objects: Vec<String> = self
            .baked_images()?
            .into_iter()
            .map(|image| format!("image {image}"))
            .collect();
        objects.extend(
            self.abandoned_bake_hosts(false)?
                .into_iter()
                .map(|host| format!("{host} (a bake a killed process left)")),
        );
        Ok(objects)
    }

    fn clean(&self) -> Result<Vec<String>, BackendError> {
        Ok(DockerBackend::clean(self)?)
    }
}
