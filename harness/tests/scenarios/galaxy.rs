//! Roles from elsewhere, run as their own repositories test them: the
//! Galaxy-shaped fixture roles in `tests/fixtures/galaxy/`, each read from
//! its `molecule/default/molecule.yml` as it is (a registry image,
//! `privileged: true`, a dependency on another role), converged twice and
//! verified by its own verify.yml (or its testinfra tests, each a JUnit
//! case). And the platform image's honesty: used
//! as named (present, or pulled from a registry), mapped only when asked
//! and then named in the report, refused before anything is made when it
//! is neither here nor pullable, or cannot be a host.

use std::path::PathBuf;

use argos_cloud::backend::containers::HOST_IMAGE;
use argos_cloud::model::names::tag_keys;
use argos_cloud::scenario::report::{Outcome, ScenarioReport};
use argos_cloud::scenario::run::{self, RunError, RunOptions};
use argos_cloud::scenario::{self, Scenario, Step};
use argos_harness::registry::{self, Registry};
use argos_harness::{scenarios, skip};

/// What every fixture's molecule.yml names (with MOLECULE_DISTRO unset).
const DEBIAN12: &str = scenarios::GALAXY_IMAGE;

fn fixture(role: &str) -> PathBuf {
    scenarios::workspace_root()
        .join("tests/fixtures/galaxy")
        .join(role)
}

/// Nothing can be pulled where the tests run, so the fixtures' Debian 12
/// image is mapped to the project's Debian 12 host image, as a user maps it.
fn mapped_to_host_image() -> RunOptions {
    let mut options = scenarios::options();
    options.platform_images = vec![scenarios::galaxy_image_mapped()];
    options
}

async fn passes(role: &str) -> Vec<String> {
    let (scenario, notes) = scenario::load_any(&fixture(role)).unwrap_or_else(|e| panic!("{e}"));
    if !scenarios::backend_available() {
        return notes;
    }
    let report = scenarios::run_with(&scenario, &mapped_to_host_image()).await;
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
    for step in [Step::Converge, Step::Idempotence, Step::Verify] {
        assert!(report.step(step).is_some(), "{step} ran:\n{report}");
    }
    // The image that ran, in the table and the JUnit: never a silent swap.
    let ran = format!(
        "instance runs {HOST_IMAGE} in place of {DEBIAN12} (--platform-image '{DEBIAN12}={HOST_IMAGE}')"
    );
    assert_eq!(report.images, std::slice::from_ref(&ran), "{report}");
    assert!(report.to_string().contains(&ran), "{report}");
    let junit = report.junit();
    assert!(
        junit.contains("platform-image.0") && junit.contains(&format!("in place of {DEBIAN12}")),
        "{junit}"
    );
    notes
}

/// What every fixture's molecule.yml asks that cannot be here, said once each.
fn assert_said(notes: &[String]) {
    let text = notes.join("\n");
    for said in [
        "privileged: true: hosts run unprivileged",
        "platforms[].command: ignored",
    ] {
        assert_eq!(
            notes.iter().filter(|n| n.contains(said)).count(),
            1,
            "{said:?} said once in:\n{text}"
        );
    }
    assert!(
        !text.contains("nothing can be pulled"),
        "the build machine's limits are not the product's:\n{text}"
    );
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

/// The motd fixture with its platform's image named `image`, on an
/// environment of a known name, for looking at what a refused run made.
fn motd_on(image: &str) -> (Scenario, RunOptions) {
    let (mut scenario, _) =
        scenario::load_any(&fixture("ansible-role-motd")).unwrap_or_else(|e| panic!("{e}"));
    scenario.hosts[0].image = Some(image.to_owned());
    let mut options = scenarios::options();
    options.env = Some(run::unique_env_name("image"));
    (scenario, options)
}

/// A run refused before anything: the error, and nothing of its
/// environment (containers or network) on the engine.
async fn refused(scenario: &Scenario, options: &RunOptions) -> String {
    let error = match run::run(scenario, options).await {
        Err(error @ RunError::Scenario { .. }) => error.to_string(),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!("the run went ahead:\n{report}"),
    };
    let env = options
        .env
        .as_ref()
        .expect("the options name the environment");
    let label = format!("label={}={env}", tag_keys::RUN);
    for what in [["ps", "-a"], ["network", "ls"]] {
        let found = scenarios::docker(&[what[0], what[1], "-q", "--filter", &label])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            found,
            "",
            "{} made by a refused run:\n{error}",
            what.join(" ")
        );
    }
    error
}

/// `docker rmi` of a test's own image tag when the test ends.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = scenarios::docker(&["rmi", "-f", &self.0]);
    }
}

/// The project's host image, built when its inputs changed (tests that tag it).
fn host_image_built() {
    let script = scenarios::workspace_root().join("docker/host-image/build.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(status.success(), "{} failed", script.display());
}

#[tokio::test]
async fn an_image_neither_here_nor_pullable_fails_the_run_before_anything_is_made() {
    if !scenarios::backend_available() {
        return;
    }
    // A registry address where nothing listens: the pull fails at once,
    // and no packet leaves loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let image = format!("127.0.0.1:{port}/acme/rockylinux9-ansible:latest");
    let (scenario, options) = motd_on(&image);
    let error = refused(&scenario, &options).await;
    for said in [
        format!("platform instance: image {image} is not on this machine and `docker pull` failed"),
        "Nothing was made".to_owned(),
        format!("--platform-image '{image}=IMAGE'"),
    ] {
        assert!(error.contains(&said), "{said:?} missing from:\n{error}");
    }
}

#[tokio::test]
async fn an_image_from_a_registry_is_pulled_and_runs_as_named() {
    if !scenarios::backend_available() {
        return;
    }
    if !Registry::installed() {
        skip::missing(
            "Debian's docker-registry (apt-get install docker-registry)",
            format!("{} is not on PATH", registry::PROGRAM),
        );
        return;
    }
    host_image_built();
    let registry = Registry::start().unwrap_or_else(|e| panic!("{e}"));
    let image = registry.image(&format!("acme/debian12-host:{}", std::process::id()));
    let _remove = RemoveImage(image.clone());
    for args in [
        vec!["tag", HOST_IMAGE, &image],
        vec!["push", "--quiet", &image],
        vec!["rmi", &image],
    ] {
        scenarios::docker(&args).unwrap_or_else(|e| panic!("docker {}: {e}", args.join(" ")));
    }
    let (scenario, options) = motd_on(&image);
    let report = scenarios::run_with(&scenario, &options).await;
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
    assert_eq!(
        report.images,
        [format!("instance runs {image} (pulled)")],
        "{report}"
    );
    assert!(report.junit().contains(&format!("{image} (pulled)")));
}

/// `docker build -t IMAGE -` of `dockerfile` (the classic builder: nothing pulled).
fn build_image(image: &str, dockerfile: &str) {
    use std::io::Write;
    let mut build = std::process::Command::new("docker")
        .args(["build", "--quiet", "-t", image, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    build
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    assert!(build.wait().unwrap().success(), "docker build of {image}");
}

/// Whether Ansible has its docker connection (community.docker), which
/// `.ci/runtime` installs; a loud skip where not, a failure under CI.
fn docker_connection_installed() -> bool {
    let Ok(venv) = argos_harness::tools::ensure_venv() else {
        return false;
    };
    let out = std::process::Command::new(venv.join("ansible-doc"))
        .args(["-t", "connection", "--json", "docker"])
        .output();
    if out.is_ok_and(|o| o.status.success()) {
        return true;
    }
    skip::missing(
        "Ansible's docker connection (community.docker; .ci/runtime installs it)",
        "ansible-doc -t connection docker found nothing",
    );
    false
}

#[tokio::test]
async fn an_image_without_sshd_runs_its_host_by_ansibles_docker_connection() {
    if !scenarios::backend_available() || !docker_connection_installed() {
        return;
    }
    host_image_built();
    let image = format!("argos-test-no-sshd:{}", std::process::id());
    let _remove = RemoveImage(image.clone());
    build_image(
        &image,
        &format!("FROM {HOST_IMAGE}\nRUN rm -f /usr/sbin/sshd\n"),
    );
    let (scenario, options) = motd_on(&image);
    let report = scenarios::run_with(&scenario, &options).await;
    assert!(report.passed(), "{report}");
    scenarios::assert_every_step_passed(&scenario, &report);
    assert_eq!(
        report.images,
        [format!(
            "instance runs {image} (present), no sshd: reached by Ansible's docker connection"
        )],
        "{report}"
    );
}

#[tokio::test]
async fn an_image_neither_ssh_nor_ansible_can_reach_is_refused_before_anything_is_made() {
    if !scenarios::backend_available() {
        return;
    }
    // An image with no file at all: no sshd, no shell, no python3.
    let image = format!("argos-test-empty:{}", std::process::id());
    let _remove = RemoveImage(image.clone());
    let mut import = std::process::Command::new("docker")
        .args(["import", "-", &image])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        // An empty tar archive: two zero blocks.
        use std::io::Write;
        let mut stdin = import.stdin.take().unwrap();
        stdin.write_all(&[0u8; 1024]).unwrap();
    }
    assert!(import.wait().unwrap().success(), "docker import of {image}");
    let (scenario, options) = motd_on(&image);
    let error = refused(&scenario, &options).await;
    for said in [
        format!("platform instance: image {image} has neither sshd"),
        "Nothing was made".to_owned(),
        format!("--platform-image '{image}=IMAGE'"),
    ] {
        assert!(error.contains(&said), "{said:?} missing from:\n{error}");
    }
}

// A role verified by testinfra (`ansible-role-banner`): each test case a
// line of the verify step and a JUnit test case; a failing one fails verify.

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
