//! Throwaway project copies, and tools the tests need.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use argos_cloud::cfn::lint::CfnLint;
use argos_cloud::converge::deploy::AnsiblePlaybook;
use argos_cloud::model::project::Project;
use argos_harness::tools::Venv;

/// A copy of the shipped formations and sample settings in a temporary folder,
/// so a test may break them (and `all.yml` is made there, not in the repo).
pub struct TempProject {
    dir: tempfile::TempDir,
}

impl TempProject {
    pub fn shipped() -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let formations = dir.path().join("formations");
        std::fs::create_dir_all(&formations).unwrap();
        for entry in std::fs::read_dir(source.join("formations")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), formations.join(entry.file_name())).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("playbooks/group_vars")).unwrap();
        std::fs::copy(
            source.join(Project::SAMPLE_SETTINGS),
            dir.path().join(Project::SAMPLE_SETTINGS),
        )
        .unwrap();
        // The IAM policies the sample's `iam_policies` names (the policy
        // step checks them).
        let policies = dir.path().join(".github/aws-iam");
        std::fs::create_dir_all(&policies).unwrap();
        for entry in std::fs::read_dir(source.join(".github/aws-iam")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
        }
        // The playbooks themselves: validate checks the topology against them.
        for entry in std::fs::read_dir(source.join("playbooks")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml") {
                std::fs::copy(
                    &path,
                    dir.path().join("playbooks").join(path.file_name().unwrap()),
                )
                .unwrap();
            }
        }
        Self { dir }
    }

    /// [`Self::shipped`] that commands and scenario runs can run on: the
    /// playbooks and scenarios (copied: `all.yml` is made beside them, and
    /// what a run writes, `.argos/`, is this copy's alone), the host
    /// image's build files and the Vagrantfile.
    pub fn runnable() -> Self {
        let project = Self::shipped();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        for folder in ["playbooks", "scenarios"] {
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(source.join(folder))
                .arg(project.root())
                .status()
                .unwrap();
            assert!(status.success(), "copying {folder}");
        }
        // Settings the developer made are not the sample the tests start from.
        let _ = std::fs::remove_file(project.root().join(Project::SETTINGS));
        for linked in ["docker", "Vagrantfile"] {
            if source.join(linked).exists() {
                std::os::unix::fs::symlink(source.join(linked), project.root().join(linked))
                    .unwrap();
            }
        }
        project
    }

    /// A copy of the project `tests/fixtures/<name>`, with the host image's
    /// build files (which Docker hosts are made from) beside it.
    pub fn fixture(name: &str) -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(source.join("tests/fixtures").join(name).join("."))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "copying the fixture {name}");
        std::os::unix::fs::symlink(source.join("docker"), dir.path().join("docker")).unwrap();
        Self { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub fn sample(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(Project::SAMPLE_SETTINGS)).unwrap()
    }

    pub fn write_settings(&self, text: &str) {
        std::fs::write(self.dir.path().join(Project::SETTINGS), text).unwrap();
    }

    pub fn write_formation(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join("formations").join(name), text).unwrap();
    }
}

/// cfn-lint, or a loud skip of the lint assertions. Under CI it must be there.
pub fn cfn_lint(project: &TempProject) -> Option<CfnLint> {
    argos_harness::tools::venv_or_skip()?;
    let repo = Project::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    let found =
        CfnLint::locate(&repo).or_else(|| CfnLint::locate(&Project::open(project.root()).unwrap()));
    if found.is_none() {
        argos_harness::skip::missing(
            "cfn-lint",
            "it is not installed (.ci/run installs it into .venv)",
        );
    }
    found
}

/// The `ansible-playbook` deploy would use (its folder holds the other
/// Ansible commands), from the project's venv, made on first use; `None`,
/// said loudly, where it cannot be made, never in CI.
pub fn ansible() -> Option<AnsiblePlaybook> {
    argos_harness::tools::venv_or_skip()?;
    let repo = Project::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    match AnsiblePlaybook::locate(&repo) {
        Ok(found) => Some(found),
        Err(error) => {
            argos_harness::skip::missing("ansible-playbook", error);
            None
        }
    }
}

/// A process seen in /proc: its id, process group and command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub group: u32,
    pub command: String,
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (group {}): {}", self.pid, self.group, self.command)
    }
}

/// Every live process (zombies, which run nothing, left out), with its
/// parent and working folder.
fn processes() -> Vec<(Process, u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after ')'.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            if fields.first() == Some(&"Z") {
                return None;
            }
            let parent = fields.get(1)?.parse().ok()?;
            let group = fields.get(2)?.parse().ok()?;
            let command = std::fs::read(entry.path().join("cmdline"))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            let cwd = std::fs::read_link(entry.path().join("cwd")).unwrap_or_default();
            Some((
                Process {
                    pid,
                    group,
                    command: command.trim().to_owned(),
                },
                parent,
                cwd,
            ))
        })
        .collect()
}

/// The processes `root` started, and theirs (not `root` itself).
pub fn descendants(root: u32) -> Vec<Process> {
    let all = processes();
    let mut found: Vec<Process> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for (process, ppid, _) in &all {
            if *ppid == parent && !found.iter().any(|p| p.pid == process.pid) {
                parents.push(process.pid);
                found.push(process.clone());
            }
        }
    }
    found
}

/// What is still alive of a run: processes in one of the process groups
/// its children had (`seen`, the group of the test itself left out), and
/// processes whose command line or working folder names `marker` (the
/// environment's stack: ssh connection masters leave their group).
pub fn left_alive(seen: &[Process], marker: &str) -> Vec<Process> {
    let own = processes()
        .into_iter()
        .find(|(p, _, _)| p.pid == std::process::id())
        .map(|(p, _, _)| p.group);
    let groups: Vec<u32> = seen
        .iter()
        .map(|p| p.group)
        .filter(|g| Some(*g) != own)
        .collect();
    processes()
        .into_iter()
        .filter(|(p, _, cwd)| {
            p.pid != std::process::id()
                && (groups.contains(&p.group)
                    || p.command.contains(marker)
                    || cwd.to_string_lossy().contains(marker))
        })
        .map(|(p, _, _)| p)
        .collect()
}

/// `argos-cloud --root ROOT` for a test that watches it run (see [`isolate`]).
pub fn argos_command(root: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("argos-cloud"));
    command.arg("--root").arg(root);
    isolate(&mut command);
    command
}

/// What the binary under test sees of its environment: no overrides from
/// the developer's shell, and the project's venv (`ARGOS_VENV`) for its
/// Python tools, never whatever else is on `PATH`.
pub fn isolate(command: &mut std::process::Command) {
    // vars_os: a variable of the developer's that is not text is no reason to fail.
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("ARGOS_"))
    {
        command.env_remove(name);
    }
    command
        .env_remove("AWS_ENDPOINT_URL")
        .env(Project::VENV_VAR, Venv::project().dir());
}

/// A running `argos-cloud` with `--message-format json`: its events read
/// from stdout, its messages from stderr, as they come.
pub struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<Said>,
    pub seen: Vec<String>,
}

/// A line of the run's output: an event (stdout) or a message (stderr).
enum Said {
    Event(serde_json::Value),
    Message(String),
}

impl Running {
    /// Start `command` (an `argos-cloud` command line; `--message-format
    /// json` is added).
    pub fn start(mut command: std::process::Command) -> Self {
        command
            .arg("--message-format")
            .arg("json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let (send, lines) = mpsc::channel();
        let events = child.stdout.take().unwrap();
        let to_events = send.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(events).lines().map_while(Result::ok) {
                let said = serde_json::from_str(&line).map_or(Said::Message(line), Said::Event);
                if to_events.send(said).is_err() {
                    break;
                }
            }
        });
        let messages = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(messages).lines().map_while(Result::ok) {
                if send.send(Said::Message(line)).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Read until an event of kind `event` for which `pick` holds; the event.
    pub fn wait_for_event(
        &mut self,
        event: &str,
        pick: impl Fn(&serde_json::Value) -> bool,
        deadline: Duration,
    ) -> serde_json::Value {
        let started = Instant::now();
        while let Some(left) = deadline.checked_sub(started.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(Said::Event(value)) => {
                    self.seen.push(value.to_string());
                    if value["event"] == event && pick(&value) {
                        return value;
                    }
                }
                Ok(Said::Message(line)) => self.seen.push(line),
                Err(_) => break,
            }
        }
        panic!(
            "no {event} event within {deadline:?}:\n{}",
            self.seen.join("\n")
        );
    }

    /// Wait for Ansible's output to show `text` (a task name, say).
    pub fn wait_for_ansible(&mut self, text: &str, deadline: Duration) {
        self.wait_for_event(
            "ansible_output",
            |e| e["line"].as_str().is_some_and(|l| l.contains(text)),
            deadline,
        );
    }

    /// What it has started so far, and what they started.
    pub fn children(&self) -> Vec<Process> {
        descendants(self.child.id())
    }

    /// Send `kill -NAME`.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn exit_code(&mut self, deadline: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The rest of the output, for messages.
                while let Ok(said) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(match said {
                        Said::Event(value) => value.to_string(),
                        Said::Message(line) => line,
                    });
                }
                return status.code();
            }
            if started.elapsed() > deadline {
                let _ = self.child.kill();
                panic!(
                    "still running {deadline:?} after the signal:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Send SIG`name` and check the answer: exit 130 within 30 s, saying
    /// so, and no process of the run left alive (its children's process
    /// groups, and anything naming `marker`). How long it took.
    pub fn stops_on(&mut self, name: &str, marker: &str) -> Duration {
        let children = self.children();
        let started = Instant::now();
        self.signal(name);
        let code = self.exit_code(Duration::from_secs(30));
        let took = started.elapsed();
        assert_eq!(code, Some(130), "{}", self.seen.join("\n"));
        assert!(
            self.seen
                .iter()
                .any(|l| l.contains(&format!("interrupted by SIG{name}"))),
            "{}",
            self.seen.join("\n")
        );
        // Killed processes are gone at once; a connection master told to
        // exit takes a moment.
        let mut left = left_alive(&children, marker);
        while !left.is_empty() && started.elapsed() < took + Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(100));
            left = left_alive(&children, marker);
        }
        assert!(
            left.is_empty(),
            "alive after SIG{name} ({} s): {}\nits children were:\n{}",
            took.as_secs(),
            left.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            children
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        eprintln!("SIG{name} answered in {took:.1?}");
        took
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave it running: stopped as a user
        // would, so it removes what it made, and killed if that hangs.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal("INT");
            let started = Instant::now();
            while matches!(self.child.try_wait(), Ok(None))
                && started.elapsed() < Duration::from_secs(120)
            {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Docker's engine runs here; a loud skip where not, never in CI.
pub fn docker_here() -> bool {
    let ok = argos_cloud::sys::process::succeeds("docker", &["info"]);
    if !ok {
        argos_harness::skip::missing("Docker", "docker info failed");
    }
    ok
}

/// The topology of the sample settings, with tasks on or off.
pub fn sample_topology(tasks_enabled: bool) -> argos_cloud::model::topology::Topology {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/group_vars/all.sample.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut overrides = argos_cloud::model::settings::Overrides::default();
    overrides.flag("tasks_enabled", &tasks_enabled.to_string());
    argos_cloud::model::settings::parse(&file, &text, &overrides)
        .unwrap()
        .topology
}

/// Decommission and clean `env` with the commands `argos` makes (its
/// backend, emulator and flags), whatever happened to the test: a failed
/// assertion included. Declared after the emulator, it runs while that
/// still answers.
pub struct Decommission<'a, F: Fn() -> assert_cmd::Command> {
    pub argos: &'a F,
    pub env: &'a str,
}

impl<F: Fn() -> assert_cmd::Command> Drop for Decommission<'_, F> {
    fn drop(&mut self) {
        let _ = (self.argos)()
            .args([self.env, "decommission", "--yes"])
            .output();
        let _ = (self.argos)().args([self.env, "clean", "--yes"]).output();
    }
}
