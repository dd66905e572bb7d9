//! The machine's apt cache: Debian's apt-cacher-ng in one long-lived
//! container, its files in a named volume of the same name
//! (`argos-apt-cache`), shared by every local environment on this machine so
//! each Debian package is downloaded once. It is the machine's, never a
//! run's: it carries `argos:machine`, not `argos:run`, so no teardown or
//! sweep removes it; `argos-cloud cache remove` does.
//!
//! The cache lives on a network of its own, `0-argos-apt-cache`: Docker
//! (before 28) routes a container's outgoing traffic through the network
//! whose name sorts first, so on an environment's network its downloads
//! would die with that environment (measured: another environment's
//! `apt-get update` then failed for two minutes). No environment network
//! sorts before `0-`: app names start with a letter.
//!
//! When an environment's network is made, the cache (started on demand)
//! joins it as `apt-cache`, and the hosts get a read-only apt.conf.d file
//! sending apt's http downloads through it (https sources go direct). The
//! role under test never sees it: nothing is written into a host. Before the
//! network goes, the cache leaves it. A cache must never fail a run: when it
//! cannot start, the run is told why once and its hosts download directly.

use std::fs::{File, OpenOptions};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{DockerError, cli};
use crate::model::names::tag_keys;
use crate::model::project::Project;
use crate::sys::progress::{Event, Progress};

/// The image `docker/host-image/build.sh` makes: apt-cacher-ng on argos-base.
pub const IMAGE: &str = "argos-apt-cache:bookworm";
/// The cache's name on every environment network it joins.
pub const ALIAS: &str = "apt-cache";
/// apt-cacher-ng's port.
pub const PORT: u16 = 3142;
/// The container's and the volume's name, unless [`NAME_VAR`] says otherwise.
pub const DEFAULT_NAME: &str = "argos-apt-cache";
/// Names another cache instance (tests use their own, to remove it freely).
pub const NAME_VAR: &str = "ARGOS_APT_CACHE_NAME";
/// `off` switches the cache off: hosts download their packages themselves.
pub const SWITCH_VAR: &str = "ARGOS_APT_CACHE";
/// The value of the `argos:machine` label: what marks the machine's cache.
const MACHINE_ROLE: &str = "apt-cache";
/// Where apt-cacher-ng keeps the files (the volume) and logs each transfer.
const CACHE_DIR: &str = "/var/cache/apt-cacher-ng";
pub const TRANSFER_LOG: &str = "/var/log/apt-cacher-ng/apt-cacher.log";
/// Where hosts find the proxy setting: read first, so a role's own proxy
/// setting (a later file) still wins.
pub const HOST_CONF: &str = "/etc/apt/apt.conf.d/00argos-apt-cache";
/// How long a starting cache may take to answer (it answers in about 0.2 s).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AptCacheError {
    #[error("the image {image} is missing: build it with docker/host-image/build.sh")]
    ImageMissing { image: String },
    #[error(
        "a container named {name} exists that is not the machine's apt cache (no label \
         {label}={MACHINE_ROLE}): rename it, or name the cache otherwise with {NAME_VAR}"
    )]
    Stranger { name: String, label: &'static str },
    #[error("the apt cache {name} has no address on a Docker network: see `docker inspect {name}`")]
    NoAddress { name: String },
    #[error(
        "the apt cache {name} did not answer on {address} within {} s: see `docker logs {name}`",
        READY_TIMEOUT.as_secs()
    )]
    NotReady { name: String, address: SocketAddr },
    #[error(
        "the apt cache {name} serves {} environment network(s) now ({}): removing it fails \
         their apt downloads; decommission them first, or `argos-cloud cache remove --force`",
        networks.len(),
        networks.join(", ")
    )]
    InUse { name: String, networks: Vec<String> },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> AptCacheError {
    move |source| AptCacheError::Io { what, source }
}

/// What `docker` says of the cache now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheState {
    /// Whether the container exists, and runs.
    pub container: Option<bool>,
    pub volume: bool,
    /// The environment networks it serves (not its own network).
    pub networks: Vec<String>,
    /// The cached files' size, read in the running container.
    pub megabytes: Option<u64>,
}

/// One apt cache: its container and volume share the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptCache {
    name: String,
}

impl AptCache {
    /// The machine's cache: [`DEFAULT_NAME`], or what [`NAME_VAR`] names.
    pub fn machine() -> Self {
        let name = std::env::var(NAME_VAR)
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NAME.to_owned());
        Self { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cache's own network, its way out: named to sort before every
    /// environment network, so its default route stays there (see above).
    pub fn home_network(&self) -> String {
        format!("0-{}", self.name)
    }

    /// Whether [`SWITCH_VAR`] switches the cache off.
    pub fn switched_off() -> bool {
        std::env::var(SWITCH_VAR).is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "0" | "false" | "no"
            )
        })
    }

    fn label(&self) -> String {
        format!("{}={MACHINE_ROLE}", tag_keys::MACHINE)
    }

    /// The container's `docker inspect`, or None when there is none.
    fn inspect(&self) -> Result<Option<Value>, AptCacheError> {
        let text = match cli::docker(&["container", "inspect", &self.name]) {
            Ok(text) => text,
            Err(error) if error.is_gone() => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let parsed: Vec<Value> = serde_json::from_str(&text).map_err(|e| DockerError::Output {
            what: "docker container inspect".into(),
            detail: e.to_string(),
        })?;
        let container = parsed.into_iter().next();
        if let Some(container) = &container
            && container["Config"]["Labels"][tag_keys::MACHINE] != MACHINE_ROLE
        {
            return Err(AptCacheError::Stranger {
                name: self.name.clone(),
                label: tag_keys::MACHINE,
            });
        }
        Ok(container)
    }

    /// The cache's state, or None when neither container nor volume exists.
    pub fn state(&self) -> Result<Option<CacheState>, AptCacheError> {
        let container = self.inspect()?;
        let volume = match cli::docker(&["volume", "inspect", &self.name]) {
            Ok(_) => true,
            Err(error) if error.is_gone() => false,
            Err(error) => return Err(error.into()),
        };
        let Some(container) = container else {
            return Ok(volume.then_some(CacheState {
                container: None,
                volume,
                networks: Vec::new(),
                megabytes: None,
            }));
        };
        let running = container["State"]["Running"] == true;
        let megabytes = if running {
            cli::docker(&["exec", &self.name, "du", "-sm", CACHE_DIR])
                .ok()
                .and_then(|out| out.split_whitespace().next()?.parse().ok())
        } else {
            None
        };
        Ok(Some(CacheState {
            container: Some(running),
            volume,
            networks: environment_networks(&container, &self.home_network()),
            megabytes,
        }))
    }

    /// The line `status` and `sweep` print: the cache is the machine's.
    pub fn describe(&self) -> Result<Option<String>, AptCacheError> {
        let Some(state) = self.state()? else {
            return Ok(None);
        };
        let container = match state.container {
            Some(true) => "running",
            Some(false) => "stopped",
            None => "no container",
        };
        let volume = match (state.volume, state.megabytes) {
            (false, _) => "no volume".to_owned(),
            (true, Some(mb)) => format!("volume {}, {mb} MB", self.name),
            (true, None) => format!("volume {}", self.name),
        };
        let serving = match state.networks.len() {
            0 => String::new(),
            n => format!(", serving {n} environment network(s)"),
        };
        Ok(Some(format!(
            "machine: apt cache {} ({container}, {volume}{serving}), not a run's: \
             remove with `argos-cloud cache remove`",
            self.name
        )))
    }

    /// Start the cache unless it runs, and wait until it answers: its
    /// address. Parallel runs may all ask at once: a file lock makes one
    /// start it, and Docker's "already exists" counts as success.
    pub fn ensure(&self) -> Result<SocketAddr, AptCacheError> {
        let _lock = self.lock()?;
        let container = match self.inspect()? {
            Some(container) => container,
            None => {
                self.create()?;
                self.inspect()?.ok_or_else(|| AptCacheError::NoAddress {
                    name: self.name.clone(),
                })?
            }
        };
        let home = self.home_network();
        let at_home = container["NetworkSettings"]["Networks"][&home].is_object();
        if !at_home {
            // A cache made before it had a network of its own.
            self.make_home()?;
            cli::docker(&["network", "connect", &home, &self.name])?;
        }
        let container = if container["State"]["Running"] == true && at_home {
            container
        } else {
            if container["State"]["Running"] != true {
                cli::docker(&["start", &self.name])?;
            }
            self.inspect()?.ok_or_else(|| AptCacheError::NoAddress {
                name: self.name.clone(),
            })?
        };
        let address = address(&container, &home).ok_or_else(|| AptCacheError::NoAddress {
            name: self.name.clone(),
        })?;
        let address = SocketAddr::new(address, PORT);
        if answers(address, READY_TIMEOUT) {
            Ok(address)
        } else {
            Err(AptCacheError::NotReady {
                name: self.name.clone(),
                address,
            })
        }
    }

    /// The cache's own network, on a subnet of its own (this process probes
    /// the cache there: [`super::on_free_subnet`]); there already is done.
    fn make_home(&self) -> Result<(), AptCacheError> {
        let label = self.label();
        let home = self.home_network();
        let made = super::on_free_subnet(&home, |subnet, gateway| {
            cli::docker(&[
                "network",
                "create",
                "--label",
                &label,
                "--subnet",
                subnet,
                "--gateway",
                gateway,
                &home,
            ])
        });
        match made {
            Err(error) if !already(&error) => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// The volume, then the container on its own network (its way to
    /// Debian's mirror), restarted with the engine.
    fn create(&self) -> Result<(), AptCacheError> {
        if cli::docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE]).is_err() {
            return Err(AptCacheError::ImageMissing {
                image: IMAGE.into(),
            });
        }
        let label = self.label();
        cli::docker(&["volume", "create", "--label", &label, &self.name])?;
        self.make_home()?;
        let home = self.home_network();
        let volume = format!("{}:{CACHE_DIR}", self.name);
        let made = cli::docker(&[
            "run",
            "-d",
            "--name",
            &self.name,
            "--network",
            &home,
            "--label",
            &label,
            "--restart",
            "unless-stopped",
            "-v",
            &volume,
            IMAGE,
        ]);
        match made {
            Err(error) if !already(&error) => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Join `network` as [`ALIAS`]; already joined is done.
    pub fn connect(&self, network: &str) -> Result<(), AptCacheError> {
        match cli::docker(&["network", "connect", "--alias", ALIAS, network, &self.name]) {
            Err(error) if !already(&error) => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Leave `network`; not on it, or no cache at all, is done.
    pub fn disconnect(&self, network: &str) -> Result<(), AptCacheError> {
        match cli::docker(&["network", "disconnect", "-f", network, &self.name]) {
            Err(error) if !(error.is_gone() || not_connected(&error)) => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Remove container, volume and its own network; refused while
    /// environments use it, unless `force`. Returns what was there.
    pub fn remove(&self, force: bool) -> Result<Option<CacheState>, AptCacheError> {
        let _lock = self.lock()?;
        let Some(state) = self.state()? else {
            return Ok(None);
        };
        if !force && !state.networks.is_empty() {
            return Err(AptCacheError::InUse {
                name: self.name.clone(),
                networks: state.networks,
            });
        }
        let name = self.name.as_str();
        let home = self.home_network();
        for args in [
            ["rm", "-f", name],
            ["volume", "rm", name],
            ["network", "rm", home.as_str()],
        ] {
            match cli::docker(&args) {
                Err(error) if !error.is_gone() => return Err(error.into()),
                _ => {}
            }
        }
        Ok(Some(state))
    }

    /// An exclusive lock on this cache (another process may be starting or
    /// removing it), held until the file is dropped.
    fn lock(&self) -> Result<File, AptCacheError> {
        let path = std::env::temp_dir().join(format!("{}.lock", self.name));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("opening the apt cache's lock file"))?;
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(AptCacheError::Io {
                what: "locking the apt cache's lock file",
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(file)
    }
}

/// Docker's answer when what was asked for exists already.
fn already(error: &DockerError) -> bool {
    matches!(error, DockerError::Failed { stderr, .. }
        if stderr.contains("already in use") || stderr.contains("already exists"))
}

fn not_connected(error: &DockerError) -> bool {
    matches!(error, DockerError::Failed { stderr, .. } if stderr.contains("is not connected"))
}

/// The container's address: on its own network `home`, else on any.
fn address(container: &Value, home: &str) -> Option<std::net::IpAddr> {
    let networks = container["NetworkSettings"]["Networks"].as_object()?;
    let of = |n: &Value| n["IPAddress"].as_str()?.parse().ok();
    networks
        .get(home)
        .and_then(of)
        .or_else(|| networks.values().find_map(of))
}

/// The networks the container is on besides its own `home` (and Docker's
/// default bridge, where a cache made before it had a home sits too).
fn environment_networks(container: &Value, home: &str) -> Vec<String> {
    let mut networks: Vec<String> = container["NetworkSettings"]["Networks"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|n| *n != home && *n != "bridge")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    networks.sort();
    networks
}

/// Whether `address` accepts a TCP connection before `timeout` passes:
/// tried at once, then again at growing intervals (a probe, not a sleep).
fn answers(address: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut interval = Duration::from_millis(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if TcpStream::connect_timeout(&address, left.min(Duration::from_secs(2))).is_ok() {
            return true;
        }
        std::thread::sleep(interval.min(deadline.saturating_duration_since(Instant::now())));
        interval = (interval * 2).min(Duration::from_millis(500));
    }
}

/// The apt setting hosts of `network` get, kept in the project while the
/// network exists; its presence says the cache serves that network.
fn proxy_file(project: &Project, network: &str) -> PathBuf {
    project.path(&format!(".argos/apt-cache/{network}.conf"))
}

fn write_proxy_file(file: &Path) -> Result<(), AptCacheError> {
    let text = format!(
        "// argos-cloud: apt's http downloads go through the machine's apt cache\n\
         // (`argos-cloud cache status`); https sources go direct. A cache that\n\
         // answers 500 while it revalidates an index upstream is asked again.\n\
         Acquire::http::Proxy \"http://{ALIAS}:{PORT}\";\n\
         Acquire::Retries \"5\";\n"
    );
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(io("making .argos/apt-cache"))?;
    }
    std::fs::write(file, text).map_err(io("writing the apt proxy setting"))
}

/// Network `network` was just made: the cache joins it, unless switched
/// off or unable to start (said once; the hosts then download directly).
pub(crate) fn attach(progress: &Progress, project: &Project, network: &str) {
    let file = proxy_file(project, network);
    let _ = std::fs::remove_file(&file);
    if AptCache::switched_off() {
        progress.emit(Event::AptCacheOff {
            variable: SWITCH_VAR.to_owned(),
        });
        return;
    }
    let cache = AptCache::machine();
    let joined = cache
        .ensure()
        .and_then(|_| cache.connect(network))
        .and_then(|()| write_proxy_file(&file));
    match joined {
        Ok(()) => progress.emit(Event::AptCacheAttached {
            cache: cache.name.clone(),
            network: network.to_owned(),
            address: format!("{ALIAS}:{PORT}"),
        }),
        Err(error) => {
            let _ = std::fs::remove_file(&file);
            progress.emit(Event::AptCacheUnavailable {
                reason: error.to_string(),
            });
        }
    }
}

/// The mount a host of `network` needs to use the cache, if it serves it.
pub(crate) fn host_args(project: &Project, network: &str) -> Vec<String> {
    let file = proxy_file(project, network);
    match std::path::absolute(&file) {
        Ok(file) if file.is_file() => {
            vec!["-v".into(), format!("{}:{HOST_CONF}:ro", file.display())]
        }
        _ => Vec::new(),
    }
}

/// Network `network` is about to go: the cache leaves it, so the removal
/// never fails on the cache's endpoint. A failure here is said, not raised:
/// the network's removal then names what is left.
pub(crate) fn detach(progress: &Progress, project: &Project, network: &str) {
    let _ = std::fs::remove_file(proxy_file(project, network));
    let cache = AptCache::machine();
    if let Err(error) = cache.disconnect(network) {
        progress.emit(Event::AptCacheNotDetached {
            cache: cache.name.clone(),
            network: network.to_owned(),
            reason: error.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_address_is_on_its_own_network_and_the_others_are_environments() {
        let home = "0-argos-apt-cache";
        let container = json!({"NetworkSettings": {"Networks": {
            "argos-t-b-network": {"IPAddress": "172.19.0.3"},
            "0-argos-apt-cache": {"IPAddress": "172.17.0.2"},
            "argos-t-a-network": {"IPAddress": "172.18.0.3"},
            "bridge": {"IPAddress": "172.16.0.2"},
        }}});
        assert_eq!(
            address(&container, home),
            Some("172.17.0.2".parse().unwrap())
        );
        assert_eq!(
            environment_networks(&container, home),
            ["argos-t-a-network", "argos-t-b-network"]
        );
        let elsewhere = json!({"NetworkSettings": {"Networks": {
            "other": {"IPAddress": "10.0.0.9"}, home: {"IPAddress": ""},
        }}});
        assert_eq!(address(&elsewhere, home), Some("10.0.0.9".parse().unwrap()));
    }

    #[test]
    fn its_own_network_sorts_before_every_environment_network() {
        // Docker routes through the network whose name sorts first; an
        // environment network is `<app>-<env>-network`, the app a name.
        let home = AptCache::machine().home_network();
        for app in ["a", "aa", "argos", "zz9"] {
            let app = crate::model::names::AppName::new(app).unwrap();
            let env = crate::model::names::EnvName::new("t-x-1").unwrap();
            let network = crate::model::names::EnvNames::new(app, env).resource("network");
            assert!(home < network, "{home} sorts before {network}");
        }
    }

    #[test]
    fn a_closed_port_does_not_answer_and_an_open_one_does() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        assert!(answers(open, Duration::from_secs(2)));
        drop(listener);
        let started = Instant::now();
        assert!(!answers(open, Duration::from_millis(300)));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the deadline holds"
        );
    }
}
