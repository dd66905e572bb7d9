//! The project a role is tested from when no argos-cloud project is around
//! it: a folder of argos-cloud's own under the user's cache
//! (`$XDG_CACHE_HOME/argos-cloud/home`, else `~/.cache/argos-cloud/home`),
//! made on first use from files built into the binary: the host image's
//! recipe, the sample settings, Ansible's settings. So an installed
//! argos-cloud tests a role in any folder with no source tree beside it;
//! its keys, known_hosts and logs live there too.

use std::path::{Path, PathBuf};

use super::project::Project;
use crate::sys::progress::{Event, Progress};

/// Every file of the home project, by its path in it (the same path as in
/// this repository), with its content.
const FILES: &[(&str, &str)] = &[
    (
        "docker/host-image/build.sh",
        include_str!("../../docker/host-image/build.sh"),
    ),
    (
        "docker/host-image/Dockerfile",
        include_str!("../../docker/host-image/Dockerfile"),
    ),
    (
        "docker/host-image/README.md",
        include_str!("../../docker/host-image/README.md"),
    ),
    (
        "docker/host-image/files/argos-ssh-hostkeys.service",
        include_str!("../../docker/host-image/files/argos-ssh-hostkeys.service"),
    ),
    (
        "docker/host-image/files/pip.conf",
        include_str!("../../docker/host-image/files/pip.conf"),
    ),
    (
        "docker/host-image/files/ssh-hostkeys.conf",
        include_str!("../../docker/host-image/files/ssh-hostkeys.conf"),
    ),
    (
        "docker/host-image/files/sshd-argos.conf",
        include_str!("../../docker/host-image/files/sshd-argos.conf"),
    ),
    (
        "docker/vagrant-image/Dockerfile",
        include_str!("../../docker/vagrant-image/Dockerfile"),
    ),
    (
        "docker/apt-cache/Dockerfile",
        include_str!("../../docker/apt-cache/Dockerfile"),
    ),
    (
        "docker/apt-cache/zzz-argos.conf",
        include_str!("../../docker/apt-cache/zzz-argos.conf"),
    ),
    (
        "playbooks/group_vars/all.sample.yml",
        include_str!("../../playbooks/group_vars/all.sample.yml"),
    ),
    (
        "playbooks/ansible.cfg",
        include_str!("../../playbooks/ansible.cfg"),
    ),
    (
        "formations/README.md",
        "argos-cloud's home project: roles tested outside any project run from here.\n\
         Its files are made by argos-cloud and rewritten when they differ from its own.\n",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error(
        "no folder for argos-cloud's home project: set XDG_CACHE_HOME or HOME \
         (a role tested outside a project keeps its keys and logs there)"
    )]
    NoCacheDir,
    #[error("making argos-cloud's home project: {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the home project is: `$XDG_CACHE_HOME/argos-cloud/home`, else
/// `$HOME/.cache/argos-cloud/home` (the XDG base directory rules).
pub fn dir() -> Result<PathBuf, HomeError> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|cache| cache.join("argos-cloud/home"))
        .ok_or(HomeError::NoCacheDir)
}

/// The home project, its files written where missing or different (said
/// once, with where).
pub fn open(progress: &Progress) -> Result<Project, HomeError> {
    let root = dir()?;
    let written = write_files(&root)?;
    if written > 0 {
        progress.emit(Event::HomeProjectMade {
            path: root.display().to_string(),
            files: written,
        });
    }
    Project::open(&root).map_err(|e| HomeError::Io {
        path: root.clone(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// Write [`FILES`] under `root` where missing or different; how many were.
fn write_files(root: &Path) -> Result<usize, HomeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| HomeError::Io { path, source }
    };
    let mut written = 0;
    for (rel, content) in FILES {
        let path = root.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, content).map_err(io(&path))?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_project_is_made_once_from_the_binary_and_mended_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_files(dir.path()).unwrap(), FILES.len());
        assert!(Project::open(dir.path()).is_ok());
        assert_eq!(
            write_files(dir.path()).unwrap(),
            0,
            "nothing to write again"
        );
        let build = dir.path().join("docker/host-image/build.sh");
        std::fs::write(&build, "tampered").unwrap();
        assert_eq!(write_files(dir.path()).unwrap(), 1);
        assert_eq!(
            std::fs::read_to_string(&build).unwrap(),
            include_str!("../../docker/host-image/build.sh")
        );
    }

    #[test]
    fn every_file_the_host_image_recipe_reads_is_built_in() {
        // build.sh hashes Dockerfile and files/*: a file added there must be
        // added to FILES, or an installed binary builds another image.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for folder in [
            "docker/host-image",
            "docker/vagrant-image",
            "docker/apt-cache",
        ] {
            let mut stack = vec![repo.join(folder)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let rel = path
                        .strip_prefix(repo)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    assert!(
                        FILES.iter().any(|(name, _)| *name == rel),
                        "{rel} is not built into the binary (src/model/home.rs FILES)"
                    );
                }
            }
        }
    }
}
