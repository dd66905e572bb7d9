//! `<app>-image` on Docker (and Vagrant's docker provider), as on AWS: hosts
//! of a `baked` group start from an image the image playbook converged
//! once, not from the bare host image. The image is named by its content
//! key (`<app>-image:<key>`, see [`crate::converge::bake`]): a change to what the bake
//! reads bakes anew, anything else reuses it, on every run of the machine.
//!
//! Who owns what: the baked image is the machine's, like the host image it
//! is made from: no run owns it, no run's teardown or sweep removes it, and
//! `clean` does. The bake host is a container of its own, named
//! `<app>-image-bake-<key>` and carrying no label (a commit copies a
//! container's labels into the image, and from there into every host
//! started from it). A guard removes it whatever happens; one a killed
//! process left is removed by the next bake of its key, or by a sweep once
//! no bake holds its lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Containers, DockerError, cli};
use crate::backend::HostSpec;
use crate::converge::bake::{ImageRecipe, Provisioner};
use crate::converge::deploy::AnsiblePlaybook;
use crate::converge::inventory::{self, Expect, Inventory};
use crate::model::names::{EnvNames, Group};
use crate::model::settings::Settings;
use crate::sys::progress::Event;

/// The label of a baked image: its content key.
pub const CONTENT_KEY_LABEL: &str = "argos.content-key";
/// Switches the bake off (`ARGOS_BAKE=off`): baked groups start bare.
pub const BAKE_SWITCH: &str = "ARGOS_BAKE";
/// How long a bake waits for another process's bake of the same key.
const LOCK_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// How often a wait for another bake's lock looks for a signal.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);
/// The longest a bake host may take to answer SSH.
const REACH_TIMEOUT: Duration = Duration::from_secs(120);
/// The bake host's own name (its hostname; containers add a prefix).
const BAKE_HOST: &str = "image-bake";

/// How the bake logs in to its host: the user the image lets in, with the
/// environment's key (authorized from `authorized`, a folder of files named
/// after users, as hosts mount it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BakeLogin<'a> {
    pub user: &'a str,
    pub key: &'a Path,
    pub authorized: &'a Path,
}

/// The image a host starts from: its own, the bake for a baked group, or
/// the backend's default.
pub(crate) fn host_image(
    host: &HostSpec,
    baked: Option<&str>,
    settings: &Settings,
    default: &str,
) -> String {
    match (&host.image, baked) {
        (Some(own), _) => own.clone(),
        (None, Some(baked)) if settings.topology.is_baked(&host.group) => baked.to_owned(),
        _ => default.to_owned(),
    }
}

/// The repository of `app`'s baked images on this machine.
pub fn repository(settings: &Settings) -> String {
    settings.app_name.image_name()
}

/// The lock file of the bake of `tag`: held while a bake runs.
fn lock_path(tag: &str) -> PathBuf {
    let name: String = tag
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::env::temp_dir().join(format!("argos-bake-{name}.lock"))
}

/// Removes the bake host, whatever way the bake ends.
struct BakeHost {
    container: String,
}

impl Drop for BakeHost {
    fn drop(&mut self) {
        // Cleanup, so a Ctrl-C that ended the bake does not end its removal.
        crate::sys::signal::cleanup(|| {
            let _ = cli::docker(&["rm", "-f", "-v", &self.container]);
        });
    }
}

impl Containers {
    /// The baked `<app>-image` for the hosts of `baked` groups among
    /// `hosts`, made from `base` when this machine has none of the current
    /// content key; None when no host needs it, the bake is switched off,
    /// or there is no Ansible to bake with (each said once).
    pub(crate) fn baked_image_for(
        &self,
        names: &EnvNames,
        hosts: &[HostSpec],
        base: &str,
        login: BakeLogin<'_>,
    ) -> Result<Option<String>, DockerError> {
        let wanted = hosts
            .iter()
            .any(|h| h.image.is_none() && self.settings.topology.is_baked(&h.group));
        if !wanted {
            return Ok(None);
        }
        if std::env::var(BAKE_SWITCH).is_ok_and(|v| v == "off") {
            self.progress.emit(Event::BakeOff {
                variable: BAKE_SWITCH.to_owned(),
                base: base.to_owned(),
            });
            return Ok(None);
        }
        let vars = crate::profile::argos::with_standins(self.bake_vars.clone());
        let base_id = cli::docker(&["image", "inspect", "--format", "{{.Id}}", base])?;
        let recipe = ImageRecipe::of(&self.project, base_id.trim(), &vars).map_err(|e| {
            DockerError::Bake {
                image: repository(&self.settings),
                reason: e.to_string(),
            }
        })?;
        let tag = format!("{}:{}", repository(&self.settings), recipe.key);
        if image_exists(&tag)? {
            self.progress.emit(Event::BakeReused {
                image: tag.clone(),
                roles: recipe.roles.clone(),
            });
            return Ok(Some(tag));
        }
        let _lock = self.bake_lock(&tag)?;
        // Another process may have baked it while this one waited.
        if image_exists(&tag)? {
            self.progress
                .emit(Event::BakeReusedMeanwhile { image: tag.clone() });
            return Ok(Some(tag));
        }
        let provisioner = match AnsiblePlaybook::locate(&self.project) {
            Ok(ansible) => Provisioner {
                project: self.project.clone(),
                ansible,
                extra_vars: vars,
                reach_timeout: REACH_TIMEOUT,
                strategy: self.settings.ansible_strategy,
            },
            Err(e) => {
                self.progress.emit(Event::BakeSkipped {
                    base: base.to_owned(),
                    reason: e.to_string(),
                });
                return Ok(None);
            }
        };
        self.bake(names, base, &tag, &recipe, &provisioner, login)?;
        Ok(Some(tag))
    }

    /// Hold the machine-wide lock of `tag`'s bake, waiting for another
    /// process's bake with a deadline; a signal ends the wait.
    fn bake_lock(&self, tag: &str) -> Result<File, DockerError> {
        let path = lock_path(tag);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(DockerError::io("opening the bake's lock file"))?;
        let started = Instant::now();
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(DockerError::io("locking the bake")(e));
            }
        }
        self.progress.emit(Event::BakeWaiting {
            image: tag.to_owned(),
        });
        // The lock is taken on a thread of its own, which hands the file
        // back the moment the other bake lets go; meanwhile this one
        // watches the deadline and the signals. Given up on, the thread's
        // file is dropped once it gets the lock, which releases it.
        let (taken, lock) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = taken.send(file.lock().map(|()| file));
        });
        loop {
            match lock.recv_timeout(SIGNAL_CHECK) {
                Ok(Ok(file)) => return Ok(file),
                Ok(Err(e)) => return Err(DockerError::io("locking the bake")(e)),
                Err(_) => {}
            }
            if let Some(signal) = crate::sys::signal::received() {
                return Err(DockerError::Interrupted {
                    what: format!("waiting for the bake of {tag}"),
                    command: format!("flock {}", path.display()),
                    signal,
                });
            }
            if started.elapsed() > LOCK_DEADLINE {
                return Err(DockerError::Bake {
                    image: tag.to_owned(),
                    reason: format!(
                        "another process has held {} for {} s: is a bake stuck?",
                        path.display(),
                        LOCK_DEADLINE.as_secs()
                    ),
                });
            }
        }
    }

    /// Converge a host from `base` with the image playbook and commit it as `tag`.
    fn bake(
        &self,
        names: &EnvNames,
        base: &str,
        tag: &str,
        recipe: &ImageRecipe,
        provisioner: &Provisioner,
        login: BakeLogin<'_>,
    ) -> Result<(), DockerError> {
        let started = Instant::now();
        let container = format!("{}-{BAKE_HOST}-{}", repository(&self.settings), recipe.key);
        // One a killed bake left: this process holds the key's lock now.
        let _ = cli::docker(&["rm", "-f", "-v", &container]);
        let host = BakeHost {
            container: container.clone(),
        };
        let network = names.resource(Group::NETWORK);
        // The bake downloads through the machine's apt cache too.
        let request = super::HostRequest::new(&container, base)
            .hostname(BAKE_HOST)
            .login(login.authorized)
            .apt_cache(super::apt_cache::host_args(&self.project, &network))
            .network(&network);
        cli::docker(&request.run_args())?;
        self.progress.emit(Event::BakeStarted {
            image: tag.to_owned(),
            host: container.clone(),
            roles: recipe.roles.clone(),
            variables: recipe.variables.clone(),
        });
        let inspect: Value = serde_json::from_str(&cli::docker(&["inspect", &container])?)
            .map_err(|e| DockerError::Output {
                what: "docker inspect".into(),
                detail: e.to_string(),
            })?;
        let address = inspect[0]["NetworkSettings"]["Networks"][&network]["IPAddress"]
            .as_str()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| DockerError::Bake {
                image: tag.to_owned(),
                reason: format!("{container} has no address on {network}"),
            })?
            .to_owned();
        let mut bake_host = inventory::Host {
            name: container.clone(),
            group: Group::IMAGE,
            groups: Vec::new(),
            address: address.clone(),
            port: 22,
            user: login.user.to_owned(),
            private_address: address,
            vars: Default::default(),
        };
        bake_host.vars.insert(
            "ansible_ssh_private_key_file".into(),
            login.key.display().to_string(),
        );
        let inventory = Inventory::new(
            names.clone(),
            vec![bake_host],
            Vec::new(),
            Expect::anything(),
        )
        .map_err(DockerError::Inventory)?;
        // Backends are synchronous (a guard's Drop tears down without a
        // runtime); the playbook runs on a runtime of its own thread.
        let report = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime
                        .block_on(provisioner.provision(
                            &inventory,
                            &self.settings.topology,
                            &recipe.key,
                            &self.progress,
                        ))
                        .map_err(|e| std::io::Error::other(e.to_string()))
                })
                .join()
                .expect("the bake's deploy does not panic")
        })
        .map_err(|e| DockerError::Bake {
            image: tag.to_owned(),
            reason: e.to_string(),
        })?;
        if !report.succeeded() {
            return Err(DockerError::Bake {
                image: tag.to_owned(),
                reason: format!("the image playbook failed on {container}:\n{report}"),
            });
        }
        self.commit_host(&container, tag, &[(CONTENT_KEY_LABEL, &recipe.key)])?;
        drop(host);
        self.progress.emit(Event::BakeFinished {
            image: tag.to_owned(),
            seconds: started.elapsed().as_secs_f64(),
        });
        Ok(())
    }

    /// Commit `container` as `image`, labelled with `labels`: an image
    /// hosts start from, so without the container's host keys and machine
    /// id (each host makes its own at first start).
    pub(crate) fn commit_host(
        &self,
        container: &str,
        image: &str,
        labels: &[(&str, &str)],
    ) -> Result<(), DockerError> {
        cli::docker(&[
            "exec",
            container,
            "sh",
            "-c",
            "rm -f /etc/ssh/ssh_host_* && : > /etc/machine-id",
        ])?;
        let mut args = vec!["commit".to_owned()];
        for (key, value) in labels {
            args.extend(["--change".to_owned(), format!("LABEL {key}={value}")]);
        }
        args.extend([container.to_owned(), image.to_owned()]);
        cli::docker(&args)?;
        Ok(())
    }

    /// The baked images of this app on the machine, as `repository:key`.
    pub fn baked_images(&self) -> Result<Vec<String>, DockerError> {
        cli::docker_lines(&[
            "image",
            "ls",
            "--filter",
            &format!("reference={}:*", repository(&self.settings)),
            "--filter",
            &format!("label={CONTENT_KEY_LABEL}"),
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
    }

    /// Remove the app's baked images and any bake host no bake holds;
    /// returns what went. A bake in progress keeps its host.
    pub fn clean(&self) -> Result<Vec<String>, DockerError> {
        let mut removed = self.abandoned_bake_hosts(true)?;
        for image in self.baked_images()? {
            match cli::docker(&["image", "rm", &image]) {
                Ok(_) => removed.push(format!("image {image}")),
                Err(e) if e.is_gone() => {}
                Err(DockerError::Failed { stderr, .. })
                    if stderr.contains("is using its referenced image") =>
                {
                    return Err(DockerError::Exists {
                        what: format!(
                            "image {image} is what a running environment's hosts started from: decommission it first"
                        ),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Bake hosts a killed process left (no bake holds their lock);
    /// removed when `remove`. Named `container NAME`.
    pub(crate) fn abandoned_bake_hosts(&self, remove: bool) -> Result<Vec<String>, DockerError> {
        let prefix = format!("{}-{BAKE_HOST}-", repository(&self.settings));
        let mut found = Vec::new();
        for container in cli::docker_lines(&[
            "ps",
            "-a",
            "--filter",
            &format!("name=^{prefix}"),
            "--format",
            "{{.Names}}",
        ])? {
            let key = container.trim_start_matches(&prefix);
            let lock = lock_path(&format!("{}:{key}", repository(&self.settings)));
            let held = File::open(&lock).is_ok_and(|f| f.try_lock().is_err());
            if held {
                continue;
            }
            if remove {
                match cli::docker(&["rm", "-f", "-v", &container]) {
                    Ok(_) => {}
                    Err(e) if e.is_gone() => continue,
                    Err(e) => return Err(e),
                }
            }
            found.push(format!("container {container}"));
        }
        Ok(found)
    }
}

fn image_exists(tag: &str) -> Result<bool, DockerError> {
    match cli::docker(&["image", "inspect", "--format", "{{.Id}}", tag]) {
        Ok(_) => Ok(true),
        Err(e) if e.is_gone() => Ok(false),
        Err(e) => Err(e),
    }
}
