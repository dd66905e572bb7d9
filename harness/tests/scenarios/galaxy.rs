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
