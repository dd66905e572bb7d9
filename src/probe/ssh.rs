//! Reaching a host the way Ansible does (OpenSSH, the environment's key),
//! to run a command there or to open a TCP connection that starts on it
//! (`ssh -W`): a probe "from app to database:5432" really leaves the app host.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, Join};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::ProbeFailure;
use crate::converge::deploy::HostKeys;
use crate::converge::inventory::Host;

/// How to log in to one host.
#[derive(Debug, Clone)]
pub struct SshHost {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub key: Option<PathBuf>,
    pub host_keys: HostKeys,
}

impl SshHost {
    pub fn new(host: &Host, host_keys: HostKeys) -> Self {
        Self {
            name: host.name.clone(),
            address: host.address.clone(),
            port: host.port,
            user: host.user.clone(),
            key: host
                .vars
                .get("ansible_ssh_private_key_file")
                .map(PathBuf::from),
            host_keys,
        }
    }

    fn ssh(&self, connect_timeout: Duration) -> Result<Command, ProbeFailure> {
        let mut command = Command::new("ssh");
        command
            .args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])
            .arg("-o")
            .arg(format!(
                "ConnectTimeout={}",
                connect_timeout.as_secs().max(1)
            ))
            .args(["-p", &self.port.to_string()]);
        command.args(
            self.host_keys
                .ssh_options()
                .map_err(|e| ProbeFailure::KnownHosts {
                    address: self.address.clone(),
                    reason: e.to_string(),
                })?,
        );
        if let Some(key) = &self.key {
            command.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(key);
        }
        command
            .arg(format!("{}@{}", self.user, self.address))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Started with `spawn_async`: a process group of its own, so a
        // Ctrl-C meant for argos-cloud reaches argos-cloud, which then ends it.
        Ok(command)
    }

    /// Run `script` with `sh -c` on the host: (exit code, stdout, stderr).
    pub async fn run(
        &self,
        script: &str,
        timeout: Duration,
    ) -> Result<(i32, String, String), ProbeFailure> {
        let mut command = self.ssh(timeout)?;
        command.arg("--").arg(script);
        let (child, _group) = crate::sys::signal::spawn_async(&mut command).map_err(cannot_run)?;
        let output = tokio::time::timeout(timeout, child.wait_with_output())
            .await
            .map_err(|_| ProbeFailure::NoAnswer {
                seconds: timeout.as_secs(),
            })?
            .map_err(cannot_run)?;
        let code = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if code == 255 {
            return Err(ProbeFailure::Ssh {
                address: self.address.clone(),
                said: stderr,
            });
        }
        Ok((code, stdout, stderr))
    }

    /// A TCP connection to `address:port` that starts on this host.
    pub fn connect(
        &self,
        address: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Tunnel, ProbeFailure> {
        let mut command = self.ssh(timeout)?;
        command
            .arg("-W")
            .arg(format!("{address}:{port}"))
            .stdin(Stdio::piped());
        let (mut child, group) =
            crate::sys::signal::spawn_async(&mut command).map_err(cannot_run)?;
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take().expect("piped");
        Ok(Tunnel {
            child,
            group,
            stream: tokio::io::join(stdout, stdin),
        })
    }
}

/// A connection made through a host; `stream` reads and writes it.
pub struct Tunnel {
    pub child: Child,
    /// Its process group, ended with the tunnel (or by a signal).
    pub group: crate::sys::signal::ChildGroup,
    pub stream: Join<ChildStdout, ChildStdin>,
}

impl Tunnel {
    /// Why the connection ended early (see [`why_closed`]).
    pub async fn failure(self) -> ProbeFailure {
        ProbeFailure::Closed {
            said: why_closed(self.child).await,
        }
    }
}

fn cannot_run(error: std::io::Error) -> ProbeFailure {
    ProbeFailure::CannotRunSsh {
        reason: error.to_string(),
    }
}

/// Why a tunnel's connection ended early, from ssh's own words
/// ("connect failed: Connection refused").
pub async fn why_closed(mut child: Child) -> String {
    // Killed first: what it wrote stays readable, and a tunnel that is
    // still open (a wrong protocol, not a closed port) ends here.
    let _ = child.start_kill();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ =
            tokio::time::timeout(Duration::from_secs(5), pipe.read_to_string(&mut stderr)).await;
    }
    let reason: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("stdio forwarding failed"))
        .collect();
    if reason.is_empty() {
        "the connection closed without an answer".into()
    } else {
        reason.join("; ")
    }
}
