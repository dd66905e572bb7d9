//! The settings as a whole: every key of every settings file, the value
//! that wins and where it came from. Ansible's precedence, as argos-cloud
//! and Ansible both read it: `group_vars/all.yml`, then the environment's
//! own file (`group_vars/<env>.yml`), then `ARGOS_<KEY>` variables, then
//! `--set`/`--set-file` (a scenario's `settings:` count as flags).
//!
//! The engine reads a few keys itself ([`super::keys`]); every other key is
//! the project's, typed only as YAML types it.

use std::collections::BTreeMap;

use super::source::Origin;
use crate::input::yaml::{self, Kind, Node};

/// One key's winning value.
#[derive(Debug, Clone)]
pub struct Setting {
    pub value: Value,
    pub origin: Origin,
    /// Never shown: named like a secret, or listed in `secret_vars`.
    pub secret: bool,
}

/// A value as found: a YAML node of a file, or an override's text typed
/// as the file's value was.
#[derive(Clone, PartialEq)]
pub enum Value {
    Yaml(Node),
    Text(String),
}

impl std::fmt::Debug for Value {
    // Values may be secrets: their kind only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Yaml(node) => write!(f, "Yaml({})", node.kind_name()),
            Value::Text(_) => f.write_str("Text(..)"),
        }
    }
}

/// Every key's winning value, by key.
#[derive(Debug, Clone, Default)]
pub struct Values {
    entries: BTreeMap<String, Setting>,
}

/// Words that make a key a secret by its name alone.
const SECRET_WORDS: [&str; 7] = [
    "pass",
    "secret",
    "token",
    "private",
    "credential",
    "api_key",
    "apikey",
];

/// Whether `key` is named like a secret: it holds `pass`, `secret`,
/// `token`, `private`, `credential`, or ends in `_key` or `_iv`.
pub fn named_like_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| key.contains(w)) || key.ends_with("_key") || key.ends_with("_iv")
}

impl Values {
    pub fn insert(&mut self, key: String, setting: Setting) {
        self.entries.insert(key, setting);
    }

    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.entries.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Setting)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_secret(&self, key: &str) -> bool {
        self.entries.get(key).is_some_and(|s| s.secret) || named_like_a_secret(key)
    }

    /// Mark `keys` secret (a parameter they feed is NoEcho, or
    /// `secret_vars` lists them).
    pub fn mark_secret<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) {
        for key in keys {
            if let Some(setting) = self.entries.get_mut(key) {
                setting.secret = true;
            }
        }
    }

    /// Whether `key` is on, as Ansible reads a boolean: `true`/`yes`/`on`
    /// unquoted in a file, or an override YAML 1.1 reads as true.
    pub fn switch(&self, key: &str) -> bool {
        self.entries.get(key).and_then(|s| s.value.boolean()) == Some(true)
    }

    /// The values as Ansible variables (JSON), typed as Ansible reads them.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.entries
            .iter()
            .map(|(key, setting)| (key.clone(), setting.value.to_json()))
            .collect()
    }
}

impl Value {
    /// As JSON: a file's node as Ansible reads it, an override as the text
    /// YAML 1.1 makes of it when the file's value was not text.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Yaml(node) => node.to_json(),
            Value::Text(text) => serde_json::Value::String(text.clone()),
        }
    }

    pub fn node(&self) -> Option<&Node> {
        match self {
            Value::Yaml(node) => Some(node),
            Value::Text(_) => None,
        }
    }

    /// The value as a boolean, as Ansible reads it: a YAML boolean in a
    /// file (not quoted text), or an override's text that YAML 1.1 reads as
    /// one; `None` for anything else.
    pub fn boolean(&self) -> Option<bool> {
        match self {
            Value::Yaml(node) => match node.kind {
                Kind::Bool(b) => Some(b),
                _ => None,
            },
            Value::Text(text) => yaml::resolve::boolean(text.trim()),
        }
    }
}

/// An override's text, typed as the value it replaces: text stays text (a
/// password of digits is still a password); a boolean or a number must be
/// one again, read as YAML 1.1 reads it. `Err` says what was expected.
pub fn typed_override(text: &str, replaced: Option<&Node>) -> Result<Value, String> {
    let Some(replaced) = replaced else {
        return Ok(Value::Text(text.to_owned()));
    };
    let want = match replaced.kind {
        Kind::Bool(_) => "true or false",
        Kind::Int(_) => "a whole number",
        Kind::Float(_) => "a number",
        _ => return Ok(Value::Text(text.to_owned())),
    };
    let node = yaml::parse(text.trim())
        .ok()
        .filter(|n| std::mem::discriminant(&n.kind) == std::mem::discriminant(&replaced.kind))
        .ok_or_else(|| format!("{text:?} is not {want}, as the settings file's value is"))?;
    Ok(Value::Yaml(node))
}

/// A scalar as the text the engine uses, which must be the text Ansible
/// uses: a value Ansible reads as something other than what is written
/// (`0755` is 493, `yes` is True) is refused, saying how to write it. A
/// secret's message never shows the value.
pub fn node_text(node: &Node, name: &str, secret: bool) -> Result<String, String> {
    let not_shown = if secret {
        " (the value is not shown)"
    } else {
        ""
    };
    let rendered = match &node.kind {
        Kind::Str(text) => return Ok(text.clone()),
        Kind::Seq(_) | Kind::Map(_) => {
            return Err("expected a single value, not a list or mapping".into());
        }
        Kind::Tagged(tag, _) if tag == "!vault" => {
            return Err(format!(
                "is encrypted with Ansible Vault, which argos-cloud does not decrypt: give it \
                 with --set-file {name}=PATH or {}",
                super::keys::env_var(name)
            ));
        }
        Kind::Tagged(tag, _) => {
            return Err(format!(
                "is tagged {tag}: write it as plain text{not_shown}"
            ));
        }
        _ => node.rendered().unwrap_or_default(),
    };
    match node.written.as_ref() {
        Some(w) if w.plain && w.text != rendered => Err(if secret {
            format!(
                "Ansible reads this unquoted value as {}, not as the text written: put it \
                 in quotes{not_shown}",
                node.kind_name()
            )
        } else {
            format!(
                "Ansible reads {:?} as {} (YAML 1.1): write \"{}\" in quotes if you mean the text",
                w.text,
                node.describe(),
                w.text
            )
        }),
        _ => Ok(rendered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_known_by_their_names() {
        for secret in [
            "db_pass",
            "broker_password",
            "secret_key",
            "aes_key",
            "aes_iv",
            "github_token",
            "bizvizz_api_key",
        ] {
            assert!(named_like_a_secret(secret), "{secret}");
        }
        for plain in ["key_name", "db_name", "app_instance_type", "region"] {
            assert!(!named_like_a_secret(plain), "{plain}");
        }
    }

    #[test]
    fn an_override_takes_the_type_of_what_it_replaces() {
        let flag = yaml::parse("true").unwrap();
        let number = yaml::parse("4").unwrap();
        let text = yaml::parse("'0755'").unwrap();
        assert_eq!(
            typed_override("no", Some(&flag)).unwrap().to_json(),
            serde_json::json!(false)
        );
        assert!(typed_override("maybe", Some(&flag)).is_err());
        assert_eq!(
            typed_override("6", Some(&number)).unwrap().to_json(),
            serde_json::json!(6)
        );
        assert_eq!(
            typed_override("0123", Some(&text)).unwrap().to_json(),
            serde_json::json!("0123")
        );
        assert_eq!(
            typed_override("0123", None).unwrap().to_json(),
            serde_json::json!("0123")
        );
    }
}
