//! `argos-cloud`: a thin layer over the engine in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use argos_cloud::cli::{Cli, Command};
use argos_cloud::project::Project;
use argos_cloud::settings::Overrides;
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
        eprintln!(
            "argos-cloud: `{}` is not built yet; it arrives with {capability}. \
             Working today: validate, template, completions.",
            cli.command.name()
        );
        return Ok(ExitCode::from(NOT_BUILT));
    }
    let project = Project::open(&cli.root).map_err(|e| e.to_string())?;
    match cli.command {
        Command::Validate { no_lint } => {
            let mut overrides = Overrides::from_process_env();
            for assignment in &cli.set {
                overrides.set(assignment).map_err(|e| e.to_string())?;
            }
            if let Some(region) = &cli.region {
                overrides.flag("region", region);
            }
            let lint = if no_lint {
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
            let template = if image {
                &formations.image
            } else {
                &formations.environment
            };
            let text = if compact {
                template.to_json()
            } else {
                template.to_pretty_json()
            };
            writeln!(std::io::stdout(), "{text}").map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("every other command is handled above"),
    }
}
