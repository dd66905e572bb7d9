//! The Vagrant backend: an environment is a Vagrant project in
//! `.argos/vagrant/<app>-<env>/` whose machines the project's Vagrantfile
//! makes from the machine list written here. On the docker provider (what
//! runs here and in CI) each machine is a systemd container of the
//! `argos-vagrant` image on the environment's own network, labelled like
//! every Docker-backend object, so the same sweep finds what a killed run
//! left. Hosts are reached as `vagrant ssh-config` says.

mod command;
mod machines;
mod provider;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

pub use machines::{Machine, MachineList};
pub use provider::Provider;

use crate::backend::containers::{self, Containers, DockerError, Labelled, SweepReport};
use crate::backend::{Backend, BackendError, HostSpec, HostStatus};
use crate::converge::inventory::{self, Expect, Inventory, InventoryError, SshConfigError};
use crate::model::names::{EnvName, EnvNames};
use crate::model::settings::Settings;
use crate::sys::progress::Event;
use command::Vagrant;

/// The image the docker provider runs: argos-host with a `vagrant` user.
pub const VAGRANT_IMAGE: &str = "argos-vagrant:bookworm";
/// The user Vagrant logs in as.
pub const VAGRANT_USER: &str = "vagrant";

/// How long Vagrant may wait for one machine's SSH.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `vagrant up` may take in all, before it is stopped.
const UP_DEADLINE: Duration = Duration::from_secs(420);
/// How long the quick commands (status, ssh-config, destroy) may take.
const QUICK_DEADLINE: Duration = Duration::from_secs(180);

#[derive(Debug, thiserror::Error)]
pub enum VagrantError {
    #[error("vagrant is not installed (Debian: apt-get install --no-install-recommends vagrant)")]
    NotInstalled,
    #[error("{what} was stopped by {signal}: `{command}` and what it started were ended")]
    Interrupted {
        what: String,
        command: String,
        signal: &'static str,
    },
    #[error("the Vagrant provider {provider} is not available here: {reason}")]
    ProviderMissing { provider: String, reason: String },
    #[error(
        "the Vagrant box {name:?} is not installed: `vagrant box add {name}`, or set vagrant_box"
    )]
    BoxMissing { name: String },
    #[error("the image {image} is missing: build it with docker/host-image/build.sh")]
    ImageMissing { image: String },
    #[error(
        "machine {machine} refused the environment's SSH key (`{command}`): stopped at the first \
         refusal instead of retrying until the boot timeout. Is the key mounted at \
         /etc/ssh/authorized_keys/vagrant, and does the image have the vagrant user?"
    )]
    SshAuthentication { machine: String, command: String },
    #[error("{what}: `{command}` did not finish within {seconds} s; its last lines:\n{tail}")]
    Timeout {
        what: String,
        command: String,
        seconds: u64,
        tail: String,
    },
    #[error("{what} failed: `{command}` exited with {status}; its last lines:\n{tail}")]
    Failed {
        what: String,
        command: String,
        status: String,
        tail: String,
    },
    #[error(
        "environment {stack} exists ({dir}): `argos-cloud --backend vagrant {env} decommission` first"
    )]
    Exists {
        stack: String,
        env: String,
        dir: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    SshConfig(#[from] SshConfigError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

impl VagrantError {
    fn io(what: &'static str) -> impl Fn(std::io::Error) -> VagrantError {
        move |source| VagrantError::Io { what, source }
    }
}

#[derive(Debug, Clone)]
pub struct VagrantBackend {
    /// The docker provider's containers and networks are Docker objects
    /// with the Docker backend's labels: it makes the network and sweeps.
    docker: Containers,
    /// The docker provider's image: [`VAGRANT_IMAGE`] unless a test wants
    /// one without the vagrant user.
    pub image: String,
}

impl VagrantBackend {
    pub fn new(docker: Containers) -> Self {
        Self {
            docker,
            image: VAGRANT_IMAGE.into(),
        }
    }

    /// The environment's Vagrant project: machine list, key, Vagrant's state.
    pub fn dir(&self, names: &EnvNames) -> PathBuf {
        self.docker
            .project
            .path(&format!(".argos/vagrant/{}", names.stack()))
    }

    fn vagrant<'a>(&'a self, dir: &'a std::path::Path) -> Vagrant<'a> {
        Vagrant {
            dir,
            progress: &self.docker.progress,
        }
    }

    /// The harness run this backend acts for (None: an operator's commands).
    fn run_id(&self) -> Option<&str> {
        self.docker.run.as_ref().map(|r| r.run_id.as_str())
    }

    /// Whether this backend may act on the environment of `list`: always
    /// for an operator, for a run only on what that run made.
    fn owns(&self, list: &MachineList) -> bool {
        self.run_id().is_none() || list.run.as_deref() == self.run_id()
    }

    /// What of the environment exists, whoever made it: its Vagrant project,
    /// and on the docker provider its containers and network.
    pub fn existing(&self, env: &EnvName) -> Result<Option<String>, VagrantError> {
        let names = self.docker.names(env);
        let dir = self.dir(&names);
        let mut found = Vec::new();
        if MachineList::file(&dir).exists() {
            found.push(format!("Vagrant project {}", dir.display()));
        }
        if matches!(
            provider::resolve(self.docker.settings.vagrant.provider),
            Ok(Provider::Docker)
        ) && let Some(objects) = self.docker.existing(env)?
        {
            found.push(objects);
        }
        Ok((!found.is_empty()).then(|| found.join(", ")))
    }

    fn machines(&self, names: &EnvNames) -> Result<Option<MachineList>, VagrantError> {
        MachineList::read(&self.dir(names)).map_err(VagrantError::io("reading machines.json"))
    }

    /// What this machine needs before the provider can make anything.
    fn prepare_provider(&self) -> Result<Provider, VagrantError> {
        let provider = provider::resolve(self.docker.settings.vagrant.provider)?;
        match provider {
            Provider::Docker => {
                self.docker.ensure_image()?;
                let present =
                    crate::sys::process::succeeds("docker", &["image", "inspect", &self.image]);
                if !present {
                    return Err(VagrantError::ImageMissing {
                        image: self.image.clone(),
                    });
                }
            }
            Provider::Virtualbox | Provider::Libvirt => {
                let here = std::env::temp_dir();
                let boxes = self.vagrant(&here).run(
                    &["box", "list", "--machine-readable"],
                    "listing the installed boxes",
                    QUICK_DEADLINE,
                )?;
                let name = &self.docker.settings.vagrant.box_name;
                if !boxes.lines().any(|l| l.split(',').any(|f| f == name)) {
                    return Err(VagrantError::BoxMissing { name: name.clone() });
                }
            }
        }
        Ok(provider)
    }

    pub fn commission(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), VagrantError> {
        let names = self.docker.names(env);
        let dir = self.dir(&names);
        if MachineList::file(&dir).exists() {
            return Err(VagrantError::Exists {
                stack: names.stack(),
                env: env.to_string(),
                dir: dir.display().to_string(),
            });
        }
        // Vagrant itself first: its absence is the clearest error of all.
        self.vagrant(&std::env::temp_dir()).run(
            &["--version"],
            "checking vagrant",
            QUICK_DEADLINE,
        )?;
        let provider = self.prepare_provider()?;
        let authorized = containers::ssh_key(&dir, &names.stack(), VAGRANT_USER)?;
        let key = dir.join("id_ed25519");
        let public_key = std::fs::read_to_string(key.with_extension("pub"))
            .map_err(VagrantError::io("reading the public key"))?;
        if provider == Provider::Docker {
            self.docker.create_network(
                &names,
                &format!("argos-cloud --backend vagrant {env} decommission"),
            )?;
        }
        // The docker provider starts baked groups from `<app>-image`, as the
        // Docker backend does; a VM provider boots the box.
        let baked = if provider == Provider::Docker {
            let login = containers::BakeLogin {
                user: VAGRANT_USER,
                key: &key,
                authorized: &authorized,
            };
            self.docker
                .baked_image_for(&names, hosts, &self.image, login)?
        } else {
            None
        };
        let ports =
            machines::free_ports(hosts.len()).map_err(VagrantError::io("choosing SSH ports"))?;
        if provider != Provider::Docker {
            for host in hosts.iter().filter(|h| h.image.is_some()) {
                self.docker.progress.emit(Event::VagrantBoxForImage {
                    host: host.name.clone(),
                    provider: provider.to_string(),
                    box_name: self.docker.settings.vagrant.box_name.clone(),
                });
            }
        }
        let list = MachineList {
            format: machines::FORMAT,
            stack: names.stack(),
            run: self.run_id().map(str::to_owned),
            provider,
            boot_timeout: BOOT_TIMEOUT.as_secs(),
            ssh: machines::SshLogin {
                username: VAGRANT_USER.into(),
                private_key_path: std::fs::canonicalize(&key)
                    .map_err(VagrantError::io("locating the SSH key"))?,
                public_key: public_key.trim().to_owned(),
            },
            docker: machines::DockerImage {
                image: self.image.clone(),
            },
            box_name: self.docker.settings.vagrant.box_name.clone(),
            machines: hosts
                .iter()
                .zip(ports)
                .enumerate()
                .map(|(index, (host, port))| Machine {
                    name: host.name.clone(),
                    hostname: host.name.clone(),
                    group: Some(host.group.clone()),
                    groups: host.groups.clone(),
                    image: host.image.clone().or_else(|| {
                        baked
                            .clone()
                            .filter(|_| self.docker.settings.topology.is_baked(&host.group))
                    }),
                    container: names.resource(&host.name),
                    ssh_port: port,
                    private_ip: format!("192.168.56.{}", 11 + index),
                    memory_mb: host.memory_mb,
                    cpus: 1,
                    docker_args: self
                        .docker
                        .host_request(&names, host, "", &authorized)
                        .container_args(),
                })
                .collect(),
        };
        let vagrantfile = std::fs::canonicalize(self.docker.project.path("Vagrantfile"))
            .map_err(VagrantError::io("locating the project's Vagrantfile"))?;
        list.write(&dir, &vagrantfile)
            .map_err(VagrantError::io("writing the machine list"))?;
        self.docker.progress.emit(Event::VagrantMachinesUp {
            machines: hosts.len(),
            provider: provider.to_string(),
        });
        self.vagrant(&dir).run_shown(
            &["up", &format!("--provider={provider}")],
            "bringing the machines up",
            UP_DEADLINE,
        )?;
        Ok(())
    }

    /// The running machines as `vagrant ssh-config` reaches them, named
    /// `<app>-<env>-<group>` like hosts on every backend, with the address
    /// the other machines use.
    pub fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, VagrantError> {
        let names = self.docker.names(env);
        let Some(list) = self.machines(&names)? else {
            return Ok(Inventory::new(names, Vec::new(), Vec::new(), expect)?);
        };
        let dir = self.dir(&names);
        let text = self.vagrant(&dir).run(
            &["ssh-config"],
            "reading the machines' SSH settings",
            QUICK_DEADLINE,
        )?;
        let mut hosts = inventory::parse_ssh_config(&text)?;
        let private = self.private_addresses(env, &list)?;
        for host in &mut hosts {
            if let Some(machine) = list.machine(&host.name) {
                if let Some(group) = &machine.group {
                    host.group = group.clone();
                }
                host.groups = machine.groups.clone();
                if let Some(address) = private.iter().find(|(name, _)| *name == machine.container) {
                    host.private_address = address.1.clone();
                }
                host.name = machine.container.clone();
            }
        }
        Ok(Inventory::new(names, hosts, Vec::new(), expect)?)
    }

    /// Each machine's address on the environment's private network, by
    /// its container name (`<app>-<env>-<host>`).
    fn private_addresses(
        &self,
        env: &EnvName,
        list: &MachineList,
    ) -> Result<Vec<(String, String)>, VagrantError> {
        Ok(match list.provider {
            Provider::Docker => self
                .docker
                .inventory(env, Expect::anything())?
                .hosts
                .into_iter()
                .map(|h| (h.name, h.private_address))
                .collect(),
            Provider::Virtualbox | Provider::Libvirt => list
                .machines
                .iter()
                .map(|m| (m.container.clone(), m.private_ip.clone()))
                .collect(),
        })
    }

    pub fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, VagrantError> {
        let names = self.docker.names(env);
        let Some(list) = self.machines(&names)? else {
            return Ok(Vec::new());
        };
        let dir = self.dir(&names);
        let text = self.vagrant(&dir).run(
            &["status", "--machine-readable"],
            "reading the machines' state",
            QUICK_DEADLINE,
        )?;
        let private = self.private_addresses(env, &list)?;
        Ok(list
            .machines
            .iter()
            .map(|machine| HostStatus {
                name: machine.container.clone(),
                group: machine
                    .group
                    .as_ref()
                    .map_or_else(|| machine.name.clone(), |g| g.to_string()),
                state: machine_state(&text, &machine.name).unwrap_or_else(|| "unknown".into()),
                address: private
                    .iter()
                    .find(|(name, _)| *name == machine.container)
                    .map(|(_, a)| a.clone()),
                login: format!("(cd {} && vagrant ssh {})", dir.display(), machine.name),
            })
            .collect())
    }

    /// `vagrant destroy -f`, then whatever the provider left (found by the
    /// environment's labels), then the folder. Idempotent. For a run, the
    /// Vagrant project is destroyed only when its machine list carries the
    /// run's id, and only the run's labelled objects go.
    pub fn decommission(&self, env: &EnvName) -> Result<usize, VagrantError> {
        let names = self.docker.names(env);
        let dir = self.dir(&names);
        let machines = self.machines(&names);
        if let Ok(Some(list)) = &machines
            && !self.owns(list)
        {
            self.docker.progress.emit(Event::VagrantNotOurs {
                folder: dir.display().to_string(),
                owner: list.run.as_deref().unwrap_or("an operator").to_owned(),
            });
            return Ok(self.docker.decommission(env)?);
        }
        // Machines Vagrant destroyed; None when it could not (then the labels do).
        let destroyed = match machines {
            Ok(Some(list)) => {
                let outcome = self.vagrant(&dir).run_shown(
                    &["destroy", "-f"],
                    "destroying the machines",
                    QUICK_DEADLINE,
                );
                match outcome {
                    Ok(_) => Some(list.machines.len()),
                    // A run stopped halfway can confuse Vagrant; the
                    // containers go by their labels below all the same.
                    Err(error) if list.provider == Provider::Docker => {
                        self.docker.progress.emit(Event::VagrantDestroyFailed {
                            reason: error.to_string(),
                        });
                        None
                    }
                    Err(error) => return Err(error),
                }
            }
            // Without a readable list Vagrant cannot help: the labels can.
            Ok(None) | Err(_) => None,
        };
        let by_label = self.docker.decommission(env)?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(VagrantError::io("removing the environment folder"))?;
        }
        Ok(destroyed.unwrap_or(by_label))
    }

    /// Sweep by label (containers and networks of the docker provider),
    /// then the folders of swept environments and Vagrant's index entries
    /// for machines that no longer exist.
    pub fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, VagrantError> {
        let report = self.docker.sweep(run, now)?;
        if !report.removed.is_empty() {
            // Best effort: the index only lists machines; nothing is paid for.
            let _ = self.vagrant(&std::env::temp_dir()).run(
                &["global-status", "--prune"],
                "pruning Vagrant's machine index",
                QUICK_DEADLINE,
            );
        }
        Ok(report)
    }
}

/// A machine's state in `vagrant status --machine-readable` output
/// (`timestamp,target,state,running`).
fn machine_state(text: &str, machine: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(',').collect();
        (fields.len() >= 4 && fields[1] == machine && fields[2] == "state")
            .then(|| fields[3].to_owned())
    })
}

impl From<VagrantError> for BackendError {
    fn from(error: VagrantError) -> Self {
        BackendError::Failed(Box::new(error))
    }
}

impl Backend for VagrantBackend {
    fn kind(&self) -> &'static str {
        "vagrant"
    }

    fn settings(&self) -> &Settings {
        &self.docker.settings
    }

    fn existing(&self, env: &EnvName) -> Result<Option<String>, BackendError> {
        Ok(VagrantBackend::existing(self, env)?)
    }

    fn commission(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), BackendError> {
        Ok(VagrantBackend::commission(self, env, hosts)?)
    }

    fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, BackendError> {
        Ok(VagrantBackend::inventory(self, env, expect)?)
    }

    fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, BackendError> {
        Ok(VagrantBackend::status(self, env)?)
    }

    fn decommission(&self, env: &EnvName) -> Result<usize, BackendError> {
        Ok(VagrantBackend::decommission(self, env)?)
    }

    fn labelled(&self, run: Option<&str>) -> Result<Vec<Labelled>, BackendError> {
        Ok(self.docker.labelled(run)?)
    }

    fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, BackendError> {
        Ok(VagrantBackend::sweep(self, run, now)?)
    }

    fn machine_objects(&self) -> Result<Vec<String>, BackendError> {
        Backend::machine_objects(&self.docker)
    }

    fn clean(&self) -> Result<Vec<String>, BackendError> {
        Backend::clean(&self.docker)
    }
}

#[cfg(test)]
mod tests {
    use super::machine_state;

    #[test]
    fn machine_states_come_from_the_machine_readable_status() {
        let text = "1764245000,app,metadata,provider,docker\n\
                    1764245000,app,state,running\n\
                    1764245000,knowledge,state,not_created\n";
        assert_eq!(machine_state(text, "app").as_deref(), Some("running"));
        assert_eq!(
            machine_state(text, "knowledge").as_deref(),
            Some("not_created")
        );
        assert_eq!(machine_state(text, "database"), None);
    }
}
