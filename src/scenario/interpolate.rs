//! `$VAR` in a `molecule.yml`, expanded exactly as Molecule expands it
//! (its `TemplateWithDefaults`, after Docker Compose): `$VAR`, `${VAR}`,
//! `${VAR:-default}` (empty counts as unset), `${VAR-default}`, a default
//! that is itself `$OTHER`, `$$` for a `$`. A `$` that starts none of these
//! (`${UNTERMINATED`, `$1`, a lone `$`) is an error naming its line, as
//! Molecule stops on it. Molecule's quirks are kept: the name is matched
//! without regard to case, and an unbraced `$VAR-x` takes `-x` as a default.
//!
//! A scenario being imported is a file to keep, so its variables are never
//! taken from the caller's environment ([`Mode::Import`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Molecule's pattern: `string.Template`'s, with its `idpattern`
/// `[_a-z][_a-z0-9]*(?::?-[^}]+)?`, case-insensitive.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\$(?:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*(?::?-[^}]+)?)|\{(?P<braced>[_a-z][_a-z0-9]*(?::?-[^}]+)?)\}|(?P<invalid>))",
    )
    .expect("the interpolation pattern compiles")
});

/// `replacement`'s word for a `$` that starts nothing.
const INVALID: &str = "invalid";

/// Where values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Running the scenario: the variables given (the environment and
    /// Molecule's own), as Molecule does.
    Run,
    /// Importing it: Molecule's own variables only; a variable with a
    /// default becomes its default, one without is an error.
    Import,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct InterpolationError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The text expanded, and (importing) each variable written as its default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub text: String,
    /// `${MOLECULE_DISTRO:-debian12}` → `debian12`, as notes.
    pub defaults_used: Vec<String>,
}

/// Expand `text` with `vars`. In [`Mode::Import`], `vars` must hold only
/// Molecule's own variables.
pub fn expand(
    text: &str,
    vars: &BTreeMap<String, String>,
    mode: Mode,
) -> Result<Expanded, InterpolationError> {
    let mut out = String::with_capacity(text.len());
    let mut defaults_used = Vec::new();
    let mut last = 0;
    for caps in PATTERN.captures_iter(text) {
        let whole = caps.get(0).expect("a match");
        out.push_str(&text[last..whole.start()]);
        last = whole.end();
        let error = |message: String| {
            let before = &text[..whole.start()];
            InterpolationError {
                line: before.matches('\n').count() + 1,
                column: before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                message,
            }
        };
        let replaced = replacement(&caps, vars, mode, &mut defaults_used).map_err(|message| {
            if message == INVALID {
                let at: String = text[whole.start()..]
                    .chars()
                    .take(12)
                    .take_while(|c| *c != '\n')
                    .collect();
                error(format!(
                    "`{at}` starts no variable Molecule reads (write $VAR, ${{VAR}}, \
                     ${{VAR:-default}}, or $$ for a $)"
                ))
            } else {
                error(message)
            }
        })?;
        out.push_str(&replaced);
    }
    out.push_str(&text[last..]);
    Ok(Expanded {
        text: out,
        defaults_used,
    })
}

fn replacement(
    caps: &Captures<'_>,
    vars: &BTreeMap<String, String>,
    mode: Mode,
    defaults_used: &mut Vec<String>,
) -> Result<String, String> {
    if caps.name("escaped").is_some() {
        return Ok("$".into());
    }
    let Some(named) = caps.name("named").or_else(|| caps.name("braced")) else {
        return Err(INVALID.into());
    };
    let named = named.as_str();
    let (name, default, empty_is_unset) = match named.split_once(":-") {
        Some((name, default)) => (name, Some(default), true),
        None => match named.split_once('-') {
            Some((name, default)) => (name, Some(default), false),
            None => (named, None, false),
        },
    };
    // Molecule: a default starting with `$` is the variable named by the
    // rest, whatever follows. `${A:-${B}}` would read `{B` as a name.
    let default = match default {
        Some(other) if other.starts_with('$') => {
            let other_name = &other[1..];
            if !other_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!(
                    "`${{{named}}}`: Molecule does not nest variables in a default (it would \
                     look up a variable named {other_name:?}); write ${{{name}:-${}}}",
                    other_name.trim_start_matches('{')
                ));
            }
            Some(lookup(vars, mode, other_name)?.unwrap_or_default())
        }
        Some(default) => Some(default.to_owned()),
        None => None,
    };
    let value = vars.get(name).filter(|v| !(empty_is_unset && v.is_empty()));
    match (value, default) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => {
            if mode == Mode::Import {
                defaults_used.push(format!(
                    "${{{named}}} is written as its default {default:?}"
                ));
            }
            Ok(default)
        }
        (None, None) => Ok(lookup(vars, mode, name)?.unwrap_or_default()),
    }
}

/// A variable with no default: in a run, empty when unset (as Molecule);
/// importing, an error unless it is one of Molecule's own.
fn lookup(
    vars: &BTreeMap<String, String>,
    mode: Mode,
    name: &str,
) -> Result<Option<String>, String> {
    match (vars.get(name), mode) {
        (Some(value), _) => Ok(Some(value.clone())),
        (None, Mode::Run) => Ok(None),
        (None, Mode::Import) => Err(format!(
            "${name} has no default: an imported scenario is a file to keep, and argos-cloud \
             never writes your environment into it; write the value, give it a default \
             (${{{name}:-value}}), or run the Molecule scenario as it is"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, vars: &[(&str, &str)]) -> Result<String, InterpolationError> {
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        expand(text, &vars, Mode::Run).map(|e| e.text)
    }

    #[test]
    fn variables_expand_as_molecule_expands_them() {
        let vars = [
            ("MOLECULE_DISTRO", "debian12"),
            ("EMPTY", ""),
            ("D", "dflt"),
        ];
        let ok = |text: &str| run(text, &vars).unwrap();
        assert_eq!(
            ok("geerlingguy/docker-${MOLECULE_DISTRO:-rockylinux9}-ansible"),
            "geerlingguy/docker-debian12-ansible"
        );
        assert_eq!(ok("${UNSET:-converge.yml}"), "converge.yml");
        assert_eq!(ok("${EMPTY:-x} ${EMPTY-y}"), "x ");
        assert_eq!(ok("${UNSET:-$D} ${UNSET-$NOPE}"), "dflt ");
        assert_eq!(
            ok("$MOLECULE_DISTRO $$HOME ${molecule_distro}"),
            "debian12 $HOME "
        );
        assert_eq!(ok("$UNSET."), ".", "unset is empty, as in Molecule");
        // Molecule's quirk: unbraced, `-x` is a default.
        assert_eq!(ok("$MOLECULE_DISTRO-ansible"), "debian12");
    }

    #[test]
    fn what_molecule_stops_on_is_an_error_with_its_line() {
        let error = run("a: 1\nb: ${UNTERMINATED\nc: 2\n", &[]).unwrap_err();
        assert_eq!((error.line, error.column), (2, 4));
        assert!(error.message.contains("starts no variable"), "{error}");
        for text in ["$", "cost: $5", "${}"] {
            assert!(run(text, &[]).is_err(), "{text}");
        }
        let nested = run("x: ${A:-${B}}\n", &[]).unwrap_err();
        assert!(nested.message.contains("does not nest"), "{nested}");
    }

    #[test]
    fn importing_never_reads_the_callers_environment() {
        let vars = BTreeMap::from([("MOLECULE_SCENARIO_NAME".to_owned(), "default".to_owned())]);
        let expanded = expand(
            "image: x-${MOLECULE_DISTRO:-debian12}\nname: ${MOLECULE_SCENARIO_NAME}\n",
            &vars,
            Mode::Import,
        )
        .unwrap();
        assert_eq!(expanded.text, "image: x-debian12\nname: default\n");
        assert_eq!(expanded.defaults_used.len(), 1);
        let error = expand("token: $GITHUB_TOKEN\n", &vars, Mode::Import).unwrap_err();
        assert!(
            error.message.contains("$GITHUB_TOKEN has no default"),
            "{error}"
        );
        assert_eq!(error.line, 1);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn molecule_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-z: \n-]{0,6}",
                Just("$".to_owned()),
                Just("$$".to_owned()),
                Just("${".to_owned()),
                Just("}".to_owned()),
                Just(":-".to_owned()),
                Just("SECRET_VAR".to_owned()),
                Just("MOLECULE_SCENARIO_NAME".to_owned()),
            ],
            0..16,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any text: expanded or an error with a line inside the text;
        /// importing never lets a value of the environment through.
        #[test]
        fn any_text_expands_or_names_its_line(text in molecule_text()) {
            let env = BTreeMap::from([
                ("SECRET_VAR".to_owned(), "Sup3rSecretValue".to_owned()),
                ("MOLECULE_SCENARIO_NAME".to_owned(), "default".to_owned()),
            ]);
            match expand(&text, &env, Mode::Run) {
                Ok(expanded) => {
                    if !text.contains('$') {
                        prop_assert_eq!(&expanded.text, &text);
                    }
                }
                Err(error) => prop_assert!(error.line <= text.lines().count().max(1)),
            }
            let builtins = BTreeMap::from([("MOLECULE_SCENARIO_NAME".to_owned(), "default".to_owned())]);
            if let Ok(imported) = expand(&text, &builtins, Mode::Import) {
                prop_assert!(!imported.text.contains("Sup3rSecretValue"));
            }
        }
    }
}
