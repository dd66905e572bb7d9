//! `http`: a GET answers with the expected status (and body text). As a
//! health probe the host asks its own private address; as a connection
//! (`probe: http`) the source host asks the target, through a tunnel that
//! starts on it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::ATTEMPT_TIMEOUT;
use super::{HostRef, ProbeFailure, SshHost, excerpt, http_client};

/// An HTTP GET on the host itself answers with this status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    pub host: HostRef,
    pub port: u16,
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default = "ok_status")]
    pub status: u16,
    /// Text the body must contain.
    #[serde(default)]
    pub body_contains: Option<String>,
}

fn root_path() -> String {
    "/".into()
}

fn ok_status() -> u16 {
    200
}

impl HttpProbe {
    pub fn describe(&self) -> String {
        format!(
            "http {}:{}{} answers {}",
            self.host, self.port, self.path, self.status
        )
    }
}

/// GET `path` from `address:port`, through a tunnel that starts on the host.
pub async fn get(
    ssh: &SshHost,
    address: &str,
    port: u16,
    path: &str,
    want: u16,
    contains: Option<&str>,
) -> Result<String, ProbeFailure> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let answer = http_client::request(&mut tunnel.stream, address, "GET", path, None, "*/*").await;
    let response = match answer {
        Ok(Some(response)) => response,
        Ok(None) | Err(_) => return Err(tunnel.failure().await),
    };
    if response.status != want {
        return Err(ProbeFailure::Status {
            got: response.status,
            want,
            body: excerpt(&response.body),
        });
    }
    if let Some(text) = contains
        && !response.body.contains(text)
    {
        return Err(ProbeFailure::BodyLacks {
            text: text.to_owned(),
            body: excerpt(&response.body),
        });
    }
    Ok(format!("{} {}", response.status, excerpt(&response.body)))
}
