//! Is each host reachable over SSH? A TCP connect and the server's banner,
//! retried with a deadline: no fixed sleep before the first contact.

use std::fmt;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::HostKeys;
use crate::converge::inventory::Inventory;
use crate::sys::progress::Progress;
use crate::sys::wait::{self, Backoff, Poll};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachableHost {
    pub host: String,
    pub address: String,
    pub reason: String,
}

impl fmt::Display for UnreachableHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "host {} ({}) is unreachable over SSH: {}",
            self.host, self.address, self.reason
        )
    }
}

const PROBE_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(200),
    factor: 1.5,
    cap: Duration::from_secs(5),
};

/// Wait until `address` answers with an SSH banner, or `timeout` passes.
pub async fn probe_ssh(address: &str, timeout: Duration) -> Result<(), String> {
    let last_error = std::sync::Mutex::new(String::from("no answer"));
    let outcome = wait::until(address, timeout, PROBE_BACKOFF, || async {
        match banner(address).await {
            Ok(()) => Ok::<_, std::convert::Infallible>(Poll::Ready(())),
            Err(error) => {
                *last_error.lock().expect("last error") = error;
                Ok(Poll::Pending)
            }
        }
    })
    .await;
    outcome.map_err(|_| {
        format!(
            "{} (gave up after {timeout:?})",
            last_error.lock().expect("last error")
        )
    })
}

async fn banner(address: &str) -> Result<(), String> {
    let connect = tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(address));
    let mut stream = connect
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buffer));
    let n = read
        .await
        .map_err(|_| "no SSH banner".to_owned())?
        .map_err(|e| e.to_string())?;
    if buffer[..n].starts_with(b"SSH-") {
        Ok(())
    } else {
        Err("the port answers, but not with SSH".to_owned())
    }
}

/// Probe every SSH host of the inventory at once; return the ones that never answered.
pub async fn probe_all(
    inventory: &Inventory,
    timeout: Duration,
    progress: &Progress,
) -> Vec<UnreachableHost> {
    let ssh_hosts: Vec<_> = ssh_hosts(inventory).collect();
    if !ssh_hosts.is_empty() {
        progress.emit(crate::sys::progress::Event::WaitingForSsh {
            hosts: ssh_hosts.len(),
        });
    }
    let mut probes = tokio::task::JoinSet::new();
    for host in ssh_hosts {
        let (name, address) = (host.name.clone(), format!("{}:{}", host.address, host.port));
        probes.spawn(async move {
            probe_ssh(&address, timeout)
                .await
                .err()
                .map(|reason| UnreachableHost {
                    host: name,
                    address,
                    reason,
                })
        });
    }
    let mut unreachable: Vec<UnreachableHost> =
        probes.join_all().await.into_iter().flatten().collect();
    unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    unreachable
}

/// Log in to every SSH host once (`ssh ... true`) with the deploy's host-key
/// options, so each key is recorded in the known_hosts file (accept-new) or
/// checked against it; return the hosts that could not be logged in to.
pub async fn record_host_keys(
    inventory: &Inventory,
    host_keys: &HostKeys,
    timeout: Duration,
) -> Vec<UnreachableHost> {
    let options = match host_keys.ssh_options() {
        Ok(options) => options,
        Err(e) => {
            return vec![UnreachableHost {
                host: "every host".into(),
                address: "-".into(),
                reason: format!("its known_hosts file: {e}"),
            }];
        }
    };
    let mut logins = tokio::task::JoinSet::new();
    for host in ssh_hosts(inventory) {
        let mut command = tokio::process::Command::new("ssh");
        command
            .args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])
            .arg("-o")
            .arg(format!("ConnectTimeout={}", timeout.as_secs().max(1)))
            .args(["-p", &host.port.to_string()])
            .args(&options);
        if let Some(key) = host.vars.get("ansible_ssh_private_key_file") {
            command.args(["-o", "IdentitiesOnly=yes", "-i", key]);
        }
        command
            .arg(format!("{}@{}", host.user, host.address))
            .arg("true")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let (name, address) = (host.name.clone(), format!("{}:{}", host.address, host.port));
        logins.spawn(async move {
            let failed = |reason: String| UnreachableHost {
                host: name.clone(),
                address: address.clone(),
                reason,
            };
            let (child, _group) = match crate::sys::signal::spawn_async(&mut command) {
                Ok(started) => started,
                Err(e) => return Some(failed(format!("cannot run ssh: {e}"))),
            };
            match tokio::time::timeout(timeout, child.wait_with_output()).await {
                Err(_) => Some(failed(format!("no login within {timeout:?}"))),
                Ok(Err(e)) => Some(failed(format!("ssh: {e}"))),
                Ok(Ok(output)) if output.status.success() => None,
                Ok(Ok(output)) => Some(failed(format!(
                    "logging in to record its host key: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ))),
            }
        });
    }
    let mut unreachable: Vec<UnreachableHost> =
        logins.join_all().await.into_iter().flatten().collect();
    unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    unreachable
}

/// The hosts Ansible reaches over SSH (not `docker exec`, not local).
fn ssh_hosts(inventory: &Inventory) -> impl Iterator<Item = &crate::converge::inventory::Host> {
    inventory
        .hosts
        .iter()
        .filter(|h| h.vars.get("ansible_connection").is_none_or(|c| c == "ssh"))
}
