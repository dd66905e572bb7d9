//! cfn-lint on a template before any stack call: it knows every resource
//! type's schema, which neither emulator checks.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::cfn::template::{Section, Template};
use crate::model::project::Project;
use crate::sys::process;

/// Where cfn-lint is looked for, in order: this variable, the project's
/// venv (`.venv` or `ARGOS_VENV`, made by `.ci/run` or the test harness),
/// then `PATH`.
pub const CFN_LINT_VAR: &str = "ARGOS_CFN_LINT";

#[derive(Debug, Clone)]
pub struct CfnLint {
    program: PathBuf,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Level {
    Error,
    Warning,
    Informational,
}

#[derive(Debug, Clone)]
pub struct LintFinding {
    pub level: Level,
    pub rule: String,
    pub message: String,
    /// `file:line` of the formation the finding is in, when known.
    pub location: String,
    /// e.g. `Resources.Database.Properties.EngineVersion`.
    pub at: String,
}

impl fmt::Display for LintFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {}: {}: {}: {}",
            self.level, self.rule, self.location, self.at, self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Run(crate::sys::process::ProcessError),
    #[error("cannot write the template for cfn-lint: {0}")]
    TempFile(std::io::Error),
    #[error("cfn-lint did not print its JSON report ({status}): {stderr}")]
    BadOutput { status: String, stderr: String },
}

#[derive(Deserialize)]
struct RawMatch {
    #[serde(rename = "Level")]
    level: Level,
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "Rule")]
    rule: RawRule,
    #[serde(rename = "Location")]
    location: RawLocation,
}

#[derive(Deserialize)]
struct RawRule {
    #[serde(rename = "Id")]
    id: String,
}

#[derive(Deserialize)]
struct RawLocation {
    #[serde(rename = "Path", default)]
    path: Vec<serde_json::Value>,
}

impl CfnLint {
    /// Find cfn-lint, or `None` when it is not installed.
    pub fn locate(project: &Project) -> Option<Self> {
        let candidates = std::env::var_os(CFN_LINT_VAR)
            .map(PathBuf::from)
            .into_iter()
            .chain([project.venv().join("bin/cfn-lint")])
            .chain(std::env::var_os("PATH").into_iter().flat_map(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("cfn-lint"))
                    .collect::<Vec<_>>()
            }));
        candidates.filter(|p| p.is_file()).find_map(|program| {
            let version = process::run(Command::new(&program).arg("--version")).ok()?;
            Some(Self {
                version: version.trim().to_owned(),
                program,
            })
        })
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Lint `template` for `region`; findings point back at the formation files.
    pub fn run(&self, template: &Template, region: &str) -> Result<Vec<LintFinding>, LintError> {
        let mut file = tempfile::Builder::new()
            .prefix("argos-template-")
            .suffix(".json")
            .tempfile()
            .map_err(LintError::TempFile)?;
        file.write_all(template.to_pretty_json().as_bytes())
            .map_err(LintError::TempFile)?;
        // cfn-lint exits non-zero when it finds something: the report decides.
        let output = process::output(
            Command::new(&self.program)
                .args(["--format", "json", "--regions", region, "--"])
                .arg(file.path()),
        )
        .map_err(LintError::Run)?;
        let matches: Vec<RawMatch> =
            serde_json::from_str(&output.stdout).map_err(|_| LintError::BadOutput {
                status: output.status.to_string(),
                stderr: output.stderr_tail(20),
            })?;
        let mut findings: Vec<LintFinding> = matches
            .into_iter()
            .map(|m| {
                let path: Vec<String> = m
                    .location
                    .path
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect();
                let location = match (path.first().and_then(|s| Section::parse(s)), path.get(1)) {
                    (Some(section), Some(id)) => template.locate(section, id),
                    _ => "(merged template)".to_owned(),
                };
                LintFinding {
                    level: m.level,
                    rule: m.rule.id,
                    message: readable(&m.message),
                    location,
                    at: path.join("."),
                }
            })
            .collect();
        findings.sort_by_key(|f| f.level);
        Ok(findings)
    }
}

/// How many items of a long list a finding keeps.
const LIST_ITEMS_KEPT: usize = 5;

/// A finding's message as one readable line: a list of values (cfn-lint
/// quotes every EC2 instance type, some 10 KB, when one is not among them)
/// keeps its first few items and says how many it left out.
fn readable(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    let mut rest = message.replace('\n', " ");
    while let Some(open) = rest.find('[') {
        let Some(len) = rest[open..].find(']') else {
            break;
        };
        let inner = &rest[open + 1..open + len];
        out.push_str(&rest[..=open]);
        let items: Vec<&str> = inner.split(", ").collect();
        if items.len() > 2 * LIST_ITEMS_KEPT {
            out.push_str(&items[..LIST_ITEMS_KEPT].join(", "));
            out.push_str(&format!(", … {} more", items.len() - LIST_ITEMS_KEPT));
        } else {
            out.push_str(inner);
        }
        out.push(']');
        rest = rest[open + len + 1..].to_owned();
    }
    out.push_str(&rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{LintError, readable};

    #[test]
    fn a_report_that_is_not_json_says_the_exit_status_once() {
        let status = std::process::Command::new("true").status().unwrap();
        let error = LintError::BadOutput {
            status: status.to_string(),
            stderr: "Traceback".into(),
        };
        assert_eq!(
            error.to_string(),
            "cfn-lint did not print its JSON report (exit status: 0): Traceback"
        );
    }

    #[test]
    fn a_long_list_of_values_is_elided_to_a_readable_line() {
        let types: Vec<String> = (0..900).map(|i| format!("'t{i}.large'")).collect();
        let message = format!(
            "'t9.huge' is not one of [{}] when 'Ref' is resolved",
            types.join(", ")
        );
        assert!(message.len() > 10_000);
        let short = readable(&message);
        assert_eq!(
            short,
            "'t9.huge' is not one of ['t0.large', 't1.large', 't2.large', 't3.large', \
             't4.large', … 895 more] when 'Ref' is resolved"
        );
    }

    #[test]
    fn short_lists_and_plain_messages_are_kept_as_they_are() {
        for message in [
            "Use dynamic references over parameters for secrets",
            "'x' is not one of ['a', 'b', 'c']",
            "unbalanced [ bracket",
            "two lines\nbecome one",
        ] {
            assert_eq!(readable(message), message.replace('\n', " "));
        }
    }
}
