//! `argos-cloud scenario ...`: files checked before anything runs, and a run
//! that is interrupted (SIGINT, SIGTERM: while Ansible converges, while
//! Vagrant brings machines up) or killed (SIGKILL, then the next sweep)
//! leaving nothing on Docker and no process behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use predicates::str::contains;

use argos_cloud::backend::Backend;
use argos_cloud::backend::choose::{self, LocalKind};
use argos_cloud::model::names::EnvName;
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Overrides};
use argos_cloud::sys::progress::Progress;

use crate::argos;
use crate::support::{self, Running, TempProject, argos_command, docker_here};

/// `scenario check` on a file holding `text` fails, saying each of `expected`.
fn check_refuses(project: &TempProject, text: &str, expected: &[&str]) {
    let file = project.root().join("broken.yaml");
    std::fs::write(&file, text).unwrap();
    let mut assert = argos(project)
        .args(["scenario", "check"])
        .arg(&file)
        .assert()
        .failure();
    for message in expected {
        assert = assert.stderr(contains(*message));
    }
}

#[test]
fn check_names_the_file_the_line_and_the_field() {
    let project = TempProject::shipped();
    check_refuses(
        &project,
        "description: broken\nrole: app\ngroups: [app, database]\nexpect:\n  connectivity:\n    - {from: app, to: database, probe: postgres}\n    - from: app\n      to: knowledge\n      probe: ner\n",
        &[
            "broken.yaml:8: expect.connectivity[1].to: knowledge is not one of the scenario's hosts or groups",
        ],
    );
    check_refuses(
        &project,
        "description: typo\nrole: app\ngroups: [app]\nstep: [create]\n",
        &["broken.yaml:4: step: unknown field `step`"],
    );
    check_refuses(
        &project,
        "description: bad probe\nrole: app\ngroups: [app]\nexpect:\n  connectivity:\n    - {from: app, to: app, probe: pg}\n",
        &[
            "broken.yaml:6",
            "expect.connectivity[0].probe: unknown variant `pg`",
        ],
    );
    // Names the project does not know: said before anything is made.
    check_refuses(
        &project,
        "description: unknown role\nrole: frontend\ngroups: [app]\n",
        &[
            "broken.yaml: role: \"frontend\" is not a project role (database, knowledge, broker, app, worker, image)",
        ],
    );
    check_refuses(
        &project,
        "description: project role off its group\nrole: worker\ngroups: [app]\n",
        &["role: the role under test, worker, needs its group in `groups`"],
    );
    check_refuses(
        &project,
        "description: missing playbook\nrole: app\ngroups: [app]\nplaybooks: {verify: verify.yml}\n",
        &["playbooks.verify: ", "verify.yml does not exist"],
    );
}

#[test]
fn every_shipped_scenario_checks_and_the_schema_prints() {
    let project = TempProject::shipped();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    argos(&project)
        .args(["scenario", "check"])
        .args(&files)
        .assert()
        .success()
        .stdout(contains("ok: ").count(files.len()));
    argos(&project)
        .args(["scenario", "schema"])
        .assert()
        .success()
        .stdout(contains("\"sparql-ask\""));
}

/// The environment a run named in its first step line: `(argos-t-...)`.
/// The environment a run's `create` step started on, by its event.
fn created_env(run: &mut Running, scenario: &str) -> String {
    let started = run.wait_for_event(
        "step_started",
        |e| e["scenario"] == scenario && e["step"] == "create",
        Duration::from_secs(300),
    );
    let stack = started["stack"].as_str().expect("a stack name");
    stack.trim_start_matches("argos-").to_owned()
}

/// Docker objects labelled with run `run`: containers, networks, volumes.
fn labelled(run: &str) -> Vec<String> {
    let filter = format!("label=argos:run={run}");
    let mut found = Vec::new();
    for args in [
        vec!["ps", "-a", "-q", "--filter", &filter],
        vec!["network", "ls", "-q", "--filter", &filter],
        vec!["volume", "ls", "-q", "--filter", &filter],
    ] {
        let out = Command::new("docker").args(&args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}");
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("{} {l}", args[0])),
        );
    }
    found
}

/// `argos-cloud --backend BACKEND scenario run` of a shipped scenario on the
/// real project, with the sample settings.
fn run_scenario(backend: &str, scenario: &str, extra: &[&str]) -> Running {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = argos_command(root);
    command
        .args(["--backend", backend, "scenario", "run"])
        .arg(root.join("scenarios").join(scenario))
        .args(["--settings", "playbooks/group_vars/all.sample.yml"])
        .args(extra);
    Running::start(command)
}

/// SIG`signal` while Ansible is at work on the host, the hardest moment to
/// stop cleanly: exit 130 at once, no ansible-playbook or ssh left, nothing
/// labelled left.
fn a_signal_while_converging_removes_the_environment(signal: &str) {
    if !argos_harness::scenarios::available(LocalKind::Docker) {
        return;
    }
    let mut run = run_scenario("docker", "knowledge.yaml", &[]);
    let env = created_env(&mut run, "knowledge");
    run.wait_for_ansible("TASK [knowledge", Duration::from_secs(180));
    assert!(!labelled(&env).is_empty(), "the run made its host");
    assert!(
        run.children()
            .iter()
            .any(|p| p.command.contains("ansible-playbook")),
        "ansible-playbook runs: {:?}",
        run.children()
    );
    run.stops_on(signal, &format!("argos-{env}"));
    assert_eq!(
        labelled(&env),
        Vec::<String>::new(),
        "left behind after SIG{signal}"
    );
}

#[test]
fn check_on_an_environment_without_hosts_says_to_commission_it() {
    if !docker_here() {
        return;
    }
    let project = TempProject::shipped();
    argos(&project)
        .args(["--backend", "docker", "nothing-here", "check"])
        .assert()
        .failure()
        .stderr(contains(
            "argos-nothing-here has no hosts to check: `commission` it first",
        ));
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A copy of the project to run on, and Ansible; `None`, said loudly,
/// without Docker or Ansible (never in CI).
fn docker_and_ansible() -> Option<(TempProject, argos_cloud::converge::deploy::AnsiblePlaybook)> {
    if !docker_here() {
        return None;
    }
    let ansible = crate::support::ansible()?;
    Some((TempProject::runnable(), ansible))
}

/// `argos-cloud --backend docker scenario ARGS... FILE`: exit code and stderr.
fn scenario_command(project: &TempProject, args: &[&str], file: &Path) -> (Option<i32>, String) {
    let out = argos(project)
        .args(["--backend", "docker", "scenario"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

#[test]
fn a_ttl_too_long_is_refused_naming_the_flag() {
    let project = TempProject::shipped();
    let file = project.root().join("app.yaml");
    std::fs::write(&file, "description: d\nrole: app\ngroups: [app]\n").unwrap();
    let (code, stderr) =
        scenario_command(&project, &["run", "--ttl", &u64::MAX.to_string()], &file);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "invalid value '{}' for '--ttl <SECONDS>'",
            u64::MAX
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_file_name_without_letters_and_a_bad_unit_are_errors_not_panics() {
    let project = TempProject::shipped();
    let file = project.root().join("---.yaml");
    std::fs::write(&file, "description: d\nrole: app\ngroups: [app]\n").unwrap();
    for action in ["check", "run"] {
        let (code, stderr) = scenario_command(&project, &[action], &file);
        assert_eq!(code, Some(1), "scenario {action}: {stderr}");
        assert!(
            stderr.contains("---.yaml: (file name): \"---\" has no letter or digit"),
            "scenario {action}: {stderr}"
        );
    }
    check_refuses(
        &project,
        "description: d\nrole: app\ngroups: [app]\nexpect:\n  health:\n    - unit: {host: app, name: \"nginx'; reboot; '\"}\n",
        &[
            "broken.yaml:6: expect.health[0].unit.name: \"nginx'; reboot; '\" is not a systemd unit name",
        ],
    );
}

/// A Docker environment made through the CLI, decommissioned when dropped
/// (the CLI gives it no run id, so no sweep would take it).
struct CliEnvironment<'a> {
    project: &'a TempProject,
    env: String,
}

impl Drop for CliEnvironment<'_> {
    fn drop(&mut self) {
        let _ = argos(self.project)
            .args(["--backend", "docker", &self.env, "decommission", "--yes"])
            .output();
    }
}

/// An operator's Docker environment (no run id), decommissioned when the
/// test is done with it, whatever happened.
struct OperatorEnv {
    backend: Box<dyn Backend>,
    env: EnvName,
}

impl OperatorEnv {
    /// Commission `env` on the repository's project with the sample settings.
    fn commission(env: &str) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let project = Project::open(root).unwrap();
        let file = root.join(Project::SAMPLE_SETTINGS);
        let text = std::fs::read_to_string(&file).unwrap();
        let settings = settings::parse(&file, &text, &Overrides::default()).unwrap();
        let backend = choose::local(
            LocalKind::Docker,
            project,
            settings,
            Progress::stderr(),
            None,
            serde_json::Map::new(),
        );
        let env = EnvName::new(env).unwrap();
        let made = Self { backend, env };
        made.backend
            .commission(
                &made.env,
                &argos_harness::scenarios::hosts(&["database", "app"]),
            )
            .unwrap();
        made
    }

    /// Every container, network and volume of the environment, with its
    /// id and state: what must not change.
    fn objects(&self) -> Vec<String> {
        let names = self.backend.names(&self.env);
        let filters = [
            format!("label=App={}", names.app),
            format!("label=Env={}", names.env),
        ];
        let mut found = Vec::new();
        for list in [
            &[
                "ps",
                "-a",
                "--format",
                "container {{.ID}} {{.Names}} {{.State}}",
            ][..],
            &["network", "ls", "--format", "network {{.ID}} {{.Name}}"][..],
            &["volume", "ls", "--format", "volume {{.Name}}"][..],
        ] {
            let mut command = Command::new("docker");
            command.args(list);
            for filter in &filters {
                command.args(["--filter", filter]);
            }
            let out = command.output().unwrap();
            assert!(out.status.success(), "docker {list:?}");
            found.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_owned),
            );
        }
        found.sort();
        found
    }

    fn key(&self) -> PathBuf {
        let stack = self.backend.names(&self.env).stack();
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".argos/docker")
            .join(stack)
            .join("id_ed25519")
    }
}

impl Drop for OperatorEnv {
    fn drop(&mut self) {
        if let Err(error) = self.backend.decommission(&self.env) {
            eprintln!(
                "could not remove the test's environment {}: {error}",
                self.env
            );
        }
    }
}

/// `scenario run scenarios/database.yaml --env ENV` on Docker, which must
/// fail; all it printed.
fn database_scenario_fails_on(env: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(assert_cmd::cargo::cargo_bin("argos-cloud"))
        .arg("--root")
        .arg(root)
        .args(["--backend", "docker", "scenario", "run"])
        .arg(root.join("scenarios/database.yaml"))
        .args(["--settings", "playbooks/group_vars/all.sample.yml"])
        .args(["--env", env])
        .env_remove("ARGOS_KEEP")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    text
}

/// A Docker volume labelled as another's run's object, removed when the test
/// is done with it.
struct ForeignVolume(String);

impl ForeignVolume {
    fn exists(&self) -> bool {
        Command::new("docker")
            .args(["volume", "inspect", &self.0])
            .output()
            .unwrap()
            .status
            .success()
    }
}

impl Drop for ForeignVolume {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["volume", "rm", &self.0])
            .output();
    }
}

/// `scenario run --env X` when something of another environment already
/// carries `argos:run=X` (a kept run of that name): refused before anything
/// is made, and that object is left alone (teardown goes by the run id, so
/// an id that is not this run's alone would take it along).
#[test]
fn a_scenario_run_whose_run_id_is_taken_leaves_what_carries_it() {
    if !docker_here() || support::ansible().is_none() {
        return;
    }
    let env = argos_cloud::scenario::run::unique_env_name("taken");
    let volume = ForeignVolume(format!("argos-{env}-elsewhere"));
    let expires = argos_cloud::model::names::rfc3339(
        std::time::SystemTime::now() + Duration::from_secs(3600),
    );
    let made = Command::new("docker")
        .args(["volume", "create"])
        .args(["--label", &format!("argos:run={env}")])
        .args(["--label", &format!("argos:expires={expires}")])
        .args(["--label", "App=argos", "--label", "Env=elsewhere"])
        .arg(&volume.0)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let text = database_scenario_fails_on(env.as_str());
    assert!(volume.exists(), "the other run's volume is gone:\n{text}");
    assert!(
        text.contains(&format!(
            "the run id {env} is taken: volume {} already tagged argos:run={env}",
            volume.0
        )),
        "{text}"
    );
    assert_eq!(
        labelled(env.as_str()),
        [format!("volume {}", volume.0)],
        "{text}"
    );
}

#[test]
fn a_molecule_scenario_imports_to_a_scenario_file_that_checks() {
    let project = TempProject::shipped();
    let copy = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/galaxy/ansible-role-redis");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let role = copy.path().join("ansible-role-redis");
    let output = argos(&project)
        .args(["scenario", "import"])
        .arg(&role)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("privileged: true: hosts run unprivileged"),
        "what changed is said: {stderr}"
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let imported = role.join("molecule/default/argos.yaml");
    std::fs::write(&imported, &text).unwrap();
    let scenario = argos_cloud::scenario::load(&imported).unwrap();
    assert_eq!(scenario.hosts[0].name, "instance");
    assert_eq!(
        scenario.playbooks.converge.as_deref(),
        Some(Path::new("converge.yml"))
    );
    assert_eq!(
        scenario.role,
        role.canonicalize().unwrap().display().to_string()
    );
    argos(&project)
        .args(["scenario", "check"])
        .arg(&imported)
        .assert()
        .success()
        .stdout(contains("argos.yaml (5 steps"));
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    #[test]
    fn sigint_to_a_converging_scenario_removes_its_environment() {
        a_signal_while_converging_removes_the_environment("INT");
    }

    #[test]
    fn sigterm_to_a_converging_scenario_removes_its_environment() {
        a_signal_while_converging_removes_the_environment("TERM");
    }

    /// `vagrant up` is one synchronous call of minutes: a signal during it ends
    /// vagrant (and what it started) at once instead of waiting for it, and
    /// the run goes no further than create.
    #[test]
    fn sigint_while_vagrant_brings_machines_up_stops_it_and_removes_them() {
        if !argos_harness::scenarios::available(LocalKind::Vagrant) {
            return;
        }
        let mut run = run_scenario("vagrant", "database.yaml", &[]);
        let env = created_env(&mut run, "database");
        run.wait_for_event(
            "vagrant_output",
            |e| {
                e["line"]
                    .as_str()
                    .is_some_and(|l| l.contains("Bringing machine"))
            },
            Duration::from_secs(300),
        );
        assert!(
            run.children()
                .iter()
                .any(|p| p.command.contains("vagrant up")),
            "vagrant up runs: {:?}",
            run.children()
        );
        run.stops_on("INT", &format!("argos-{env}"));
        assert!(
            !run.seen
                .iter()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|e| e["event"] == "step_started" && e["step"] == "converge"),
            "the run went on after SIGINT:\n{}",
            run.seen.join("\n")
        );
        assert_eq!(
            labelled(&env),
            Vec::<String>::new(),
            "left behind after SIGINT"
        );
        let folder =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(".argos/vagrant/argos-{env}"));
        assert!(!folder.exists(), "{} is left", folder.display());
    }

    #[test]
    fn after_sigkill_the_next_sweep_removes_what_the_run_left() {
        if !argos_harness::scenarios::available(LocalKind::Docker) {
            return;
        }
        // A short life: long enough that no other run's sweep takes the
        // environment while this one is still being made, short enough that the
        // next sweep finds it expired soon after the kill.
        let time_to_live = Duration::from_secs(15);
        let mut run = run_scenario("docker", "knowledge.yaml", &["--ttl", "15"]);
        let started = Instant::now();
        let env = created_env(&mut run, "knowledge");
        run.wait_for_event("host_started", |_| true, Duration::from_secs(120));
        run.signal("KILL");
        assert_eq!(
            run.exit_code(Duration::from_secs(30)),
            None,
            "killed by a signal"
        );
        let left = labelled(&env);
        if started.elapsed() < time_to_live {
            assert!(
                !left.is_empty(),
                "SIGKILL leaves the environment (nothing can run)"
            );
        }

        // The next runs' sweeps: until the environment has expired they must
        // leave it alone; after that one of them removes it.
        let project = TempProject::shipped();
        let deadline = time_to_live + Duration::from_secs(60);
        while !labelled(&env).is_empty() {
            assert!(
                started.elapsed() < deadline,
                "still there {deadline:?} after the run started: {:?}",
                labelled(&env)
            );
            argos(&project)
                .args(["--backend", "docker", "any", "sweep", "--yes"])
                .assert()
                .success();
            if started.elapsed() < time_to_live - Duration::from_secs(1) {
                assert!(!labelled(&env).is_empty(), "swept before it expired");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        assert_eq!(
            labelled(&env),
            Vec::<String>::new(),
            "left behind after the sweep"
        );
    }

    #[test]
    fn a_run_writes_the_password_nowhere_and_keeps_its_logs_private() {
        use std::os::unix::fs::PermissionsExt;
        let Some((project, ansible)) = docker_and_ansible() else {
            return;
        };
        let secrets = tempfile::tempdir().unwrap();
        // Distinctive, and a valid db_pass: the database is made with it and
        // the verify step logs in with it, so it really went everywhere it must.
        let password = format!("Lk9-{}-never-on-disk", std::process::id());
        let password_file = secrets.path().join("db_pass");
        std::fs::write(&password_file, format!("{password}\n")).unwrap();
        let junit = project.root().join("report.xml");
        let out = argos(&project)
            .env("ARGOS_ANSIBLE_PLAYBOOK", ansible.program())
            .args(["--backend", "docker", "scenario", "run"])
            .arg(project.root().join("scenarios/database.yaml"))
            .args(["--settings", "playbooks/group_vars/all.sample.yml"])
            .arg("--set-file")
            .arg(format!("db_pass={}", password_file.display()))
            .arg("--junit")
            .arg(&junit)
            .timeout(Duration::from_secs(900))
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{said}");
        assert!(
            !said.contains(&password),
            "the password in the output:\n{said}"
        );

        let argos_dir = project.root().join(".argos");
        let mut written = files_under(&argos_dir);
        written.push(junit.clone());
        let logs: Vec<&PathBuf> = written
            .iter()
            .filter(|p| p.starts_with(argos_dir.join("logs")))
            .collect();
        assert!(!logs.is_empty(), "no Ansible log in {written:?}");
        let leaks: Vec<String> = written
            .iter()
            .filter(|file| {
                let bytes = std::fs::read(file).unwrap();
                bytes
                    .windows(password.len())
                    .any(|w| w == password.as_bytes())
            })
            .map(|file| file.display().to_string())
            .collect();
        assert_eq!(leaks, Vec::<String>::new(), "files holding the password");
        for log in &logs {
            let mode = std::fs::metadata(log).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", log.display());
        }
        assert_eq!(
            files_under(&argos_dir.join("known_hosts")),
            Vec::<PathBuf>::new(),
            "the run's known_hosts file goes with the run"
        );
    }

    #[test]
    fn the_local_cli_checks_host_keys_per_environment_and_decommission_forgets_them() {
        let Some((project, ansible)) = docker_and_ansible() else {
            return;
        };
        let env = CliEnvironment {
            project: &project,
            env: format!("hk-{}", std::process::id() % 1_000_000),
        };
        let known_hosts = project
            .root()
            .join(format!(".argos/known_hosts/argos-{}", env.env));
        argos(&project)
            .args(["--backend", "docker", &env.env, "commission"])
            .timeout(Duration::from_secs(300))
            .assert()
            .success();
        argos(&project)
            .env("ARGOS_ANSIBLE_PLAYBOOK", ansible.program())
            .args([
                "--backend",
                "docker",
                &env.env,
                "deploy",
                "--roles",
                "database",
            ])
            .timeout(Duration::from_secs(600))
            .assert()
            .success();
        // The database host's key, learnt on first contact (accept-new), is
        // what later connections are checked against.
        let keys = std::fs::read_to_string(&known_hosts).unwrap_or_default();
        assert!(
            keys.lines().any(|l| !l.trim().is_empty()),
            "no host key recorded in {}",
            known_hosts.display()
        );
        // A commission refused because the environment exists changes nothing,
        // its hosts' keys included.
        argos(&project)
            .args(["--backend", "docker", &env.env, "commission"])
            .timeout(Duration::from_secs(300))
            .assert()
            .failure()
            .stderr(contains("exists"));
        assert_eq!(
            std::fs::read_to_string(&known_hosts).unwrap_or_default(),
            keys,
            "a refused commission keeps the environment's host keys"
        );
        argos(&project)
            .args(["--backend", "docker", &env.env, "decommission", "--yes"])
            .timeout(Duration::from_secs(300))
            .assert()
            .success();
        assert!(
            !known_hosts.exists(),
            "the keys of hosts that are gone are forgotten"
        );
    }

    /// `scenario run --env dev` while `dev` exists: the run is refused by name
    /// and its teardown leaves `dev` exactly as it was (it used to remove it,
    /// going by the environment's name instead of the run's id).
    #[test]
    fn a_scenario_run_on_an_existing_environment_leaves_it_as_it_was() {
        if !docker_here() || support::ansible().is_none() {
            return;
        }
        let env = argos_cloud::scenario::run::unique_env_name("operator");
        let operator = OperatorEnv::commission(env.as_str());
        let before = operator.objects();
        assert_eq!(
            before.iter().filter(|o| o.ends_with(" running")).count(),
            2,
            "two running hosts: {before:?}"
        );
        let text = database_scenario_fails_on(env.as_str());
        assert_eq!(operator.objects(), before, "{text}");
        assert!(
            operator.key().is_file(),
            "the environment's SSH key is gone"
        );
        assert!(
            text.contains(&format!(
                "environment argos-{env} exists already (network argos-{env}-network"
            )) && text.contains("this run made nothing and leaves it as it is"),
            "{text}"
        );
    }
}
