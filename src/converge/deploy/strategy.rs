//! How Ansible runs a playbook's tasks: ansible-core's own `linear`
//! strategy, or Mitogen for Ansible's `mitogen_linear`, which keeps one
//! Python interpreter per host for the whole run instead of sending and
//! starting every module afresh (measured in docs/src/performance.md).
//!
//! The setting `ansible_strategy` (flag `--ansible-strategy`) chooses:
//! `auto` runs Mitogen where it is installed beside `ansible-playbook` and
//! loads under its ansible-core, and says why not otherwise; `mitogen`
//! insists (an error before Ansible starts when it cannot); `linear` never
//! uses it. ansible-core 2.19 deprecates third-party strategy plugins, with
//! no release named for their removal: when a release drops them, the probe
//! here fails and `auto` runs `linear`, saying so.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use super::AnsiblePlaybook;
pub use crate::model::settings::StrategyChoice;

/// The Mitogen release argos-cloud is measured with (`.ci/requirements.txt`).
pub const MITOGEN_PIN: &str = "mitogen==0.3.54";

/// The strategy a deploy runs with, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Strategy {
    /// ansible-core's own; `why` when it was not what `auto` hoped for.
    Linear { why: Option<String> },
    /// Mitogen's `mitogen_linear`, from the plugins in `plugins`.
    Mitogen { version: String, plugins: PathBuf },
}

impl Strategy {
    /// The environment variables that select it for `ansible-playbook`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Strategy::Linear { .. } => Vec::new(),
            Strategy::Mitogen { plugins, .. } => vec![
                ("ANSIBLE_STRATEGY_PLUGINS", plugins.display().to_string()),
                ("ANSIBLE_STRATEGY", "mitogen_linear".to_owned()),
            ],
        }
    }

    pub fn is_mitogen(&self) -> bool {
        matches!(self, Strategy::Mitogen { .. })
    }
}

/// What the step table says: `strategy mitogen_linear (mitogen 0.3.54)`,
/// `strategy linear (mitogen is not installed ...)`.
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Linear { why: None } => f.write_str("strategy linear"),
            Strategy::Linear { why: Some(why) } => write!(f, "strategy linear ({why})"),
            Strategy::Mitogen { version, .. } => {
                write!(f, "strategy mitogen_linear (mitogen {version})")
            }
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "ansible_strategy is mitogen, but {reason}: `pip install {MITOGEN_PIN}` beside \
     ansible-playbook, or set ansible_strategy to auto or linear (--ansible-strategy)"
)]
pub struct MitogenUnavailable {
    pub reason: String,
}

/// The strategy `choice` comes to with this `ansible-playbook`.
pub fn resolve(
    choice: StrategyChoice,
    ansible: &AnsiblePlaybook,
) -> Result<Strategy, MitogenUnavailable> {
    if choice == StrategyChoice::Linear {
        return Ok(Strategy::Linear { why: None });
    }
    let python = ansible.python().ok_or_else(|| {
        format!(
            "{} did not say which Python it runs on",
            ansible.program().display()
        )
    });
    choose(choice, python.and_then(mitogen_in))
}

/// `choice` (auto or mitogen) given what Mitogen's probe found.
fn choose(
    choice: StrategyChoice,
    found: Result<Strategy, String>,
) -> Result<Strategy, MitogenUnavailable> {
    match found {
        Ok(strategy) => Ok(strategy),
        Err(reason) if choice == StrategyChoice::Mitogen => Err(MitogenUnavailable { reason }),
        Err(reason) => Ok(Strategy::Linear {
            why: format!("auto: {reason}").into(),
        }),
    }
}

/// Mitogen as `python` (that of `ansible-playbook`) loads it, asked once
/// per Python for the life of the process (a Python start with Ansible's
/// imports costs about half a second).
fn mitogen_in(python: &Path) -> Result<Strategy, String> {
    type Answers = Mutex<Vec<(PathBuf, Result<Strategy, String>)>>;
    static ASKED: OnceLock<Answers> = OnceLock::new();
    let asked = ASKED.get_or_init(Default::default);
    if let Some((_, answer)) = asked
        .lock()
        .expect("strategy cache")
        .iter()
        .find(|(p, _)| p == python)
    {
        return answer.clone();
    }
    let answer = probe(python);
    asked
        .lock()
        .expect("strategy cache")
        .push((python.to_owned(), answer.clone()));
    answer
}

/// Ask `python` for Mitogen's strategy plugins, checked against the
/// ansible-core it runs (Mitogen refuses releases it does not know).
const PROBE: &str = "\
import os, mitogen, ansible_mitogen.loaders as l, ansible_mitogen.plugins.strategy as s
l.assert_supported_release()
print('.'.join(map(str, mitogen.__version__)))
print(os.path.dirname(s.__file__))
";

fn probe(python: &Path) -> Result<Strategy, String> {
    let output = Command::new(python)
        .args(["-c", PROBE])
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    match (output.status.success(), lines.next(), lines.next()) {
        (true, Some(version), Some(plugins)) if Path::new(plugins).is_dir() => {
            Ok(Strategy::Mitogen {
                version: version.trim().to_owned(),
                plugins: PathBuf::from(plugins.trim()),
            })
        }
        _ => Err(why_not(&String::from_utf8_lossy(&output.stderr), python)),
    }
}

/// The last line of a Python traceback says what went wrong.
fn why_not(stderr: &str, python: &Path) -> String {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no answer")
        .trim();
    if last.contains("No module named 'mitogen'")
        || last.contains("No module named 'ansible_mitogen'")
    {
        format!("mitogen is not installed for {}", python.display())
    } else {
        format!("mitogen does not load under {}: {last}", python.display())
    }
}

/// Whether the deprecation of third-party strategy plugins has been said in
/// this process: once is enough, Ansible says it on every run (in the log).
pub fn first_mitogen_run() -> bool {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    !SAID.swap(true, std::sync::atomic::Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Python with no Mitogen: a fresh venv (no site packages).
    fn python_without_mitogen() -> Option<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(dir.path())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 -m venv must work under CI"
            );
            eprintln!("SKIPPED: python3 -m venv does not work here");
            return None;
        }
        let python = dir.path().join("bin/python3");
        Some((dir, python))
    }

    #[test]
    fn auto_falls_back_to_linear_saying_why_and_mitogen_refuses() {
        let Some((_dir, python)) = python_without_mitogen() else {
            return;
        };
        let found = mitogen_in(&python);
        let Err(reason) = &found else {
            panic!("a venv without packages has no Mitogen: {found:?}");
        };
        assert_eq!(
            reason,
            &format!("mitogen is not installed for {}", python.display())
        );
        let auto = choose(StrategyChoice::Auto, found.clone()).unwrap();
        assert_eq!(
            auto.to_string(),
            format!(
                "strategy linear (auto: mitogen is not installed for {})",
                python.display()
            )
        );
        assert!(auto.env().is_empty(), "linear sets no strategy variables");
        let refused = choose(StrategyChoice::Mitogen, found)
            .unwrap_err()
            .to_string();
        assert!(
            refused.starts_with("ansible_strategy is mitogen, but mitogen is not installed for "),
            "{refused}"
        );
        assert!(refused.contains("pip install mitogen==0.3.54"), "{refused}");
        assert!(refused.contains("--ansible-strategy"), "{refused}");
    }

    #[test]
    fn a_missing_module_and_a_refusal_are_told_apart() {
        let python = Path::new("/venv/bin/python3");
        let missing = "Traceback (most recent call last):\n  File \"<string>\", line 1\nModuleNotFoundError: No module named 'mitogen'\n";
        assert_eq!(
            why_not(missing, python),
            "mitogen is not installed for /venv/bin/python3"
        );
        let refused = "Traceback...\nansible.errors.AnsibleError: Your version of Ansible (2.99.0) is too recent.\n";
        let said = why_not(refused, python);
        assert!(
            said.starts_with("mitogen does not load under /venv/bin/python3: "),
            "{said}"
        );
        assert!(said.contains("too recent"), "{said}");
    }

    #[test]
    fn the_table_says_which_strategy_and_why() {
        let linear = Strategy::Linear {
            why: Some("auto: mitogen is not installed for python3".into()),
        };
        assert_eq!(
            linear.to_string(),
            "strategy linear (auto: mitogen is not installed for python3)"
        );
        assert!(linear.env().is_empty());
        let mitogen = Strategy::Mitogen {
            version: "0.3.54".into(),
            plugins: "/p/strategy".into(),
        };
        assert_eq!(
            mitogen.to_string(),
            "strategy mitogen_linear (mitogen 0.3.54)"
        );
        assert!(
            mitogen
                .env()
                .contains(&("ANSIBLE_STRATEGY", "mitogen_linear".into()))
        );
    }
}
