//! The one way a test meets a machine that lacks what it needs (Docker,
//! Ansible, Vagrant, the Python tools, cfn-lint...). Under CI a missing
//! part fails the test, naming it. Elsewhere the test skips, loudly: a
//! test runner shows a test that returned early as passed, so the skip is
//! said in the test's output *and* on the terminal the run was started
//! from, where the runner's capture does not hide it.

use std::fmt::Display;
use std::io::Write;

/// Whether this run is CI's (`CI` set, as `.ci/run` and GitHub set it).
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The test cannot run here: `what` is missing, because `why`. Under CI
/// it panics; elsewhere it says `SKIPPED` (output and terminal) and the
/// caller returns.
#[track_caller]
pub fn missing(what: &str, why: impl Display) {
    if under_ci() {
        panic!("CI must have {what}: {why}");
    }
    let line = format!(
        "SKIPPED (not a pass): {} needs {what}: {why}",
        std::thread::current().name().unwrap_or("a test")
    );
    eprintln!("{line}");
    // Not there without a terminal (CI, a pipe): the output above remains.
    if let Ok(mut terminal) = std::fs::OpenOptions::new().append(true).open("/dev/tty") {
        let _ = writeln!(terminal, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_part_fails_under_ci_and_skips_saying_so_elsewhere() {
        // Run as a child, so the environment is the test's own.
        let exe = std::env::current_exe().unwrap();
        let run = |ci: bool| {
            let mut command = std::process::Command::new(&exe);
            command
                .args(["--exact", "skip::tests::probe_child", "--nocapture"])
                .env_remove("CI")
                .env("ARGOS_SKIP_PROBE_CHILD", "1");
            if ci {
                command.env("CI", "true");
            }
            let output = command.output().unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        };
        let (passed, said) = run(false);
        assert!(
            passed
                && said
                    .contains("SKIPPED (not a pass): skip::tests::probe_child needs a thing: gone"),
            "{said}"
        );
        let (passed, said) = run(true);
        assert!(
            !passed && said.contains("CI must have a thing: gone"),
            "{said}"
        );
    }

    /// The child of the test above; does nothing unless started by it.
    #[test]
    fn probe_child() {
        if std::env::var_os("ARGOS_SKIP_PROBE_CHILD").is_some() {
            missing("a thing", "gone");
        }
    }
}
