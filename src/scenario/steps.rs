//! The steps of a scenario run, each on the environment its guard holds:
//! what each does and what its outcome says (Molecule's names).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Scenario;
use super::guard::EnvironmentGuard;
use super::options::RunOptions;
use super::report::{Check, Outcome};
use super::requirements;
use super::role::RoleUnderTest;
use super::run_plan::RunPlan;
use super::testinfra;
use crate::backend::HostSpec;
use crate::backend::containers::Labelled;
use crate::converge::deploy::{
    self, AnsiblePlaybook, DeployReport, DeployRequest, HostKeys, Playbooks, SshMasters,
};
use crate::converge::inventory::{Expect, Inventory, InventoryVars};
use crate::model::names::{EnvNames, Group, parse_rfc3339, tag_keys};
use crate::model::topology::Topology;
use crate::probe::{DatabaseLogin, ProbeContext};

pub(super) struct Steps<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) options: &'a RunOptions,
    /// The settings file's values, then the overrides and the stand-ins.
    pub(super) extra_vars: serde_json::Map<String, serde_json::Value>,
    pub(super) ansible: Option<&'a AnsiblePlaybook>,
    /// The run's own known_hosts file.
    pub(super) host_keys: HostKeys,
    pub(super) topology: &'a Topology,
    pub(super) plan: &'a RunPlan,
    /// The Python Ansible discovered on each host (inventory name) in this
    /// run's first converge: later steps are told it rather than discovering
    /// it again (a second or two a step; Mitogen's more, under become).
    pub(super) interpreters: std::sync::Mutex<BTreeMap<String, String>>,
    /// The run's SSH masters: each step's Ansible reuses the connection the
    /// step before opened (closed when the run ends, after destroy).
    pub(super) masters: SshMasters,
}

impl Steps<'_> {
    fn groups(&self) -> Vec<Group> {
        self.scenario.host_groups()
    }

    /// The scenario's variables, by inventory name. A role tested on its own
    /// runs as root, as Molecule's containers do (hosts are reached as the
    /// SSH user): `ansible_become` unless the scenario says otherwise.
    fn vars(&self, names: &EnvNames) -> InventoryVars {
        let mut all: serde_json::Map<String, serde_json::Value> =
            self.scenario.vars.clone().into_iter().collect();
        if !self.plan.role.is_project_role() {
            all.entry("ansible_become")
                .or_insert(serde_json::Value::Bool(true));
        }
        let mut hosts: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = self
            .scenario
            .host_vars
            .iter()
            .map(|(h, vars)| (names.resource(h), vars.clone().into_iter().collect()))
            .collect();
        // Only where the scenario names no interpreter itself, anywhere.
        const INTERPRETER: &str = "ansible_python_interpreter";
        let scenario_names_one = all.contains_key(INTERPRETER)
            || self
                .scenario
                .group_vars
                .values()
                .any(|vars| vars.contains_key(INTERPRETER));
        if !scenario_names_one {
            for (host, path) in self.interpreters.lock().expect("interpreters").iter() {
                hosts
                    .entry(host.clone())
                    .or_default()
                    .entry(INTERPRETER)
                    .or_insert_with(|| path.as_str().into());
            }
        }
        InventoryVars {
            all,
            groups: self
                .scenario
                .group_vars
                .iter()
                .map(|(g, vars)| (g.clone(), vars.clone().into_iter().collect()))
                .collect(),
            hosts,
        }
    }

    fn inventory(&self, guard: &EnvironmentGuard) -> Result<Inventory, String> {
        let names = guard.backend().names(guard.env());
        guard
            .backend()
            .inventory(guard.env(), Expect::groups(self.topology, &self.groups()))
            .map(|inventory| inventory.with_vars(self.vars(&names)))
            .map_err(|e| e.to_string())
    }

    fn hosts(&self) -> Vec<HostSpec> {
        self.scenario.host_specs(self.topology)
    }

    pub(super) fn dependency(&self) -> Outcome {
        let Some(file) = &self.scenario.requirements else {
            return Outcome::Skipped("no requirements".into());
        };
        // Roles are linked; only collections need ansible-galaxy.
        let galaxy = self.ansible.map_or_else(
            || PathBuf::from("ansible-galaxy"),
            |a| a.program().with_file_name("ansible-galaxy"),
        );
        let file = self
            .options
            .project
            .path(&self.scenario.dir.join(file).to_string_lossy());
        let role_root = match &self.plan.role {
            RoleUnderTest::Directory { path, .. } => Some(path.as_path()),
            _ => None,
        };
        match requirements::install(
            &file,
            role_root,
            &self.plan.roles_dir(),
            &self.plan.collections_dir(),
            &galaxy,
        ) {
            Ok(installed) => {
                let mut text = format!(
                    "installed offline: roles [{}], collections [{}]",
                    installed.roles.join(", "),
                    installed.collections.join(", ")
                );
                if !installed.ignored.is_empty() {
                    text.push_str(&format!("; ignored: {}", installed.ignored.join(", ")));
                }
                Outcome::Passed(text)
            }
            Err(reason) => Outcome::Failed(reason),
        }
    }

    /// The converge playbooks: the scenario's, the project roles, or a
    /// generated play applying the role under test.
    fn converge_playbooks(&self) -> Result<Playbooks, String> {
        if let Some(file) = &self.scenario.playbooks.converge {
            return Ok(Playbooks::Files(vec![self.scenario_path(file)]));
        }
        if self.plan.role.is_project_role() {
            let roles: Vec<String> = if self.scenario.converge.is_empty() {
                let groups = self.topology.in_deploy_order(&self.groups());
                let project = self
                    .options
                    .project
                    .path(crate::model::project::Project::PLAYBOOKS);
                groups
                    .iter()
                    .filter(|g| {
                        self.topology.knows(g) && project.join(format!("{g}.yml")).is_file()
                    })
                    .map(|g| g.to_string())
                    .chain(
                        (self.plan.role.play_name() == Group::IMAGE.as_str())
                            .then(|| Group::IMAGE.to_string()),
                    )
                    .collect()
            } else {
                self.scenario.converge.clone()
            };
            return Ok(Playbooks::Roles(roles));
        }
        let file = self.plan.work.path().join("converge.yml");
        self.plan
            .role
            .write_converge(&file)
            .map_err(|e| format!("writing the converge play: {e}"))?;
        Ok(Playbooks::Files(vec![file]))
    }

    fn scenario_path(&self, file: &Path) -> PathBuf {
        self.options
            .project
            .path(&self.scenario.dir.join(file).to_string_lossy())
    }

    /// Run one of the scenario's own playbooks (prepare, side_effect).
    pub(super) async fn playbook(
        &self,
        guard: &EnvironmentGuard,
        step: &str,
        file: Option<&Path>,
    ) -> Outcome {
        let Some(file) = file else {
            return Outcome::Skipped(format!("no {step} playbook"));
        };
        let path = self.scenario_path(file);
        match self.deploy(guard, Playbooks::Files(vec![path])).await {
            Err(reason) => Outcome::Failed(reason),
            Ok(report) if !report.succeeded() => {
                Outcome::Failed(format!("{step} failed:\n{report}"))
            }
            Ok(report) => Outcome::Passed(format!(
                "{}: {} change(s)",
                file.display(),
                report.changed()
            )),
        }
    }

    pub(super) fn create(&self, guard: &mut EnvironmentGuard) -> Outcome {
        // Leftovers of killed runs go first, so they never pile up. One
        // that cannot go is reported with its remedy; it must not fail this
        // run (nor every later one).
        let swept = match guard.backend().sweep(None, SystemTime::now()) {
            Ok(report) => {
                let mut text = format!(
                    "swept {} expired object(s) of earlier runs",
                    report.removed.len()
                );
                if !report.failed.is_empty() {
                    text.push_str(&format!(
                        "; kept {} that could not be removed:",
                        report.failed.len()
                    ));
                    for failure in &report.failed {
                        text.push_str(&format!("\n  {failure}"));
                    }
                }
                text
            }
            Err(e) => format!("could not sweep expired leftovers of earlier runs: {e}"),
        };
        if let Err(e) = guard.commission(&self.hosts()) {
            return Outcome::Failed(e.to_string());
        }
        let backend = guard.backend();
        let hosts = match backend.status(guard.env()) {
            Ok(hosts) => hosts
                .iter()
                .map(|h| format!("{} {}", h.group, h.state))
                .collect::<Vec<_>>()
                .join(", "),
            Err(e) => return Outcome::Failed(format!("reading what was made: {e}")),
        };
        Outcome::Passed(format!("on {}: {hosts}; {swept}", backend.kind()))
    }

    async fn deploy(
        &self,
        guard: &EnvironmentGuard,
        playbooks: Playbooks,
    ) -> Result<DeployReport, String> {
        let Some(ansible) = self.ansible else {
            return Err("no ansible-playbook was located".into());
        };
        let inventory = self.inventory(guard)?;
        let request = DeployRequest {
            project: &self.options.project,
            inventory: &inventory,
            topology: self.topology,
            playbooks,
            roles_path: vec![self.plan.roles_dir()],
            collections_path: if self.plan.collections_dir().is_dir() {
                vec![self.plan.collections_dir()]
            } else {
                Vec::new()
            },
            environment: self.plan.molecule_environment(self.scenario),
            extra_vars: self.extra_vars.clone(),
            host_keys: self.host_keys.clone(),
            log_dir: self.options.log_dir.clone(),
            reach_timeout: self.options.reach_timeout,
            strategy: guard.backend().settings().ansible_strategy,
            masters: Some(&self.masters),
            progress: self.options.progress.clone(),
        };
        let report = deploy::deploy(ansible, &request)
            .await
            .map_err(|e| e.to_string())?;
        self.interpreters
            .lock()
            .expect("interpreters")
            .extend(report.interpreters());
        Ok(report)
    }

    pub(super) async fn converge(&self, guard: &EnvironmentGuard) -> Outcome {
        let playbooks = match self.converge_playbooks() {
            Ok(playbooks) => playbooks,
            Err(reason) => return Outcome::Failed(reason),
        };
        let what = describe(&playbooks);
        match self.deploy(guard, playbooks).await {
            Err(reason) => Outcome::Failed(reason),
            Ok(report) if !report.succeeded() => {
                Outcome::Failed(format!("converge failed:\n{report}"))
            }
            Ok(report) => Outcome::Passed(format!(
                "{what}: {} change(s){}",
                report.changed(),
                slowest(&report)
            )),
        }
    }

    pub(super) async fn idempotence(&self, guard: &EnvironmentGuard) -> Outcome {
        let role = self.plan.role.play_name();
        // A project role runs its own playbook again; a role tested on its
        // own runs the whole converge again, as Molecule does.
        let playbooks =
            if self.plan.role.is_project_role() && self.scenario.playbooks.converge.is_none() {
                Playbooks::Roles(vec![role.to_owned()])
            } else {
                match self.converge_playbooks() {
                    Ok(playbooks) => playbooks,
                    Err(reason) => return Outcome::Failed(reason),
                }
            };
        match self.deploy(guard, playbooks).await {
            Err(reason) => Outcome::Failed(reason),
            Ok(report) if !report.succeeded() => Outcome::Failed(format!(
                "idempotence: the second run of {role} failed:\n{report}"
            )),
            Ok(report) if report.changed() > 0 => {
                let mut text = format!(
                    "idempotence: the second run of {role} changed {} task(s), and must change none:",
                    report.changed()
                );
                for playbook in &report.playbooks {
                    for task in &playbook.changed_tasks {
                        text.push_str(&format!(
                            "\n  host {}: task \"{}\" changed",
                            task.host, task.task
                        ));
                    }
                }
                Outcome::Failed(text)
            }
            Ok(report) => Outcome::Passed(format!(
                "{role}: 0 changes on the second run{}",
                slowest(&report)
            )),
        }
    }

    /// Tags, probes, the verify playbook and testinfra's tests; with each
    /// testinfra test case as a check of its own.
    pub(super) async fn verify(&self, guard: &EnvironmentGuard) -> (Outcome, Vec<Check>) {
        let mut lines = Vec::new();
        let mut failures = 0;
        if self.scenario.expect.tags {
            match guard.backend().tagged_hosts(guard.run_id()) {
                Ok(objects) => {
                    let problems = tag_problems(guard, &self.hosts(), &objects, SystemTime::now());
                    failures += problems.len();
                    if problems.is_empty() {
                        lines.push(format!(
                            "ok    tags on {} object(s): Name, Group, Env, App, argos:run, argos:expires",
                            objects.len()
                        ));
                    }
                    lines.extend(problems);
                }
                Err(e) => {
                    failures += 1;
                    lines.push(format!("FAIL  tags: {e}"));
                }
            }
        }
        if let Err(reason) = guard.backend().data_plane() {
            // Tags are control plane and were checked; probes cannot run.
            let outcome = if failures > 0 {
                Outcome::Failed(format!("{failures} check(s) failed:\n{}", lines.join("\n")))
            } else {
                lines.push(format!("skip  health and connectivity probes: {reason}"));
                Outcome::Skipped(format!("{reason}\n{}", lines.join("\n")))
            };
            return (outcome, Vec::new());
        }
        let inventory = match self.inventory(guard) {
            Ok(inventory) => inventory,
            Err(reason) => return (Outcome::Failed(reason), Vec::new()),
        };
        let context = ProbeContext {
            inventory: &inventory,
            host_keys: self.host_keys.clone(),
            login: DatabaseLogin::of(guard.backend().settings()),
            deadline: self.options.probe_deadline,
            progress: self.options.progress.clone(),
        };
        // What looked at the role itself, beyond the tags.
        let mut role_checks = 0;
        for result in context.run_all(&self.scenario.expect).await {
            if !result.passed() {
                failures += 1;
            }
            role_checks += 1;
            lines.push(result.to_string());
        }
        if let Some(file) = &self.scenario.playbooks.verify {
            role_checks += 1;
            let path = self.scenario_path(file);
            match self.deploy(guard, Playbooks::Files(vec![path])).await {
                Ok(report) if report.succeeded() => {
                    lines.push(format!("ok    verify playbook {}", file.display()));
                }
                Ok(report) => {
                    failures += 1;
                    lines.push(format!(
                        "FAIL  verify playbook {}:\n{report}",
                        file.display()
                    ));
                }
                Err(reason) => {
                    failures += 1;
                    lines.push(format!(
                        "FAIL  verify playbook {}: {reason}",
                        file.display()
                    ));
                }
            }
        }
        let mut checks = Vec::new();
        if let Some(tests) = self.scenario.verifier.testinfra_tests() {
            role_checks += 1;
            let verified = self.testinfra(&inventory, &tests).await;
            failures += verified.failures;
            lines.extend(verified.lines);
            checks = verified.checks;
        }
        let outcome = verify_outcome(&lines, failures, role_checks, self.scenario.expect.tags);
        (outcome, checks)
    }

    /// The testinfra tests in `tests` (relative to the scenario), run by the
    /// pytest beside ansible-playbook.
    async fn testinfra(&self, inventory: &Inventory, tests: &Path) -> testinfra::Verified {
        // A run whose other steps need no Ansible has not located it.
        let located;
        let ansible = match self.ansible {
            Some(ansible) => ansible,
            None => match AnsiblePlaybook::locate(&self.options.project) {
                Ok(ansible) => {
                    located = ansible;
                    &located
                }
                Err(e) => return testinfra::Verified::failed(e),
            },
        };
        let pytest = match testinfra::pytest_beside(ansible.program()) {
            Ok(pytest) => pytest,
            Err(reason) => return testinfra::Verified::failed(reason),
        };
        let ssh_options = match self.host_keys.ssh_options() {
            Ok(options) => options,
            Err(e) => {
                return testinfra::Verified::failed(format!("the run's known_hosts file: {e}"));
            }
        };
        testinfra::TestinfraRun {
            pytest: &pytest,
            tests: &self.scenario_path(tests),
            inventory,
            ssh_options: &ssh_options,
            work: self.plan.work.path(),
            log_dir: &self.options.log_dir,
            environment: self.plan.molecule_environment(self.scenario),
        }
        .run()
        .await
    }

    pub(super) fn destroy(&self, guard: &mut EnvironmentGuard) -> Outcome {
        let run = guard.run_id().to_owned();
        let made = guard.made();
        match guard.destroy() {
            Err(reason) => Outcome::Failed(reason),
            Ok(_) if !made => {
                Outcome::Passed("this run made nothing, so it removed nothing".into())
            }
            Ok(left) if left.is_empty() => Outcome::Passed(format!(
                "removed; nothing tagged {}={run} is left",
                tag_keys::RUN
            )),
            Ok(left) => Outcome::Failed(format!(
                "decommission left {} object(s) behind (now swept): {}",
                left.len(),
                left.iter()
                    .map(Labelled::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// What is wrong with the tags (Docker labels) of a run's objects.
fn tag_problems(
    guard: &EnvironmentGuard,
    hosts: &[HostSpec],
    objects: &[Labelled],
    now: SystemTime,
) -> Vec<String> {
    let names = guard.backend().names(guard.env());
    let mut problems = Vec::new();
    for object in objects {
        let mut wrong = |key: &str, want: Option<&str>| {
            let have = object.label(key);
            let bad = match want {
                Some(want) => have != Some(want),
                None => have.is_none(),
            };
            if bad {
                problems.push(format!(
                    "FAIL  tags on {} {}: {key} is {}, expected {}",
                    object.kind,
                    object.name,
                    have.map_or("missing".to_owned(), |v| format!("{v:?}")),
                    want.map_or("a value".to_owned(), |v| format!("{v:?}"))
                ));
            }
        };
        let group = object.label(tag_keys::GROUP).and_then(Group::parse);
        match group {
            Some(group) => {
                // A host is named after its group, or after itself
                // (`hosts[].name`); what it is named must be one of those.
                let name = object.label(tag_keys::NAME).unwrap_or_default();
                let own_name = hosts
                    .iter()
                    .any(|h| h.group == group && names.resource(&h.name) == name);
                if !own_name {
                    wrong(tag_keys::NAME, Some(&names.resource(&group)));
                }
            }
            None => wrong(tag_keys::GROUP, Some("a group name")),
        }
        wrong(tag_keys::ENV, Some(names.env.as_str()));
        wrong(tag_keys::APP, Some(names.app.as_str()));
        wrong(tag_keys::RUN, Some(guard.run_id()));
        match object.label(tag_keys::EXPIRES).and_then(parse_rfc3339) {
            Some(expires) if expires > now => {}
            _ => wrong(tag_keys::EXPIRES, Some("a time in the future")),
        }
    }
    problems
}

/// The verify step's outcome from its lines: failed when a check failed.
/// A pass with no check of the role itself (`role_checks`: probes, the
/// verify playbook, testinfra) stays a pass, and says so.
fn verify_outcome(lines: &[String], failures: usize, role_checks: usize, tags: bool) -> Outcome {
    let text = lines.join("\n");
    if failures > 0 {
        return Outcome::Failed(format!("{failures} check(s) failed:\n{text}"));
    }
    let mut passed = format!("{} check(s) passed\n{text}", lines.len());
    if role_checks == 0 {
        let only = if tags { ": only the tags" } else { "" };
        passed.push_str(&format!(
            "\nnote  no check of the role ran{only} (no verify playbook, testinfra tests or \
             expect probes)"
        ));
    }
    Outcome::Passed(passed)
}

/// What a deploy runs, in a few words for the report.
fn describe(playbooks: &Playbooks) -> String {
    match playbooks {
        Playbooks::Roles(roles) => roles.join(", "),
        Playbooks::Files(files) => files
            .iter()
            .map(|f| {
                f.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `; slowest: …; strategy …`: where a green deploy's time went, and how
/// Ansible ran it.
fn slowest(report: &DeployReport) -> String {
    let mut text = report
        .slowest_line()
        .map_or_else(String::new, |line| format!("; slowest: {line}"));
    if let Some(strategy) = &report.strategy {
        text.push_str(&format!("; {strategy}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verify_that_checked_nothing_of_the_role_passes_saying_so() {
        let tags = vec!["ok    tags on 2 object(s)".to_owned()];
        let Outcome::Passed(text) = verify_outcome(&tags, 0, 0, true) else {
            panic!("a pass");
        };
        assert_eq!(
            text,
            "1 check(s) passed\nok    tags on 2 object(s)\nnote  no check of the role ran: \
             only the tags (no verify playbook, testinfra tests or expect probes)"
        );
        let Outcome::Passed(text) = verify_outcome(&[], 0, 0, false) else {
            panic!("a pass");
        };
        assert!(text.ends_with("\nnote  no check of the role ran (no verify playbook, testinfra tests or expect probes)"), "{text}");
        let mut lines = tags.clone();
        lines.push("ok    verify playbook verify.yml".into());
        assert_eq!(
            verify_outcome(&lines, 0, 1, true),
            Outcome::Passed(format!("2 check(s) passed\n{}", lines.join("\n")))
        );
        lines.push("FAIL  test_x.py::test_y[ansible://h]: AssertionError".into());
        assert_eq!(
            verify_outcome(&lines, 1, 2, true),
            Outcome::Failed(format!("1 check(s) failed:\n{}", lines.join("\n")))
        );
    }
}
