//! Throwaway project copies, and tools the tests need.

use std::path::{Path, PathBuf};

use argos_cloud::deploy::AnsiblePlaybook;
use argos_cloud::lint::CfnLint;
use argos_cloud::project::Project;

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
        Self { dir }
    }

    /// A copy of everything a scenario run reads (formations, playbooks,
    /// scenarios, the host image's recipe), so that what the run writes
    /// (`.argos/`) is this run's alone.
    pub fn runnable() -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for folder in ["formations", "playbooks", "scenarios", "docker"] {
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(source.join(folder))
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "copying {folder}");
        }
        // Settings the developer made are not the sample the tests start from.
        let _ = std::fs::remove_file(dir.path().join(Project::SETTINGS));
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
    let repo = Project::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    let found =
        CfnLint::locate(&repo).or_else(|| CfnLint::locate(&Project::open(project.root()).unwrap()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "cfn-lint is not installed, and CI must have it (.ci/run installs it into .venv)"
        );
        eprintln!("SKIPPED: cfn-lint assertions: cfn-lint is not installed (pip install cfn-lint)");
    }
    found
}

/// The `ansible-playbook` deploy would use (its folder holds the other
/// Ansible commands); `None`, said loudly, where there is none, never in CI.
pub fn ansible() -> Option<AnsiblePlaybook> {
    let repo = Project::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    match AnsiblePlaybook::locate(&repo) {
        Ok(found) => Some(found),
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have ansible-playbook: {error}"
            );
            eprintln!("SKIPPED: needs Ansible: {error}");
            None
        }
    }
}
