//! The GitHub workflows, read as data: what CI, the sharded roles suite and
//! the nightly AWS smoke must keep doing. (`.ci/run` also checks them with
//! check-jsonschema and zizmor.)

use std::path::Path;

use serde_norway::Value;

const WORKFLOWS: [&str; 3] = ["ci.yml", "roles.yml", "nightly.yml"];

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

/// The nightly smoke's step that finds the runner's public address, run
/// as GitHub runs it (`bash -eo pipefail`) with a stand-in `curl` that gives
/// `answer` (or fails when `None`): (succeeded, its output, what it wrote to
/// `$GITHUB_OUTPUT`). Nothing leaves the machine.
fn find_address(script: &str, answer: Option<&str>) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = match answer {
        Some(answer) => format!("#!/bin/sh\nprintf '%s\\n' '{answer}'\n"),
        None => "#!/bin/sh\necho 'curl: (28) Operation timed out' >&2\nexit 28\n".to_owned(),
    };
    let curl = bin.join("curl");
    std::fs::write(&curl, fake).unwrap();
    std::fs::set_permissions(&curl, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = dir.path().join("github-output");
    std::fs::write(&output, "").unwrap();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .expect("bash runs the step");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&output).unwrap();
    (out.status.success(), text, written)
}

#[test]
fn the_nightly_lets_ssh_in_from_the_runners_own_address_found_at_run_time() {
    let nightly = workflow("nightly.yml");
    let smoke = jobs(&nightly)[0];
    let steps = steps(smoke);
    let scenario = step_running(steps, "scenario run scenarios/");
    let find = step_running(steps, "https://checkip.amazonaws.com");
    assert!(
        find < scenario,
        "the address (step {find}) is found before the scenario (step {scenario})"
    );
    let id = steps[find]["id"].as_str().expect("the address step's id");
    let from_the_runner = format!("${{{{ steps.{id}.outputs.cidr }}}}");
    assert_eq!(
        steps[scenario]["env"]["ARGOS_OPERATOR_CIDR"].as_str(),
        Some(from_the_runner.as_str()),
        "the scenario's operator_cidr is the address found at run time"
    );

    // The step itself, on a stand-in answer: an address becomes its /32,
    // anything else fails the step, naming why.
    let find = script(&steps[find]);
    let (ok, out, written) = find_address(find, Some("198.51.100.7"));
    assert!(ok, "{out}");
    assert_eq!(written, "cidr=198.51.100.7/32\n", "{out}");
    for (answer, why) in [
        (Some("<html>rate limited</html>"), "not an IPv4 address"),
        (Some("256.51.100.7"), "not an IPv4 address"),
        (Some("198.51.100.0/24"), "not an IPv4 address"),
        (Some(""), "not an IPv4 address"),
        (None, "did not answer"),
    ] {
        let (ok, out, written) = find_address(find, answer);
        assert!(!ok, "{answer:?} was accepted: {out}");
        assert!(
            out.contains("::error::") && out.contains(why),
            "{answer:?}: {out}"
        );
        assert_eq!(written, "", "{answer:?}: nothing is passed on");
    }

    // No fixed range: no repository variable, and nothing but that step,
    // supplies the operator range.
    let text = serde_norway::to_string(&nightly).unwrap();
    for variable in text.split("vars.").skip(1) {
        let name: String = variable
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            !name.contains("OPERATOR") && !name.contains("CIDR"),
            "nightly.yml reads the repository variable {name}"
        );
    }
    for (i, step) in steps.iter().enumerate() {
        assert!(
            !script(step).contains("ARGOS_OPERATOR_CIDR="),
            "step {i} sets ARGOS_OPERATOR_CIDR in its script"
        );
        if i != scenario {
            assert!(
                step["env"].get("ARGOS_OPERATOR_CIDR").is_none(),
                "step {i} sets ARGOS_OPERATOR_CIDR"
            );
        }
    }
    assert!(smoke["env"].get("ARGOS_OPERATOR_CIDR").is_none());
    assert!(nightly["env"].get("ARGOS_OPERATOR_CIDR").is_none());
}

/// The job `name` of `workflow`.
fn job<'a>(workflow: &'a Value, name: &str) -> &'a Value {
    let job = &workflow["jobs"][name];
    assert!(job.is_mapping(), "no job {name}");
    job
}

#[test]
fn the_nightly_runs_each_scenario_in_an_environment_of_its_own() {
    let nightly = workflow("nightly.yml");
    let smoke = jobs(&nightly)[0];
    assert_eq!(smoke["strategy"]["fail-fast"].as_bool(), Some(false));
    let scenarios = smoke["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("a matrix of scenarios");
    for entry in scenarios {
        let (scenario, id) = (
            entry["scenario"].as_str().unwrap(),
            entry["id"].as_str().unwrap(),
        );
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{scenario}.yaml"));
        assert!(file.is_file(), "{}", file.display());
        // n<run id, 11 digits today, 12 to be safe>-<attempt>-<id>
        let longest = "n".len() + 12 + "-99-".len() + id.len();
        assert!(
            longest <= 24,
            "{id}: an environment name of {longest} characters"
        );
    }
    let env = &smoke["env"];
    for (key, value) in [
        ("ARGOS_ENV", "${{ matrix.id }}"),
        ("SCENARIO", "${{ matrix.scenario }}"),
    ] {
        assert!(
            env[key].as_str().unwrap_or_default().contains(value),
            "{key}"
        );
    }
    let steps = steps(smoke);
    let upload = step_using(steps, "actions/upload-artifact");
    assert!(
        upload["with"]["name"]
            .as_str()
            .unwrap()
            .contains("${{ matrix.id }}")
    );
    // Every job sweeps its own run; only one sweeps the expired leftovers.
    assert_eq!(
        env["SWEEP_EXPIRED"].as_str(),
        Some("${{ strategy.job-index == 0 }}")
    );
    let sweep = script(&steps[step_running(steps, "--run \"$ARGOS_ENV\"")]);
    let guard = sweep
        .find("if [ \"$SWEEP_EXPIRED\" = true ]")
        .expect("guarded");
    assert!(sweep.find("nightly sweep").unwrap() > guard);
}

#[test]
fn the_roles_suite_is_built_once_and_each_shard_runs_its_partition_of_the_archive() {
    let roles = workflow("roles.yml");
    let build = steps(job(&roles, "build"));
    let archive = script(&build[step_running(build, "cargo nextest archive")]);
    assert!(
        archive.contains("--archive-file roles-archive/roles.tar.zst"),
        "{archive}"
    );

    let shard = job(&roles, "roles");
    assert_eq!(shard["needs"].as_str(), Some("build"));
    assert_eq!(shard["strategy"]["fail-fast"].as_bool(), Some(false));
    let shards: Vec<u64> = shard["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a matrix of shards")
        .iter()
        .map(|k| k.as_u64().unwrap())
        .collect();
    let n = shards.len() as u64;
    assert_eq!(shards, (1..=n).collect::<Vec<_>>(), "shards 1..N");
    assert_eq!(
        shard["env"]["SHARDS"].as_str(),
        Some("${{ strategy.job-total }}")
    );
    let shard_steps = steps(shard);
    let run = script(&shard_steps[step_running(shard_steps, "cargo nextest run")]);
    for part in [
        "--archive-file roles-archive/roles.tar.zst",
        "--workspace-remap .",
        "--profile roles",
        "--partition \"hash:$SHARD/$SHARDS\"",
    ] {
        assert!(run.contains(part), "{part} in {run}");
    }
    step_running(shard_steps, ".ci/runtime");
    assert_eq!(
        step_using(shard_steps, "actions/upload-artifact")["if"].as_str(),
        Some("always()")
    );

    let merge = job(&roles, "junit");
    assert_eq!(merge["needs"].as_str(), Some("roles"));
    assert_eq!(merge["if"].as_str(), Some("always()"));
    assert_eq!(
        merge["env"]["SHARDS"].as_u64(),
        Some(n),
        "the junit job's shard count"
    );
    step_running(
        steps(merge),
        ".ci/merge-junit.py --out junit-roles.xml --expect \"$SHARDS\"",
    );
}

/// `.ci/merge-junit.py` on `reports` (XML texts): (passed, output, merged XML).
fn merge_junit(reports: &[&str], expect: usize) -> (bool, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new("python3");
    command.arg(root.join(".ci/merge-junit.py"));
    command.args(["--expect", &expect.to_string(), "--out"]);
    command.arg(dir.path().join("merged.xml"));
    for (i, report) in reports.iter().enumerate() {
        let file = dir.path().join(format!("shard-{i}.xml"));
        std::fs::write(&file, report).unwrap();
        command.arg(file);
    }
    let out = command.output().expect("python3 runs the merge");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = std::fs::read_to_string(dir.path().join("merged.xml")).unwrap_or_default();
    (out.status.success(), text, merged)
}

/// A shard's report as nextest writes it: `(test, seconds, failed)` cases of
/// the scenarios binary.
fn shard_report(time: f64, cases: &[(&str, f64, bool)]) -> String {
    let failures = cases.iter().filter(|c| c.2).count();
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="{n}" failures="{failures}" errors="0" uuid="u" timestamp="2026-01-01T00:00:00+00:00" time="{time}">
<testsuite name="argos-harness::scenarios" tests="{n}" disabled="0" errors="0" failures="{failures}">"#,
        n = cases.len()
    );
    for (name, seconds, failed) in cases {
        let failure = if *failed {
            "<failure type=\"test failure\"/>"
        } else {
            ""
        };
        xml.push_str(&format!(
            r#"<testcase name="{name}" classname="argos-harness::scenarios" time="{seconds}">{failure}</testcase>"#
        ));
    }
    xml + "</testsuite></testsuites>"
}

#[test]
fn the_shards_reports_merge_into_one_and_a_missing_or_doubled_shard_fails() {
    let one = shard_report(
        200.0,
        &[
            ("shipped::app", 190.0, false),
            ("shipped::image", 40.0, true),
        ],
    );
    let two = shard_report(300.0, &[("shipped::full_stack", 290.0, false)]);
    let (passed, out, merged) = merge_junit(&[&one, &two], 2);
    assert!(passed, "{out}");
    assert!(merged.contains(r#"tests="3" failures="1""#), "{merged}");
    assert!(
        merged.contains(r#"time="300.000""#),
        "the longest shard: {merged}"
    );
    assert_eq!(
        merged.matches("<testsuite ").count(),
        1,
        "one suite per binary: {merged}"
    );
    for name in ["shipped::app", "shipped::image", "shipped::full_stack"] {
        assert!(
            merged.contains(&format!("name=\"{name}\"")),
            "{name}: {merged}"
        );
    }

    let (passed, out, merged) = merge_junit(&[&one], 2);
    assert!(!passed, "{out}");
    assert!(out.contains("1 report(s) for 2 shards"), "{out}");
    assert!(
        merged.contains(r#"tests="2""#),
        "what ran is still merged: {merged}"
    );

    let (passed, out, _) = merge_junit(&[&one, &one], 2);
    assert!(!passed, "{out}");
    assert!(out.contains("shipped::app is in"), "{out}");
}

#[test]
fn every_action_is_pinned_by_a_full_commit_sha() {
    let mut pinned = 0;
    for name in WORKFLOWS {
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
fn every_workflow_has_timeouts_concurrency_and_no_expressions_in_scripts() {
    for name in WORKFLOWS {
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

/// The nightly role's policy is checked by the policy step of `validate`
/// (the Guard rule `iam_tag_then_delete`, tested in src/cfn/policy): the
/// sample settings name it, and `.ci/run` validates with the sample.
#[test]
fn ci_checks_the_nightly_policy_with_the_policy_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        run.lines().any(|l| l
            .trim_start()
            .starts_with("cargo run --quiet -- staging validate")),
        ".ci/run must validate (the policy step checks the IAM policy)"
    );
    let sample = std::fs::read_to_string(root.join("playbooks/group_vars/all.sample.yml")).unwrap();
    assert!(
        sample
            .lines()
            .any(|l| l.starts_with("iam_policies:") && l.contains(".github/aws-iam")),
        "the sample settings must name .github/aws-iam in iam_policies"
    );
    let text = std::fs::read_to_string(root.join(".github/aws-iam/nightly-policy.json")).unwrap();
    assert!(
        !text.contains("\"ec2:*\"") && !text.contains("\"Action\": \"*\""),
        "no wildcard that the rule would have to see through"
    );
}

/// The nextest profiles give the `environments` test group one rule, the
/// same in `default` and `ci`: the `scenarios` binary and every module
/// named `environments`.
#[test]
fn the_profiles_put_every_environment_test_in_one_group_by_one_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".config/nextest.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let rule = r#"filter = "binary(scenarios) | test(/(^|::)environments::/)""#;
    for profile in ["default", "ci"] {
        let section =
            format!("[[profile.{profile}.overrides]]\n{rule}\ntest-group = \"environments\"");
        assert!(
            text.contains(&section),
            "{profile}: no\n{section}\nin {}",
            path.display()
        );
    }
}

/// A test that makes an environment (commissions on Docker or Vagrant, runs
/// a scenario, or uses the emulator's data plane) lives in its file's
/// `environments` module, so the group's rule finds it.
#[test]
fn every_test_that_makes_an_environment_is_in_an_environments_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/cli"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.push(root.join("harness/tests/aws.rs"));
    let makes_one = |body: &str| {
        let local = body.contains("\"docker\"") || body.contains("\"vagrant\"");
        let makes = body.contains("\"commission\"") || body.contains("run_scenario(");
        (local && makes)
            || body.contains("data_plane_fixture()")
            || body.contains("data_plane: true")
    };
    // (file: test) that make one, outside and inside the modules.
    let (mut outside, mut inside) = (Vec::new(), Vec::new());
    for file in files.iter().filter(|f| !f.ends_with("workflows.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        let (top, module) = text
            .split_once("\nmod environments {")
            .unwrap_or((&text, ""));
        // A test's body ends at its closing brace: in column 0 at the top, indented in the module.
        let parts = [
            (top, "\n}\n", &mut outside),
            (module, "\n    }\n", &mut inside),
        ];
        for (part, end, found) in parts {
            let tests = part.split("#[test]").skip(1);
            for test in tests.chain(part.split("#[tokio::test]").skip(1)) {
                let name = test.split("fn ").nth(1).and_then(|r| r.split('(').next());
                let body = test.split(end).next().unwrap_or(test);
                if let Some(name) = name
                    && makes_one(body)
                {
                    found.push(format!("{}: {name}", file.display()));
                }
            }
        }
    }
    // The rule must recognise the tests already in the modules, else it proves nothing.
    assert!(inside.len() >= 5, "the rule finds only {inside:#?}");
    assert!(
        outside.is_empty(),
        "move into the file's `mod environments`:\n{}",
        outside.join("\n")
    );
}
