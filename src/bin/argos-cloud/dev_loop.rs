//! `argos-cloud create|converge|idempotence|verify|login|destroy|list`:
//! the development loop on a scenario's kept environment, found by the
//! role's folder and scenario as `test` finds them.

use std::process::ExitCode;

use argos_cloud::backend::containers::kept_environments_here;
use argos_cloud::cli::{BackendKind, Cli, LoopArgs, MessageFormat};
use argos_cloud::model::project::Project;
use argos_cloud::scenario::dev_loop::{self, LoopCommand};
use argos_cloud::scenario::{self, Scenario, run};

use crate::scenario::{backend, say_notes};
use crate::test::{molecule_scenarios, project_for_role};

/// Run `command`'s steps on the kept environment of each scenario `args`
/// (and `all`) name.
pub fn command(
    cli: &Cli,
    command: LoopCommand,
    args: &LoopArgs,
    all: bool,
) -> Result<ExitCode, String> {
    let (project, mut scenarios) = scenarios(cli, args, all)?;
    let options = options(cli, &project, args, Some(command))?;
    if all {
        // Every kept one of the folder: the scenarios that have one.
        let kept = kept_environments_here().map_err(|e| e.to_string())?;
        scenarios.retain(|s| {
            let folder = dev_loop::kept_folder(s);
            kept.iter().any(|k| k.scenario == folder)
        });
        if scenarios.is_empty() {
            println!("no kept environments of {}", args.path.display());
        }
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut failed = Vec::new();
    for scenario in &scenarios {
        let outcome = runtime.block_on(argos_cloud::sys::signal::until_signal(run::run(
            scenario, &options,
        )));
        let report = match outcome {
            Err(signal) => {
                eprintln!(
                    "argos-cloud: {} of {} interrupted by {signal}; its environment is kept \
                     (`argos-cloud destroy` removes it)",
                    command.as_str(),
                    scenario.name
                );
                return Ok(ExitCode::from(130));
            }
            Ok(Err(error)) => return Err(format!("scenario {}: {error}", scenario.name)),
            Ok(Ok(report)) => report,
        };
        if cli.message_format == MessageFormat::Human {
            print!("{report}");
            if report.steps.is_empty() {
                println!(
                    "  (its kept environment {} stands already)",
                    report.environment
                );
            } else if command != LoopCommand::Destroy {
                println!(
                    "  kept: {}; go on with argos-cloud converge | idempotence | verify | \
                     login | destroy",
                    report.environment
                );
            }
        }
        if !report.passed() {
            failed.push(scenario.name.clone());
        }
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!(
            "{} failed: {}",
            command.as_str(),
            failed.join(", ")
        ))
    }
}

/// A shell on a host of the kept environment, or one command run there
/// (its exit status is ours): over SSH, with the environment's key and
/// the host keys it showed when it was made.
pub fn login(
    cli: &Cli,
    args: &LoopArgs,
    host: Option<&str>,
    command: Option<&str>,
) -> Result<ExitCode, String> {
    let (project, scenarios) = scenarios(cli, args, false)?;
    let scenario = scenarios.first().ok_or("no scenario")?;
    let options = options(cli, &project, args, None)?;
    let settings = run::scenario_settings(scenario, &options)
        .map_err(|e| e.to_string())?
        .settings;
    let env = dev_loop::kept_env_name(scenario);
    let backend = options
        .backend
        .build(
            project.clone(),
            settings,
            &env,
            cli.progress(),
            None,
            Default::default(),
        )
        .map_err(|e| e.to_string())?;
    let hosts = backend.status(&env).map_err(|e| e.to_string())?;
    if hosts.is_empty() {
        return Err(format!(
            "login: no kept environment for {} (`argos-cloud converge` makes one)",
            scenario.name
        ));
    }
    let names = backend.names(&env);
    let named = |h: &&argos_cloud::backend::HostStatus| match host {
        Some(host) => h.name == names.resource(host) || h.name == host,
        None => true,
    };
    let chosen: Vec<_> = hosts.iter().filter(named).collect();
    let [target] = chosen[..] else {
        let all: Vec<String> = hosts
            .iter()
            .map(|h| {
                h.name
                    .strip_prefix(&names.resource(""))
                    .unwrap_or(&h.name)
                    .to_owned()
            })
            .collect();
        return Err(format!(
            "login: {} host(s) match; name one with --host ({})",
            chosen.len(),
            all.join(", ")
        ));
    };
    // The backend's own login line: `ssh -i KEY USER@ADDRESS`, or
    // `docker exec -it NAME /bin/sh` for a host without sshd.
    let words: Vec<&str> = target.login.split_whitespace().collect();
    let mut login = match words.as_slice() {
        ["ssh", rest @ ..] => {
            let known_hosts = project.path(&format!(".argos/known_hosts/runs/{}", names.stack()));
            let mut ssh = std::process::Command::new("ssh");
            ssh.args(["-o", "StrictHostKeyChecking=accept-new", "-o"])
                .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
                .args(["-o", "LogLevel=ERROR"])
                .args(rest);
            match command {
                Some(command) => ssh.arg("--").arg(command),
                None => ssh.arg("-t"),
            };
            ssh
        }
        ["docker", "exec", "-it", container, shell] => {
            let mut exec = std::process::Command::new("docker");
            match command {
                Some(command) => exec.args(["exec", "-i", container, shell, "-c", command]),
                None => exec.args(["exec", "-it", container, shell]),
            };
            exec
        }
        _ => {
            return Err(format!(
                "login: {} hosts are reached with `{}`",
                backend.kind(),
                target.login
            ));
        }
    };
    let status = login
        .status()
        .map_err(|e| format!("login: cannot run {}: {e}", words[0]))?;
    Ok(ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
    ))
}

/// Every kept environment on this machine.
pub fn list(cli: &Cli) -> Result<ExitCode, String> {
    let kept = kept_environments_here().map_err(|e| e.to_string())?;
    if cli.message_format == MessageFormat::Json {
        println!(
            "{}",
            serde_json::to_string(&kept).map_err(|e| e.to_string())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if kept.is_empty() {
        println!("no kept environments (argos-cloud converge makes one)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<32} {:<8} {:<20} {:<10} SCENARIO",
        "RUN ID", "BACKEND", "AGE", "STATE"
    );
    for env in &kept {
        println!(
            "{:<32} {:<8} {:<20} {:<10} {}",
            env.run_id,
            "docker",
            env.age,
            format!("{}/{} up", env.running, env.hosts),
            env.scenario
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn scenarios(cli: &Cli, args: &LoopArgs, all: bool) -> Result<(Project, Vec<Scenario>), String> {
    let path =
        std::fs::canonicalize(&args.path).map_err(|e| format!("{}: {e}", args.path.display()))?;
    let files =
        molecule_scenarios(&path, args.scenario_name.as_deref(), all)?.ok_or_else(|| {
            format!(
                "{}: no molecule/ folder here: the development loop works on a role's Molecule \
             scenarios (give the role's folder)",
                path.display()
            )
        })?;
    let project = project_for_role(cli)?;
    let mut scenarios = Vec::new();
    for file in files {
        let (scenario, notes) = scenario::load_any(&file).map_err(|e| e.to_string())?;
        say_notes(&scenario.name, &notes);
        scenarios.push(scenario);
    }
    Ok((project, scenarios))
}

fn options(
    cli: &Cli,
    project: &Project,
    args: &LoopArgs,
    command: Option<LoopCommand>,
) -> Result<run::RunOptions, String> {
    let kind = if cli.backend_chosen {
        cli.backend
    } else {
        BackendKind::Docker
    };
    if kind == BackendKind::Aws {
        return Err(
            "the development loop keeps local environments (docker, vagrant): on AWS, a \
             scenario runs whole (`argos-cloud test --backend aws`)"
                .into(),
        );
    }
    let mut options = run::RunOptions::new(
        project.clone(),
        args.settings
            .clone()
            .unwrap_or_else(|| run::default_settings_file(project)),
    );
    options.backend = backend(cli, kind);
    options.overrides = crate::overrides(cli)?;
    options.progress = cli.progress();
    options.platform_images = args.platform_images.clone();
    options.privileged = args.privileged;
    options.loop_command = command;
    Ok(options)
}
