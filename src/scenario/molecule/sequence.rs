//! A Molecule scenario's inventory variables, playbooks, verifier, role
//! requirements and test sequence, as an argos-cloud scenario has them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_norway::Value;

use super::platforms::host_name;
use super::{Reader, strings};
use crate::scenario::testinfra;
use crate::scenario::{HostEntry, PlaybookFiles, ScenarioError, Step, Verifier};

impl Reader<'_> {
    #[allow(clippy::type_complexity)]
    pub(super) fn inventory(
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

    pub(super) fn playbooks(
        &mut self,
        provisioner: &Value,
        verifier: &Verifier,
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
            // Molecule runs one verifier: verify.yml is the ansible one's.
            if key == "verify"
                && let Some(file) = &path
                && verifier.testinfra_tests().is_some()
            {
                self.note(format!(
                    "{}: not run; the verifier is testinfra (verifier.name)",
                    file.display()
                ));
                continue;
            }
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
        Ok(files)
    }

    /// The verifier: ansible (Molecule's default) or testinfra, whose tests
    /// must be there. Any other cannot run here, and a verify step without
    /// its tests would pass untested: refused before anything is made.
    pub(super) fn verifier(&mut self, root: &Value) -> Result<Verifier, ScenarioError> {
        let verifier = root.get("verifier");
        let field = |key: &str| verifier.and_then(|v| v.get(key));
        match field("name").and_then(Value::as_str) {
            None | Some("ansible") => return Ok(Verifier::default()),
            Some("testinfra") => {}
            Some(name) => {
                return Err(self.error(
                    "verifier.name",
                    format!(
                        "{name:?}: argos-cloud runs the ansible (verify.yml) and testinfra \
                         verifiers only, and a run that skipped the {name} tests would pass \
                         untested; write the checks as a verify.yml or testinfra tests, or run \
                         this scenario with Molecule"
                    ),
                ));
            }
        }
        let directory = field("directory").and_then(Value::as_str);
        if let Some(problem) =
            testinfra::tests_folder_problem(&self.scenario_dir.join(directory.unwrap_or("tests")))
        {
            let at = if directory.is_some() {
                "verifier.directory"
            } else {
                "verifier.name"
            };
            return Err(self.error(at, problem));
        }
        if field("additional_files_or_dirs").is_some() {
            return Err(self.error(
                "verifier.additional_files_or_dirs",
                "not run here, and a verify that left tests out would pass untested; move \
                 them into the tests folder"
                    .into(),
            ));
        }
        for (key, why) in [
            ("options", "testinfra runs with argos-cloud's own options"),
            ("env", "testinfra runs with argos-cloud's own environment"),
            ("enabled", "the tests always run at verify"),
        ] {
            if field(key).is_some() {
                self.note(format!("verifier.{key}: ignored; {why}"));
            }
        }
        Ok(Verifier::testinfra(directory))
    }

    /// The dependency's role file, as Molecule finds it: relative to the
    /// role's root, else `requirements.yml` in the scenario folder.
    pub(super) fn requirements(&mut self, root: &Value) -> Option<PathBuf> {
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

    pub(super) fn steps(
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
