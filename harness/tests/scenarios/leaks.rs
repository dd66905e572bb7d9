//! Nothing is left behind after a panic in the middle of a scenario: the
//! guard's drop removes containers, network and volumes. (SIGINT and
//! SIGKILL of a running `argos-cloud scenario run` are tested against the
//! binary, in tests/cli/scenario.rs.)

use std::time::{Duration, SystemTime};

use argos_cloud::docker::DockerBackend;
use argos_cloud::names::{Group, RunTags};
use argos_cloud::progress::Progress;
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::run::{scenario_settings, unique_env_name};
use argos_harness::scenarios::{self, docker_available};

#[test]
fn a_panic_mid_scenario_leaves_nothing_behind() {
    scenarios::backend();
    if !docker_available() {
        return;
    }
    let options = scenarios::options();
    let scenario = scenarios::load(&scenarios::workspace_root().join("scenarios/database.yaml"));
    let settings = scenario_settings(&scenario, &options).unwrap().settings;
    let env = unique_env_name("panic");
    let backend = DockerBackend {
        project: options.project.clone(),
        settings,
        progress: Progress::stderr(),
        run: Some(RunTags::new(env.as_str(), Duration::from_secs(3600))),
    };
    let observer = backend.clone();
    let run_id = env.to_string();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let guard = EnvironmentGuard::new(backend, env, false);
        guard
            .backend()
            .commission(guard.env(), &[Group::Database, Group::Knowledge])
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
