//! The `policy` step of `validate`: the rules of `policies/*.guard`,
//! evaluated by AWS CloudFormation Guard on the merged environment
//! template, on `image.json` and on the IAM policy documents the settings
//! name, with the settings' values where a rule needs them. Findings name
//! the rule, the resource, the formation's file:line, the value and the fix;
//! exceptions are the settings' `policy_exceptions`, each with its reason.

pub mod documents;
pub mod guard;
pub mod rules;

use std::fmt;
use std::time::{Duration, Instant};

use crate::cfn::plan::Plan;
use crate::cfn::template::Template;
use crate::model::project::Project;
use crate::model::settings::{PolicyException, PolicySettings, Settings};
pub use documents::Document;
use documents::Located;
pub use rules::{Input, RuleFile, Severity};

/// A rule that failed on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFinding {
    pub rule: String,
    pub severity: Severity,
    /// The resource's logical id (`Parameters.X` for a parameter), or a
    /// policy document's statement.
    pub resource: String,
    /// `formations/app.json:120`.
    pub location: String,
    /// What is wrong, where: `Properties.FromPort is 22`.
    pub found: String,
    pub why: Option<String>,
    pub fix: Option<String>,
}

impl fmt::Display for PolicyFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} [{}] on {}: {}",
            self.location, self.rule, self.severity, self.resource, self.found
        )?;
        if let Some(why) = &self.why {
            write!(f, ": {why}")?;
        }
        if let Some(fix) = &self.fix {
            write!(f, ". Fix: {fix}")?;
        }
        Ok(())
    }
}

/// What the policy step found.
#[derive(Debug, Clone, Default)]
pub struct PolicyReport {
    /// Rule files and rules in force: (shipped, the project's own).
    pub files: (usize, usize),
    pub rules: usize,
    /// What was checked, for the step's line: "environment, image, 1 IAM policy".
    pub checked: Vec<String>,
    /// High findings not excepted: they fail the step.
    pub failures: Vec<PolicyFinding>,
    /// Low findings: notes.
    pub notes: Vec<PolicyFinding>,
    /// Findings an exception accepts, with its reason.
    pub excepted: Vec<(PolicyFinding, PolicyException)>,
    /// Every exception in force, whether or not it was needed this time.
    pub exceptions: Vec<PolicyException>,
    /// What stopped the step: a rule file Guard could not read, an exception
    /// for a rule or a resource that does not exist, an unreadable document.
    pub problems: Vec<String>,
    pub elapsed: Duration,
}

impl PolicyReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.problems.is_empty()
    }
}

/// A template to check and the plan that gives its parameters their values.
pub struct Subject<'a> {
    /// "environment", "image".
    pub label: &'static str,
    pub template: &'a Template,
    pub plan: &'a Plan,
    /// The environment's name (none for the shared image).
    pub env: Option<&'a str>,
}

/// Check `subjects` and the settings' IAM policy documents with the
/// project's rules.
pub fn check(project: &Project, settings: &Settings, subjects: &[Subject<'_>]) -> PolicyReport {
    let started = Instant::now();
    let files = rules::load(project);
    let policies = documents::iam_policies(project, &settings.policy.iam_policies);
    let mut report = match (files, policies) {
        (Ok(files), Ok(policies)) => evaluate(&files, subjects, &policies, &settings.policy),
        (files, policies) => PolicyReport {
            problems: files
                .err()
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .chain(policies.err().into_iter().flatten())
                .collect(),
            ..PolicyReport::default()
        },
    };
    report.elapsed = started.elapsed();
    report
}

/// Evaluate `files` on the templates of `subjects` and on `policies`.
pub fn evaluate(
    files: &[RuleFile],
    subjects: &[Subject<'_>],
    policies: &[Document<'_>],
    settings: &PolicySettings,
) -> PolicyReport {
    let mut report = PolicyReport::default();
    let shipped = files.iter().filter(|f| f.shipped).count();
    report.files = (shipped, files.len() - shipped);
    report.rules = files.iter().map(|f| f.rules.len()).sum();
    let templates: Vec<Document> = subjects
        .iter()
        .map(|s| documents::of_template(s.label, s.template, s.plan, s.env, settings))
        .collect();
    report.checked = subjects.iter().map(|s| s.label.to_owned()).collect();
    if files.iter().any(|f| f.input == Input::IamPolicies) {
        report.checked.push(match policies.len() {
            0 => "no IAM policy documents (iam_policies names none)".to_owned(),
            1 => "1 IAM policy document".to_owned(),
            n => format!("{n} IAM policy documents"),
        });
    }

    check_exceptions(
        &settings.exceptions,
        files,
        &templates,
        policies,
        &mut report,
    );

    // Distinct already: Guard's violations are one per rule, document and
    // place, and rule names are unique across files.
    let mut findings = Vec::new();
    for file in files {
        let documents = match file.input {
            Input::Formations => &templates[..],
            Input::IamPolicies => policies,
        };
        let texts: Vec<String> = documents.iter().map(|d| d.json.clone()).collect();
        match guard::evaluate(&file.text, &texts) {
            Err(e) => report.problems.push(format!(
                "{}: Guard cannot evaluate it: {e}",
                file.path.display()
            )),
            Ok(violations) => {
                for violation in violations {
                    let rule = file.rules.iter().find(|r| r.name == violation.rule);
                    let located = documents[violation.document].locate(&violation);
                    findings.push(finding(rule, &violation, located));
                }
            }
        }
    }
    for finding in findings {
        let exception = settings
            .exceptions
            .iter()
            .find(|e| e.rule == finding.rule && e.resource == finding.resource);
        match (exception, finding.severity) {
            (Some(exception), _) => report.excepted.push((finding, exception.clone())),
            (None, Severity::High) => report.failures.push(finding),
            (None, Severity::Low) => report.notes.push(finding),
        }
    }
    report.exceptions = settings.exceptions.clone();
    report
}

fn finding(rule: Option<&rules::Rule>, violation: &guard::Violation, at: Located) -> PolicyFinding {
    let found = match (&violation.missing, &violation.value) {
        (Some(missing), _) => format!("{} has no {missing}", at.path),
        (None, Some(_)) => format!("{} is {}", at.path, at.value),
        (None, None) => at.path.clone(),
    };
    PolicyFinding {
        rule: violation.rule.clone(),
        severity: rule.map_or(Severity::High, |r| r.severity),
        resource: at.resource,
        location: at.location,
        found,
        why: rule
            .and_then(|r| r.why.clone())
            .or_else(|| violation.message.clone()),
        fix: rule.and_then(|r| r.fix.clone()),
    }
}

/// An exception must name a rule in force and a resource of the checked
/// documents: one that matches nothing is a typo or a leftover, and either
/// would hide the next real finding under its reason.
fn check_exceptions(
    exceptions: &[PolicyException],
    files: &[RuleFile],
    templates: &[Document],
    policies: &[Document],
    report: &mut PolicyReport,
) {
    for exception in exceptions {
        if !files
            .iter()
            .flat_map(|f| &f.rules)
            .any(|r| r.name == exception.rule)
        {
            let mut names: Vec<&str> = files
                .iter()
                .flat_map(|f| &f.rules)
                .map(|r| r.name.as_str())
                .collect();
            names.sort_unstable();
            report.problems.push(format!(
                "{}: policy_exceptions: no rule is named {:?} (the rules: {})",
                exception.origin,
                exception.rule,
                names.join(", ")
            ));
        }
        if !templates
            .iter()
            .chain(policies)
            .any(|d| d.has_resource(&exception.resource))
        {
            report.problems.push(format!(
                "{}: policy_exceptions: no resource {:?} in the formations or the IAM policy \
                 documents (a logical id such as AppServerSecurityGroup, Parameters.DBPassword, \
                 or FILE#Sid of a policy statement)",
                exception.origin, exception.resource
            ));
        }
    }
}

#[cfg(test)]
mod tests;
