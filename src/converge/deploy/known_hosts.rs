//! SSH host keys: every host is checked against a known_hosts file, its key
//! recorded on first contact (`accept-new`) and required to match after.
//! Standing environments keep one file each; a run's throwaway hosts get a
//! file of their own that goes when the run goes.

use std::path::{Path, PathBuf};

use crate::model::project::Project;

/// How SSH host keys are treated: recorded in this known_hosts file on first
/// contact, checked against it after. (Nothing turns checking off.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeys {
    Record(PathBuf),
}

impl HostKeys {
    /// The file, its folder made if need be.
    pub fn file(&self) -> std::io::Result<&Path> {
        let HostKeys::Record(file) = self;
        if let Some(parent) = file.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        Ok(file)
    }

    /// OpenSSH's options for this: `-o StrictHostKeyChecking=accept-new -o
    /// UserKnownHostsFile=<file>`.
    pub fn ssh_options(&self) -> std::io::Result<[String; 4]> {
        let file = self.file()?;
        Ok([
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", file.display()),
        ])
    }
}

/// The known_hosts file of a standing environment (`.argos/known_hosts/<stack>`).
pub fn known_hosts_file(project: &Project, stack: &str) -> PathBuf {
    project.path(&format!(".argos/known_hosts/{stack}"))
}

/// A run's own known_hosts file (`.argos/known_hosts/runs/<name>`), for
/// hosts that live as long as the run: removed when this is dropped, unless
/// [`RunKnownHosts::keep`] keeps it with a kept environment.
#[derive(Debug)]
pub struct RunKnownHosts {
    path: PathBuf,
    keep: bool,
}

impl RunKnownHosts {
    /// A fresh file for `name`: one left by an earlier run of that name
    /// holds other hosts' keys, so it goes first.
    pub fn new(project: &Project, name: &str) -> Self {
        let path = project.path(&format!(".argos/known_hosts/runs/{name}"));
        remove(&path);
        Self { path, keep: false }
    }

    /// The file of a kept environment (the development loop): its hosts
    /// may stand from an earlier command, so the keys they showed then are
    /// kept and checked. It goes only when [`Self::forget`] says so.
    pub fn kept(project: &Project, name: &str) -> Self {
        let path = project.path(&format!(".argos/known_hosts/runs/{name}"));
        Self { path, keep: true }
    }

    /// The environment is gone: so goes its file.
    pub fn forget(&mut self) {
        self.keep = false;
    }

    pub fn host_keys(&self) -> HostKeys {
        HostKeys::Record(self.path.clone())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the file for a kept environment (`--keep`): its hosts are still there.
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for RunKnownHosts {
    fn drop(&mut self) {
        if !self.keep {
            remove(&self.path);
        }
    }
}

/// Remove a known_hosts file whose hosts are gone; one never made is fine.
pub fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("argos-cloud: cannot remove {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_file_is_fresh_and_goes_with_the_run_unless_kept() {
        let dir = tempfile::tempdir().unwrap();
        for folder in [Project::FORMATIONS, Project::PLAYBOOKS] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        let project = Project::open(dir.path()).unwrap();
        let stale = dir.path().join(".argos/known_hosts/runs/argos-t-x-1");
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, "old host key").unwrap();

        let run = RunKnownHosts::new(&project, "argos-t-x-1");
        assert!(!stale.exists(), "an earlier run's keys are not trusted");
        let options = run.host_keys().ssh_options().unwrap();
        assert_eq!(options[1], "StrictHostKeyChecking=accept-new");
        assert_eq!(
            options[3],
            format!("UserKnownHostsFile={}", stale.display())
        );
        std::fs::write(run.path(), "new host key").unwrap();
        drop(run);
        assert!(!stale.exists(), "removed with the run");

        let mut kept = RunKnownHosts::new(&project, "argos-t-x-1");
        std::fs::write(kept.path(), "kept host key").unwrap();
        kept.keep();
        drop(kept);
        assert!(stale.exists(), "kept with a kept environment");
    }
}
