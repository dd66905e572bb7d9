//! What a scenario run did: each step with its duration and outcome, shown
//! as one screen for people and as JUnit XML for CI (one test case per step,
//! and one per check a step ran of its own, such as a testinfra test).

use std::fmt;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::Step;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed(String),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub step: Step,
    pub duration: Duration,
    pub outcome: Outcome,
    /// The checks inside the step that are tests of their own (verify's
    /// testinfra tests): each a JUnit test case `<step>: <name>`.
    pub checks: Vec<Check>,
}

/// One test inside a step, e.g. `test_default.py::test_motd[ansible://host]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub duration: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    pub scenario: String,
    pub backend: String,
    /// The stack name of the throwaway environment.
    pub environment: String,
    /// What image each platform that names one ran, and why that one
    /// (present, pulled, or mapped in place of the named one); and which
    /// ran privileged.
    pub images: Vec<String>,
    pub steps: Vec<StepReport>,
}

impl ScenarioReport {
    /// No step failed.
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|s| !matches!(s.outcome, Outcome::Failed(_)))
    }

    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The first failure's message.
    pub fn failure(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.outcome {
            Outcome::Failed(reason) => Some(reason.as_str()),
            _ => None,
        })
    }

    /// How many steps did not run (after a failure, or with no data plane).
    pub fn skipped(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Skipped(_)))
            .count()
    }

    pub fn total(&self) -> Duration {
        self.steps.iter().map(|s| s.duration).sum()
    }

    /// JUnit XML: a test suite for the scenario, a test case per step and
    /// per check.
    pub fn junit(&self) -> String {
        junit(std::slice::from_ref(self))
    }

    /// This run as a JUnit test suite: a test case per step, each followed
    /// by its checks (see [`status`] for a failure's message and text).
    fn junit_suite(&self) -> TestSuite {
        let mut suite = TestSuite::new(format!("{} ({})", self.scenario, self.backend));
        suite.set_time(self.total());
        for (index, image) in self.images.iter().enumerate() {
            suite.add_property(Property::new(
                format!("platform-image.{index}"),
                image.as_str(),
            ));
        }
        for step in &self.steps {
            let mut case = TestCase::new(step.step.as_str(), status(&step.outcome));
            case.set_classname(&self.scenario).set_time(step.duration);
            if let Outcome::Passed(detail) = &step.outcome {
                case.set_system_out(detail);
            }
            suite.add_test_case(case);
            for check in &step.checks {
                let mut case = TestCase::new(
                    format!("{}: {}", step.step.as_str(), check.name),
                    status(&check.outcome),
                );
                case.set_classname(&self.scenario).set_time(check.duration);
                suite.add_test_case(case);
            }
        }
        suite
    }
}

/// A JUnit status: a failure or a skip with its first line as the message
/// and the whole as text.
fn status(outcome: &Outcome) -> TestCaseStatus {
    match outcome {
        Outcome::Passed(_) => TestCaseStatus::success(),
        Outcome::Failed(reason) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(reason.lines().next().unwrap_or_default())
                .set_description(reason);
            status
        }
        Outcome::Skipped(reason) => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_message(reason.lines().next().unwrap_or_default())
                .set_description(reason);
            status
        }
    }
}

/// One JUnit XML document for several runs: their suites side by side.
pub fn junit(reports: &[ScenarioReport]) -> String {
    let mut junit = Report::new("argos-cloud scenarios");
    junit.set_time(reports.iter().map(ScenarioReport::total).sum());
    junit.add_test_suites(reports.iter().map(ScenarioReport::junit_suite));
    // Only a failing writer fails serialization, and a String does not.
    junit
        .to_string()
        .expect("JUnit XML is written to memory, which cannot fail")
}

impl fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let skipped = self.skipped();
        writeln!(
            f,
            "scenario {} on {} ({}): {verdict} in {:.1} s{}",
            self.scenario,
            self.backend,
            self.environment,
            self.total().as_secs_f64(),
            if skipped > 0 {
                format!(" ({skipped} of {} steps skipped)", self.steps.len())
            } else {
                String::new()
            }
        )?;
        for image in &self.images {
            writeln!(f, "  image        {image}")?;
        }
        for step in &self.steps {
            let (mark, text) = match &step.outcome {
                Outcome::Passed(detail) => ("ok", detail),
                Outcome::Failed(reason) => ("FAILED", reason),
                Outcome::Skipped(reason) => ("skipped", reason),
            };
            let mut lines = text.lines();
            writeln!(
                f,
                "  {:<12} {:>7.1} s  {mark:<7} {}",
                step.step.as_str(),
                step.duration.as_secs_f64(),
                lines.next().unwrap_or_default()
            )?;
            for line in lines {
                writeln!(f, "  {:<12} {:>9}  {:<7} {line}", "", "", "")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    use super::{Check, Outcome, ScenarioReport, StepReport, junit};
    use crate::scenario::Step;

    fn report() -> ScenarioReport {
        ScenarioReport {
            scenario: "app".into(),
            backend: "docker".into(),
            environment: "argos-t-app-1".into(),
            images: vec![
                "instance runs argos-host:bookworm in place of geerlingguy/docker-debian12-ansible:latest \
                 (--platform-image 'geerlingguy/*=argos-host:bookworm')"
                    .into(),
            ],
            steps: vec![
                StepReport {
                    step: Step::Create,
                    duration: Duration::from_millis(1500),
                    outcome: Outcome::Passed("3 hosts".into()),
                    checks: Vec::new(),
                },
                StepReport {
                    step: Step::Verify,
                    duration: Duration::from_secs(2),
                    outcome: Outcome::Failed(
                        "FAIL postgres app -> database on argos-t-app-1-app: password <authentication> failed".into(),
                    ),
                    checks: Vec::new(),
                },
                StepReport {
                    step: Step::Destroy,
                    duration: Duration::from_secs(1),
                    outcome: Outcome::Skipped("kept".into()),
                    checks: Vec::new(),
                },
            ],
        }
    }

    /// The XML read back with the same library: it is well formed and says
    /// what the run did, whatever order the attributes come in.
    fn read_back(xml: &str) -> Report {
        Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("{e}: {xml}"))
    }

    #[test]
    fn a_failed_step_fails_the_run_and_shows_in_junit_with_durations() {
        let report = report();
        assert!(!report.passed());
        assert!(report.failure().unwrap().contains("postgres"));
        let xml = report.junit();
        assert!(
            xml.contains("password &lt;authentication&gt; failed"),
            "{xml}"
        );
        let junit = read_back(&xml);
        assert_eq!(
            (junit.tests, junit.failures, junit.skipped, junit.errors),
            (3, 1, 1, 0),
            "{xml}"
        );
        assert_eq!(junit.time, Some(Duration::from_millis(4500)), "{xml}");
        let [suite] = junit.test_suites.as_slice() else {
            panic!("one suite per scenario: {xml}");
        };
        assert_eq!(suite.name.as_str(), "app (docker)");
        assert_eq!(
            (suite.tests, suite.failures, suite.skipped),
            (3, 1, 1),
            "{xml}"
        );
        let cases: Vec<(&str, Option<&str>, Option<Duration>)> = suite
            .test_cases
            .iter()
            .map(|c| (c.name.as_str(), c.classname.as_deref(), c.time))
            .collect();
        assert_eq!(
            cases,
            [
                ("create", Some("app"), Some(Duration::from_millis(1500))),
                ("verify", Some("app"), Some(Duration::from_secs(2))),
                ("destroy", Some("app"), Some(Duration::from_secs(1))),
            ]
        );
        assert_eq!(
            suite.test_cases[0].system_out.as_deref(),
            Some("3 hosts"),
            "{xml}"
        );
        match &suite.test_cases[1].status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                description,
                ..
            } => {
                let reason = "FAIL postgres app -> database on argos-t-app-1-app: password <authentication> failed";
                assert_eq!(message.as_deref(), Some(reason));
                assert_eq!(description.as_deref(), Some(reason));
            }
            other => panic!("verify is not a failure: {other:?}"),
        }
        match &suite.test_cases[2].status {
            TestCaseStatus::Skipped { message, .. } => {
                assert_eq!(message.as_deref(), Some("kept"));
            }
            other => panic!("destroy is not skipped: {other:?}"),
        }
        let text = report.to_string();
        assert!(text.contains("FAILED in 4.5 s"), "{text}");
        assert!(text.contains("verify"), "{text}");
    }

    #[test]
    fn the_image_each_platform_ran_is_in_the_table_and_the_junit() {
        let report = report();
        let ran = "instance runs argos-host:bookworm in place of \
                   geerlingguy/docker-debian12-ansible:latest";
        let text = report.to_string();
        assert_eq!(
            text.lines().nth(1).map(|l| l.contains(ran)),
            Some(true),
            "under the heading: {text}"
        );
        let xml = report.junit();
        let junit = read_back(&xml);
        let properties: Vec<(&str, &str)> = junit.test_suites[0]
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(properties.len(), 1, "{xml}");
        assert_eq!(properties[0].0, "platform-image.0");
        assert!(properties[0].1.starts_with(ran), "{xml}");
    }

    #[test]
    fn a_multi_line_reason_is_the_message_by_its_first_line_and_the_text_in_full() {
        let mut report = report();
        report.steps[1].outcome = Outcome::Failed(
            "converge failed on app\nTASK [app : start] \u{1b}[31mfatal\u{1b}[0m".into(),
        );
        let xml = report.junit();
        let junit = read_back(&xml);
        match &junit.test_suites[0].test_cases[1].status {
            TestCaseStatus::NonSuccess {
                message,
                description,
                ..
            } => {
                assert_eq!(message.as_deref(), Some("converge failed on app"));
                // Colour codes are no XML; the words stay.
                assert_eq!(
                    description.as_deref(),
                    Some("converge failed on app\nTASK [app : start] fatal")
                );
            }
            other => panic!("verify is not a failure: {other:?}"),
        }
    }

    #[test]
    fn several_runs_are_one_document_with_a_suite_each() {
        let mut passed = report();
        passed.scenario = "database".into();
        passed.steps.remove(1);
        let xml = junit(&[report(), passed]);
        assert_eq!(xml.matches("<?xml").count(), 1, "{xml}");
        let junit = read_back(&xml);
        let suites: Vec<(&str, usize, usize)> = junit
            .test_suites
            .iter()
            .map(|s| (s.name.as_str(), s.tests, s.failures))
            .collect();
        assert_eq!(
            suites,
            [("app (docker)", 3, 1), ("database (docker)", 2, 0)],
            "{xml}"
        );
        assert_eq!((junit.tests, junit.failures, junit.skipped), (5, 1, 2));
    }

    #[test]
    fn a_steps_checks_are_test_cases_of_their_own_after_it() {
        let mut report = report();
        report.steps[1].checks = vec![
            Check {
                name: "test_default.py::test_notice[ansible://h]".into(),
                duration: Duration::from_millis(300),
                outcome: Outcome::Passed(String::new()),
            },
            Check {
                name: "test_default.py::test_motd[ansible://h]".into(),
                duration: Duration::from_millis(200),
                outcome: Outcome::Failed("AssertionError: assert 'a' == 'b'\ntraceback".into()),
            },
        ];
        let xml = report.junit();
        let junit = read_back(&xml);
        assert_eq!((junit.tests, junit.failures), (5, 2), "{xml}");
        let suite = &junit.test_suites[0];
        let names: Vec<&str> = suite.test_cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "create",
                "verify",
                "verify: test_default.py::test_notice[ansible://h]",
                "verify: test_default.py::test_motd[ansible://h]",
                "destroy"
            ]
        );
        assert_eq!(suite.test_cases[3].time, Some(Duration::from_millis(200)));
        match &suite.test_cases[3].status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                description,
                ..
            } => {
                assert_eq!(
                    message.as_deref(),
                    Some("AssertionError: assert 'a' == 'b'")
                );
                assert_eq!(
                    description.as_deref(),
                    Some("AssertionError: assert 'a' == 'b'\ntraceback")
                );
            }
            other => panic!("the failed check is not a failure: {other:?}"),
        }
    }
}
