//! The command line: `argos-cloud [OPTIONS] <ENV> <COMMAND>`. Only argument
//! types live here; `main.rs` dispatches to the engine.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::input::env::{EnvError, Environment};

#[derive(Debug, Parser)]
#[command(
    name = "argos-cloud",
    version,
    about = "Commission, deploy and test the Argos infrastructure",
    long_about = "Commission, deploy and test the Argos infrastructure (RDS PostgreSQL, app \
                  servers, a knowledge server with Fuseki and Stanford NER, a broker and \
                  workers) on AWS, on Docker or on Vagrant machines.",
    override_usage = "argos-cloud [OPTIONS] <ENV> <COMMAND>\n       argos-cloud completions <SHELL>",
    after_help = "Examples:\n  argos-cloud staging validate\n  argos-cloud staging template > merged.json\n  argos-cloud --backend docker dev commission",
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// The project folder holding formations/ and playbooks/ [default: .,
    /// or ARGOS_ROOT].
    #[arg(long = "root", global = true, value_name = "DIR")]
    pub root_arg: Option<PathBuf>,
    /// `--root`, else `ARGOS_ROOT`, else `.` (see [`Cli::resolve_env`]).
    #[arg(skip = PathBuf::from("."))]
    pub root: PathBuf,

    /// Where environments live [default: aws, or ARGOS_BACKEND].
    #[arg(long = "backend", global = true, value_enum, value_name = "BACKEND")]
    pub backend_arg: Option<BackendKind>,
    /// `--backend`, else `ARGOS_BACKEND`, else aws.
    #[arg(skip = BackendKind::Aws)]
    pub backend: BackendKind,
    /// Whether `--backend` or `ARGOS_BACKEND` chose it (`test` runs on
    /// docker otherwise).
    #[arg(skip)]
    pub backend_chosen: bool,

    /// An AWS API endpoint to use instead of AWS, an emulator such as moto
    /// [default: AWS_ENDPOINT_URL].
    #[arg(long = "endpoint", global = true, value_name = "URL")]
    pub endpoint_arg: Option<String>,
    /// `--endpoint`, else `AWS_ENDPOINT_URL`.
    #[arg(skip)]
    pub endpoint: Option<String>,

    /// On an AWS emulator (`--endpoint`): Docker containers stand in for its
    /// instances and databases, so deploy, check and a scenario's converge
    /// and probes run too. Default: on for `scenario run` where Docker runs,
    /// off for the other commands.
    #[arg(long, global = true, overrides_with = "no_data_plane")]
    pub data_plane: bool,

    /// How progress is reported: `human` lines on stderr, or `json`, one
    /// object per event on stdout (`{"at": SECONDS, "event": NAME, ...}`;
    /// a scenario run's steps are events too).
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,

    /// No stand-in hosts on an AWS emulator: its control plane only.
    #[arg(long, global = true, overrides_with = "data_plane")]
    pub no_data_plane: bool,

    /// The AWS region; overrides `region` in the settings.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// How Ansible runs tasks: Mitogen for Ansible where it is installed
    /// beside ansible-playbook (auto, said on the step table when it is
    /// not), always (mitogen), or ansible-core's own (linear); overrides
    /// `ansible_strategy` in the settings.
    #[arg(long, global = true, value_name = "STRATEGY",
          value_parser = clap::builder::PossibleValuesParser::new(crate::model::settings::StrategyChoice::NAMES))]
    pub ansible_strategy: Option<String>,

    /// Override a settings key for this run (repeatable); ARGOS_<KEY> variables do the same.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Set a settings key to a file's content (repeatable), for secrets:
    /// `--set db_pass=...` shows the password to anyone running `ps`.
    #[arg(long = "set-file", global = true, value_name = "KEY=PATH")]
    pub set_file: Vec<String>,

    /// The environment: staging, production, dev... (lowercase letters, digits, hyphens).
    #[arg(value_name = "ENV", required = true)]
    pub env: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// The variables that stand in for options. Read by argos-cloud itself, not
/// by clap, so that an empty one counts as unset, a switch takes 1/0 and
/// true/false, and one that is not text is an error naming it.
pub const ROOT_VAR: &str = "ARGOS_ROOT";
pub const BACKEND_VAR: &str = "ARGOS_BACKEND";
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";
pub const KEEP_VAR: &str = "ARGOS_KEEP";

impl Cli {
    /// Whether `--data-plane` or `--no-data-plane` was given: None when
    /// neither (the command's default).
    pub fn data_plane_choice(&self) -> Option<bool> {
        match (self.data_plane, self.no_data_plane) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }

    /// Fill in what no option gave from `env`: `--root`, `--backend`,
    /// `--endpoint` and `--keep` each have a variable.
    pub fn resolve_env(&mut self, env: &Environment) -> Result<(), EnvError> {
        self.root = match &self.root_arg {
            Some(root) => root.clone(),
            None => env
                .get(ROOT_VAR)?
                .map_or_else(|| PathBuf::from("."), PathBuf::from),
        };
        self.backend_chosen = true;
        self.backend = match self.backend_arg {
            Some(backend) => backend,
            None => match env.get(BACKEND_VAR)? {
                None => {
                    self.backend_chosen = false;
                    BackendKind::Aws
                }
                Some(name) => {
                    BackendKind::from_str(name.trim(), true).map_err(|_| EnvError::Invalid {
                        name: BACKEND_VAR.into(),
                        problem: format!("{name:?} is not a backend: write aws, docker or vagrant"),
                    })?
                }
            },
        };
        self.endpoint = match &self.endpoint_arg {
            Some(endpoint) => Some(endpoint.clone()),
            None => env.get(ENDPOINT_VAR)?,
        };
        let keep_from_env = env.switch(KEEP_VAR)?;
        match &mut self.command {
            Command::Commission { keep }
            | Command::Scenario {
                action:
                    ScenarioAction::Run {
                        run: RunArgs { keep, .. },
                        ..
                    },
            }
            | Command::Test {
                run: RunArgs { keep, .. },
                ..
            } => *keep |= keep_from_env,
            _ => {}
        }
        Ok(())
    }
}

/// How a command reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
}

impl Cli {
    /// Where this command's progress events go.
    pub fn progress(&self) -> crate::sys::progress::Progress {
        match self.message_format {
            MessageFormat::Human => crate::sys::progress::Progress::stderr(),
            MessageFormat::Json => crate::sys::progress::Progress::json(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// AWS, or an AWS emulator with --endpoint.
    Aws,
    /// Containers on the local Docker engine.
    Docker,
    /// Vagrant machines.
    Vagrant,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the environment: bake or reuse the image, then create its stack.
    Commission {
        /// Keep a failed environment for debugging instead of deleting it
        /// (ARGOS_KEEP=1 does the same).
        #[arg(long)]
        keep: bool,
    },
    /// Run the playbooks on the environment's hosts.
    Deploy {
        /// Only these roles (comma-separated), e.g. app,knowledge.
        #[arg(long, value_delimiter = ',', value_name = "ROLES")]
        roles: Vec<String>,
    },
    /// Update the environment's stack to the current formations and settings.
    Update,
    /// Delete the environment (the shared image stays unless --delete-image).
    Decommission {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Also delete the shared <app>-image.
        #[arg(long)]
        delete_image: bool,
    },
    /// Delete the shared image, its snapshots and any leftover image instance.
    Clean {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Show the environment's stack, hosts and database.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Ansible dynamic inventory for the environment.
    Inventory {
        /// Print every group and host (Ansible's --list).
        #[arg(long, conflicts_with = "host")]
        list: bool,
        /// Print one host's variables (Ansible's --host).
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
    },
    /// Probe the environment: health and connectivity between its hosts.
    Check,
    /// Delete expired environments made by test runs (dry run unless --yes).
    Sweep {
        /// Only what this run left behind.
        #[arg(long, value_name = "RUN_ID")]
        run: Option<String>,
        /// Delete instead of listing.
        #[arg(long)]
        yes: bool,
    },
    /// Check settings, names and formations without touching any backend.
    Validate {
        /// Skip cfn-lint even when it is installed.
        #[arg(long)]
        no_lint: bool,
        /// Also print every parameter of both stacks with its value
        /// (secrets masked) and where the value came from.
        #[arg(long)]
        explain: bool,
    },
    /// Print the merged CloudFormation template.
    Template {
        /// Print the separate image template instead.
        #[arg(long)]
        image: bool,
        /// One line, exactly as sent to CloudFormation.
        #[arg(long, conflicts_with = "parameters")]
        compact: bool,
        /// Print the stack's parameters instead: each with its value
        /// (secrets masked) and where the value came from.
        #[arg(long)]
        parameters: bool,
    },
    /// Test an Ansible role as Molecule does, in any folder (no environment
    /// name): the role's molecule/<scenario>/molecule.yml, on Docker unless
    /// --backend says otherwise. In an argos-cloud project without
    /// molecule/, the project's scenario files.
    Test {
        /// The role's folder (or a molecule.yml, or a project).
        #[arg(value_name = "PATH", default_value = ".")]
        path: PathBuf,
        /// The scenario: molecule/NAME (default: default); in a project,
        /// scenarios/NAME.yaml (default: all of them).
        #[arg(short = 's', long = "scenario-name", value_name = "NAME")]
        scenario_name: Option<String>,
        /// Every scenario of the role.
        #[arg(long, conflicts_with = "scenario_name")]
        all: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Make the scenario's kept environment, and prepare it (the
    /// development loop; `destroy` removes it).
    Create {
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Converge the role on the scenario's kept environment, making it
    /// first when there is none; the environment stays.
    Converge {
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Converge again on the kept environment: nothing may change.
    Idempotence {
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Run the scenario's checks (verify.yml, testinfra) on its kept environment.
    Verify {
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Open a shell on a host of the kept environment (or run one command).
    Login {
        /// The host (a platform's name); default: the only one.
        #[arg(long = "host", value_name = "HOST")]
        host: Option<String>,
        /// Run this command instead of a shell; its exit status is ours.
        #[arg(short = 'c', long = "command", value_name = "COMMAND")]
        command: Option<String>,
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Remove the scenario's kept environment (with --all, every kept one
    /// of the role's folder).
    Destroy {
        /// Every kept environment of the folder's scenarios.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        args: LoopArgs,
    },
    /// Every kept environment on this machine: run id, scenario, age, state.
    List,
    /// Run, check or describe scenario files (no environment name: each
    /// run makes its own throwaway environment).
    Scenario {
        #[command(subcommand)]
        action: ScenarioAction,
    },
    /// The machine's apt cache, which local environments download Debian
    /// packages through (no environment name: it is the machine's, kept
    /// across runs; ARGOS_APT_CACHE=off switches it off).
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Commission { .. } => "commission",
            Command::Deploy { .. } => "deploy",
            Command::Update => "update",
            Command::Decommission { .. } => "decommission",
            Command::Clean { .. } => "clean",
            Command::Status { .. } => "status",
            Command::Inventory { .. } => "inventory",
            Command::Check => "check",
            Command::Sweep { .. } => "sweep",
            Command::Validate { .. } => "validate",
            Command::Template { .. } => "template",
            Command::Test { .. } => "test",
            Command::Create { .. } => "create",
            Command::Converge { .. } => "converge",
            Command::Idempotence { .. } => "idempotence",
            Command::Verify { .. } => "verify",
            Command::Login { .. } => "login",
            Command::Destroy { .. } => "destroy",
            Command::List => "list",
            Command::Scenario { .. } => "scenario",
            Command::Cache { .. } => "cache",
            Command::Completions { .. } => "completions",
        }
    }

    /// Commands that take no environment name.
    pub fn needs_no_env(&self) -> bool {
        matches!(
            self,
            Command::Test { .. }
                | Command::Create { .. }
                | Command::Converge { .. }
                | Command::Idempotence { .. }
                | Command::Verify { .. }
                | Command::Login { .. }
                | Command::Destroy { .. }
                | Command::List
                | Command::Scenario { .. }
                | Command::Cache { .. }
                | Command::Completions { .. }
        )
    }
}

/// Which scenario a command of the development loop works on: the role's
/// folder and scenario, as `test` finds them.
#[derive(Debug, Clone, clap::Args)]
pub struct LoopArgs {
    /// The role's folder (or a molecule.yml).
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// The scenario: molecule/NAME (default: default).
    #[arg(short = 's', long = "scenario-name", value_name = "NAME")]
    pub scenario_name: Option<String>,
    /// As for `test`: run platforms whose image matches PATTERN on IMAGE.
    #[arg(long = "platform-image", value_name = "PATTERN=IMAGE")]
    pub platform_images: Vec<crate::scenario::platform_image::ImageMapping>,
    /// As for `test`: honour the platforms' `privileged: true`.
    #[arg(long)]
    pub privileged: bool,
    /// The settings file to start from (default: playbooks/group_vars/all.yml
    /// when it exists, else the sample).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}

/// How scenarios run: what `scenario run` and `test` share.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Keep a failed environment and print how to reach it (ARGOS_KEEP=1
    /// does the same).
    #[arg(long)]
    pub keep: bool,
    /// Also write a JUnit report (a test suite per scenario, a test case
    /// per step) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Seconds before a sweep may remove the environment if this run
    /// dies (at most 30 days).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3 * 3600,
        value_parser = clap::value_parser!(u64).range(1..=crate::model::names::MAX_TIME_TO_LIVE.as_secs())
    )]
    pub ttl: u64,
    /// The settings file to start from (default: playbooks/group_vars/all.yml
    /// when it exists, else the sample).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The environment's name, which is also its run id (`argos:run`) for
    /// `sweep --run`; one scenario only. Default: t-<scenario>-<random>.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Run platforms whose image matches PATTERN (`*` for any run of
    /// characters) on IMAGE instead; the report and the JUnit name the
    /// image that ran. Repeatable; the first match wins. Without it a
    /// platform's image runs as named (pulled when not here) or the run
    /// fails before making anything.
    #[arg(long = "platform-image", value_name = "PATTERN=IMAGE")]
    pub platform_images: Vec<crate::scenario::platform_image::ImageMapping>,
    /// Run the platforms whose molecule.yml says `privileged: true`
    /// privileged (`docker run --privileged`); without it they run
    /// unprivileged, with systemd settings that work without it.
    #[arg(long)]
    pub privileged: bool,
    /// Run this many scenarios side by side, each on its own environment;
    /// one summary at the end.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Run each Molecule scenario once per value of VAR, as if VAR were
    /// set so (`--matrix MOLECULE_DISTRO=debian12,rockylinux9`); each run
    /// is a JUnit suite of its own. Repeatable: every combination runs.
    #[arg(long, value_name = "VAR=A,B,...")]
    pub matrix: Vec<crate::scenario::matrix::MatrixAxis>,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioAction {
    /// Run scenario files: create, converge, idempotence, verify, destroy on
    /// a throwaway environment that is always removed (also on Ctrl-C).
    /// A Molecule scenario runs as it is: its molecule.yml, its folder, or
    /// the role's folder (molecule/default).
    Run {
        /// Scenario files (scenarios/app.yaml), or Molecule scenarios
        /// (../my-role/molecule/default/molecule.yml, ../my-role).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check scenario files (or Molecule scenarios) without running them.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the argos-cloud scenario equivalent to a Molecule scenario,
    /// for switching for good (what changed is said on stderr).
    Import {
        /// molecule.yml, its folder, or the role's folder.
        #[arg(value_name = "MOLECULE")]
        path: PathBuf,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CacheAction {
    /// Whether the cache runs, its volume's size, the environments it serves.
    Status,
    /// Start the cache now (the first local environment starts it anyway).
    Start,
    /// Remove the cache's container, volume (the downloaded packages) and network.
    Remove {
        /// Remove it even while environments use it (their apt downloads fail).
        #[arg(long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_name_is_reserved_as_an_environment() {
        for sub in Cli::command().get_subcommands() {
            assert!(
                crate::model::names::RESERVED_ENV_NAMES.contains(&sub.get_name()),
                "{} must be in RESERVED_ENV_NAMES",
                sub.get_name()
            );
        }
    }

    #[test]
    fn env_comes_before_the_command() {
        let cli = Cli::try_parse_from([
            "argos-cloud",
            "staging",
            "deploy",
            "--roles",
            "app,knowledge",
        ])
        .unwrap();
        assert_eq!(cli.env.as_deref(), Some("staging"));
        match cli.command {
            Command::Deploy { roles } => assert_eq!(roles, ["app", "knowledge"]),
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn completions_need_no_environment() {
        let cli = Cli::try_parse_from(["argos-cloud", "completions", "bash"]).unwrap();
        assert!(cli.env.is_none());
        assert!(matches!(
            cli.command,
            Command::Completions { shell: Shell::Bash }
        ));
    }
}
