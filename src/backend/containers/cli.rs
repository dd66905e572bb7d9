//! Running the `docker` CLI (and helpers such as ssh-keygen) with errors that
//! carry the command and its stderr.

use std::process::Command;

use crate::converge::inventory::InventoryError;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("{what} failed: `{command}` exited with {status}: {stderr}")]
    Failed {
        what: String,
        command: String,
        status: String,
        stderr: String,
    },
    #[error("cannot run `{command}`: {source} (is Docker installed and running?)")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{what} was stopped by {signal}: `{command}` was ended")]
    Interrupted {
        what: String,
        command: String,
        signal: &'static str,
    },
    #[error("{what}: unexpected output: {detail}")]
    Output { what: String, detail: String },
    #[error("{what}")]
    Exists { what: String },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Inventory(InventoryError),
    #[error("baking {image}: {reason}")]
    Bake { image: String, reason: String },
    /// The emulator's data plane could not stand in for `what`.
    #[error("the emulator's data plane: {what}: {reason}")]
    StandIn { what: String, reason: String },
}

impl DockerError {
    /// Docker said the object does not exist (any more): another run's
    /// teardown or sweep may remove it between a listing and the next call.
    pub fn is_gone(&self) -> bool {
        // Containers say "No such ...", volumes "no such volume", networks
        // "... not found".
        matches!(self, DockerError::Failed { stderr, .. }
            if stderr.to_ascii_lowercase().contains("no such") || stderr.contains("not found"))
    }

    pub(crate) fn io(what: &'static str) -> impl Fn(std::io::Error) -> DockerError {
        move |source| DockerError::Io { what, source }
    }
}

/// Run a command; its stdout on success. It runs in a process group of its
/// own, which a signal ends (see [`crate::sys::signal`]): an image build or a
/// `docker run` in flight stops at once, and the caller removes what it made.
pub fn run(command: &mut Command, what: &str) -> Result<String, DockerError> {
    use crate::sys::process::{self, ProcessError};
    process::run(command).map_err(|error| match error {
        ProcessError::Spawn { command, source } => DockerError::Spawn { command, source },
        ProcessError::Interrupted { command, signal } => DockerError::Interrupted {
            what: what.to_owned(),
            command,
            signal,
        },
        ProcessError::Failed {
            command,
            status,
            stderr,
        } => DockerError::Failed {
            what: what.to_owned(),
            command,
            status,
            stderr,
        },
    })
}

pub fn docker<S: AsRef<str>>(args: &[S]) -> Result<String, DockerError> {
    let mut command = Command::new("docker");
    command.args(args.iter().map(AsRef::as_ref));
    let what = format!("docker {}", args.first().map_or("", AsRef::as_ref));
    run(&mut command, &what)
}

/// The non-empty lines `docker ARGS` prints.
pub fn docker_lines<S: AsRef<str>>(args: &[S]) -> Result<Vec<String>, DockerError> {
    Ok(docker(args)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}
