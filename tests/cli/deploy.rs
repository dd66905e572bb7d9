//! The Ansible runner with real `ansible-playbook`, on this machine through
//! Ansible's local connection: converge, converge again with no change, and
//! a failing task named with its host and message. And `deploy` through the
//! CLI on a Docker environment, stopped by Ctrl-C while Ansible runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use argos_cloud::converge::deploy::{self, DeployRequest, HostKeys, Playbooks};
use argos_cloud::converge::inventory::{DatabaseEndpoint, Expect, Host, Inventory};
use argos_cloud::model::names::{AppName, EnvName, EnvNames, Group};
use argos_cloud::model::project::Project;
use argos_cloud::sys::progress::Progress;
use serde_json::json;

use crate::argos;
use crate::support::{Running, TempProject, ansible, argos_command, docker_here, sample_topology};

fn group(name: &str) -> Group {
    Group::new(name).unwrap()
}

const APP_PLAYBOOK: &str = r#"---
- name: Runner test app
  hosts: app
  gather_facts: false
  tasks:
    - name: Write a marker
      ansible.builtin.copy:
        dest: "{{ marker_dir }}/marker"
        content: "converged\n"
        mode: "0644"
"#;

const FAILING_PLAYBOOK: &str = r#"---
- name: Runner test knowledge
  hosts: knowledge
  gather_facts: false
  tasks:
    - name: Refuse
      ansible.builtin.fail:
        msg: "the knowledge host refuses: {{ reason }}"
"#;

fn local_host(name: &str, group: Group) -> Host {
    let mut vars = BTreeMap::new();
    vars.insert("ansible_connection".to_owned(), "local".to_owned());
    vars.insert(
        "ansible_python_interpreter".to_owned(),
        "/usr/bin/python3".to_owned(),
    );
    Host {
        groups: Vec::new(),
        name: name.to_owned(),
        group,
        address: "127.0.0.1".into(),
        port: 22,
        user: "root".into(),
        private_address: "127.0.0.1".into(),
        vars,
    }
}

fn project_with_playbooks(dir: &Path) -> Project {
    // No callback plugin of its own: the engine brings it.
    let playbooks = dir.join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::create_dir_all(dir.join("formations")).unwrap();
    std::fs::write(playbooks.join("app.yml"), APP_PLAYBOOK).unwrap();
    std::fs::write(playbooks.join("knowledge.yml"), FAILING_PLAYBOOK).unwrap();
    Project::open(dir).unwrap()
}

#[test]
fn converges_then_changes_nothing_then_names_a_failing_task() {
    let Some(ansible) = ansible() else { return };
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_playbooks(dir.path());
    let names = EnvNames::new(
        AppName::new("argos").unwrap(),
        EnvName::new("runner").unwrap(),
    );
    let inventory = Inventory::new(
        names,
        vec![
            local_host("app-local", group("app")),
            local_host("knowledge-local", group("knowledge")),
        ],
        vec![DatabaseEndpoint {
            group: group("database"),
            address: "db.invalid".into(),
            port: 5432,
        }],
        Expect::environment(&sample_topology(false)),
    )
    .unwrap();
    let marker_dir = dir.path().join("out");
    std::fs::create_dir_all(&marker_dir).unwrap();
    let (progress, lines) = Progress::collect();
    let topology = sample_topology(false);
    let request = |roles: &[&str]| DeployRequest {
        project: &project,
        inventory: &inventory,
        topology: &topology,
        playbooks: Playbooks::roles(roles),
        roles_path: Vec::new(),
        collections_path: Vec::new(),
        environment: Vec::new(),
        extra_vars: json!({"marker_dir": marker_dir.display().to_string(), "reason": "because"})
            .as_object()
            .unwrap()
            .clone(),
        host_keys: HostKeys::Record(dir.path().join("known_hosts")),
        log_dir: dir.path().join("logs"),
        reach_timeout: Duration::from_secs(5),
        strategy: Default::default(),
        masters: None,
        progress: progress.clone(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let first = runtime
        .block_on(deploy::deploy(&ansible, &request(&["app"])))
        .unwrap();
    assert!(first.succeeded(), "{first}");
    assert_eq!(first.playbooks[0].hosts["app-local"].changed, 1, "{first}");
    assert!(marker_dir.join("marker").is_file());
    assert!(
        lines.lock().unwrap().iter().any(|s| matches!(
            &s.event,
            argos_cloud::sys::progress::Event::AnsibleOutput { line, .. }
                if line.contains("TASK [Write a marker]")
        )),
        "task progress is streamed"
    );

    let second = runtime
        .block_on(deploy::deploy(&ansible, &request(&["app"])))
        .unwrap();
    assert!(second.succeeded(), "{second}");
    assert_eq!(
        second.changed(),
        0,
        "the second run changes nothing: {second}"
    );

    let failed = runtime
        .block_on(deploy::deploy(&ansible, &request(&["knowledge", "app"])))
        .unwrap();
    assert!(!failed.succeeded());
    assert_eq!(
        failed.playbooks.len(),
        1,
        "deploy stops at the first failing playbook (knowledge runs before app)"
    );
    let failure = &failed.playbooks[0].failures[0];
    assert_eq!(failure.host, "knowledge-local");
    assert_eq!(failure.task, "Refuse");
    assert_eq!(failure.message, "the knowledge host refuses: because");
    let text = failed.to_string();
    assert!(
        text.contains(
            "FAILED knowledge-local: task \"Refuse\": the knowledge host refuses: because"
        ),
        "{text}"
    );
    let log = std::fs::read_to_string(&failed.playbooks[0].log).unwrap();
    assert!(log.contains("PLAY RECAP"), "the full output is kept: {log}");
}

#[test]
fn unknown_roles_and_missing_playbooks_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_playbooks(dir.path());
    let names = EnvNames::new(
        AppName::new("argos").unwrap(),
        EnvName::new("runner").unwrap(),
    );
    let inventory = Inventory::new(
        names,
        vec![
            local_host("knowledge-local", group("knowledge")),
            local_host("broker-local", group("broker")),
        ],
        vec![DatabaseEndpoint {
            group: group("database"),
            address: "db.invalid".into(),
            port: 5432,
        }],
        Expect::environment(&sample_topology(true)),
    )
    .unwrap();
    let error = deploy::playbooks(
        &project,
        &inventory,
        &sample_topology(true),
        &Playbooks::roles(&["frontend"]),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown role \"frontend\": the roles are database, knowledge"),
        "{error}"
    );
    let error = deploy::playbooks(
        &project,
        &inventory,
        &sample_topology(true),
        &Playbooks::all(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("has no playbook broker.yml"),
        "{error}"
    );
}

#[test]
fn an_unreachable_host_is_named_before_ansible_runs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A port nothing listens on.
    let error = runtime
        .block_on(deploy::probe_ssh("127.0.0.1:9", Duration::from_millis(600)))
        .unwrap_err();
    assert!(error.contains("gave up after"), "{error}");
}

/// An operator's Docker environment, decommissioned when the test ends.
struct OperatorEnv<'a> {
    project: &'a TempProject,
    env: String,
}

impl Drop for OperatorEnv<'_> {
    fn drop(&mut self) {
        let _ = argos(self.project)
            .args(["--backend", "docker", &self.env, "decommission"])
            .output();
    }
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    /// Ctrl-C to `deploy` while ansible-playbook converges a host: exit 130
    /// within seconds, and neither ansible-playbook, nor its workers, nor their
    /// ssh (connection masters included) outlive argos-cloud.
    #[test]
    fn sigint_to_deploy_ends_ansible_and_its_ssh() {
        if !docker_here() || ansible().is_none() {
            return;
        }
        let project = TempProject::runnable();
        let env = OperatorEnv {
            project: &project,
            env: format!("sigdeploy-{:x}", std::process::id()),
        };
        argos(&project)
            .args(["--backend", "docker", &env.env, "commission"])
            .assert()
            .success();
        let mut command = argos_command(&project.root());
        command.args([
            "--backend",
            "docker",
            &env.env,
            "deploy",
            "--roles",
            "knowledge",
        ]);
        let mut deploy = Running::start(command);
        deploy.wait_for_ansible("TASK [knowledge", Duration::from_secs(300));
        assert!(
            deploy
                .children()
                .iter()
                .any(|p| p.command.contains("ansible-playbook")),
            "ansible-playbook runs: {:?}",
            deploy.children()
        );
        deploy.stops_on("INT", &format!("argos-{}", env.env));
    }
}
