//! The GitHub workflows, read as data: what CI and the nightly AWS smoke must
//! keep doing. (`.ci/run` also checks them with check-jsonschema and zizmor.)

use std::path::Path;

use serde_norway::Value;

fn workflow(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".github/workflows")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn jobs(workflow: &Value) -> Vec<&Value> {
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    assert!(!jobs.is_empty(), "no jobs");
    jobs.values().collect()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_sequence().expect("steps")
}

/// The shell script of a step ("" for a step that uses an action).
fn script(step: &Value) -> &str {
    step["run"].as_str().unwrap_or_default()
}

/// The step that uses `action` (`owner/name`).
fn step_using<'a>(steps: &'a [Value], action: &str) -> &'a Value {
    let prefix = format!("{action}@");
    steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(&prefix)))
        .unwrap_or_else(|| panic!("no step uses {action}"))
}

/// The position of the one step whose script contains `text`.
fn step_running(steps: &[Value], text: &str) -> usize {
    let found: Vec<usize> = (0..steps.len())
        .filter(|&i| script(&steps[i]).contains(text))
        .collect();
    assert_eq!(found.len(), 1, "steps running {text:?}: {found:?}");
    found[0]
}

#[test]
fn ci_runs_the_ci_script_and_keeps_its_junit_report_whatever_happens() {
    let ci = workflow("ci.yml");
    let job = jobs(&ci)[0];
    let steps = steps(job);
    step_running(steps, ".ci/run");
    assert!(
        !steps.iter().any(|s| script(s).contains("cargo nextest")),
        "ci.yml runs .ci/run, it does not repeat it"
    );
    let upload = step_using(steps, "actions/upload-artifact");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    let paths = upload["with"]["path"].as_str().unwrap_or_default();
    assert!(paths.contains("target/nextest/ci/junit.xml"), "{paths}");
}

#[test]
fn nightly_gets_aws_credentials_by_oidc_and_holds_no_keys() {
    let nightly = workflow("nightly.yml");
    let job = jobs(&nightly)[0];
    assert_eq!(job["permissions"]["id-token"].as_str(), Some("write"));
    let oidc = step_using(steps(job), "aws-actions/configure-aws-credentials");
    assert_eq!(
        oidc["with"]["role-to-assume"].as_str(),
        Some("${{ vars.ARGOS_NIGHTLY_ROLE_ARN }}")
    );
    let text = serde_norway::to_string(&nightly).unwrap().to_lowercase();
    for key in [
        "access-key-id",
        "access_key_id",
        "secret-access-key",
        "secret_access_key",
    ] {
        assert!(!text.contains(key), "nightly.yml mentions {key}");
    }
}

#[test]
fn the_nightly_sweep_always_runs_after_the_scenario_and_sweeps_its_run() {
    let nightly = workflow("nightly.yml");
    let steps = steps(jobs(&nightly)[0]);
    let scenario = step_running(steps, "scenario run scenarios/");
    let sweep = step_running(steps, "--run \"$ARGOS_ENV\"");
    assert!(
        sweep > scenario,
        "the sweep (step {sweep}) must come after the scenario (step {scenario})"
    );
    assert_eq!(
        steps[sweep]["if"].as_str(),
        Some("always()"),
        "the sweep must run whatever happened"
    );
    assert!(
        script(&steps[scenario]).contains("--env \"$ARGOS_ENV\""),
        "the scenario's environment is the run the sweep removes"
    );
    for sweep_of in ["\"$ARGOS_ENV\" sweep --run \"$ARGOS_ENV\"", "nightly sweep"] {
        assert!(script(&steps[sweep]).contains(sweep_of), "{sweep_of}");
    }
    assert!(
        script(&steps[sweep]).contains("GITHUB_STEP_SUMMARY"),
        "a leak is named in the job summary"
    );
}

#[test]
fn every_action_is_pinned_by_a_full_commit_sha() {
    let mut pinned = 0;
    for name in ["ci.yml", "nightly.yml"] {
        let workflow = workflow(name);
        for job in jobs(&workflow) {
            for uses in steps(job).iter().filter_map(|s| s["uses"].as_str()) {
                let (_, sha) = uses.split_once('@').unwrap_or((uses, ""));
                assert!(
                    sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{name}: {uses} is not pinned by a commit SHA"
                );
                pinned += 1;
            }
        }
    }
    assert!(pinned >= 5, "only {pinned} actions found");
}

#[test]
fn both_workflows_have_timeouts_concurrency_and_no_expressions_in_scripts() {
    for name in ["ci.yml", "nightly.yml"] {
        let workflow = workflow(name);
        assert!(
            workflow["concurrency"]["group"].is_string(),
            "{name}: concurrency"
        );
        for job in jobs(&workflow) {
            assert!(job["timeout-minutes"].is_u64(), "{name}: timeout-minutes");
            for step in steps(job) {
                assert!(
                    !script(step).contains("${{"),
                    "{name}: an expression inside a script (pass it through env:)"
                );
            }
        }
    }
    assert_eq!(
        workflow("nightly.yml")["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false),
        "a cancelled smoke would leave its environment behind"
    );
}
