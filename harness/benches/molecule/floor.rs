//! The bare floor: what the job costs with nothing around it. `docker run`
//! (the project's image and settings), `ansible-playbook` of the scenario's
//! converge twice (the second must change nothing), `docker rm -f`. Ansible
//! reaches the containers with `docker exec` (community.docker, from
//! Molecule's venv), as Molecule's docker driver does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use argos_cloud::backend::containers::systemd_run_args;
use argos_cloud::scenario::Scenario;
use argos_cloud::scenario::role::{RoleUnderTest, role_names};
use argos_harness::molecule::recap_changed;
use serde_json::{Map, Value, json};

use super::process::{self, BenchError};
use super::timings::Timings;

const DEADLINE: Duration = Duration::from_secs(20 * 60);

/// The floor for one scenario: its role linked under its names, its
/// converge playbook.
pub struct Floor<'a> {
    scenario: &'a Scenario,
    role_dir: PathBuf,
    roles: PathBuf,
    converge: PathBuf,
    work: PathBuf,
    venv_bin: PathBuf,
}

impl<'a> Floor<'a> {
    pub fn new(
        scenario: &'a Scenario,
        role_dir: &Path,
        work: &Path,
        venv_bin: &Path,
    ) -> Result<Self, BenchError> {
        let roles = work.join("floor-roles");
        let role = RoleUnderTest::Directory {
            path: role_dir.to_owned(),
            names: role_names(role_dir),
        };
        role.link_into(&roles).map_err(BenchError::io(format!(
            "linking the role into {}",
            roles.display()
        )))?;
        let converge = match &scenario.playbooks.converge {
            Some(file) => scenario.dir.join(file),
            None => {
                let file = work.join("floor-converge.yml");
                role.write_converge(&file)
                    .map_err(BenchError::io(file.display().to_string()))?;
                file
            }
        };
        Ok(Self {
            scenario,
            role_dir: role_dir.to_owned(),
            roles,
            converge,
            work: work.to_owned(),
            venv_bin: venv_bin.to_owned(),
        })
    }

    /// One round: containers `<prefix>-<host>` labelled `labels`, removed
    /// whatever happens.
    pub fn round(
        &self,
        prefix: &str,
        labels: &[(String, String)],
        log: &Path,
    ) -> Result<Timings, BenchError> {
        let hosts: Vec<(String, String)> = self
            .scenario
            .hosts
            .iter()
            .map(|h| (h.name.clone(), format!("{prefix}-{}", h.name)))
            .collect();
        let inventory = self.work.join(format!("{prefix}-inventory.json"));
        std::fs::write(&inventory, self.inventory(&hosts).to_string())
            .map_err(BenchError::io(inventory.display().to_string()))?;
        let mut timings = Timings::default();
        let started = Instant::now();

        let mut containers = Containers(Vec::new());
        for (host, container) in &hosts {
            containers.0.push(container.clone());
            let mut run = Command::new("docker");
            run.args(["run", "-d", "--name", container, "--hostname", host]);
            for (key, value) in labels {
                run.args(["--label", &format!("{key}={value}")]);
            }
            run.args(systemd_run_args())
                .arg(argos_cloud::backend::containers::HOST_IMAGE);
            process::quick(&format!("docker run {container}"), &mut run)?;
        }
        timings.set("create", started.elapsed());

        let step = Instant::now();
        self.converge(&format!("converge ({prefix})"), &inventory, log)?;
        timings.set("converge", step.elapsed());

        let step = Instant::now();
        let again = self.converge(&format!("idempotence ({prefix})"), &inventory, log)?;
        timings.set("idempotence", step.elapsed());
        match recap_changed(again.text()) {
            Some(0) => {}
            changed => {
                return Err(BenchError::Check {
                    what: format!("idempotence ({prefix})"),
                    detail: format!(
                        "the second converge changed {changed:?} tasks (see {})",
                        log.display()
                    ),
                });
            }
        }

        let step = Instant::now();
        containers.remove()?;
        timings.set("destroy", step.elapsed());
        timings.total = started.elapsed();
        Ok(timings)
    }

    fn converge(
        &self,
        what: &str,
        inventory: &Path,
        log: &Path,
    ) -> Result<process::Output, BenchError> {
        let path = std::env::var("PATH").unwrap_or_default();
        let mut command = Command::new(self.venv_bin.join("ansible-playbook"));
        command
            .arg("-i")
            .arg(inventory)
            .arg(&self.converge)
            .env("PATH", format!("{}:{path}", self.venv_bin.display()))
            .env("ANSIBLE_ROLES_PATH", &self.roles)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("PYTHONUNBUFFERED", "1");
        // Playbooks written for Molecule may read its variables.
        for (key, value) in
            argos_cloud::scenario::molecule::variables(&self.role_dir, &self.scenario.dir)
        {
            command.env(key, value);
        }
        process::run(what, command, log, DEADLINE)
    }

    /// The scenario's hosts, groups and variables, reached by `docker exec`.
    fn inventory(&self, hosts: &[(String, String)]) -> Value {
        let scenario = self.scenario;
        let mut all_hosts = Map::new();
        for (host, container) in hosts {
            let mut vars = Map::new();
            vars.insert(
                "ansible_connection".into(),
                "community.docker.docker".into(),
            );
            vars.insert("ansible_host".into(), container.as_str().into());
            if let Some(own) = scenario.host_vars.get(host) {
                vars.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            all_hosts.insert(host.clone(), Value::Object(vars));
        }
        let mut children = Map::new();
        for entry in &scenario.hosts {
            for group in &entry.groups {
                let child = children
                    .entry(group.as_str())
                    .or_insert_with(|| json!({"hosts": {}, "vars": {}}));
                child["hosts"][&entry.name] = json!({});
                if let Some(vars) = scenario.group_vars.get(group.as_str()) {
                    child["vars"] = json!(vars);
                }
            }
        }
        json!({"all": {"hosts": all_hosts, "vars": scenario.vars, "children": children}})
    }
}

/// Containers removed when dropped, so a failed round leaves none.
struct Containers(Vec<String>);

impl Containers {
    fn remove(&mut self) -> Result<(), BenchError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let names = std::mem::take(&mut self.0);
        let mut rm = Command::new("docker");
        rm.args(["rm", "-f"]).args(&names);
        process::quick("docker rm -f", &mut rm).map(drop)
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if let Err(error) = self.remove() {
            eprintln!("bench: removing the floor's containers: {error}");
        }
    }
}
