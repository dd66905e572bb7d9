//! `tcp`: something listens on a port. As a health probe the host tries
//! its own private address; as a connection (`probe: tcp`) the source host
//! tries the target's. The connect is made on the host, by bash's
//! `/dev/tcp`, so it proves what that host can reach.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::ATTEMPT_TIMEOUT;
use super::{HostRef, ProbeFailure, SshHost};

/// Something listens on this port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    pub host: HostRef,
    pub port: u16,
}

impl TcpProbe {
    pub fn describe(&self) -> String {
        format!("tcp {}:{} is open", self.host, self.port)
    }
}

/// Connect from the host to `address:port`.
pub async fn open(ssh: &SshHost, address: &str, port: u16) -> Result<String, ProbeFailure> {
    // `address` is an inventory address (checked when the inventory was
    // read), never a scenario's text.
    let script = format!("timeout 10 bash -c '</dev/tcp/{address}/{port}' 2>&1");
    let (code, stdout, _) = ssh.run(&script, ATTEMPT_TIMEOUT).await?;
    if code == 0 {
        return Ok("connected".into());
    }
    let reason = stdout
        .lines()
        .last()
        .map(|l| l.rsplit(": ").next().unwrap_or(l).to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "timed out".into());
    Err(ProbeFailure::CannotConnect { reason })
}
