//! The one way a test meets a machine that lacks what it needs (Docker,
//! Ansible, Vagrant, the Python tools, cfn-lint...). A skip must never
//! read as a pass, and a test runner shows a test that returned early as
//! passed, so a missing part fails the test: always under CI, and
//! elsewhere unless the developer asked for skips (`ARGOS_ALLOW_SKIP=1`),
//! when the test says `SKIPPED` and why, and returns.

use std::fmt::Display;

/// Set (to anything but `0` or empty) to let tests skip what this machine lacks.
pub const ALLOW_VAR: &str = "ARGOS_ALLOW_SKIP";

/// Whether skips were asked for (never under CI).
pub fn allowed() -> bool {
    std::env::var_os("CI").is_none()
        && std::env::var_os(ALLOW_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The test cannot run here: `what` is missing, because `why`. Panics
/// (the test fails, naming the part) unless skips were asked for; then it
/// prints `SKIPPED: ...` and the caller returns.
#[track_caller]
pub fn missing(what: &str, why: impl Display) {
    if std::env::var_os("CI").is_some() {
        panic!("CI must have {what}: {why}");
    }
    if !allowed() {
        panic!(
            "this test needs {what}, which is missing here: {why}\n  \
             install it (.ci/run installs everything), or set {ALLOW_VAR}=1 to skip \
             the tests that need it: each then says SKIPPED in its output"
        );
    }
    eprintln!("SKIPPED: needs {what}: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_part_fails_unless_skips_were_asked_for() {
        // Run as a child, so the environment is the test's own.
        let exe = std::env::current_exe().unwrap();
        let run = |vars: &[(&str, &str)]| {
            let mut command = std::process::Command::new(&exe);
            command
                .args(["--exact", "skip::tests::probe_child", "--nocapture"])
                .env_remove("CI")
                .env_remove(ALLOW_VAR)
                .env("ARGOS_SKIP_PROBE_CHILD", "1");
            for (key, value) in vars {
                command.env(key, value);
            }
            let output = command.output().unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        };
        let (passed, said) = run(&[]);
        assert!(!passed && said.contains("set ARGOS_ALLOW_SKIP=1"), "{said}");
        let (passed, said) = run(&[(ALLOW_VAR, "1")]);
        assert!(
            passed && said.contains("SKIPPED: needs a thing: gone"),
            "{said}"
        );
        let (passed, said) = run(&[(ALLOW_VAR, "0")]);
        assert!(!passed, "{said}");
        let (passed, said) = run(&[(ALLOW_VAR, "1"), ("CI", "true")]);
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
