//! Reading a scenario file: YAML syntax and shape first (serde, with the
//! path of the field that failed), then the rules no type can say (a probe's
//! hosts must be among the groups, steps in order). Every error names the
//! file, the line when it is known, and the field.

use std::path::{Path, PathBuf};

use super::{HealthProbe, ProbeKind, Scenario, Step};
use crate::input::file::{self, ReadError};
use crate::input::yaml::{self, Kind, Node};
use crate::model::names::Group;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}{}: {field}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        line: Option<usize>,
        /// The field's path, e.g. `expect.connectivity[1].to`.
        field: String,
        message: String,
    },
}

/// Read and check the scenario at `file` (a regular file of at most 1 MiB).
pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
    let text = file::read_text(file, file::SCENARIO)?;
    parse(file, &text)
}

/// Check the scenario `text` read from `file`.
pub fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |line: usize, field: String, message: String| ScenarioError::Invalid {
        file: file.to_owned(),
        line: Some(line),
        field,
        message,
    };
    let root =
        yaml::parse(text).map_err(|e| invalid(e.line, "(file)".into(), e.problem.to_string()))?;
    let value =
        normalised(&root).map_err(|(line, field, message)| invalid(line, field, message))?;
    let mut scenario: Scenario = serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let message = error.into_inner().to_string();
        let message = message
            .strip_prefix(&format!("{field}: "))
            .unwrap_or(&message)
            .to_owned();
        ScenarioError::Invalid {
            file: file.to_owned(),
            line: Some(root.line_at(&field)),
            field: if field == "." { "(file)".into() } else { field },
            message,
        }
    })?;
    scenario.name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Absolute, so the scenario's paths mean the same from any directory.
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    scenario.dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    scenario.file = scenario
        .dir
        .join(file.file_name().unwrap_or(file.as_os_str()));
    if let Some(settings) = root.get("settings") {
        for (key, _) in settings.entries() {
            if let Some(name) = key.as_key() {
                scenario.settings_lines.insert(name, key.line);
            }
        }
    }
    check(&scenario).map_err(|(field, message)| ScenarioError::Invalid {
        file: file.to_owned(),
        // `(file name)` is about no line.
        line: (!field.starts_with('(')).then(|| root.line_at(&field)),
        field,
        message,
    })?;
    Ok(scenario)
}

/// The document as serde reads it, with `settings:` values made text the
/// way the settings file's are read (a value Ansible would read otherwise
/// is refused) and never shown in a message: they may be secrets.
fn normalised(root: &Node) -> Result<serde_norway::Value, (usize, String, String)> {
    let mut value = root.to_value();
    let Some(settings) = root.get("settings") else {
        return Ok(value);
    };
    let mut texts = serde_norway::Mapping::new();
    for (key, node) in settings.entries() {
        let name = key.as_key().unwrap_or_default();
        let field = format!("settings.{name}");
        let text = match (&node.kind, node.rendered(), &node.written) {
            (Kind::Str(text), _, _) => text.clone(),
            (_, Some(rendered), Some(written)) if !written.plain || written.text == rendered => {
                rendered
            }
            (Kind::Null, _, _) => String::new(),
            (_, Some(_), Some(_)) => {
                return Err((
                    node.line,
                    field,
                    format!(
                        "Ansible reads this unquoted value as {}, not as the text written: put \
                         it in quotes (the value is not shown)",
                        node.kind_name()
                    ),
                ));
            }
            _ => {
                return Err((
                    node.line,
                    field,
                    format!("expected a single value, not {}", node.kind_name()),
                ));
            }
        };
        texts.insert(
            serde_norway::Value::String(name),
            serde_norway::Value::String(text),
        );
    }
    if let serde_norway::Value::Mapping(map) = &mut value {
        map.insert("settings".into(), serde_norway::Value::Mapping(texts));
    }
    Ok(value)
}

/// The rules beyond the types for a scenario read otherwise (Molecule's).
pub(super) fn check_loaded(scenario: &Scenario, file: &Path) -> Result<(), ScenarioError> {
    check(scenario).map_err(|(field, message)| ScenarioError::Invalid {
        file: file.to_owned(),
        line: None,
        field,
        message,
    })
}

/// The rules beyond the types, as (field, message).
fn check(scenario: &Scenario) -> Result<(), (String, String)> {
    if !scenario.name.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err((
            "(file name)".into(),
            format!(
                "{:?} has no letter or digit: a run's environment is named after its file \
                 (t-<name>-<id>), so rename the file, e.g. database.yaml",
                scenario.name
            ),
        ));
    }
    if scenario.description.trim().is_empty() {
        return Err(("description".into(), "say what the scenario proves".into()));
    }
    if scenario.role.trim().is_empty() {
        return Err(("role".into(), "name the role under test".into()));
    }
    match (scenario.groups.is_empty(), scenario.hosts.is_empty()) {
        (true, true) => {
            return Err((
                "groups".into(),
                "name at least one group (a host each), or give `hosts`".into(),
            ));
        }
        (false, false) => {
            return Err((
                "hosts".into(),
                "give `groups` (a host per group) or `hosts`, not both".into(),
            ));
        }
        _ => {}
    }
    for (i, group) in scenario.groups.iter().enumerate() {
        if scenario.groups[..i].contains(group) {
            return Err((format!("groups[{i}]"), format!("{group} is listed twice")));
        }
    }
    for (i, host) in scenario.hosts.iter().enumerate() {
        let field = |name: &str| format!("hosts[{i}].{name}");
        crate::model::names::check_host_name(&host.name).map_err(|e| {
            (
                field("name"),
                format!("{:?} is not a host name: {}", host.name, e.rule),
            )
        })?;
        if scenario.hosts[..i].iter().any(|h| h.name == host.name) {
            return Err((field("name"), format!("{} is named twice", host.name)));
        }
        if host.groups.is_empty() {
            return Err((field("groups"), "name at least one group".into()));
        }
        for (j, port) in host.published_ports.iter().enumerate() {
            if !port.starts_with("127.0.0.1:") {
                return Err((
                    format!("hosts[{i}].published_ports[{j}]"),
                    format!(
                        "{port:?} must publish on loopback only: write 127.0.0.1:HOST_PORT:CONTAINER_PORT"
                    ),
                ));
            }
        }
        super::docker_args::check(&host.docker_args, &scenario.dir)
            .map_err(|(j, message)| (format!("hosts[{i}].docker_args[{j}]"), message))?;
    }
    for (i, role) in scenario.converge.iter().enumerate() {
        if Group::parse(role).is_none_or(|g| !scenario.host_groups().contains(&g)) {
            return Err((
                format!("converge[{i}]"),
                format!("{role} has no host: add {role} to `groups`"),
            ));
        }
    }
    for name in scenario.host_vars.keys() {
        if !scenario.hosts.iter().any(|h| &h.name == name)
            && !scenario.groups.iter().any(|g| g.as_str() == name)
        {
            return Err((
                format!("host_vars.{name}"),
                format!("{name} is not one of the scenario's hosts"),
            ));
        }
    }
    check_steps(scenario)?;
    match scenario.verifier.testinfra_tests() {
        None if scenario.verifier.directory.is_some() => {
            return Err((
                "verifier.directory".into(),
                "only testinfra has a tests folder: give `name: testinfra` too".into(),
            ));
        }
        Some(tests) => {
            if let Some(problem) = super::testinfra::tests_folder_problem(&scenario.path(&tests)) {
                return Err(("verifier.directory".into(), problem));
            }
        }
        None => {}
    }
    // Whether `settings` keys exist is checked against the settings file
    // the run uses (an unknown one is an error naming its line then).
    let unknown_host = |host: &str| format!("{host} is not one of the scenario's hosts or groups");
    for (i, probe) in scenario.expect.health.iter().enumerate() {
        let kind = probe.kind();
        let field = |name: &str| format!("expect.health[{i}].{kind}.{name}");
        if let HealthProbe::Unit(p) = probe {
            unit_name(&p.name).map_err(|message| (field("name"), message))?;
        }
        if let HealthProbe::Command(p) = probe
            && let Some(pattern) = &p.stdout_matches
        {
            regex::Regex::new(pattern).map_err(|e| (field("stdout_matches"), e.to_string()))?;
        }
        if let HealthProbe::File(p) = probe
            && let Some(mode) = &p.mode
            && (mode.is_empty()
                || mode.len() > 4
                || !mode.chars().all(|c| ('0'..='7').contains(&c)))
        {
            return Err((
                field("mode"),
                format!("{mode:?} is not an octal mode such as \"0640\""),
            ));
        }
        if !scenario.names_host(probe.host()) {
            return Err((field("host"), unknown_host(probe.host())));
        }
    }
    for (i, connection) in scenario.expect.connectivity.iter().enumerate() {
        let field = |name: &str| format!("expect.connectivity[{i}].{name}");
        for (name, host) in [("from", &connection.from), ("to", &connection.to)] {
            if !scenario.names_host(host) {
                return Err((field(name), unknown_host(host)));
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

/// A systemd unit name (systemd.unit(5)): 1 to 255 ASCII letters, digits
/// and `:-_.\@`, not starting with `-` or `.`, at most one `@`. It goes into
/// a command on the host (`systemctl is-active`), so nothing else may.
fn unit_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
    let problem = if name.is_empty() {
        "is empty".to_owned()
    } else if name.len() > 255 {
        format!("has {} characters; at most 255", name.len())
    } else if let Some(c) = name.chars().find(|c| !allowed(*c)) {
        format!("has {c:?}; a unit name has only ASCII letters, digits and : - _ . \\ @")
    } else if name.starts_with(['-', '.']) {
        "must not start with - or .".to_owned()
    } else if name.matches('@').count() > 1 {
        "has more than one @".to_owned()
    } else {
        return Ok(());
    };
    Err(format!(
        "{name:?} is not a systemd unit name: it {problem} (e.g. nginx or postgresql@15-main.service)"
    ))
}

fn check_steps(scenario: &Scenario) -> Result<(), (String, String)> {
    let steps = &scenario.steps;
    for (i, step) in steps.iter().enumerate() {
        if steps[..i].contains(step) {
            return Err((format!("steps[{i}]"), format!("{step} is listed twice")));
        }
        if i > 0 && steps[i - 1] > *step {
            let order: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
            return Err((
                format!("steps[{i}]"),
                format!(
                    "{step} comes after {}: the order is {}",
                    steps[i - 1],
                    order.join(", ")
                ),
            ));
        }
    }
    let first_needing_hosts = steps.iter().position(|s| *s != Step::Dependency);
    if let Some(i) = first_needing_hosts
        && steps[i] != Step::Create
    {
        return Err((
            format!("steps[{i}]"),
            "create must come before the other steps: they need an environment".into(),
        ));
    }
    if steps.contains(&Step::Idempotence) && !steps.contains(&Step::Converge) {
        return Err((
            "steps".into(),
            "idempotence needs converge before it".into(),
        ));
    }
    let needs = [
        (
            Step::Dependency,
            scenario.requirements.is_some(),
            "requirements",
        ),
        (
            Step::Prepare,
            scenario.playbooks.prepare.is_some(),
            "playbooks.prepare",
        ),
        (
            Step::SideEffect,
            scenario.playbooks.side_effect.is_some(),
            "playbooks.side_effect",
        ),
    ];
    for (step, given, field) in needs {
        if steps.contains(&step) && !given {
            return Err(("steps".into(), format!("{step} needs `{field}`")));
        }
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
        assert_eq!(
            scenario.steps(),
            [
                Step::Create,
                Step::Converge,
                Step::Idempotence,
                Step::Verify,
                Step::Destroy
            ]
        );
        assert!(scenario.expect.tags);
        assert!(scenario.dir.ends_with("scenarios"), "{:?}", scenario.dir);
    }

    #[test]
    fn rules_beyond_the_types_name_line_and_field() {
        let text = format!("{HEAD}steps: [create, verify, converge]\n");
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:4: steps[2]: converge comes after verify: the order is dependency, create, prepare, converge, idempotence, side_effect, verify, destroy"
        );
        let text = format!(
            "{HEAD}expect:\n  connectivity:\n    - {{from: app, to: database, probe: tcp, port: 5432, password: x}}\n"
        );
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:6: expect.connectivity[0].password: only a postgres probe logs in; a tcp probe has no password"
        );
        let text = "description: d\nrole: ./motd\nhosts:\n  - {name: web_1, groups: [web]}\n";
        assert!(
            error(text)
                .starts_with("scenarios/x.yaml:4: hosts[0].name: \"web_1\" is not a host name"),
            "{}",
            error(text)
        );
        let text = "description: d\nrole: ./motd\nhosts:\n  - {name: web, groups: [web]}\nexpect:\n  health:\n    - file: {host: db, path: /etc/motd}\n";
        assert_eq!(
            error(text),
            "scenarios/x.yaml:7: expect.health[0].file.host: db is not one of the scenario's hosts or groups"
        );
        let text = "description: d\nrole: ./motd\nhosts:\n  - {name: web, groups: [web], published_ports: [\"8080:80\"]}\n";
        assert!(
            error(text).contains("must publish on loopback only"),
            "{}",
            error(text)
        );
        let text = format!("{HEAD}steps: [create, prepare]\n");
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:4: steps: prepare needs `playbooks.prepare`"
        );
    }

    #[test]
    fn shape_errors_come_from_serde_with_the_path() {
        let text = format!("{HEAD}expect:\n  health:\n    - http: {{host: app}}\n");
        let message = error(&text);
        assert!(message.starts_with("scenarios/x.yaml:6"), "{message}");
        assert!(message.contains("missing field `port`"), "{message}");
        let text = format!("{HEAD}expect:\n  health:\n    - {{}}\n");
        assert!(
            error(&text).contains("a health probe needs one of http, unit, tcp, command, file")
        );
        assert_eq!(ProbeKind::Ner.default_port(), Some(8080));
    }

    #[test]
    fn a_testinfra_verifier_needs_its_tests_and_no_other_verifier_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.yaml");
        let text = format!("{HEAD}verifier: {{name: testinfra}}\n");
        let message = parse(&file, &text).unwrap_err().to_string();
        assert!(
            message.contains(":4: verifier.directory: ")
                && message.contains("tests is not a folder"),
            "{message}"
        );
        std::fs::create_dir_all(dir.path().join("checks")).unwrap();
        let text = format!("{HEAD}verifier: {{name: testinfra, directory: checks}}\n");
        let message = parse(&file, &text).unwrap_err().to_string();
        assert!(message.contains("checks holds no test_*.py"), "{message}");
        std::fs::write(dir.path().join("checks/test_app.py"), "").unwrap();
        let scenario = parse(&file, &text).unwrap();
        assert_eq!(
            scenario.verifier.testinfra_tests(),
            Some(std::path::PathBuf::from("checks"))
        );
        assert_eq!(parse(&file, HEAD).unwrap().verifier.testinfra_tests(), None);
        let text = format!("{HEAD}verifier: {{name: ansible, directory: checks}}\n");
        let message = parse(&file, &text).unwrap_err().to_string();
        assert!(
            message.contains("verifier.directory: only testinfra has a tests folder"),
            "{message}"
        );
        let text = format!("{HEAD}verifier: {{name: goss}}\n");
        let message = parse(&file, &text).unwrap_err().to_string();
        assert!(
            message.contains("verifier.name: unknown variant `goss`"),
            "{message}"
        );
    }

    #[test]
    fn a_unit_name_that_is_not_one_is_refused_with_its_line() {
        let text = format!(
            "{HEAD}expect:\n  health:\n    - unit: {{host: app, name: \"x'; touch /tmp/pwned; '\"}}\n"
        );
        assert_eq!(
            error(&text),
            "scenarios/x.yaml:6: expect.health[0].unit.name: \"x'; touch /tmp/pwned; '\" is not a systemd unit name: \
             it has '\\''; a unit name has only ASCII letters, digits and : - _ . \\ @ (e.g. nginx or postgresql@15-main.service)"
        );
        for bad in ["", "-h", "a@b@c", "a b", "a\nb"] {
            let text = format!(
                "{HEAD}expect:\n  health:\n    - unit: {{host: app, name: {}}}\n",
                serde_json::to_string(bad).unwrap()
            );
            assert!(
                error(&text).contains("is not a systemd unit name"),
                "{bad:?}: {}",
                error(&text)
            );
        }
        for good in [
            "nginx",
            "postgresql@15-main.service",
            "sys-kernel-debug.mount",
            "a:b_c.d\\x2d",
        ] {
            let text = format!(
                "{HEAD}expect:\n  health:\n    - unit: {{host: app, name: {}}}\n",
                serde_json::to_string(good).unwrap()
            );
            parse(Path::new("scenarios/x.yaml"), &text).unwrap();
        }
    }

    #[test]
    fn a_file_name_without_a_letter_or_digit_is_refused() {
        let error = parse(Path::new("scenarios/---.yaml"), HEAD)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("scenarios/---.yaml: (file name): \"---\" has no letter or digit"),
            "{error}"
        );
        // Upper case is fine: the environment's name is lowercased.
        let scenario = parse(Path::new("scenarios/APP.yaml"), HEAD).unwrap();
        assert!(
            crate::scenario::run::unique_env_name(&scenario.name)
                .as_str()
                .starts_with("t-app-")
        );
    }

    mod never_panics {
        use std::path::Path;

        use proptest::prelude::*;

        use crate::scenario::parse;
        use crate::scenario::run::unique_env_name;

        /// A YAML scalar: arbitrary text, quoted (JSON is YAML) or raw.
        fn scalar() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
                "[a-z0-9@:._ -]{0,12}",
                any::<i64>().prop_map(|n| n.to_string()),
                Just("99999999999999999999999".to_owned()),
                Just("~".to_owned()),
                Just("[]".to_owned()),
                Just("{}".to_owned()),
            ]
        }

        fn one_of(words: &'static [&'static str]) -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::sample::select(words).prop_map(str::to_owned),
                scalar()
            ]
        }

        const GROUPS: &[&str] = &["app", "database", "knowledge", "broker", "worker", "image"];
        const STEPS: &[&str] = &["create", "converge", "idempotence", "verify", "destroy"];
        const PROBES: &[&str] = &["postgres", "sparql-ask", "ner", "tcp", "http"];

        fn list(words: &'static [&'static str]) -> impl Strategy<Value = String> {
            proptest::collection::vec(one_of(words), 0..4)
                .prop_map(|v| format!("[{}]", v.join(", ")))
        }

        /// A scenario file: every field optional, each value well typed or not.
        fn scenario_text() -> impl Strategy<Value = String> {
            let health =
                (0..3usize, one_of(GROUPS), scalar(), scalar()).prop_map(|(kind, host, a, b)| {
                    match kind {
                        0 => format!("    - unit: {{host: {host}, name: {a}}}\n"),
                        1 => format!("    - http: {{host: {host}, port: {a}, path: {b}}}\n"),
                        _ => format!("    - tcp: {{host: {host}, port: {a}}}\n"),
                    }
                });
            let connection = (one_of(GROUPS), one_of(GROUPS), one_of(PROBES), scalar(), scalar()).prop_map(
                |(from, to, probe, port, extra)| {
                    format!("    - {{from: {from}, to: {to}, probe: {probe}, port: {port}, path: {extra}}}\n")
                },
            );
            (
                proptest::option::of(scalar()),
                proptest::option::of(one_of(GROUPS)),
                proptest::option::of(list(GROUPS)),
                proptest::option::of(list(STEPS)),
                proptest::option::of(list(GROUPS)),
                proptest::collection::vec(
                    (one_of(&["db_pass", "app_name", "region"]), scalar()),
                    0..3,
                ),
                proptest::collection::vec(health, 0..3),
                proptest::collection::vec(connection, 0..3),
            )
                .prop_map(
                    |(
                        description,
                        role,
                        groups,
                        steps,
                        converge,
                        settings,
                        health,
                        connectivity,
                    )| {
                        let mut text = String::new();
                        let mut field = |key: &str, value: Option<String>| {
                            if let Some(value) = value {
                                text.push_str(&format!("{key}: {value}\n"));
                            }
                        };
                        field("description", description);
                        field("role", role);
                        field("groups", groups);
                        field("steps", steps);
                        field("converge", converge);
                        if !settings.is_empty() {
                            text.push_str("settings:\n");
                            for (key, value) in settings {
                                text.push_str(&format!("  {key}: {value}\n"));
                            }
                        }
                        text.push_str("expect:\n  health:\n");
                        text.extend(health);
                        text.push_str("  connectivity:\n");
                        text.extend(connectivity);
                        text
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

            /// Any file (any name, any text, well formed or not) is a
            /// scenario or an error; a scenario's run gets a valid name.
            #[test]
            fn any_scenario_file_is_ok_or_an_error(
                stem in prop_oneof!["[-._ ]{0,4}", "[a-zA-Z0-9._ -]{1,30}", any::<String>()],
                text in prop_oneof![
                    3 => scenario_text(),
                    2 => scalar().prop_map(|name| format!(
                        "description: d\nrole: app\ngroups: [app]\nexpect:\n  health:\n    - unit: {{host: app, name: {name}}}\n"
                    )),
                    1 => any::<String>(),
                ],
            ) {
                let file = Path::new("scenarios").join(format!("{stem}.yaml"));
                if let Ok(scenario) = parse(&file, &text) {
                    unique_env_name(&scenario.name);
                }
            }
        }
    }
}
