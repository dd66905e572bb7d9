//! Deploy: run the role playbooks on an environment's hosts with
//! `ansible-playbook`, and report per host what happened.
//!
//! Hosts are probed (TCP, then the SSH banner) with a deadline before Ansible
//! starts, so an unreachable host is named at once. Ansible gets a generated
//! static inventory, the settings overrides as extra vars (a private file,
//! removed afterwards), pipelining and connection reuse, and host keys
//! checked against a known_hosts file (one per environment, or per run for
//! throwaway hosts). Its output goes to a log file only its owner can read;
//! task lines go to the progress sink; the `argos_events` callback gives the
//! per-host summary.

mod ansible;
mod known_hosts;
mod reach;
mod report;
mod strategy;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub use ansible::{AnsiblePlaybook, MIN_ANSIBLE_CORE};
pub use known_hosts::{HostKeys, RunKnownHosts, known_hosts_file, remove as remove_known_hosts};
pub use reach::{UnreachableHost, probe_ssh};
pub use report::{ChangedTask, DeployReport, HostSummary, PlaybookReport, TaskFailure, TaskTime};
pub use strategy::{
    MITOGEN_PIN, MitogenUnavailable, Strategy, StrategyChoice, resolve as resolve_strategy,
};

use crate::converge::destinations::Refused;
use crate::converge::inventory::Inventory;
use crate::model::names::Group;
use crate::model::project::Project;
use crate::model::topology::Topology;
use crate::sys::progress::{Event, Progress};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "ansible-playbook not found: run .ci/run (it installs ansible-core into .venv), \
         `pip install 'ansible-core>={MIN_ANSIBLE_CORE}'`, or set ARGOS_ANSIBLE_PLAYBOOK"
    )]
    NoAnsible,
    #[error(
        "{program}: ansible-core {found} is older than the {MIN_ANSIBLE_CORE} argos-cloud needs"
    )]
    OldAnsible { program: String, found: String },
    #[error("unknown role {role:?}: the roles are {}", known.join(", "))]
    UnknownRole { role: String, known: Vec<String> },
    #[error("playbook {} does not exist", path.display())]
    NoPlaybookFile { path: PathBuf },
    #[error("{} has no playbook {role}.yml", dir.display())]
    MissingPlaybook { dir: PathBuf, role: String },
    #[error("{}", unreachable.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Unreachable { unreachable: Vec<UnreachableHost> },
    #[error("{}", refused.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Refused { refused: Vec<Refused> },
    #[error(transparent)]
    Mitogen(#[from] MitogenUnavailable),
    #[error("cannot run ansible-playbook: {0}")]
    Io(#[from] std::io::Error),
}

/// What a deploy runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playbooks {
    /// The project's roles by name (`playbooks/<role>.yml`), in the
    /// topology's deploy order; none named means every group with hosts.
    Roles(Vec<String>),
    /// These playbook files, in this order (a scenario's own).
    Files(Vec<PathBuf>),
}

impl Playbooks {
    /// Every group with hosts, in deploy order.
    pub fn all() -> Self {
        Playbooks::Roles(Vec::new())
    }

    pub fn roles(roles: &[&str]) -> Self {
        Playbooks::Roles(roles.iter().map(|r| (*r).to_owned()).collect())
    }
}

#[derive(Debug, Clone)]
pub struct DeployRequest<'a> {
    pub project: &'a Project,
    pub inventory: &'a Inventory,
    /// The project's groups in deploy order.
    pub topology: &'a Topology,
    pub playbooks: Playbooks,
    /// Folders searched for roles before the project's own `playbooks/roles`
    /// (a scenario's role under test, its installed requirements).
    pub roles_path: Vec<PathBuf>,
    /// Folders searched for collections (a scenario's installed requirements).
    pub collections_path: Vec<PathBuf>,
    /// Further environment variables for Ansible (Molecule's `MOLECULE_*`,
    /// which roles' playbooks read).
    pub environment: Vec<(String, String)>,
    /// Passed to Ansible as extra vars: settings overrides, backend switches.
    pub extra_vars: Map<String, Value>,
    pub host_keys: HostKeys,
    /// Where full logs are kept.
    pub log_dir: PathBuf,
    /// How long a host may take to answer SSH before deploy gives up.
    pub reach_timeout: Duration,
    /// The `ansible_strategy` setting: Mitogen or ansible-core's linear.
    pub strategy: StrategyChoice,
    /// SSH masters kept across deploys (a scenario run's, closed when it
    /// ends); `None`: this deploy's own, closed when it ends.
    pub masters: Option<&'a SshMasters>,
    pub progress: Progress,
}

/// The playbook files to run, in order: the requested roles in the
/// topology's deploy order (`image` is the bake's, last), every group with
/// hosts when none is named, or the files as given.
pub fn playbooks(
    project: &Project,
    inventory: &Inventory,
    topology: &Topology,
    what: &Playbooks,
) -> Result<Vec<PathBuf>, DeployError> {
    Ok(playbook_waves(project, inventory, topology, what)?
        .into_iter()
        .flatten()
        .collect())
}

/// The playbook files to run, in waves: a wave's playbooks run at the same
/// time, each wave after the one before has succeeded. Roles are grouped
/// by the topology's `after` ([`Topology::deploy_waves`]); files as given
/// run one by one.
pub fn playbook_waves(
    project: &Project,
    inventory: &Inventory,
    topology: &Topology,
    what: &Playbooks,
) -> Result<Vec<Vec<PathBuf>>, DeployError> {
    let dir = project.path(Project::PLAYBOOKS);
    let roles = match what {
        Playbooks::Files(files) => {
            if let Some(path) = files.iter().find(|f| !f.is_file()) {
                return Err(DeployError::NoPlaybookFile { path: path.clone() });
            }
            return Ok(files.iter().map(|f| vec![f.clone()]).collect());
        }
        Playbooks::Roles(roles) => roles,
    };
    let known: Vec<Group> = topology
        .deploy_order()
        .chain([&Group::IMAGE])
        .cloned()
        .collect();
    let chosen: Vec<Group> = if roles.is_empty() {
        topology
            .deploy_order()
            .filter(|g| inventory.in_group(g).next().is_some())
            .cloned()
            .collect()
    } else {
        if let Some(role) = roles
            .iter()
            .find(|r| !known.iter().any(|k| k.as_str() == *r))
        {
            return Err(DeployError::UnknownRole {
                role: role.clone(),
                known: known.iter().map(ToString::to_string).collect(),
            });
        }
        known
            .into_iter()
            .filter(|k| roles.iter().any(|r| r == k.as_str()))
            .collect()
    };
    topology
        .deploy_waves(&chosen)
        .into_iter()
        .map(|wave| {
            wave.into_iter()
                .map(|role| {
                    let path = dir.join(format!("{role}.yml"));
                    if path.is_file() {
                        Ok(path)
                    } else {
                        Err(DeployError::MissingPlaybook {
                            dir: dir.clone(),
                            role: role.to_string(),
                        })
                    }
                })
                .collect()
        })
        .collect()
}

/// Probe every host, then run the playbooks wave by wave (a wave's
/// playbooks at the same time); stop after the first wave with a failure.
pub async fn deploy(
    ansible: &AnsiblePlaybook,
    request: &DeployRequest<'_>,
) -> Result<DeployReport, DeployError> {
    let waves = playbook_waves(
        request.project,
        request.inventory,
        request.topology,
        &request.playbooks,
    )?;
    let refused = request.inventory.refused();
    if !refused.is_empty() {
        return Err(DeployError::Refused { refused });
    }
    let strategy = strategy::resolve(request.strategy, ansible)?;
    let unreachable =
        reach::probe_all(request.inventory, request.reach_timeout, &request.progress).await;
    if !unreachable.is_empty() {
        return Err(DeployError::Unreachable { unreachable });
    }
    if strategy.is_mitogen() {
        // Mitogen checks host keys strictly (it puts StrictHostKeyChecking
        // yes before Ansible's ssh arguments, and ssh takes the first): the
        // first contact's key is recorded beforehand, by the same rule as
        // without it (accept-new into this run's known_hosts).
        let unreachable =
            reach::record_host_keys(request.inventory, &request.host_keys, request.reach_timeout)
                .await;
        if !unreachable.is_empty() {
            return Err(DeployError::Unreachable { unreachable });
        }
        if strategy::first_mitogen_run() {
            request.progress.emit(Event::MitogenDeprecation {
                strategy: strategy.to_string(),
            });
        }
    }
    std::fs::create_dir_all(&request.log_dir)?;
    let work = tempfile::Builder::new().prefix("argos-deploy-").tempdir()?;
    let own_masters;
    let masters = match request.masters {
        Some(masters) => masters,
        None => {
            own_masters = SshMasters::new(&request.inventory.env.stack())?;
            &own_masters
        }
    };
    let inventory_file = work.path().join("inventory.json");
    std::fs::write(
        &inventory_file,
        serde_json::to_vec_pretty(&request.inventory.static_file()).expect("JSON"),
    )?;
    // The callback that reports every event to argos-cloud is the engine's
    // own, not the project's: any project's playbooks report the same way.
    let callbacks = work.path().join("callback_plugins");
    std::fs::create_dir_all(&callbacks)?;
    std::fs::write(callbacks.join("argos_events.py"), EVENTS_CALLBACK)?;
    let extra_vars = work.path().join("extra-vars.json");
    write_private(
        &extra_vars,
        &serde_json::to_vec(&request.extra_vars).expect("JSON"),
    )?;

    let mut report = DeployReport {
        strategy: Some(strategy.clone()),
        ..DeployReport::default()
    };
    for wave in waves {
        // Lines of playbooks running together carry their playbook's name.
        let together = wave.len() > 1;
        if together {
            let names: Vec<String> = wave.iter().map(|p| playbook_name(p)).collect();
            request
                .progress
                .emit(Event::PlaybooksTogether { playbooks: names });
        }
        let results = futures_util::future::join_all(wave.iter().map(|playbook| {
            run_playbook(
                ansible,
                request,
                playbook,
                together,
                &inventory_file,
                &extra_vars,
                work.path(),
                masters,
                &strategy,
            )
        }))
        .await;
        let mut failed = false;
        for result in results {
            let result = result?;
            failed |= !result.succeeded();
            report.playbooks.push(result);
        }
        if failed {
            break;
        }
    }
    Ok(report)
}

/// The Ansible callback that writes every event as a JSON line for
/// [`report`] (`ARGOS_EVENTS_FILE`); written beside each run's inventory.
pub const EVENTS_CALLBACK: &str = include_str!("argos_events.py");

/// `app.yml` of `playbooks/app.yml`.
fn playbook_name(playbook: &Path) -> String {
    playbook
        .file_name()
        .map_or_else(|| "playbook".into(), |n| n.to_string_lossy().into_owned())
}

/// A file only its owner can read: extra vars hold secrets.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::io::Write::write_all(&mut crate::model::secret::private_file(path)?, bytes)
}

#[allow(clippy::too_many_arguments)]
async fn run_playbook(
    ansible: &AnsiblePlaybook,
    request: &DeployRequest<'_>,
    playbook: &Path,
    labelled: bool,
    inventory_file: &Path,
    extra_vars: &Path,
    work: &Path,
    masters: &SshMasters,
    strategy: &Strategy,
) -> Result<PlaybookReport, DeployError> {
    let playbooks = request.project.path(Project::PLAYBOOKS);
    let file_name = playbook_name(playbook);
    let role = file_name
        .strip_suffix(".yml")
        .or_else(|| file_name.strip_suffix(".yaml"))
        .unwrap_or(&file_name)
        .to_owned();
    let events = work.join(format!("{role}.events.jsonl"));
    let stamp = crate::model::names::rfc3339(std::time::SystemTime::now()).replace(':', "");
    let log_path = request.log_dir.join(format!(
        "{}-{role}-{stamp}.log",
        request.inventory.env.stack()
    ));
    let ssh_args = request.host_keys.ssh_options()?.join(" ");
    let mut command = tokio::process::Command::new(ansible.program());
    command
        .arg("-i")
        .arg(inventory_file)
        .arg("-e")
        .arg(format!("@{}", extra_vars.display()))
        .arg(playbook)
        .env("ANSIBLE_CALLBACK_PLUGINS", work.join("callback_plugins"))
        .env("ANSIBLE_CALLBACKS_ENABLED", "argos_events")
        .env("ARGOS_EVENTS_FILE", &events)
        .env("ANSIBLE_PIPELINING", "True")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("ANSIBLE_HOST_KEY_CHECKING", "True")
        .env(
            "ANSIBLE_SSH_ARGS",
            format!("-o ControlMaster=auto -o ControlPersist=60s -o ServerAliveInterval=15 -o ServerAliveCountMax=4 {ssh_args}"),
        )
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_SSH_CONTROL_PATH_DIR", masters.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let config = playbooks.join("ansible.cfg");
    if config.is_file() {
        command.env("ANSIBLE_CONFIG", config);
    }
    // A scenario's roles first, then the project's: ANSIBLE_ROLES_PATH
    // replaces the config's roles_path, so the project's goes on the end.
    if !request.roles_path.is_empty() {
        let paths = request
            .roles_path
            .iter()
            .cloned()
            .chain([playbooks.join("roles")]);
        command.env(
            "ANSIBLE_ROLES_PATH",
            std::env::join_paths(paths).map_err(std::io::Error::other)?,
        );
    }
    command.envs(strategy.env());
    command.envs(request.environment.iter().map(|(k, v)| (k, v)));
    if !request.collections_path.is_empty() {
        command.env(
            "ANSIBLE_COLLECTIONS_PATH",
            std::env::join_paths(&request.collections_path).map_err(std::io::Error::other)?,
        );
    }
    request.progress.emit(Event::PlaybookStarted {
        playbook: file_name.clone(),
        log: log_path.display().to_string(),
    });
    // Its own process group, ended with Ansible's workers and their ssh when
    // this run is dropped (Ctrl-C drops it; see crate::sys::signal).
    let (mut child, _group) = crate::sys::signal::spawn_async(&mut command)?;
    // The log may quote what a failing task was given: its owner's only.
    let mut log = tokio::fs::File::from_std(crate::model::secret::private_file(&log_path)?);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let (mut out_open, mut err_open) = (true, true);
    let mut errors = Vec::new();
    while out_open || err_open {
        let line = tokio::select! {
            line = stdout.next_line(), if out_open => line?.or_else(|| { out_open = false; None }),
            line = stderr.next_line(), if err_open => line?.or_else(|| { err_open = false; None }),
        };
        if let Some(line) = line {
            log.write_all(line.as_bytes()).await?;
            log.write_all(b"\n").await?;
            if is_progress_line(&line) {
                request.progress.emit(Event::AnsibleOutput {
                    playbook: labelled.then(|| role.clone()),
                    line: line.clone(),
                });
            }
            if (line.starts_with("ERROR!") || line.starts_with("[ERROR]")) && errors.len() < 5 {
                errors.push(line);
            }
        }
    }
    let status = child.wait().await?;
    log.flush().await?;
    let events_text = std::fs::read_to_string(&events).unwrap_or_default();
    let mut report = PlaybookReport::from_events(&file_name, &events_text);
    report.exit_code = status.code();
    report.log = log_path.display().to_string();
    report.errors = errors;
    Ok(report)
}

/// The folder of Ansible's SSH connection masters (ControlPersist) for one
/// deploy, or for every deploy of a scenario run (its steps reuse one
/// connection per host). A master leaves its process group (it
/// daemonizes), so ending the group does not end it: the masters are told
/// to exit when this is dropped, rather than lingering on after it. The
/// folder is short (a socket path holds at most 107 bytes, and ssh adds 57
/// to it) and carries the stack's name, so `ps` shows whose master one is.
#[derive(Debug)]
pub struct SshMasters {
    dir: tempfile::TempDir,
}

impl SshMasters {
    pub fn new(stack: &str) -> std::io::Result<Self> {
        let stack: String = stack.chars().take(24).collect();
        let dir = tempfile::Builder::new()
            .prefix(&format!("argos-ssh-{stack}-"))
            .tempdir_in("/tmp")?;
        Ok(Self { dir })
    }
}

impl Drop for SshMasters {
    fn drop(&mut self) {
        let Ok(sockets) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        // Cleanup: after Ctrl-C, a child started outside it is ended at
        // once, and the masters would outlive the deploy.
        crate::sys::signal::cleanup(|| {
            for socket in sockets.flatten() {
                let _ = crate::sys::process::output(
                    std::process::Command::new("ssh")
                        .arg("-o")
                        .arg(format!("ControlPath={}", socket.path().display()))
                        .args(["-O", "exit", "argos-deploy"]),
                );
            }
        });
    }
}

/// The lines worth showing live: plays, tasks and anything that went wrong.
fn is_progress_line(line: &str) -> bool {
    [
        "PLAY [",
        "TASK [",
        "RUNNING HANDLER [",
        "fatal:",
        "failed:",
        "ERROR!",
        "[ERROR]",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}
