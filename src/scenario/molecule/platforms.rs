//! A Molecule platform as a host: its name made a host name, its image,
//! its Docker settings (what works unprivileged kept, the rest said), its
//! published ports on loopback only.

use serde_norway::Value;

use super::{Reader, scalar, strings};
use crate::model::names::Group;
use crate::scenario::{HostEntry, ScenarioError};

/// Platform fields that mean nothing on this engine, reported once each.
const IGNORED_PLATFORM_FIELDS: &[(&str, &str)] = &[
    (
        "command",
        "hosts run systemd as PID 1 with sshd, as EC2 hosts do",
    ),
    (
        "cgroupns_mode",
        "the host image's systemd settings decide (docs/src/design.md)",
    ),
    ("pre_build_image", "images are built locally or not at all"),
    ("dockerfile", "images are built locally or not at all"),
    (
        "capabilities",
        "hosts run with Docker's default capabilities",
    ),
    ("ulimits", "not supported"),
    ("network_mode", "hosts join the environment's own network"),
    ("networks", "hosts join the environment's own network"),
    (
        "docker_networks",
        "hosts join the environment's own network",
    ),
    ("hostname", "a host's hostname is its name"),
    ("restart_policy", "not supported"),
    ("override_command", "hosts run systemd as PID 1"),
];

const KNOWN_PLATFORM_FIELDS: &[&str] = &[
    "name",
    "groups",
    "children",
    "image",
    "tmpfs",
    "volumes",
    "privileged",
    "security_opts",
    "env",
    "published_ports",
];

impl Reader<'_> {
    pub(super) fn platforms(&mut self, root: &Value) -> Result<Vec<HostEntry>, ScenarioError> {
        let platforms = root
            .get("platforms")
            .and_then(Value::as_sequence)
            .filter(|p| !p.is_empty());
        let Some(platforms) = platforms else {
            return Err(self.error("platforms", "name at least one platform".into()));
        };
        let mut hosts = Vec::new();
        for (index, platform) in platforms.iter().enumerate() {
            let at = |field: &str| format!("platforms[{index}].{field}");
            let Some(raw_name) = platform.get("name").and_then(Value::as_str) else {
                return Err(self.error(&at("name"), "a platform needs a name".into()));
            };
            let name = host_name(raw_name);
            if name != raw_name {
                self.note(format!(
                    "platforms[{index}].name {raw_name:?}: the host is named {name:?} \
                     (lowercase letters, digits and hyphens)"
                ));
            }
            crate::model::names::check_host_name(&name)
                .map_err(|e| self.error(&at("name"), format!("{raw_name:?}: {}", e.rule)))?;
            let mut groups: Vec<Group> = Vec::new();
            for key in ["groups", "children"] {
                for value in strings(platform.get(key)) {
                    let group = Group::new(&value.replace('-', "_")).map_err(|e| {
                        self.error(
                            &at(key),
                            format!("{value:?} is not a group name: {}", e.rule),
                        )
                    })?;
                    if !groups.contains(&group) {
                        groups.push(group);
                    }
                }
            }
            if platform.get("children").is_some() {
                self.note(
                    "platforms[].children: the host is put in the child groups itself".into(),
                );
            }
            if groups.is_empty() {
                // Molecule's hosts are in `all` only; here every host has a
                // group (its Group tag): one named after the host.
                groups.push(
                    Group::new(&name.replace('-', "_")).map_err(|e| {
                        self.error(&at("name"), format!("{raw_name:?}: {}", e.rule))
                    })?,
                );
            }
            let mut entry = HostEntry {
                name,
                groups,
                image: None,
                memory_mb: None,
                published_ports: Vec::new(),
                docker_args: Vec::new(),
                privileged: false,
            };
            self.platform_image(platform, &mut entry);
            self.platform_docker(platform, index, &mut entry);
            if let Some(map) = platform.as_mapping() {
                for key in map.keys().filter_map(Value::as_str) {
                    if let Some((_, why)) = IGNORED_PLATFORM_FIELDS.iter().find(|(k, _)| *k == key)
                    {
                        self.note(format!("platforms[].{key}: ignored ({why})"));
                    } else if !KNOWN_PLATFORM_FIELDS.contains(&key) {
                        self.note(format!(
                            "platforms[].{key}: ignored (no meaning on this engine)"
                        ));
                    }
                }
            }
            hosts.push(entry);
        }
        Ok(hosts)
    }

    /// The image as named: the run finds it, pulls it, or fails before
    /// making anything (`scenario::platform_image`).
    fn platform_image(&mut self, platform: &Value, entry: &mut HostEntry) {
        if let Some(image) = platform.get("image").and_then(Value::as_str) {
            entry.image = Some(image.to_owned());
        }
    }

    fn platform_docker(&mut self, platform: &Value, index: usize, entry: &mut HostEntry) {
        if platform.get("privileged").and_then(Value::as_bool) == Some(true) {
            entry.privileged = true;
            self.note(
                "privileged: true: hosts run unprivileged, with systemd settings that work \
                 here (tmpfs /run and /run/lock, /sys/fs/cgroup read-only, seccomp unconfined); \
                 --privileged runs them privileged"
                    .into(),
            );
        }
        for tmpfs in strings(platform.get("tmpfs")) {
            let path = tmpfs.split(':').next().unwrap_or_default();
            if !["/run", "/run/lock", "/tmp"].contains(&path) {
                entry.docker_args.extend(["--tmpfs".to_owned(), tmpfs]);
            }
        }
        for volume in strings(platform.get("volumes")) {
            if volume.starts_with("/sys/fs/cgroup") {
                self.note(format!(
                    "volumes {volume}: left out; the cgroup tree is mounted read-only, as \
                     systemd needs it here"
                ));
            } else {
                entry.docker_args.extend(["-v".to_owned(), volume]);
            }
        }
        for option in strings(platform.get("security_opts")) {
            if option != "seccomp=unconfined" {
                entry
                    .docker_args
                    .extend(["--security-opt".to_owned(), option]);
            }
        }
        if let Some(env) = platform.get("env").and_then(Value::as_mapping) {
            for (key, value) in env {
                if let (Some(key), Some(value)) = (key.as_str(), scalar(value)) {
                    entry
                        .docker_args
                        .extend(["-e".to_owned(), format!("{key}={value}")]);
                }
            }
        }
        for port in strings(platform.get("published_ports")) {
            let loopback = loopback_port(&port);
            if loopback != port {
                self.note(format!(
                    "platforms[{index}].published_ports {port}: published on loopback only, as {loopback}"
                ));
            }
            entry.published_ports.push(loopback);
        }
    }
}

/// A platform name as a host name: lowercase, with hyphens for the rest.
pub(super) fn host_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// `0.0.0.0:8080:80/tcp` → `127.0.0.1:8080:80/tcp`; `8080:80` → `127.0.0.1:8080:80`.
fn loopback_port(port: &str) -> String {
    let parts: Vec<&str> = port.split(':').collect();
    match parts.as_slice() {
        [_, host, container] => format!("127.0.0.1:{host}:{container}"),
        [host, container] => format!("127.0.0.1:{host}:{container}"),
        [container] => format!("127.0.0.1::{container}"),
        _ => port.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_and_ports_are_made_to_fit() {
        assert_eq!(host_name("Debian_12"), "debian-12");
        assert_eq!(host_name("cron-fedora-latest"), "cron-fedora-latest");
        assert_eq!(
            loopback_port("0.0.0.0:8080:80/tcp"),
            "127.0.0.1:8080:80/tcp"
        );
        assert_eq!(loopback_port("8080:80"), "127.0.0.1:8080:80");
    }
}
