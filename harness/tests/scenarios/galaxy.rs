//! Roles from elsewhere, run as their own repositories test them: the
//! Galaxy-shaped fixture roles in `tests/fixtures/galaxy/`, each read from
//! its `molecule/default/molecule.yml` as it is (a registry image,
//! `privileged: true`, a dependency on another role), converged twice and
//! verified by its own verify.yml.

use argos_cloud::scenario::{self, Step};
use argos_harness::scenarios;

async fn passes(role: &str) -> Vec<String> {
    let path = scenarios::workspace_root()
        .join("tests/fixtures/galaxy")
        .join(role);
    let (scenario, notes) = scenario::load_any(&path).unwrap_or_else(|e| panic!("{e}"));
    if !scenarios::backend_available() {
        return notes;
    }
    let report = scenarios::run_with(&scenario, &scenarios::options()).await;
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
    for step in [Step::Converge, Step::Idempotence, Step::Verify] {
        assert!(report.step(step).is_some(), "{step} ran:\n{report}");
    }
    notes
}

/// What every fixture's molecule.yml asks that cannot be here, said once each.
fn assert_said(notes: &[String]) {
    let text = notes.join("\n");
    for said in [
        "not present locally and nothing can be pulled here",
        "privileged: true: hosts run unprivileged",
        "platforms[].command: ignored",
    ] {
        assert_eq!(
            notes.iter().filter(|n| n.contains(said)).count(),
            1,
            "{said:?} said once in:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_galaxy_role_with_handlers_and_os_vars_passes_its_molecule_scenario() {
    assert_said(&passes("ansible-role-redis").await);
}

#[tokio::test]
async fn a_galaxy_role_with_inventory_group_vars_passes_its_molecule_scenario() {
    assert_said(&passes("ansible-role-motd").await);
}

#[tokio::test]
async fn a_galaxy_role_depending_on_another_passes_with_its_requirements_offline() {
    assert_said(&passes("ansible-role-greeter").await);
}

// A role verified by testinfra (`ansible-role-banner`): each test case a
// line of the verify step and a JUnit test case; a failing one fails verify.

use argos_cloud::scenario::report::{Outcome, ScenarioReport};

/// The verify step of a run that reached it: whether it passed, its text.
fn verify_text(report: &ScenarioReport) -> (bool, String) {
    match &report.step(Step::Verify).map(|s| &s.outcome) {
        Some(Outcome::Passed(text)) => (true, text.clone()),
        Some(Outcome::Failed(text)) => (false, text.clone()),
        other => panic!("verify did not run: {other:?}\n{report}"),
    }
}

/// `ansible-role-banner`'s Molecule scenario `name`, verified by testinfra,
/// run as it is; `None` where the backend cannot run (said loudly).
async fn banner_scenario(name: &str) -> Option<ScenarioReport> {
    let path = scenarios::workspace_root()
        .join("tests/fixtures/galaxy/ansible-role-banner/molecule")
        .join(name);
    let (scenario, _) = scenario::load_any(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(scenario.verifier.testinfra_tests().is_some());
    if !scenarios::backend_available() {
        return None;
    }
    Some(scenarios::run_with(&scenario, &scenarios::options()).await)
}

#[tokio::test]
async fn a_galaxy_role_passes_its_testinfra_tests_each_one_reported() {
    let Some(report) = banner_scenario("default").await else {
        return;
    };
    assert!(report.passed(), "{report}");
    let (_, text) = verify_text(&report);
    let host = format!("{}-instance", report.environment);
    let junit = report.junit();
    for test in [
        "test_banner_is_roots_and_readable_by_all",
        "test_banner_says_what_converge_asked",
        "test_tests_run_as_root_as_the_role_did",
    ] {
        let id = format!("test_default.py::{test}[ansible://{host}]");
        assert!(
            text.lines().any(|l| l == format!("ok    {id}")),
            "{id} ok in:\n{text}"
        );
        assert!(
            junit.contains(&format!("name=\"verify: {id}\"")),
            "{id} a JUnit test case in:\n{junit}"
        );
    }
    assert!(!text.contains("no check of the role ran"), "{text}");
}

#[tokio::test]
async fn a_failing_testinfra_test_fails_verify_naming_it_and_destroy_still_runs() {
    let Some(report) = banner_scenario("failing").await else {
        return;
    };
    assert!(!report.passed(), "{report}");
    let (passed, text) = verify_text(&report);
    assert!(!passed, "{report}");
    assert!(text.starts_with("1 check(s) failed"), "{text}");
    let host = format!("{}-instance", report.environment);
    let ok = format!("ok    test_wrong.py::test_banner_exists[ansible://{host}]");
    assert!(text.lines().any(|l| l == ok), "{ok} in:\n{text}");
    let failed = format!("test_wrong.py::test_banner_says_something_else[ansible://{host}]");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("FAIL  {failed}: ")))
        .unwrap_or_else(|| panic!("{failed} failed in:\n{text}"));
    assert!(
        line.contains("AssertionError") && line.contains("Tested by testinfra."),
        "pytest's assertion in: {line}"
    );
    let junit = report.junit();
    let case = junit
        .split(&format!("name=\"verify: {failed}\""))
        .nth(1)
        .and_then(|rest| rest.split("</testcase>").next())
        .unwrap_or_else(|| panic!("{failed} a JUnit test case in:\n{junit}"));
    assert!(case.contains("<failure"), "{case}");
    assert!(
        matches!(
            report.step(Step::Destroy).map(|s| &s.outcome),
            Some(Outcome::Passed(_))
        ),
        "{report}"
    );
}
