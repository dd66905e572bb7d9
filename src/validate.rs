//! `validate`: every check that can run without touching a backend, in the
//! order a user fixes things: settings, names, formations, references, tags,
//! size, parameters, then cfn-lint. Each step says what it checked; a step
//! that cannot run says which earlier step it needs.

use std::fmt;

use crate::lint::{CfnLint, Level};
use crate::names::{EnvName, EnvNames};
use crate::plan::Plan;
use crate::project::Project;
use crate::settings::{self, Overrides, Settings};
use crate::template::images::{self, BAKED_IMAGE_PARAMETER, GroupImage};
use crate::template::{Formations, INLINE_BODY_LIMIT, Section, Template, references, tagging};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed(String),
    /// What failed, one problem per entry.
    Failed(Vec<String>),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    /// Things worth knowing that do not fail validation.
    pub notices: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self
            .steps
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Failed(_)))
    }

    pub fn step(&self, name: &str) -> Option<&Outcome> {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.outcome)
    }

    fn push(&mut self, name: &'static str, outcome: Outcome) {
        self.steps.push(Step { name, outcome });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            let (mark, detail) = match &step.outcome {
                Outcome::Passed(detail) => ("ok", detail.as_str()),
                Outcome::Skipped(reason) => ("skip", reason.as_str()),
                Outcome::Failed(_) => ("FAIL", ""),
            };
            writeln!(f, "{mark:>5}  {:<11} {detail}", step.name)?;
            if let Outcome::Failed(problems) = &step.outcome {
                for problem in problems {
                    writeln!(f, "         - {problem}")?;
                }
            }
        }
        for notice in &self.notices {
            writeln!(f, " note  {notice}")?;
        }
        Ok(())
    }
}

/// The settings' `topology` against the playbooks and the formations' groups.
fn topology_outcome(
    project: &Project,
    settings: Option<&Settings>,
    tags: &tagging::TagReport,
    images: &[GroupImage],
) -> Outcome {
    let Some(settings) = settings else {
        return Outcome::Skipped("needs valid settings (topology)".into());
    };
    let topology = &settings.topology;
    let problems = topology.check_against(&project.path(Project::PLAYBOOKS), &tags.groups, images);
    if !problems.is_empty() {
        return Outcome::Failed(problems.iter().map(ToString::to_string).collect());
    }
    let order: Vec<&str> = topology.deploy_order().map(|g| g.as_str()).collect();
    Outcome::Passed(format!(
        "{} groups, deployed in this order: {}; each has a playbook, every tagged group is listed, \
         and the baked ones ({}) start from {BAKED_IMAGE_PARAMETER} on AWS",
        order.len(),
        order.join(", "),
        topology
            .deploy_order()
            .filter(|g| topology.is_baked(g))
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Whether to run cfn-lint when it is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    IfInstalled,
    Never,
}

pub fn validate(project: &Project, overrides: &Overrides, env: &str, lint: Lint) -> Report {
    let mut report = Report::default();

    let settings = match settings::load(project, overrides) {
        Ok(loaded) => {
            report.notices.extend(loaded.notices);
            report.push(
                "settings",
                Outcome::Passed(format!(
                    "{} ({} keys known)",
                    loaded.settings.source.display(),
                    settings::keys::KEYS.len()
                )),
            );
            Some(loaded.settings)
        }
        Err(errors) => {
            report.push(
                "settings",
                Outcome::Failed(errors.0.iter().map(ToString::to_string).collect()),
            );
            None
        }
    };

    let names = match (EnvName::new(env), &settings) {
        (Err(e), _) => {
            report.push("names", Outcome::Failed(vec![e.to_string()]));
            None
        }
        (Ok(_), None) => {
            report.push(
                "names",
                Outcome::Skipped("needs valid settings (app_name)".into()),
            );
            None
        }
        (Ok(env), Some(settings)) => {
            let names = EnvNames::new(settings.app_name.clone(), env);
            report.push(
                "names",
                Outcome::Passed(format!(
                    "stack {}, image {}, resources {}",
                    names.stack(),
                    names.app.image_name(),
                    names.resource("<group>")
                )),
            );
            Some(names)
        }
    };

    let formations = match Formations::load(project) {
        Ok(formations) => {
            let t = &formations.environment;
            let count = |s| t.ids(s).count();
            report.push(
                "merge",
                Outcome::Passed(format!(
                    "{} formations: {} parameters, {} conditions, {} resources, {} outputs; ids unique",
                    t.formations().len(),
                    count(Section::Parameters),
                    count(Section::Conditions),
                    count(Section::Resources),
                    count(Section::Outputs),
                )),
            );
            Some(formations)
        }
        Err(e) => {
            report.push(
                "merge",
                Outcome::Failed(e.to_string().lines().map(str::to_owned).collect()),
            );
            None
        }
    };

    let Some(formations) = formations else {
        for step in [
            "references",
            "tags",
            "topology",
            "size",
            "parameters",
            "image",
            "cfn-lint",
        ] {
            report.push(step, Outcome::Skipped("needs formations that merge".into()));
        }
        return report;
    };
    let environment = &formations.environment;

    report.push(
        "references",
        findings_outcome(references::check(environment), || {
            "every Ref, Fn::GetAtt, Fn::Sub, Fn::If, Condition, FindInMap and DependsOn resolves"
                .into()
        }),
    );

    let tags = tagging::check(environment, tagging::Scope::Environment);
    let images = images::group_images(environment);
    let topology = topology_outcome(project, settings.as_ref(), &tags, &images);
    report.push(
        "tags",
        findings_outcome(tags.findings, || {
            format!(
                "{} taggable resources carry Name, Group, Env and App",
                tags.checked
            )
        }),
    );

    report.push("topology", topology);

    report.push(
        "size",
        match environment.check_size() {
            Ok(bytes) => Outcome::Passed(format!(
                "{bytes} of {INLINE_BODY_LIMIT} bytes (inline TemplateBody limit)"
            )),
            Err(e) => Outcome::Failed(vec![e.to_string()]),
        },
    );

    match (&settings, &names) {
        (Some(settings), Some(names)) => {
            // The app image is baked at commission; its id is not known yet, so
            // the base image stands in for it (both are AMI ids).
            let plan = Plan::environment(settings, names, &settings.access.base_ami, None)
                .with_group_parameters(environment);
            let count = plan.parameters.len();
            report.push(
                "parameters",
                findings_outcome(plan.check(environment), || {
                    format!("{count} passed explicitly, each within its formation's constraints")
                }),
            );
        }
        _ => report.push(
            "parameters",
            Outcome::Skipped("needs valid settings and names".into()),
        ),
    }

    report.push("image", image_outcome(&formations.image, settings.as_ref()));

    match lint {
        Lint::Never => report.push(
            "cfn-lint",
            Outcome::Skipped("turned off (--no-lint)".into()),
        ),
        Lint::IfInstalled => match CfnLint::locate(project) {
            None => report.push(
                "cfn-lint",
                Outcome::Skipped(format!(
                    "cfn-lint is not installed (pip install cfn-lint, or set {})",
                    crate::lint::CFN_LINT_VAR
                )),
            ),
            Some(cfn_lint) => {
                let region = settings.as_ref().map_or("us-east-1", |s| s.region.as_str());
                let outcome = lint_outcome(&cfn_lint, &formations, region, &mut report.notices);
                report.push("cfn-lint", outcome);
            }
        },
    }
    report
}

/// The checks that must pass before any backend call: references, tags,
/// size and parameters of both templates. Every problem, one per entry.
pub fn preflight(
    formations: &Formations,
    settings: &Settings,
    names: &EnvNames,
) -> Result<(), Vec<String>> {
    let environment = &formations.environment;
    let mut problems: Vec<String> = references::check(environment)
        .iter()
        .map(ToString::to_string)
        .collect();
    problems.extend(
        tagging::check(environment, tagging::Scope::Environment)
            .findings
            .iter()
            .map(ToString::to_string),
    );
    if let Err(e) = environment.check_size() {
        problems.push(e.to_string());
    }
    let plan = Plan::environment(settings, names, &settings.access.base_ami, None)
        .with_group_parameters(environment);
    problems.extend(plan.check(environment).iter().map(ToString::to_string));
    if let Outcome::Failed(image_problems) = image_outcome(&formations.image, Some(settings)) {
        problems.extend(image_problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn findings_outcome<T: ToString>(findings: Vec<T>, passed: impl FnOnce() -> String) -> Outcome {
    if findings.is_empty() {
        Outcome::Passed(passed())
    } else {
        Outcome::Failed(findings.iter().map(ToString::to_string).collect())
    }
}

/// image.json stands alone: its references, tags and parameters.
fn image_outcome(image: &Template, settings: Option<&Settings>) -> Outcome {
    let mut problems: Vec<String> = references::check(image)
        .iter()
        .map(ToString::to_string)
        .collect();
    let tags = tagging::check(image, tagging::Scope::Image);
    problems.extend(tags.findings.iter().map(ToString::to_string));
    if let Some(settings) = settings {
        problems.extend(
            Plan::image(settings)
                .check(image)
                .iter()
                .map(ToString::to_string),
        );
    }
    if problems.is_empty() {
        let file = image
            .formations()
            .first()
            .map(|f| f.file.display().to_string())
            .unwrap_or_default();
        Outcome::Passed(format!("{file}: references, tags and parameters"))
    } else {
        Outcome::Failed(problems)
    }
}

fn lint_outcome(
    cfn_lint: &CfnLint,
    formations: &Formations,
    region: &str,
    notices: &mut Vec<String>,
) -> Outcome {
    let mut errors = Vec::new();
    let mut warnings = 0;
    for (label, template) in [
        ("environment", &formations.environment),
        ("image", &formations.image),
    ] {
        match cfn_lint.run(template, region) {
            Err(e) => errors.push(format!("{label}: {e}")),
            Ok(findings) => {
                for finding in findings {
                    match finding.level {
                        Level::Error => errors.push(finding.to_string()),
                        Level::Warning | Level::Informational => {
                            warnings += 1;
                            notices.push(format!("cfn-lint: {finding}"));
                        }
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Outcome::Passed(format!(
            "{}: 0 errors, {warnings} warnings (environment and image)",
            cfn_lint.version
        ))
    } else {
        Outcome::Failed(errors)
    }
}
