//! Molecule beside argos-cloud, for the `molecule` bench section: the
//! `molecule.yml` the bench runs Molecule with (the project's host image and
//! unprivileged systemd settings, Galaxy off), Molecule's step boundaries
//! read from its log, and the small sums the bench prints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use argos_cloud::backend::containers::{SYSTEMD_SECURITY_OPTS, SYSTEMD_TMPFS, SYSTEMD_VOLUMES};
use serde_norway::{Mapping, Value};

/// The venv Molecule runs from, apart from the project's `.venv`: its
/// pins (`ansible` for the community.docker collection, which Galaxy would
/// otherwise provide) need not agree with the project's tools.
pub const VENV: &str = ".venv-molecule";

/// Its pinned requirements.
pub const REQUIREMENTS: &str = ".ci/molecule-requirements.txt";

/// How to make the venv, as the bench and the book (docs/src/performance.md) say it.
pub fn venv_command() -> String {
    format!("python3 -m venv {VENV} && {VENV}/bin/pip install -r {REQUIREMENTS}")
}

/// A role's `molecule.yml` rewritten for the bench: each platform becomes
/// a container `<prefix>-<name>` of `image` (already built, its own command:
/// systemd), with the `docker run` settings of the Docker backend's hosts
/// (`argos_cloud::backend::containers::SYSTEMD_*`) and `labels`; the dependency step is
/// off (no Galaxy here); everything else (provisioner, verifier, scenario)
/// stays as the role wrote it. Host variables follow the renamed platforms.
pub fn bench_molecule_yml(
    original: &str,
    image: &str,
    prefix: &str,
    labels: &[(String, String)],
) -> Result<String, String> {
    let mut root: Value = serde_norway::from_str(original).map_err(|e| e.to_string())?;
    let root_map = root
        .as_mapping_mut()
        .ok_or("molecule.yml is not a mapping")?;
    let platforms = match root_map.get("platforms") {
        Some(Value::Sequence(list)) if !list.is_empty() => list.clone(),
        _ => vec![Value::Mapping(Mapping::from_iter([(
            "name".into(),
            "instance".into(),
        )]))],
    };
    let mut renamed = Vec::new();
    let mut new_platforms = Vec::new();
    for platform in &platforms {
        let name = platform
            .get("name")
            .and_then(Value::as_str)
            .ok_or("platforms[]: a platform without a name")?;
        let container = format!("{prefix}-{name}");
        let mut entry = Mapping::new();
        entry.insert("name".into(), container.clone().into());
        entry.insert("image".into(), image.into());
        entry.insert("pre_build_image".into(), true.into());
        // The image's own command is systemd; Molecule's default replaces it.
        entry.insert("override_command".into(), false.into());
        entry.insert("tmpfs".into(), strings(&SYSTEMD_TMPFS));
        entry.insert("volumes".into(), strings(&SYSTEMD_VOLUMES));
        entry.insert("security_opts".into(), strings(&SYSTEMD_SECURITY_OPTS));
        entry.insert(
            "labels".into(),
            Value::Mapping(
                labels
                    .iter()
                    .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                    .collect(),
            ),
        );
        for key in ["groups", "children"] {
            if let Some(value) = platform.get(key) {
                entry.insert(key.into(), value.clone());
            }
        }
        renamed.push((name.to_owned(), container));
        new_platforms.push(Value::Mapping(entry));
    }
    root_map.insert("platforms".into(), Value::Sequence(new_platforms));
    root_map.insert(
        "driver".into(),
        Value::Mapping(Mapping::from_iter([("name".into(), "docker".into())])),
    );
    root_map.insert(
        "dependency".into(),
        Value::Mapping(Mapping::from_iter([
            ("name".into(), "galaxy".into()),
            ("enabled".into(), false.into()),
        ])),
    );
    if let Some(host_vars) = root_map
        .get_mut("provisioner")
        .and_then(|p| p.get_mut("inventory"))
        .and_then(|i| i.get_mut("host_vars"))
        .and_then(Value::as_mapping_mut)
    {
        for (old, new) in &renamed {
            if let Some(vars) = host_vars.remove(old.as_str()) {
                host_vars.insert(new.as_str().into(), vars);
            }
        }
    }
    // Written as JSON (which is YAML): Molecule's YAML 1.1 parser would
    // read an unquoted date as a datetime and `on`/`yes` as booleans.
    serde_json::to_string_pretty(&root).map_err(|e| e.to_string())
}

fn strings(items: &[&str]) -> Value {
    Value::Sequence(items.iter().map(|s| (*s).into()).collect())
}

/// A Molecule step starting or ending, as its log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEvent {
    Started,
    Ended,
}

/// The step a Molecule log line starts or ends: `INFO [default > converge]
/// Executing` (no colour) or `INFO default ➜ converge: Executed: ...`.
pub fn step_event(line: &str) -> Option<(String, StepEvent)> {
    let line = strip_ansi(line);
    let event = if line.contains("] Executing") || line.contains(": Executing") {
        StepEvent::Started
    } else if line.contains("] Executed") || line.contains(": Executed") {
        StepEvent::Ended
    } else {
        return None;
    };
    let step = if let Some(start) = line.find(" > ") {
        let rest = &line[start + 3..];
        &rest[..rest.find(']')?]
    } else {
        let rest = &line[line.find('➜')? + '➜'.len_utf8()..];
        rest[..rest.find(':')?].trim()
    };
    let step = step.trim();
    (!step.is_empty() && step.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| (step.to_owned(), event))
}

/// One step's run, from its start line to its end line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSpan {
    pub step: String,
    pub start: Instant,
    pub end: Instant,
}

/// Every step Molecule ran, in order (a step run twice, as `destroy` is in
/// `molecule test`, appears twice).
pub fn step_spans(lines: &[(Instant, String)]) -> Vec<StepSpan> {
    let mut spans = Vec::new();
    let mut open: Option<(String, Instant)> = None;
    for (at, line) in lines {
        match step_event(line) {
            Some((step, StepEvent::Started)) => open = Some((step, *at)),
            Some((step, StepEvent::Ended)) => {
                if let Some((started, start)) = open.take()
                    && started == step
                {
                    spans.push(StepSpan {
                        step,
                        start,
                        end: *at,
                    });
                }
            }
            None => {}
        }
    }
    spans
}

/// The sum of `changed=` over an `ansible-playbook` run's PLAY RECAP, or
/// `None` when the output has no recap.
pub fn recap_changed<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<u64> {
    let mut in_recap = false;
    let mut total = None;
    for line in lines {
        if line.starts_with("PLAY RECAP") {
            in_recap = true;
            continue;
        }
        if in_recap && let Some(at) = line.find("changed=") {
            let digits: String = line[at + "changed=".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            *total.get_or_insert(0) += digits.parse::<u64>().ok()?;
        }
    }
    total
}

pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A copy of role `role` in `into` for Molecule to run in, without what
/// belongs to its own checkout (`.git`, caches, venvs).
pub fn copy_role(role: &Path, into: &Path) -> std::io::Result<PathBuf> {
    let name = role.file_name().unwrap_or_else(|| "role".as_ref());
    let target = into.join(name);
    copy_dir(role, &target)?;
    Ok(target)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_str().is_some_and(|n| {
            matches!(n, ".git" | ".ansible" | ".cache" | ".tox") || n.starts_with(".venv")
        }) {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const REDIS: &str = "---\nrole_name_check: 1\ndependency:\n  name: galaxy\n  options:\n    \
        ignore-errors: true\ndriver:\n  name: docker\nplatforms:\n  - name: instance\n    \
        image: \"geerlingguy/docker-${MOLECULE_DISTRO:-debian12}-ansible:latest\"\n    \
        privileged: true\n    groups: [web]\n    pre_build_image: true\nprovisioner:\n  \
        name: ansible\n  inventory:\n    host_vars:\n      instance:\n        port: 1\n  \
        playbooks:\n    converge: ${MOLECULE_PLAYBOOK:-converge.yml}\nverifier:\n  name: ansible\n";

    #[test]
    fn the_bench_molecule_yml_runs_the_host_image_unprivileged_and_offline() {
        let labels = [
            ("argos:run".to_owned(), "bench1".to_owned()),
            (
                "argos:expires".to_owned(),
                "2026-12-01T14:50:29Z".to_owned(),
            ),
        ];
        let text = bench_molecule_yml(REDIS, "argos-host:bookworm", "b1-m0", &labels).unwrap();
        let value: Value = serde_norway::from_str(&text).unwrap();
        let platform = &value["platforms"][0];
        assert_eq!(platform["name"], "b1-m0-instance");
        assert_eq!(platform["image"], "argos-host:bookworm");
        assert_eq!(platform["override_command"], false);
        assert!(platform.get("privileged").is_none(), "{text}");
        assert_eq!(platform["groups"][0], "web");
        assert_eq!(platform["labels"]["argos:run"], "bench1");
        // Quoted, or Molecule's YAML 1.1 reads a datetime and refuses it.
        assert!(text.contains("\"2026-12-01T14:50:29Z\""), "{text}");
        assert_eq!(platform["volumes"][0], "/sys/fs/cgroup:/sys/fs/cgroup:ro");
        assert_eq!(value["dependency"]["enabled"], false);
        assert_eq!(
            value["provisioner"]["playbooks"]["converge"],
            "${MOLECULE_PLAYBOOK:-converge.yml}"
        );
        assert_eq!(
            value["provisioner"]["inventory"]["host_vars"]["b1-m0-instance"]["port"],
            1
        );
        assert_eq!(value["role_name_check"], 1);
    }

    #[test]
    fn molecule_steps_are_read_from_either_log_format() {
        assert_eq!(
            step_event("INFO     [default > converge] Executing"),
            Some(("converge".into(), StepEvent::Started))
        );
        assert_eq!(
            step_event(
                "\u{1b}[36mINFO    \u{1b}[0m \u{1b}[32mdefault\u{1b}[0m ➜ \u{1b}[33mside_effect\u{1b}[0m: \u{1b}[32mExecuted: Successful\u{1b}[0m"
            ),
            Some(("side_effect".into(), StepEvent::Ended))
        );
        assert_eq!(step_event("TASK [acme.redis : Executing things]"), None);
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let lines = vec![
            (at(0), "INFO     [default > destroy] Executing".to_owned()),
            (
                at(1),
                "INFO     [default > destroy] Executed: Successful".to_owned(),
            ),
            (at(2), "INFO     [default > create] Executing".to_owned()),
            (at(3), "noise".to_owned()),
            (
                at(5),
                "INFO     [default > create] Executed: Successful".to_owned(),
            ),
            (at(6), "INFO     [default > destroy] Executing".to_owned()),
            (
                at(8),
                "INFO     [default > destroy] Executed: Successful".to_owned(),
            ),
        ];
        let spans = step_spans(&lines);
        let steps: Vec<(&str, u64)> = spans
            .iter()
            .map(|s| (s.step.as_str(), (s.end - s.start).as_secs()))
            .collect();
        assert_eq!(steps, [("destroy", 1), ("create", 3), ("destroy", 2)]);
    }

    #[test]
    fn the_recap_gives_what_changed() {
        let out = "TASK [x]\nchanged: [i]\nPLAY RECAP ****\n\
                   i : ok=7    changed=4    unreachable=0\nj : ok=1 changed=1 failed=0\n";
        assert_eq!(recap_changed(out.lines()), Some(5));
        assert_eq!(
            recap_changed("PLAY RECAP\ni : ok=6 changed=0".lines()),
            Some(0)
        );
        assert_eq!(recap_changed("no recap".lines()), None);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn a_role_copy_leaves_its_checkout_behind() {
        let dir = tempfile::tempdir().unwrap();
        let role = dir.path().join("ansible-role-x");
        std::fs::create_dir_all(role.join("tasks")).unwrap();
        std::fs::create_dir_all(role.join(".git/objects")).unwrap();
        std::fs::write(role.join("tasks/main.yml"), "---\n").unwrap();
        let into = dir.path().join("copy");
        let copy = copy_role(&role, &into).unwrap();
        assert_eq!(copy, into.join("ansible-role-x"));
        assert!(copy.join("tasks/main.yml").is_file());
        assert!(!copy.join(".git").exists());
    }
}
