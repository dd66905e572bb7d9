//! Nothing is left behind after a panic in the middle of a scenario: the
//! guard's drop removes containers, network and volumes. A leftover that
//! cannot be swept does not stop later runs. (SIGINT and SIGKILL of a
//! running `argos-cloud scenario run` are tested against the binary, in
//! tests/cli/scenario.rs.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use argos_cloud::backend::choose::LocalKind;
use argos_cloud::model::names::{EnvNames, Group, RunTags};
use argos_cloud::scenario::Step;
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::report::Outcome;
use argos_cloud::scenario::run::{scenario_settings, unique_env_name};
use argos_cloud::sys::progress::{Event, Progress};
use argos_harness::scenarios::{self, docker};

#[test]
fn a_panic_mid_scenario_leaves_nothing_behind() {
    if !scenarios::backend_available() {
        return;
    }
    let options = scenarios::options();
    let scenario = scenarios::load(&scenarios::workspace_root().join("scenarios/database.yaml"));
    let env = unique_env_name("panic");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let backend = scenarios::observer(&options, &scenario, Some(run.clone()));
    let observer = scenarios::observer(&options, &scenario, None);
    let run_id = env.to_string();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut guard = EnvironmentGuard::new(backend, env, &run, false);
        guard
            .commission(&scenarios::hosts(&["database", "knowledge"]))
            .unwrap();
        let made = guard.backend().labelled(Some(guard.run_id())).unwrap();
        assert_eq!(made.len(), 3, "two hosts and a network: {made:?}");
        panic!("a step blew up mid-scenario");
    }));
    assert!(outcome.is_err(), "the closure panicked");
    let left = observer.labelled(Some(&run_id)).unwrap();
    assert!(left.is_empty(), "left behind after a panic: {left:?}");
    // The sweep agrees: nothing of this run to remove.
    let swept = observer.sweep(Some(&run_id), SystemTime::now()).unwrap();
    assert!(swept.removed.is_empty());
}

/// An expired harness network of a dead run, with a stranger's container
/// on it: what the test made, removed (once) when it is done with it.
struct StuckLeftover {
    network: String,
    bystander: String,
}

impl StuckLeftover {
    fn remove(&self) {
        let _ = docker(&["rm", "-f", &self.bystander]);
        let _ = docker(&["network", "rm", &self.network]);
    }
}

impl Drop for StuckLeftover {
    fn drop(&mut self) {
        self.remove();
    }
}

/// An expired labelled network that an unrelated container still uses
/// cannot be swept; the create step says so, with the command that removes
/// it, and the run goes on and passes. The stranger's container is never
/// touched. (It used to fail every run on the machine.)
#[tokio::test]
async fn an_expired_network_a_stranger_still_uses_does_not_stop_a_run() {
    if !scenarios::available(LocalKind::Docker) {
        return;
    }
    let mut options = scenarios::options_on(LocalKind::Docker);
    let scenario = scenarios::load(&scenarios::workspace_root().join("scenarios/database.yaml"));
    let app = scenario_settings(&scenario, &options)
        .unwrap()
        .settings
        .app_name;
    // Labelled exactly as a harness run labels its network, by a run that
    // died an hour ago.
    let dead = unique_env_name("deadrun");
    let names = EnvNames::new(app, dead.clone());
    let dead_run = RunTags {
        run_id: dead.to_string(),
        expires: SystemTime::now() - Duration::from_secs(3600),
        kept: None,
    };
    let leftover = Arc::new(StuckLeftover {
        network: names.resource(Group::NETWORK),
        bystander: format!("argos-bystander-{dead}"),
    });
    let mut create = vec!["network".to_owned(), "create".to_owned()];
    for tag in names.tags(&Group::NETWORK).iter().chain(&dead_run.tags()) {
        create.extend(["--label".to_owned(), format!("{}={}", tag.key, tag.value)]);
    }
    create.push(leftover.network.clone());
    docker(&create.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    docker(&[
        "run",
        "-d",
        "--name",
        &leftover.bystander,
        "--label",
        "argos-test=bystander",
        "--network",
        &leftover.network,
        argos_cloud::backend::containers::HOST_IMAGE,
        "sleep",
        "infinity",
    ])
    .unwrap();

    // Once the create step is over, the leftover has done its part: it goes
    // at once, so other runs on this engine never meet it. Whether the
    // stranger's container was still running then is recorded.
    let survived = Arc::new(Mutex::new(None));
    let (watch, seen) = (Arc::clone(&leftover), Arc::clone(&survived));
    options.progress = Progress::new(move |stamped| {
        eprintln!("[{:>6.1}s] {}", stamped.at, stamped.event);
        let converging =
            matches!(&stamped.event, Event::StepStarted { step, .. } if step == "converge");
        if converging && seen.lock().unwrap().is_none() {
            let running = docker(&["inspect", "-f", "{{.State.Running}}", &watch.bystander]);
            *seen.lock().unwrap() = Some(running);
            watch.remove();
        }
    });
    let report = scenarios::run_with(&scenario, &options).await;
    leftover.remove();
    assert!(report.passed(), "{report}");
    let created = match &report.step(Step::Create).unwrap().outcome {
        Outcome::Passed(text) => text.clone(),
        other => panic!("create: {other:?}"),
    };
    for expected in [
        "kept 1 that could not be removed".to_owned(),
        format!("network {}", leftover.network),
        format!(
            "docker network disconnect -f {} {} && docker network rm {}",
            leftover.network, leftover.bystander, leftover.network
        ),
    ] {
        assert!(
            created.contains(&expected),
            "{expected:?} not in:\n{created}"
        );
    }
    assert_eq!(
        survived.lock().unwrap().clone(),
        Some(Ok("true".to_owned())),
        "the stranger's container must be left running"
    );
}
