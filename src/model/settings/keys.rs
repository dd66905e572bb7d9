//! The catalogue of the engine's own settings keys: whether each is
//! required, its default, what it holds. The rest of a settings file is the
//! project's own (open settings): any key, handed to Ansible and mapped into
//! the stack's parameters as the project says.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Must be present and non-empty.
    Required,
    /// Taken from this default when absent.
    Default(&'static str),
    /// May be absent or empty.
    Optional,
}

/// What a key holds, as the engine reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    /// A list of values.
    List,
    /// A structure read from the file only (`topology`).
    Structured,
}

#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub presence: Presence,
    pub kind: KeyKind,
    /// What the key is for, shown when it is missing.
    pub help: &'static str,
}

const fn key(name: &'static str, presence: Presence, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        presence,
        kind: KeyKind::Text,
        help,
    }
}

const fn of_kind(kind: KeyKind, spec: KeySpec) -> KeySpec {
    KeySpec { kind, ..spec }
}

use Presence::{Default, Optional, Required};

/// The keys the engine itself reads. Every other key of the settings is the
/// project's: a value handed to Ansible as it is, and to the stack through
/// `parameters:` (see [`super::mapping`]).
pub const KEYS: &[KeySpec] = &[
    key(
        "app_name",
        Required,
        "the app's name, first part of every resource name, e.g. argos",
    ),
    key("region", Required, "the AWS region, e.g. us-east-1"),
    key(
        "key_name",
        Required,
        "the EC2 key pair; its private key is keys/<key_name>.pem",
    ),
    key(
        "ssh_user",
        Default("admin"),
        "the SSH user of the hosts (admin on Debian images)",
    ),
    key(
        "base_ami",
        Required,
        "the base image (an AMI id) the image bake and the unbaked groups start from",
    ),
    key(
        "vagrant_provider",
        Default("auto"),
        "the Vagrant provider: auto (docker when its engine runs, else virtualbox, else libvirt), docker, virtualbox or libvirt",
    ),
    key(
        "vagrant_box",
        Default("debian/bookworm64"),
        "the Vagrant box of the virtualbox and libvirt providers",
    ),
    key(
        "ansible_strategy",
        Default("auto"),
        "how Ansible runs tasks: auto (Mitogen where it loads, else linear, saying why), mitogen or linear",
    ),
    key(
        "production",
        Default("false"),
        "true for an environment whose data must survive a mistake (the policy step asks more of it)",
    ),
    of_kind(
        KeyKind::List,
        key(
            "iam_policies",
            Optional,
            "IAM policy documents (files or folders of *.json, from the project's root) the policy step checks",
        ),
    ),
    of_kind(
        KeyKind::Structured,
        key(
            "policy_exceptions",
            Optional,
            "policy findings accepted on purpose, each `{rule: ..., resource: ..., reason: ...}`",
        ),
    ),
    of_kind(
        KeyKind::List,
        key(
            "secret_vars",
            Optional,
            "the keys whose values are secrets, besides those named like one (see docs/src/configuration.md)",
        ),
    ),
    of_kind(
        KeyKind::Structured,
        key(
            "topology",
            Required,
            "the groups of an environment in deploy order, e.g. `- {group: app}` (see all.sample.yml)",
        ),
    ),
    of_kind(
        KeyKind::Structured,
        key(
            "parameters",
            Optional,
            "the environment stack's CloudFormation parameters, each a value or `{{ key }}`",
        ),
    ),
    of_kind(
        KeyKind::Structured,
        key(
            "image_parameters",
            Optional,
            "the image stack's CloudFormation parameters, each a value or `{{ key }}`",
        ),
    ),
];

impl KeySpec {
    /// A key whose value is a structure (`topology`), read from the file only.
    pub fn structured(&self) -> bool {
        self.kind == KeyKind::Structured
    }
}

pub fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The environment variable that overrides `key`: `ARGOS_DB_PASS` for `db_pass`.
pub fn env_var(key: &str) -> String {
    format!("ARGOS_{}", key.to_ascii_uppercase())
}

/// The known key closest to a misspelt one, if any is close enough to be a typo.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(unknown, k.name), k.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Levenshtein distance, for suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("app_nmae"), Some("app_name"));
        assert_eq!(suggest("regoin"), Some("region"));
        assert_eq!(suggest("completely_else"), None);
    }

    #[test]
    fn override_variables_are_upper_case() {
        assert_eq!(env_var("db_pass"), "ARGOS_DB_PASS");
    }
}
