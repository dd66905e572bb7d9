//! What a scenario run works with besides its environment, found before
//! anything is made: the role under test (so an unknown one is an error
//! naming the file), the playbooks and requirements it names, and a folder
//! of the run's own for roles, collections and generated playbooks.

use std::path::PathBuf;

use super::Scenario;
use super::options::{RunError, RunOptions};
use super::role::RoleUnderTest;
use crate::model::names::Group;
use crate::model::topology::Topology;

/// What a run works with besides the environment, found before anything
/// is made: the role under test, and a folder of its own for the roles,
/// collections and generated playbooks it uses.
pub struct RunPlan {
    pub role: RoleUnderTest,
    pub(super) work: tempfile::TempDir,
}

impl RunPlan {
    pub(super) fn new(
        scenario: &Scenario,
        options: &RunOptions,
        topology: &Topology,
    ) -> Result<Self, RunError> {
        let problem = |message: String| RunError::Scenario {
            file: scenario.file.clone(),
            message,
        };
        let dir = options.project.path(&scenario.dir.to_string_lossy());
        let role = RoleUnderTest::find(&scenario.role, &dir, &options.project, topology)
            .map_err(|e| problem(format!("role: {e}")))?;
        if let RoleUnderTest::Project(name) = &role
            && name != Group::IMAGE.as_str()
            && !scenario.host_groups().iter().any(|g| g.as_str() == name)
        {
            return Err(problem(format!(
                "role: the role under test, {name}, needs its group in `groups`"
            )));
        }
        for (field, path) in [
            ("playbooks.prepare", &scenario.playbooks.prepare),
            ("playbooks.converge", &scenario.playbooks.converge),
            ("playbooks.side_effect", &scenario.playbooks.side_effect),
            ("playbooks.verify", &scenario.playbooks.verify),
            ("requirements", &scenario.requirements),
        ] {
            if let Some(path) = path
                && !dir.join(path).is_file()
            {
                return Err(problem(format!(
                    "{field}: {} does not exist",
                    dir.join(path).display()
                )));
            }
        }
        let work = tempfile::Builder::new()
            .prefix("argos-scenario-")
            .tempdir()
            .map_err(|e| problem(format!("making the run's folder: {e}")))?;
        role.link_into(&work.path().join("roles"))
            .map_err(|e| problem(format!("linking the role: {e}")))?;
        Ok(Self { role, work })
    }

    /// On AWS the formations make the hosts: a scenario asking for hosts
    /// or groups they do not have is refused before any call.
    pub(super) fn check_on_aws(scenario: &Scenario, topology: &Topology) -> Result<(), RunError> {
        let problem = |message: String| RunError::Scenario {
            file: scenario.file.clone(),
            message,
        };
        if !scenario.hosts.is_empty() {
            return Err(problem(
                "hosts: on aws the formations make the hosts; name their groups in `groups` instead"
                    .into(),
            ));
        }
        if let Some(group) = scenario.groups.iter().find(|g| !topology.knows(g)) {
            let known: Vec<&str> = topology.deploy_order().map(Group::as_str).collect();
            return Err(problem(format!(
                "groups: no formation makes {group} hosts on aws (the groups are {})",
                known.join(", ")
            )));
        }
        Ok(())
    }

    /// What Molecule tells a role's playbooks about where they run; roles'
    /// converge and verify playbooks read `MOLECULE_PROJECT_DIRECTORY`.
    pub(super) fn molecule_environment(&self, scenario: &Scenario) -> Vec<(String, String)> {
        let RoleUnderTest::Directory { path, .. } = &self.role else {
            return Vec::new();
        };
        let mut variables = super::molecule::variables(path, &scenario.dir);
        variables.extend(scenario.environment.clone());
        variables.push((
            "MOLECULE_EPHEMERAL_DIRECTORY".into(),
            self.work.path().display().to_string(),
        ));
        variables
    }

    pub(super) fn roles_dir(&self) -> PathBuf {
        self.work.path().join("roles")
    }

    pub(super) fn collections_dir(&self) -> PathBuf {
        self.work.path().join("collections")
    }
}
