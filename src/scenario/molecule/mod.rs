//! Molecule scenarios, run as they are: `molecule/<name>/molecule.yml` is
//! read into a [`Scenario`] (the role directory under test, its platforms
//! as hosts, its inventory variables, playbooks and test sequence).
//!
//! A platform's image is kept as named: the run finds it, pulls it, or
//! fails before making anything ([`super::platform_image`]). Nothing runs
//! privileged, so `privileged` becomes the settings that work unprivileged;
//! every such change, and every field with no meaning here, is said once
//! in the [`Imported::notes`], never silently. `${VAR:-default}` is expanded as
//! Molecule expands it ([`super::interpolate`]), from the environment and
//! Molecule's own variables when run, never from the environment when
//! imported into a file to keep.
//!
//! `mod.rs` finds and reads the file; `platforms.rs` makes hosts of the
//! platforms; `sequence.rs` takes the inventory, playbooks, verifier,
//! requirements and test sequence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::interpolate::{self, Mode};
use super::{Scenario, ScenarioError};
use crate::input::env::Environment;
use crate::input::file;
use crate::input::yaml::{self, Node};

mod platforms;
mod sequence;

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

/// [`load`], as if the variables of `combination` (a matrix's) were set so:
/// the run is named after them and gives them to Ansible too.
pub fn load_with(path: &Path, combination: &[(String, String)]) -> Result<Imported, ScenarioError> {
    let given = |name: &std::ffi::OsStr| combination.iter().any(|(k, _)| name == k.as_str());
    let environment = Environment::from_os(
        std::env::vars_os()
            .filter(|(name, _)| !given(name))
            .chain(combination.iter().map(|(k, v)| (k.into(), v.into()))),
    );
    let mut imported = read(path, Mode::Run, &environment)?;
    let scenario = &mut imported.scenario;
    scenario.name = super::matrix::name_with(&scenario.name, combination);
    scenario.environment = combination.iter().cloned().collect();
    Ok(imported)
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
        let verifier = self.verifier(root)?;
        let playbooks = self.playbooks(&provisioner, &verifier)?;
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
            verifier,
            vars: BTreeMap::new(),
            group_vars,
            host_vars,
            requirements,
            settings: BTreeMap::new(),
            settings_lines: BTreeMap::new(),
            expect: super::Expectations::default(),
            environment: BTreeMap::new(),
        };
        Ok(Imported {
            scenario,
            notes: self.notes,
        })
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
    use crate::model::names::Group;
    use crate::scenario::Step;

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
        // The image as named, its variable expanded: the run finds it,
        // pulls it or fails; it is never replaced in silence.
        assert_eq!(
            scenario.hosts[0].image.as_deref(),
            Some("registry.invalid/x-debian12:latest")
        );
        assert_eq!(scenario.hosts[1].image, None);
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

    #[test]
    fn a_verifier_that_cannot_run_is_refused_before_anything_is_made() {
        for verifier in ["goss", "inspec"] {
            let dir = scenario_dir(&format!(
                "platforms: [{{name: i}}]\nverifier:\n  name: {verifier}\n"
            ));
            let error = load(&dir.path().join("ansible-role-x"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!(
                    "molecule.yml:3: verifier.name: \"{verifier}\": argos-cloud runs the ansible \
                     (verify.yml) and testinfra verifiers only"
                )),
                "{error}"
            );
        }
        let dir = scenario_dir("platforms: [{name: i}]\nverifier:\n  name: ansible\n");
        let scenario = load(&dir.path().join("ansible-role-x")).unwrap().scenario;
        assert_eq!(scenario.verifier, crate::scenario::Verifier::default());
    }

    #[test]
    fn a_testinfra_verifier_runs_its_tests_folder_and_not_verify_yml() {
        let molecule = "platforms: [{name: i}]\nverifier:\n  name: testinfra\n";
        let dir = scenario_dir(molecule);
        let scenario_folder = dir.path().join("ansible-role-x/molecule/default");
        let error = load(&dir.path().join("ansible-role-x"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("molecule.yml:3: verifier.name: ")
                && error.contains("molecule/default/tests is not a folder"),
            "{error}"
        );
        std::fs::create_dir_all(scenario_folder.join("tests")).unwrap();
        let error = load(&dir.path().join("ansible-role-x"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("molecule/default/tests holds no test_*.py"),
            "{error}"
        );
        std::fs::write(scenario_folder.join("tests/test_default.py"), "").unwrap();
        std::fs::write(scenario_folder.join("verify.yml"), "---\n").unwrap();
        let imported = load(&dir.path().join("ansible-role-x")).unwrap();
        assert_eq!(
            imported.scenario.verifier.testinfra_tests(),
            Some(PathBuf::from("tests"))
        );
        assert_eq!(imported.scenario.playbooks.verify, None);
        assert!(
            imported
                .notes
                .contains(&"verify.yml: not run; the verifier is testinfra (verifier.name)".into()),
            "{:?}",
            imported.notes
        );
        // `verifier.directory`, relative to the scenario's folder.
        let dir = scenario_dir(&format!("{molecule}  directory: ../checks\n"));
        let role = dir.path().join("ansible-role-x");
        let error = load(&role).unwrap_err().to_string();
        assert!(
            error.contains("molecule.yml:4: verifier.directory: ")
                && error.contains("checks is not a folder"),
            "{error}"
        );
        std::fs::create_dir_all(role.join("molecule/checks/host")).unwrap();
        std::fs::write(role.join("molecule/checks/host/test_x.py"), "").unwrap();
        assert_eq!(
            load(&role).unwrap().scenario.verifier.testinfra_tests(),
            Some(PathBuf::from("../checks"))
        );
    }
}
