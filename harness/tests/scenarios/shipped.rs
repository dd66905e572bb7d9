//! One test per file in `scenarios/`: all steps pass, every probe included.

use argos_harness::scenarios;

async fn passes(file: &str) {
    if !scenarios::backend_available() {
        return;
    }
    let path = scenarios::workspace_root().join("scenarios").join(file);
    let scenario = scenarios::load(&path);
    let report = scenarios::run_with(&scenario, &scenarios::options()).await;
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
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
