//! Scenario timings, as figures and ratios measured in the same run:
//! `steps`: each step of the app scenario; `parallel`: four scenarios in
//! parallel against the same four one after another; `backends`: the
//! database scenario on Vagrant (docker provider) against Docker, per step;
//! `bake`: a first and a second environment of the unchanged image role,
//! the second rebaking nothing (`bake.rs`); `molecule`: Molecule,
//! argos-cloud and the bare floor on the same role (`molecule/mod.rs`;
//! needs `.venv-molecule`, see docs/src/performance.md).
//! `cargo bench -p argos-harness --bench scenarios [-- SECTION...]` (all
//! sections by default; needs Docker, Vagrant and .venv, as the roles suite
//! does). Prints figures; asserts nothing about speed.

use std::time::Instant;

use argos_cloud::backend::choose::{BackendChoice, LocalKind};
use argos_cloud::scenario::report::ScenarioReport;
use argos_harness::scenarios;

mod bake;
mod molecule;

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
    run_on(file, scenarios::backend()).await
}

async fn run_on(file: &str, backend: LocalKind) -> ScenarioReport {
    let path = scenarios::workspace_root().join("scenarios").join(file);
    let scenario = scenarios::load(&path);
    let mut options = scenarios::options();
    options.backend = BackendChoice::Local(backend);
    options.progress = argos_cloud::sys::progress::Progress::silent();
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
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |section: &str| asked.is_empty() || asked.iter().any(|a| a == section);
    if wanted("steps") {
        steps().await;
    }
    if wanted("parallel") {
        parallel().await;
    }
    if wanted("backends") && scenarios::available(LocalKind::Vagrant) {
        backends().await;
    }
    if wanted("bake") {
        tokio::task::block_in_place(bake::section);
    }
    if wanted("molecule") {
        molecule::section().await;
    }
}

async fn steps() {
    println!("app scenario, per step:");
    print_steps(&run("app.yaml").await);
}

async fn parallel() {
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

async fn backends() {
    let docker = run_on("database.yaml", LocalKind::Docker).await;
    let vagrant = run_on("database.yaml", LocalKind::Vagrant).await;
    println!("database scenario, per step: docker, vagrant (docker provider), vagrant/docker");
    for (d, v) in docker.steps.iter().zip(&vagrant.steps) {
        println!(
            "  {:<12} {:>7.1} s {:>7.1} s {:>6.2}",
            d.step.as_str(),
            d.duration.as_secs_f64(),
            v.duration.as_secs_f64(),
            v.duration.as_secs_f64() / d.duration.as_secs_f64().max(0.001)
        );
    }
    println!(
        "  {:<12} {:>7.1} s {:>7.1} s {:>6.2} ({}, {})",
        "total",
        docker.total().as_secs_f64(),
        vagrant.total().as_secs_f64(),
        vagrant.total().as_secs_f64() / docker.total().as_secs_f64(),
        if docker.passed() { "passed" } else { "FAILED" },
        if vagrant.passed() { "passed" } else { "FAILED" }
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
