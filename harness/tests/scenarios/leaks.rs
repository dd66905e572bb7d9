//! Nothing is left behind after a panic in the middle of a scenario: the
//! guard's drop removes containers, network and volumes. (SIGINT and
//! SIGKILL of a running `argos-cloud scenario run` are tested against the
//! binary, in tests/cli/scenario.rs.)

use std::time::{Duration, SystemTime};

use argos_cloud::names::{Group, RunTags};
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::run::unique_env_name;
use argos_harness::scenarios;

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
        let guard = EnvironmentGuard::new(backend, env, &run, false);
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
