//! Scenario timings: each step of the app scenario, then four scenarios run
//! in parallel against the same four one after another, as a ratio measured
//! in the same run. `cargo bench -p argos-harness --bench scenarios`
//! (needs Docker and .venv, as the roles suite does). Prints figures; asserts
//! nothing about speed.

use std::time::Instant;

use argos_cloud::scenario::report::ScenarioReport;
use argos_harness::scenarios;

fn print_steps(report: &ScenarioReport) {
    for step in &report.steps {
        println!(
            "  {:<12} {:>7.1} s",
            step.step.as_str(),
            step.duration.as_secs_f64()
        );
    }
    println!(
        "  {:<12} {:>7.1} s ({})",
        "total",
        report.total().as_secs_f64(),
        if report.passed() { "passed" } else { "FAILED" }
    );
}

async fn run(file: &str) -> ScenarioReport {
    let path = scenarios::workspace_root().join("scenarios").join(file);
    let scenario = scenarios::load(&path);
    let mut options = scenarios::options();
    options.progress = argos_cloud::progress::Progress::silent();
    match argos_cloud::scenario::run::run(&scenario, &options).await {
        Ok(report) => report,
        Err(e) => panic!("{file}: {e}"),
    }
}

#[tokio::main]
async fn main() {
    if !scenarios::backend_available() {
        return;
    }
    println!("app scenario, per step:");
    print_steps(&run("app.yaml").await);

    let four = [
        "knowledge.yaml",
        "broker.yaml",
        "database.yaml",
        "image.yaml",
    ];
    let started = Instant::now();
    for file in four {
        let report = run(file).await;
        println!("{file} alone: {:.1} s", report.total().as_secs_f64());
    }
    let sequential = started.elapsed();
    let started = Instant::now();
    let reports = futures_join(four).await;
    let parallel = started.elapsed();
    for (file, report) in four.iter().zip(&reports) {
        println!("{file} in parallel: {:.1} s", report.total().as_secs_f64());
    }
    println!(
        "4 scenarios: one after another {:.1} s, in parallel {:.1} s: parallel/sequential = {:.2}",
        sequential.as_secs_f64(),
        parallel.as_secs_f64(),
        parallel.as_secs_f64() / sequential.as_secs_f64()
    );
}

async fn futures_join(files: [&'static str; 4]) -> Vec<ScenarioReport> {
    let handles: Vec<_> = files
        .into_iter()
        .map(|file| tokio::spawn(run(file)))
        .collect();
    let mut reports = Vec::new();
    for handle in handles {
        reports.push(handle.await.expect("a scenario task"));
    }
    reports
}
