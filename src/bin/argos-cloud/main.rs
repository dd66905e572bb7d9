//! `argos-cloud`: a thin layer over the engine in the library, one module
//! per backend and one for scenarios.

mod aws;
mod cache;
mod dev_loop;
mod local;
mod scenario;
mod test;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use argos_cloud::backend::choose::LocalKind;
use argos_cloud::cfn::template::Formations;
use argos_cloud::cfn::validate::{self, Lint};
use argos_cloud::cli::{BackendKind, Cli, Command};
use argos_cloud::input::env::Environment;
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{Origin, Overrides};
use argos_cloud::scenario::dev_loop::LoopCommand;

/// Exit code of a command whose capability is not built yet.
const NOT_BUILT: u8 = 2;
/// Exit code of a usage error (as clap's own).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Err(error) = cli.resolve_env(&Environment::process()) {
        eprintln!("argos-cloud: {error}");
        return ExitCode::from(USAGE);
    }
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
    if let Command::Scenario { action } = &cli.command {
        return scenario::command(&cli, action);
    }
    if let Command::Test {
        path,
        scenario_name,
        all,
        run,
    } = &cli.command
    {
        return test::command(&cli, path, scenario_name.as_deref(), *all, run);
    }
    let loop_command = match &cli.command {
        Command::Create { args } => Some((LoopCommand::Create, args, false)),
        Command::Converge { args } => Some((LoopCommand::Converge, args, false)),
        Command::Idempotence { args } => Some((LoopCommand::Idempotence, args, false)),
        Command::Verify { args } => Some((LoopCommand::Verify, args, false)),
        Command::Destroy { args, all } => Some((LoopCommand::Destroy, args, *all)),
        _ => None,
    };
    if let Some((command, args, all)) = loop_command {
        return dev_loop::command(&cli, command, args, all);
    }
    if let Command::Login {
        host,
        command,
        args,
    } = &cli.command
    {
        return dev_loop::login(&cli, args, host.as_deref(), command.as_deref());
    }
    if let Command::List = cli.command {
        return dev_loop::list(&cli);
    }
    if let Command::Cache { action } = cli.command {
        return cache::command(action);
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
    let project = Project::open(&cli.root).map_err(|e| e.to_string())?;
    match &cli.command {
        Command::Validate { no_lint, explain } => {
            let overrides = overrides(&cli)?;
            let lint = if *no_lint {
                Lint::Never
            } else {
                Lint::IfInstalled
            };
            let report = validate::validate(&project, &overrides, env, lint);
            print!("{report}");
            if *explain {
                print!("{}", report.explained);
            }
            if report.passed() {
                println!("validate: {env} passed");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("validate: {env} FAILED");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Template {
            image,
            parameters: true,
            ..
        } => {
            print!("{}", parameters(&cli, &project, env, *image)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Template { image, compact, .. } => {
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
            BackendKind::Aws => aws::command(&cli, &project, env),
            BackendKind::Docker => local::command(&cli, LocalKind::Docker, &project, env),
            BackendKind::Vagrant => local::command(&cli, LocalKind::Vagrant, &project, env),
        },
    }
}

/// `template --parameters`: the stack's parameters, each with its value
/// (secrets masked) and its source, for `env`.
fn parameters(cli: &Cli, project: &Project, env: &str, image: bool) -> Result<String, String> {
    let env = argos_cloud::model::names::EnvName::new(env).map_err(|e| e.to_string())?;
    let loaded = argos_cloud::model::settings::load(project, &overrides(cli)?, Some(&env))
        .map_err(|e| e.to_string())?;
    let settings = loaded.settings;
    let formations = Formations::load(project).map_err(|e| e.to_string())?;
    let plan = if image {
        argos_cloud::cfn::plan::Plan::image(
            &settings,
            &formations.image,
            &settings.app_name.image_name(),
        )
    } else {
        let names = argos_cloud::model::names::EnvNames::new(settings.app_name.clone(), env);
        argos_cloud::cfn::plan::Plan::environment(
            &settings,
            &names,
            &formations.environment,
            "<the baked image's id>",
            None,
        )
    };
    let problems: Vec<String> = plan.problems.iter().map(ToString::to_string).collect();
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    Ok(validate::explain(&plan))
}

pub(crate) fn not_built(what: &str, why: &str) -> ExitCode {
    eprintln!("argos-cloud: {what} is not built yet: {why}");
    ExitCode::from(NOT_BUILT)
}

pub(crate) fn overrides(cli: &Cli) -> Result<Overrides, String> {
    let mut overrides = Overrides::from_process_env().map_err(|e| e.to_string())?;
    for assignment in &cli.set {
        overrides.set(assignment).map_err(|e| e.to_string())?;
    }
    for assignment in &cli.set_file {
        overrides.set_file(assignment).map_err(|e| e.to_string())?;
    }
    if let Some(region) = &cli.region {
        overrides.set_from("region", region, Origin::Flag { flag: "--region" });
    }
    if let Some(strategy) = &cli.ansible_strategy {
        overrides.set_from(
            "ansible_strategy",
            strategy,
            Origin::Flag {
                flag: "--ansible-strategy",
            },
        );
    }
    Ok(overrides)
}

/// Ask the user to type `expected` before a destructive command; refuse when
/// nobody can answer.
pub(crate) fn confirm(expected: &str, action: &str) -> Result<(), String> {
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
