//! Probes: what `verify` and `check` ask of a converged environment.
//! Health probes run on one host about itself (an HTTP answer, a systemd
//! unit, a listening port); connectivity probes open a connection that
//! starts on one host and ends on another's port and speak the service's
//! protocol over it (PostgreSQL login, SPARQL ASK, Stanford NER, HTTP, TCP).
//!
//! Each probe is retried with a deadline (a service may still be starting),
//! and every failure names the host it ran on, the probe and the reason.

mod files;
mod http;
mod ner;
mod postgres;
mod spec;
mod ssh;

use std::fmt;
use std::time::Duration;

pub use spec::{
    CommandProbe, Connection, Expectations, FileProbe, HealthProbe, HostRef, HttpProbe, ProbeKind,
    TcpProbe, UnitProbe,
};
pub use ssh::{SshHost, Tunnel};

use crate::converge::deploy::HostKeys;
use crate::converge::inventory::{Host, Inventory};
use crate::model::names::Group;
use crate::model::secret::Secret;
use crate::model::topology::Topology;
use crate::sys::wait::{self, Backoff, Poll};

/// The database login the postgres probe uses.
#[derive(Debug, Clone)]
pub struct DatabaseLogin {
    pub name: String,
    pub user: String,
    pub password: Secret,
}

impl DatabaseLogin {
    /// The login the settings give the app: `db_name`, `db_user` and
    /// `db_pass` (empty where the settings have none; a probe may name
    /// its own).
    pub fn of(settings: &crate::model::settings::Settings) -> Self {
        Self {
            name: settings.text("db_name").unwrap_or_default(),
            user: settings.text("db_user").unwrap_or_default(),
            password: settings.secret("db_pass").unwrap_or_default(),
        }
    }
}

/// `check`: the standard probes of an environment: what the project's
/// profile expects of the groups it has (`standard`, e.g. every connection
/// Argos depends on), and the ports the topology says its groups listen on.
/// An error when it has no hosts.
pub async fn check(
    inventory: &Inventory,
    topology: &Topology,
    standard: fn(&[String]) -> Expectations,
    login: DatabaseLogin,
    host_keys: HostKeys,
    deadline: Duration,
) -> Result<Vec<ProbeResult>, String> {
    let mut groups: Vec<String> = inventory
        .hosts
        .iter()
        .map(|h| h.group.to_string())
        .chain(inventory.databases.iter().map(|d| d.group.to_string()))
        .collect();
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Err(format!(
            "{} has no hosts to check: `commission` it first",
            inventory.env.stack()
        ));
    }
    let mut expect = standard(&groups);
    for spec in &topology.groups {
        for host in inventory.in_group(&spec.group) {
            for port in &spec.ports {
                expect.health.push(HealthProbe::Tcp(TcpProbe {
                    host: host.name.clone(),
                    port: *port,
                }));
            }
        }
    }
    let context = ProbeContext {
        inventory,
        host_keys,
        login,
        deadline,
    };
    Ok(context.run_all(&expect).await)
}

/// The results one per line, then the verdict; an error when any failed.
pub fn verdict(results: &[ProbeResult]) -> Result<String, String> {
    let mut text: String = results.iter().map(|r| format!("{r}\n")).collect();
    let failed = results.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        return Err(format!(
            "{text}check: {failed} of {} probe(s) failed",
            results.len()
        ));
    }
    text.push_str(&format!("check: {} probe(s) passed", results.len()));
    Ok(text)
}

/// How probes reach hosts and how long each may keep failing.
#[derive(Debug, Clone)]
pub struct ProbeContext<'a> {
    pub inventory: &'a Inventory,
    pub host_keys: HostKeys,
    pub login: DatabaseLogin,
    /// How long one probe is retried before it counts as failed.
    pub deadline: Duration,
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The host the probe ran on (inventory name).
    pub host: String,
    /// The probe, e.g. `postgres app -> database (10.0.0.3:5432)`.
    pub probe: String,
    /// What it saw, or why it failed.
    pub outcome: Result<String, String>,
}

impl ProbeResult {
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
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

const PROBE_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    factor: 1.5,
    cap: Duration::from_secs(4),
};

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

impl ProbeContext<'_> {
    /// The host `name` means: the inventory host of that name (its own,
    /// or `<app>-<env>-<name>`), else the first host of group `name`.
    fn host(&self, name: &str) -> Result<&Host, String> {
        let full = self.inventory.env.resource(name);
        let hosts = &self.inventory.hosts;
        hosts
            .iter()
            .find(|h| h.name == name || h.name == full)
            .or_else(|| {
                let group = Group::parse(name)?;
                hosts.iter().find(|h| h.is_in(&group))
            })
            .ok_or_else(|| format!("the environment has no host or group {name}"))
            .and_then(|host| {
                self.inventory
                    .destinations
                    .check(&host.name, &host.address)
                    .map(|()| host)
                    .map_err(|refused| refused.to_string())
            })
    }

    /// Where other hosts reach `name`: a host's private address, or a
    /// managed database's endpoint (RDS) in that group.
    fn target(&self, name: &str) -> Result<(String, Option<u16>), String> {
        if let Some(endpoint) = self
            .inventory
            .databases
            .iter()
            .find(|d| d.group.as_str() == name)
        {
            return Ok((endpoint.address.clone(), Some(endpoint.port)));
        }
        Ok((self.host(name)?.private_address.clone(), None))
    }

    /// Run every probe of `expect`, health first; all of them, not only
    /// up to the first failure, so one report shows everything wrong.
    pub async fn run_all(&self, expect: &Expectations) -> Vec<ProbeResult> {
        let mut results = Vec::new();
        for probe in &expect.health {
            results.push(self.health(probe).await);
        }
        for connection in &expect.connectivity {
            results.push(self.connectivity(connection).await);
        }
        results
    }

    pub async fn health(&self, probe: &HealthProbe) -> ProbeResult {
        let target = probe.host();
        let described = match probe {
            HealthProbe::Http(p) => {
                format!("http {target}:{}{} answers {}", p.port, p.path, p.status)
            }
            HealthProbe::Unit(p) => format!("unit {} on {target} is active", p.name),
            HealthProbe::Tcp(p) => format!("tcp {target}:{} is open", p.port),
            HealthProbe::Command(p) => format!("command `{}` on {target}", p.run),
            HealthProbe::File(p) => format!("file {} on {target}", p.path),
        };
        let host = match self.host(target) {
            Ok(host) => host,
            Err(reason) => return failed(target, described, reason),
        };
        let ssh = SshHost::new(host, self.host_keys.clone());
        let outcome = self
            .retry(&described, || async {
                match probe {
                    HealthProbe::Http(p) => {
                        http_get(
                            &ssh,
                            &host.private_address,
                            p.port,
                            &p.path,
                            p.status,
                            p.body_contains.as_deref(),
                        )
                        .await
                    }
                    HealthProbe::Unit(p) => unit_active(&ssh, &p.name).await,
                    HealthProbe::Tcp(p) => tcp_open(&ssh, &host.private_address, p.port).await,
                    HealthProbe::Command(p) => files::command(&ssh, p).await,
                    HealthProbe::File(p) => files::file(&ssh, p).await,
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
            Err(reason) => return failed(from, format!("{kind} {from} -> {to}"), reason),
        };
        let (address, endpoint_port) = match self.target(to) {
            Ok(target) => target,
            Err(reason) => {
                return failed(&source.name, format!("{kind} {from} -> {to}"), reason);
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
                    ProbeKind::Tcp => tcp_open(&ssh, &address, port).await,
                    ProbeKind::Http => {
                        let path = connection.path.as_deref().unwrap_or("/");
                        let status = connection.status.unwrap_or(200);
                        http_get(&ssh, &address, port, path, status, None).await
                    }
                    ProbeKind::SparqlAsk => {
                        let path = connection.path.as_deref().unwrap_or("/knowledge/query");
                        sparql_ask(&ssh, &address, port, path).await
                    }
                    ProbeKind::Ner => ner_tags(&ssh, &address, port).await,
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

    /// Try until the probe passes or the deadline passes; the last reason counts.
    async fn retry<F, Fut>(&self, what: &str, attempt: F) -> Result<String, String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<String, String>>,
    {
        let last = std::sync::Mutex::new(String::new());
        let outcome = wait::until(what, self.deadline, PROBE_BACKOFF, || async {
            match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt()).await {
                Ok(Ok(detail)) => Ok::<_, std::convert::Infallible>(Poll::Ready(detail)),
                Ok(Err(reason)) => {
                    *last.lock().expect("not poisoned") = reason;
                    Ok(Poll::Pending)
                }
                Err(_) => {
                    *last.lock().expect("not poisoned") =
                        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs());
                    Ok(Poll::Pending)
                }
            }
        })
        .await;
        outcome.map_err(|_| {
            let reason = last.into_inner().expect("not poisoned");
            format!(
                "{reason} (still failing after {} s)",
                self.deadline.as_secs()
            )
        })
    }
}

fn failed(host: &str, probe: String, reason: String) -> ProbeResult {
    ProbeResult {
        host: host.to_owned(),
        probe,
        outcome: Err(reason),
    }
}

/// A TCP connect from the host, by the shell's `/dev/tcp`.
async fn tcp_open(ssh: &SshHost, address: &str, port: u16) -> Result<String, String> {
    let script = format!("timeout 10 bash -c '</dev/tcp/{address}/{port}' 2>&1");
    let (code, stdout, _) = ssh.run(&script, ATTEMPT_TIMEOUT).await?;
    if code == 0 {
        Ok("connected".into())
    } else {
        let reason = stdout
            .lines()
            .last()
            .map(|l| l.rsplit(": ").next().unwrap_or(l).to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "timed out".into());
        Err(format!("cannot connect: {reason}"))
    }
}

async fn unit_active(ssh: &SshHost, unit: &str) -> Result<String, String> {
    let (_, state, _) = ssh
        .run(&format!("systemctl is-active '{unit}'"), ATTEMPT_TIMEOUT)
        .await?;
    if state == "active" {
        Ok("active".into())
    } else {
        Err(format!(
            "{unit} is {state}; `journalctl -u {unit}` on the host says why"
        ))
    }
}

async fn http_get(
    ssh: &SshHost,
    address: &str,
    port: u16,
    path: &str,
    want: u16,
    contains: Option<&str>,
) -> Result<String, String> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let answer = http::request(&mut tunnel.stream, address, "GET", path, None, "*/*")
        .await
        .map_err(|e| e.to_string());
    let response = match answer {
        Ok(Some(response)) => response,
        Ok(None) | Err(_) => return Err(tunnel.failure().await),
    };
    if response.status != want {
        return Err(format!(
            "answered {} (expected {want}): {}",
            response.status,
            excerpt(&response.body)
        ));
    }
    if let Some(text) = contains
        && !response.body.contains(text)
    {
        return Err(format!(
            "the body lacks {text:?}: {}",
            excerpt(&response.body)
        ));
    }
    Ok(format!("{} {}", response.status, excerpt(&response.body)))
}

async fn sparql_ask(ssh: &SshHost, address: &str, port: u16, path: &str) -> Result<String, String> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let answer = http::request(
        &mut tunnel.stream,
        address,
        "POST",
        path,
        Some(("application/sparql-query", "ASK {}")),
        "application/sparql-results+json",
    )
    .await;
    let response = match answer {
        Ok(Some(response)) => response,
        Ok(None) | Err(_) => return Err(tunnel.failure().await),
    };
    if response.status != 200 {
        return Err(format!(
            "POST {path} answered {}: {}",
            response.status,
            excerpt(&response.body)
        ));
    }
    let json: serde_json::Value = serde_json::from_str(&response.body)
        .map_err(|e| format!("not SPARQL JSON results ({e}): {}", excerpt(&response.body)))?;
    match json.get("boolean") {
        Some(serde_json::Value::Bool(true)) => Ok("ASK {} = true".into()),
        other => Err(format!(
            "ASK {{}} answered {} instead of true",
            other.map_or("no boolean".to_owned(), ToString::to_string)
        )),
    }
}

async fn ner_tags(ssh: &SshHost, address: &str, port: u16) -> Result<String, String> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let answer = ner::tag(&mut tunnel.stream, ner::SENTENCE).await;
    let line = match answer {
        Ok(line) if !line.is_empty() => line,
        _ => return Err(tunnel.failure().await),
    };
    match ner::missing_tags(&line) {
        None => Ok(line),
        Some(reason) => Err(reason),
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
