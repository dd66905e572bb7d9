//! `molecule test` on a copy of the role: from its own venv (never
//! installed by the bench), on the project's host image, Galaxy off, each
//! step timed from Molecule's own log lines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use argos_harness::molecule::{self as m, step_spans};

use super::process::{self, BenchError};
use super::timings::Timings;

const DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Molecule's venv, checked against its pins.
pub struct Venv {
    pub dir: PathBuf,
    /// `name version` of each pinned package, as installed.
    pub versions: Vec<(String, String)>,
}

/// The venv at `root`/[`m::VENV`], or why the section cannot run (said to
/// the user with the command that makes it).
pub fn venv(root: &Path) -> Result<Venv, String> {
    let dir = root.join(m::VENV);
    let make = format!("make it with: {}", m::venv_command());
    if !dir.join("bin/molecule").is_file() {
        return Err(format!("{} has no molecule; {make}", dir.display()));
    }
    let pins_file = root.join(m::REQUIREMENTS);
    let pins =
        std::fs::read_to_string(&pins_file).map_err(|e| format!("{}: {e}", pins_file.display()))?;
    let pins: Vec<(String, String)> = pins
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (name, version) = l.split_once("==")?;
            let name = name.split('[').next()?.trim();
            Some((name.to_owned(), version.trim().to_owned()))
        })
        .collect();
    let names: Vec<&str> = pins.iter().map(|(n, _)| n.as_str()).collect();
    let script = format!(
        "import importlib.metadata as m\nfor n in {names:?}:\n    \
         try: print(n, m.version(n))\n    except m.PackageNotFoundError: print(n, 'missing')"
    );
    let out = Command::new(dir.join("bin/python"))
        .args(["-c", &script])
        .output()
        .map_err(|e| format!("{}/bin/python: {e}; {make}", dir.display()))?;
    let versions: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(' ')?;
            Some((n.to_owned(), v.to_owned()))
        })
        .collect();
    let wrong: Vec<String> = pins
        .iter()
        .filter(|pin| !versions.contains(pin))
        .map(|(n, v)| {
            let found = versions
                .iter()
                .find(|(name, _)| name == n)
                .map_or("missing", |(_, v)| v.as_str());
            format!("{n} {found} (pinned {v})")
        })
        .collect();
    if !wrong.is_empty() {
        return Err(format!(
            "{} does not match {}: {}; remake it: rm -rf {} && {}",
            dir.display(),
            m::REQUIREMENTS,
            wrong.join(", "),
            m::VENV,
            m::venv_command()
        ));
    }
    Ok(Venv { dir, versions })
}

/// A role copied for Molecule, whose `molecule.yml` each round rewrites.
pub struct Role {
    pub copy: PathBuf,
    original: String,
    scenario_file: PathBuf,
}

impl Role {
    /// Copy `role` (its `molecule/default` scenario) into `into`.
    pub fn copy(role: &Path, into: &Path) -> Result<Self, BenchError> {
        let original_file = role.join("molecule/default/molecule.yml");
        let original = std::fs::read_to_string(&original_file)
            .map_err(BenchError::io(original_file.display().to_string()))?;
        let copy = m::copy_role(role, into)
            .map_err(BenchError::io(format!("copying {}", role.display())))?;
        let scenario_file = copy.join("molecule/default/molecule.yml");
        Ok(Self {
            copy,
            original,
            scenario_file,
        })
    }

    /// One `molecule test`, its containers named `<prefix>-<platform>` and
    /// labelled `labels`. With `audit`, run under that connect-audit script
    /// and return what it said instead of timings.
    pub fn test(
        &self,
        venv: &Venv,
        prefix: &str,
        labels: &[(String, String)],
        log: &Path,
        audit: Option<&Path>,
    ) -> Result<Round, BenchError> {
        let yml = m::bench_molecule_yml(
            &self.original,
            argos_cloud::backend::containers::HOST_IMAGE,
            prefix,
            labels,
        )
        .map_err(|detail| BenchError::Yaml {
            file: self.scenario_file.clone(),
            detail,
        })?;
        std::fs::write(&self.scenario_file, yml)
            .map_err(BenchError::io(self.scenario_file.display().to_string()))?;
        let molecule = venv.dir.join("bin/molecule");
        let mut command = match audit {
            Some(tool) => {
                let mut c = Command::new(tool);
                c.arg("--").arg(&molecule);
                c
            }
            None => Command::new(&molecule),
        };
        let path = std::env::var("PATH").unwrap_or_default();
        command
            .arg("test")
            .current_dir(&self.copy)
            .env("VIRTUAL_ENV", &venv.dir)
            .env("PATH", format!("{}:{path}", venv.dir.join("bin").display()))
            .env(
                "MOLECULE_EPHEMERAL_DIRECTORY",
                self.copy
                    .parent()
                    .unwrap_or(&self.copy)
                    .join(format!("ephemeral-{prefix}")),
            )
            // Galaxy is unreachable and must not be tried: the dependency
            // step is off; should anything still ask, it asks loopback.
            .env("ANSIBLE_GALAXY_SERVER", "http://127.0.0.1:9/")
            .env("NO_COLOR", "1")
            .env("PY_COLORS", "0")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("PYTHONUNBUFFERED", "1");
        let started = Instant::now();
        let what = format!("molecule test ({prefix})");
        let (output, status) = process::run_any(&what, command, log, DEADLINE)?;
        let total = started.elapsed();
        if let Some(tool) = audit {
            let said: Vec<String> = output
                .text()
                // Its findings; a clean audit says only `connect-audit: clean`.
                .filter(|l| {
                    l.starts_with("connect-audit:") && !l.starts_with("connect-audit: clean")
                })
                .map(str::to_owned)
                .collect();
            return Ok(Round::Audited {
                tool: tool.to_owned(),
                clean: said.is_empty() && status.code() != Some(3),
                said,
                molecule_passed: status.success(),
            });
        }
        if !status.success() {
            let text: Vec<&str> = output.text().collect();
            return Err(BenchError::Failed {
                what,
                status: status.to_string(),
                log: log.to_owned(),
                tail: text[text.len().saturating_sub(25)..].join("\n"),
            });
        }
        let spans = step_spans(&output.lines);
        let mut timings = Timings {
            total,
            ..Timings::default()
        };
        let created = spans.iter().position(|s| s.step == "create");
        for (i, span) in spans.iter().enumerate() {
            // `molecule test` destroys first (nothing there yet) and last:
            // the last one is the destroy compared; the first is `other`.
            if span.step == "destroy" && created.is_none_or(|c| i < c) {
                continue;
            }
            timings.set(&span.step, span.end - span.start);
        }
        Ok(Round::Timed(timings))
    }
}

/// What one `molecule test` gave.
pub enum Round {
    Timed(Timings),
    Audited {
        tool: PathBuf,
        clean: bool,
        said: Vec<String>,
        molecule_passed: bool,
    },
}
