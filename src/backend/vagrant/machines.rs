//! The machine list argos-cloud writes for an environment and the project's
//! Vagrantfile reads (`machines.json`), and the two-line Vagrantfile in the
//! environment's folder that loads the project's. The topology lives here
//! only; the Vagrantfile turns it into machines.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::provider::Provider;
use crate::model::names::Group;

/// The version of the format below; the Vagrantfile refuses others.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineList {
    pub format: u32,
    /// `<app>-<env>`.
    pub stack: String,
    /// The harness run that made the environment (`argos:run`); None for an
    /// operator's. A run's teardown acts only on a list with its own id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub provider: Provider,
    /// Seconds Vagrant waits for a machine's SSH.
    pub boot_timeout: u64,
    pub ssh: SshLogin,
    pub docker: DockerImage,
    /// The box of the virtualbox and libvirt providers.
    #[serde(rename = "box")]
    pub box_name: String,
    pub machines: Vec<Machine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshLogin {
    pub username: String,
    pub private_key_path: PathBuf,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerImage {
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// The Vagrant machine name: the host's name (`vagrant ssh app`).
    pub name: String,
    pub hostname: String,
    /// Its `Group` tag (absent in lists written before hosts had names of
    /// their own: the name is the group then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// Further Ansible groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    /// The machine's own local image (docker provider); default the list's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The container (or VM) name: `<app>-<env>-<group>`.
    pub container: String,
    /// Loopback port forwarded to the machine's SSH (docker provider).
    pub ssh_port: u16,
    /// The machine's address on the private network (VM providers).
    pub private_ip: String,
    pub memory_mb: u32,
    pub cpus: u32,
    /// `docker run` arguments: network, labels, systemd, authorized keys.
    pub docker_args: Vec<String>,
}

impl MachineList {
    pub fn file(dir: &Path) -> PathBuf {
        dir.join("machines.json")
    }

    pub fn read(dir: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read_to_string(Self::file(dir)) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write the list and the folder's Vagrantfile, which loads `project_vagrantfile`.
    pub fn write(&self, dir: &Path, project_vagrantfile: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(Self::file(dir), text + "\n")?;
        std::fs::write(
            dir.join("Vagrantfile"),
            shim(&self.stack, project_vagrantfile),
        )
    }

    pub fn machine(&self, name: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| m.name == name)
    }
}

/// The environment folder's Vagrantfile: this folder's machine list, the
/// project's Vagrantfile. Vagrant keeps its state (`.vagrant/`) next to it,
/// so environments never share machine state.
fn shim(stack: &str, project_vagrantfile: &Path) -> String {
    format!(
        "# Written by argos-cloud for {stack}. The machines are in machines.json;\n\
         # the project's Vagrantfile makes them. `vagrant ssh app` works here.\n\
         ENV[\"ARGOS_MACHINES\"] = File.join(__dir__, \"machines.json\")\n\
         load {:?}\n",
        project_vagrantfile.display().to_string()
    )
}

/// `count` free loopback ports, all held until every one is chosen so they
/// differ; a port is used moments later by `vagrant up`.
pub fn free_ports(count: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> MachineList {
        MachineList {
            format: FORMAT,
            stack: "argos-dev".into(),
            run: Some("t-app-1".into()),
            provider: Provider::Docker,
            boot_timeout: 120,
            ssh: SshLogin {
                username: "vagrant".into(),
                private_key_path: "/p/.argos/vagrant/argos-dev/id_ed25519".into(),
                public_key: "ssh-ed25519 AAAA argos-dev".into(),
            },
            docker: DockerImage {
                image: "argos-vagrant:bookworm".into(),
            },
            box_name: "debian/bookworm64".into(),
            machines: vec![Machine {
                name: "app".into(),
                hostname: "app".into(),
                group: None,
                groups: Vec::new(),
                image: None,
                container: "argos-dev-app".into(),
                ssh_port: 2201,
                private_ip: "192.168.56.11".into(),
                memory_mb: 1024,
                cpus: 1,
                docker_args: vec!["--network".into(), "argos-dev-network".into()],
            }],
        }
    }

    #[test]
    fn the_list_round_trips_and_the_folder_vagrantfile_loads_the_projects() {
        let dir = tempfile::tempdir().unwrap();
        let mut written = list();
        written.machines[0].group = Some(Group::new("web").unwrap());
        written.machines[0].groups = vec![Group::new("frontends").unwrap()];
        written.machines[0].image = Some("my-app:dev".into());
        written
            .write(dir.path(), Path::new("/p/Vagrantfile"))
            .unwrap();
        assert_eq!(MachineList::read(dir.path()).unwrap(), Some(written));
        let shim = std::fs::read_to_string(dir.path().join("Vagrantfile")).unwrap();
        assert!(shim.contains("load \"/p/Vagrantfile\""), "{shim}");
        assert!(shim.contains("ARGOS_MACHINES"), "{shim}");
        let json = std::fs::read_to_string(MachineList::file(dir.path())).unwrap();
        // The keys the Vagrantfile reads.
        for key in [
            "\"format\": 1",
            "\"provider\": \"docker\"",
            "\"box\"",
            "\"ssh_port\"",
            "\"docker_args\"",
            "\"private_key_path\"",
            "\"group\": \"web\"",
            "\"image\": \"my-app:dev\"",
        ] {
            assert!(json.contains(key), "{key} missing in {json}");
        }
    }

    #[test]
    fn no_list_is_none_and_a_broken_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(MachineList::read(dir.path()).unwrap(), None);
        std::fs::write(MachineList::file(dir.path()), "{").unwrap();
        assert!(MachineList::read(dir.path()).is_err());
    }

    #[test]
    fn free_ports_differ() {
        let ports = free_ports(3).unwrap();
        assert!(ports.iter().all(|p| *p > 0));
        assert_ne!(ports[0], ports[1]);
        assert_ne!(ports[1], ports[2]);
    }
}
