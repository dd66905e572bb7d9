//! `argos-cloud`: a thin layer over the engine in the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{CommandFactory, Parser};

use argos_cloud::aws::{
    AwsBackend, AwsOptions, Decommissioned, SweepFilter, Timeouts, Updated, is_loopback,
};
use argos_cloud::cli::{BackendKind, Cli, Command};
use argos_cloud::deploy::{self, AnsiblePlaybook, DeployRequest, HostKeys};
use argos_cloud::docker::DockerBackend;
use argos_cloud::inventory::{self, Expect, Inventory};
use argos_cloud::names::{EnvName, EnvNames, Group};
use argos_cloud::progress::Progress;
use argos_cloud::project::Project;
use argos_cloud::settings::{self, Overrides, Settings};
use argos_cloud::template::Formations;
use argos_cloud::validate::{self, Lint};

/// Exit code of a command whose capability is not built yet.
const NOT_BUILT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("argos-cloud: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "argos-cloud",
            &mut std::io::stdout(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(env) = cli.env.as_deref() else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                format!(
                    "`{}` needs an environment first: argos-cloud <ENV> {}",
                    cli.command.name(),
                    cli.command.name()
                ),
            )
            .exit();
    };
    if let Some(capability) = cli.command.not_built_yet() {
        return Ok(not_built(&format!("`{}`", cli.command.name()), capability));
    }
    let project = Project::open(&cli.root).map_err(|e| e.to_string())?;
    match &cli.command {
        Command::Validate { no_lint } => {
            let overrides = overrides(&cli)?;
            let lint = if *no_lint {
                Lint::Never
            } else {
                Lint::IfInstalled
            };
            let report = validate::validate(&project, &overrides, env, lint);
            print!("{report}");
            if report.passed() {
                println!("validate: {env} passed");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("validate: {env} FAILED");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Template { image, compact } => {
            let formations = Formations::load(&project).map_err(|e| e.to_string())?;
            let template = if *image {
                &formations.image
            } else {
                &formations.environment
            };
            let text = if *compact {
                template.to_json()
            } else {
                template.to_pretty_json()
            };
            writeln!(std::io::stdout(), "{text}").map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        _ => match cli.backend {
            BackendKind::Aws => aws_command(&cli, &project, env),
            BackendKind::Docker => docker_command(&cli, &project, env),
            BackendKind::Vagrant => Ok(not_built("the vagrant backend", "issue #7")),
        },
    }
}

fn not_built(what: &str, capability: &str) -> ExitCode {
    eprintln!(
        "argos-cloud: {what} is not built yet; it arrives with {capability}. Working today: \
         validate, template, completions, and commission/update/decommission/clean/status/sweep \
         on --backend aws."
    );
    ExitCode::from(NOT_BUILT)
}

fn overrides(cli: &Cli) -> Result<Overrides, String> {
    let mut overrides = Overrides::from_process_env();
    for assignment in &cli.set {
        overrides.set(assignment).map_err(|e| e.to_string())?;
    }
    if let Some(region) = &cli.region {
        overrides.flag("region", region);
    }
    Ok(overrides)
}

/// Settings, names and formations, all checked before any API call.
fn checked_inputs(
    cli: &Cli,
    project: &Project,
    env: &str,
) -> Result<(Settings, EnvNames, Formations), String> {
    let loaded = settings::load(project, &overrides(cli)?).map_err(|e| e.to_string())?;
    for notice in &loaded.notices {
        eprintln!("note: {notice}");
    }
    let env = EnvName::new(env).map_err(|e| e.to_string())?;
    let names = EnvNames::new(loaded.settings.app_name.clone(), env);
    let formations = Formations::load(project).map_err(|e| e.to_string())?;
    validate::preflight(&formations, &loaded.settings, &names).map_err(|problems| {
        format!(
            "the formations or settings are not ready:\n  {}",
            problems.join("\n  ")
        )
    })?;
    Ok((loaded.settings, names, formations))
}

fn aws_command(cli: &Cli, project: &Project, env: &str) -> Result<ExitCode, String> {
    let (settings, names, formations) = checked_inputs(cli, project, env)?;
    let overrides = overrides(cli)?;
    let endpoint = cli.endpoint.clone().filter(|e| !e.is_empty());
    // An emulator on this machine takes any credentials; real AWS gets the
    // SDK's own chain (variables, profiles, SSO, instance roles).
    let emulator_credentials = endpoint.as_deref().is_some_and(is_loopback)
        && std::env::var_os("AWS_ACCESS_KEY_ID").is_none();
    let options = AwsOptions {
        region: settings.region.clone(),
        endpoint,
        emulator_credentials,
        timeouts: Default::default(),
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let backend = AwsBackend {
            aws: argos_cloud::aws::Aws::connect(&options).await,
            settings,
            formations,
            progress: Progress::stderr(),
            timeouts: Timeouts::default(),
            run: None,
        };
        let env = &names.env;
        let fail = |e: argos_cloud::aws::EngineError| e.to_string();
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
            Command::Decommission { yes, delete_image } => {
                if env.looks_like_production() && !yes {
                    confirm(env.as_str(), &format!("decommission {}", names.stack()))?;
                }
                match backend.decommission(env).await.map_err(fail)? {
                    Decommissioned::Deleted { stack } => println!("decommissioned {stack}"),
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
            Command::Clean { yes } => {
                let image = names.app.image_name();
                if !yes {
                    confirm(
                        &image,
                        &format!("delete {image}, shared by every environment,"),
                    )?;
                }
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
                };
                let report = backend.sweep(&filter, *yes).await.map_err(fail)?;
                print!("{report}");
                if report.failures() > 0 {
                    return Err(format!("sweep: {} deletion(s) failed", report.failures()));
                }
            }
            Command::Inventory { list: _, host } => {
                let inventory = aws_inventory(&backend, project, &names).await?;
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
                if backend.aws.endpoint().is_some_and(is_loopback) {
                    return Err(
                        "deploy needs hosts to reach, and the emulator has no data plane: \
                                use --backend docker (issue #5) or AWS"
                            .into(),
                    );
                }
                let inventory = aws_inventory(&backend, project, &names).await?;
                let ansible = AnsiblePlaybook::locate(project).map_err(|e| e.to_string())?;
                let extra_vars = overrides.extra_vars();
                let request = DeployRequest {
                    project,
                    inventory: &inventory,
                    roles: roles.clone(),
                    extra_vars,
                    host_keys: HostKeys::Record(
                        project.path(&format!(".argos/known_hosts/{}", names.stack())),
                    ),
                    log_dir: project.path(".argos/logs"),
                    reach_timeout: Duration::from_secs(300),
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
            other => unreachable!("{} is not an AWS command", other.name()),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The Docker backend: local hosts, with stand-ins for what needs the internet.
fn docker_command(cli: &Cli, project: &Project, env: &str) -> Result<ExitCode, String> {
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
        Command::Update | Command::Clean { .. } | Command::Sweep { .. } => {
            return Ok(not_built(
                &format!("`{}` on docker", cli.command.name()),
                "the roles harness (issue #5)",
            ));
        }
        other => unreachable!("{} is not a backend command", other.name()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The environment's hosts on AWS, each reached with `keys/<key_name>.pem`.
async fn aws_inventory(
    backend: &AwsBackend,
    project: &Project,
    names: &EnvNames,
) -> Result<Inventory, String> {
    let (instances, databases) = backend
        .inventory_sources(names)
        .await
        .map_err(|e| e.to_string())?;
    let (mut hosts, databases) = inventory::from_aws(
        names,
        &instances,
        &databases,
        &backend.settings.access.ssh_user,
    );
    let key = project.path(&format!("keys/{}.pem", backend.settings.access.key_name));
    for host in &mut hosts {
        host.vars.insert(
            "ansible_ssh_private_key_file".into(),
            key.display().to_string(),
        );
    }
    let expect = Expect::environment(backend.settings.sizes.tasks_enabled);
    Inventory::new(names.clone(), hosts, databases, expect).map_err(|e| e.to_string())
}

/// Ask the user to type `expected` before a destructive command; refuse when
/// nobody can answer.
fn confirm(expected: &str, action: &str) -> Result<(), String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "refusing to {action} without --yes (no terminal to confirm on)"
        ));
    }
    eprint!("About to {action}. Type {expected:?} to confirm: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    if answer.trim() == expected {
        Ok(())
    } else {
        Err("not confirmed; nothing was changed".into())
    }
}
