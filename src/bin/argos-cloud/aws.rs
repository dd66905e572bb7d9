//! `--backend aws` (the default): CloudFormation stacks, EC2 and RDS, or an
//! emulator with --endpoint.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use argos_cloud::backend::aws::data_plane::DataPlane;
use argos_cloud::backend::aws::{AwsBackend, Decommissioned, Provisioner, SweepFilter, Updated};
use argos_cloud::cfn::template::Formations;
use argos_cloud::cfn::validate;
use argos_cloud::cli::{Cli, Command};
use argos_cloud::converge::deploy::{
    self, AnsiblePlaybook, DeployRequest, HostKeys, Playbooks, known_hosts_file, remove_known_hosts,
};
use argos_cloud::converge::inventory::Expect;
use argos_cloud::model::names::{EnvName, EnvNames};
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Settings};
use argos_cloud::probe::{self, DatabaseLogin};

use crate::{confirm, overrides};

/// Settings, names and formations, all checked before any API call.
fn checked_inputs(
    cli: &Cli,
    project: &Project,
    env: &str,
) -> Result<(Settings, EnvNames, Formations), String> {
    let env = EnvName::new(env).map_err(|e| e.to_string())?;
    let loaded =
        settings::load(project, &overrides(cli)?, Some(&env)).map_err(|e| e.to_string())?;
    for notice in &loaded.notices {
        eprintln!("note: {notice}");
    }
    let names = EnvNames::new(loaded.settings.app_name.clone(), env);
    let formations = Formations::load(project).map_err(|e| e.to_string())?;
    validate::preflight(project, &formations, &loaded.settings, &names).map_err(|problems| {
        format!(
            "the formations or settings are not ready:\n  {}",
            problems.join("\n  ")
        )
    })?;
    Ok((loaded.settings, names, formations))
}

pub fn command(cli: &Cli, project: &Project, env: &str) -> Result<ExitCode, String> {
    let (settings, names, formations) = checked_inputs(cli, project, env)?;
    let options = argos_cloud::backend::aws::options(&settings.region, cli.endpoint.clone());
    confirm_first(&cli.command, &names)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    // Ctrl-C drops the command; the engine's guards delete what it had
    // started and not finished (a bake instance, a half-made stack).
    let outcome = runtime.block_on(argos_cloud::sys::signal::until_signal(async {
        let mut backend = AwsBackend::new(
            argos_cloud::backend::aws::Aws::connect(&options).await,
            settings,
            formations,
            cli.progress(),
        );
        // Stand-in hosts for an emulator's machines, only when asked for:
        // an operator's command has no Docker-side effects otherwise.
        if cli.data_plane_choice() == Some(true) {
            backend.data_plane = Some(DataPlane::for_emulator(
                cli.endpoint.as_deref(),
                project,
                &backend.settings,
                &backend.progress,
                None,
            )?);
        }
        // What Ansible sees: on stand-in hosts, the stand-ins for what
        // needs the internet.
        let extra_vars = match &backend.data_plane {
            Some(plane) => plane.ansible_vars(backend.settings.override_vars()),
            None => backend.settings.override_vars(),
        };
        let may_bake = matches!(cli.command, Command::Commission { .. } | Command::Update);
        if may_bake && backend.data_plane().is_ok() {
            // Checked before anything is made: a bake runs the image playbook.
            let provisioner = Provisioner::for_project(
                project,
                extra_vars.clone(),
                backend.settings.ansible_strategy,
            )
            .map_err(|e| format!("{} bakes the image with Ansible: {e}", cli.command.name()))?;
            backend.provisioner = Some(provisioner);
        }
        let env = &names.env;
        let fail = |e: argos_cloud::backend::aws::EngineError| e.to_string();
        match &cli.command {
            Command::Commission { keep } => {
                let stack = backend.commission(env, *keep).await.map_err(fail)?;
                println!("commissioned {} ({})", stack.name, stack.status);
                for (key, value) in &stack.outputs {
                    println!("  {key:<24} {value}");
                }
            }
            Command::Update => match backend.update(env).await.map_err(fail)? {
                Updated::Changed(stack) => println!("updated {} ({})", stack.name, stack.status),
                Updated::NoChanges => println!("{}: no changes to make", names.stack()),
            },
            Command::Decommission { delete_image, .. } => {
                match backend.decommission(env).await.map_err(fail)? {
                    Decommissioned::Deleted { stack } => {
                        // Its hosts are gone; new ones will have new keys.
                        remove_known_hosts(&known_hosts_file(project, &stack));
                        println!("decommissioned {stack}")
                    }
                    Decommissioned::NotFound { stack } => {
                        println!("{stack} does not exist: nothing to delete")
                    }
                }
                if *delete_image {
                    let report = backend.clean().await.map_err(fail)?;
                    println!(
                        "deleted {} image(s), {} snapshot(s)",
                        report.images.len(),
                        report.snapshots.len()
                    );
                }
            }
            Command::Clean { .. } => {
                let report = backend.clean().await.map_err(fail)?;
                println!(
                    "clean: {} image(s), {} snapshot(s), {} instance(s){}",
                    report.images.len(),
                    report.snapshots.len(),
                    report.instances.len(),
                    if report.stack_deleted {
                        ", and a leftover bake stack"
                    } else {
                        ""
                    }
                );
            }
            Command::Status { json } => {
                let status = backend.status(env).await.map_err(fail)?;
                if *json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&status).map_err(|e| e.to_string())?
                    );
                } else {
                    print!("{status}");
                }
            }
            Command::Sweep { run, yes } => {
                let filter = SweepFilter {
                    run: run.clone(),
                    now: SystemTime::now(),
                    kinds: None,
                };
                let report = backend.sweep(&filter, *yes).await.map_err(fail)?;
                print!("{report}");
                if report.failures() > 0 {
                    return Err(format!("sweep: {} deletion(s) failed", report.failures()));
                }
                if let Some(plane) = &backend.data_plane {
                    sweep_stand_ins(&backend, plane, run.as_deref(), *yes).await?;
                }
            }
            Command::Inventory { list: _, host } => {
                let inventory = environment_inventory(&backend, project, &names).await?;
                let answer = match host {
                    Some(host) => inventory.host(host),
                    None => inventory.list(),
                };
                println!(
                    "{}",
                    serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
                );
            }
            Command::Deploy { roles } => {
                needs_hosts(&backend, "deploy")?;
                let inventory = environment_inventory(&backend, project, &names).await?;
                let ansible = AnsiblePlaybook::locate(project).map_err(|e| e.to_string())?;
                let request = DeployRequest {
                    project,
                    inventory: &inventory,
                    topology: &backend.settings.topology,
                    playbooks: Playbooks::Roles(roles.clone()),
                    roles_path: Vec::new(),
                    collections_path: Vec::new(),
                    environment: Vec::new(),
                    extra_vars,
                    host_keys: HostKeys::Record(known_hosts_file(project, &names.stack())),
                    log_dir: project.path(".argos/logs"),
                    reach_timeout: Duration::from_secs(300),
                    strategy: backend.settings.ansible_strategy,
                    masters: None,
                    progress: backend.progress.clone(),
                };
                let report = deploy::deploy(&ansible, &request)
                    .await
                    .map_err(|e| e.to_string())?;
                print!("{report}");
                if !report.succeeded() {
                    return Err(format!("deploy to {} failed", names.stack()));
                }
            }
            Command::Check => {
                needs_hosts(&backend, "check")?;
                let inventory = environment_inventory(&backend, project, &names).await?;
                let results = probe::check(
                    &inventory,
                    &backend.settings.topology,
                    argos_cloud::profile::argos::standard_expectations,
                    DatabaseLogin::of(&backend.settings),
                    HostKeys::Record(known_hosts_file(project, &names.stack())),
                    Duration::from_secs(60),
                    backend.progress.clone(),
                )
                .await
                .map_err(|e| e.to_string())?;
                println!("{}", probe::verdict(&results).map_err(|e| e.to_string())?);
            }
            other => unreachable!("{} is not an AWS command", other.name()),
        }
        Ok(ExitCode::SUCCESS)
    }));
    outcome.unwrap_or_else(|signal| {
        eprintln!(
            "argos-cloud: {} {env} interrupted by {signal}",
            cli.command.name()
        );
        Ok(ExitCode::from(130))
    })
}

/// Ask before what cannot be undone, before Ctrl-C is caught for a clean
/// stop: at the prompt it still just quits.
fn confirm_first(command: &Command, names: &EnvNames) -> Result<(), String> {
    match command {
        Command::Decommission { yes: false, .. } if names.env.looks_like_production() => confirm(
            names.env.as_str(),
            &format!("decommission {}", names.stack()),
        ),
        Command::Clean { yes: false } => {
            let image = names.app.image_name();
            confirm(
                &image,
                &format!("delete {image}, shared by every environment,"),
            )
        }
        _ => Ok(()),
    }
}

/// The stand-in hosts a sweep finds: listed, or with `yes` removed (this
/// emulator's whose machine is gone, and those of the run or expired).
async fn sweep_stand_ins(
    backend: &AwsBackend,
    plane: &DataPlane,
    run: Option<&str>,
    yes: bool,
) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| format!("sweep of the stand-in hosts: {e}");
    if !yes {
        for object in plane.docker.labelled(run).map_err(|e| error(&e))? {
            println!("  stand-in {} {}", object.kind, object.name);
        }
        return Ok(());
    }
    let instances = backend.aws.instances(&[]).await.map_err(|e| error(&e))?;
    let databases = backend.aws.db_instances().await.map_err(|e| error(&e))?;
    let report = plane
        .sweep(run, SystemTime::now(), &instances, &databases)
        .map_err(|e| error(&e))?;
    for object in &report.removed {
        println!("removed stand-in {} {}", object.kind, object.name);
    }
    for failure in &report.failed {
        println!("NOT removed stand-in {failure}");
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "sweep: {} stand-in(s) not removed",
            report.failed.len()
        ))
    }
}

/// `command` reaches hosts over SSH: refused where there are none to reach.
fn needs_hosts(backend: &AwsBackend, command: &str) -> Result<(), String> {
    backend.data_plane().map_err(|reason| {
        format!(
            "{command} needs hosts to reach over SSH: {reason}; use --data-plane (stand-in hosts), \
             --backend docker, or AWS"
        )
    })
}

/// The whole environment's inventory (every group it must have), as the
/// inventory, deploy and check commands see it.
async fn environment_inventory(
    backend: &AwsBackend,
    project: &Project,
    names: &EnvNames,
) -> Result<argos_cloud::converge::inventory::Inventory, String> {
    backend
        .inventory(
            project,
            names,
            Expect::environment(&backend.settings.topology),
        )
        .await
        .map_err(|e| e.to_string())
}
