//! Starting a child process, one way: stdin closed, in a process group of
//! its own that a signal ends (and that dropping it ends: see
//! [`super::signal`]), output captured, and an error that names the
//! command. Whatever argos-cloud runs (docker, ssh, vagrant, cfn-lint,
//! tar, ansible-galaxy) goes through here, so Ctrl-C never leaves one
//! behind.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};

/// What a finished child said.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The last `lines` lines of stderr: what a failure message shows.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let tail: Vec<&str> = self.stderr.lines().rev().take(lines).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` was interrupted by {signal}")]
    Interrupted {
        command: String,
        signal: &'static str,
    },
    #[error("`{command}` failed ({status}){}", if stderr.is_empty() { String::new() } else { format!(":\n{stderr}") })]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
}

impl ProcessError {
    /// The signal that ended the child, if one did.
    pub fn signal(&self) -> Option<&'static str> {
        match self {
            ProcessError::Interrupted { signal, .. } => Some(signal),
            _ => None,
        }
    }
}

/// `program args...` as one line, for messages.
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `command` to its end, whatever its exit status; its output.
pub fn output(command: &mut Command) -> Result<Output, ProcessError> {
    let line = describe(command);
    let spawn_error = |source| ProcessError::Spawn {
        command: line.clone(),
        source,
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (child, group) = super::signal::spawn(command).map_err(spawn_error)?;
    let output = child.wait_with_output().map_err(spawn_error)?;
    if let Some(signal) = group.interrupted() {
        return Err(ProcessError::Interrupted {
            command: line,
            signal,
        });
    }
    Ok(Output {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Run `command`, which must succeed; its stdout.
pub fn run(command: &mut Command) -> Result<String, ProcessError> {
    let done = output(command)?;
    if !done.success() {
        return Err(ProcessError::Failed {
            command: describe(command),
            status: done.status.to_string(),
            stderr: done.stderr_tail(15),
        });
    }
    Ok(done.stdout)
}

/// Whether `program args...` runs and succeeds: for "is this tool here".
pub fn succeeds<S: AsRef<OsStr>>(program: &str, args: &[S]) -> bool {
    output(Command::new(program).args(args)).is_ok_and(|o| o.success())
}

/// Ready `command` (tokio's) as [`output`] readies a std one, for callers
/// that stream it: stdin closed, output piped, killed when dropped, in a
/// group of its own (start it with [`super::signal::spawn_async`]).
pub fn ready_async(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_run_and_failures_name_the_command() {
        let said = run(Command::new("sh").args(["-c", "echo out; echo err >&2"])).unwrap();
        assert_eq!(said, "out\n");
        let error = run(Command::new("sh").args(["-c", "echo why >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "`sh -c echo why >&2; exit 3` failed (exit status: 3):\nwhy"
        );
        assert!(!succeeds("sh", &["-c", "exit 1"]));
        assert!(succeeds("true", &[] as &[&str]));
        let missing = run(&mut Command::new("argos-no-such-program")).unwrap_err();
        assert!(matches!(missing, ProcessError::Spawn { .. }), "{missing}");
    }
}
