//! Settings: `playbooks/group_vars/all.yml`, the file Ansible reads too,
//! then the environment's own `group_vars/<env>.yml`, then `ARGOS_<KEY>`
//! variables and `--set`/`--set-file` flags, with Ansible's precedence.
//!
//! The settings are open: the engine reads a few keys itself ([`keys`]),
//! with their types and checks; every other key is the project's, handed to
//! Ansible as it is and to CloudFormation through the `parameters:` and
//! `image_parameters:` mappings ([`mapping`]). Changing infrastructure never
//! means editing Rust.
//!
//! Every problem is reported with the file and line (or the variable or flag)
//! it came from, all at once, before anything is created. A secret (a key
//! named like one, or listed in `secret_vars`) is never shown.

mod checks;
pub mod keys;
pub mod mapping;
mod source;
pub mod values;

use std::fmt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use mapping::{BUILTINS, Lists, ParameterMap, Rendered, Scope};
pub use source::{Origin, Overrides};
pub use values::{Setting, Value, Values};

use crate::input::yaml::Kind;
use crate::model::names::{AppName, EnvName};
use crate::model::project::Project;
use crate::model::secret::Secret;
use crate::model::topology::{GroupSpec, Topology};
use source::{Reader, SettingsFile};

#[derive(Debug, Clone)]
pub struct Settings {
    /// The file the settings were read from (`all.yml`).
    pub source: PathBuf,
    /// The environment's own file, when there is one.
    pub env_source: Option<PathBuf>,
    pub app_name: AppName,
    pub region: String,
    pub access: Access,
    pub vagrant: VagrantSettings,
    pub ansible_strategy: StrategyChoice,
    /// The groups of an environment, in deploy order (the `topology` list).
    pub topology: Topology,
    /// Every key's winning value: the project's own keys and the engine's.
    pub values: Values,
    /// The environment stack's parameters (`parameters:`).
    pub parameters: ParameterMap,
    /// The image stack's parameters (`image_parameters:`).
    pub image_parameters: ParameterMap,
    /// What the `validate` policy step reads of the settings.
    pub policy: PolicySettings,
}

/// The settings of the policy step (`production`, `iam_policies`,
/// `policy_exceptions`).
#[derive(Debug, Clone, Default)]
pub struct PolicySettings {
    /// The environment is production: its rules ask more (deletion protection).
    pub production: bool,
    /// IAM policy documents to check, as written (relative to the project).
    pub iam_policies: Vec<String>,
    pub exceptions: Vec<PolicyException>,
}

/// A policy finding accepted on purpose: rule, resource and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyException {
    pub rule: String,
    pub resource: String,
    pub reason: String,
    /// The entry's file and line, for messages.
    pub origin: Origin,
}

impl Settings {
    /// A key's value as text, as a `{{ key }}` renders it; `None` when the
    /// settings have no such key or it cannot be text.
    pub fn text(&self, key: &str) -> Option<String> {
        let builtins = std::collections::BTreeMap::new();
        Scope {
            values: &self.values,
            builtins: &builtins,
        }
        .render(&format!("{{{{ {key} }}}}"))
        .ok()
        .map(|r| r.text)
    }

    /// A secret key's value (the postgres probe's password).
    pub fn secret(&self, key: &str) -> Option<Secret> {
        self.text(key).map(Secret::new)
    }

    /// The settings' values as Ansible variables (every key, typed as
    /// Ansible reads it): for a run whose settings file Ansible would not
    /// find by itself.
    pub fn vars(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values.to_json()
    }

    /// The values no settings file gave (variables, flags, a scenario's),
    /// as Ansible's extra vars: Ansible reads the files itself.
    pub fn override_vars(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values
            .iter()
            .filter(|(_, s)| {
                !matches!(
                    s.origin,
                    Origin::File { .. } | Origin::Default | Origin::Builtin
                )
            })
            .map(|(k, s)| (k.to_owned(), s.value.to_json()))
            .collect()
    }
}

/// How the Vagrant backend makes machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VagrantSettings {
    pub provider: VagrantProvider,
    pub box_name: String,
}

/// The Vagrant provider setting; `Auto` picks what the machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VagrantProvider {
    Auto,
    Docker,
    Virtualbox,
    Libvirt,
}

impl VagrantProvider {
    pub const NAMES: [&'static str; 4] = ["auto", "docker", "virtualbox", "libvirt"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "docker" => Some(Self::Docker),
            "virtualbox" => Some(Self::Virtualbox),
            "libvirt" => Some(Self::Libvirt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl fmt::Display for VagrantProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `ansible_strategy` setting: how Ansible runs tasks (see
/// `converge::deploy::strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrategyChoice {
    #[default]
    Auto,
    Mitogen,
    Linear,
}

impl StrategyChoice {
    pub const NAMES: [&'static str; 3] = ["auto", "mitogen", "linear"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "mitogen" => Some(Self::Mitogen),
            "linear" => Some(Self::Linear),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl fmt::Display for StrategyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How hosts are reached and what they start from.
#[derive(Debug, Clone)]
pub struct Access {
    pub key_name: String,
    pub ssh_user: String,
    /// The base image: the bake's start, and the unbaked groups' image.
    pub base_ami: String,
}

/// Settings and what the user should know about how they were read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub notices: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "neither {} nor {} exists: create the settings file (see docs/src/configuration.md)",
        settings.display(),
        sample.display()
    )]
    NoSettings { settings: PathBuf, sample: PathBuf },
    #[error(transparent)]
    Read(crate::input::file::ReadError),
    #[error("{}:{error}", path.display())]
    Yaml {
        path: PathBuf,
        error: crate::input::yaml::YamlError,
    },
    #[error(
        "{}: is a symbolic link to a file that does not exist: argos-cloud makes the \
         settings file from the sample only where there is nothing; point the link at a \
         file or remove it",
        path.display()
    )]
    DanglingLink { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: the top level must be a mapping of keys to values", path.display())]
    NotAMapping { path: PathBuf },
    #[error("{}: missing key `{key}`: {help}", path.display())]
    Missing {
        path: PathBuf,
        key: String,
        help: &'static str,
    },
    #[error("{origin}: `{key}`: {problem}")]
    Invalid {
        origin: Origin,
        key: String,
        problem: String,
    },
    #[error(
        "{origin}: unknown key `{key}`: it is in no settings file and argos-cloud does not \
         read it{}",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownKey {
        origin: Origin,
        key: String,
        suggestion: Option<String>,
    },
    #[error("--set: expected KEY=VALUE (the argument is not shown: it may be a secret)")]
    BadAssignment,
    #[error("--set-file: expected KEY=PATH, a file holding the value")]
    BadFileAssignment,
    #[error("--set-file {key}: {source}")]
    SetFile {
        key: String,
        source: crate::input::file::ReadError,
    },
    #[error(transparent)]
    Env(#[from] crate::input::env::EnvError),
}

/// Every problem found in the settings, one per line.
#[derive(Debug, thiserror::Error)]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl From<SettingsError> for SettingsErrors {
    fn from(error: SettingsError) -> Self {
        Self(vec![error])
    }
}

/// The group, and its `group_vars` file, of an environment's own settings:
/// the environment's name, `-` made `_` (Ansible's group names).
pub fn env_group(env: &EnvName) -> String {
    env.as_str().replace('-', "_")
}

/// Load the project's settings for `env` (its own file too, when there is
/// one). When `all.yml` does not exist yet it is made from
/// `all.sample.yml`, as operators of the original tool expect.
pub fn load(
    project: &Project,
    overrides: &Overrides,
    env: Option<&EnvName>,
) -> Result<Loaded, SettingsErrors> {
    let path = project.path(Project::SETTINGS);
    let sample_path = project.path(Project::SAMPLE_SETTINGS);
    let mut notices = Vec::new();
    // A dangling link "does not exist", but writing the sample through it
    // would create a file wherever it points, outside the project perhaps.
    let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && !path.exists() {
        return Err(SettingsError::DanglingLink { path }.into());
    }
    if !path.exists() {
        if !sample_path.exists() {
            return Err(SettingsError::NoSettings {
                settings: path,
                sample: sample_path,
            }
            .into());
        }
        copy_private(&sample_path, &path)?;
        notices.push(format!(
            "created {} from {}: edit it before commissioning a real environment",
            path.display(),
            sample_path.display()
        ));
    }
    let mut files = vec![SettingsFile::read(&path)?];
    if let Some(env) = env {
        let own = project.path(&format!("playbooks/group_vars/{}.yml", env_group(env)));
        if own.exists() {
            files.push(SettingsFile::read(&own)?);
        }
    }
    let sample = if sample_path.exists() {
        SettingsFile::read(&sample_path).ok()
    } else {
        None
    };
    notices.extend(typo_notices(&files));
    let settings = from_files(&files, overrides)?;
    if let Some(sample) = &sample {
        notices.extend(placeholder_notices(&settings, sample));
    }
    Ok(Loaded { settings, notices })
}

/// Copy the sample to a file only its owner can read: `all.yml` is where
/// the secrets go. The new file is made, never followed through a link.
fn copy_private(sample: &Path, path: &Path) -> Result<(), SettingsError> {
    let text = crate::input::file::read_bytes(sample, crate::input::file::SETTINGS)
        .map_err(SettingsError::Read)?;
    let write = |source| SettingsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write)?;
    std::io::Write::write_all(&mut file, &text).map_err(write)
}

/// Settings from YAML text, without touching the file system beyond `path`
/// (used in messages only).
pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Settings, SettingsErrors> {
    let file = SettingsFile::parse(path, text)?;
    from_files(&[file], overrides)
}

/// A settings file read whole, with its values as Ansible variables: what
/// a scenario run hands Ansible, so Ansible sees the file that was checked.
pub fn read_with_vars(
    path: &Path,
    overrides: &Overrides,
) -> Result<(Settings, serde_json::Map<String, serde_json::Value>), SettingsErrors> {
    let file = SettingsFile::read(path)?;
    let vars = file.vars();
    let settings = from_files(&[file], overrides)?;
    Ok((settings, vars))
}

/// A key of a file that looks like a misspelt engine key is worth a word.
fn typo_notices(files: &[SettingsFile]) -> Vec<String> {
    files
        .iter()
        .flat_map(|file| {
            file.keys()
                .filter(|key| keys::spec(key).is_none())
                .filter_map(|key| {
                    keys::suggest(&key).map(|known| {
                        format!(
                            "{}: key `{key}` is not one argos-cloud reads: did you mean `{known}`?",
                            file.origin(&key)
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Secrets still equal to the sample's placeholders.
fn placeholder_notices(settings: &Settings, sample: &SettingsFile) -> Vec<String> {
    settings
        .values
        .iter()
        .filter(|(key, _)| settings.values.is_secret(key))
        .filter(|(key, setting)| {
            matches!(
                (setting.value.node(), sample.get(key)),
                (Some(a), Some(b)) if a.kind == b.kind && !matches!(a.kind, Kind::Null)
                    && a.rendered().is_some_and(|r| !r.is_empty())
            ) && matches!(setting.origin, Origin::File { .. })
        })
        .map(|(key, setting)| {
            format!(
                "{}: `{key}` still has the sample's placeholder value: change it before \
                 commissioning a real environment",
                setting.origin
            )
        })
        .collect()
}

fn from_files(files: &[SettingsFile], overrides: &Overrides) -> Result<Settings, SettingsErrors> {
    let (values, mut errors) = source::merge(files, overrides);
    let mut r = Reader::new(&values, files[0].path.clone());
    r.errors.append(&mut errors);
    let app_name = r.parse("app_name", |s| {
        AppName::new(s).map_err(|e| e.rule.to_string())
    });
    let region = r.parse("region", checks::region);
    let access = access(&mut r);
    let vagrant = vagrant(&mut r);
    let ansible_strategy = r.parse("ansible_strategy", |s| {
        StrategyChoice::parse(s)
            .ok_or_else(|| format!("{s:?} is not one of {}", StrategyChoice::NAMES.join(", ")))
    });
    let topology = topology(&mut r);
    let parameters = r.parameter_map("parameters");
    let image_parameters = r.parameter_map("image_parameters");
    let policy = policy(&mut r);
    let secret_vars = r.list("secret_vars");
    let mut values = values.clone();
    if let Some(listed) = &secret_vars {
        values.mark_secret(listed.iter().map(String::as_str));
    }
    let settings = (|| {
        Some(Settings {
            source: files[0].path.clone(),
            env_source: files.get(1).map(|f| f.path.clone()),
            app_name: app_name?,
            region: region?,
            access: access?,
            vagrant: vagrant?,
            ansible_strategy: ansible_strategy?,
            topology: topology?,
            values,
            parameters: parameters?,
            image_parameters: image_parameters?,
            policy: policy?,
        })
    })();
    match settings {
        Some(settings) if r.errors.is_empty() => Ok(settings),
        _ => Err(SettingsErrors(r.errors)),
    }
}

/// The `topology` list: structured, so read from the file only (no
/// override can replace it), with the line of a problem within it.
fn topology(r: &mut Reader<'_>) -> Option<Topology> {
    const KEY: &str = "topology";
    let Some((value, origin)) = r.node(KEY) else {
        r.missing(KEY);
        return None;
    };
    // The topology's `parameters:` went: one mechanism, the settings' own.
    for (index, spec) in value.items().iter().enumerate() {
        if let Some((key, _)) = spec.entry("parameters") {
            r.errors.push(SettingsError::Invalid {
                origin: at_line(&origin, key.line),
                key: format!("{KEY}[{index}].parameters"),
                problem: "a group's parameters are no longer set here: map each CloudFormation \
                          parameter to its value under the top-level `parameters:` (see \
                          docs/src/own-formations.md)"
                    .into(),
            });
            return None;
        }
    }
    let groups: Vec<GroupSpec> = structured(r, KEY, value, &origin, None)?;
    let mut topology = Topology::new(groups);
    for (index, spec) in topology.groups.iter_mut().enumerate() {
        spec.enabled = spec.when.as_deref().is_none_or(|key| r.values.switch(key));
        // A switch must be a boolean to Ansible too: the text "true" would
        // be off here and in Ansible's `when:`, yet "true" to CloudFormation.
        if let Some(key) = spec.when.as_deref()
            && let Some(setting) = r.values.get(key)
            && setting.value.boolean().is_none()
        {
            r.errors.push(SettingsError::Invalid {
                origin: setting.origin.clone(),
                key: key.to_owned(),
                problem: format!(
                    "is the switch of topology[{index}] ({}), so it must be a boolean: \
                     write true or false without quotes (quoted, Ansible reads it as text)",
                    spec.group
                ),
            });
        }
    }
    if let Err(problem) = topology.check(|key| r.values.contains(key) || keys::spec(key).is_some())
    {
        r.errors.push(SettingsError::Invalid {
            origin,
            key: KEY.into(),
            problem: problem.to_string(),
        });
        return None;
    }
    Some(topology)
}

/// `origin` (a settings file) at `line`: structured keys are read from the
/// files only, so their parts have lines of their own.
fn at_line(origin: &Origin, line: usize) -> Origin {
    match origin {
        Origin::File { path, .. } => Origin::File {
            path: path.clone(),
            line: Some(line),
        },
        other => other.clone(),
    }
}

/// A structured key's value read as `T`; an error names the path within
/// it (`[2].memory_mb`) and that part's own line, then `hint`.
fn structured<T: serde::de::DeserializeOwned>(
    r: &mut Reader<'_>,
    key: &str,
    value: &crate::input::yaml::Node,
    origin: &Origin,
    hint: Option<&str>,
) -> Option<T> {
    match serde_path_to_error::deserialize(value.to_value()) {
        Ok(read) => Some(read),
        Err(error) => {
            let within = error.path().to_string();
            let within = if within == "." { String::new() } else { within };
            let problem = error.into_inner().to_string();
            r.errors.push(SettingsError::Invalid {
                origin: at_line(origin, value.line_at(&within)),
                key: format!("{key}{within}"),
                problem: match hint {
                    Some(hint) => format!("{problem}: {hint}"),
                    None => problem,
                },
            });
            None
        }
    }
}

/// `production`, `iam_policies` and `policy_exceptions`. An exception
/// names its rule and resource and says why; whether that rule and that
/// resource exist is the policy step's to check (it knows both).
fn policy(r: &mut Reader<'_>) -> Option<PolicySettings> {
    const KEY: &str = "policy_exceptions";
    // A boolean, as Ansible reads it (the parameters map it with
    // "{{ production }}"): true or false without quotes.
    let production = match r.values.get("production") {
        None => Some(false),
        Some(setting) => {
            let boolean = setting.value.boolean();
            if boolean.is_none() {
                r.errors.push(SettingsError::Invalid {
                    origin: setting.origin.clone(),
                    key: "production".into(),
                    problem: "must be true or false, without quotes".into(),
                });
            }
            boolean
        }
    };
    let iam_policies = r.list("iam_policies");
    let mut exceptions = Vec::new();
    if let Some((value, origin)) = r.node(KEY) {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            rule: String,
            resource: String,
            #[serde(default)]
            reason: String,
        }
        let entries: Vec<Entry> = structured(
            r,
            KEY,
            value,
            &origin,
            Some("each exception is {rule: ..., resource: ..., reason: ...}"),
        )?;
        for (index, entry) in entries.into_iter().enumerate() {
            let origin = at_line(&origin, value.line_at(&format!("[{index}]")));
            if entry.reason.trim().is_empty() {
                r.errors.push(SettingsError::Invalid {
                    origin,
                    key: format!("{KEY}[{index}]"),
                    problem: format!(
                        "the exception of rule {} for {} gives no reason: say why the \
                         finding is accepted (`reason: ...`), so the next reader knows",
                        entry.rule, entry.resource
                    ),
                });
                continue;
            }
            exceptions.push(PolicyException {
                rule: entry.rule,
                resource: entry.resource,
                reason: entry.reason.trim().to_owned(),
                origin,
            });
        }
    }
    Some(PolicySettings {
        production: production?,
        iam_policies: iam_policies?,
        exceptions,
    })
}

fn vagrant(r: &mut Reader<'_>) -> Option<VagrantSettings> {
    let provider = r.parse("vagrant_provider", |s| {
        VagrantProvider::parse(s)
            .ok_or_else(|| format!("{s:?} is not one of {}", VagrantProvider::NAMES.join(", ")))
    });
    let box_name = r.parse("vagrant_box", |s| {
        if s.is_empty() || s.contains(char::is_whitespace) {
            Err(format!("{s:?} is not a box name such as debian/bookworm64"))
        } else {
            Ok(s.to_owned())
        }
    });
    Some(VagrantSettings {
        provider: provider?,
        box_name: box_name?,
    })
}

fn access(r: &mut Reader<'_>) -> Option<Access> {
    let key_name = r.parse("key_name", checks::key_pair_name);
    let ssh_user = r.parse("ssh_user", checks::unix_user);
    let base_ami = r.parse("base_ami", checks::ami_id);
    Some(Access {
        key_name: key_name?,
        ssh_user: ssh_user?,
        base_ami: base_ami?,
    })
}

#[cfg(test)]
mod tests;
