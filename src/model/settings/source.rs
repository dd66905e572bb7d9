//! Where a setting's value comes from (a file at a line, an environment
//! variable, a command-line flag, a scenario), the layers merged with
//! Ansible's precedence, and reading the engine's keys with an error that
//! points where the value came from.

use std::fmt;
use std::path::{Path, PathBuf};

use super::SettingsError;
use super::keys::{self, KeyKind, Presence};
use super::mapping::ParameterMap;
use super::values::{self, Setting, Value, Values, named_like_a_secret, node_text};
use crate::input::env::{EnvError, Environment};
use crate::input::file;
use crate::input::yaml::{self, Kind, Node};

/// Where a value was read from; errors name it so the user can go and fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: PathBuf,
        line: Option<usize>,
    },
    Env {
        var: String,
    },
    /// A command-line option: `--set`, or one that sets a key itself (`--region`).
    Flag {
        flag: &'static str,
    },
    /// `--set-file key=PATH`: the value is the file's content.
    SetFile {
        path: PathBuf,
    },
    /// A scenario's `settings:`.
    Scenario {
        path: PathBuf,
        line: Option<usize>,
    },
    /// The engine's default for a key no layer sets.
    Default,
    /// A built-in of `parameters:` (`{{ env }}`, `{{ app_image_id }}`...).
    Builtin,
}

impl Origin {
    /// `--set key=value`.
    pub const SET: Origin = Origin::Flag { flag: "--set" };
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Flag { flag } => f.write_str(flag),
            Origin::SetFile { path } => write!(f, "--set-file {}", path.display()),
            Origin::Scenario {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}: settings", path.display()),
            Origin::Scenario { path, line: None } => {
                write!(f, "{}: settings", path.display())
            }
            Origin::Default => f.write_str("the default"),
            Origin::Builtin => f.write_str("argos-cloud (a built-in)"),
        }
    }
}

/// Values that win over the files: `ARGOS_<KEY>` variables, then `--set
/// key=value` and `--set-file key=PATH` (a secret kept off the command line,
/// where `ps` would show it), the last given winning.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `ARGOS_<KEY>` variables, by key: the text, or why it is unreadable.
    env: Vec<(String, Result<String, EnvError>)>,
    flags: Vec<(String, String, Origin)>,
}

/// `ARGOS_` variables that are the tool's own, never a settings key.
pub const TOOL_VARIABLES: [&str; 11] = [
    "ARGOS_ROOT",
    "ARGOS_BACKEND",
    "ARGOS_KEEP",
    "ARGOS_VENV",
    "ARGOS_EMULATOR",
    "ARGOS_EMULATOR_URL",
    "ARGOS_APT_CACHE",
    "ARGOS_APT_CACHE_NAME",
    "ARGOS_BAKE",
    "ARGOS_CFN_LINT",
    "ARGOS_FUZZ_SECONDS",
];

impl Overrides {
    /// `ARGOS_<KEY>` variables, read from this process.
    pub fn from_process_env() -> Result<Self, SettingsError> {
        Self::from_environment(&Environment::process())
    }

    /// `ARGOS_<KEY>` variables: each names the settings key `key`. Which
    /// keys exist is known when the settings are read; a variable for no
    /// key is left alone (it may be another tool's), and one that is not
    /// text is an error only if its key exists, naming it, never its value.
    pub fn from_environment(environment: &Environment) -> Result<Self, SettingsError> {
        let mut env = Vec::new();
        for name in environment.names_with_prefix("ARGOS_") {
            if TOOL_VARIABLES.contains(&name) || name.starts_with("ARGOS_BENCH_") {
                continue;
            }
            let key = name["ARGOS_".len()..].to_ascii_lowercase();
            if key.is_empty() || env.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let value = environment.get(name).map(Option::unwrap_or_default);
            env.push((key, value));
        }
        Ok(Self {
            env,
            flags: Vec::new(),
        })
    }

    /// From `(variable, value)` text pairs.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self::from_environment(&Environment::from_pairs(vars))
            .expect("text variables are always readable")
    }

    /// A `--set key=value` flag. Whether the key exists is checked when the
    /// settings are read; a key that is not a name is an error now.
    pub fn set(&mut self, assignment: &str) -> Result<(), SettingsError> {
        let Some((key, value)) = assignment
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
        else {
            // Never echoed: it may be a password pasted without its key.
            return Err(SettingsError::BadAssignment);
        };
        let key = key_name(key, Origin::SET)?;
        self.flags.push((key, value.to_owned(), Origin::SET));
        Ok(())
    }

    /// A `--set-file key=PATH` flag: the value is the file's content (a
    /// regular file of at most 64 KiB), less one trailing line break (as
    /// `echo secret > file` writes it).
    pub fn set_file(&mut self, assignment: &str) -> Result<(), SettingsError> {
        let Some((key, path)) = assignment
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
        else {
            return Err(SettingsError::BadFileAssignment);
        };
        let path = PathBuf::from(path);
        let key = key_name(key, Origin::SetFile { path: path.clone() })?;
        let text =
            file::read_text(&path, file::SET_FILE).map_err(|source| SettingsError::SetFile {
                key: key.clone(),
                source,
            })?;
        let value = text
            .strip_suffix('\n')
            .map(|v| v.strip_suffix('\r').unwrap_or(v))
            .unwrap_or(&text);
        self.flags
            .push((key, value.to_owned(), Origin::SetFile { path }));
        Ok(())
    }

    /// `key` set to `value` as if by `--set`.
    pub fn flag(&mut self, key: &str, value: &str) {
        self.set_from(key, value, Origin::SET);
    }

    /// `key` set to `value` by `origin` (an option such as `--region`, a
    /// scenario's `settings:`), which errors about the value name.
    pub fn set_from(&mut self, key: &str, value: &str, origin: Origin) {
        self.flags.push((key.to_owned(), value.to_owned(), origin));
    }

    /// Every override, lowest precedence first: variables, then flags in
    /// the order given.
    fn layers(&self) -> impl Iterator<Item = (&str, Result<&str, &EnvError>, Origin)> {
        self.env
            .iter()
            .map(|(key, value)| {
                (
                    key.as_str(),
                    value.as_deref(),
                    Origin::Env {
                        var: keys::env_var(key),
                    },
                )
            })
            .chain(
                self.flags
                    .iter()
                    .map(|(key, value, origin)| (key.as_str(), Ok(value.as_str()), origin.clone())),
            )
    }

    /// Whether a flag sets `key` (variables count once the settings are read).
    pub fn provides(&self, key: &str) -> bool {
        self.flags.iter().any(|(k, _, _)| k == key)
            || self.env.iter().any(|(k, v)| k == key && v.is_ok())
    }
}

/// `key`, trimmed, if it is a name Ansible can take (letters, digits, `_`).
fn key_name(key: &str, origin: Origin) -> Result<String, SettingsError> {
    let key = key.trim();
    let named = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if named {
        Ok(key.to_owned())
    } else {
        Err(SettingsError::Invalid {
            origin,
            key: key.to_owned(),
            problem: "is not a settings key (letters, digits and underscores)".into(),
        })
    }
}

/// The settings files and the overrides as one set of values, with
/// Ansible's precedence: later files over earlier, variables over files,
/// flags over variables. Every problem is returned, none stops the rest.
pub(super) fn merge(files: &[SettingsFile], overrides: &Overrides) -> (Values, Vec<SettingsError>) {
    let mut values = Values::default();
    let mut errors = Vec::new();
    for file in files {
        for (key, node) in file.root.entries() {
            let Some(name) = key.as_key() else { continue };
            values.insert(
                name.clone(),
                Setting {
                    value: Value::Yaml(node.clone()),
                    origin: Origin::File {
                        path: file.path.clone(),
                        line: Some(key.line),
                    },
                    secret: named_like_a_secret(&name),
                },
            );
        }
    }
    // Keys `secret_vars` lists are secrets from the start: no override's
    // message may show their values either.
    let listed: Vec<String> = values
        .get("secret_vars")
        .and_then(|s| s.value.node())
        .map(|n| {
            n.items()
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    values.mark_secret(listed.iter().map(String::as_str));
    for (key, value, origin) in overrides.layers() {
        let known = values.contains(key) || keys::spec(key).is_some();
        let from_env = matches!(origin, Origin::Env { .. });
        if !known {
            // A variable may be another tool's; a flag is deliberate.
            if !from_env {
                errors.push(SettingsError::UnknownKey {
                    origin,
                    key: key.to_owned(),
                    suggestion: suggest(key, &values),
                });
            }
            continue;
        }
        if keys::spec(key).is_some_and(|k| k.structured()) {
            errors.push(SettingsError::Invalid {
                origin,
                key: key.to_owned(),
                problem: "is a list or mapping, written in a settings file; no flag or \
                          variable replaces it"
                    .into(),
            });
            continue;
        }
        let text = match value {
            Ok(text) => text,
            Err(error) => {
                errors.push(SettingsError::Env(error.clone()));
                continue;
            }
        };
        // A secret stays the text given, whatever the file held: a
        // password of digits is still a password (and is never quoted).
        let secret = values.is_secret(key);
        let replaced = values
            .get(key)
            .and_then(|s| s.value.node())
            .filter(|_| !secret);
        match values::typed_override(text, replaced) {
            Ok(value) => values.insert(
                key.to_owned(),
                Setting {
                    value,
                    origin,
                    secret,
                },
            ),
            Err(problem) => errors.push(SettingsError::Invalid {
                origin,
                key: key.to_owned(),
                problem,
            }),
        }
    }
    (values, errors)
}

/// The key of the settings or the engine closest to a misspelt one.
fn suggest(unknown: &str, values: &Values) -> Option<String> {
    keys::suggest(unknown).map(str::to_owned).or_else(|| {
        values
            .keys()
            .map(|k| (keys::edit_distance(unknown, k), k))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k.to_owned())
    })
}

/// The parsed settings file.
pub(super) struct SettingsFile {
    pub path: PathBuf,
    pub root: Node,
}

impl SettingsFile {
    /// Read `path`: a regular file of at most 1 MiB.
    pub fn read(path: &Path) -> Result<Self, SettingsError> {
        let text = file::read_text(path, file::SETTINGS).map_err(SettingsError::Read)?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, SettingsError> {
        let root = yaml::parse(text).map_err(|error| SettingsError::Yaml {
            path: path.to_owned(),
            error,
        })?;
        match root.kind {
            Kind::Map(_) => {}
            // An empty file: every required key is then missing.
            Kind::Null => {}
            _ => {
                return Err(SettingsError::NotAMapping {
                    path: path.to_owned(),
                });
            }
        }
        Ok(Self {
            path: path.to_owned(),
            root,
        })
    }

    /// The top-level keys that are text, in file order.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.root.entries().iter().filter_map(|(k, _)| k.as_key())
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.root.get(key)
    }

    pub fn origin(&self, key: &str) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: self.root.entry(key).map(|(k, _)| k.line),
        }
    }

    /// The file's values as Ansible variables.
    pub fn vars(&self) -> serde_json::Map<String, serde_json::Value> {
        match self.root.to_json() {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}

/// Reads the engine's keys from the merged values, typed and checked,
/// collecting every problem so the user sees them all at once.
pub(super) struct Reader<'a> {
    pub values: &'a Values,
    /// The first settings file, where a missing key belongs.
    pub path: PathBuf,
    pub errors: Vec<SettingsError>,
}

impl<'a> Reader<'a> {
    pub fn new(values: &'a Values, path: PathBuf) -> Self {
        Self {
            values,
            path,
            errors: Vec::new(),
        }
    }

    /// The node of a structured key, with where it is.
    pub fn node(&self, key: &str) -> Option<(&'a Node, Origin)> {
        let setting = self.values.get(key)?;
        let node = setting.value.node().filter(|n| !n.is_null())?;
        Some((node, setting.origin.clone()))
    }

    pub fn missing(&mut self, key: &str) {
        self.errors.push(SettingsError::Missing {
            path: self.path.clone(),
            key: key.to_owned(),
            help: keys::spec(key).map_or("", |k| k.help),
        });
    }

    fn invalid(&mut self, origin: Origin, key: &str, problem: String) {
        self.errors.push(SettingsError::Invalid {
            origin,
            key: key.to_owned(),
            problem,
        });
    }

    /// The key's text (scalars only), its default, or `None` with an error
    /// recorded if it is required. Optional keys that are absent read as "".
    fn text(&mut self, key: &str) -> Option<(String, Option<Origin>)> {
        let spec = keys::spec(key).unwrap_or_else(|| panic!("`{key}` is not in the catalogue"));
        let found = match self.values.get(key) {
            Some(Setting {
                value: Value::Text(text),
                origin,
                ..
            }) => Some((text.clone(), origin.clone())),
            Some(Setting {
                value: Value::Yaml(node),
                origin,
                secret,
            }) if !node.is_null() => match node_text(node, key, *secret) {
                Ok(text) => Some((text, origin.clone())),
                Err(problem) => {
                    self.invalid(origin.clone(), key, problem);
                    return None;
                }
            },
            _ => None,
        };
        match (found, spec.presence) {
            (Some((text, origin)), Presence::Required) if text.trim().is_empty() => {
                self.invalid(origin, key, format!("must not be empty ({})", spec.help));
                None
            }
            (Some((text, origin)), _) => Some((text, Some(origin))),
            (None, Presence::Required) => {
                self.missing(key);
                None
            }
            (None, Presence::Default(default)) => Some((default.to_owned(), None)),
            (None, Presence::Optional) => Some((String::new(), None)),
        }
    }

    /// A value parsed by `parse`, whose error message is shown with the
    /// key's origin (an engine key is never a secret).
    pub fn parse<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (text, origin) = self.text(key)?;
        match parse(text.trim()) {
            Ok(value) => Some(value),
            Err(problem) => {
                let origin = origin.unwrap_or(Origin::Default);
                self.invalid(origin, key, problem);
                None
            }
        }
    }

    /// A list of names: a YAML sequence in the file.
    pub fn list(&mut self, key: &str) -> Option<Vec<String>> {
        debug_assert_eq!(keys::spec(key).map(|k| k.kind), Some(KeyKind::List));
        let Some(setting) = self.values.get(key) else {
            return Some(Vec::new());
        };
        let origin = setting.origin.clone();
        let items: Vec<&Node> = match &setting.value {
            Value::Text(text) => {
                return Some(
                    text.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
            }
            Value::Yaml(node) => match &node.kind {
                Kind::Seq(items) => items.iter().collect(),
                Kind::Null => Vec::new(),
                _ => vec![node],
            },
        };
        let mut texts = Vec::new();
        for item in items {
            match item.as_str() {
                Some(text) => texts.push(text.to_owned()),
                None => {
                    self.invalid(origin, key, "expected a list of key names".into());
                    return None;
                }
            }
        }
        Some(texts)
    }

    /// `parameters:` or `image_parameters:`.
    pub fn parameter_map(&mut self, key: &'static str) -> Option<ParameterMap> {
        let (node, origin) = match self.node(key) {
            Some(found) => found,
            None => {
                return Some(ParameterMap {
                    key,
                    entries: Vec::new(),
                });
            }
        };
        let path = match &origin {
            Origin::File { path, .. } => Some(path.clone()),
            _ => None,
        };
        let result = ParameterMap::read(key, Some(node), |line| match &path {
            Some(path) => Origin::File {
                path: path.clone(),
                line: Some(line),
            },
            None => origin.clone(),
        });
        match result {
            Ok(map) => Some(map),
            Err((origin, problem)) => {
                self.invalid(origin, key, problem);
                None
            }
        }
    }
}
