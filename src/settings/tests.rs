use super::*;

const SAMPLE: &str = include_str!("../../playbooks/group_vars/all.sample.yml");
const FILE: &str = "playbooks/group_vars/all.yml";

fn parse_text(text: &str) -> Result<Settings, SettingsErrors> {
    parse(Path::new(FILE), text, &Overrides::default())
}

/// The sample with one top-level key's line replaced (or removed with `None`).
fn sample_with(key: &str, line: Option<&str>) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let text: Vec<&str> = SAMPLE
        .lines()
        .filter_map(|l| {
            if l.starts_with(&prefix) {
                found = true;
                line
            } else {
                Some(l)
            }
        })
        .collect();
    assert!(found, "{key} is not in the sample");
    text.join("\n")
}

fn messages(result: Result<Settings, SettingsErrors>) -> Vec<String> {
    result
        .expect_err("settings should be rejected")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_sample_is_valid_and_typed() {
    let settings = parse_text(SAMPLE).unwrap();
    assert_eq!(settings.app_name.as_str(), "argos");
    assert_eq!(settings.database.name, "argos");
    assert_eq!(settings.database.allocated_storage, 20);
    assert!(!settings.sizes.tasks_enabled);
    assert_eq!(settings.application.mail.port, 587);
    assert!(settings.application.mail.error_admins.is_empty());
}

#[test]
fn the_sample_documents_exactly_the_known_keys() {
    let file = SettingsFile::parse(Path::new("sample"), SAMPLE.to_owned()).unwrap();
    for key in file.keys() {
        assert!(
            keys::spec(key).is_some(),
            "the sample sets `{key}`, which is not in the catalogue"
        );
    }
    for spec in keys::KEYS {
        // Optional keys whose absence means something may be shown commented out.
        let commented = SAMPLE
            .lines()
            .any(|l| l.starts_with(&format!("# {}:", spec.name)));
        assert!(
            file.get(spec.name).is_some()
                || (spec.presence == keys::Presence::Optional && commented),
            "the sample does not document `{}`",
            spec.name
        );
    }
}

#[test]
fn yaml_syntax_errors_name_the_file_and_line() {
    let text = "app_name: argos\nregion: [us-east-1\nkey_name: argos\n";
    let errors = messages(parse_text(text));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("playbooks/group_vars/all.yml:3:"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("YAML syntax error"), "{}", errors[0]);
}

#[test]
fn duplicate_keys_are_syntax_errors() {
    let text = format!("{SAMPLE}\napp_name: other\n");
    let errors = messages(parse_text(&text));
    assert!(errors[0].contains("YAML syntax error"), "{}", errors[0]);
    assert!(errors[0].contains("app_name"), "{}", errors[0]);
}

#[test]
fn a_missing_key_is_named_with_its_purpose() {
    let errors = messages(parse_text(&sample_with("db_name", None)));
    assert_eq!(
        errors,
        [
            "playbooks/group_vars/all.yml: missing key `db_name`: the database name: letters, digits, underscores (no dashes)"
        ]
    );
}

#[test]
fn a_malformed_key_is_named_with_its_line() {
    let text = sample_with("db_name", Some("db_name: argos-db"));
    let line = text
        .lines()
        .position(|l| l.starts_with("db_name:"))
        .unwrap()
        + 1;
    let errors = messages(parse_text(&text));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(&format!("playbooks/group_vars/all.yml:{line}: `db_name`: ")),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("argos_db"),
        "suggests underscores: {}",
        errors[0]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = sample_with("region", Some("region: mars-1"));
    let text = text.replace("app_max_size: 4", "app_max_size: 0");
    let text = text.replace(
        "knowledge_instance_type: m6i.large",
        "knowledge_instance_type: big",
    );
    let errors = messages(parse_text(&text));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("`region`")));
    assert!(errors.iter().any(|e| e.contains("`app_max_size`")));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`knowledge_instance_type`"))
    );
}

#[test]
fn min_above_max_is_an_error() {
    let text = SAMPLE.replace("worker_min_size: 1", "worker_min_size: 5");
    let errors = messages(parse_text(&text));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("`worker_min_size`: 5 is more than `worker_max_size` (4)"),
        "{}",
        errors[0]
    );
}

#[test]
fn lists_and_scalars_are_told_apart() {
    let text = SAMPLE.replace(
        "error_admins: []",
        "error_admins: [ops@example.org, not-an-address]",
    );
    let errors = messages(parse_text(&text));
    assert!(
        errors[0].contains("\"not-an-address\" is not an e-mail address"),
        "{}",
        errors[0]
    );
    let text = sample_with("region", Some("region: [us-east-1]"));
    assert!(messages(parse_text(&text))[0].contains("expected a single value"));
}

#[test]
fn overrides_win_and_say_where_they_came_from() {
    let mut overrides = Overrides::from_env([("ARGOS_DB_NAME".to_owned(), "from_env".to_owned())]);
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    assert_eq!(settings.database.name, "from_env");

    overrides.set("db_name=from_flag").unwrap();
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    assert_eq!(settings.database.name, "from_flag");

    let bad = Overrides::from_env([("ARGOS_DB_NAME".to_owned(), "bad-name".to_owned())]);
    let errors = messages(parse(Path::new(FILE), SAMPLE, &bad));
    assert!(
        errors[0].starts_with("environment variable ARGOS_DB_NAME: `db_name`"),
        "{}",
        errors[0]
    );
}

#[test]
fn unknown_set_keys_are_errors_with_a_suggestion() {
    let mut overrides = Overrides::default();
    let error = overrides.set("db_nmae=x").unwrap_err().to_string();
    assert_eq!(
        error,
        "--set: unknown key `db_nmae` (did you mean `db_name`?)"
    );
    assert!(overrides.set("no-equals-sign").is_err());
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let password = "Sup3rSecretPassw0rd";
    let text = sample_with("db_pass", Some(&format!("db_pass: {password}")));
    let settings = parse_text(&text).unwrap();
    assert_eq!(settings.database.password.expose(), password);
    let debug = format!("{settings:?}");
    assert!(!debug.contains(password), "password in Debug output");
    assert!(debug.contains("[redacted]"));

    let bad = "has space inside";
    let text = sample_with("db_pass", Some(&format!("db_pass: {bad}")));
    let errors = messages(parse_text(&text));
    assert!(errors[0].contains("`db_pass`"), "{}", errors[0]);
    assert!(errors[0].contains("not shown"), "{}", errors[0]);
    assert!(!errors[0].contains(bad), "password in error: {}", errors[0]);
}

#[test]
fn a_missing_file_is_made_from_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("formations")).unwrap();
    std::fs::create_dir_all(dir.path().join("playbooks/group_vars")).unwrap();
    std::fs::write(dir.path().join(Project::SAMPLE_SETTINGS), SAMPLE).unwrap();
    let project = Project::open(dir.path()).unwrap();

    let loaded = load(&project, &Overrides::default()).unwrap();
    assert!(dir.path().join(Project::SETTINGS).exists());
    // It is where the secrets go: only its owner may read it.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join(Project::SETTINGS))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "all.yml made with mode {mode:o}");
    assert!(
        loaded.notices[0].starts_with("created "),
        "{:?}",
        loaded.notices
    );
    assert!(
        loaded
            .notices
            .iter()
            .any(|n| n.contains("`db_pass` still has the sample's placeholder"))
    );

    // The second load finds the file and does not announce it again.
    let again = load(&project, &Overrides::default()).unwrap();
    assert!(!again.notices.iter().any(|n| n.starts_with("created ")));
}

#[test]
fn typos_in_the_file_are_pointed_out() {
    let text = format!("{SAMPLE}\ndb_nmae: x\n");
    let file = SettingsFile::parse(Path::new(FILE), text).unwrap();
    let notices = typo_notices(&file);
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].contains("unknown key `db_nmae`: did you mean `db_name`?"),
        "{}",
        notices[0]
    );
}

#[test]
fn no_settings_at_all_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("formations")).unwrap();
    std::fs::create_dir_all(dir.path().join("playbooks")).unwrap();
    let project = Project::open(dir.path()).unwrap();
    let error = load(&project, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("neither "), "{error}");
}

#[test]
fn overrides_reach_ansible_typed_but_secrets_stay_strings() {
    let mut overrides = Overrides::default();
    overrides.set("tasks_enabled=false").unwrap();
    overrides.set("app_max_size=6").unwrap();
    overrides.set("db_pass=12345678").unwrap();
    overrides.set("db_name=argos_x").unwrap();
    let vars = overrides.extra_vars();
    assert_eq!(vars["tasks_enabled"], serde_json::json!(false));
    assert_eq!(vars["app_max_size"], serde_json::json!(6));
    assert_eq!(vars["db_pass"], serde_json::json!("12345678"));
    assert_eq!(vars["db_name"], serde_json::json!("argos_x"));
}

#[test]
fn a_secret_comes_from_a_file_and_errors_name_the_file_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db_pass");
    std::fs::write(&file, "fr0m-a-file-only\n").unwrap();
    let mut overrides = Overrides::default();
    overrides
        .set_file(&format!("db_pass={}", file.display()))
        .unwrap();
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    assert_eq!(settings.database.password.expose(), "fr0m-a-file-only");

    std::fs::write(&file, "has a space inside").unwrap();
    let mut bad = Overrides::default();
    bad.set_file(&format!("db_pass={}", file.display()))
        .unwrap();
    let errors = messages(parse(Path::new(FILE), SAMPLE, &bad));
    assert!(
        errors[0].starts_with(&format!("--set-file {}: `db_pass`: ", file.display())),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].ends_with("(the value is not shown)"),
        "{}",
        errors[0]
    );
    assert!(!errors[0].contains("has a space"), "{}", errors[0]);

    let missing = dir.path().join("nothing-here");
    let error = Overrides::default()
        .set_file(&format!("db_pass={}", missing.display()))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "--set-file db_pass={}: cannot read the file:",
            missing.display()
        )),
        "{error}"
    );
    let error = Overrides::default()
        .set_file("db_passs=/x")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "--set-file /x: unknown key `db_passs` (did you mean `db_pass`?)"
    );
    let error = Overrides::default()
        .set_file("no-equals-sign")
        .unwrap_err()
        .to_string();
    assert!(error.contains("expected KEY=PATH"), "{error}");
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    /// A value as a user might write it: anything, quoted (JSON is YAML) or raw.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            any::<String>(),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("99999999999999999999999999".to_owned()),
            Just("-1".to_owned()),
            Just("[a, b]".to_owned()),
            Just("{a: 1}".to_owned()),
            Just("!!binary aGk=".to_owned()),
        ]
    }

    fn key() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(
            keys::KEYS
                .iter()
                .filter(|k| !k.structured())
                .map(|k| k.name)
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any value of any key, in the file, in a variable, in `--set` or
        /// (as text) in `--set-file`, gives settings or errors, never a panic.
        #[test]
        fn any_settings_value_is_ok_or_an_error(
            in_file in proptest::collection::vec((key(), value()), 0..4),
            in_env in proptest::collection::vec((key(), any::<String>()), 0..3),
            in_flags in proptest::collection::vec((key(), any::<String>()), 0..3),
            junk_flag in any::<String>(),
        ) {
            let text: String = SAMPLE
                .lines()
                .map(|line| {
                    let set = in_file.iter().rev().find(|(key, _)| {
                        line.strip_prefix(key).is_some_and(|rest| rest.starts_with(':'))
                    });
                    match set {
                        Some((key, value)) => format!("{key}: {value}\n"),
                        None => format!("{line}\n"),
                    }
                })
                .collect();
            let mut overrides = Overrides::from_env(
                in_env.iter().map(|(k, v)| (keys::env_var(k), v.clone())),
            );
            for (key, value) in &in_flags {
                overrides.set(&format!("{key}={value}")).unwrap();
            }
            let _ = overrides.set(&junk_flag);
            if let Ok(settings) = parse(Path::new(FILE), &text, &overrides) {
                let _ = format!("{settings:?}");
            }
            let _ = overrides.extra_vars();
            let _ = parse(Path::new(FILE), &format!("{text}\n{junk_flag}"), &overrides);
        }
    }
}

#[test]
fn the_topology_is_read_with_its_switches_and_its_problems_named() {
    let settings = parse_text(SAMPLE).unwrap();
    let order: Vec<&str> = settings
        .topology
        .deploy_order()
        .map(|g| g.as_str())
        .collect();
    assert_eq!(order, ["database", "knowledge", "broker", "app", "worker"]);
    let made: Vec<String> = settings
        .topology
        .environment_groups()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        made,
        ["database", "knowledge", "app"],
        "tasks_enabled is false"
    );
    let mut tasks = Overrides::default();
    tasks.flag("tasks_enabled", "true");
    let on = parse(Path::new(FILE), SAMPLE, &tasks).unwrap();
    assert_eq!(on.topology.environment_groups().len(), 5);

    let without: String = SAMPLE
        .lines()
        .take_while(|l| !l.starts_with("topology:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let errors = messages(parse_text(&without));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{FILE}: missing key `topology`"))),
        "{errors:?}"
    );
    let typo = SAMPLE.replace("memory_mb: 3072", "memory: 3072");
    let errors = messages(parse_text(&typo));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`topology[1].memory`: unknown field `memory`")),
        "{errors:?}"
    );
    let refused = Overrides::default().set("topology=app").unwrap_err();
    assert_eq!(
        refused.to_string(),
        "--set: `topology`: is a list, written in the settings file; no flag or variable replaces it"
    );
}
