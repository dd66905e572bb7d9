use super::*;

const SAMPLE: &str = include_str!("../../../playbooks/group_vars/all.sample.yml");
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
fn the_sample_is_valid_and_open() {
    let settings = parse_text(SAMPLE).unwrap();
    assert_eq!(settings.app_name.as_str(), "argos");
    assert_eq!(settings.access.ssh_user, "admin");
    // Argos's own keys are data: read as Ansible reads them, no Rust type.
    assert_eq!(settings.text("db_name").as_deref(), Some("argos"));
    assert_eq!(settings.text("db_allocated_storage").as_deref(), Some("20"));
    assert!(!settings.values.switch("tasks_enabled"));
    assert_eq!(settings.vars()["email_port"], serde_json::json!(587));
    assert_eq!(settings.vars()["error_admins"], serde_json::json!([]));
    assert_eq!(settings.parameters.entries.len(), 28);
    assert_eq!(
        settings
            .parameters
            .mapped_to("app_image_id")
            .collect::<Vec<_>>(),
        ["AppImageId"]
    );
    assert_eq!(settings.image_parameters.entries.len(), 5);
}

#[test]
fn the_sample_documents_every_engine_key() {
    let file = SettingsFile::parse(Path::new("sample"), SAMPLE).unwrap();
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
fn a_key_written_twice_names_both_lines() {
    let text = format!("{SAMPLE}\napp_name: other\n");
    let second = text.lines().count();
    let first = SAMPLE
        .lines()
        .position(|l| l.starts_with("app_name:"))
        .unwrap()
        + 1;
    let errors = messages(parse_text(&text));
    assert_eq!(
        errors,
        [format!(
            "{FILE}:{second}:1: `app_name` is written twice in one mapping, at line {first} \
             and here: Ansible would keep only the second; remove one"
        )]
    );
}

#[test]
fn a_missing_key_is_named_with_its_purpose() {
    let errors = messages(parse_text(&sample_with("base_ami", None)));
    assert_eq!(
        errors,
        [
            "playbooks/group_vars/all.yml: missing key `base_ami`: the base image (an AMI id) \
             the image bake and the unbaked groups start from"
        ]
    );
}

#[test]
fn a_malformed_key_is_named_with_its_line() {
    let text = sample_with("region", Some("region: mars-1"));
    let line = text.lines().position(|l| l.starts_with("region:")).unwrap() + 1;
    let errors = messages(parse_text(&text));
    assert_eq!(
        errors,
        [format!(
            "playbooks/group_vars/all.yml:{line}: `region`: \"mars-1\" is not an AWS region \
             (e.g. us-east-1)"
        )]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = sample_with("region", Some("region: mars-1"));
    let text = text.replace("ssh_user: admin", "ssh_user: \"not a user\"");
    let text = text.replace("base_ami: ami-0123456789abcdef0", "base_ami: nope");
    let errors = messages(parse_text(&text));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    for key in ["`region`", "`ssh_user`", "`base_ami`"] {
        assert!(errors.iter().any(|e| e.contains(key)), "{key}: {errors:#?}");
    }
}

#[test]
fn lists_and_scalars_are_told_apart() {
    let text = sample_with("region", Some("region: [us-east-1]"));
    assert!(messages(parse_text(&text))[0].contains("expected a single value"));
    let text = sample_with("secret_vars", Some("secret_vars: [[a]]"));
    assert!(messages(parse_text(&text))[0].contains("expected a list of key names"));
}

#[test]
fn overrides_win_and_say_where_they_came_from() {
    let mut overrides = Overrides::from_env([("ARGOS_DB_NAME".to_owned(), "from_env".to_owned())]);
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    assert_eq!(settings.text("db_name").as_deref(), Some("from_env"));
    assert_eq!(
        settings.values.get("db_name").unwrap().origin.to_string(),
        "environment variable ARGOS_DB_NAME"
    );

    overrides.set("db_name=from_flag").unwrap();
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    assert_eq!(settings.text("db_name").as_deref(), Some("from_flag"));

    // Any key of the file can be overridden; one of no file is an error,
    // with the nearest key of the file.
    let mut open = Overrides::default();
    open.set("celery_admin_name=ops").unwrap();
    let settings = parse(Path::new(FILE), SAMPLE, &open).unwrap();
    assert_eq!(settings.override_vars()["celery_admin_name"], "ops");
    let mut typo = Overrides::default();
    typo.set("db_nmae=x").unwrap();
    let errors = messages(parse(Path::new(FILE), SAMPLE, &typo));
    assert_eq!(
        errors,
        [
            "--set: unknown key `db_nmae`: it is in no settings file and argos-cloud does not \
          read it (did you mean `db_name`?)"
        ]
    );
    assert!(Overrides::default().set("no-equals-sign").is_err());
    assert!(Overrides::default().set("not a key=x").is_err());
}

#[test]
fn an_override_keeps_the_type_of_the_value_it_replaces() {
    let mut overrides = Overrides::default();
    overrides.set("tasks_enabled=yes").unwrap();
    overrides.set("app_max_size=6").unwrap();
    overrides.set("db_pass=12345678").unwrap();
    let settings = parse(Path::new(FILE), SAMPLE, &overrides).unwrap();
    let vars = settings.override_vars();
    assert_eq!(vars["tasks_enabled"], serde_json::json!(true));
    assert_eq!(vars["app_max_size"], serde_json::json!(6));
    assert_eq!(vars["db_pass"], serde_json::json!("12345678"));
    assert!(settings.values.switch("tasks_enabled"));
    let mut bad = Overrides::default();
    bad.set("tasks_enabled=maybe").unwrap();
    let errors = messages(parse(Path::new(FILE), SAMPLE, &bad));
    assert!(
        errors[0].starts_with("--set: `tasks_enabled`: \"maybe\" is not true or false"),
        "{errors:?}"
    );
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let password = "Sup3rSecretPassw0rd";
    let text = sample_with("db_pass", Some(&format!("db_pass: {password}")));
    let settings = parse_text(&text).unwrap();
    assert_eq!(settings.secret("db_pass").unwrap().expose(), password);
    assert!(settings.values.is_secret("db_pass"));
    assert!(
        settings.values.is_secret("instagram_client_id"),
        "listed in secret_vars"
    );
    let debug = format!("{settings:?}");
    assert!(!debug.contains(password), "password in Debug output");

    let text = sample_with("db_pass", Some("db_pass: 0777777"));
    let errors = messages(parse_text(&text).and_then(|s| {
        let plan_error = s.text("db_pass");
        assert!(plan_error.is_none(), "an ambiguous secret is refused");
        Err(SettingsErrors(vec![]))
    }));
    assert!(errors.is_empty());
}

#[test]
fn a_missing_file_is_made_from_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("formations")).unwrap();
    std::fs::create_dir_all(dir.path().join("playbooks/group_vars")).unwrap();
    std::fs::write(dir.path().join(Project::SAMPLE_SETTINGS), SAMPLE).unwrap();
    let project = Project::open(dir.path()).unwrap();

    let loaded = load(&project, &Overrides::default(), None).unwrap();
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
    let again = load(&project, &Overrides::default(), None).unwrap();
    assert!(!again.notices.iter().any(|n| n.starts_with("created ")));
}

#[test]
fn typos_of_engine_keys_in_the_file_are_pointed_out() {
    let text = format!("{SAMPLE}\nregoin: x\n");
    let file = SettingsFile::parse(Path::new(FILE), &text).unwrap();
    let notices = typo_notices(&[file]);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("key `regoin` is not one argos-cloud reads: did you mean `region`?"),
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
    let error = load(&project, &Overrides::default(), None)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("neither "), "{error}");
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
    assert_eq!(
        settings.secret("db_pass").unwrap().expose(),
        "fr0m-a-file-only"
    );
    assert_eq!(
        settings.values.get("db_pass").unwrap().origin.to_string(),
        format!("--set-file {}", file.display())
    );

    let missing = dir.path().join("nothing-here");
    let error = Overrides::default()
        .set_file(&format!("db_pass={}", missing.display()))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "--set-file db_pass: {}: cannot read: ",
            missing.display()
        )),
        "{error}"
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
                .chain([
                    "db_pass",
                    "db_name",
                    "tasks_enabled",
                    "app_max_size",
                    "vpc_cidr",
                ])
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
                let _ = settings.override_vars();
            }
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
    let mut overrides = Overrides::default();
    overrides.set("topology=app").unwrap();
    let refused = messages(parse(Path::new(FILE), SAMPLE, &overrides));
    assert_eq!(
        refused,
        [
            "--set: `topology`: is a list or mapping, written in a settings file; no flag or \
          variable replaces it"
        ]
    );
    let group_parameters = SAMPLE.replace(
        "{group: knowledge, singleton: true,",
        "{group: knowledge, parameters: {X: y}, singleton: true,",
    );
    let errors = messages(parse_text(&group_parameters));
    assert!(
        errors[0].contains("`topology[1].parameters`: a group's parameters are no longer set here"),
        "{errors:?}"
    );
}

mod the_environment {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use proptest::prelude::*;

    use super::*;
    use crate::input::env::Environment;

    fn name() -> impl Strategy<Value = OsString> {
        prop_oneof![
            proptest::sample::select(
                keys::KEYS
                    .iter()
                    .map(|k| keys::env_var(k.name))
                    .chain(
                        [
                            "ARGOS_BACKEND",
                            "ARGOS_KEEP",
                            "ARGOS_ROOT",
                            "AWS_ENDPOINT_URL"
                        ]
                        .map(String::from)
                    )
                    .collect::<Vec<_>>()
            )
            .prop_map(OsString::from),
            proptest::collection::vec(
                any::<u8>().prop_filter("no NUL or =", |b| *b != 0 && *b != b'='),
                1..12
            )
            .prop_map(OsString::from_vec),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any bytes in any variable, ours or not: overrides or an error
        /// naming the variable, never a panic, never the value in a message.
        #[test]
        fn any_bytes_in_any_variable_are_read_or_named(
            vars in proptest::collection::vec(
                (name(), proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..24)),
                0..8,
            ),
        ) {
            let marked: Vec<(OsString, OsString)> = vars
                .into_iter()
                .map(|(n, mut v)| {
                    v.extend_from_slice(b"MARK\xff");
                    (n, OsString::from_vec(v))
                })
                .collect();
            let env = Environment::from_os(marked);
            match Overrides::from_environment(&env) {
                Ok(overrides) => {
                    let _ = parse(Path::new(FILE), SAMPLE, &overrides);
                }
                Err(error) => {
                    let text = error.to_string();
                    prop_assert!(!text.contains("MARK"), "{}", text);
                    prop_assert!(text.contains("ARGOS_"), "{}", text);
                }
            }
            let mut cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["argos-cloud", "staging", "validate"]).unwrap();
            if let Err(error) = cli.resolve_env(&env) {
                prop_assert!(!error.to_string().contains("MARK"), "{}", error);
            }
        }
    }
}
