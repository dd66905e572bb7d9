//! Finding `ansible-playbook` and checking its version.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::DeployError;
use crate::model::project::Project;

/// The oldest ansible-core the playbooks are written for.
pub const MIN_ANSIBLE_CORE: &str = "2.16";

#[derive(Debug, Clone)]
pub struct AnsiblePlaybook {
    program: PathBuf,
    pub version: String,
    /// The Python it runs on, as its `--version` says.
    python: Option<PathBuf>,
}

impl AnsiblePlaybook {
    /// `ARGOS_ANSIBLE_PLAYBOOK`, the project's venv ([`Project::venv`]), then `PATH`; the
    /// version must be at least [`MIN_ANSIBLE_CORE`].
    pub fn locate(project: &Project) -> Result<Self, DeployError> {
        let candidates = std::env::var_os("ARGOS_ANSIBLE_PLAYBOOK")
            .map(PathBuf::from)
            .into_iter()
            .chain([project.venv().join("bin/ansible-playbook")])
            .chain(
                std::env::var_os("PATH")
                    .iter()
                    .flat_map(std::env::split_paths)
                    .map(|dir| dir.join("ansible-playbook"))
                    .collect::<Vec<_>>(),
            );
        let program = candidates
            .into_iter()
            .find(|p| p.is_file())
            .ok_or(DeployError::NoAnsible)?;
        let text = crate::sys::process::output(Command::new(&program).arg("--version"))
            .map(|o| o.stdout)
            .unwrap_or_default();
        let version = core_version(&text).ok_or_else(|| DeployError::OldAnsible {
            program: program.display().to_string(),
            found: text.lines().next().unwrap_or("no version").to_owned(),
        })?;
        if !at_least(&version, MIN_ANSIBLE_CORE) {
            return Err(DeployError::OldAnsible {
                program: program.display().to_string(),
                found: version,
            });
        }
        let python = python_path(&text);
        Ok(Self {
            program,
            version,
            python,
        })
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The Python `ansible-playbook` runs on: where its plugins must be
    /// importable (Mitogen's, see [`super::strategy`]).
    pub fn python(&self) -> Option<&Path> {
        self.python.as_deref()
    }
}

/// `  python version = 3.11.7 (main, ...) [GCC 12.2.0] (/venv/bin/python3)`
/// → `/venv/bin/python3`.
fn python_path(text: &str) -> Option<PathBuf> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("python version = "))?;
    let start = line.rfind(" (")? + 2;
    let path = line[start..].strip_suffix(')')?;
    path.starts_with('/').then(|| PathBuf::from(path))
}

/// `ansible-playbook [core 2.19.4]` → `2.19.4`.
fn core_version(text: &str) -> Option<String> {
    let start = text.find("[core ")? + "[core ".len();
    let end = text[start..].find(']')? + start;
    Some(text[start..end].trim().to_owned())
}

fn at_least(version: &str, minimum: &str) -> bool {
    let parts = |v: &str| -> Vec<u32> {
        v.split('.')
            .map(|p| {
                p.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    };
    parts(version) >= parts(minimum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_and_compared() {
        assert_eq!(
            core_version("ansible-playbook [core 2.19.4]\n  config file = None").as_deref(),
            Some("2.19.4")
        );
        assert_eq!(core_version("ansible-playbook 2.9.6"), None);
        assert!(at_least("2.19.4", "2.16"));
        assert!(at_least("2.16.0rc1", "2.16"));
        assert!(!at_least("2.15.9", "2.16"));
    }

    #[test]
    fn the_python_is_read_from_the_version_text() {
        let text = "ansible-playbook [core 2.19.14]\n  python version = 3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0] (/work/.venv/bin/python3)\n  jinja version = 3.1.6\n";
        assert_eq!(
            python_path(text),
            Some(PathBuf::from("/work/.venv/bin/python3"))
        );
        assert_eq!(python_path("ansible-playbook [core 2.19.14]\n"), None);
    }
}
