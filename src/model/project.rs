//! The project folder: where `formations/` and `playbooks/` live (`--root`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{} is not an argos-cloud project folder: it has no {missing}/ \
     (run from the project folder or pass --root DIR)",
    root.display()
)]
pub struct NotAProject {
    pub root: PathBuf,
    pub missing: &'static str,
}

impl Project {
    pub const FORMATIONS: &'static str = "formations";
    pub const PLAYBOOKS: &'static str = "playbooks";
    pub const SETTINGS: &'static str = "playbooks/group_vars/all.yml";
    pub const SAMPLE_SETTINGS: &'static str = "playbooks/group_vars/all.sample.yml";
    /// The formation deployed on its own, as the `<app>-image` bake.
    pub const IMAGE_FORMATION: &'static str = "image.json";
    /// Names the virtualenv of the project's Python tools (see [`Self::venv`]).
    pub const VENV_VAR: &'static str = "ARGOS_VENV";

    /// A project at `root`, checked to hold `formations/` and `playbooks/`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, NotAProject> {
        let project = Self { root: root.into() };
        for missing in [Self::FORMATIONS, Self::PLAYBOOKS] {
            if !project.root.join(missing).is_dir() {
                return Err(NotAProject {
                    root: project.root,
                    missing,
                });
            }
        }
        Ok(project)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The virtualenv of the project's Python tools (ansible-playbook,
    /// cfn-lint): `ARGOS_VENV`, else `.venv` in the project. The test
    /// harness makes it from `.ci/requirements.txt` on first use.
    pub fn venv(&self) -> PathBuf {
        std::env::var_os(Self::VENV_VAR)
            .filter(|dir| !dir.is_empty())
            .map_or_else(|| self.root.join(".venv"), PathBuf::from)
    }

    /// `rel` inside the project, written as short as it can be for messages:
    /// with the default root `.` it stays relative.
    pub fn path(&self, rel: &str) -> PathBuf {
        if self.root.as_os_str().is_empty() || self.root == Path::new(".") {
            PathBuf::from(rel)
        } else {
            self.root.join(rel)
        }
    }
}
