//! What a playbook run did, per host, read from the `argos_events` callback's
//! JSON lines (src/deploy/argos_events.py, which every run is given).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Ansible's per-host stats (`stats.summarize`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSummary {
    #[serde(default)]
    pub ok: u32,
    #[serde(default)]
    pub changed: u32,
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub unreachable: u32,
    #[serde(default)]
    pub skipped: u32,
    #[serde(default)]
    pub rescued: u32,
    #[serde(default)]
    pub ignored: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskFailure {
    pub host: String,
    pub play: String,
    pub task: String,
    pub message: String,
    pub unreachable: bool,
}

/// How long a task took, over all its hosts: from its start to the next
/// task's (or the play's end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskTime {
    pub play: String,
    pub task: String,
    pub seconds: f64,
}

/// `15.4 s database : Install PostgreSQL`: Ansible's task name already
/// carries its role; the play is named only for a task of no role.
impl fmt::Display for TaskTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.task.contains(" : ") || self.play.is_empty() {
            write!(f, "{:.1} s {}", self.seconds, self.task)
        } else {
            write!(f, "{:.1} s {} ({})", self.seconds, self.task, self.play)
        }
    }
}

/// A task that changed something on a host: what idempotence must not see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedTask {
    pub host: String,
    pub task: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PlaybookReport {
    pub playbook: String,
    pub hosts: BTreeMap<String, HostSummary>,
    pub failures: Vec<TaskFailure>,
    pub changed_tasks: Vec<ChangedTask>,
    /// ansible-playbook's exit code (`None` when it was killed).
    pub exit_code: Option<i32>,
    /// The full output, kept in a file.
    pub log: String,
    /// Ansible's own error lines (`ERROR!`, `[ERROR]`): why a playbook
    /// that never reached a host stopped.
    pub errors: Vec<String>,
    /// Every task's time, in the order they ran.
    pub task_times: Vec<TaskTime>,
    /// The Python Ansible discovered on each host (by inventory name).
    pub interpreters: BTreeMap<String, String>,
}

/// An event and when it happened (`at`, seconds since the run started).
#[derive(Deserialize)]
struct Stamped {
    #[serde(flatten)]
    event: Event,
    at: Option<f64>,
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Event {
    Play {
        name: String,
    },
    Task {
        name: String,
    },
    Ok {
        #[serde(default)]
        host: String,
        #[serde(default)]
        task: String,
        #[serde(default)]
        changed: bool,
    },
    Ignored {},
    Failed {
        host: String,
        task: String,
        msg: String,
    },
    Unreachable {
        host: String,
        task: String,
        msg: String,
    },
    Stats {
        hosts: BTreeMap<String, HostSummary>,
    },
    Interpreter {
        host: String,
        path: String,
    },
}

impl PlaybookReport {
    /// Read the events of one run; lines that are not events are ignored.
    pub fn from_events(playbook: &str, events: &str) -> Self {
        let mut report = PlaybookReport {
            playbook: playbook.to_owned(),
            ..Default::default()
        };
        let mut play = String::new();
        // The task running now: its play, name and start.
        let mut running: Option<(String, String, f64)> = None;
        for Stamped { event, at } in events
            .lines()
            .filter_map(|l| serde_json::from_str::<Stamped>(l).ok())
        {
            if let (Event::Play { .. } | Event::Task { .. } | Event::Stats { .. }, Some(at)) =
                (&event, at)
                && let Some((play, task, started)) = running.take()
            {
                report.task_times.push(TaskTime {
                    play,
                    task,
                    seconds: (at - started).max(0.0),
                });
            }
            match event {
                Event::Play { name } => play = name,
                Event::Task { name } => {
                    running = at.map(|at| (play.clone(), name, at));
                }
                Event::Ok {
                    host,
                    task,
                    changed: true,
                } => report.changed_tasks.push(ChangedTask { host, task }),
                Event::Ok { .. } | Event::Ignored {} => {}
                Event::Failed { host, task, msg } | Event::Unreachable { host, task, msg }
                    if report
                        .failures
                        .iter()
                        .any(|f| f.host == host && f.task == task && f.message == msg) => {}
                Event::Failed { host, task, msg } => report.failures.push(TaskFailure {
                    host,
                    play: play.clone(),
                    task,
                    message: msg,
                    unreachable: false,
                }),
                Event::Unreachable { host, task, msg } => report.failures.push(TaskFailure {
                    host,
                    play: play.clone(),
                    task,
                    message: msg,
                    unreachable: true,
                }),
                Event::Stats { hosts } => report.hosts = hosts,
                Event::Interpreter { host, path } => {
                    report.interpreters.insert(host, path);
                }
            }
        }
        report
    }

    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
            && self.failures.is_empty()
            && self
                .hosts
                .values()
                .all(|h| h.failures == 0 && h.unreachable == 0)
    }

    pub fn changed(&self) -> u32 {
        self.hosts.values().map(|h| h.changed).sum()
    }
}

impl fmt::Display for PlaybookReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.succeeded() { "ok" } else { "FAILED" };
        writeln!(f, "{} {verdict} (log: {})", self.playbook, self.log)?;
        for (host, s) in &self.hosts {
            writeln!(
                f,
                "  {host:<40} ok={:<3} changed={:<3} failed={:<3} unreachable={:<3} skipped={}",
                s.ok, s.changed, s.failures, s.unreachable, s.skipped
            )?;
        }
        for failure in &self.failures {
            let kind = if failure.unreachable {
                "UNREACHABLE"
            } else {
                "FAILED"
            };
            writeln!(
                f,
                "  {kind} {}: task \"{}\": {}",
                failure.host, failure.task, failure.message
            )?;
        }
        if self.hosts.is_empty() && self.exit_code != Some(0) {
            writeln!(
                f,
                "  ansible-playbook ended with {} before any host ran{}",
                self.exit_code
                    .map_or("a signal".to_owned(), |c| format!("exit code {c}")),
                if self.errors.is_empty() {
                    "; see the log"
                } else {
                    ":"
                }
            )?;
            for error in &self.errors {
                writeln!(f, "    {error}")?;
            }
        }
        Ok(())
    }
}

/// Every playbook a deploy ran, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeployReport {
    pub playbooks: Vec<PlaybookReport>,
    /// How Ansible ran the tasks (None before any playbook ran).
    pub strategy: Option<super::Strategy>,
}

impl DeployReport {
    pub fn succeeded(&self) -> bool {
        self.playbooks.iter().all(PlaybookReport::succeeded)
    }

    pub fn changed(&self) -> u32 {
        self.playbooks.iter().map(PlaybookReport::changed).sum()
    }

    /// The Python Ansible discovered on each host, by inventory name.
    pub fn interpreters(&self) -> BTreeMap<String, String> {
        self.playbooks
            .iter()
            .flat_map(|p| p.interpreters.clone())
            .collect()
    }

    /// Where the time went: the `n` slowest tasks of every playbook, as
    /// `12.3 s play: task`, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<&TaskTime> {
        let mut times: Vec<&TaskTime> = self.playbooks.iter().flat_map(|p| &p.task_times).collect();
        times.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        times.truncate(n);
        times
    }

    /// The few slowest tasks as one line (`82.1 s role : task; 9.0 s
    /// task (play)`); None when no task was timed.
    pub fn slowest_line(&self) -> Option<String> {
        let slowest = self.slowest(SLOWEST_SHOWN);
        (!slowest.is_empty()).then(|| {
            slowest
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl fmt::Display for DeployReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for playbook in &self.playbooks {
            write!(f, "{playbook}")?;
        }
        // A red run's screen is for its failure; a green one says where
        // the time went.
        if let (true, Some(slowest)) = (self.succeeded(), self.slowest_line()) {
            writeln!(f, "slowest tasks: {slowest}")?;
        }
        match &self.strategy {
            Some(strategy) if strategy.is_mitogen() && !self.succeeded() => writeln!(
                f,
                "{strategy}: to rule Mitogen out, run again with --ansible-strategy linear"
            )?,
            Some(strategy) => writeln!(f, "{strategy}")?,
            None => {}
        }
        Ok(())
    }
}

/// How many of the slowest tasks a report names.
const SLOWEST_SHOWN: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &str = r#"{"event": "play", "name": "Knowledge host"}
{"event": "task", "name": "Gathering Facts"}
{"event": "ok", "host": "k1", "task": "Gathering Facts", "changed": false, "msg": ""}
{"event": "task", "name": "Install Java"}
{"event": "failed", "host": "k1", "task": "Install Java", "changed": false, "msg": "No package matching 'jre9' is available"}
{"event": "unreachable", "host": "k2", "task": "Gathering Facts", "changed": false, "msg": "Failed to connect to the host via ssh"}
{"event": "stats", "hosts": {"k1": {"ok": 1, "changed": 0, "failures": 1, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}, "k2": {"ok": 0, "changed": 0, "failures": 0, "unreachable": 1, "skipped": 0, "rescued": 0, "ignored": 0}}}
"#;

    #[test]
    fn failures_name_host_task_and_message() {
        let mut report = PlaybookReport::from_events("knowledge.yml", EVENTS);
        report.exit_code = Some(2);
        assert!(!report.succeeded());
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].play, "Knowledge host");
        let text = report.to_string();
        assert!(
            text.contains(
                "FAILED k1: task \"Install Java\": No package matching 'jre9' is available"
            ),
            "{text}"
        );
        assert!(
            text.contains("UNREACHABLE k2: task \"Gathering Facts\""),
            "{text}"
        );
        assert!(text.contains("failed=1"), "{text}");
    }

    #[test]
    fn a_clean_run_succeeds_and_counts_changes() {
        let events = r#"{"event": "stats", "hosts": {"a": {"ok": 5, "changed": 2}, "b": {"ok": 5, "changed": 1}}}"#;
        let mut report = PlaybookReport::from_events("app.yml", events);
        report.exit_code = Some(0);
        assert!(report.succeeded());
        assert_eq!(report.changed(), 3);
    }

    #[test]
    fn each_task_takes_until_the_next_one_starts() {
        let events = r#"{"event": "play", "name": "Database", "at": 0.1}
{"event": "task", "name": "Gathering Facts", "at": 0.2}
{"event": "ok", "host": "d1", "task": "Gathering Facts", "changed": false, "msg": "", "at": 1.0}
{"event": "task", "name": "database : Install PostgreSQL", "at": 1.5}
{"event": "ok", "host": "d1", "task": "database : Install PostgreSQL", "changed": true, "msg": "", "at": 40.0}
{"event": "play", "name": "Knowledge", "at": 41.5}
{"event": "task", "name": "Install nginx", "at": 41.6}
{"event": "stats", "hosts": {"d1": {"ok": 3, "changed": 1}}, "at": 50.6}"#;
        let mut playbook = PlaybookReport::from_events("database.yml", events);
        playbook.exit_code = Some(0);
        let times: Vec<(&str, &str, f64)> = playbook
            .task_times
            .iter()
            .map(|t| {
                (
                    t.play.as_str(),
                    t.task.as_str(),
                    (t.seconds * 10.0).round() / 10.0,
                )
            })
            .collect();
        assert_eq!(
            times,
            [
                ("Database", "Gathering Facts", 1.3),
                ("Database", "database : Install PostgreSQL", 40.0),
                ("Knowledge", "Install nginx", 9.0)
            ]
        );
        let report = DeployReport {
            playbooks: vec![playbook],
            ..DeployReport::default()
        };
        assert_eq!(
            report.slowest_line().as_deref(),
            Some(
                "40.0 s database : Install PostgreSQL; 9.0 s Install nginx (Knowledge); 1.3 s Gathering Facts (Database)"
            )
        );
        assert!(report.to_string().ends_with(
            "slowest tasks: 40.0 s database : Install PostgreSQL; 9.0 s Install nginx (Knowledge); 1.3 s Gathering Facts (Database)\n"
        ));
    }

    #[test]
    fn the_discovered_python_is_kept_per_host_and_a_mitogen_failure_names_the_way_out() {
        let events = concat!(
            r#"{"event": "play", "name": "Converge", "at": 0.1}"#,
            "\n",
            r#"{"event": "task", "name": "Gathering Facts", "at": 0.2}"#,
            "\n",
            r#"{"event": "ok", "host": "web", "task": "Gathering Facts", "changed": false, "msg": "", "at": 1.0}"#,
            "\n",
            r#"{"event": "interpreter", "host": "web", "path": "/usr/bin/python3.11", "at": 1.0}"#,
            "\n",
            r#"{"event": "task", "name": "Install", "at": 1.1}"#,
            "\n",
            r#"{"event": "failed", "host": "web", "task": "Install", "msg": "No module named 'apt'", "at": 2.0}"#,
            "\n",
        );
        let playbook = PlaybookReport::from_events("converge.yml", events);
        // The interpreter line closes no task: Gathering Facts ran 0.9 s.
        assert_eq!(playbook.task_times[0].task, "Gathering Facts");
        assert!((playbook.task_times[0].seconds - 0.9).abs() < 1e-9);
        let report = DeployReport {
            playbooks: vec![playbook],
            strategy: Some(super::super::Strategy::Mitogen {
                version: "0.3.54".into(),
                plugins: "/p".into(),
            }),
        };
        assert_eq!(
            report.interpreters(),
            BTreeMap::from([("web".to_owned(), "/usr/bin/python3.11".to_owned())])
        );
        assert!(!report.succeeded());
        assert!(
            report.to_string().ends_with(
                "strategy mitogen_linear (mitogen 0.3.54): to rule Mitogen out, run again with --ansible-strategy linear\n"
            ),
            "{report}"
        );
    }

    #[test]
    fn events_without_times_time_nothing() {
        let report = DeployReport {
            playbooks: vec![PlaybookReport::from_events("knowledge.yml", EVENTS)],
            ..DeployReport::default()
        };
        assert!(report.playbooks[0].task_times.is_empty());
        assert_eq!(report.slowest_line(), None);
    }

    #[test]
    fn a_nonzero_exit_is_a_failure_even_without_events() {
        let mut report = PlaybookReport::from_events("app.yml", "not json\n");
        report.exit_code = Some(4);
        assert!(!report.succeeded());
        assert!(
            report
                .to_string()
                .contains("exit code 4 before any host ran; see the log")
        );
        report.errors = vec!["[ERROR]: couldn't resolve module/action 'timezone'.".into()];
        assert!(report.to_string().contains(
            "exit code 4 before any host ran:\n    [ERROR]: couldn't resolve module/action 'timezone'."
        ));
    }
}
