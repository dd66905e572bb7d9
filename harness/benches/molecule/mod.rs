//! The `molecule` section: Molecule's `molecule test`, argos-cloud's
//! scenario run and the bare floor on the same role and image, a warm-up
//! then three timed rounds each, the per-step medians side by side and the
//! ratios argos-cloud ÷ `molecule test` and argos-cloud ÷ floor. The role:
//! the Galaxy-shaped fixture `tests/fixtures/galaxy/ansible-role-redis`,
//! and `ARGOS_BENCH_ROLE` (a role with `molecule/default/molecule.yml`)
//! when set. `ARGOS_BENCH_ROLES_SUITE=1` also times the roles suite.
//! Molecule runs from `.venv-molecule`, which the bench never installs.

mod floor;
mod molecule_test;
mod process;
mod timings;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use argos_cloud::backend::choose::LocalKind;
use argos_cloud::model::names::RunTags;
use argos_cloud::scenario::{self, Scenario};
use argos_harness::molecule as m;
use argos_harness::{scenarios, workspace_root};

use molecule_test::Round;
use timings::{Series, Timings};

const ROUNDS: usize = 3;
const FIXTURE: &str = "tests/fixtures/galaxy/ansible-role-redis";

pub async fn section() {
    let root = workspace_root();
    println!("molecule: molecule test, argos-cloud and the bare floor on the same role and image");
    match molecule_test::venv(&root) {
        Err(reason) => {
            println!("  SKIPPED (Molecule): {reason}");
            eprintln!("SKIPPED: the molecule section needs {}: {reason}", m::VENV);
        }
        Ok(venv) => {
            let versions: Vec<String> = venv
                .versions
                .iter()
                .map(|(n, v)| format!("{n} {v}"))
                .collect();
            println!("  {}: {}", m::VENV, versions.join(", "));
            let mut roles = vec![root.join(FIXTURE)];
            if let Some(extra) = std::env::var_os("ARGOS_BENCH_ROLE") {
                let extra = PathBuf::from(extra);
                if extra.join("molecule/default/molecule.yml").is_file() {
                    roles.push(extra);
                } else {
                    println!(
                        "  ARGOS_BENCH_ROLE={}: no molecule/default/molecule.yml there, left out",
                        extra.display()
                    );
                }
            }
            for role in roles {
                bench_role(&root, &venv, &role).await;
            }
        }
    }
    roles_suite(&root);
}

async fn bench_role(root: &Path, venv: &molecule_test::Venv, role: &Path) {
    let shown = role
        .strip_prefix(root)
        .unwrap_or(role)
        .display()
        .to_string();
    let (scenario, _notes) = match scenario::load_any(role) {
        Ok(loaded) => loaded,
        Err(e) => {
            println!("  {shown}: FAILED to load: {e}");
            return;
        }
    };
    let run_id = format!(
        "bench{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() % 1_000_000)
    );
    // Everything the bench makes carries these: a killed bench's leftovers
    // are `argos-cloud sweep`'s once they expire.
    let labels: Vec<(String, String)> = RunTags::new(run_id.clone(), Duration::from_secs(2 * 3600))
        .tags()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    let work = match tempfile::Builder::new().prefix("argos-bench-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            println!("  FAILED: a temporary folder: {e}");
            return;
        }
    };
    let logs = root.join("target/argos-logs");
    let _ = std::fs::create_dir_all(&logs);
    let log = logs.join(format!("{run_id}.log"));
    println!(
        "  role {shown} on {}, run {run_id}; {ROUNDS} rounds after a warm-up; output in {}",
        argos_cloud::backend::containers::HOST_IMAGE,
        log.display()
    );
    println!(
        "    molecule test: docker driver (docker exec), pre_build_image, dependency (Galaxy) off"
    );
    println!(
        "    argos-cloud:   scenario run of molecule/default/molecule.yml, docker backend (SSH), \
         ansible_strategy auto (Mitogen where it loads)"
    );
    println!(
        "    ... linear:    the same with ansible_strategy linear (ansible-core's own strategy)"
    );
    println!(
        "    bare floor:    docker run + ansible-playbook converge twice (changed=0 the second) + docker rm -f; no verify"
    );

    let molecule_role = match molecule_test::Role::copy(role, work.path()) {
        Ok(r) => r,
        Err(e) => {
            println!("    FAILED: {e}");
            return;
        }
    };
    let floor = match floor::Floor::new(&scenario, role, work.path(), &venv.dir.join("bin")) {
        Ok(f) => f,
        Err(e) => {
            println!("    FAILED: {e}");
            return;
        }
    };
    let mut options = scenarios::options_on(LocalKind::Docker);
    options.progress = argos_cloud::sys::progress::Progress::silent();
    options.platform_images = vec![scenarios::galaxy_image_mapped()];
    let mut linear_options = options.clone();
    linear_options.overrides.set_from(
        "ansible_strategy",
        "linear",
        argos_cloud::model::settings::Origin::Flag {
            flag: "--ansible-strategy",
        },
    );

    let mut molecule = Series::new("molecule test");
    let mut argos = Series::new("argos-cloud");
    let mut argos_linear = Series::new("... linear");
    let mut bare = Series::new("bare floor");
    for round in 0..=ROUNDS {
        let warm_up = round == 0;
        let label = if warm_up {
            "warm-up".to_owned()
        } else {
            format!("round {round}")
        };
        // argos-cloud first: its create makes sure the host image is built.
        let outcome = argos_round(&scenario, &options).await;
        say_round(&label, &mut argos, outcome, warm_up);
        let outcome = argos_round(&scenario, &linear_options).await;
        say_round(&label, &mut argos_linear, outcome, warm_up);

        let prefix = format!("argos-bench-{run_id}-r{round}-molecule");
        let audit = if warm_up { audit_tool(root) } else { None };
        let outcome = tokio::task::block_in_place(|| {
            molecule_role.test(venv, &prefix, &labels, &log, audit.as_deref())
        });
        match outcome {
            Ok(Round::Timed(t)) => say_round(&label, &mut molecule, Ok(t), warm_up),
            Ok(Round::Audited {
                tool,
                clean,
                said,
                molecule_passed,
            }) => println!(
                "    {label}: molecule test under {}: {}; molecule test {}",
                tool.display(),
                if clean {
                    "clean (no connection outside loopback and the container networks)".to_owned()
                } else {
                    format!("NOT CLEAN: {}", said.join("; "))
                },
                if molecule_passed { "passed" } else { "FAILED" }
            ),
            Err(e) => say_round(&label, &mut molecule, Err(e.to_string()), warm_up),
        }
        left_behind(&run_id, &format!("{label} of molecule test"), &mut molecule);

        let prefix = format!("argos-bench-{run_id}-r{round}-floor");
        let outcome = tokio::task::block_in_place(|| floor.round(&prefix, &labels, &log))
            .map_err(|e| e.to_string());
        say_round(&label, &mut bare, outcome, warm_up);
        left_behind(&run_id, &format!("{label} of the floor"), &mut bare);
    }

    println!("  {shown}: per-step medians of {ROUNDS} rounds (s)");
    timings::print_table(&[&molecule, &argos, &argos_linear, &bare]);
    println!(
        "  argos-cloud ÷ molecule test: {}    argos-cloud ÷ bare floor: {}",
        timings::ratio(&argos, &molecule),
        timings::ratio(&argos, &bare)
    );
    println!(
        "  with ansible_strategy linear: ÷ molecule test {}, ÷ bare floor {}; auto ÷ linear: {}",
        timings::ratio(&argos_linear, &molecule),
        timings::ratio(&argos_linear, &bare),
        timings::ratio(&argos, &argos_linear)
    );
    match leftovers(&run_id) {
        Ok(left) if left.is_empty() => {
            println!("  left behind (label argos:run={run_id}): nothing")
        }
        Ok(left) => println!(
            "  LEFT BEHIND (label argos:run={run_id}), now removed: {}",
            left.join(", ")
        ),
        Err(e) => println!("  left behind: could not look: {e}"),
    }
}

async fn argos_round(
    scenario: &Scenario,
    options: &argos_cloud::scenario::run::RunOptions,
) -> Result<Timings, String> {
    let started = Instant::now();
    let report = match argos_cloud::sys::signal::until_signal(argos_cloud::scenario::run::run(
        scenario, options,
    ))
    .await
    {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Err(format!("could not start: {e}")),
        Err(signal) => {
            panic!("interrupted by {signal}; the scenario's environment was removed")
        }
    };
    let total = started.elapsed();
    if !report.passed() {
        return Err(format!("{report}"));
    }
    let mut timings = Timings {
        total,
        ..Timings::default()
    };
    for step in &report.steps {
        timings.set(step.step.as_str(), step.duration);
    }
    Ok(timings)
}

fn say_round(label: &str, series: &mut Series, outcome: Result<Timings, String>, warm_up: bool) {
    match outcome {
        Ok(t) => {
            println!(
                "    {label}: {} {:.1} s",
                series.name,
                t.total.as_secs_f64()
            );
            if !warm_up {
                series.passed.push(t);
            }
        }
        Err(e) => {
            println!("    {label}: {} FAILED: {e}", series.name);
            series.failures.push(format!("{label}: {e}"));
        }
    }
}

/// Whatever of the bench's run is still there after a round is removed and
/// counted as that round's failure: every round must clean up after itself.
fn left_behind(run_id: &str, what: &str, series: &mut Series) {
    match leftovers(run_id) {
        Ok(left) if left.is_empty() => {}
        Ok(left) => series
            .failures
            .push(format!("{what} left {} (removed now)", left.join(", "))),
        Err(e) => series.failures.push(format!("{what}: {e}")),
    }
}

/// The run's containers and networks still there, removed.
fn leftovers(run_id: &str) -> Result<Vec<String>, String> {
    let filter = format!(
        "label={}={run_id}",
        argos_cloud::model::names::tag_keys::RUN
    );
    let mut left = Vec::new();
    for kind in ["container", "network"] {
        let mut list = Command::new("docker");
        match kind {
            "container" => list.args(["ps", "-a", "--format", "{{.Names}}", "--filter", &filter]),
            _ => list.args([
                "network",
                "ls",
                "--format",
                "{{.Name}}",
                "--filter",
                &filter,
            ]),
        };
        let names: Vec<String> = process::quick("docker ls", &mut list)
            .map_err(|e| e.to_string())?
            .lines()
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            continue;
        }
        let mut rm = Command::new("docker");
        match kind {
            "container" => rm.args(["rm", "-f"]),
            _ => rm.args(["network", "rm"]),
        };
        process::quick("docker rm", rm.args(&names)).map_err(|e| e.to_string())?;
        left.extend(names.into_iter().map(|n| format!("{kind} {n}")));
    }
    Ok(left)
}

/// The connect audit CI uses (`.ci/connect-audit`), when strace is here:
/// the warm-up's `molecule test` runs under it.
fn audit_tool(root: &Path) -> Option<PathBuf> {
    let tool = root.join(".ci/connect-audit");
    let strace = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if tool.is_file() && strace {
        Some(tool)
    } else {
        println!(
            "    (not audited: {} or strace is missing; the audit runs the warm-up's molecule test under it)",
            tool.display()
        );
        None
    }
}

/// The roles suite's wall time, when asked for.
fn roles_suite(root: &Path) {
    if std::env::var("ARGOS_BENCH_ROLES_SUITE").as_deref() != Ok("1") {
        println!(
            "  roles suite: not timed; ARGOS_BENCH_ROLES_SUITE=1 cargo bench -p argos-harness --bench scenarios -- molecule \
             also times `cargo nextest run --profile roles`"
        );
        return;
    }
    let log = root.join("target/argos-logs/bench-roles-suite.log");
    let mut command = Command::new("cargo");
    command
        .args(["nextest", "run", "--profile", "roles"])
        .current_dir(root);
    let started = Instant::now();
    let outcome = process::run_any(
        "cargo nextest run --profile roles",
        command,
        &log,
        Duration::from_secs(3 * 3600),
    );
    let wall = started.elapsed().as_secs_f64();
    match outcome {
        Ok((output, status)) => {
            let summary = output
                .text()
                .filter(|l| l.trim_start().starts_with("Summary"))
                .last()
                .unwrap_or("(no summary line)")
                .trim()
                .to_owned();
            println!(
                "  roles suite (cargo nextest run --profile roles): {wall:.0} s wall, {status}; {summary}"
            );
        }
        Err(e) => println!("  roles suite: FAILED: {e}"),
    }
}
