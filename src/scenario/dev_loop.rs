//! The development loop, as Molecule users work all day: `create`,
//! `converge` (which creates when needed), `idempotence`, `verify` and
//! `destroy` on a kept environment, plus `login` and `list` in the CLI.
//! A scenario's kept environment is found by its folder (and a matrix's
//! variables): its name, which is also its run id, is made from them, so
//! every command in the same folder finds the same hosts. It carries its
//! run id and `argos:kept`, so no sweep removes it; `destroy` does.

use super::{Scenario, Step};
use crate::model::names::EnvName;

/// A command of the loop: which steps it runs on the kept environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopCommand {
    Create,
    Converge,
    Idempotence,
    Verify,
    Destroy,
}

impl LoopCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopCommand::Create => "create",
            LoopCommand::Converge => "converge",
            LoopCommand::Idempotence => "idempotence",
            LoopCommand::Verify => "verify",
            LoopCommand::Destroy => "destroy",
        }
    }
}

/// What a kept environment records of its scenario: the folder, and the
/// variables a matrix read it with.
pub fn kept_folder(scenario: &Scenario) -> String {
    let mut folder = scenario.dir.display().to_string();
    for (name, value) in &scenario.environment {
        folder.push_str(&format!(" {name}={value}"));
    }
    folder
}

/// The kept environment's name and run id: `k-<scenario>-<hash of
/// [`kept_folder`]>`, the same for every command in the same folder.
pub fn kept_env_name(scenario: &Scenario) -> EnvName {
    let hash = fnv1a(kept_folder(scenario).as_bytes()) & 0xff_ffff;
    let label = crate::model::names::label_of(&scenario.name);
    EnvName::new(&format!("k-{label}-{hash:06x}")).expect("k-<label>-<hex> is a valid name")
}

/// FNV-1a, 64 bits: a stable hash (std's changes between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The steps `command` runs, given whether the kept environment stands.
/// Molecule's meanings: create prepares too; converge creates when needed;
/// idempotence and verify need hosts to run on.
pub fn steps(command: LoopCommand, scenario: &Scenario, exists: bool) -> Result<Vec<Step>, String> {
    let dependency = scenario.requirements.is_some().then_some(Step::Dependency);
    let prepare = scenario
        .playbooks
        .prepare
        .is_some()
        .then_some(Step::Prepare);
    let create = [dependency, Some(Step::Create), prepare];
    let needs_hosts = || {
        format!(
            "{}: no kept environment for {} (`argos-cloud converge` makes one)",
            command.as_str(),
            scenario.name
        )
    };
    let steps: Vec<Option<Step>> = match (command, exists) {
        (LoopCommand::Create, false) => create.to_vec(),
        (LoopCommand::Create, true) => Vec::new(),
        (LoopCommand::Converge, false) => [&create[..], &[Some(Step::Converge)]].concat(),
        (LoopCommand::Converge, true) => vec![dependency, Some(Step::Converge)],
        (LoopCommand::Idempotence, true) => vec![dependency, Some(Step::Idempotence)],
        (LoopCommand::Verify, true) => vec![dependency, Some(Step::Verify)],
        (LoopCommand::Destroy, true) => vec![Some(Step::Destroy)],
        (LoopCommand::Idempotence | LoopCommand::Verify | LoopCommand::Destroy, false) => {
            return Err(needs_hosts());
        }
    };
    Ok(steps.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scenario(dir: &str) -> Scenario {
        let mut scenario = crate::scenario::parse(
            std::path::Path::new("molecule.yml"),
            "description: x\nrole: acme.motd\nhosts: [{name: instance, groups: [instance]}]\n",
        )
        .unwrap();
        scenario.name = "ansible-role-motd-default".into();
        scenario.dir = PathBuf::from(dir);
        scenario
    }

    #[test]
    fn one_folder_finds_one_kept_environment_and_another_folder_another() {
        let here = scenario("/roles/motd/molecule/default");
        let again = scenario("/roles/motd/molecule/default");
        let there = scenario("/roles/motd/molecule/alpine");
        assert_eq!(kept_env_name(&here), kept_env_name(&again));
        assert_ne!(kept_env_name(&here), kept_env_name(&there));
        assert!(kept_env_name(&here).as_str().starts_with("k-ansiblerolem-"));
        let mut matrix = scenario("/roles/motd/molecule/default");
        matrix
            .environment
            .insert("MOLECULE_DISTRO".into(), "rockylinux9".into());
        assert_ne!(kept_env_name(&here), kept_env_name(&matrix));
        assert!(kept_folder(&matrix).ends_with(" MOLECULE_DISTRO=rockylinux9"));
    }

    #[test]
    fn each_command_runs_the_steps_molecule_gives_it() {
        let s = scenario("/r");
        let run = |command, exists| steps(command, &s, exists);
        assert_eq!(
            run(LoopCommand::Converge, false).unwrap(),
            [Step::Create, Step::Converge]
        );
        assert_eq!(run(LoopCommand::Converge, true).unwrap(), [Step::Converge]);
        assert_eq!(run(LoopCommand::Create, true).unwrap(), []);
        assert_eq!(run(LoopCommand::Verify, true).unwrap(), [Step::Verify]);
        assert_eq!(run(LoopCommand::Destroy, true).unwrap(), [Step::Destroy]);
        for command in [
            LoopCommand::Verify,
            LoopCommand::Idempotence,
            LoopCommand::Destroy,
        ] {
            let error = run(command, false).unwrap_err();
            assert!(error.contains("no kept environment"), "{error}");
        }
    }
}
