//! Probes: what `verify` and `check` ask of a converged environment.
//! Health probes run on one host about itself; connectivity probes open a
//! connection that starts on one host and ends on another's port, and
//! speak the service's protocol over it.
//!
//! One file per kind, each owning what a scenario writes for it and how it
//! runs (`tcp`, `unit`, `http`, `command`, `file`, `postgres`, `sparql`,
//! `ner`); this file is the enums scenarios write and the dispatch to the
//! kinds. Each probe is retried with a deadline (a service may still be
//! starting, see [`ProbeContext`]), and every failure is a
//! [`ProbeFailure`] named with the host it ran on and the probe.

mod check;
mod command;
mod context;
mod failure;
mod file;
mod http;
mod http_client;
mod ner;
mod postgres;
mod sparql;
mod ssh;
mod tcp;
mod unit;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use check::{CheckError, check, verdict};
pub use command::CommandProbe;
pub use context::ProbeContext;
pub use failure::ProbeFailure;
pub use file::FileProbe;
pub use http::HttpProbe;
pub use postgres::DatabaseLogin;
pub use ssh::{SshHost, Tunnel};
pub use tcp::TcpProbe;
pub use unit::UnitProbe;

use crate::model::secret::Secret;
use context::ATTEMPT_TIMEOUT;

/// The host a probe runs on or reaches: a host's own name (`hosts[].name`)
/// or a group, meaning its first host.
pub type HostRef = String;

/// What `verify` checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Every resource carries Name, Group, Env and App with the right values,
    /// and the harness tags `argos:run` and `argos:expires`.
    #[serde(default = "yes")]
    pub tags: bool,
    /// Checks run on one host, about that host.
    #[serde(default)]
    pub health: Vec<HealthProbe>,
    /// Checks run from one host to another host's port.
    #[serde(default)]
    pub connectivity: Vec<Connection>,
}

impl Default for Expectations {
    fn default() -> Self {
        Self {
            tags: true,
            health: Vec::new(),
            connectivity: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A check on one host, written as a one-key map: `http: {...}`,
/// `unit: {...}`, `tcp: {...}`, `command: {...}` or `file: {...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "OneHealthProbe")]
pub enum HealthProbe {
    Http(HttpProbe),
    Unit(UnitProbe),
    Tcp(TcpProbe),
    Command(CommandProbe),
    File(FileProbe),
}

/// YAML's form of [`HealthProbe`]: a map with exactly one of the keys, so
/// that none or two is an error that says so.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OneHealthProbe {
    #[serde(default)]
    http: Option<HttpProbe>,
    #[serde(default)]
    unit: Option<UnitProbe>,
    #[serde(default)]
    tcp: Option<TcpProbe>,
    #[serde(default)]
    command: Option<CommandProbe>,
    #[serde(default)]
    file: Option<FileProbe>,
}

impl TryFrom<OneHealthProbe> for HealthProbe {
    type Error = &'static str;

    fn try_from(one: OneHealthProbe) -> Result<Self, Self::Error> {
        let found: Vec<HealthProbe> = [
            one.http.map(HealthProbe::Http),
            one.unit.map(HealthProbe::Unit),
            one.tcp.map(HealthProbe::Tcp),
            one.command.map(HealthProbe::Command),
            one.file.map(HealthProbe::File),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[HealthProbe; 1]>::try_from(found) {
            Ok([probe]) => Ok(probe),
            Err(found) if found.is_empty() => {
                Err("a health probe needs one of http, unit, tcp, command, file")
            }
            Err(_) => Err("a health probe has exactly one of http, unit, tcp, command, file"),
        }
    }
}

impl HealthProbe {
    pub fn host(&self) -> &HostRef {
        match self {
            HealthProbe::Http(p) => &p.host,
            HealthProbe::Unit(p) => &p.host,
            HealthProbe::Tcp(p) => &p.host,
            HealthProbe::Command(p) => &p.host,
            HealthProbe::File(p) => &p.host,
        }
    }

    /// The probe's key in YAML (`http`, `unit`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            HealthProbe::Http(_) => "http",
            HealthProbe::Unit(_) => "unit",
            HealthProbe::Tcp(_) => "tcp",
            HealthProbe::Command(_) => "command",
            HealthProbe::File(_) => "file",
        }
    }

    /// The probe as a report line names it.
    pub fn describe(&self) -> String {
        match self {
            HealthProbe::Http(p) => p.describe(),
            HealthProbe::Unit(p) => p.describe(),
            HealthProbe::Tcp(p) => p.describe(),
            HealthProbe::Command(p) => p.describe(),
            HealthProbe::File(p) => p.describe(),
        }
    }
}

/// A check from one host to another: the connection starts on `from`, so
/// it proves what that host can reach, not what the test machine can.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub from: HostRef,
    pub to: HostRef,
    pub probe: ProbeKind,
    /// Default: the probe's usual port (postgres 5432, sparql-ask 3030, ner 8080, http 80).
    #[serde(default)]
    pub port: Option<u16>,
    /// http: the path to GET. sparql-ask: the SPARQL endpoint path.
    #[serde(default)]
    pub path: Option<String>,
    /// http: the status expected.
    #[serde(default)]
    pub status: Option<u16>,
    /// postgres: log in with this password instead of the settings' db_pass
    /// (to prove a wrong password is refused).
    #[serde(default)]
    pub password: Option<String>,
}

/// How a connection is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// Log in with the settings' db_name, db_user and db_pass and run `SELECT 1`.
    Postgres,
    /// POST `ASK {}` to the SPARQL endpoint; the answer must be `true`.
    SparqlAsk,
    /// Send a sentence to a Stanford NER socket server; the answer must tag a PERSON and a LOCATION.
    Ner,
    /// The port accepts a TCP connection.
    Tcp,
    /// An HTTP GET answers with the expected status.
    Http,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Postgres => "postgres",
            ProbeKind::SparqlAsk => "sparql-ask",
            ProbeKind::Ner => "ner",
            ProbeKind::Tcp => "tcp",
            ProbeKind::Http => "http",
        }
    }

    /// The port the probe uses when the scenario names none.
    pub fn default_port(self) -> Option<u16> {
        match self {
            ProbeKind::Postgres => Some(5432),
            ProbeKind::SparqlAsk => Some(3030),
            ProbeKind::Ner => Some(8080),
            ProbeKind::Http => Some(80),
            ProbeKind::Tcp => None,
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The host the probe ran on (inventory name).
    pub host: String,
    /// The probe, e.g. `postgres app -> database (10.0.0.3:5432)`.
    pub probe: String,
    /// What it saw, or why it failed.
    pub outcome: Result<String, ProbeFailure>,
}

impl ProbeResult {
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
    }

    fn failed(host: &str, probe: String, failure: ProbeFailure) -> Self {
        Self {
            host: host.to_owned(),
            probe,
            outcome: Err(failure),
        }
    }
}

impl fmt::Display for ProbeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(detail) => write!(f, "ok    {} on {}: {detail}", self.probe, self.host),
            Err(reason) => write!(f, "FAIL  {} on {}: {reason}", self.probe, self.host),
        }
    }
}

/// The dispatch: each probe to its kind's file, retried.
impl ProbeContext<'_> {
    pub async fn health(&self, probe: &HealthProbe) -> ProbeResult {
        let target = probe.host();
        let described = probe.describe();
        let host = match self.host(target) {
            Ok(host) => host,
            Err(failure) => return ProbeResult::failed(target, described, failure),
        };
        let ssh = SshHost::new(host, self.host_keys.clone());
        let own = host.private_address.as_str();
        let outcome = self
            .retry(&described, || async {
                match probe {
                    HealthProbe::Http(p) => {
                        let contains = p.body_contains.as_deref();
                        http::get(&ssh, own, p.port, &p.path, p.status, contains).await
                    }
                    HealthProbe::Unit(p) => p.run(&ssh).await,
                    HealthProbe::Tcp(p) => tcp::open(&ssh, own, p.port).await,
                    HealthProbe::Command(p) => p.run(&ssh).await,
                    HealthProbe::File(p) => p.run(&ssh).await,
                }
            })
            .await;
        ProbeResult {
            host: host.name.clone(),
            probe: described,
            outcome,
        }
    }

    pub async fn connectivity(&self, connection: &Connection) -> ProbeResult {
        let (from, to) = (connection.from.as_str(), connection.to.as_str());
        let kind = connection.probe;
        let source = match self.host(from) {
            Ok(host) => host,
            Err(failure) => {
                return ProbeResult::failed(from, format!("{kind} {from} -> {to}"), failure);
            }
        };
        let (address, endpoint_port) = match self.target(to) {
            Ok(target) => target,
            Err(failure) => {
                let probe = format!("{kind} {from} -> {to}");
                return ProbeResult::failed(&source.name, probe, failure);
            }
        };
        let port = connection
            .port
            .or(endpoint_port)
            .or(kind.default_port())
            .unwrap_or(0);
        let described = format!("{kind} {from} -> {to} ({address}:{port})");
        let ssh = SshHost::new(source, self.host_keys.clone());
        let outcome = self
            .retry(&described, || async {
                match kind {
                    ProbeKind::Tcp => tcp::open(&ssh, &address, port).await,
                    ProbeKind::Http => {
                        let path = connection.path.as_deref().unwrap_or("/");
                        let status = connection.status.unwrap_or(200);
                        http::get(&ssh, &address, port, path, status, None).await
                    }
                    ProbeKind::SparqlAsk => {
                        let path = connection.path.as_deref().unwrap_or(sparql::DEFAULT_PATH);
                        sparql::ask(&ssh, &address, port, path).await
                    }
                    ProbeKind::Ner => ner::tags(&ssh, &address, port).await,
                    ProbeKind::Postgres => {
                        let mut login = self.login.clone();
                        if let Some(password) = &connection.password {
                            login.password = Secret::new(password.clone());
                        }
                        postgres::select_one(&ssh, &address, port, &login, ATTEMPT_TIMEOUT).await
                    }
                }
            })
            .await;
        ProbeResult {
            host: source.name.clone(),
            probe: described,
            outcome,
        }
    }
}

/// The start of a body, on one line, for messages.
pub(crate) fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 160 {
        format!("{}...", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}
