//! One test per file in `scenarios/`: all steps pass, every probe included.

use argos_cloud::scenario::Step;
use argos_cloud::scenario::report::Outcome;
use argos_harness::scenarios::{self, docker_available};

async fn passes(file: &str) {
    scenarios::backend();
    if !docker_available() {
        return;
    }
    let path = scenarios::workspace_root().join("scenarios").join(file);
    let scenario = scenarios::load(&path);
    let report = scenarios::run_with(&scenario, &scenarios::options()).await;
    assert!(report.passed(), "{report}");
    for step in &scenario.steps {
        let ran = report.step(*step).expect("every step is reported");
        assert!(
            matches!(ran.outcome, Outcome::Passed(_)),
            "{step}: {:?}",
            ran.outcome
        );
    }
    assert!(report.step(Step::Destroy).is_some());
}

macro_rules! shipped {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                passes($file).await;
            }
        )*

        const LISTED: &[&str] = &[$($file),*];
    };
}

shipped! {
    app => "app.yaml",
    broker => "broker.yaml",
    database => "database.yaml",
    full_stack => "full-stack.yaml",
    image => "image.yaml",
    knowledge => "knowledge.yaml",
    worker => "worker.yaml",
}

#[test]
fn every_shipped_scenario_has_a_test() {
    let files: Vec<String> = scenarios::shipped()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files, LISTED,
        "add the new scenario to the shipped! list in harness/tests/scenarios/shipped.rs"
    );
}
