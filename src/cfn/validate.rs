//! `validate`: every check that can run without touching a backend, in the
//! order a user fixes things: settings, names, formations, references, tags,
//! size, parameters, policy, then cfn-lint. Each step says what it checked; a step
//! that cannot run says which earlier step it needs.

use std::fmt;

use crate::cfn::lint::{CfnLint, Level};
use crate::cfn::plan::Plan;
use crate::cfn::policy::{self, PolicyReport};
use crate::cfn::template::evaluate::Resolver;
use crate::cfn::template::images::{self, GroupImage};
use crate::cfn::template::{Formations, INLINE_BODY_LIMIT, Section, Template, references, tagging};
use crate::model::names::{EnvName, EnvNames};
use crate::model::project::Project;
use crate::model::settings::{self, Overrides, Settings};

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
    /// Every parameter of both stacks with its value and source (`--explain`).
    pub explained: String,
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

/// The environment's plan as validation sees it: the baked image's id is
/// not known before a commission, so the base image stands in for it (same
/// form, same checks).
fn plan_before_commission(settings: &Settings, names: &EnvNames, environment: &Template) -> Plan {
    Plan::environment(
        settings,
        names,
        environment,
        &settings.access.base_ami,
        None,
    )
}

/// The settings' `topology` against the playbooks and the formations' groups.
fn topology_outcome(
    project: &Project,
    settings: &Settings,
    tags: &tagging::TagReport,
    images: &[GroupImage],
) -> Outcome {
    let topology = &settings.topology;
    let baked: Vec<&str> = settings.parameters.mapped_to("app_image_id").collect();
    let problems = topology.check_against(
        &project.path(Project::PLAYBOOKS),
        &tags.groups,
        images,
        &baked,
    );
    if !problems.is_empty() {
        return Outcome::Failed(problems.iter().map(ToString::to_string).collect());
    }
    let order: Vec<&str> = topology.deploy_order().map(|g| g.as_str()).collect();
    let baked_groups: Vec<&str> = topology
        .deploy_order()
        .filter(|g| topology.is_baked(g))
        .map(|g| g.as_str())
        .collect();
    let on_aws = if baked_groups.is_empty() {
        String::new()
    } else {
        format!(
            ", and the baked ones ({}) start from {} on AWS",
            baked_groups.join(", "),
            if baked.is_empty() {
                "the baked image".to_owned()
            } else {
                baked.join(" or ")
            }
        )
    };
    Outcome::Passed(format!(
        "{} groups, deployed in this order: {}; each has a playbook, every tagged group is \
         listed{on_aws}",
        order.len(),
        order.join(", "),
    ))
}

/// Run `with` with the resolver of `plan`'s values: a `Ref` to a parameter
/// is what the plan passes it.
fn resolving<T>(settings: &Settings, plan: &Plan, with: impl FnOnce(&Resolver<'_>) -> T) -> T {
    let parameter = |name: &str| plan.resolve(name).map(str::to_owned);
    with(&Resolver {
        parameter: &parameter,
        stack_name: &plan.stack_name,
        region: &settings.region,
    })
}

/// The tags of `template`, checked by the values `plan` gives them.
pub fn tag_report(
    template: &Template,
    scope: tagging::Scope,
    settings: &Settings,
    plan: &Plan,
    env: Option<&str>,
) -> tagging::TagReport {
    resolving(settings, plan, |resolver| {
        tagging::check(
            template,
            scope,
            &tagging::Expected {
                app: settings.app_name.as_str(),
                env,
                resolver,
            },
        )
    })
}

/// Which image each group starts from on AWS, by the values `plan` gives.
pub fn group_images(template: &Template, settings: &Settings, plan: &Plan) -> Vec<GroupImage> {
    let baked: Vec<&str> = settings.parameters.mapped_to("app_image_id").collect();
    resolving(settings, plan, |resolver| {
        images::group_images(template, resolver, &baked)
    })
}

/// Each parameter of `plan` with its value (a secret masked) and where the
/// value came from: `validate --explain`, `template --parameters`.
pub fn explain(plan: &Plan) -> String {
    let width = plan
        .parameters
        .iter()
        .map(|p| p.key.len())
        .max()
        .unwrap_or(0);
    let mut out = format!("stack {}:\n", plan.stack_name);
    for parameter in &plan.parameters {
        out.push_str(&format!(
            "  {:<width$}  {}  ({})\n",
            parameter.key,
            parameter.value.shown(),
            parameter.source
        ));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    IfInstalled,
    Never,
}

pub fn validate(project: &Project, overrides: &Overrides, env: &str, lint: Lint) -> Report {
    let mut report = Report::default();
    let env_name = EnvName::new(env);

    let settings = match settings::load(project, overrides, env_name.as_ref().ok()) {
        Ok(loaded) => {
            report.notices.extend(loaded.notices);
            let files = match &loaded.settings.env_source {
                Some(own) => format!("{} and {}", loaded.settings.source.display(), own.display()),
                None => loaded.settings.source.display().to_string(),
            };
            report.push(
                "settings",
                Outcome::Passed(format!(
                    "{files} ({} keys, {} read by argos-cloud)",
                    loaded.settings.values.keys().count(),
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

    let names = match (env_name, &settings) {
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
        (Ok(env), Some(settings)) => match reserved_by_topology(&env, settings) {
            Some(problem) => {
                report.push("names", Outcome::Failed(vec![problem]));
                None
            }
            None => {
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
        },
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
            "parameters",
            "tags",
            "topology",
            "size",
            "image",
            "policy",
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

    let plan = match (&settings, &names) {
        (Some(settings), Some(names)) => {
            let plan = plan_before_commission(settings, names, environment);
            let count = plan.parameters.len();
            let defaults = plan
                .parameters
                .iter()
                .filter(|p| matches!(p.source, crate::cfn::plan::Source::Default { .. }))
                .count();
            report.push(
                "parameters",
                findings_outcome(plan.check(environment), || {
                    format!(
                        "{count} passed explicitly ({} from the settings' `parameters:`, \
                         {defaults} Defaults), each within its formation's constraints",
                        count - defaults
                    )
                }),
            );
            Some(plan)
        }
        _ => {
            report.push(
                "parameters",
                Outcome::Skipped("needs valid settings and names".into()),
            );
            None
        }
    };

    match (&settings, &plan, &names) {
        (Some(settings), Some(plan), Some(names)) => {
            let tags = tag_report(
                environment,
                tagging::Scope::Environment,
                settings,
                plan,
                Some(names.env.as_str()),
            );
            let images = group_images(environment, settings, plan);
            let topology = topology_outcome(project, settings, &tags, &images);
            report.push(
                "tags",
                findings_outcome(tags.findings, || {
                    format!(
                        "{} taggable resources carry Name, Group, Env and App, by the values \
                         the stack will give them",
                        tags.checked
                    )
                }),
            );
            report.push("topology", topology);
        }
        _ => {
            for step in ["tags", "topology"] {
                report.push(
                    step,
                    Outcome::Skipped("needs valid settings and parameters".into()),
                );
            }
        }
    }

    report.push(
        "size",
        match environment.check_size() {
            Ok(bytes) => Outcome::Passed(format!(
                "{bytes} of {INLINE_BODY_LIMIT} bytes (inline TemplateBody limit)"
            )),
            Err(e) => Outcome::Failed(vec![e.to_string()]),
        },
    );

    let image_plan = settings
        .as_ref()
        .map(|s| Plan::image(s, &formations.image, &s.app_name.image_name()));
    report.push(
        "image",
        image_outcome(
            &formations.image,
            settings.as_ref().zip(image_plan.as_ref()),
        ),
    );
    if let (Some(plan), Some(image_plan)) = (&plan, &image_plan) {
        report.explained = format!("{}{}", explain(plan), explain(image_plan));
    }

    match (&settings, &plan, &image_plan, &names) {
        (Some(settings), Some(plan), Some(image_plan), Some(names)) => {
            let policy = policy::check(
                project,
                settings,
                &policy_subjects(&formations, plan, image_plan, names),
            );
            let outcome = policy_outcome(&policy, &mut report.notices);
            report.push("policy", outcome);
        }
        _ => report.push(
            "policy",
            Outcome::Skipped("needs valid settings and parameters".into()),
        ),
    }

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
                    crate::cfn::lint::CFN_LINT_VAR
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

/// An environment named like a group of the topology would share its
/// Ansible group with it (the environment's own settings would apply to
/// that group's hosts of every environment).
fn reserved_by_topology(env: &EnvName, settings: &Settings) -> Option<String> {
    let group = settings::env_group(env);
    settings
        .topology
        .groups
        .iter()
        .any(|g| g.group.as_str() == group)
        .then(|| {
            format!(
                "environment name {:?} is also a group of the topology: its hosts' Ansible \
                 group would be the group's; choose another name",
                env.as_str()
            )
        })
}

/// The two templates the policy step checks, each with its plan.
fn policy_subjects<'a>(
    formations: &'a Formations,
    plan: &'a Plan,
    image_plan: &'a Plan,
    names: &'a EnvNames,
) -> [policy::Subject<'a>; 2] {
    [
        policy::Subject {
            label: "environment",
            template: &formations.environment,
            plan,
            env: Some(names.env.as_str()),
        },
        policy::Subject {
            label: "image",
            template: &formations.image,
            plan: image_plan,
            env: None,
        },
    ]
}

/// High findings fail the step; low ones, the findings an exception
/// accepts and every exception in force are notes.
fn policy_outcome(policy: &PolicyReport, notices: &mut Vec<String>) -> Outcome {
    for note in &policy.notes {
        notices.push(format!("policy: {note}"));
    }
    for (finding, exception) in &policy.excepted {
        notices.push(format!(
            "policy: accepted by the exception at {}: {finding} (reason: {})",
            exception.origin, exception.reason
        ));
    }
    for exception in &policy.exceptions {
        notices.push(format!(
            "policy: exception in force ({}): rule {} on {}: {}",
            exception.origin, exception.rule, exception.resource, exception.reason
        ));
    }
    if !policy.passed() {
        let mut problems = policy.problems.clone();
        problems.extend(policy.failures.iter().map(ToString::to_string));
        return Outcome::Failed(problems);
    }
    let (shipped, own) = policy.files;
    Outcome::Passed(format!(
        "{} rules ({shipped} shipped files{}) on {}: {} high, {} low, {} excepted, by cfn-guard in {} ms",
        policy.rules,
        if own == 0 {
            String::new()
        } else {
            format!(", {own} the project's")
        },
        policy.checked.join(", "),
        policy.failures.len(),
        policy.notes.len(),
        policy.excepted.len(),
        policy.elapsed.as_millis()
    ))
}

/// What `commission` and `update` check before any call: the merged
/// template's references, parameters and tags, its size, the image
/// formation and the policy rules, against the settings for `names`'s
/// environment.
pub fn preflight(
    project: &Project,
    formations: &Formations,
    settings: &Settings,
    names: &EnvNames,
) -> Result<(), Vec<String>> {
    let environment = &formations.environment;
    let mut problems: Vec<String> = references::check(environment)
        .iter()
        .map(ToString::to_string)
        .collect();
    let plan = plan_before_commission(settings, names, environment);
    problems.extend(plan.check(environment).iter().map(ToString::to_string));
    problems.extend(
        tag_report(
            environment,
            tagging::Scope::Environment,
            settings,
            &plan,
            Some(names.env.as_str()),
        )
        .findings
        .iter()
        .map(ToString::to_string),
    );
    if let Err(e) = environment.check_size() {
        problems.push(e.to_string());
    }
    let image_plan = Plan::image(settings, &formations.image, &settings.app_name.image_name());
    if let Outcome::Failed(image_problems) =
        image_outcome(&formations.image, Some((settings, &image_plan)))
    {
        problems.extend(image_problems);
    }
    if problems.is_empty() {
        // The policy step reads the plans' values: only once they hold.
        let policy = policy::check(
            project,
            settings,
            &policy_subjects(formations, &plan, &image_plan, names),
        );
        problems.extend(policy.problems);
        problems.extend(policy.failures.iter().map(ToString::to_string));
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
fn image_outcome(image: &Template, planned: Option<(&Settings, &Plan)>) -> Outcome {
    let mut problems: Vec<String> = references::check(image)
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some((settings, plan)) = planned {
        problems.extend(plan.check(image).iter().map(ToString::to_string));
        let tags = tag_report(image, tagging::Scope::Image, settings, plan, None);
        problems.extend(tags.findings.iter().map(ToString::to_string));
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
