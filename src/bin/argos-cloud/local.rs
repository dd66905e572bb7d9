//! `--backend docker` and `--backend vagrant`: hosts on this machine (systemd
//! containers, or Vagrant machines), with stand-ins for what needs the
//! internet. Both speak the same [`Backend`] interface.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use argos_cloud::backend::choose::{self, LocalKind};
use argos_cloud::backend::containers::apt_cache::AptCache;
use argos_cloud::backend::{Backend, HostSpec};
use argos_cloud::cli::{Cli, Command};
use argos_cloud::converge::deploy::{
    self, AnsiblePlaybook, DeployRequest, HostKeys, Playbooks, known_hosts_file, remove_known_hosts,
};
use argos_cloud::converge::inventory::Expect;
use argos_cloud::model::names::EnvName;
use argos_cloud::model::project::Project;
use argos_cloud::model::settings;
use argos_cloud::probe::{self, DatabaseLogin};

use crate::{not_built, overrides};

/// A local backend: hosts on this machine, with stand-ins for what needs the internet.
pub fn command(
    cli: &Cli,
    kind: LocalKind,
    project: &Project,
    env: &str,
) -> Result<ExitCode, String> {
    let env = EnvName::new(env).map_err(|e| e.to_string())?;
    let loaded =
        settings::load(project, &overrides(cli)?, Some(&env)).map_err(|e| e.to_string())?;
    let extra_vars = loaded.settings.override_vars();
    let backend: Box<dyn Backend> = choose::local(
        kind,
        project.clone(),
        loaded.settings,
        cli.progress(),
        None,
        extra_vars.clone(),
    );
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    // Ctrl-C (or SIGTERM) ends the command at once, synchronous steps too:
    // the children in flight (vagrant, docker, ansible-playbook and their
    // ssh) are ended with their process groups, then exit 130.
    let outcome = runtime.block_on(argos_cloud::sys::signal::until_signal(run(
        cli,
        project,
        &env,
        backend.as_ref(),
    )));
    outcome.unwrap_or_else(|signal| {
        let command = cli.command.name();
        eprintln!("argos-cloud: {command} {env} interrupted by {signal}");
        if matches!(cli.command, Command::Commission { .. }) {
            eprintln!(
                "argos-cloud: what the commission made so far stays: \
                 `argos-cloud --backend {} {env} decommission` removes it",
                backend.kind()
            );
        }
        Ok(ExitCode::from(130))
    })
}

async fn run(
    cli: &Cli,
    project: &Project,
    env: &EnvName,
    backend: &dyn Backend,
) -> Result<ExitCode, String> {
    let env = env.clone();
    let kind = backend.kind();
    let fail = |e: argos_cloud::backend::BackendError| e.to_string();
    // Host keys are learnt on first contact and checked after; new hosts
    // (a commission that made them) and gone hosts (decommission) start the
    // file afresh. A commission refused because the environment exists
    // leaves its file as it is.
    let known_hosts = known_hosts_file(project, &backend.names(&env).stack());
    match &cli.command {
        Command::Commission { .. } => {
            // A host per group the settings' topology switches on.
            let topology = &backend.settings().topology;
            let hosts: Vec<HostSpec> = topology
                .environment_groups()
                .iter()
                .map(|g| HostSpec::for_group(g, topology))
                .collect();
            backend.commission(&env, &hosts).map_err(fail)?;
            remove_known_hosts(&known_hosts);
            println!("commissioned {} on {kind}", backend.names(&env).stack());
        }
        Command::Decommission { .. } => {
            let removed = backend.decommission(&env).map_err(fail)?;
            remove_known_hosts(&known_hosts);
            println!(
                "decommissioned {} ({removed} host(s))",
                backend.names(&env).stack()
            );
        }
        Command::Status { json } => {
            let status = backend.status(&env).map_err(fail)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&status).map_err(|e| e.to_string())?
                );
            } else {
                println!("hosts {}", status.len());
                print_machine_objects(backend)?;
                for host in &status {
                    println!(
                        "  {:<36} {:<10} {:<12} {:<15} {}",
                        host.name,
                        host.group,
                        host.state,
                        host.address.as_deref().unwrap_or("-"),
                        host.login
                    );
                }
                say_machine_cache();
            }
        }
        Command::Inventory { host, .. } => {
            let inventory = backend
                .inventory(&env, Expect::environment(&backend.settings().topology))
                .map_err(fail)?;
            let answer = host
                .as_deref()
                .map_or_else(|| inventory.list(), |h| inventory.host(h));
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
            );
        }
        Command::Deploy { roles } => {
            let inventory = backend
                .inventory(&env, Expect::environment(&backend.settings().topology))
                .map_err(fail)?;
            let ansible = AnsiblePlaybook::locate(project).map_err(|e| e.to_string())?;
            let extra_vars = argos_cloud::profile::argos::ansible_vars(
                backend.stands_in(),
                backend.settings().override_vars(),
            );
            let request = DeployRequest {
                project,
                inventory: &inventory,
                topology: &backend.settings().topology,
                playbooks: Playbooks::Roles(roles.clone()),
                roles_path: Vec::new(),
                collections_path: Vec::new(),
                environment: Vec::new(),
                extra_vars,
                host_keys: HostKeys::Record(known_hosts.clone()),
                log_dir: project.path(".argos/logs"),
                reach_timeout: Duration::from_secs(120),
                strategy: backend.settings().ansible_strategy,
                masters: None,
                progress: cli.progress(),
            };
            let report = deploy::deploy(&ansible, &request)
                .await
                .map_err(|e| e.to_string())?;
            print!("{report}");
            if !report.succeeded() {
                return Err(format!("deploy to {} failed", backend.names(&env).stack()));
            }
        }
        Command::Check => {
            let inventory = backend.inventory(&env, Expect::anything()).map_err(fail)?;
            let results = probe::check(
                &inventory,
                &backend.settings().topology,
                argos_cloud::profile::argos::standard_expectations,
                DatabaseLogin::of(backend.settings()),
                HostKeys::Record(known_hosts.clone()),
                Duration::from_secs(20),
                cli.progress(),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!("{}", probe::verdict(&results).map_err(|e| e.to_string())?);
        }
        Command::Sweep { run, yes } => {
            if *yes {
                let report = backend
                    .sweep(run.as_deref(), SystemTime::now())
                    .map_err(fail)?;
                for object in &report.removed {
                    println!("removed {object}");
                }
                for failure in &report.failed {
                    println!("NOT removed {failure}");
                }
                println!(
                    "sweep: removed {} object(s); {} of live runs kept",
                    report.removed.len(),
                    report.kept
                );
                say_kept_environments(&report.kept_environments);
                print_machine_objects(backend)?;
                say_machine_cache();
                if !report.failed.is_empty() {
                    return Err(format!(
                        "sweep: {} expired object(s) could not be removed (see above)",
                        report.failed.len()
                    ));
                }
            } else {
                let now = SystemTime::now();
                let all = backend.labelled(run.as_deref()).map_err(fail)?;
                for object in &all {
                    let state = if run.is_some() || object.sweepable(now) {
                        "would remove"
                    } else if object.kept().is_some() {
                        "kept (loop) "
                    } else {
                        "live, kept  "
                    };
                    println!("{state} {object}");
                }
                println!(
                    "sweep (dry run): {} harness object(s) found{}; --yes removes {}",
                    all.len(),
                    if run.is_some() { " for that run" } else { "" },
                    if run.is_some() {
                        "them"
                    } else {
                        "the expired ones"
                    }
                );
                say_kept_environments(&argos_cloud::backend::containers::kept_environments_of(
                    &all,
                ));
                print_machine_objects(backend)?;
                say_machine_cache();
            }
        }
        Command::Clean { .. } => {
            // The machine's own (baked images): made again when next needed.
            let removed = backend.clean().map_err(fail)?;
            for object in &removed {
                println!("removed {object}");
            }
            println!("clean: {} object(s) of the machine removed", removed.len());
        }
        Command::Update => {
            return Ok(not_built(
                &format!("`{}` on {kind}", cli.command.name()),
                "local hosts are throwaway, so decommission and commission again",
            ));
        }
        other => unreachable!("{} is not a backend command", other.name()),
    }
    Ok(ExitCode::SUCCESS)
}

/// What the machine keeps for every run (baked images): never a run's, so
/// no sweep removes it; `clean` does.
fn print_machine_objects(backend: &dyn Backend) -> Result<(), String> {
    let objects = backend.machine_objects().map_err(|e| e.to_string())?;
    for object in &objects {
        println!("machine's, kept: {object}");
    }
    if !objects.is_empty() {
        println!(
            "({} object(s) of the machine, shared by every run: `argos-cloud --backend {} ENV clean` removes them)",
            objects.len(),
            backend.kind()
        );
    }
    Ok(())
}

/// The machine's apt cache, where `status` and `sweep` list what exists:
/// named as the machine's, never a run's (no sweep removes it).
fn say_machine_cache() {
    let cache = AptCache::machine();
    match cache.describe() {
        Ok(Some(line)) => println!("{line}"),
        Ok(None) => {}
        Err(error) => println!("machine: apt cache {}: {error}", cache.name()),
    }
}

/// Kept environments of the development loop, listed apart: a sweep never
/// removes them (`argos-cloud destroy` does, or `sweep --run ID --yes`).
fn say_kept_environments(run_ids: &[String]) {
    if !run_ids.is_empty() {
        println!(
            "kept environments (argos-cloud list; argos-cloud destroy removes one): {}",
            run_ids.join(", ")
        );
    }
}
