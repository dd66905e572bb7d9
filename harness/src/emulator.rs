//! An AWS API emulator on this machine, for tests and for the CLI's
//! `--endpoint`: moto's server by default. Started on a free loopback port
//! from the project's venv (`.venv`, made from `.ci/requirements.txt` on
//! first use: [`crate::tools`]), probed for readiness over HTTP with a deadline, and stopped
//! when dropped. Each `Emulator` is its own server, so tests never share
//! state.
//!
//! `ARGOS_EMULATOR_URL` uses an emulator that is already running instead
//! (moto, or LocalStack with `ARGOS_EMULATOR=localstack`); it is never
//! stopped or reset by the fixture.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use argos_cloud::backend::aws::AwsOptions;
use argos_cloud::sys::wait::{self, Backoff, Poll};

/// How long an emulator may take to answer its readiness probe.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatorKind {
    Moto,
    LocalStack,
}

impl EmulatorKind {
    fn from_env() -> Result<Self, EmulatorError> {
        match std::env::var("ARGOS_EMULATOR").as_deref() {
            Err(_) | Ok("") | Ok("moto") => Ok(Self::Moto),
            Ok("localstack") => Ok(Self::LocalStack),
            Ok(other) => Err(EmulatorError::Unknown(other.to_owned())),
        }
    }

    fn health_path(self) -> &'static str {
        match self {
            Self::Moto => "/moto-api/",
            Self::LocalStack => "/_localstack/health",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("ARGOS_EMULATOR={0:?}: expected moto or localstack")]
    Unknown(String),
    #[error(
        "LocalStack is not started by the fixture (it needs Python 3.12 and an account for \
         RDS): start it yourself and set ARGOS_EMULATOR_URL"
    )]
    LocalStackNotStarted,
    #[error(transparent)]
    Tools(#[from] crate::tools::ToolsError),
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the emulator at {endpoint} did not become ready: {reason}\n--- its log, last lines ---\n{log_tail}"
    )]
    NotReady {
        endpoint: String,
        reason: String,
        log_tail: String,
    },
    #[error("resetting the emulator failed: {0}")]
    Reset(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug)]
pub struct Emulator {
    kind: EmulatorKind,
    endpoint: String,
    /// The server we started; `None` for one given by `ARGOS_EMULATOR_URL`.
    child: Option<Child>,
    log: Option<tempfile::NamedTempFile>,
}

impl Emulator {
    /// Start (or attach to) an emulator and wait until it answers.
    pub async fn start() -> Result<Self, EmulatorError> {
        let kind = EmulatorKind::from_env()?;
        if let Ok(url) = std::env::var("ARGOS_EMULATOR_URL")
            && !url.is_empty()
        {
            let mut emulator = Self {
                kind,
                endpoint: url.trim_end_matches('/').to_owned(),
                child: None,
                log: None,
            };
            emulator.wait_ready().await?;
            return Ok(emulator);
        }
        if kind == EmulatorKind::LocalStack {
            return Err(EmulatorError::LocalStackNotStarted);
        }
        let program = moto_server().await?;
        let port = free_port()?;
        let log = tempfile::Builder::new()
            .prefix("argos-moto-")
            .suffix(".log")
            .tempfile()?;
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.reopen()?)
            .stderr(log.reopen()?)
            .spawn()
            .map_err(|source| EmulatorError::Spawn {
                program: program.clone(),
                source,
            })?;
        let mut emulator = Self {
            kind,
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            log: Some(log),
        };
        emulator
            .wait_ready()
            .await
            .inspect_err(|_| emulator.stop())?;
        Ok(emulator)
    }

    pub fn kind(&self) -> EmulatorKind {
        self.kind
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Options for the AWS backend: this endpoint, any credentials.
    pub fn aws_options(&self, region: &str) -> AwsOptions {
        AwsOptions {
            region: region.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            emulator_credentials: true,
            timeouts: Default::default(),
        }
    }

    /// Forget every resource (moto only).
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        if self.kind != EmulatorKind::Moto {
            return Err(EmulatorError::Reset("only moto can be reset".into()));
        }
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/reset", self.endpoint))
            .send()
            .await
            .map_err(|e| EmulatorError::Reset(e.to_string()))?;
        if !response.status().is_success() {
            return Err(EmulatorError::Reset(format!("HTTP {}", response.status())));
        }
        Ok(())
    }

    async fn wait_ready(&mut self) -> Result<(), EmulatorError> {
        let url = format!("{}{}", self.endpoint, self.kind.health_path());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| self.not_ready(e.to_string()))?;
        let child = &mut self.child;
        let result = wait::until(
            &url,
            READY_TIMEOUT,
            Backoff {
                first: Duration::from_millis(50),
                factor: 1.5,
                cap: Duration::from_secs(1),
            },
            || {
                let exited = child.as_mut().and_then(|c| c.try_wait().ok().flatten());
                let request = client.get(&url).send();
                async move {
                    if let Some(status) = exited {
                        return Err(format!("the server exited ({status})"));
                    }
                    match request.await {
                        Ok(response) if response.status().is_success() => Ok(Poll::Ready(())),
                        Ok(_) | Err(_) => Ok(Poll::Pending),
                    }
                }
            },
        )
        .await;
        result.map_err(|e| self.not_ready(e.to_string()))
    }

    fn not_ready(&self, reason: String) -> EmulatorError {
        let log_tail = self
            .log
            .as_ref()
            .and_then(|log| std::fs::read_to_string(log.path()).ok())
            .map(|text| {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            })
            .unwrap_or_else(|| "(no log: the emulator was not started here)".into());
        EmulatorError::NotReady {
            endpoint: self.endpoint.clone(),
            reason,
            log_tail,
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// moto's server: `ARGOS_MOTO_SERVER`, else the project's venv (made from
/// the pinned requirements on first use, see [`crate::tools`]), never
/// whatever `moto_server` is on `PATH`.
async fn moto_server() -> Result<PathBuf, EmulatorError> {
    if let Some(path) = std::env::var_os("ARGOS_MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let bin = tokio::task::spawn_blocking(crate::tools::ensure_venv)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    Ok(bin.join("moto_server"))
}
