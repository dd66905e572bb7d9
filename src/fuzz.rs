//! Structure-aware fuzzing of what reads a user's files: the formation
//! merge and its checks, and the settings reader. Inputs are made from the
//! shipped files, cut, spliced and mutated where structure matters (keys
//! twice, deep nesting, scalars YAML 1.1 reads otherwise, secrets in every
//! place), so most runs reach past the parser. The property: an answer or a
//! clear error, never a panic, and never the secret in a message.
//!
//! It runs for `ARGOS_FUZZ_SECONDS` (default 5; CI gives it longer) and
//! prints how many inputs it tried; proptest shrinks what fails and prints
//! the smallest input.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::cfn::template::{Formation, merge, references, tagging};
use crate::model::settings::{self, Overrides};

const SAMPLE: &str = include_str!("../playbooks/group_vars/all.sample.yml");
const FORMATIONS: [&str; 3] = [
    include_str!("../formations/network.json"),
    include_str!("../formations/database.json"),
    include_str!("../formations/app.json"),
];
/// Put into the settings as a secret's value; must never be shown.
const SECRET: &str = "Fuzz3dSecretValue";

fn budget() -> Duration {
    let seconds = std::env::var("ARGOS_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(seconds)
}

/// Run `test` on inputs of `strategy` until the budget is spent.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    const ROUND: u32 = 64;
    let deadline = Instant::now() + budget();
    let mut rounds = 0;
    while Instant::now() < deadline {
        // A runner counts its cases: a new one (with a new random seed) a round.
        let mut runner = TestRunner::new(Config {
            cases: ROUND,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(failure) = runner.run(&strategy, &test) {
            panic!("{name}: {failure}");
        }
        rounds += 1;
    }
    eprintln!("{name}: {} inputs, no failure", rounds * ROUND);
}

/// A mutation of JSON text that keeps most of its structure.
fn json_mutation() -> impl Strategy<Value = (usize, usize, String)> {
    (
        any::<usize>(),
        any::<usize>(),
        prop_oneof![
            Just(String::new()),
            Just("\"Vpc\": {},".to_owned()),
            Just("\"Resources\": {},".to_owned()),
            Just("{\"Ref\": \"Vpc\"}".to_owned()),
            Just("{\"Fn::Sub\": \"${\"}".to_owned()),
            Just("1.10".to_owned()),
            Just("123456789012345678901234567890".to_owned()),
            "[\\[\\]{}\":,]{1,4}",
            Just("[".repeat(200)),
        ],
    )
}

fn splice(text: &str, at: usize, cut: usize, insert: &str) -> String {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + cut % 16).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{insert}{}", &text[..at], &text[end..])
}

#[test]
fn fuzz_the_formation_merge() {
    fuzz(
        "formations",
        proptest::collection::vec((0..FORMATIONS.len(), json_mutation()), 1..4),
        |edits| {
            let mut files: Vec<String> = FORMATIONS.iter().map(|f| (*f).to_owned()).collect();
            for (file, (at, cut, insert)) in edits {
                files[file] = splice(&files[file], at, cut, &insert);
            }
            let parsed: Result<Vec<Formation>, _> = files
                .into_iter()
                .enumerate()
                .map(|(i, text)| Formation::parse(Path::new(&format!("f{i}.json")), text))
                .collect();
            if let Ok(formations) = parsed
                && let Ok(template) = merge(formations, "fuzz")
            {
                let _ = references::check(&template);
                let parameter = |name: &str| Some(format!("v-{name}"));
                let resolver = crate::cfn::template::evaluate::Resolver {
                    parameter: &parameter,
                    stack_name: "fuzz",
                    region: "us-east-1",
                };
                let _ = tagging::check(
                    &template,
                    tagging::Scope::Environment,
                    &tagging::Expected {
                        app: "argos",
                        env: Some("staging"),
                        resolver: &resolver,
                    },
                );
                let compact = template.to_json();
                let value: serde_json::Value = serde_json::from_str(&compact)
                    .map_err(|e| TestCaseError::fail(format!("sent JSON does not parse: {e}")))?;
                prop_assert!(value.is_object());
                let pretty: serde_json::Value =
                    serde_json::from_str(&template.to_pretty_json()).unwrap();
                prop_assert_eq!(value, pretty);
            }
            Ok(())
        },
    );
}

/// A settings line: a known key with a value of many shapes.
fn settings_edit() -> impl Strategy<Value = (usize, String)> {
    let value = prop_oneof![
        Just(SECRET.to_owned()),
        Just(format!("0{}", "7".repeat(12))),
        Just(format!("[{SECRET}]")),
        Just(format!("{{k: {SECRET}}}")),
        Just(format!("!!binary {SECRET}")),
        Just(format!("!vault |\n  {SECRET}")),
        Just("yes".to_owned()),
        Just("1_000".to_owned()),
        Just("1e10".to_owned()),
        Just("=".to_owned()),
        Just("*nothing".to_owned()),
        Just("&a [*a]".to_owned()),
        Just(format!("{}{}", "[".repeat(100), "]".repeat(100))),
        "[ -~]{0,12}",
    ];
    (any::<usize>(), value)
}

#[test]
fn fuzz_the_settings_reader() {
    let lines: Vec<&str> = SAMPLE.lines().collect();
    fuzz(
        "settings",
        proptest::collection::vec(settings_edit(), 1..5),
        |edits| {
            let mut text: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            for (at, value) in edits {
                let at = at % text.len();
                // Replace a key's value, or add the key again.
                let key = text[at].split(':').next().unwrap_or("db_pass").to_owned();
                let key = if key.is_empty() || key.starts_with([' ', '#', '-']) {
                    "db_pass".to_owned()
                } else {
                    key
                };
                if at.is_multiple_of(3) {
                    text.insert(at % text.len(), format!("{key}: {value}"));
                } else {
                    text[at] = format!("{key}: {value}");
                }
            }
            let text = text.join("\n");
            let mut overrides = Overrides::default();
            overrides.flag("db_pass", SECRET);
            for candidate in [Overrides::default(), overrides] {
                if let Err(errors) = settings::parse(Path::new("all.yml"), &text, &candidate) {
                    for error in &errors.0 {
                        let message = error.to_string();
                        // Only a secret key's value is secret.
                        if message.contains("db_pass") || message.contains("--set") {
                            prop_assert!(!message.contains(SECRET), "{}", message);
                        }
                    }
                }
            }
            Ok(())
        },
    );
}
