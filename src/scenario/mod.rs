//! Scenarios: short declarative files (`scenarios/*.yaml`) that say which
//! role is under test, which hosts the environment needs, which steps run
//! and what must hold afterwards. Molecule's step names: dependency, create,
//! prepare, converge, idempotence, side_effect, verify, destroy.
//!
//! [`load`] reads and checks a file (errors name file, line and field),
//! [`schema`] makes the JSON Schema editors complete from, [`run`] drives the
//! steps on a backend through an [`guard::EnvironmentGuard`] that always
//! cleans up, and [`report`] says what happened, per step, with durations.
//! [`molecule`] reads a Molecule scenario into one of these.

pub mod dev_loop;
mod docker_args;
pub mod guard;
mod interpolate;
mod load;
pub mod matrix;
pub mod molecule;
mod options;
pub mod platform_image;
pub mod report;
mod requirements;
pub mod role;
pub mod run;
mod run_plan;
pub mod schema;
mod steps;
mod testinfra;

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::probe::{Connection, Expectations, HealthProbe, HostRef, ProbeKind};
pub use load::{ScenarioError, load, parse};

/// A scenario file or a Molecule scenario (see [`molecule::locate`]), with
/// what reading a Molecule scenario changed or ignored.
pub fn load_any(path: &std::path::Path) -> Result<(Scenario, Vec<String>), ScenarioError> {
    load_any_with(path, &[])
}

/// [`load_any`], a Molecule scenario read as if the variables of
/// `combination` were set so ([`matrix`]); a scenario file takes none.
pub fn load_any_with(
    path: &std::path::Path,
    combination: &[(String, String)],
) -> Result<(Scenario, Vec<String>), ScenarioError> {
    if molecule::is_molecule(path) {
        let imported = molecule::load_with(path, combination)?;
        load::check_loaded(
            &imported.scenario,
            &imported.scenario.dir.join("molecule.yml"),
        )?;
        return Ok((imported.scenario, imported.notes));
    }
    if let Some((var, _)) = combination.first() {
        return Err(ScenarioError::Invalid {
            file: path.to_owned(),
            line: None,
            field: "(file)".into(),
            message: format!(
                "--matrix {var}: a matrix runs Molecule scenarios, whose molecule.yml reads \
                 variables; a scenario file names its hosts itself"
            ),
        });
    }
    Ok((load(path)?, Vec::new()))
}

/// A Molecule scenario read to be written out as a scenario file
/// (`scenario import`): its variables never come from the environment.
pub fn import(path: &std::path::Path) -> Result<(Scenario, Vec<String>), ScenarioError> {
    let imported = molecule::import(path)?;
    load::check_loaded(
        &imported.scenario,
        &imported.scenario.dir.join("molecule.yml"),
    )?;
    Ok((imported.scenario, imported.notes))
}

use crate::backend::HostSpec;
use crate::model::names::Group;
use crate::model::topology::Topology;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "argos-cloud scenario")]
pub struct Scenario {
    /// The scenario's name; the file's stem when the file does not say.
    #[serde(skip)]
    pub name: String,
    /// The file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
    /// The folder the scenario's relative paths start from (its file's).
    #[serde(skip)]
    pub dir: PathBuf,
    /// What the scenario proves, in one line.
    pub description: String,
    /// The role under test: a project role (`app`, a group with a playbook
    /// in `playbooks/`), a role on the roles path, or a path to a role
    /// directory (`../my-roles/redis`).
    pub role: String,
    /// One host per group, named after it. Or give `hosts`.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// The hosts to make, each with its groups.
    #[serde(default)]
    pub hosts: Vec<HostEntry>,
    /// The steps, in order. Default: every step that has something to do.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The project roles converged, in deploy order. Default: the role of
    /// every group (project roles), or the role under test.
    #[serde(default)]
    pub converge: Vec<String>,
    /// Playbooks by path, relative to the scenario file.
    #[serde(default)]
    pub playbooks: PlaybookFiles,
    /// `{name: testinfra}` runs testinfra's tests at verify too; default
    /// `{name: ansible}`, the `verify` playbook only.
    #[serde(default, skip_serializing_if = "Verifier::is_ansible")]
    pub verifier: Verifier,
    /// Variables for every host (inventory `all` vars).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Variables per group.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, BTreeMap<String, serde_json::Value>>")]
    pub group_vars: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Variables per host (by `hosts[].name`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, BTreeMap<String, serde_json::Value>>")]
    pub host_vars: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// A `requirements.yml` of roles and collections, installed offline
    /// from local paths and tarballs into the run's own folder.
    #[serde(default)]
    pub requirements: Option<PathBuf>,
    /// Settings overrides for this scenario, as `--set KEY=VALUE` gives them.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// The line of each of `settings`, for errors about its value.
    #[serde(skip)]
    pub settings_lines: BTreeMap<String, usize>,
    /// What must hold after converging.
    #[serde(default)]
    pub expect: Expectations,
    /// Variables this run of a Molecule scenario was read with and gives
    /// Ansible, on top of the environment (a matrix's combination).
    #[serde(skip)]
    pub environment: BTreeMap<String, String>,
}

/// One host of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    /// Its name: lowercase letters, digits and hyphens (the last part of
    /// `<app>-<env>-<name>`).
    pub name: String,
    /// Its groups; the first is its `Group` tag.
    pub groups: Vec<Group>,
    /// A locally built image (Docker); default the project's systemd host image.
    #[serde(default)]
    pub image: Option<String>,
    /// A Vagrant machine's memory, MiB.
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// Ports published on loopback: `127.0.0.1:HOST:CONTAINER`.
    #[serde(default)]
    pub published_ports: Vec<String>,
    /// Further `docker run` arguments (Docker, Vagrant's docker provider).
    #[serde(default)]
    pub docker_args: Vec<String>,
    /// A Molecule platform's `privileged: true`: honoured only when the
    /// user asks (`--privileged`); else the host runs unprivileged.
    #[serde(skip)]
    pub privileged: bool,
}

/// Playbooks a scenario runs at its steps, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookFiles {
    #[serde(default)]
    pub prepare: Option<PathBuf>,
    /// Default: the project roles, or a generated play applying the role under test.
    #[serde(default)]
    pub converge: Option<PathBuf>,
    #[serde(default)]
    pub side_effect: Option<PathBuf>,
    /// Run at verify, after the probes.
    #[serde(default)]
    pub verify: Option<PathBuf>,
}

/// What tests the role at verify besides `expect` and the `verify`
/// playbook, written as Molecule writes it: `{name: testinfra}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verifier {
    pub name: VerifierName,
    /// testinfra's tests folder (its `test_*.py`), relative to the scenario
    /// file. Default: `tests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<PathBuf>,
}

/// Molecule's verifiers that run here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifierName {
    /// The `verify` playbook only, if there is one.
    #[default]
    Ansible,
    /// pytest-testinfra's tests too, run against every host over SSH as
    /// Ansible reaches them; a failing test fails the step.
    Testinfra,
}

impl Verifier {
    fn is_ansible(&self) -> bool {
        *self == Verifier::default()
    }

    /// testinfra, with its tests in `directory` (default `tests`).
    pub fn testinfra(directory: Option<&str>) -> Self {
        Verifier {
            name: VerifierName::Testinfra,
            directory: directory.map(PathBuf::from),
        }
    }

    /// testinfra's tests folder, relative to the scenario file; none for ansible.
    pub fn testinfra_tests(&self) -> Option<PathBuf> {
        (self.name == VerifierName::Testinfra).then(|| {
            self.directory
                .clone()
                .unwrap_or_else(|| PathBuf::from("tests"))
        })
    }
}

/// A step, named as Molecule names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Install `requirements` (offline: local paths and tarballs).
    Dependency,
    /// Commission the environment: its hosts.
    Create,
    /// Run the `prepare` playbook.
    Prepare,
    /// Run the converge roles or playbook.
    Converge,
    /// Run the role under test again: it must change nothing.
    Idempotence,
    /// Run the `side_effect` playbook.
    SideEffect,
    /// Check tags, health and connectivity, run the `verify` playbook and
    /// the testinfra tests.
    Verify,
    /// Decommission, then check that nothing the run made is left.
    Destroy,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Dependency,
        Step::Create,
        Step::Prepare,
        Step::Converge,
        Step::Idempotence,
        Step::SideEffect,
        Step::Verify,
        Step::Destroy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Dependency => "dependency",
            Step::Create => "create",
            Step::Prepare => "prepare",
            Step::SideEffect => "side_effect",
            Step::Converge => "converge",
            Step::Idempotence => "idempotence",
            Step::Verify => "verify",
            Step::Destroy => "destroy",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Scenario {
    /// The hosts to make: `hosts`, or one per group.
    pub fn host_specs(&self, topology: &Topology) -> Vec<HostSpec> {
        if self.hosts.is_empty() {
            return self
                .groups
                .iter()
                .map(|g| HostSpec::for_group(g, topology))
                .collect();
        }
        self.hosts
            .iter()
            .map(|h| {
                let mut groups = h.groups.iter().cloned();
                let group = groups.next().expect("load checks a host has a group");
                HostSpec {
                    memory_mb: h.memory_mb.unwrap_or_else(|| topology.memory_mb(&group)),
                    name: h.name.clone(),
                    group,
                    groups: groups.collect(),
                    image: h.image.clone(),
                    published_ports: h.published_ports.clone(),
                    docker_args: h.docker_args.clone(),
                }
            })
            .collect()
    }

    /// Every group a host is in, each once, in the order first named.
    pub fn host_groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        let named = self
            .groups
            .iter()
            .chain(self.hosts.iter().flat_map(|h| h.groups.iter()));
        for group in named {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
        }
        groups
    }

    /// Whether `name` is a host's name or a group of the scenario.
    pub fn names_host(&self, name: &str) -> bool {
        self.hosts.iter().any(|h| h.name == name)
            || self.host_groups().iter().any(|g| g.as_str() == name)
    }

    /// The steps run: the file's, or every step with something to do.
    pub fn steps(&self) -> Vec<Step> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        Step::ALL
            .into_iter()
            .filter(|step| match step {
                Step::Dependency => self.requirements.is_some(),
                Step::Prepare => self.playbooks.prepare.is_some(),
                Step::SideEffect => self.playbooks.side_effect.is_some(),
                _ => true,
            })
            .collect()
    }

    /// A path of the scenario file, made absolute from its folder.
    pub fn path(&self, relative: &std::path::Path) -> PathBuf {
        self.dir.join(relative)
    }
}
