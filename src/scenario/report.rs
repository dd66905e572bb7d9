//! What a scenario run did: each step with its duration and outcome, shown
//! as one screen for people and as JUnit XML for CI (one test case per step).

use std::fmt;
use std::time::Duration;

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    pub scenario: String,
    pub backend: String,
    /// The stack name of the throwaway environment.
    pub environment: String,
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

    /// JUnit XML: a test suite for the scenario, a test case per step.
    pub fn junit(&self) -> String {
        let failures = self
            .steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed(_)))
            .count();
        let skipped = self.skipped();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<testsuites name=\"argos-cloud scenarios\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
            self.steps.len(),
            self.total().as_secs_f64()
        ));
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
            escape(&format!("{} ({})", self.scenario, self.backend)),
            self.steps.len(),
            self.total().as_secs_f64()
        ));
        for step in &self.steps {
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&self.scenario),
                step.step,
                step.duration.as_secs_f64()
            ));
            match &step.outcome {
                Outcome::Passed(detail) => xml.push_str(&format!(
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    escape(detail)
                )),
                Outcome::Failed(reason) => xml.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(reason.lines().next().unwrap_or_default()),
                    escape(reason)
                )),
                Outcome::Skipped(reason) => xml.push_str(&format!(
                    ">\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>\n",
                    escape(reason.lines().next().unwrap_or_default()),
                    escape(reason)
                )),
            }
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
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

    use super::{Outcome, ScenarioReport, StepReport};
    use crate::scenario::Step;

    fn report() -> ScenarioReport {
        ScenarioReport {
            scenario: "app".into(),
            backend: "docker".into(),
            environment: "argos-t-app-1".into(),
            steps: vec![
                StepReport {
                    step: Step::Create,
                    duration: Duration::from_millis(1500),
                    outcome: Outcome::Passed("3 hosts".into()),
                },
                StepReport {
                    step: Step::Verify,
                    duration: Duration::from_secs(2),
                    outcome: Outcome::Failed(
                        "FAIL postgres app -> database on argos-t-app-1-app: password <authentication> failed".into(),
                    ),
                },
                StepReport {
                    step: Step::Destroy,
                    duration: Duration::from_secs(1),
                    outcome: Outcome::Skipped("kept".into()),
                },
            ],
        }
    }

    #[test]
    fn a_failed_step_fails_the_run_and_shows_in_junit_with_durations() {
        let report = report();
        assert!(!report.passed());
        assert!(report.failure().unwrap().contains("postgres"));
        let xml = report.junit();
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("name=\"create\" time=\"1.500\""), "{xml}");
        assert!(
            xml.contains("password &lt;authentication&gt; failed"),
            "{xml}"
        );
        let text = report.to_string();
        assert!(text.contains("FAILED in 4.5 s"), "{text}");
        assert!(text.contains("verify"), "{text}");
    }
}
