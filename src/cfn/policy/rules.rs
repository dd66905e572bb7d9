//! The policy rules: the shipped `.guard` files (embedded, so an installed
//! binary has them) and the project's own `policies/*.guard`. Guard
//! evaluates them; this file reads only what Guard has no place for: each
//! rule's why, fix and severity, from the comment block above it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::project::Project;

/// The rule files argos-cloud ships, by file name.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "database.guard",
        include_str!("../../../policies/database.guard"),
    ),
    ("iam.guard", include_str!("../../../policies/iam.guard")),
    (
        "iam-documents.guard",
        include_str!("../../../policies/iam-documents.guard"),
    ),
    (
        "network.guard",
        include_str!("../../../policies/network.guard"),
    ),
    (
        "parameters.guard",
        include_str!("../../../policies/parameters.guard"),
    ),
    ("s3.guard", include_str!("../../../policies/s3.guard")),
    (
        "storage.guard",
        include_str!("../../../policies/storage.guard"),
    ),
];

/// The project's folder of rule files.
pub const FOLDER: &str = "policies";

/// Rule files may be at most this big (Guard holds them in memory).
const RULE_FILE: crate::input::file::Limit = crate::input::file::Limit {
    what: "a policy rule file",
    bytes: 1024 * 1024,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails `validate`.
    High,
    /// A note.
    Low,
}

impl Severity {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "high" => Some(Self::High),
            "low" => Some(Self::Low),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::High => "high",
            Self::Low => "low",
        })
    }
}

/// What a rule file's rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The merged environment template and `image.json`.
    Formations,
    /// The documents the settings' `iam_policies` names.
    IamPolicies,
}

impl Input {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "formations" => Some(Self::Formations),
            "iam-policies" => Some(Self::IamPolicies),
            _ => None,
        }
    }
}

/// One rule: its name, where it is and what its comment block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub line: usize,
    pub why: Option<String>,
    pub fix: Option<String>,
    pub severity: Severity,
}

/// One `.guard` file.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// `policies/network.guard` in the project, or the shipped file's name.
    pub path: PathBuf,
    /// True for a shipped file (embedded, or the project's identical copy).
    pub shipped: bool,
    pub text: String,
    pub input: Input,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {problem}")]
    Read { file: String, problem: String },
    #[error("{file}:{line}: {problem}")]
    Header {
        file: String,
        line: usize,
        problem: String,
    },
    #[error(
        "{file}:{line}: rule `{name}` is also defined at {first}: rule names are how findings \
         and exceptions name a rule, so each must be unique"
    )]
    Duplicate {
        name: String,
        file: String,
        line: usize,
        first: String,
    },
}

/// The rules in force: the shipped files, with the project's `policies/`
/// added (a project file named like a shipped one replaces it).
pub fn load(project: &Project) -> Result<Vec<RuleFile>, Vec<RuleError>> {
    let mut files: Vec<RuleFile> = Vec::new();
    let mut errors = Vec::new();
    let own = own_files(project);
    let mut parsed = Vec::new();
    for (name, text) in SHIPPED {
        if !own
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == *name))
        {
            parsed.push(parse(PathBuf::from(name), true, text.to_string()));
        }
    }
    for path in own {
        let shown = path
            .strip_prefix(project.root())
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.clone());
        match crate::input::file::read_text(&path, RULE_FILE) {
            Err(e) => errors.push(RuleError::Read {
                file: shown.display().to_string(),
                problem: e.to_string(),
            }),
            Ok(text) => {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let shipped = SHIPPED.iter().any(|(n, t)| *n == name && *t == text);
                parsed.push(parse(shown, shipped, text));
            }
        }
    }
    for file in parsed {
        match file {
            Ok(file) => files.push(file),
            Err(e) => errors.push(e),
        }
    }
    files.sort_by(|a, b| a.path.file_name().cmp(&b.path.file_name()));
    errors.extend(duplicates(&files));
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// `policies/*.guard` of the project, in name order.
fn own_files(project: &Project) -> Vec<PathBuf> {
    crate::input::file::named_with_extension(&project.path(FOLDER), "guard")
}

fn duplicates(files: &[RuleFile]) -> Vec<RuleError> {
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        for rule in &file.rules {
            let here = format!("{}:{}", file.path.display(), rule.line);
            match seen.iter().find(|(name, _)| *name == rule.name) {
                Some((_, first)) => errors.push(RuleError::Duplicate {
                    name: rule.name.clone(),
                    file: file.path.display().to_string(),
                    line: rule.line,
                    first: first.clone(),
                }),
                None => seen.push((&rule.name, here)),
            }
        }
    }
    errors
}

/// The rules of one file and their comment blocks:
///
/// ```text
/// # input: iam-policies            (file header, before the first rule)
///
/// # ssh_or_rdp_from_anywhere
/// #   why: ...
/// #   fix: ...
/// #   severity: high
/// rule ssh_or_rdp_from_anywhere when ... {
/// ```
pub fn parse(path: PathBuf, shipped: bool, text: String) -> Result<RuleFile, RuleError> {
    let file = path.display().to_string();
    let header = |line: usize, problem: String| RuleError::Header {
        file: file.clone(),
        line,
        problem,
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut input = Input::Formations;
    let mut rules = Vec::new();
    let mut comments: Vec<(usize, &str)> = Vec::new();
    for (index, raw) in lines.iter().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix('#') {
            comments.push((number, comment.trim()));
            continue;
        }
        if let Some(name) = rule_name(line) {
            let mut rule = Rule {
                name: name.to_owned(),
                line: number,
                why: None,
                fix: None,
                severity: Severity::High,
            };
            for (at, comment) in &comments {
                let Some((field, value)) = comment.split_once(':') else {
                    continue;
                };
                let value = value.trim().to_owned();
                match field.trim() {
                    "why" => rule.why = Some(value),
                    "fix" => rule.fix = Some(value),
                    "severity" => {
                        rule.severity = Severity::parse(&value).ok_or_else(|| {
                            header(*at, format!("severity {value:?} is not high or low"))
                        })?;
                    }
                    _ => {}
                }
            }
            rules.push(rule);
        } else if rules.is_empty() {
            // Before the first rule: the file's header comments.
            for (at, comment) in &comments {
                if let Some(value) = comment.strip_prefix("input:") {
                    let value = value.trim();
                    input = Input::parse(value).ok_or_else(|| {
                        header(
                            *at,
                            format!("input {value:?} is not formations or iam-policies"),
                        )
                    })?;
                }
            }
        }
        comments.clear();
    }
    if rules.is_empty() {
        return Err(RuleError::Read {
            file,
            problem: "no `rule NAME { ... }` in it: a policy file holds Guard rules".into(),
        });
    }
    if shipped && let Some(rule) = rules.iter().find(|r| r.why.is_none() || r.fix.is_none()) {
        return Err(header(
            rule.line,
            format!("shipped rule {} needs a `why:` and a `fix:`", rule.name),
        ));
    }
    Ok(RuleFile {
        path,
        shipped,
        text,
        input,
        rules,
    })
}

/// `rule NAME ...` → NAME (Guard's parameterised `rule NAME(a, b)` too).
fn rule_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("rule")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let name = rest
        .trim_start()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()?;
    (!name.is_empty()).then_some(name)
}
