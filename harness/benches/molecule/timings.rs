//! Per-step seconds of one round, their medians over rounds, and the table
//! that sets the three runners side by side.

use std::time::Duration;

use argos_harness::molecule::median;

/// The steps compared, named as Molecule names them; what a runner spends
/// outside them (Molecule's syntax check and first destroy, start-up) is
/// `other`, so the rows add up to the total.
pub const STEPS: [&str; 5] = ["create", "converge", "idempotence", "verify", "destroy"];

/// One round of one runner.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Seconds per entry of [`STEPS`]; `None` where the runner has no such step.
    pub steps: [Option<Duration>; 5],
    /// Wall time of the whole round.
    pub total: Duration,
}

impl Timings {
    pub fn set(&mut self, step: &str, duration: Duration) {
        if let Some(i) = STEPS.iter().position(|s| *s == step) {
            self.steps[i] = Some(duration);
        }
    }

    pub fn other(&self) -> Duration {
        self.total
            .saturating_sub(self.steps.iter().flatten().copied().sum())
    }
}

/// A runner's rounds: the timed ones that passed, and what failed.
#[derive(Debug, Default)]
pub struct Series {
    pub name: String,
    pub passed: Vec<Timings>,
    pub failures: Vec<String>,
}

impl Series {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    fn median_of(&self, pick: impl Fn(&Timings) -> Option<Duration>) -> Option<f64> {
        let mut values: Vec<f64> = self
            .passed
            .iter()
            .filter_map(&pick)
            .map(|d| d.as_secs_f64())
            .collect();
        median(&mut values)
    }

    pub fn step(&self, i: usize) -> Option<f64> {
        self.median_of(|t| t.steps[i])
    }

    pub fn other(&self) -> Option<f64> {
        self.median_of(|t| Some(t.other()))
    }

    pub fn total(&self) -> Option<f64> {
        self.median_of(|t| Some(t.total))
    }
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// The medians side by side, then each runner's rounds and failures.
pub fn print_table(series: &[&Series]) {
    let mut header = format!("  {:<12}", "median s");
    for s in series {
        header.push_str(&format!(" {:>14}", s.name));
    }
    println!("{header}");
    let row = |label: &str, value: &dyn Fn(&Series) -> Option<f64>| {
        let mut line = format!("  {label:<12}");
        for s in series {
            line.push_str(&format!(" {:>14}", cell(value(s))));
        }
        println!("{line}");
    };
    for (i, step) in STEPS.iter().enumerate() {
        row(step, &|s| s.step(i));
    }
    row("other", &|s| s.other());
    row("total", &|s| s.total());
    for s in series {
        let totals: Vec<String> = s
            .passed
            .iter()
            .map(|t| format!("{:.1}", t.total.as_secs_f64()))
            .collect();
        println!(
            "  {}: {} round(s) passed{}, {} failed",
            s.name,
            s.passed.len(),
            if totals.is_empty() {
                String::new()
            } else {
                format!(" (totals {} s)", totals.join(", "))
            },
            s.failures.len()
        );
        // The whole message was printed with its round; its first line here.
        for failure in &s.failures {
            println!("    FAILED: {}", failure.lines().next().unwrap_or_default());
        }
    }
}

/// `a ÷ b` of the median totals, or why there is none.
pub fn ratio(a: &Series, b: &Series) -> String {
    match (a.total(), b.total()) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "- (a side has no passed round)".to_owned(),
    }
}
