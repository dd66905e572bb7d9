//! Molecule's testinfra verifier at verify: pytest-testinfra's tests run
//! against every host of the run over SSH, reached as Ansible reaches them
//! (the same key, user, become and known_hosts file), and pytest's JUnit XML
//! read back into a line and a check per test case.
//!
//! Green means tested: pytest missing, a test failing, no test collected or
//! pytest stopping on an error all fail the step, never a pass.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, SystemTime};

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::{Value, json};

use super::report::{Check, Outcome};
use crate::converge::inventory::Inventory;

/// The pin of `.ci/requirements.txt`, for the error that says how to install it.
pub(super) const PIN: &str = "pytest-testinfra==10.2.2";

/// What the testinfra tests found: a line per test case (or per problem),
/// how many failed, and each test case as a check of its own.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Verified {
    pub lines: Vec<String>,
    pub failures: usize,
    pub checks: Vec<Check>,
}

impl Verified {
    /// testinfra could not run, or pytest said nothing a test case says.
    pub(super) fn failed(reason: impl std::fmt::Display) -> Self {
        Self {
            lines: vec![format!("FAIL  testinfra: {reason}")],
            failures: 1,
            checks: Vec::new(),
        }
    }
}

/// Why `dir` cannot be a testinfra verifier's tests folder, if it cannot:
/// with no `test_*.py` pytest collects nothing, and a verify that ran no
/// test would pass untested.
pub(super) fn tests_folder_problem(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some(format!(
            "{} is not a folder: the testinfra verifier runs the test_*.py files of its tests \
             folder (Molecule's verifier.directory, by default tests/ beside molecule.yml)",
            dir.display()
        ));
    }
    if has_test_file(dir, 8) {
        return None;
    }
    Some(format!(
        "{} holds no test_*.py: the testinfra verifier would run no test",
        dir.display()
    ))
}

/// Whether `dir` or a folder under it (`depth` levels at most) holds a
/// `test_*.py`, as Molecule looks for them.
fn has_test_file(dir: &Path, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            depth > 0 && !name.starts_with('.') && has_test_file(&path, depth - 1)
        } else {
            name.starts_with("test_") && name.ends_with(".py")
        }
    })
}

/// `pytest` from the venv of `ansible_playbook` (testinfra asks that venv's
/// `ansible-inventory` for the hosts); an error saying how to install it.
pub(super) fn pytest_beside(ansible_playbook: &Path) -> Result<PathBuf, String> {
    let pytest = ansible_playbook.with_file_name("pytest");
    if pytest.is_file() {
        return Ok(pytest);
    }
    Err(format!(
        "pytest-testinfra is not installed: no {} beside {}; install it there with `{} \
         install {PIN}` (or run .ci/run, which installs .ci/requirements.txt into .venv)",
        pytest.display(),
        ansible_playbook.display(),
        ansible_playbook.with_file_name("pip").display()
    ))
}

/// What a testinfra run needs.
pub(super) struct TestinfraRun<'a> {
    pub pytest: &'a Path,
    /// The tests' folder.
    pub tests: &'a Path,
    pub inventory: &'a Inventory,
    /// OpenSSH's options for the run's known_hosts file
    /// (`HostKeys::ssh_options`).
    pub ssh_options: &'a [String],
    /// A folder of the run's own: the inventory, an empty Ansible config
    /// and pytest's JUnit XML go there.
    pub work: &'a Path,
    /// Where pytest's whole output is kept.
    pub log_dir: &'a Path,
    /// Further variables for the tests (Molecule's `MOLECULE_*`).
    pub environment: Vec<(String, String)>,
}

impl TestinfraRun<'_> {
    pub(super) async fn run(&self) -> Verified {
        let refused = self.inventory.refused();
        if !refused.is_empty() {
            let refused: Vec<String> = refused.iter().map(ToString::to_string).collect();
            return Verified::failed(refused.join("; "));
        }
        match self.run_pytest().await {
            Ok(ran) => {
                let mut verified = verdict(ran.status, ran.junit_xml.as_deref(), &ran.output);
                if verified.failures > 0 {
                    verified
                        .lines
                        .push(format!("      pytest's output: {}", ran.log.display()));
                }
                verified
            }
            Err(reason) => Verified::failed(reason),
        }
    }

    async fn run_pytest(&self) -> Result<PytestRan, String> {
        let folder = self.work.join("testinfra");
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let inventory = folder.join("inventory.json");
        let config = folder.join("ansible.cfg");
        let junit = folder.join("junit.xml");
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
        };
        let file = inventory_file(self.inventory, &ssh_args(self.ssh_options));
        write(
            &inventory,
            &serde_json::to_vec_pretty(&file).expect("JSON serializes"),
        )?;
        write(&config, CONFIG.as_bytes())?;
        let _ = std::fs::remove_file(&junit);
        let venv_bin = self.pytest.parent().unwrap_or(Path::new("."));
        let path = std::env::join_paths(
            std::iter::once(venv_bin.to_owned()).chain(
                std::env::var_os("PATH")
                    .iter()
                    .flat_map(std::env::split_paths),
            ),
        )
        .map_err(|e| e.to_string())?;
        let mut command = tokio::process::Command::new(self.pytest);
        command
            .arg("--hosts=ansible://all")
            .arg(format!("--ansible-inventory={}", inventory.display()))
            .arg(format!("--junitxml={}", junit.display()))
            // The test ids are read from the file and line of each case.
            .args(["-o", "junit_family=xunit1"])
            .arg(format!("--rootdir={}", self.tests.display()))
            .args(["-p", "no:cacheprovider", "-q", "--color=no"])
            .arg(self.tests)
            .current_dir(&folder)
            // testinfra runs `ansible-inventory` from PATH, with this config.
            .env("PATH", path)
            .env("ANSIBLE_CONFIG", &config)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("MOLECULE_INVENTORY_FILE", &inventory)
            // No __pycache__ left in the role's folder.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(self.environment.iter().map(|(k, v)| (k, v)));
        // These would win over the inventory's host variables in testinfra,
        // and the caller's PYTEST_ADDOPTS over the report this reads.
        for overriding in [
            "ANSIBLE_BECOME",
            "ANSIBLE_BECOME_USER",
            "ANSIBLE_REMOTE_PORT",
            "ANSIBLE_REMOTE_USER",
            "ANSIBLE_SSH_COMMON_ARGS",
            "ANSIBLE_SSH_EXTRA_ARGS",
            "PYTEST_ADDOPTS",
        ] {
            command.env_remove(overriding);
        }
        crate::sys::process::ready_async(&mut command);
        // Its own process group, ended with its ssh when this is dropped.
        let (child, _group) = crate::sys::signal::spawn_async(&mut command)
            .map_err(|e| format!("cannot run {}: {e}", self.pytest.display()))?;
        let done = child
            .wait_with_output()
            .await
            .map_err(|e| format!("{}: {e}", self.pytest.display()))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        );
        Ok(PytestRan {
            status: done.status,
            log: self.keep_log(&output)?,
            output,
            junit_xml: std::fs::read_to_string(&junit).ok(),
        })
    }

    /// pytest's output in `log_dir`, its owner's only (a failing test may
    /// quote what it read on a host).
    fn keep_log(&self, output: &str) -> Result<PathBuf, String> {
        let stamp = crate::model::names::rfc3339(SystemTime::now()).replace(':', "");
        let log = self.log_dir.join(format!(
            "{}-testinfra-{stamp}.log",
            self.inventory.env.stack()
        ));
        std::fs::create_dir_all(self.log_dir)
            .and_then(|()| crate::model::secret::private_file(&log))
            .and_then(|mut file| std::io::Write::write_all(&mut file, output.as_bytes()))
            .map_err(|e| format!("writing {}: {e}", log.display()))?;
        Ok(log)
    }
}

/// What pytest did.
struct PytestRan {
    status: ExitStatus,
    /// Its output, stdout then stderr.
    output: String,
    /// Its JUnit XML, if it wrote one.
    junit_xml: Option<String>,
    /// The file that keeps its output.
    log: PathBuf,
}

/// The Ansible config testinfra and `ansible-inventory` read: none of the
/// project's (its ControlPersist masters would outlive the step) nor of
/// the folder pytest starts in.
const CONFIG: &str = "# argos-cloud's testinfra run: Ansible's defaults.\n";

/// The SSH options testinfra passes to every connection: the run's
/// known_hosts file, first so nothing after turns checking off; no prompt;
/// no connection master left behind.
fn ssh_args(known_hosts: &[String]) -> String {
    known_hosts
        .iter()
        .map(String::as_str)
        .chain([
            "-o",
            "BatchMode=yes",
            "-o",
            "ControlMaster=no",
            "-o",
            "ControlPath=none",
        ])
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as one word of a shell command line (testinfra runs ssh through
/// the shell): quoted when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=./:@,+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The run's inventory for testinfra, whose ansible backend reads each
/// host's connection from its variables and not from ANSIBLE_SSH_ARGS:
/// every SSH host gets `ssh_args` in `ansible_ssh_common_args`, before any
/// of its own. Hosts Ansible reaches locally (a managed database) are left
/// out: their tests would run on this machine.
fn inventory_file(inventory: &Inventory, ssh_args: &str) -> Value {
    let mut file = inventory.static_file();
    let groups = file
        .pointer_mut("/all/children")
        .and_then(Value::as_object_mut);
    for group in groups.into_iter().flat_map(|g| g.values_mut()) {
        let Some(hosts) = group.get_mut("hosts").and_then(Value::as_object_mut) else {
            continue;
        };
        hosts.retain(|_, vars| vars.get("ansible_connection") != Some(&json!("local")));
        for vars in hosts.values_mut() {
            let own = vars
                .get("ansible_ssh_common_args")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let args = format!("{ssh_args} {own}").trim_end().to_owned();
            vars["ansible_ssh_common_args"] = json!(args);
        }
    }
    file
}

/// What pytest's exit status and JUnit XML say. 0: every test passed (and
/// there was one); 1: tests failed; anything else (2 interrupted, 3
/// internal error, 4 usage error, 5 no tests collected, a signal) fails
/// with the tail of pytest's output.
fn verdict(status: ExitStatus, xml: Option<&str>, output: &str) -> Verified {
    let cases = xml.map(read_junit);
    let tail = || tail(output, 20);
    let code = status.code();
    let mut verified = match (code, cases) {
        (Some(0 | 1), Some(Ok(cases))) => from_cases(cases),
        (Some(0 | 1), Some(Err(reason))) => {
            return Verified::failed(format!("pytest's JUnit XML: {reason}\n{}", tail()));
        }
        (Some(0 | 1), None) => {
            return Verified::failed(format!("pytest wrote no JUnit XML\n{}", tail()));
        }
        (_, cases) => {
            let meaning = match code {
                Some(2) => "interrupted (a test file that cannot be imported stops it)",
                Some(3) => "an internal error",
                Some(4) => "a usage error",
                Some(5) => "no tests were collected",
                _ => "stopped",
            };
            let mut verified = cases
                .and_then(Result::ok)
                .map(from_cases)
                .unwrap_or_default();
            verified.failures += 1;
            verified.lines.push(format!(
                "FAIL  testinfra: pytest {status}: {meaning}\n{}",
                tail()
            ));
            return verified;
        }
    };
    let ran = verified
        .checks
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    if ran == 0 {
        verified.failures += 1;
        verified.lines.push(format!(
            "FAIL  testinfra: pytest ran no test ({} skipped): nothing was tested\n{}",
            verified.checks.len(),
            tail()
        ));
    } else if code == Some(1) && verified.failures == 0 {
        // pytest failed without a failed case in its report: say why.
        verified.failures += 1;
        verified
            .lines
            .push(format!("FAIL  testinfra: pytest {status}\n{}", tail()));
    }
    verified
}

/// A line and a check per test case.
fn from_cases(cases: Vec<Check>) -> Verified {
    let mut verified = Verified::default();
    for case in cases {
        let line = match &case.outcome {
            Outcome::Passed(_) => format!("ok    {}", case.name),
            Outcome::Skipped(reason) => format!("skip  {}: {}", case.name, first_line(reason)),
            Outcome::Failed(reason) => {
                verified.failures += 1;
                // pytest's message (the assertion), not the whole traceback.
                let message = reason.split("\n\n").next().unwrap_or(reason);
                format!("FAIL  {}: {}", case.name, indent(message))
            }
        };
        verified.lines.push(line);
        verified.checks.push(case);
    }
    verified
}

/// pytest's JUnit XML (`junit_family=xunit1`): a check per test case, named
/// by its pytest id (`test_default.py::test_motd[ansible://host]`), failed
/// with pytest's message, then a blank line and the traceback.
fn read_junit(xml: &str) -> Result<Vec<Check>, String> {
    let report = Report::deserialize_from_str(xml).map_err(|e| e.to_string())?;
    let mut checks = Vec::new();
    for case in report.test_suites.iter().flat_map(|s| &s.test_cases) {
        let file = case.extra.get("file").map(|f| f.as_str());
        let outcome = match &case.status {
            TestCaseStatus::Success { .. } => Outcome::Passed(String::new()),
            TestCaseStatus::Skipped { message, .. } => {
                Outcome::Skipped(message.as_ref().map_or("skipped", |m| m.as_str()).into())
            }
            TestCaseStatus::NonSuccess {
                kind,
                message,
                description,
                ..
            } => {
                let message = message.as_ref().map_or("", |m| m.as_str());
                let what = match kind {
                    NonSuccessKind::Failure => "",
                    NonSuccessKind::Error => "error: ",
                };
                let details = description.as_ref().map_or("", |d| d.as_str());
                Outcome::Failed(format!("{what}{message}\n\n{details}").trim().to_owned())
            }
        };
        checks.push(Check {
            name: test_id(file, case.classname.as_deref().unwrap_or(""), &case.name),
            duration: case.time.unwrap_or(Duration::ZERO),
            outcome,
        });
    }
    Ok(checks)
}

/// pytest's id of a test from its JUnit case: `file` (`sub/test_x.py`),
/// `classname` (`sub.test_x.TestClass`, the file's module then any class)
/// and `name` (`test_y[ansible://host]`).
fn test_id(file: Option<&str>, classname: &str, name: &str) -> String {
    let Some(file) = file else {
        return [classname, name].join("::");
    };
    let module = file.trim_end_matches(".py").replace('/', ".");
    let classes = classname.strip_prefix(&module).unwrap_or(classname);
    std::iter::once(file)
        .chain(classes.split('.').filter(|c| !c.is_empty()))
        .chain([name])
        .collect::<Vec<_>>()
        .join("::")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Lines after the first indented under a step line's text; blank ones left out.
fn indent(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n      ")
}

/// The last `lines` lines of `text`, indented.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..]
        .iter()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    /// What pytest 8.4 writes with `-o junit_family=xunit1` (its blank line
    /// in a message too), cut to its cases.
    fn junit(cases: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites name=\"pytest tests\">\
             <testsuite name=\"pytest\" errors=\"0\" failures=\"0\" skipped=\"0\" tests=\"1\" \
             time=\"0.9\" timestamp=\"2025-06-01T10:00:00.123456+00:00\" hostname=\"h\">\
             {cases}</testsuite></testsuites>"
        )
    }

    const PASSED: &str = "<testcase classname=\"test_default\" name=\"test_notice[ansible://argos-t-x-instance]\" \
         file=\"test_default.py\" line=\"4\" time=\"0.250\" />";

    const FAILED: &str = "<testcase classname=\"test_default\" name=\"test_motd[ansible://argos-t-x-instance]\" \
         file=\"test_default.py\" line=\"11\" time=\"0.125\"><failure message=\"AssertionError: assert 'Welcome' == 'Goodbye'&#10;  &#10;  - Goodbye&#10;  + Welcome\">\
         host = &lt;testinfra.host.Host ansible://argos-t-x-instance&gt;\n\n&gt;       assert motd.content_string == 'Goodbye'\n\
         E       AssertionError</failure></testcase>";

    #[test]
    fn passing_tests_are_a_line_and_a_check_each() {
        let verified = verdict(exit(0), Some(&junit(PASSED)), "1 passed in 0.9s");
        assert_eq!(verified.failures, 0);
        assert_eq!(
            verified.lines,
            ["ok    test_default.py::test_notice[ansible://argos-t-x-instance]"]
        );
        assert_eq!(
            verified.checks,
            [Check {
                name: "test_default.py::test_notice[ansible://argos-t-x-instance]".into(),
                duration: Duration::from_millis(250),
                outcome: Outcome::Passed(String::new()),
            }]
        );
    }

    #[test]
    fn a_failed_test_fails_with_its_assertion_and_keeps_the_traceback_for_junit() {
        let verified = verdict(
            exit(1),
            Some(&junit(&format!("{PASSED}{FAILED}"))),
            "1 failed, 1 passed",
        );
        assert_eq!(verified.failures, 1);
        assert_eq!(verified.lines.len(), 2, "{:?}", verified.lines);
        assert_eq!(
            verified.lines[1],
            "FAIL  test_default.py::test_motd[ansible://argos-t-x-instance]: AssertionError: \
             assert 'Welcome' == 'Goodbye'\n        - Goodbye\n        + Welcome"
        );
        let Outcome::Failed(reason) = &verified.checks[1].outcome else {
            panic!("{:?}", verified.checks[1]);
        };
        assert!(
            reason.starts_with("AssertionError: assert 'Welcome' == 'Goodbye'"),
            "{reason}"
        );
        assert!(
            reason.contains("assert motd.content_string == 'Goodbye'"),
            "{reason}"
        );
    }

    #[test]
    fn an_error_in_a_fixture_or_a_collection_fails_as_an_error() {
        let error = "<testcase classname=\"\" name=\"test_default\" file=\"test_default.py\" time=\"0.01\">\
             <error message=\"collection failure\">ImportError: No module named 'nope'</error></testcase>";
        let verified = verdict(
            exit(2),
            Some(&junit(error)),
            "ERROR test_default.py\nInterrupted: 1 error during collection",
        );
        assert_eq!(verified.failures, 2, "{:?}", verified.lines);
        assert_eq!(
            verified.lines[0],
            "FAIL  test_default.py::test_default: error: collection failure"
        );
        assert!(
            verified.lines[1].starts_with("FAIL  testinfra: pytest exit status: 2: interrupted"),
            "{:?}",
            verified.lines
        );
        assert!(
            verified.lines[1].contains("      Interrupted: 1 error during collection"),
            "{:?}",
            verified.lines
        );
        let setup = "<testcase classname=\"sub.test_web.TestServer\" name=\"test_port\" file=\"sub/test_web.py\" time=\"0.01\">\
             <error message=\"failed on setup with &quot;RuntimeError&quot;\">trace</error></testcase>";
        let verified = verdict(exit(1), Some(&junit(setup)), "1 error");
        assert_eq!(
            verified.lines,
            [
                "FAIL  sub/test_web.py::TestServer::test_port: error: failed on setup with \"RuntimeError\""
            ]
        );
    }

    #[test]
    fn zero_tests_never_pass() {
        let verified = verdict(exit(5), Some(&junit("")), "no tests ran in 0.01s");
        assert_eq!(verified.failures, 1);
        assert!(
            verified.lines[0].starts_with(
                "FAIL  testinfra: pytest exit status: 5: no tests were collected\n      no tests ran"
            ),
            "{:?}",
            verified.lines
        );
        // Exit 0 with nothing run (every test skipped) is no pass either.
        let skipped = "<testcase classname=\"test_default\" name=\"test_x\" file=\"test_default.py\" time=\"0\">\
             <skipped type=\"pytest.skip\" message=\"not on this host\">skip</skipped></testcase>";
        let verified = verdict(exit(0), Some(&junit(skipped)), "1 skipped");
        assert_eq!(verified.failures, 1);
        assert_eq!(
            verified.lines[0],
            "skip  test_default.py::test_x: not on this host"
        );
        assert!(
            verified.lines[1].starts_with("FAIL  testinfra: pytest ran no test (1 skipped)"),
            "{:?}",
            verified.lines
        );
        // A report that cannot be read is no pass.
        let verified = verdict(exit(0), None, "1 passed");
        assert_eq!(verified.failures, 1);
        assert!(
            verified.lines[0].starts_with("FAIL  testinfra: pytest wrote no JUnit XML"),
            "{:?}",
            verified.lines
        );
    }

    #[test]
    fn a_tests_folder_needs_a_test_file() {
        let dir = tempfile::tempdir().unwrap();
        let tests = dir.path().join("tests");
        let problem = tests_folder_problem(&tests).unwrap();
        assert!(problem.contains("tests is not a folder"), "{problem}");
        std::fs::create_dir_all(tests.join("sub")).unwrap();
        std::fs::write(tests.join("conftest.py"), "").unwrap();
        let problem = tests_folder_problem(&tests).unwrap();
        assert!(
            problem.ends_with("tests holds no test_*.py: the testinfra verifier would run no test"),
            "{problem}"
        );
        std::fs::write(tests.join("sub/test_x.py"), "").unwrap();
        assert_eq!(tests_folder_problem(&tests), None);
    }

    #[test]
    fn missing_pytest_fails_saying_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let ansible = dir.path().join("bin/ansible-playbook");
        let error = pytest_beside(&ansible).unwrap_err();
        assert!(
            error.starts_with("pytest-testinfra is not installed"),
            "{error}"
        );
        assert!(
            error.contains("bin/pip install pytest-testinfra==10.2.2"),
            "{error}"
        );
        let requirements = include_str!("../../.ci/requirements.txt");
        assert!(
            requirements.lines().any(|l| l == PIN),
            ".ci/requirements.txt pins {PIN}"
        );
    }

    #[test]
    fn the_ssh_options_are_one_shell_word_each() {
        let args = ssh_args(&[
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            "UserKnownHostsFile=/p/my project/known_hosts".into(),
        ]);
        assert_eq!(
            args,
            "-o StrictHostKeyChecking=accept-new -o 'UserKnownHostsFile=/p/my project/known_hosts' \
             -o BatchMode=yes -o ControlMaster=no -o ControlPath=none"
        );
    }

    #[test]
    fn the_inventory_carries_the_known_hosts_options_to_every_ssh_host_and_no_local_one() {
        use crate::converge::inventory::{DatabaseEndpoint, Expect, Host};
        use crate::model::names::{AppName, EnvName, EnvNames, Group};
        let host = |name: &str, own: Option<&str>| Host {
            name: name.into(),
            group: Group::new("web").unwrap(),
            groups: Vec::new(),
            address: "172.18.0.2".into(),
            port: 22,
            user: "admin".into(),
            private_address: "172.18.0.2".into(),
            vars: own
                .map(|o| [("ansible_ssh_common_args".to_owned(), o.to_owned())].into())
                .unwrap_or_default(),
        };
        let inventory = Inventory::new(
            EnvNames::new(
                AppName::new("argos").unwrap(),
                EnvName::new("t-x-1").unwrap(),
            ),
            vec![host("a", None), host("b", Some("-o ProxyJump=none"))],
            vec![DatabaseEndpoint {
                group: Group::new("database").unwrap(),
                address: "db.example".into(),
                port: 5432,
            }],
            Expect::anything(),
        )
        .unwrap();
        let file = inventory_file(&inventory, "-o StrictHostKeyChecking=accept-new");
        let web = &file["all"]["children"]["web"]["hosts"];
        assert_eq!(
            web["a"]["ansible_ssh_common_args"],
            "-o StrictHostKeyChecking=accept-new"
        );
        assert_eq!(
            web["b"]["ansible_ssh_common_args"],
            "-o StrictHostKeyChecking=accept-new -o ProxyJump=none"
        );
        assert_eq!(web["a"]["ansible_host"], "172.18.0.2");
        let text = file.to_string();
        assert!(!text.contains("db.example\":{"), "{text}");
        assert!(!text.contains("\"local\""), "{text}");
    }
}
