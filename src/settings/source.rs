//! Where a setting's value comes from (the file at a line, an environment
//! variable, a command-line flag) and reading it with an error that points
//! there.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use super::SettingsError;
use super::keys::{self, Presence};
use crate::secret::Secret;

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
    Flag,
    /// `--set-file key=PATH`: the value is the file's content.
    SetFile {
        path: PathBuf,
    },
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
            Origin::Flag => f.write_str("--set"),
            Origin::SetFile { path } => write!(f, "--set-file {}", path.display()),
        }
    }
}

/// Values that win over the file: `ARGOS_<KEY>` variables, then `--set
/// key=value` and `--set-file key=PATH` (a secret kept off the command line,
/// where `ps` would show it), the last given winning.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    env: Vec<(String, String)>,
    flags: Vec<(String, String, Origin)>,
}

impl Overrides {
    /// `ARGOS_<KEY>` variables for every known key, read from this process.
    pub fn from_process_env() -> Self {
        Self::from_env(std::env::vars())
    }

    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let env = keys::KEYS
            .iter()
            .filter(|k| !k.structured())
            .filter_map(|k| {
                let var = keys::env_var(k.name);
                vars.iter()
                    .find(|(name, _)| *name == var)
                    .map(|(_, value)| (k.name.to_owned(), value.clone()))
            })
            .collect();
        Self {
            env,
            flags: Vec::new(),
        }
    }

    /// A `--set key=value` flag; an unknown key is an error.
    pub fn set(&mut self, assignment: &str) -> Result<(), SettingsError> {
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(SettingsError::BadAssignment {
                text: redact_assignment(assignment),
            });
        };
        let key = known_key(key, Origin::Flag)?;
        self.flags.push((key, value.to_owned(), Origin::Flag));
        Ok(())
    }

    /// A `--set-file key=PATH` flag: the value is the file's content, less
    /// one trailing line break (as `echo secret > file` writes it).
    pub fn set_file(&mut self, assignment: &str) -> Result<(), SettingsError> {
        let Some((key, path)) = assignment.split_once('=') else {
            return Err(SettingsError::BadFileAssignment {
                text: redact_assignment(assignment),
            });
        };
        let path = PathBuf::from(path);
        let key = known_key(key, Origin::SetFile { path: path.clone() })?;
        let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::SetFile {
            key: key.clone(),
            path: path.clone(),
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

    pub fn flag(&mut self, key: &str, value: &str) {
        self.flags
            .push((key.to_owned(), value.to_owned(), Origin::Flag));
    }

    /// Every overridden key with its winning value (flags over variables),
    /// for handing on to Ansible as extra vars.
    pub fn assignments(&self) -> Vec<(String, String)> {
        let mut keys: Vec<&String> = self
            .env
            .iter()
            .map(|(k, _)| k)
            .chain(self.flags.iter().map(|(k, _, _)| k))
            .collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter_map(|key| self.lookup(key).map(|(value, _)| (key.clone(), value)))
            .collect()
    }

    /// The overrides as Ansible extra vars, typed as YAML would type them
    /// (`true` a boolean, `5` a number) so that `--set tasks_enabled=false`
    /// is false in a playbook too. Secrets stay strings, whatever they look like.
    pub fn extra_vars(&self) -> serde_json::Map<String, serde_json::Value> {
        self.assignments()
            .into_iter()
            .map(|(key, text)| {
                let secret = keys::spec(&key).is_some_and(|k| k.secret);
                let typed = match serde_norway::from_str::<Value>(&text) {
                    Ok(Value::Bool(b)) if !secret => serde_json::Value::Bool(b),
                    Ok(Value::Number(n)) if !secret && n.is_i64() => {
                        serde_json::Value::from(n.as_i64())
                    }
                    _ => serde_json::Value::String(text),
                };
                (key, typed)
            })
            .collect()
    }

    /// Whether a variable or flag sets `key`.
    pub fn provides(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    fn lookup(&self, key: &str) -> Option<(String, Origin)> {
        let flag = self.flags.iter().rev().find(|(k, _, _)| k == key);
        if let Some((_, value, origin)) = flag {
            return Some((value.clone(), origin.clone()));
        }
        let env = self.env.iter().find(|(k, _)| k == key);
        env.map(|(_, value)| {
            (
                value.clone(),
                Origin::Env {
                    var: keys::env_var(key),
                },
            )
        })
    }
}

/// `key`, trimmed, if the catalogue knows it. Unknown keys are errors: a
/// flag is deliberate, so a typo must not be silently ignored.
fn known_key(key: &str, origin: Origin) -> Result<String, SettingsError> {
    let key = key.trim();
    match keys::spec(key) {
        Some(spec) if spec.structured() => Err(SettingsError::Invalid {
            origin,
            key: key.to_owned(),
            problem: "is a list, written in the settings file; no flag or variable replaces it"
                .into(),
        }),
        Some(_) => Ok(key.to_owned()),
        None => Err(SettingsError::UnknownKey {
            origin,
            key: key.to_owned(),
            suggestion: keys::suggest(key),
        }),
    }
}

/// An assignment with no `=` may be a value pasted in the wrong place; show
/// only its start.
fn redact_assignment(text: &str) -> String {
    let head: String = text.chars().take(12).collect();
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        head
    }
}

/// The parsed settings file.
pub(super) struct SettingsFile {
    pub path: PathBuf,
    pub text: String,
    pub map: Mapping,
}

impl SettingsFile {
    pub fn parse(path: &Path, text: String) -> Result<Self, SettingsError> {
        let value: Value =
            serde_norway::from_str(&text).map_err(|e| SettingsError::syntax(path, &e))?;
        let map = match value {
            Value::Mapping(map) => map,
            // An empty file parses as null: every required key is then missing.
            Value::Null => Mapping::new(),
            _ => {
                return Err(SettingsError::NotAMapping {
                    path: path.to_owned(),
                });
            }
        };
        Ok(Self {
            path: path.to_owned(),
            text,
            map,
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().filter_map(Value::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The 1-based line where top-level `key:` is written, if it is.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map(|index| index + 1)
    }

    pub fn origin(&self, key: &str) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: self.line_of(key),
        }
    }
}

/// A raw value as found: a YAML scalar or list, or an override's text.
enum Raw<'a> {
    Yaml(&'a Value),
    Text(String),
}

/// Reads typed values key by key, collecting every problem so the user sees
/// them all at once.
pub(super) struct Reader<'a> {
    pub file: &'a SettingsFile,
    pub overrides: &'a Overrides,
    pub errors: Vec<SettingsError>,
}

impl<'a> Reader<'a> {
    pub fn new(file: &'a SettingsFile, overrides: &'a Overrides) -> Self {
        Self {
            file,
            overrides,
            errors: Vec::new(),
        }
    }

    fn raw(&self, key: &str) -> Option<(Raw<'a>, Origin)> {
        if let Some((text, origin)) = self.overrides.lookup(key) {
            return Some((Raw::Text(text), origin));
        }
        let file: &'a SettingsFile = self.file;
        match file.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some((Raw::Yaml(value), file.origin(key))),
        }
    }

    /// Whether `key` (any key, in the catalogue or not) is on: `true` in
    /// the file or an override. A topology group's `when` reads it.
    pub fn switch(&self, key: &str) -> bool {
        match self.raw(key) {
            Some((Raw::Text(text), _)) => text.trim() == "true",
            Some((Raw::Yaml(value), _)) => {
                value.as_bool() == Some(true) || value.as_str() == Some("true")
            }
            None => keys::spec(key).is_some_and(|k| k.presence == Presence::Default("true")),
        }
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
    fn text(&mut self, key: &str) -> Option<(String, Origin)> {
        let spec = keys::spec(key).unwrap_or_else(|| panic!("`{key}` is not in the catalogue"));
        let found = match self.raw(key) {
            Some((Raw::Text(text), origin)) => Some((text, origin)),
            Some((Raw::Yaml(value), origin)) => match scalar_text(value) {
                Some(text) => Some((text, origin)),
                None => {
                    self.invalid(
                        origin,
                        key,
                        "expected a single value, not a list or mapping".into(),
                    );
                    return None;
                }
            },
            None => None,
        };
        match (found, spec.presence) {
            (Some((text, origin)), Presence::Required) if text.trim().is_empty() => {
                self.invalid(origin, key, format!("must not be empty ({})", spec.help));
                None
            }
            (Some(found), _) => Some(found),
            (None, Presence::Required) => {
                self.errors.push(SettingsError::Missing {
                    path: self.file.path.clone(),
                    key: key.to_owned(),
                    help: spec.help,
                });
                None
            }
            (None, Presence::Default(default)) => Some((default.to_owned(), self.file.origin(key))),
            (None, Presence::Optional) => Some((String::new(), self.file.origin(key))),
        }
    }

    /// A value parsed by `parse`, whose error message is shown with the
    /// key's origin. Never used for secrets: the message may quote the value.
    pub fn parse<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        debug_assert!(
            !keys::spec(key).is_some_and(|k| k.secret),
            "{key} is secret"
        );
        let (text, origin) = self.text(key)?;
        match parse(text.trim()) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.invalid(origin, key, problem);
                None
            }
        }
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        self.parse(key, |s| Ok(s.to_owned()))
    }

    /// A secret, checked by `check`, whose message must not quote the value.
    pub fn secret(
        &mut self,
        key: &str,
        check: impl FnOnce(&str) -> Result<(), String>,
    ) -> Option<Secret> {
        let (text, origin) = self.text(key)?;
        if text.is_empty() {
            return Some(Secret::default());
        }
        match check(&text) {
            Ok(()) => Some(Secret::new(text)),
            Err(problem) => {
                self.invalid(origin, key, format!("{problem} (the value is not shown)"));
                None
            }
        }
    }

    /// A list of strings: a YAML sequence in the file, comma-separated in an override.
    pub fn list(&mut self, key: &str) -> Option<Vec<String>> {
        match self.raw(key) {
            None => Some(Vec::new()),
            Some((Raw::Text(text), _)) => Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            Some((Raw::Yaml(Value::Sequence(items)), origin)) => {
                let texts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
                if texts.is_none() {
                    self.invalid(origin, key, "expected a list of plain values".into());
                }
                texts
            }
            Some((Raw::Yaml(value), origin)) => match scalar_text(value) {
                Some(text) => Some(vec![text]),
                None => {
                    self.invalid(origin, key, "expected a list of plain values".into());
                    None
                }
            },
        }
    }

    /// Record a problem that involves two keys (e.g. min above max).
    pub fn problem(&mut self, key: &str, problem: String) {
        let origin = self
            .overrides
            .lookup(key)
            .map(|(_, origin)| origin)
            .unwrap_or_else(|| self.file.origin(key));
        self.invalid(origin, key, problem);
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}
