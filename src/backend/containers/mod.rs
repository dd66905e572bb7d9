//! Docker containers as hosts: the one builder every container a backend
//! makes goes through (the Docker backend's hosts, Vagrant's docker
//! provider, the emulator's stand-ins). An environment is one private
//! network and one systemd host container per host, from the locally built
//! `argos-host` image. Docker labels carry the same tags AWS resources do,
//! so inventory, status and cleanup all find things by label. Hosts are
//! reached over SSH with a per-environment key, exactly as on EC2. The
//! machine's apt cache and the local image bake live here too.

pub mod apt_cache;
mod bake;
mod cli;
mod request;
mod sweep;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub use crate::backend::{Labelled, NotRemoved, SweepReport};
pub use bake::{BAKE_SWITCH, CONTENT_KEY_LABEL};
pub use cli::DockerError;
pub use request::HostRequest;
pub use sweep::{KeptEnvironment, kept_environments_here, kept_environments_of};

pub(crate) use bake::BakeLogin;
use bake::host_image;
pub(crate) use cli::docker_lines;

use crate::backend::{HostSpec, HostStatus};
use crate::converge::inventory::{self, Expect, Inventory};
use crate::model::names::{EnvName, EnvNames, Group, RunTags, tag_keys};
use crate::model::project::Project;
use crate::model::settings::Settings;
use crate::sys::progress::{Event, Progress};

/// The role-host image `docker/host-image/build.sh` makes.
pub const HOST_IMAGE: &str = "argos-host:bookworm";
/// The user the host image lets in (the same as on Debian AMIs).
pub const HOST_USER: &str = "admin";

/// `docker run` settings of a systemd host without --privileged (measured
/// on Docker 20.10, cgroup v1: see the book's "Docker with no registry"):
/// tmpfs for /run, the cgroup tree read-only, no seccomp filter. Public so
/// a bench can start its containers exactly like hosts.
pub const SYSTEMD_TMPFS: [&str; 2] = ["/run", "/run/lock"];
pub const SYSTEMD_VOLUMES: [&str; 1] = ["/sys/fs/cgroup:/sys/fs/cgroup:ro"];
pub const SYSTEMD_SECURITY_OPTS: [&str; 1] = ["seccomp=unconfined"];

/// The same settings as `docker run` arguments.
pub fn systemd_run_args() -> Vec<String> {
    let mut args = Vec::new();
    for tmpfs in SYSTEMD_TMPFS {
        args.extend(["--tmpfs".to_owned(), tmpfs.to_owned()]);
    }
    for volume in SYSTEMD_VOLUMES {
        args.extend(["-v".to_owned(), volume.to_owned()]);
    }
    for option in SYSTEMD_SECURITY_OPTS {
        args.extend(["--security-opt".to_owned(), option.to_owned()]);
    }
    args
}

#[derive(Debug, Clone)]
pub struct Containers {
    pub project: Project,
    pub settings: Settings,
    pub progress: Progress,
    pub run: Option<RunTags>,
    /// What Ansible sees when the image is baked: the settings file's
    /// values and the overrides (the stand-ins are added).
    pub bake_vars: serde_json::Map<String, Value>,
}

impl Containers {
    pub fn names(&self, env: &EnvName) -> EnvNames {
        EnvNames::new(self.settings.app_name.clone(), env.clone())
    }

    /// Where the environment's SSH key and authorized_keys live.
    fn key_dir(&self, names: &EnvNames) -> PathBuf {
        self.project
            .path(&format!(".argos/docker/{}", names.stack()))
    }

    /// The private key Ansible uses for this environment's hosts.
    pub fn private_key(&self, names: &EnvNames) -> PathBuf {
        self.key_dir(names).join("id_ed25519")
    }

    /// Everything of the environment, whoever made it.
    fn env_filters(names: &EnvNames) -> Vec<String> {
        vec![
            format!("label={}={}", tag_keys::APP, names.app),
            format!("label={}={}", tag_keys::ENV, names.env),
        ]
    }

    /// What this backend may act on: the environment's objects, and for a
    /// run only those carrying its `argos:run` id.
    fn label_filters(&self, names: &EnvNames) -> Vec<String> {
        let mut filters = Self::env_filters(names);
        filters.extend(
            self.run
                .iter()
                .map(|run| format!("label={}={}", tag_keys::RUN, run.run_id)),
        );
        filters
    }

    /// The environment's containers and networks, whoever made them,
    /// including a network that has its name without its labels.
    fn env_objects(&self, names: &EnvNames) -> Result<Vec<String>, DockerError> {
        let list = |command: &[&str], filters: Vec<String>| {
            let mut args: Vec<String> = command.iter().map(|a| (*a).to_owned()).collect();
            for filter in filters {
                args.extend(["--filter".to_owned(), filter]);
            }
            cli::docker_lines(&args)
        };
        let networks = ["network", "ls", "--format", "{{.Name}}"];
        let by_name = format!("name=^{}$", names.resource(Group::NETWORK));
        let mut found = list(&networks, vec![by_name])?;
        found.extend(list(&networks, Self::env_filters(names))?);
        found.sort();
        found.dedup();
        let mut found: Vec<String> = found.iter().map(|n| format!("network {n}")).collect();
        let containers = ["ps", "-a", "--format", "{{.Names}}"];
        found.extend(
            list(&containers, Self::env_filters(names))?
                .iter()
                .map(|c| format!("container {c}")),
        );
        Ok(found)
    }

    /// What of the environment exists, whoever made it (None: nothing).
    pub fn existing(&self, env: &EnvName) -> Result<Option<String>, DockerError> {
        let found = self.env_objects(&self.names(env))?;
        Ok((!found.is_empty()).then(|| found.join(", ")))
    }

    /// The four tags of host `name` of `group` and the harness tags, as
    /// `key=value` labels; further groups in `argos:groups`.
    fn labels(
        &self,
        names: &EnvNames,
        name: &str,
        group: &Group,
        groups: &[Group],
    ) -> Vec<(String, String)> {
        let mut labels: Vec<(String, String)> = names
            .host_tags(name, group)
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        if !groups.is_empty() {
            let list: Vec<&str> = groups.iter().map(Group::as_str).collect();
            labels.push((tag_keys::GROUPS.to_owned(), list.join(",")));
        }
        labels.extend(
            self.run
                .iter()
                .flat_map(RunTags::tags)
                .map(|t| (t.key, t.value)),
        );
        labels
    }

    /// Build the host image if its inputs changed (the script keeps it otherwise).
    pub fn ensure_image(&self) -> Result<(), DockerError> {
        let script = self.project.path("docker/host-image/build.sh");
        self.progress.emit(Event::HostImageEnsured {
            image: HOST_IMAGE.to_owned(),
            script: script.display().to_string(),
        });
        cli::run(Command::new("bash").arg(&script), "building the host image")?;
        Ok(())
    }

    /// A network and the hosts; an environment that exists is an error.
    pub fn commission(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), DockerError> {
        let names = self.names(env);
        let remove_with = format!("argos-cloud --backend docker {env} decommission");
        if let Some(what) = self.existing(env)? {
            return Err(DockerError::Exists {
                what: format!(
                    "environment {} exists ({what}): `{remove_with}` first",
                    names.stack()
                ),
            });
        }
        self.ensure_image()?;
        let authorized = ssh_key(&self.key_dir(&names), &names.stack(), HOST_USER)?;
        self.create_network(&names, &remove_with)?;
        let login = BakeLogin {
            user: HOST_USER,
            key: &self.private_key(&names),
            authorized: &authorized,
        };
        let baked = self.baked_image_for(&names, hosts, HOST_IMAGE, login)?;
        self.start_hosts(&names, hosts, baked.as_deref(), &authorized)
    }

    /// Hosts standing in for machines another backend's control plane made
    /// (the AWS emulator's instances and databases): each from its own
    /// image, on the environment's network, which the first call makes.
    /// The environment's SSH key lets them in ([`Self::private_key`]).
    pub fn stand_in_hosts(&self, env: &EnvName, hosts: &[HostSpec]) -> Result<(), DockerError> {
        let names = self.names(env);
        self.ensure_image()?;
        let authorized = ssh_key(&self.key_dir(&names), &names.stack(), HOST_USER)?;
        self.stand_in_network(env)?;
        self.start_hosts(&names, hosts, None, &authorized)
    }

    /// A host of no environment on `env`'s network, labelled with `labels`
    /// only, from `image`: a bake host (a commit copies a container's labels
    /// into the image, and from there into every host started from it).
    pub fn stand_in_bake_host(
        &self,
        env: &EnvName,
        container: &str,
        labels: &[(String, String)],
        image: &str,
    ) -> Result<(), DockerError> {
        let names = self.names(env);
        self.ensure_image()?;
        let authorized = ssh_key(&self.key_dir(&names), &names.stack(), HOST_USER)?;
        let network = self.stand_in_network(env)?;
        let request = HostRequest::new(container, image)
            .hostname("image-bake")
            .labels(labels.iter().cloned())
            .login(authorized)
            .apt_cache(apt_cache::host_args(&self.project, &network))
            .network(network);
        cli::docker(&request.run_args())?;
        self.progress.emit(Event::BakeHostStarted {
            host: container.to_owned(),
            image: image.to_owned(),
        });
        Ok(())
    }

    /// `env`'s network, made when missing.
    /// On a subnet of its own ([`on_free_subnet`]).
    fn stand_in_network(&self, env: &EnvName) -> Result<String, DockerError> {
        let names = self.names(env);
        let network = names.resource(Group::NETWORK);
        if network_exists(&network)? {
            return Ok(network);
        }
        let remove_with = format!("argos-cloud --backend aws {env} decommission");
        on_free_subnet(&network, |subnet, gateway| {
            self.create_network_in(&names, &remove_with, Some((subnet, gateway)))
        })
    }

    /// Start `hosts` together (each `docker run` waits on the engine, not
    /// on us): a baked group's from `baked` when given.
    fn start_hosts(
        &self,
        names: &EnvNames,
        hosts: &[HostSpec],
        baked: Option<&str>,
        authorized: &Path,
    ) -> Result<(), DockerError> {
        std::thread::scope(|scope| {
            let started: Vec<_> = hosts
                .iter()
                .map(|host| {
                    let image = host_image(host, baked, &self.settings, HOST_IMAGE);
                    scope.spawn(move || self.start_host(names, host, &image, authorized))
                })
                .collect();
            started
                .into_iter()
                .map(|handle| handle.join().expect("a host's start does not panic"))
                .collect::<Result<Vec<()>, DockerError>>()
        })?;
        Ok(())
    }

    fn start_host(
        &self,
        names: &EnvNames,
        host: &HostSpec,
        image: &str,
        authorized: &Path,
    ) -> Result<(), DockerError> {
        let request = self.host_request(names, host, image, authorized);
        cli::docker(&request.run_args())?;
        self.progress.emit(Event::HostStarted {
            host: request.name.clone(),
            image: image.to_owned(),
        });
        Ok(())
    }

    /// The environment's labelled network; one that exists already is an
    /// error naming `remove_with`, the command that removes it.
    pub(crate) fn create_network(
        &self,
        names: &EnvNames,
        remove_with: &str,
    ) -> Result<String, DockerError> {
        self.create_network_in(names, remove_with, None)
    }

    /// [`Self::create_network`], on `(subnet, gateway)` when given (else
    /// Docker's pick).
    fn create_network_in(
        &self,
        names: &EnvNames,
        remove_with: &str,
        subnet: Option<(&str, &str)>,
    ) -> Result<String, DockerError> {
        let network = names.resource(Group::NETWORK);
        if network_exists(&network)? {
            return Err(DockerError::Exists {
                what: format!("network {network} exists: `{remove_with}` first"),
            });
        }
        let mut args = vec!["network".to_owned(), "create".to_owned()];
        for (key, value) in self.labels(names, Group::NETWORK.as_str(), &Group::NETWORK, &[]) {
            args.extend(["--label".to_owned(), format!("{key}={value}")]);
        }
        if let Some((subnet, gateway)) = subnet {
            args.extend(["--subnet".to_owned(), subnet.to_owned()]);
            args.extend(["--gateway".to_owned(), gateway.to_owned()]);
        }
        args.push(network.clone());
        cli::docker(&args)?;
        self.progress.emit(Event::NetworkCreated {
            network: network.clone(),
        });
        apt_cache::attach(&self.progress, &self.project, &network);
        Ok(network)
    }

    /// Host `host` of the environment `names`, from `image`: on the
    /// environment's network, with its labels, the login, its published
    /// ports, the apt cache when it serves the network, and its own
    /// arguments.
    pub fn host_request(
        &self,
        names: &EnvNames,
        host: &HostSpec,
        image: &str,
        authorized_keys: &Path,
    ) -> HostRequest {
        let network = names.resource(Group::NETWORK);
        HostRequest::new(names.resource(&host.name), image)
            .hostname(&host.name)
            .labels(self.labels(names, &host.name, &host.group, &host.groups))
            .login(authorized_keys)
            .published_ports(host.published_ports.iter().cloned())
            .apt_cache(apt_cache::host_args(&self.project, &network))
            .extra(host.docker_args.iter().cloned())
            .network(network)
    }

    fn container_ids(&self, names: &EnvNames, all: bool) -> Result<Vec<String>, DockerError> {
        let mut args = vec!["ps".to_owned(), "-q".to_owned()];
        if all {
            args.push("-a".to_owned());
        }
        for filter in self.label_filters(names) {
            args.extend(["--filter".to_owned(), filter]);
        }
        cli::docker_lines(&args)
    }

    fn inspect(&self, ids: &[String]) -> Result<Vec<Value>, DockerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["inspect".to_owned()];
        args.extend(ids.iter().cloned());
        let text = cli::docker(&args)?;
        serde_json::from_str(&text).map_err(|e| DockerError::Output {
            what: "docker inspect".into(),
            detail: e.to_string(),
        })
    }

    /// The environment's hosts, by label, addressed on its network.
    pub fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, DockerError> {
        let names = self.names(env);
        let containers = self.inspect(&self.container_ids(&names, false)?)?;
        let key = self.private_key(&names);
        let mut hosts = inventory::from_docker_inspect(&names, &containers, HOST_USER);
        for host in &mut hosts {
            host.vars.insert(
                "ansible_ssh_private_key_file".into(),
                key.display().to_string(),
            );
        }
        Inventory::new(names, hosts, Vec::new(), expect).map_err(DockerError::Inventory)
    }

    pub fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, DockerError> {
        let names = self.names(env);
        let key = self.private_key(&names);
        let containers = self.inspect(&self.container_ids(&names, true)?)?;
        Ok(containers
            .iter()
            .map(|c| {
                let address =
                    c["NetworkSettings"]["Networks"][names.resource(Group::NETWORK)]["IPAddress"]
                        .as_str()
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned);
                let name = c["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned();
                // A host of an image without sshd is entered as Ansible enters it.
                let login = if c["Config"]["Labels"][tag_keys::CONNECTION] == "docker" {
                    format!("docker exec -it {name} /bin/sh")
                } else {
                    format!(
                        "ssh -i {} {HOST_USER}@{}",
                        key.display(),
                        address.as_deref().unwrap_or("?")
                    )
                };
                HostStatus {
                    name,
                    group: c["Config"]["Labels"][tag_keys::GROUP]
                        .as_str()
                        .unwrap_or("-")
                        .to_owned(),
                    state: c["State"]["Status"].as_str().unwrap_or_default().to_owned(),
                    login,
                    address,
                }
            })
            .collect())
    }

    /// Remove the containers, their volumes and the network; idempotent.
    /// Returns how many containers were removed. For a run, only what
    /// carries its id goes, and the key folder only when nothing of the
    /// environment is left (else it is another's environment's key).
    pub fn decommission(&self, env: &EnvName) -> Result<usize, DockerError> {
        let names = self.names(env);
        let ids = self.container_ids(&names, true)?;
        if !ids.is_empty() {
            let mut args = vec!["rm".to_owned(), "-f".to_owned(), "-v".to_owned()];
            args.extend(ids.iter().cloned());
            cli::docker(&args)?;
        }
        let mut args: Vec<String> = ["network", "ls", "--format", "{{.Name}}"]
            .map(str::to_owned)
            .to_vec();
        for filter in self.label_filters(&names) {
            args.extend(["--filter".to_owned(), filter]);
        }
        for network in cli::docker_lines(&args)? {
            apt_cache::detach(&self.progress, &self.project, &network);
            cli::docker(&["network".to_owned(), "rm".to_owned(), network])?;
        }
        if self.run.is_none() || self.env_objects(&names)?.is_empty() {
            let _ = std::fs::remove_dir_all(self.key_dir(&names));
        }
        self.progress.emit(Event::EnvironmentRemoved {
            stack: names.stack(),
            containers: ids.len(),
        });
        Ok(ids.len())
    }
}

/// `create(subnet, gateway)` on the first free /24 of 172.16.0.0/16 (its
/// gateway `.1`, given so `network inspect` names it), from a start
/// `name` picks: a network this machine's own processes connect into. That
/// range is inside the private one known for container networks (the
/// connect audit allows 172.16.0.0/12) and outside Docker's default pools
/// (172.17-31/16, then 192.168.0.0/16 once those were handed out), so
/// Docker never gives it to another network by itself.
pub(crate) fn on_free_subnet<T>(
    name: &str,
    mut create: impl FnMut(&str, &str) -> Result<T, DockerError>,
) -> Result<T, DockerError> {
    let start = name.bytes().map(usize::from).sum::<usize>();
    for step in 0..256 {
        let third = (start + step) % 256;
        let subnet = format!("172.16.{third}.0/24");
        match create(&subnet, &format!("172.16.{third}.1")) {
            Err(DockerError::Failed { stderr, .. }) if stderr.contains("overlap") => continue,
            other => return other,
        }
    }
    Err(DockerError::StandIn {
        what: format!("network {name}"),
        reason: "every /24 of 172.16.0.0/16 is taken".into(),
    })
}

/// Whether a network named exactly `network` exists.
fn network_exists(network: &str) -> Result<bool, DockerError> {
    let filter = format!("name=^{network}$");
    Ok(!cli::docker_lines(&["network", "ls", "-q", "--filter", &filter])?.is_empty())
}

/// The environment's SSH key in `dir` (made once) and the folder of
/// authorized keys the hosts mount, holding its public half for `user`.
/// Returns that folder's absolute path.
pub(crate) fn ssh_key(dir: &Path, comment: &str, user: &str) -> Result<PathBuf, DockerError> {
    let key = dir.join("id_ed25519");
    let authorized = dir.join("authorized_keys");
    std::fs::create_dir_all(&authorized).map_err(DockerError::io("making the key folder"))?;
    if !key.exists() {
        cli::run(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(format!("argos-{comment}"))
                .arg("-f")
                .arg(&key),
            "making the environment's SSH key",
        )?;
    }
    let public = std::fs::read_to_string(key.with_extension("pub"))
        .map_err(DockerError::io("reading the public key"))?;
    std::fs::write(authorized.join(user), public)
        .map_err(DockerError::io("writing authorized_keys"))?;
    std::fs::canonicalize(&authorized).map_err(DockerError::io("locating authorized_keys"))
}
