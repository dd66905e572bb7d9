//! Reading a scenario file: YAML syntax and shape first (serde, with the
//! path of the field that failed), then the rules no type can say (a probe's
//! hosts must be among the groups, steps in order). Every error names the
//! file, the line when it is known, and the field.

use std::path::{Path, PathBuf};

use super::locate::line_of;
use super::{ProbeKind, Scenario, Step};
use crate::settings::keys;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: {field}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        line: Option<usize>,
        /// The field's path, e.g. `expect.connectivity[1].to`.
        field: String,
        message: String,
    },
}

/// Read and check the scenario at `file`.
pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(file).map_err(|source| ScenarioError::Read {
        file: file.to_owned(),
        source,
    })?;
    parse(file, &text)
}

/// Check the scenario `text` read from `file`.
pub fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |field: String, message: String| {
        let line = line_of(text, &field);
        ScenarioError::Invalid {
            file: file.to_owned(),
            line,
            field,
            message,
        }
    };
    let deserializer = serde_norway::Deserializer::from_str(text);
    let mut scenario: Scenario =
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let field = error.path().to_string();
            let inner = error.into_inner();
            let line = inner.location().map(|l| l.line());
            // serde_norway repeats the position at the end of its message.
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            let message = message
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(message)
                .to_owned();
            ScenarioError::Invalid {
                file: file.to_owned(),
                line: line.or_else(|| line_of(text, &field)),
                field: if field == "." { "(file)".into() } else { field },
                message,
            }
        })?;
    scenario.name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    check(&scenario).map_err(|(field, message)| invalid(field, message))?;
    Ok(scenario)
}

/// The rules beyond the types, as (field, message).
fn check(scenario: &Scenario) -> Result<(), (String, String)> {
    if scenario.description.trim().is_empty() {
        return Err(("description".into(), "say what the scenario proves".into()));
    }
    if scenario.groups.is_empty() {
        return Err(("groups".into(), "name at least one group".into()));
    }
    for (i, group) in scenario.groups.iter().enumerate() {
        if scenario.groups[..i].contains(group) {
            return Err((format!("groups[{i}]"), format!("{group} is listed twice")));
        }
    }
    let in_groups = |role: super::Role| scenario.groups.iter().any(|g| g.role() == role);
    if !in_groups(scenario.role) {
        return Err((
            "role".into(),
            format!(
                "the role under test, {}, needs its group in `groups`",
                scenario.role
            ),
        ));
    }
    for (i, role) in scenario.converge.iter().enumerate() {
        if !in_groups(*role) {
            return Err((
                format!("converge[{i}]"),
                format!("{role} has no host: add {role} to `groups`"),
            ));
        }
    }
    check_steps(&scenario.steps)?;
    for key in scenario.settings.keys() {
        if keys::spec(key).is_none() {
            let hint = keys::suggest(key)
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            return Err((
                format!("settings.{key}"),
                format!(
                    "not a settings key{hint}: the keys are those of playbooks/group_vars/all.sample.yml"
                ),
            ));
        }
    }
    for (i, probe) in scenario.expect.health.iter().enumerate() {
        let host = probe.host();
        if !scenario.groups.contains(&host) {
            let kind = match probe {
                super::HealthProbe::Http { .. } => "http",
                super::HealthProbe::Unit { .. } => "unit",
                super::HealthProbe::Tcp { .. } => "tcp",
            };
            return Err((
                format!("expect.health[{i}].{kind}.host"),
                format!("{host} is not one of the scenario's groups"),
            ));
        }
    }
    for (i, connection) in scenario.expect.connectivity.iter().enumerate() {
        let field = |name: &str| format!("expect.connectivity[{i}].{name}");
        for (name, group) in [("from", connection.from), ("to", connection.to)] {
            if !scenario.groups.contains(&group) {
                return Err((
                    field(name),
                    format!("{group} is not one of the scenario's groups"),
                ));
            }
        }
        let kind = connection.probe;
        if connection.port.is_none() && kind.default_port().is_none() {
            return Err((field("port"), format!("a {kind} probe needs a port")));
        }
        if connection.password.is_some() && kind != ProbeKind::Postgres {
            return Err((
                field("password"),
                format!("only a postgres probe logs in; a {kind} probe has no password"),
            ));
        }
        if connection.status.is_some() && kind != ProbeKind::Http {
            return Err((
                field("status"),
                format!("only an http probe expects a status; not a {kind} probe"),
            ));
        }
        if connection.path.is_some() && !matches!(kind, ProbeKind::Http | ProbeKind::SparqlAsk) {
            return Err((
                field("path"),
                format!("only http and sparql-ask probes have a path; not a {kind} probe"),
            ));
        }
        if let Some(path) = &connection.path
            && !path.starts_with('/')
        {
            return Err((field("path"), format!("{path:?} must start with /")));
        }
    }
    Ok(())
}

fn check_steps(steps: &[Step]) -> Result<(), (String, String)> {
    if steps.is_empty() {
        return Err(("steps".into(), "name at least one step".into()));
    }
    for (i, step) in steps.iter().enumerate() {
        if steps[..i].contains(step) {
            return Err((format!("steps[{i}]"), format!("{step} is listed twice")));
        }
        if i > 0 && steps[i - 1] > *step {
            return Err((
                format!("steps[{i}]"),
                format!(
                    "{step} comes after {}: the order is create, converge, idempotence, verify, destroy",
                    steps[i - 1]
                ),
            ));
        }
    }
    if steps[0] != Step::Create {
        return Err((
            "steps[0]".into(),
            "the first step must be create: the other steps need an environment".into(),
        ));
    }
    if steps.contains(&Step::Idempotence) && !steps.contains(&Step::Converge) {
        return Err((
            "steps".into(),
            "idempotence needs converge before it".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::parse;
    use crate::scenario::{ProbeKind, Step};

    fn error(text: &str) -> String {
        parse(Path::new("scenarios/x.yaml"), text)
            .unwrap_err()
            .to_string()
    }

    const HEAD: &str = "description: d\nrole: app\ngroups: [app, database]\n";

    #[test]
    fn a_minimal_file_gets_the_default_steps_and_the_file_stem_as_name() {
        let scenario = parse(Path::new("scenarios/app.yaml"), HEAD).unwrap();
        assert_eq!(scenario.name, "app");
        assert_eq!(scenario.steps, Step::ALL);
        assert!(scenario.expect.tags);
        assert_eq!(scenario.converge_roles().len(), 2);
    }

    #[test]
    fn rules_beyond_the_types_name_line_and_field() {
        let text = format!("{HEAD}steps: [create, verify, converge]\n");
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:4: steps[2]: converge comes after verify: the order is create, converge, idempotence, verify, destroy"
        );
        let text = format!(
            "{HEAD}expect:\n  connectivity:\n    - {{from: app, to: database, probe: tcp, port: 5432, password: x}}\n"
        );
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:6: expect.connectivity[0].password: only a postgres probe logs in; a tcp probe has no password"
        );
        let text = format!("{HEAD}settings:\n  db_passwd: x\n");
        assert!(
            error(&text).starts_with(
                "scenarios/x.yaml:5: settings.db_passwd: not a settings key (did you mean db_pass?)"
            ),
            "{}",
            error(&text)
        );
        let text = "description: d\nrole: worker\ngroups: [app]\n";
        assert!(
            error(text).contains("role: the role under test, worker, needs its group in `groups`"),
            "{}",
            error(text)
        );
    }

    #[test]
    fn shape_errors_come_from_serde_with_the_path() {
        let text = format!("{HEAD}expect:\n  health:\n    - http: {{host: app}}\n");
        let message = error(&text);
        assert!(message.starts_with("scenarios/x.yaml:6"), "{message}");
        assert!(message.contains("missing field `port`"), "{message}");
        let text = format!("{HEAD}expect:\n  health:\n    - {{}}\n");
        assert!(error(&text).contains("a health probe needs one of http, unit, tcp"));
        assert_eq!(ProbeKind::Ner.default_port(), Some(8080));
    }
}
