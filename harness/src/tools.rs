//! The Python tools the tests and the emulator run: moto's server,
//! ansible-core, ansible-lint, cfn-lint, pytest-testinfra, pinned in
//! `.ci/requirements.txt`.
//! They come from one virtualenv, made on first use whatever else the
//! machine has on `PATH`: the project's `.venv`, or `ARGOS_VENV` (the
//! engine looks there too, see [`argos_cloud::model::project::Project::venv`]).
//!
//! One lock for every process that needs it (nextest runs tests in
//! parallel processes): an flock on a file in the venv's folder, so the
//! others wait for one install. The kernel releases it when its holder
//! dies, and the venv counts as ready only once a stamp of the requirements
//! it was installed from is written, last: a process killed mid-install
//! wedges nothing, and the next one installs again.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use wait_timeout::ChildExt;

use argos_cloud::model::project::Project;

/// How long one install may take (pip from PyPI: a minute or two).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
/// Holds the pins of the requirements the venv was installed from.
const STAMP: &str = ".argos-requirements";
const LOCK: &str = ".argos-install.lock";
/// pip's output, for when an install fails.
const LOG: &str = "argos-install.log";

#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    #[error("cannot install the Python tools of {requirements} into {venv}: {reason}")]
    Install {
        venv: PathBuf,
        requirements: PathBuf,
        reason: String,
    },
}

/// A virtualenv made from a requirements file.
#[derive(Debug, Clone)]
pub struct Venv {
    dir: PathBuf,
    requirements: PathBuf,
}

impl Venv {
    /// The project's: `ARGOS_VENV` or the workspace's `.venv`, made from
    /// `.ci/requirements.txt`.
    pub fn project() -> Self {
        let root = crate::workspace_root();
        let project = Project::open(&root).expect("the workspace is a project");
        Self::new(project.venv(), root.join(".ci/requirements.txt"))
    }

    pub fn new(dir: impl Into<PathBuf>, requirements: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            requirements: requirements.into(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where its commands are.
    pub fn bin(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// pip's output of every install into it.
    pub fn log(&self) -> PathBuf {
        self.dir.join(LOG)
    }

    fn error(&self, reason: String) -> ToolsError {
        ToolsError::Install {
            venv: self.dir.clone(),
            requirements: self.requirements.clone(),
            reason,
        }
    }

    /// Whether it holds exactly what `wanted` (the requirements' [`pins`]) pins.
    fn ready(&self, wanted: &str) -> bool {
        self.bin().join("python").is_file()
            && std::fs::read_to_string(self.dir.join(STAMP)).is_ok_and(|stamp| stamp == wanted)
    }

    /// Make it hold what the requirements pin (installing at most once at
    /// a time, across processes); its `bin` folder.
    pub fn ensure(&self) -> Result<PathBuf, ToolsError> {
        let wanted = std::fs::read_to_string(&self.requirements)
            .map(|text| pins(&text))
            .map_err(|e| self.error(format!("reading the requirements: {e}")))?;
        if self.ready(&wanted) {
            return Ok(self.bin());
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| self.error(format!("making the folder: {e}")))?;
        let _lock = self.lock()?;
        // Another process may have installed it while this one waited.
        if self.ready(&wanted) {
            return Ok(self.bin());
        }
        eprintln!(
            "argos-harness: installing the Python tools of {} into {} (first use: a minute or two)",
            self.requirements.display(),
            self.dir.display()
        );
        let _ = std::fs::remove_file(self.dir.join(STAMP));
        if !self.bin().join("python").is_file() {
            self.run(
                Path::new("python3"),
                &[OsStr::new("-m"), OsStr::new("venv"), self.dir.as_os_str()],
            )?;
        }
        self.run(
            &self.bin().join("pip"),
            &[
                OsStr::new("install"),
                OsStr::new("--quiet"),
                OsStr::new("--disable-pip-version-check"),
                OsStr::new("-r"),
                self.requirements.as_os_str(),
            ],
        )?;
        std::fs::write(self.dir.join(STAMP), &wanted)
            .map_err(|e| self.error(format!("writing {STAMP}: {e}")))?;
        Ok(self.bin())
    }

    /// The install lock, held until the file is dropped; says so when it waits.
    fn lock(&self) -> Result<File, ToolsError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK))
            .map_err(|e| self.error(format!("opening the lock {LOCK}: {e}")))?;
        let flock = |mode| {
            // SAFETY: flock on a file descriptor this function owns.
            unsafe { libc::flock(file.as_raw_fd(), mode) == 0 }
        };
        if !flock(libc::LOCK_EX | libc::LOCK_NB) {
            eprintln!(
                "argos-harness: waiting for another process installing into {}",
                self.dir.display()
            );
            if !flock(libc::LOCK_EX) {
                return Err(self.error(format!(
                    "locking {LOCK}: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
        Ok(file)
    }

    /// Run one install command, its output appended to the log, with a deadline.
    fn run(&self, program: &Path, args: &[&OsStr]) -> Result<(), ToolsError> {
        let line = std::iter::once(program.as_os_str())
            .chain(args.iter().copied())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .map_err(|e| self.error(format!("opening {}: {e}", self.log().display())))?;
        let output = |log: &File| log.try_clone().map(Stdio::from);
        let (Ok(stdout), Ok(stderr)) = (output(&log), output(&log)) else {
            return Err(self.error(format!("writing {}", self.log().display())));
        };
        std::io::Write::write_all(&mut &log, format!("argos-harness: {line}\n").as_bytes())
            .map_err(|e| self.error(format!("writing {}: {e}", self.log().display())))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| self.error(format!("{line}: {e}")))?;
        let status = match child.wait_timeout(INSTALL_TIMEOUT) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(self.error(format!(
                    "`{line}` took longer than {} s; see {}",
                    INSTALL_TIMEOUT.as_secs(),
                    self.log().display()
                )));
            }
            Err(e) => return Err(self.error(format!("{line}: {e}"))),
        };
        if status.success() {
            Ok(())
        } else {
            Err(self.error(format!(
                "`{line}` failed ({status}); see {}",
                self.log().display()
            )))
        }
    }
}

/// The lines of a requirements file that say what to install (comments
/// and blank lines left out, so editing a comment installs nothing).
fn pins(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The project's venv ([`Venv::project`]), made ready once per process;
/// its `bin` folder.
pub fn ensure_venv() -> Result<PathBuf, ToolsError> {
    static READY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = ready.as_ref() {
        return Ok(bin.clone());
    }
    let bin = Venv::project().ensure()?;
    *ready = Some(bin.clone());
    Ok(bin)
}

/// [`ensure_venv`] for a test: the bin folder, or `None` said loudly where
/// the tools cannot be installed (no python3, no network), and never under CI.
pub fn venv_or_skip() -> Option<PathBuf> {
    match ensure_venv() {
        Ok(bin) => Some(bin),
        Err(error) => {
            crate::skip::missing("the Python tools (.venv)", error);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pins;

    #[test]
    fn only_the_pins_decide_whether_a_venv_is_up_to_date() {
        let text = "# tools\ncfn-lint==1.58.0\n\n  moto[server]==5.2.5  \n";
        assert_eq!(pins(text), "cfn-lint==1.58.0\nmoto[server]==5.2.5\n");
        assert_eq!(pins(&format!("# edited comment\n{text}")), pins(text));
        assert_ne!(pins("cfn-lint==1.59.0\n"), pins(text));
    }
}
