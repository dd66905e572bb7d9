//! Which image each platform really runs, decided before anything is made:
//! the image as named when it is here or can be pulled; another only when
//! the user maps it (`--platform-image 'PATTERN=IMAGE'`), and then the
//! report says so. A run on another distribution than the one named is a
//! false pass, so an image that is neither here nor pullable fails the run.
//! A host is reached over SSH when its image has sshd and the login user;
//! otherwise as Molecule reaches it, by Ansible's docker connection
//! (`docker exec`, from the community.docker collection).

use std::fmt;
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use super::HostEntry;
use crate::backend::containers::{HOST_IMAGE, HOST_USER};
use crate::model::names::tag_keys;
use crate::sys::process;
use crate::sys::progress::{Event, Progress};

/// `PATTERN=IMAGE`: a platform whose image matches PATTERN (`*` stands for
/// any run of characters) runs IMAGE instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMapping {
    pub pattern: String,
    pub image: String,
}

impl FromStr for ImageMapping {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((pattern, image)) if !pattern.trim().is_empty() && !image.trim().is_empty() => {
                Ok(Self {
                    pattern: pattern.trim().to_owned(),
                    image: image.trim().to_owned(),
                })
            }
            _ => Err(format!(
                "{text:?}: expected PATTERN=IMAGE, e.g. 'geerlingguy/docker-*-ansible:*=my-debian12-host'"
            )),
        }
    }
}

impl fmt::Display for ImageMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.pattern, self.image)
    }
}

impl ImageMapping {
    pub fn matches(&self, image: &str) -> bool {
        wildcard_match(&self.pattern, image)
    }
}

/// `*` matches any run of characters; everything else itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// How a platform's image came to be the one it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// Present on this machine.
    Present,
    /// Pulled by this run (Docker's own credentials).
    Pulled,
    /// Mapped by the user to another image, which runs instead.
    Mapped(ImageMapping),
}

/// How Ansible reaches a host of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// sshd and the login user: over SSH, as on EC2.
    Ssh,
    /// No sshd: Ansible's docker connection (`docker exec`), as Molecule.
    DockerExec,
}

/// What a platform named and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformImage {
    pub host: String,
    pub named: String,
    pub runs: String,
    pub source: ImageSource,
    pub access: Access,
}

impl fmt::Display for PlatformImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            ImageSource::Present => write!(f, "{} runs {} (present)", self.host, self.named)?,
            ImageSource::Pulled => write!(f, "{} runs {} (pulled)", self.host, self.named)?,
            ImageSource::Mapped(mapping) => write!(
                f,
                "{} runs {} in place of {} (--platform-image '{mapping}')",
                self.host, self.runs, self.named
            )?,
        }
        if self.access == Access::DockerExec {
            f.write_str(", no sshd: reached by Ansible's docker connection")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "platform {host}: image {image} is not on this machine and `docker pull` failed: \
         {reason}\nNothing was made. Pull it where a registry is reachable, or run on an image \
         you have, which the report then names: --platform-image '{image}=IMAGE'"
    )]
    NotAvailable {
        host: String,
        image: String,
        reason: String,
    },
    #[error(
        "platform {host}: image {image} has neither sshd (and a user {user}) nor python3: \
         Ansible reaches no host of it, over SSH or by its docker connection\nNothing was \
         made. Use an image with python3 (Molecule's images have it), or map it: \
         --platform-image '{named}=IMAGE'"
    )]
    NotAHost {
        host: String,
        image: String,
        named: String,
        user: &'static str,
    },
    #[error(
        "platform {host}: image {image} has no sshd, so its host is reached as Molecule \
         reaches it, by Ansible's docker connection (community.docker), and `{ansible_doc} -t \
         connection docker` did not find it\nNothing was made. Install the collection: \
         `ansible-galaxy collection install community.docker` (or `pip install ansible`, \
         which carries it)"
    )]
    NoDockerConnection {
        host: String,
        image: String,
        ansible_doc: String,
    },
    #[error("platform {host}: looking at image {image}: {reason}")]
    Docker {
        host: String,
        image: String,
        reason: String,
    },
}

/// The image each host of `hosts` that names one runs: mapped by the
/// first of `mappings` that matches, else the image as named, pulled when
/// it is not here. Every image must let argos-cloud in over SSH. The
/// project's own host image is built by `create`, so it is taken as it is.
pub fn resolve(
    hosts: &[HostEntry],
    mappings: &[ImageMapping],
    progress: &Progress,
) -> Result<Vec<PlatformImage>, ImageError> {
    let mut resolved: Vec<PlatformImage> = Vec::new();
    for host in hosts {
        let Some(named) = &host.image else { continue };
        // Several platforms of one image: looked at once.
        if let Some(same) = resolved.iter().find(|r| &r.named == named) {
            resolved.push(PlatformImage {
                host: host.name.clone(),
                ..same.clone()
            });
            continue;
        }
        let mapping = mappings.iter().find(|m| m.matches(named));
        let runs = mapping.map_or(named.as_str(), |m| m.image.as_str());
        let source = if runs == HOST_IMAGE || present(runs) {
            mapping
                .cloned()
                .map_or(ImageSource::Present, ImageSource::Mapped)
        } else {
            pull(&host.name, runs, progress)?;
            mapping
                .cloned()
                .map_or(ImageSource::Pulled, ImageSource::Mapped)
        };
        let access = if runs == HOST_IMAGE {
            Access::Ssh
        } else {
            access_of(&host.name, runs, named)?
        };
        resolved.push(PlatformImage {
            host: host.name.clone(),
            named: named.clone(),
            runs: runs.to_owned(),
            source,
            access,
        });
    }
    Ok(resolved)
}

/// `hosts` with each image replaced by the one it runs; a host reached by
/// `docker exec` labelled so, for its inventory.
pub fn apply(hosts: &mut [HostEntry], images: &[PlatformImage]) {
    for host in hosts {
        if let Some(image) = images.iter().find(|i| i.host == host.name) {
            host.image = Some(image.runs.clone());
            if image.access == Access::DockerExec {
                host.docker_args.extend([
                    "--label".to_owned(),
                    format!("{}=docker", tag_keys::CONNECTION),
                ]);
            }
        }
    }
}

/// Whether Ansible beside `ansible_playbook` has the docker connection
/// (community.docker), which `images` that have no sshd need.
pub fn check_docker_connection(
    images: &[PlatformImage],
    ansible_playbook: &std::path::Path,
) -> Result<(), ImageError> {
    let Some(exec) = images.iter().find(|i| i.access == Access::DockerExec) else {
        return Ok(());
    };
    let ansible_doc = ansible_playbook.with_file_name("ansible-doc");
    let found =
        process::output(Command::new(&ansible_doc).args(["-t", "connection", "--json", "docker"]))
            .is_ok_and(|o| o.success() && o.stdout.contains("community.docker.docker"));
    if found {
        return Ok(());
    }
    Err(ImageError::NoDockerConnection {
        host: exec.host.clone(),
        image: exec.runs.clone(),
        ansible_doc: ansible_doc.display().to_string(),
    })
}

fn present(image: &str) -> bool {
    process::succeeds(
        "docker",
        &["image", "inspect", "--format", "{{.Id}}", image],
    )
}

/// `docker pull`, which reads the registry credentials from Docker's own
/// config (`docker login`).
fn pull(host: &str, image: &str, progress: &Progress) -> Result<(), ImageError> {
    progress.emit(Event::ImagePullStarted {
        image: image.to_owned(),
    });
    let started = Instant::now();
    let done = process::output(Command::new("docker").args(["pull", "--quiet", image]));
    let failure = match done {
        Ok(output) if output.success() => None,
        Ok(output) => Some(output.stderr_tail(3)),
        Err(e) => Some(e.to_string()),
    };
    if let Some(reason) = failure {
        return Err(ImageError::NotAvailable {
            host: host.to_owned(),
            image: image.to_owned(),
            reason: reason.trim().to_owned(),
        });
    }
    progress.emit(Event::ImagePulled {
        image: image.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// How Ansible reaches a host of `image`: over SSH when it has sshd and
/// the login user, else by `docker exec` when it has python3 for Ansible's
/// modules; neither is an error.
fn access_of(host: &str, image: &str, named: &str) -> Result<Access, ImageError> {
    let probe = format!(
        "if [ -x /usr/sbin/sshd ] && id -u {HOST_USER} >/dev/null 2>&1; then echo ssh; \
         elif command -v python3 >/dev/null 2>&1; then echo exec; else echo none; fi"
    );
    let output = process::output(Command::new("docker").args([
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        image,
        "-c",
        &probe,
    ]))
    .map_err(|e| ImageError::Docker {
        host: host.to_owned(),
        image: image.to_owned(),
        reason: e.to_string(),
    })?;
    let not_a_host = || ImageError::NotAHost {
        host: host.to_owned(),
        image: image.to_owned(),
        named: named.to_owned(),
        user: HOST_USER,
    };
    match (output.status.code(), output.stdout.trim()) {
        (Some(0), "ssh") => Ok(Access::Ssh),
        (Some(0), "exec") => Ok(Access::DockerExec),
        (Some(0), _) => Err(not_a_host()),
        // 126/127: no /bin/sh to run the probe (nor Ansible's modules).
        (Some(126 | 127), _) => Err(not_a_host()),
        _ => Err(ImageError::Docker {
            host: host.to_owned(),
            image: image.to_owned(),
            reason: output.stderr_tail(3),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_reads_pattern_equals_image_and_matches_wildcards() {
        let mapping: ImageMapping = "geerlingguy/docker-*-ansible:*=argos-host:bookworm"
            .parse()
            .unwrap();
        assert_eq!(mapping.image, "argos-host:bookworm");
        assert!(mapping.matches("geerlingguy/docker-debian12-ansible:latest"));
        assert!(mapping.matches("geerlingguy/docker-rockylinux9-ansible:latest"));
        assert!(!mapping.matches("geerlingguy/docker-debian12-ansible"));
        assert!(!mapping.matches("docker.io/geerlingguy/docker-debian12-ansible:latest"));
        for bad in ["no-equals", "=image", "pattern=", " = "] {
            let error = bad.parse::<ImageMapping>().unwrap_err();
            assert!(error.contains("PATTERN=IMAGE"), "{error}");
        }
    }

    #[test]
    fn wildcards_match_whole_names_only() {
        assert!(wildcard_match("debian:12", "debian:12"));
        assert!(!wildcard_match("debian:12", "debian:12-slim"));
        assert!(wildcard_match("*", "anything/at:all"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("*:latest", "rockylinux:latest"));
        assert!(!wildcard_match("*:latest", "rockylinux:9"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("ab*ba", "abba"));
    }

    #[test]
    fn an_image_without_sshd_needs_ansibles_docker_connection_before_anything_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let playbook = dir.path().join("ansible-playbook");
        let ansible_doc = dir.path().join("ansible-doc");
        let write_doc = |script: &str| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&ansible_doc, script).unwrap();
            std::fs::set_permissions(&ansible_doc, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let image = |access| PlatformImage {
            host: "instance".into(),
            named: "acme/no-sshd:1".into(),
            runs: "acme/no-sshd:1".into(),
            source: ImageSource::Present,
            access,
        };
        // What ansible-doc says when the collection is missing.
        write_doc("#!/bin/sh\necho '[WARNING]: docker was not found' >&2\necho '{}'\n");
        let error = check_docker_connection(&[image(Access::DockerExec)], &playbook)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("image acme/no-sshd:1 has no sshd")
                && error.contains("ansible-galaxy collection install community.docker"),
            "{error}"
        );
        assert!(check_docker_connection(&[image(Access::Ssh)], &playbook).is_ok());
        write_doc("#!/bin/sh\necho '{\"community.docker.docker\": {}}'\n");
        assert!(check_docker_connection(&[image(Access::DockerExec)], &playbook).is_ok());
    }

    #[test]
    fn a_mapped_image_says_what_ran_in_place_of_what() {
        let image = PlatformImage {
            host: "instance".into(),
            named: "geerlingguy/docker-rockylinux9-ansible:latest".into(),
            runs: "my-rocky9-host".into(),
            source: ImageSource::Mapped("geerlingguy/*=my-rocky9-host".parse().unwrap()),
            access: Access::Ssh,
        };
        assert_eq!(
            image.to_string(),
            "instance runs my-rocky9-host in place of geerlingguy/docker-rockylinux9-ansible:latest \
             (--platform-image 'geerlingguy/*=my-rocky9-host')"
        );
        let exec = PlatformImage {
            access: Access::DockerExec,
            ..image
        };
        assert!(
            exec.to_string()
                .ends_with(", no sshd: reached by Ansible's docker connection"),
            "{exec}"
        );
    }
}
