//! Molecule scenarios, run as they are: `molecule/<name>/molecule.yml` is
//! read into a [`Scenario`] (the role directory under test, its platforms
//! as hosts, its inventory variables, playbooks and test sequence).
//!
//! Nothing can be pulled here and nothing runs privileged, so a platform's
//! registry image runs on the project's own systemd host image and
//! `privileged` becomes the settings that work unprivileged; every such
//! change, and every field with no meaning here, is said once in the
//! [`Imported::notes`], never silently. `${VAR:-default}` is expanded as
//! Molecule expands it ([`super::interpolate`]), from the environment and
//! Molecule's own variables when run, never from the environment when
//! imported into a file to keep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::interpolate::{self, Mode};
use super::{HostEntry, PlaybookFiles, Scenario, ScenarioError, Step};
use crate::input::env::Environment;
use crate::input::file;
use crate::input::yaml::{self, Node};
use crate::model::names::Group;

/// A Molecule scenario read into an argos-cloud one, with what was changed
/// or ignored on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub scenario: Scenario,
    pub notes: Vec<String>,
}

/// The `molecule.yml` that `path` means: the file itself, a scenario
/// folder holding one, or a role folder (its `molecule/default`).
pub fn locate(path: &Path) -> Option<PathBuf> {
    let candidates = [
        path.to_owned(),
        path.join("molecule.yml"),
        path.join("molecule/default/molecule.yml"),
    ];
    candidates
        .into_iter()
        .find(|p| p.is_file() && p.file_name().is_some_and(|n| n == "molecule.yml"))
}

/// Whether `path` is (or holds) a Molecule scenario rather than an argos-cloud one.
pub fn is_molecule(path: &Path) -> bool {
    locate(path).is_some()
}

/// Read the Molecule scenario at `path` (see [`locate`]) to run it: its
/// variables come from this process's environment, as Molecule's do.
pub fn load(path: &Path) -> Result<Imported, ScenarioError> {
    read(path, Mode::Run, &Environment::process())
}

/// Read the Molecule scenario at `path` to write it out as a scenario file:
/// nothing of the caller's environment goes into it.
pub fn import(path: &Path) -> Result<Imported, ScenarioError> {
    read(path, Mode::Import, &Environment::default())
}

fn read(path: &Path, mode: Mode, environment: &Environment) -> Result<Imported, ScenarioError> {
    let file = locate(path).ok_or_else(|| invalid(path, "(file)", "no molecule.yml here"))?;
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    let text = file::read_text(&file, file::SCENARIO)?;
    let scenario_dir = file.parent().unwrap_or(Path::new(".")).to_owned();
    let scenario_name = scenario_dir.file_name().map_or_else(
        || "default".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    // molecule/<scenario>/molecule.yml: the role is two folders up.
    let role_dir = scenario_dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."))
        .to_owned();
    // Variables that are not text are left out, as they cannot be written
    // into a text file anyway; Molecule's own win.
    let mut vars: BTreeMap<String, String> = environment
        .text_vars()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.extend(variables(&role_dir, &scenario_dir));
    let at_line = |line: usize, message: String| ScenarioError::Invalid {
        file: file.clone(),
        line: Some(line),
        field: "(file)".into(),
        message,
    };
    let expanded = interpolate::expand(&text, &vars, mode)
        .map_err(|e| at_line(e.line, format!("column {}: {}", e.column, e.message)))?;
    let root = yaml::parse(&expanded.text).map_err(|e| at_line(e.line, e.problem.to_string()))?;
    let mut reader = Reader {
        file: &file,
        root: &root,
        scenario_dir: &scenario_dir,
        role_dir: &role_dir,
        scenario_name: &scenario_name,
        notes: Vec::new(),
    };
    for note in expanded.defaults_used {
        reader.note(note);
    }
    reader.read(&root.to_value())
}

/// The variables Molecule sets for a scenario in `scenario_dir` of the role
/// in `role_dir`: `molecule.yml` may use them, and so may the role's
/// playbooks (Ansible gets them too).
pub fn variables(role_dir: &Path, scenario_dir: &Path) -> Vec<(String, String)> {
    let scenario_name = scenario_dir.file_name().map_or_else(
        || "default".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    vec![
        (
            "MOLECULE_PROJECT_DIRECTORY".into(),
            role_dir.display().to_string(),
        ),
        (
            "MOLECULE_SCENARIO_DIRECTORY".into(),
            scenario_dir.display().to_string(),
        ),
        ("MOLECULE_SCENARIO_NAME".into(), scenario_name),
    ]
}

fn invalid(file: &Path, field: &str, message: &str) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_owned(),
        line: None,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

struct Reader<'a> {
    file: &'a Path,
    root: &'a Node,
    scenario_dir: &'a Path,
    role_dir: &'a Path,
    scenario_name: &'a str,
    notes: Vec<String>,
}

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
    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn error(&self, field: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_owned(),
            line: Some(self.root.line_at(field)),
            field: field.to_owned(),
            message,
        }
    }

    fn read(mut self, root: &Value) -> Result<Imported, ScenarioError> {
        const READ: &[&str] = &[
            "dependency",
            "driver",
            "platforms",
            "provisioner",
            "scenario",
            "verifier",
        ];
        for key in root
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str())
        {
            let why = match key {
                "lint" => "lint is not a step here: run your linters in CI",
                "log" => "the report says what ran",
                "role_name_check" => "the role is found under every name it goes by",
                _ if READ.contains(&key) => continue,
                _ => "no meaning on this engine",
            };
            self.note(format!("{key}: ignored ({why})"));
        }
        if let Some(driver) = root
            .get("driver")
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            && !["docker", "podman", "default", "delegated"].contains(&driver)
        {
            self.note(format!(
                "driver.name {driver}: ignored; the hosts run on the backend you choose (--backend)"
            ));
        }
        let hosts = self.platforms(root)?;
        let provisioner = root.get("provisioner").cloned().unwrap_or(Value::Null);
        let (group_vars, host_vars) = self.inventory(&provisioner, &hosts)?;
        let playbooks = self.playbooks(&provisioner, root)?;
        let requirements = self.requirements(root);
        let steps = self.steps(root, &playbooks, requirements.is_some());
        let role_name = self
            .role_dir
            .file_name()
            .map_or_else(|| "role".to_owned(), |n| n.to_string_lossy().into_owned());
        let scenario = Scenario {
            name: format!("{role_name}-{}", self.scenario_name),
            file: self.file.to_owned(),
            dir: self.scenario_dir.to_owned(),
            description: format!(
                "Molecule scenario {} of {}",
                self.scenario_name,
                self.role_dir.display()
            ),
            role: self.role_dir.display().to_string(),
            groups: Vec::new(),
            hosts,
            steps,
            converge: Vec::new(),
            playbooks,
            vars: BTreeMap::new(),
            group_vars,
            host_vars,
            requirements,
            settings: BTreeMap::new(),
            settings_lines: BTreeMap::new(),
            expect: super::Expectations::default(),
        };
        Ok(Imported {
            scenario,
            notes: self.notes,
        })
    }

    fn platforms(&mut self, root: &Value) -> Result<Vec<HostEntry>, ScenarioError> {
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

    /// A registry image cannot be pulled: the host runs on the project's
    /// own image unless the named one is present locally.
    fn platform_image(&mut self, platform: &Value, entry: &mut HostEntry) {
        let Some(image) = platform.get("image").and_then(Value::as_str) else {
            return;
        };
        if image_present(image) {
            entry.image = Some(image.to_owned());
            return;
        }
        self.note(format!(
            "image {image}: not present locally and nothing can be pulled here: the host \
             runs on {} (Debian 12, systemd)",
            crate::backend::containers::HOST_IMAGE
        ));
    }

    fn platform_docker(&mut self, platform: &Value, index: usize, entry: &mut HostEntry) {
        if platform.get("privileged").and_then(Value::as_bool) == Some(true) {
            self.note(
                "privileged: true: hosts run unprivileged, with systemd settings that work \
                 here (tmpfs /run and /run/lock, /sys/fs/cgroup read-only, seccomp unconfined)"
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

    #[allow(clippy::type_complexity)]
    fn inventory(
        &mut self,
        provisioner: &Value,
        hosts: &[HostEntry],
    ) -> Result<
        (
            BTreeMap<String, BTreeMap<String, serde_json::Value>>,
            BTreeMap<String, BTreeMap<String, serde_json::Value>>,
        ),
        ScenarioError,
    > {
        let inventory = provisioner.get("inventory").cloned().unwrap_or(Value::Null);
        if inventory.get("links").is_some() {
            self.note(
                "provisioner.inventory.links: ignored; give the variables in group_vars and host_vars"
                    .into(),
            );
        }
        let vars_of = |key: &str| -> BTreeMap<String, BTreeMap<String, serde_json::Value>> {
            inventory
                .get(key)
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
                .filter_map(|(name, vars)| {
                    let vars: BTreeMap<String, serde_json::Value> = serde_json::to_value(vars)
                        .ok()
                        .and_then(|v| serde_json::from_value(v).ok())?;
                    Some((name.as_str()?.to_owned(), vars))
                })
                .collect()
        };
        let mut group_vars = BTreeMap::new();
        for (group, vars) in vars_of("group_vars") {
            // `all` is a group like any other in Ansible's inventory.
            group_vars.insert(group.replace('-', "_"), vars);
        }
        let mut host_vars = BTreeMap::new();
        for (host, vars) in vars_of("host_vars") {
            let name = host_name(&host);
            if !hosts.iter().any(|h| h.name == name) {
                return Err(self.error(
                    "provisioner.inventory.host_vars",
                    format!("{host} is not one of the platforms"),
                ));
            }
            host_vars.insert(name, vars);
        }
        for key in ["config_options", "env", "options", "connection_options"] {
            if provisioner.get(key).is_some() {
                self.note(format!(
                    "provisioner.{key}: ignored; argos-cloud runs Ansible with its own settings"
                ));
            }
        }
        Ok((group_vars, host_vars))
    }

    fn playbooks(
        &mut self,
        provisioner: &Value,
        root: &Value,
    ) -> Result<PlaybookFiles, ScenarioError> {
        let given = provisioner.get("playbooks");
        let mut files = PlaybookFiles::default();
        for (key, default) in [
            ("prepare", Some("prepare.yml")),
            ("converge", Some("converge.yml")),
            ("side_effect", None),
            ("verify", Some("verify.yml")),
        ] {
            let named = given.and_then(|p| p.get(key)).and_then(Value::as_str);
            let path = match (named, default) {
                (Some(file), _) => Some(PathBuf::from(file)),
                (None, Some(default)) if self.scenario_dir.join(default).is_file() => {
                    Some(PathBuf::from(default))
                }
                _ => None,
            };
            if let Some(path) = &path
                && !self.scenario_dir.join(path).is_file()
            {
                return Err(self.error(
                    &format!("provisioner.playbooks.{key}"),
                    format!("{} does not exist", self.scenario_dir.join(path).display()),
                ));
            }
            match key {
                "prepare" => files.prepare = path,
                "converge" => files.converge = path,
                "side_effect" => files.side_effect = path,
                _ => files.verify = path,
            }
        }
        for key in ["create", "destroy", "cleanup"] {
            if given.and_then(|p| p.get(key)).is_some() {
                self.note(format!(
                    "provisioner.playbooks.{key}: not run; the backend makes and removes the hosts"
                ));
            }
        }
        let verifier = root
            .get("verifier")
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str);
        if let Some(name) = verifier
            && name != "ansible"
        {
            self.note(format!(
                "verifier {name}: not run; verify runs the scenario's verify.yml (Ansible)"
            ));
        }
        Ok(files)
    }

    /// The dependency's role file, as Molecule finds it: relative to the
    /// role's root, else `requirements.yml` in the scenario folder.
    fn requirements(&mut self, root: &Value) -> Option<PathBuf> {
        let options = root.get("dependency").and_then(|d| d.get("options"));
        let named = ["role-file", "requirements-file"]
            .iter()
            .find_map(|k| options.and_then(|o| o.get(*k)).and_then(Value::as_str));
        if let Some(file) = named {
            let path = self.role_dir.join(file);
            if path.is_file() {
                return Some(path);
            }
            self.note(format!(
                "dependency.options: {file} not found from {}: no requirements installed",
                self.role_dir.display()
            ));
        }
        let default = self.scenario_dir.join("requirements.yml");
        default.is_file().then_some(default)
    }

    fn steps(
        &mut self,
        root: &Value,
        playbooks: &PlaybookFiles,
        has_requirements: bool,
    ) -> Vec<Step> {
        let sequence = strings(root.get("scenario").and_then(|s| s.get("test_sequence")));
        if sequence.is_empty() {
            return Vec::new();
        }
        let mut steps = Vec::new();
        for name in &sequence {
            let step = Step::ALL.iter().find(|s| s.as_str() == name);
            match step {
                Some(step) if !steps.contains(step) => steps.push(*step),
                Some(_) => {}
                None => self.note(format!(
                    "scenario.test_sequence {name}: not a step here (the steps are {})",
                    Step::ALL.map(Step::as_str).join(", ")
                )),
            }
        }
        // Molecule destroys first to start clean; a run here starts from nothing.
        if steps.first() == Some(&Step::Destroy) {
            steps.remove(0);
            if !steps.contains(&Step::Destroy) {
                steps.push(Step::Destroy);
            }
        }
        steps.sort();
        steps.retain(|step| match step {
            Step::Dependency => has_requirements,
            Step::Prepare => playbooks.prepare.is_some(),
            Step::SideEffect => playbooks.side_effect.is_some(),
            _ => true,
        });
        steps
    }
}

/// A platform name as a host name: lowercase, with hyphens for the rest.
fn host_name(name: &str) -> String {
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

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(scalar)
        .collect()
}

fn image_present(image: &str) -> bool {
    crate::sys::process::succeeds(
        "docker",
        &["image", "inspect", "--format", "{{.Id}}", image],
    )
}

/// `scenario`, as an argos-cloud scenario file (what `scenario import` prints).
pub fn to_yaml(scenario: &Scenario) -> String {
    let body = serde_norway::to_string(scenario).expect("a scenario serializes");
    format!(
        "# yaml-language-server: $schema=scenario.schema.json\n\
         # Imported from {}; paths are relative to that folder: keep this file there,\n\
         # or rewrite them.\n{body}",
        scenario.dir.display()
    )
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

    fn scenario_dir(molecule: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let role = dir.path().join("ansible-role-x");
        std::fs::create_dir_all(role.join("tasks")).unwrap();
        std::fs::create_dir_all(role.join("molecule/default")).unwrap();
        std::fs::write(role.join("molecule/default/molecule.yml"), molecule).unwrap();
        std::fs::write(role.join("molecule/default/converge.yml"), "---\n").unwrap();
        dir
    }

    #[test]
    fn a_galaxy_style_scenario_is_read_with_each_change_said_once() {
        let dir = scenario_dir(
            "driver: {name: docker}\nlint: yamllint .\nplatforms:\n  - name: instance\n    \
             image: \"registry.invalid/x-${MOLECULE_DISTRO:-debian12}:latest\"\n    \
             privileged: true\n    command: \"\"\n    volumes: [/sys/fs/cgroup:/sys/fs/cgroup:rw, /srv:/srv]\n    \
             cgroupns_mode: host\n    pre_build_image: true\n  - name: Web_2\n    groups: [web-servers]\n    \
             published_ports: [\"0.0.0.0:8080:80\"]\n\
             provisioner:\n  name: ansible\n  inventory:\n    group_vars:\n      all: {motd_lines: [hi]}\n    \
             host_vars:\n      instance: {x: 1}\n\
             scenario:\n  test_sequence: [destroy, syntax, create, converge, idempotence, verify, destroy]\n",
        );
        let imported = load(&dir.path().join("ansible-role-x")).unwrap();
        let scenario = &imported.scenario;
        assert_eq!(scenario.name, "ansible-role-x-default");
        assert!(scenario.role.ends_with("ansible-role-x"));
        assert_eq!(scenario.hosts.len(), 2);
        assert_eq!(scenario.hosts[0].groups, [Group::new("instance").unwrap()]);
        assert_eq!(scenario.hosts[0].docker_args, ["-v", "/srv:/srv"]);
        assert_eq!(scenario.hosts[1].name, "web-2");
        assert_eq!(
            scenario.hosts[1].groups,
            [Group::new("web_servers").unwrap()]
        );
        assert_eq!(scenario.hosts[1].published_ports, ["127.0.0.1:8080:80"]);
        assert_eq!(
            scenario.steps,
            [
                Step::Create,
                Step::Converge,
                Step::Idempotence,
                Step::Verify,
                Step::Destroy
            ]
        );
        assert_eq!(
            scenario.playbooks.converge.as_deref(),
            Some(Path::new("converge.yml"))
        );
        assert_eq!(
            scenario.playbooks.verify, None,
            "no verify.yml: no verify playbook"
        );
        assert_eq!(
            scenario.group_vars["all"]["motd_lines"],
            serde_json::json!(["hi"])
        );
        assert_eq!(scenario.host_vars["instance"]["x"], serde_json::json!(1));
        let notes = imported.notes.join("\n");
        for said in [
            "lint: ignored",
            "image registry.invalid/x-debian12:latest: not present locally",
            "privileged: true: hosts run unprivileged",
            "platforms[].command: ignored",
            "volumes /sys/fs/cgroup:/sys/fs/cgroup:rw: left out",
            "platforms[].cgroupns_mode: ignored",
            "platforms[1].name \"Web_2\": the host is named \"web-2\"",
            "published on loopback only, as 127.0.0.1:8080:80",
            "scenario.test_sequence syntax: not a step here",
        ] {
            assert!(notes.contains(said), "{said:?} missing from:\n{notes}");
        }
        assert_eq!(
            imported
                .notes
                .iter()
                .filter(|n| n.contains("privileged"))
                .count(),
            1,
            "each change is said once"
        );
    }

    #[test]
    fn a_missing_playbook_or_platform_is_an_error_naming_the_field() {
        let dir = scenario_dir("platforms: []\n");
        let error = load(&dir.path().join("ansible-role-x"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("platforms: name at least one platform"),
            "{error}"
        );
        let dir = scenario_dir(
            "platforms: [{name: i}]\nprovisioner:\n  playbooks:\n    verify: check.yml\n",
        );
        let error = load(&dir.path().join("ansible-role-x"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("provisioner.playbooks.verify: "), "{error}");
        assert!(error.contains("check.yml does not exist"), "{error}");
    }
}
