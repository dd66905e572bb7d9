//! The policy step as a user meets it: a rule of their own in `policies/`,
//! an exception with and without its reason, and `commission` stopping on a
//! finding before anything is made.

use crate::argos;
use crate::support::TempProject;

/// A team's rule: backups are kept two weeks (the shipped database keeps 7 days).
const OWN_RULE: &str = "\
# backups_kept_two_weeks
#   why: a week of backups is shorter than our longest holiday
#   fix: set BackupRetentionPeriod to 14 or more
#   severity: high
rule backups_kept_two_weeks {
  Resources.*[ Type == 'AWS::RDS::DBInstance' ] {
    Properties.BackupRetentionPeriod >= 14
  }
}
";

fn with_own_rule() -> TempProject {
    let project = TempProject::shipped();
    let policies = project.root().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("backups.guard"), OWN_RULE).unwrap();
    project
}

fn output(command: &mut assert_cmd::Command) -> (String, Option<i32>) {
    let out = command.output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (text, out.status.code())
}

fn line_of(file: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn a_rule_dropped_into_policies_is_found_with_its_line_and_stops_a_commission() {
    let project = with_own_rule();
    let (out, code) = output(argos(&project).args(["staging", "validate", "--no-lint"]));
    assert_eq!(code, Some(1), "{out}");
    let line = line_of(
        &project.root().join("formations/database.json"),
        "\"BackupRetentionPeriod\"",
    );
    assert!(
        out.contains(&format!(
            "formations/database.json:{line}: backups_kept_two_weeks [high] on Database: \
             Properties.BackupRetentionPeriod is 7: a week of backups"
        )),
        "{out}"
    );
    assert!(
        out.contains("Fix: set BackupRetentionPeriod to 14"),
        "{out}"
    );

    // commission validates first: it stops before any call (no endpoint is
    // given, so a call would fail differently).
    let (out, code) = output(argos(&project).args(["staging", "commission"]));
    assert_ne!(code, Some(0), "{out}");
    assert!(
        out.contains("not ready") && out.contains("backups_kept_two_weeks [high] on Database"),
        "{out}"
    );
}

#[test]
fn an_exception_with_a_reason_is_accepted_and_printed_and_one_without_is_refused() {
    let project = with_own_rule();
    let sample = project.sample();
    project.write_settings(&format!(
        "{sample}\npolicy_exceptions:\n  - rule: backups_kept_two_weeks\n    resource: Database\n    \
         reason: staging data is rebuilt nightly\n"
    ));
    let (out, code) = output(argos(&project).args(["staging", "validate", "--no-lint"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 excepted"), "{out}");
    assert!(
        out.contains("exception in force")
            && out.contains(
                "rule backups_kept_two_weeks on Database: staging data is rebuilt nightly"
            ),
        "{out}"
    );

    project.write_settings(&format!(
        "{sample}\npolicy_exceptions:\n  - rule: backups_kept_two_weeks\n    resource: Database\n"
    ));
    let (out, code) = output(argos(&project).args(["staging", "validate", "--no-lint"]));
    assert_eq!(code, Some(1), "{out}");
    let settings = project.root().join("playbooks/group_vars/all.yml");
    let line = line_of(&settings, "- rule: backups_kept_two_weeks");
    assert!(
        out.contains(&format!("all.yml:{line}: `policy_exceptions[0]`"))
            && out.contains("gives no reason"),
        "{out}"
    );

    project.write_settings(&format!(
        "{sample}\npolicy_exceptions:\n  - rule: backups_kept_two_weeks\n    resource: Databse\n    \
         reason: typo\n"
    ));
    let (out, code) = output(argos(&project).args(["staging", "validate", "--no-lint"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no resource \"Databse\""), "{out}");
}

#[test]
fn the_shipped_formations_pass_for_production_and_fail_when_its_database_may_be_deleted() {
    let project = TempProject::shipped();
    let (out, code) = output(argos(&project).env("ARGOS_PRODUCTION", "true").args([
        "production",
        "validate",
        "--no-lint",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok  policy"), "{out}");
    // The sample maps DBDeletionProtection to "{{ production }}": given
    // "false" by hand, a production database could be deleted.
    let sample = project.sample();
    let mapped = "DBDeletionProtection: \"{{ production }}\"";
    assert!(sample.contains(mapped));
    project.write_settings(&sample.replace(mapped, "DBDeletionProtection: \"false\""));
    let (out, code) = output(argos(&project).env("ARGOS_PRODUCTION", "true").args([
        "production",
        "validate",
        "--no-lint",
    ]));
    assert_eq!(code, Some(1), "{out}");
    let line = line_of(
        &project.root().join("formations/database.json"),
        "\"DeletionProtection\"",
    );
    assert!(
        out.contains(&format!(
            "formations/database.json:{line}: rds_no_deletion_protection_in_production [high] on \
             Database: Properties.DeletionProtection is {{\"Ref\":\"DBDeletionProtection\"}} \
             (the settings give DBDeletionProtection \"false\")"
        )),
        "{out}"
    );
}
