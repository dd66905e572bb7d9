//! Each role's playbook converged on real hosts (systemd containers reached
//! over SSH, as on EC2) twice: the first run changes things and fails
//! nothing, the second changes nothing. The app's health endpoint then proves
//! app → database and app → knowledge (SPARQL and NER) for real.

use std::time::Duration;

use argos_cloud::deploy::DeployReport;
use argos_cloud::names::Group;
use argos_harness::DockerEnvironment;

/// Docker must be here; under CI its absence is a failure, not a skip.
fn docker_available() -> bool {
    let ok = std::process::Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have a running Docker engine"
        );
        eprintln!("SKIPPED: Docker is not available here (docker info failed)");
    }
    ok
}

fn converged(report: &DeployReport, what: &str) {
    assert!(
        report.succeeded(),
        "{what}: first converge failed:\n{report}"
    );
    assert!(
        report.changed() > 0,
        "{what}: the first converge changed nothing:\n{report}"
    );
}

fn idempotent(report: &DeployReport, what: &str) {
    assert!(
        report.succeeded(),
        "{what}: second converge failed:\n{report}"
    );
    assert_eq!(
        report.changed(),
        0,
        "{what}: the second converge changed something:\n{report}"
    );
}

async fn converge_twice(env: &DockerEnvironment, role: &str) {
    converged(&env.deploy(&[role]).await.unwrap(), role);
    idempotent(&env.deploy(&[role]).await.unwrap(), role);
}

#[tokio::test]
async fn the_database_role_converges_then_changes_nothing() {
    if !docker_available() {
        return;
    }
    let env = DockerEnvironment::create("database", &[Group::Database]).unwrap();
    converge_twice(&env, "database").await;
}

#[tokio::test]
async fn the_knowledge_role_converges_then_changes_nothing() {
    if !docker_available() {
        return;
    }
    let env = DockerEnvironment::create("knowledge", &[Group::Knowledge]).unwrap();
    converge_twice(&env, "knowledge").await;
}

#[tokio::test]
async fn the_broker_role_converges_then_changes_nothing() {
    if !docker_available() {
        return;
    }
    let env = DockerEnvironment::create("broker", &[Group::Broker]).unwrap();
    converge_twice(&env, "broker").await;
}

#[tokio::test]
async fn the_app_role_converges_and_reaches_the_database_and_the_knowledge_host() {
    if !docker_available() {
        return;
    }
    let env =
        DockerEnvironment::create("app", &[Group::Database, Group::Knowledge, Group::App]).unwrap();
    converged(
        &env.deploy(&["database", "knowledge"]).await.unwrap(),
        "database and knowledge",
    );
    converge_twice(&env, "app").await;

    let inventory = env.inventory().unwrap();
    let app = inventory
        .hosts
        .iter()
        .find(|h| h.group == Group::App)
        .unwrap();
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .get(format!("http://{}/health", app.address))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "app /health: {body}");
    for check in ["db", "sparql", "ner"] {
        assert!(
            body.contains(check),
            "/health names the {check} check: {body}"
        );
    }
}

#[tokio::test]
async fn the_worker_role_converges_against_a_real_broker_then_changes_nothing() {
    if !docker_available() {
        return;
    }
    let groups = [
        Group::Database,
        Group::Knowledge,
        Group::Broker,
        Group::Worker,
    ];
    let env = DockerEnvironment::create("worker", &groups).unwrap();
    converged(
        &env.deploy(&["database", "knowledge", "broker"])
            .await
            .unwrap(),
        "database, knowledge and broker",
    );
    converge_twice(&env, "worker").await;
}

#[tokio::test]
async fn the_image_role_converges_then_changes_nothing() {
    if !docker_available() {
        return;
    }
    let env = DockerEnvironment::create("image", &[Group::Image]).unwrap();
    converge_twice(&env, "image").await;
}
