//! `--backend docker`: one network and one systemd host container per group
//! on the local Docker engine, with stand-ins for what needs the internet.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use argos_cloud::cli::{Cli, Command};
use argos_cloud::deploy::{self, AnsiblePlaybook, DeployRequest, HostKeys};
use argos_cloud::docker::DockerBackend;
use argos_cloud::inventory::Expect;
use argos_cloud::names::{EnvName, Group};
use argos_cloud::probe::{self, DatabaseLogin};
use argos_cloud::progress::Progress;
use argos_cloud::project::Project;
use argos_cloud::settings;

use crate::{not_built, overrides};

/// The Docker backend: local hosts, with stand-ins for what needs the internet.
pub fn command(cli: &Cli, project: &Project, env: &str) -> Result<ExitCode, String> {
    let loaded = settings::load(project, &overrides(cli)?).map_err(|e| e.to_string())?;
    let env = EnvName::new(env).map_err(|e| e.to_string())?;
    let backend = DockerBackend {
        project: project.clone(),
        settings: loaded.settings,
        progress: Progress::stderr(),
        run: None,
    };
    let fail = |e: argos_cloud::docker::DockerError| e.to_string();
    match &cli.command {
        Command::Commission { .. } => {
            let mut groups = vec![Group::Database, Group::Knowledge, Group::App];
            if backend.settings.sizes.tasks_enabled {
                groups.extend([Group::Broker, Group::Worker]);
            }
            backend.commission(&env, &groups).map_err(fail)?;
            println!("commissioned {} on docker", backend.names(&env).stack());
        }
        Command::Decommission { .. } => {
            let removed = backend.decommission(&env).map_err(fail)?;
            println!(
                "decommissioned {} ({removed} container(s))",
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
                for c in &status {
                    println!(
                        "  {:<36} {:<10} {:<10} {}",
                        c.name,
                        c.group,
                        c.state,
                        c.address.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        Command::Inventory { host, .. } => {
            let inventory = backend
                .inventory(
                    &env,
                    Expect::environment(backend.settings.sizes.tasks_enabled),
                )
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
                .inventory(
                    &env,
                    Expect::environment(backend.settings.sizes.tasks_enabled),
                )
                .map_err(fail)?;
            let ansible = AnsiblePlaybook::locate(project).map_err(|e| e.to_string())?;
            let extra_vars = argos_cloud::docker::with_standins(overrides(cli)?.extra_vars());
            let request = DeployRequest {
                project,
                inventory: &inventory,
                roles: roles.clone(),
                extra_vars,
                host_keys: HostKeys::Accept,
                log_dir: project.path(".argos/logs"),
                reach_timeout: Duration::from_secs(120),
                progress: backend.progress.clone(),
            };
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let report = runtime
                .block_on(deploy::deploy(&ansible, &request))
                .map_err(|e| e.to_string())?;
            print!("{report}");
            if !report.succeeded() {
                return Err(format!("deploy to {} failed", backend.names(&env).stack()));
            }
        }
        Command::Check => {
            let inventory = backend.inventory(&env, Expect::groups(&[])).map_err(fail)?;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let results = runtime.block_on(probe::check(
                &inventory,
                DatabaseLogin::of(&backend.settings.database),
                HostKeys::Accept,
                Duration::from_secs(20),
            ))?;
            println!("{}", probe::verdict(&results)?);
        }
        Command::Sweep { run, yes } => {
            if *yes {
                let report = backend
                    .sweep(run.as_deref(), SystemTime::now())
                    .map_err(fail)?;
                for object in &report.removed {
                    println!("removed {object}");
                }
                println!(
                    "sweep: removed {} object(s); {} of live runs kept",
                    report.removed.len(),
                    report.kept
                );
            } else {
                let now = SystemTime::now();
                let all = backend.labelled(run.as_deref()).map_err(fail)?;
                for object in &all {
                    let state = if run.is_some() || object.expired(now) {
                        "would remove"
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
            }
        }
        Command::Update | Command::Clean { .. } => {
            return Ok(not_built(
                &format!("`{}` on docker", cli.command.name()),
                "no issue yet: hosts on docker are throwaway, so decommission and commission again",
            ));
        }
        other => unreachable!("{} is not a backend command", other.name()),
    }
    Ok(ExitCode::SUCCESS)
}
