//! What probes check, as scenarios write it: health probes on one host,
//! connectivity probes from one host to another. The probes own these
//! types; scenarios and `check` use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// A systemd unit is active.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitProbe {
    pub host: HostRef,
    pub name: String,
}

/// Something listens on this port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    pub host: HostRef,
    pub port: u16,
}

/// A command run on the host exits with this code, and its output holds what is asked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandProbe {
    pub host: HostRef,
    /// The command, run by `sh -c` as the SSH user.
    pub run: String,
    #[serde(default)]
    pub exit_code: i32,
    /// Text the standard output must contain.
    #[serde(default)]
    pub stdout_contains: Option<String>,
    /// A regular expression the standard output must match.
    #[serde(default)]
    pub stdout_matches: Option<String>,
    /// Run with sudo.
    #[serde(default, rename = "become")]
    pub sudo: bool,
}

/// A file on the host exists (or not) with this mode, owner and content.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    pub host: HostRef,
    pub path: String,
    #[serde(default = "yes")]
    pub exists: bool,
    /// Octal permission bits, e.g. "0640".
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Text the file must contain.
    #[serde(default)]
    pub contains: Option<String>,
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
}

fn root_path() -> String {
    "/".into()
}

fn ok_status() -> u16 {
    200
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

impl std::fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
