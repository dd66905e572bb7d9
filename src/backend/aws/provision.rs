//! Provisioning the image bake instance: the image playbook, run through
//! deploy on a one-host inventory, before CreateImage. Without a
//! [`Provisioner`] (an emulator, where no instance boots) the bake says so
//! and the image is the base AMI.

use std::collections::BTreeMap;
use std::path::PathBuf;

use argos_aws::Instance;

use super::{AwsBackend, EngineError};
pub use crate::converge::bake::Provisioner;
use crate::converge::inventory::{Expect, Host, Inventory};
use crate::model::names::{EnvName, Group};
use crate::model::project::Project;

impl AwsBackend {
    /// The private key of the settings' key pair: `keys/<key_name>.pem`.
    pub(super) fn key_pair_file(&self, project: &Project) -> PathBuf {
        project.path(&format!("keys/{}.pem", self.settings.access.key_name))
    }

    /// Run the image playbook on the bake instance, as the wait for it to
    /// run last saw it. The instance is throwaway: its host key is learnt on
    /// first contact in a known_hosts file of its own, gone with the bake.
    pub(super) async fn provision_bake_instance(
        &self,
        provisioner: &Provisioner,
        env: &EnvName,
        image: &str,
        instance: &Instance,
    ) -> Result<(), EngineError> {
        let image = image.to_owned();
        let failed = |reason: String| EngineError::Image {
            image: image.clone(),
            reason,
        };
        let instance_id = &instance.id;
        let private = instance.private_ip.clone().unwrap_or_default();
        let Some((address, port)) = self.resolver.ssh_address(instance) else {
            return Err(failed(format!(
                "bake instance {instance_id} has no address to reach over SSH"
            )));
        };
        let (user, key) = self.login(&provisioner.project, &self.names(env));
        let host = Host {
            name: image.clone(),
            group: Group::IMAGE,
            groups: Vec::new(),
            address: address.clone(),
            port,
            user,
            private_address: private,
            vars: BTreeMap::from([(
                "ansible_ssh_private_key_file".to_owned(),
                key.display().to_string(),
            )]),
        };
        let inventory =
            Inventory::new(self.names(env), vec![host], Vec::new(), Expect::anything())?
                .reaching(self.destinations(&self.names(env)));
        self.emit(crate::sys::progress::Event::Provisioning {
            instance: instance_id.to_owned(),
            address: address.to_string(),
        });
        let report = provisioner
            .provision(
                &inventory,
                &self.settings.topology,
                instance_id,
                &self.progress,
            )
            .await
            .map_err(|e| {
                failed(format!(
                    "provisioning bake instance {instance_id} ({address}): {e}"
                ))
            })?;
        if !report.succeeded() {
            return Err(failed(format!(
                "the image playbook failed on bake instance {instance_id} ({address}):\n{report}"
            )));
        }
        Ok(())
    }
}
