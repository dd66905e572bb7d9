//! Scenarios: short declarative files (`scenarios/*.yaml`) that say which
//! role is under test, which hosts the environment needs, which steps run
//! and what must hold afterwards. Molecule's step names: create, converge,
//! idempotence, verify, destroy.
//!
//! [`load`] reads and checks a file (errors name file, line and field),
//! [`schema`] makes the JSON Schema editors complete from, [`run`] drives the
//! steps on a backend through an [`guard::EnvironmentGuard`] that always
//! cleans up, and [`report`] says what happened, per step, with durations.

pub mod guard;
mod load;
mod locate;
pub mod report;
pub mod run;
pub mod schema;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use load::{ScenarioError, load, parse};

use crate::names::Group;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "argos-cloud scenario")]
pub struct Scenario {
    /// The scenario's name; the file's stem when the file does not say.
    #[serde(skip)]
    pub name: String,
    /// What the scenario proves, in one line.
    pub description: String,
    /// The role under test: the playbook whose idempotence is checked.
    pub role: Role,
    /// The groups the environment needs a host for.
    pub groups: Vec<HostGroup>,
    /// The steps, in order. Default: create, converge, idempotence, verify, destroy.
    #[serde(default = "Step::all")]
    pub steps: Vec<Step>,
    /// The roles converged, in dependency order. Default: the role of every group.
    #[serde(default)]
    pub converge: Vec<Role>,
    /// Settings overrides for this scenario, as `--set KEY=VALUE` gives them.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// What must hold after converging.
    #[serde(default)]
    pub expect: Expectations,
}

/// A step, named as Molecule names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Commission the environment: a host per group.
    Create,
    /// Run the converge roles.
    Converge,
    /// Run the role under test again: it must change nothing.
    Idempotence,
    /// Check tags, health and connectivity.
    Verify,
    /// Decommission, then check that nothing the run made is left.
    Destroy,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Create,
        Step::Converge,
        Step::Idempotence,
        Step::Verify,
        Step::Destroy,
    ];

    pub fn all() -> Vec<Step> {
        Self::ALL.to_vec()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Converge => "converge",
            Step::Idempotence => "idempotence",
            Step::Verify => "verify",
            Step::Destroy => "destroy",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A group that has hosts (the network is not one).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HostGroup {
    App,
    Database,
    Knowledge,
    Broker,
    Worker,
    Image,
}

impl HostGroup {
    pub fn group(self) -> Group {
        match self {
            HostGroup::App => Group::App,
            HostGroup::Database => Group::Database,
            HostGroup::Knowledge => Group::Knowledge,
            HostGroup::Broker => Group::Broker,
            HostGroup::Worker => Group::Worker,
            HostGroup::Image => Group::Image,
        }
    }

    /// The role (playbook) that converges this group's hosts.
    pub fn role(self) -> Role {
        match self {
            HostGroup::App => Role::App,
            HostGroup::Database => Role::Database,
            HostGroup::Knowledge => Role::Knowledge,
            HostGroup::Broker => Role::Broker,
            HostGroup::Worker => Role::Worker,
            HostGroup::Image => Role::Image,
        }
    }
}

impl std::fmt::Display for HostGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.group().as_str())
    }
}

/// A role: one playbook in `playbooks/`, in the order deploy runs them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Database,
    Knowledge,
    Broker,
    App,
    Worker,
    Image,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Database => "database",
            Role::Knowledge => "knowledge",
            Role::Broker => "broker",
            Role::App => "app",
            Role::Worker => "worker",
            Role::Image => "image",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
/// `unit: {...}` or `tcp: {...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "OneHealthProbe")]
pub enum HealthProbe {
    /// An HTTP GET on the host itself answers with this status.
    Http {
        host: HostGroup,
        port: u16,
        #[serde(default = "root_path")]
        path: String,
        #[serde(default = "ok_status")]
        status: u16,
        /// Text the body must contain.
        #[serde(default)]
        body_contains: Option<String>,
    },
    /// A systemd unit is active.
    Unit { host: HostGroup, name: String },
    /// Something listens on this port.
    Tcp { host: HostGroup, port: u16 },
}

/// YAML's form of [`HealthProbe`]: a map with exactly one of the keys.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OneHealthProbe {
    #[serde(default)]
    http: Option<HttpProbe>,
    #[serde(default)]
    unit: Option<UnitProbe>,
    #[serde(default)]
    tcp: Option<TcpProbe>,
}

/// An HTTP GET on the host itself answers with this status.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HttpProbe {
    host: HostGroup,
    port: u16,
    #[serde(default = "root_path")]
    path: String,
    #[serde(default = "ok_status")]
    status: u16,
    /// Text the body must contain.
    #[serde(default)]
    body_contains: Option<String>,
}

/// A systemd unit is active.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UnitProbe {
    host: HostGroup,
    name: String,
}

/// Something listens on this port.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TcpProbe {
    host: HostGroup,
    port: u16,
}

impl TryFrom<OneHealthProbe> for HealthProbe {
    type Error = &'static str;

    fn try_from(one: OneHealthProbe) -> Result<Self, Self::Error> {
        match (one.http, one.unit, one.tcp) {
            (Some(p), None, None) => Ok(HealthProbe::Http {
                host: p.host,
                port: p.port,
                path: p.path,
                status: p.status,
                body_contains: p.body_contains,
            }),
            (None, Some(p), None) => Ok(HealthProbe::Unit {
                host: p.host,
                name: p.name,
            }),
            (None, None, Some(p)) => Ok(HealthProbe::Tcp {
                host: p.host,
                port: p.port,
            }),
            (None, None, None) => Err("a health probe needs one of http, unit, tcp"),
            _ => Err("a health probe has exactly one of http, unit, tcp"),
        }
    }
}

impl HealthProbe {
    pub fn host(&self) -> HostGroup {
        match self {
            HealthProbe::Http { host, .. }
            | HealthProbe::Unit { host, .. }
            | HealthProbe::Tcp { host, .. } => *host,
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
    pub from: HostGroup,
    pub to: HostGroup,
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

impl Scenario {
    /// The roles converged: the scenario's list, or every group's role in
    /// deploy order.
    pub fn converge_roles(&self) -> Vec<Role> {
        let mut roles = if self.converge.is_empty() {
            self.groups.iter().map(|g| g.role()).collect()
        } else {
            self.converge.clone()
        };
        roles.sort();
        roles.dedup();
        roles
    }

    pub fn host_groups(&self) -> Vec<Group> {
        self.groups.iter().map(|g| g.group()).collect()
    }
}

impl Expectations {
    /// What `check` probes on an environment with hosts in `groups`: every
    /// connection Argos depends on, and the app's own health check.
    pub fn standard(groups: &[HostGroup]) -> Self {
        let has = |g: HostGroup| groups.contains(&g);
        let connect = |from, to, probe, port: Option<u16>| Connection {
            from,
            to,
            probe,
            port,
            path: None,
            status: None,
            password: None,
        };
        let mut expect = Expectations {
            tags: false,
            ..Default::default()
        };
        for client in [HostGroup::App, HostGroup::Worker] {
            if !has(client) {
                continue;
            }
            if has(HostGroup::Database) {
                expect.connectivity.push(connect(
                    client,
                    HostGroup::Database,
                    ProbeKind::Postgres,
                    None,
                ));
            }
            if has(HostGroup::Knowledge) {
                expect.connectivity.push(connect(
                    client,
                    HostGroup::Knowledge,
                    ProbeKind::SparqlAsk,
                    None,
                ));
                expect.connectivity.push(connect(
                    client,
                    HostGroup::Knowledge,
                    ProbeKind::Ner,
                    None,
                ));
            }
            if has(HostGroup::Broker) {
                for port in [5672, 6379] {
                    expect.connectivity.push(connect(
                        client,
                        HostGroup::Broker,
                        ProbeKind::Tcp,
                        Some(port),
                    ));
                }
            }
        }
        if has(HostGroup::App) {
            expect.health.push(HealthProbe::Http {
                host: HostGroup::App,
                port: 80,
                path: "/health".into(),
                status: 200,
                body_contains: None,
            });
        }
        expect
    }
}

impl HostGroup {
    pub fn from_group(group: Group) -> Option<Self> {
        Some(match group {
            Group::App => HostGroup::App,
            Group::Database => HostGroup::Database,
            Group::Knowledge => HostGroup::Knowledge,
            Group::Broker => HostGroup::Broker,
            Group::Worker => HostGroup::Worker,
            Group::Image => HostGroup::Image,
            Group::Network => return None,
        })
    }
}
