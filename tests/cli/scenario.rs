//! `argos-cloud scenario ...`: files checked before anything runs, and a run
//! that is interrupted (SIGINT, SIGTERM: while Ansible converges, while
//! Vagrant brings machines up) or killed (SIGKILL, then the next sweep)
//! leaving nothing on Docker and no process behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use argos_cloud::backend::LocalKind;
use predicates::str::contains;

use crate::argos;
use crate::support::{Running, TempProject, argos_command, docker_here};

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
            "broken.yaml:8: expect.connectivity[1].to: knowledge is not one of the scenario's groups",
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
fn env_of(line: &str) -> String {
    let stack = line
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no environment in {line:?}"));
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
    let env = env_of(&run.wait_for("scenario knowledge: create (", Duration::from_secs(300)));
    run.wait_for("TASK [knowledge", Duration::from_secs(180));
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
    let env = env_of(&run.wait_for("scenario database: create (", Duration::from_secs(300)));
    run.wait_for("vagrant: Bringing machine", Duration::from_secs(300));
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
            .any(|l| l.contains("scenario database: converge")),
        "the run went on after SIGINT:\n{}",
        run.seen.join("\n")
    );
    assert_eq!(
        labelled(&env),
        Vec::<String>::new(),
        "left behind after SIGINT"
    );
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(".argos/vagrant/argos-{env}"));
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
    let env = env_of(&run.wait_for("scenario knowledge: create (", Duration::from_secs(300)));
    run.wait_for("docker: host ", Duration::from_secs(120));
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
