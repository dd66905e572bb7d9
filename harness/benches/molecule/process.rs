//! One command of the bench, its output kept: every line with the moment it
//! arrived (Molecule's steps are timed from its own "Executing"/"Executed"
//! lines), all of it in a log file, and a deadline so a hung run ends.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

/// Why a part of the bench could not give a figure.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{program} could not start: {source} (is it installed and on PATH?)")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}); its output is in {}:\n{tail}", log.display())]
    Failed {
        what: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{what} ran past {}s and was killed; its output is in {}", after.as_secs(), log.display())]
    TimedOut {
        what: String,
        after: Duration,
        log: PathBuf,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{}: {detail}", file.display())]
    Yaml { file: PathBuf, detail: String },
    #[error("{what}: {detail}")]
    Check { what: String, detail: String },
}

impl BenchError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| BenchError::Io { what, source }
    }
}

/// A finished command's lines, each with when it arrived.
pub struct Output {
    pub lines: Vec<(Instant, String)>,
}

impl Output {
    pub fn text(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|(_, l)| l.as_str())
    }
}

/// Run `command` (stdout and stderr as one stream) to completion within
/// `deadline`, appending its output to `log` under a `what` header; a
/// failure is an error.
pub fn run(
    what: &str,
    command: Command,
    log: &Path,
    deadline: Duration,
) -> Result<Output, BenchError> {
    let (output, status) = run_any(what, command, log, deadline)?;
    if !status.success() {
        let text: Vec<&str> = output.text().collect();
        let tail = text[text.len().saturating_sub(25)..].join("\n");
        return Err(BenchError::Failed {
            what: what.to_owned(),
            status: status.to_string(),
            log: log.to_owned(),
            tail,
        });
    }
    Ok(output)
}

/// [`run`], with the exit status for the caller to judge.
pub fn run_any(
    what: &str,
    mut command: Command,
    log: &Path,
    deadline: Duration,
) -> Result<(Output, ExitStatus), BenchError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let (reader, writer) = std::io::pipe().map_err(BenchError::io("a pipe"))?;
    let writer2 = writer.try_clone().map_err(BenchError::io("a pipe"))?;
    command.stdout(writer).stderr(writer2);
    let mut child = command
        .spawn()
        .map_err(|source| BenchError::Spawn { program, source })?;
    // The command holds the pipe's write ends: drop them so the reader sees
    // the end of the output when the child (and its children) exit.
    drop(command);
    let collector = std::thread::spawn(move || {
        BufReader::new(reader)
            .lines()
            .map_while(Result::ok)
            .map(|line| (Instant::now(), line))
            .collect::<Vec<_>>()
    });
    let status = match child.wait_timeout(deadline) {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            append(log, what, &["(killed at the deadline)"]);
            return Err(BenchError::TimedOut {
                what: what.to_owned(),
                after: deadline,
                log: log.to_owned(),
            });
        }
    };
    let lines = collector.join().unwrap_or_default();
    let output = Output { lines };
    append(log, what, &output.text().collect::<Vec<_>>());
    Ok((output, status))
}

/// A command that must succeed quickly (docker's own CLI): its stdout.
pub fn quick(what: &str, command: &mut Command) -> Result<String, BenchError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .map_err(|source| BenchError::Spawn { program, source })?;
    if !output.status.success() {
        return Err(BenchError::Check {
            what: what.to_owned(),
            detail: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn append(log: &Path, what: &str, lines: &[&str]) {
    // The log is for reading after a failure; losing it must not fail a round.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(file, "===== {what}");
        for line in lines {
            let _ = writeln!(file, "{line}");
        }
    }
}
