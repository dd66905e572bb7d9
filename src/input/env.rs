//! The process environment, read without assuming it is text. A variable
//! of someone else's that is not UTF-8 must not stop argos-cloud; one that
//! argos-cloud reads and that is not UTF-8 is an error naming the variable,
//! never showing its value (it may be a password).

use std::ffi::OsString;

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("environment variable {name}: its value is not UTF-8 text (the value is not shown)")]
    NotText { name: String },
    #[error("environment variable {name}: {problem}")]
    Invalid { name: String, problem: String },
}

impl Environment {
    /// This process's environment.
    pub fn process() -> Self {
        Self::from_os(std::env::vars_os())
    }

    pub fn from_os(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
        }
    }

    /// From text pairs (tests, and callers that made their own).
    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self::from_os(vars.into_iter().map(|(k, v)| (k.into(), v.into())))
    }

    /// The value of `name`, or `None` when it is unset or empty: an empty
    /// variable (`ARGOS_BACKEND=`, or a CI variable that expanded to
    /// nothing) counts as unset.
    pub fn get(&self, name: &str) -> Result<Option<String>, EnvError> {
        // A name defined twice: the first wins, as the C library's getenv.
        let Some((_, value)) = self.vars.iter().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        if value.is_empty() {
            return Ok(None);
        }
        value
            .to_str()
            .map(|v| Some(v.to_owned()))
            .ok_or_else(|| EnvError::NotText {
                name: name.to_owned(),
            })
    }

    /// A switch such as `ARGOS_KEEP`: `1`, `true`, `yes`, `on` are on;
    /// `0`, `false`, `no`, `off` and unset are off; anything else is an
    /// error naming the variable.
    pub fn switch(&self, name: &str) -> Result<bool, EnvError> {
        let Some(value) = self.get(name)? else {
            return Ok(false);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(EnvError::Invalid {
                name: name.to_owned(),
                problem: format!("{value:?} is not a switch: write 1 or 0 (or true/false)"),
            }),
        }
    }

    /// The names (text ones only) that start with `prefix`, in order.
    pub fn names_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.vars
            .iter()
            .filter_map(|(name, _)| name.to_str())
            .filter(move |name| name.starts_with(prefix))
    }

    /// Every variable whose name and value are text: what a child process
    /// or an interpolation may see. Others are left out, never guessed at.
    pub fn text_vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .filter_map(|(n, v)| Some((n.to_str()?, v.to_str()?)))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use super::*;

    fn bytes(value: &[u8]) -> OsString {
        OsString::from_vec(value.to_vec())
    }

    #[test]
    fn a_stranger_that_is_not_text_is_ignored_and_ours_is_named_without_its_value() {
        let env = Environment::from_os([
            ("FOO".into(), bytes(b"\xff")),
            ("ARGOS_DB_PASS".into(), bytes(b"hunter2\xff")),
            ("ARGOS_REGION".into(), "eu-west-1".into()),
        ]);
        assert!(env.get("FOO").unwrap_err().to_string().contains("FOO"));
        assert_eq!(
            env.get("ARGOS_REGION").unwrap().as_deref(),
            Some("eu-west-1")
        );
        let error = env.get("ARGOS_DB_PASS").unwrap_err().to_string();
        assert!(error.contains("ARGOS_DB_PASS"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert_eq!(env.text_vars().count(), 1, "only the text pair");
    }

    #[test]
    fn empty_is_unset_and_switches_say_what_they_take() {
        let env = Environment::from_pairs([
            ("EMPTY", ""),
            ("ONE", "1"),
            ("OFF", "off"),
            ("ODD", "maybe"),
        ]);
        assert_eq!(env.get("EMPTY").unwrap(), None);
        assert!(env.switch("ONE").unwrap());
        assert!(!env.switch("OFF").unwrap());
        assert!(!env.switch("UNSET").unwrap());
        let error = env.switch("ODD").unwrap_err().to_string();
        assert!(
            error.contains("ODD") && error.contains("write 1 or 0"),
            "{error}"
        );
    }
}
