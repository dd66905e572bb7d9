//! Which Vagrant provider makes the machines, and whether this machine has
//! it: checked before anything is made, so a missing provider is one clear
//! error rather than a half-made environment.

use std::process::Command;

use serde::{Deserialize, Serialize};

use super::VagrantError;
use crate::model::settings::VagrantProvider;
use crate::sys::process;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Docker,
    Virtualbox,
    Libvirt,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Virtualbox => "virtualbox",
            Self::Libvirt => "libvirt",
        }
    }

    /// Why this machine cannot run the provider, or None when it can.
    fn missing(self) -> Option<String> {
        match self {
            Self::Docker => (!succeeds("docker", &["info"]))
                .then(|| "`docker info` failed: install Docker and start its engine".to_owned()),
            Self::Virtualbox => (!succeeds("VBoxManage", &["--version"]))
                .then(|| "VBoxManage is not installed: install VirtualBox".to_owned()),
            Self::Libvirt => {
                let listed = process::output(Command::new("vagrant").args(["plugin", "list"]))
                    .is_ok_and(|o| o.stdout.contains("vagrant-libvirt"));
                (!listed).then(|| {
                    "the vagrant-libvirt plugin is not installed: vagrant plugin install vagrant-libvirt"
                        .to_owned()
                })
            }
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    process::succeeds(program, args)
}

/// The provider the setting names, checked to be here; `auto` takes the
/// first this machine has: docker, virtualbox, libvirt.
pub fn resolve(setting: VagrantProvider) -> Result<Provider, VagrantError> {
    let wanted = match setting {
        VagrantProvider::Docker => Provider::Docker,
        VagrantProvider::Virtualbox => Provider::Virtualbox,
        VagrantProvider::Libvirt => Provider::Libvirt,
        VagrantProvider::Auto => {
            let mut reasons = Vec::new();
            for provider in [Provider::Docker, Provider::Virtualbox, Provider::Libvirt] {
                match provider.missing() {
                    None => return Ok(provider),
                    Some(reason) => reasons.push(format!("{provider}: {reason}")),
                }
            }
            return Err(VagrantError::ProviderMissing {
                provider: "auto".into(),
                reason: format!("none of the providers is here ({})", reasons.join("; ")),
            });
        }
    };
    match wanted.missing() {
        None => Ok(wanted),
        Some(reason) => Err(VagrantError::ProviderMissing {
            provider: wanted.as_str().into(),
            reason,
        }),
    }
}
