//! Running a scenario: the steps in order on a throwaway environment held by
//! an [`EnvironmentGuard`], each timed; after a failed step only `destroy`
//! runs. Problems found before anything exists (settings, Ansible, Docker)
//! are errors; what happens after is the report.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::guard::EnvironmentGuard;
use super::report::{Outcome, ScenarioReport, StepReport};
use super::role::RoleUnderTest;
use super::{Scenario, Step, requirements};
use crate::backend::HostSpec;
use crate::backends::{BackendChoice, LocalKind};
use crate::deploy::{
    self, AnsiblePlaybook, DeployReport, DeployRequest, HostKeys, Playbooks, RunKnownHosts,
};
use crate::docker::Labelled;
use crate::inventory::{Expect, Inventory, InventoryVars};
use crate::names::{EnvName, EnvNames, Group, RunTags, parse_rfc3339, tag_keys};
use crate::probe::{DatabaseLogin, ProbeContext};
use crate::progress::Progress;
use crate::project::Project;
use crate::settings::{self, Overrides, Settings};
use crate::topology::Topology;

/// How long a harness environment may live before any sweep removes it.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub project: Project,
    /// Where the environment's hosts run.
    pub backend: BackendChoice,
    /// The settings file the scenario starts from (the sample, for tests).
    pub settings_file: PathBuf,
    /// The caller's overrides; the scenario's `settings` go on top.
    pub overrides: Overrides,
    /// Keep a failed environment and say how to reach it.
    pub keep_on_failure: bool,
    pub time_to_live: Duration,
    /// How long one probe may keep failing before it counts as failed.
    pub probe_deadline: Duration,
    /// How long a new host may take to answer SSH.
    pub reach_timeout: Duration,
    pub log_dir: PathBuf,
    pub progress: Progress,
    /// The environment's name; default `t-<scenario>-<id>`.
    pub env: Option<EnvName>,
}

impl RunOptions {
    pub fn new(project: Project, settings_file: PathBuf) -> Self {
        let log_dir = project.path(".argos/logs");
        Self {
            project,
            backend: BackendChoice::Local(LocalKind::Docker),
            settings_file,
            overrides: Overrides::default(),
            keep_on_failure: false,
            time_to_live: TIME_TO_LIVE,
            probe_deadline: Duration::from_secs(30),
            reach_timeout: Duration::from_secs(120),
            log_dir,
            progress: Progress::stderr(),
            env: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}: {message}", file.display())]
    Settings { file: PathBuf, message: String },
    #[error(transparent)]
    Deploy(#[from] deploy::DeployError),
    /// The scenario does not fit the project (its role, its groups), said
    /// before anything is made.
    #[error("{}: {message}", file.display())]
    Scenario { file: PathBuf, message: String },
    #[error("{0}")]
    Backend(String),
}

/// A unique, valid environment name: `t-<label>-<id>`, the label made of
/// the first 12 letters and digits of `label` (lowercased), `x` if it has none.
pub fn unique_env_name(label: &str) -> EnvName {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let id = format!(
        "{:06x}",
        (nanos ^ (u128::from(std::process::id()) << 20)) & 0xff_ffff
    );
    let mut label: String = label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(12)
        .collect();
    if label.is_empty() {
        label.push('x');
    }
    EnvName::new(&format!("t-{label}-{id}")).expect("t-<label>-<hex> is a valid name")
}

/// What a scenario runs with: the settings file, the caller's overrides,
/// then the scenario's own.
pub struct ScenarioSettings {
    pub settings: Settings,
    pub overrides: Overrides,
    /// The settings file's values as Ansible variables: Ansible must see the
    /// file the run was checked against, not whatever `group_vars/all.yml` holds.
    pub file_vars: serde_json::Map<String, serde_json::Value>,
}

pub fn scenario_settings(
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<ScenarioSettings, RunError> {
    let file = options
        .project
        .path(&options.settings_file.to_string_lossy());
    let problem = |message: String| RunError::Settings {
        file: file.clone(),
        message,
    };
    let text = std::fs::read_to_string(&file).map_err(|e| problem(e.to_string()))?;
    let mut overrides = options.overrides.clone();
    for (key, value) in &scenario.settings {
        overrides.flag(key, value);
    }
    let settings = settings::parse(&file, &text, &overrides).map_err(|e| problem(e.to_string()))?;
    let file_vars = serde_norway::from_str(&text).map_err(|e| problem(e.to_string()))?;
    Ok(ScenarioSettings {
        settings,
        overrides,
        file_vars,
    })
}

/// Whether `scenario` fits the project: its role is found, its playbooks
/// and requirements exist. What `run` checks before making anything.
pub fn check_fits(scenario: &Scenario, options: &RunOptions) -> Result<(), RunError> {
    let ScenarioSettings { settings, .. } = scenario_settings(scenario, options)?;
    RunPlan::new(scenario, options, &settings.topology).map(drop)
}

/// Run `scenario` on the options' backend. Everything it makes is gone when
/// this returns (or is dropped), unless keep-on-failure kept a failed
/// environment.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<ScenarioReport, RunError> {
    let ScenarioSettings {
        settings,
        overrides,
        file_vars,
    } = scenario_settings(scenario, options)?;
    let plan = RunPlan::new(scenario, options, &settings.topology)?;
    let env = options
        .env
        .clone()
        .unwrap_or_else(|| unique_env_name(&scenario.name));
    let run = RunTags::new(env.as_str(), options.time_to_live);
    let mut extra_vars = file_vars;
    extra_vars.extend(overrides.extra_vars());
    let backend = options
        .backend
        .build(
            options.project.clone(),
            settings,
            &env,
            options.progress.clone(),
            Some(run.clone()),
            extra_vars.clone(),
        )
        .map_err(RunError::Backend)?;
    if backend.kind() == "aws" {
        RunPlan::check_on_aws(scenario, &backend.settings().topology)?;
    }
    let steps_run = scenario.steps();
    // Without a data plane the converge steps are skipped: no Ansible needed.
    let uses_ansible = steps_run.iter().any(|s| {
        matches!(
            s,
            Step::Dependency | Step::Prepare | Step::Converge | Step::SideEffect
        )
    }) || scenario.playbooks.verify.is_some();
    let ansible = if uses_ansible && backend.data_plane().is_ok() {
        Some(AnsiblePlaybook::locate(&options.project)?)
    } else {
        None
    };
    let mut guard = EnvironmentGuard::new(backend, env, &run, options.keep_on_failure);
    let stack = guard.backend().names(guard.env()).stack();
    let mut report = ScenarioReport {
        scenario: scenario.name.clone(),
        backend: guard.backend().kind().into(),
        environment: stack.clone(),
        steps: Vec::new(),
    };
    let extra_vars = guard.backend().ansible_vars(extra_vars);
    // New hosts: their keys are learnt on first contact and checked after.
    let mut known_hosts = RunKnownHosts::new(&options.project, &stack);
    let topology = guard.backend().settings().topology.clone();
    let steps = Steps {
        scenario,
        options,
        extra_vars,
        ansible: ansible.as_ref(),
        host_keys: known_hosts.host_keys(),
        topology: &topology,
        plan: &plan,
    };
    let mut failed = false;
    for step in &steps_run {
        let started = Instant::now();
        let outcome = if failed && *step != Step::Destroy {
            Outcome::Skipped("an earlier step failed".into())
        } else {
            options
                .progress
                .say(format!("scenario {}: {step} ({stack})", scenario.name));
            match step {
                Step::Dependency => steps.dependency(),
                Step::Create => steps.create(&mut guard),
                Step::Prepare | Step::Converge | Step::Idempotence | Step::SideEffect
                    if let Err(reason) = guard.backend().data_plane() =>
                {
                    Outcome::Skipped(reason)
                }
                Step::Prepare => {
                    steps
                        .playbook(&guard, "prepare", scenario.playbooks.prepare.as_deref())
                        .await
                }
                Step::Converge => steps.converge(&guard).await,
                Step::Idempotence => steps.idempotence(&guard).await,
                Step::SideEffect => {
                    steps
                        .playbook(
                            &guard,
                            "side_effect",
                            scenario.playbooks.side_effect.as_deref(),
                        )
                        .await
                }
                Step::Verify => steps.verify(&guard).await,
                Step::Destroy if guard.keeps() => Outcome::Skipped(guard.keep()),
                Step::Destroy => steps.destroy(&mut guard),
            }
        };
        if crate::signal::received().is_some() {
            // A signal cut the step short: no more steps; the guard, dropped
            // below, removes the environment.
            break;
        }
        if let Outcome::Failed(reason) = &outcome {
            options.progress.say(format!(
                "scenario {}: {step} FAILED: {reason}",
                scenario.name
            ));
            failed = true;
            guard.mark_failed();
        }
        report.steps.push(StepReport {
            step: *step,
            duration: started.elapsed(),
            outcome,
        });
    }
    if guard.keeps() {
        known_hosts.keep();
    }
    // A scenario without a destroy step still leaves nothing: the guard goes now.
    drop(guard);
    Ok(report)
}

struct Steps<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    /// The settings file's values, then the overrides and the stand-ins.
    extra_vars: serde_json::Map<String, serde_json::Value>,
    ansible: Option<&'a AnsiblePlaybook>,
    /// The run's own known_hosts file.
    host_keys: HostKeys,
    topology: &'a Topology,
    plan: &'a RunPlan,
}

/// What a run works with besides the environment, found before anything
/// is made: the role under test, and a folder of its own for the roles,
/// collections and generated playbooks it uses.
pub struct RunPlan {
    pub role: RoleUnderTest,
    work: tempfile::TempDir,
}

impl RunPlan {
    fn new(
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
    fn check_on_aws(scenario: &Scenario, topology: &Topology) -> Result<(), RunError> {
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
    fn molecule_environment(&self, scenario: &Scenario) -> Vec<(String, String)> {
        let RoleUnderTest::Directory { path, .. } = &self.role else {
            return Vec::new();
        };
        vec![
            (
                "MOLECULE_PROJECT_DIRECTORY".into(),
                path.display().to_string(),
            ),
            (
                "MOLECULE_SCENARIO_DIRECTORY".into(),
                scenario.dir.display().to_string(),
            ),
            (
                "MOLECULE_SCENARIO_NAME".into(),
                scenario
                    .dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            ),
            (
                "MOLECULE_EPHEMERAL_DIRECTORY".into(),
                self.work.path().display().to_string(),
            ),
        ]
    }

    fn roles_dir(&self) -> PathBuf {
        self.work.path().join("roles")
    }

    fn collections_dir(&self) -> PathBuf {
        self.work.path().join("collections")
    }
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
        InventoryVars {
            all,
            groups: self
                .scenario
                .group_vars
                .iter()
                .map(|(g, vars)| (g.clone(), vars.clone().into_iter().collect()))
                .collect(),
            hosts: self
                .scenario
                .host_vars
                .iter()
                .map(|(h, vars)| (names.resource(h), vars.clone().into_iter().collect()))
                .collect(),
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

    fn dependency(&self) -> Outcome {
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
                    .path(crate::project::Project::PLAYBOOKS);
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
    async fn playbook(&self, guard: &EnvironmentGuard, step: &str, file: Option<&Path>) -> Outcome {
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

    fn create(&self, guard: &mut EnvironmentGuard) -> Outcome {
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
            progress: self.options.progress.clone(),
        };
        deploy::deploy(ansible, &request)
            .await
            .map_err(|e| e.to_string())
    }

    async fn converge(&self, guard: &EnvironmentGuard) -> Outcome {
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
            Ok(report) => Outcome::Passed(format!("{what}: {} change(s)", report.changed())),
        }
    }

    async fn idempotence(&self, guard: &EnvironmentGuard) -> Outcome {
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
            Ok(_) => Outcome::Passed(format!("{role}: 0 changes on the second run")),
        }
    }

    async fn verify(&self, guard: &EnvironmentGuard) -> Outcome {
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
            return if failures > 0 {
                Outcome::Failed(format!("{failures} check(s) failed:\n{}", lines.join("\n")))
            } else {
                lines.push(format!("skip  health and connectivity probes: {reason}"));
                Outcome::Skipped(format!("{reason}\n{}", lines.join("\n")))
            };
        }
        let inventory = match self.inventory(guard) {
            Ok(inventory) => inventory,
            Err(reason) => return Outcome::Failed(reason),
        };
        let context = ProbeContext {
            inventory: &inventory,
            host_keys: self.host_keys.clone(),
            login: DatabaseLogin::of(&guard.backend().settings().database),
            deadline: self.options.probe_deadline,
        };
        for result in context.run_all(&self.scenario.expect).await {
            if !result.passed() {
                failures += 1;
            }
            lines.push(result.to_string());
        }
        if let Some(file) = &self.scenario.playbooks.verify {
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
        let text = lines.join("\n");
        if failures > 0 {
            Outcome::Failed(format!("{failures} check(s) failed:\n{text}"))
        } else {
            Outcome::Passed(format!("{} check(s) passed\n{text}", lines.len()))
        }
    }

    fn destroy(&self, guard: &mut EnvironmentGuard) -> Outcome {
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

/// The settings file a scenario run starts from when none is named.
pub fn default_settings_file(project: &Project) -> PathBuf {
    let own = project.path(Project::SETTINGS);
    if own.is_file() {
        PathBuf::from(Project::SETTINGS)
    } else {
        PathBuf::from(Project::SAMPLE_SETTINGS)
    }
}

/// Whether `path` looks like a scenario file (`*.yaml` outside hidden folders).
pub fn is_scenario_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml")
}
