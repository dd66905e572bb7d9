//! Finding and removing what harness runs left on Docker, by label: every
//! container, network and volume a harness environment makes carries
//! `argos:run` and `argos:expires`. `sweep` removes the expired ones (a run
//! that was killed) or one named run; nothing without the labels is touched.
//! An expired object that cannot go (a network a stranger's container still
//! uses) is reported with the command that removes it, and the sweep goes on:
//! one bad leftover must not fail every later run on the machine.

use std::time::SystemTime;

use serde_json::Value;

use super::{Containers, DockerError, cli};
use crate::backend::{Labelled, NotRemoved, SweepReport};
use crate::model::names::{AppName, EnvName, EnvNames, tag_keys};

const KINDS: [&str; 3] = ["container", "network", "volume"];

/// A kept environment of the development loop, as `argos-cloud list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeptEnvironment {
    pub run_id: String,
    /// The scenario's folder (and a matrix's variables).
    pub scenario: String,
    /// How long ago its first host was made, as Docker says it.
    pub age: String,
    pub hosts: usize,
    pub running: usize,
}

/// Every kept environment on this machine's Docker engine, whoever's folder.
pub fn kept_environments_here() -> Result<Vec<KeptEnvironment>, DockerError> {
    let format = format!(
        "{{{{.Label \"{}\"}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.RunningFor}}}}\t{{{{.State}}}}",
        tag_keys::RUN,
        tag_keys::KEPT
    );
    let filter = format!("label={}", tag_keys::KEPT);
    let lines = cli::docker_lines(&["ps", "-a", "--filter", &filter, "--format", &format])?;
    let mut kept: Vec<KeptEnvironment> = Vec::new();
    // Newest first, as docker lists them: the last line of a run is its oldest host.
    for line in lines {
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        let [run_id, scenario, age, state] = parts[..] else {
            continue;
        };
        let running = usize::from(state == "running");
        match kept.iter_mut().find(|k| k.run_id == run_id) {
            Some(known) => {
                known.hosts += 1;
                known.running += running;
                age.clone_into(&mut known.age);
            }
            None => kept.push(KeptEnvironment {
                run_id: run_id.to_owned(),
                scenario: scenario.to_owned(),
                age: age.to_owned(),
                hosts: 1,
                running,
            }),
        }
    }
    kept.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    Ok(kept)
}

/// The run ids of the kept environments among `objects`, each once.
pub fn kept_environments_of(objects: &[Labelled]) -> Vec<String> {
    let mut ids: Vec<String> = objects
        .iter()
        .filter(|o| o.kept().is_some())
        .filter_map(|o| o.label(tag_keys::RUN).map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

impl Containers {
    /// Every harness object, or only those of run `run`.
    pub fn labelled(&self, run: Option<&str>) -> Result<Vec<Labelled>, DockerError> {
        let filter = match run {
            Some(run) => format!("label={}={run}", tag_keys::RUN),
            None => format!("label={}", tag_keys::RUN),
        };
        let mut found = Vec::new();
        for kind in KINDS {
            let list: Vec<String> = match kind {
                "container" => vec!["ps", "-a", "-q", "--filter", &filter],
                _ => vec![kind, "ls", "-q", "--filter", &filter],
            }
            .into_iter()
            .map(str::to_owned)
            .collect();
            let ids = cli::docker_lines(&list)?;
            if ids.is_empty() {
                continue;
            }
            for object in inspect_present(kind, &ids)? {
                let labels = match kind {
                    "container" => &object["Config"]["Labels"],
                    _ => &object["Labels"],
                };
                found.push(Labelled {
                    kind,
                    name: object["Name"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_owned(),
                    labels: labels
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        Ok(found)
    }

    /// Remove harness objects that expired before `now`, or all of run
    /// `run`; containers first, then networks and volumes they used. What
    /// of the expired ones cannot go is reported in `failed`; for a named
    /// run (a teardown) it is an error.
    pub fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, DockerError> {
        let mut report = SweepReport::default();
        let (mut doomed, kept): (Vec<Labelled>, Vec<Labelled>) = self
            .labelled(run)?
            .into_iter()
            .partition(|o| run.is_some() || o.sweepable(now));
        report.kept = kept.len();
        report.kept_environments = kept_environments_of(&kept);
        for kind in KINDS {
            let names: Vec<String> = doomed
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| o.name.clone())
                .collect();
            if names.is_empty() {
                continue;
            }
            // The machine's apt cache leaves first: its endpoint would keep the network.
            for network in names.iter().filter(|_| kind == "network") {
                super::apt_cache::detach(&self.progress, &self.project, network);
            }
            let mut args: Vec<String> = match kind {
                "container" => vec!["rm".into(), "-f".into(), "-v".into()],
                _ => vec![kind.into(), "rm".into()],
            };
            args.extend(names.iter().cloned());
            if let Err(error) = cli::docker(&args) {
                // Docker removes what it can and names what it could not:
                // gone already (a parallel sweep) is done; anything else is not.
                let left = still_there(kind, &names)?;
                if left.is_empty() {
                    continue;
                }
                if run.is_some() {
                    return Err(error);
                }
                let reason = error.to_string();
                let (failed, rest): (Vec<Labelled>, Vec<Labelled>) = doomed
                    .into_iter()
                    .partition(|o| o.kind == kind && left.contains(&o.name));
                doomed = rest;
                for object in failed {
                    report.failed.push(NotRemoved {
                        remove_with: remove_command(&object)?,
                        reason: reason.clone(),
                        object,
                    });
                }
            }
        }
        // A killed run also left its folder: the SSH key, and on Vagrant the
        // machine list and Vagrant's state.
        for network in doomed.iter().filter(|o| o.kind == "network") {
            if let (Some(app), Some(env)) =
                (network.label(tag_keys::APP), network.label(tag_keys::ENV))
                && let (Ok(app), Ok(env)) = (AppName::new(app), EnvName::new(env))
            {
                let stack = EnvNames::new(app, env).stack();
                for backend in ["docker", "vagrant"] {
                    let _ = std::fs::remove_dir_all(
                        self.project.path(&format!(".argos/{backend}/{stack}")),
                    );
                }
            }
        }
        report.removed = doomed;
        Ok(report)
    }
}

/// The command that removes `object`: a network first loses the containers
/// still attached to it (they are not the harness's, or they would have gone).
fn remove_command(object: &Labelled) -> Result<String, DockerError> {
    let name = &object.name;
    Ok(match object.kind {
        "container" => format!("docker rm -f -v {name}"),
        "network" => {
            let users: Vec<String> = inspect_present("network", std::slice::from_ref(name))?
                .iter()
                .flat_map(|n| {
                    n["Containers"]
                        .as_object()
                        .into_iter()
                        .flat_map(|m| m.values())
                        .filter_map(|c| c["Name"].as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
                .collect();
            let mut steps: Vec<String> = users
                .iter()
                .map(|user| format!("docker network disconnect -f {name} {user}"))
                .collect();
            steps.push(format!("docker network rm {name}"));
            steps.join(" && ")
        }
        kind => format!("docker {kind} rm {name}"),
    })
}

/// `docker KIND inspect` of `ids`, leaving out those that vanished since
/// they were listed (a parallel run's teardown).
fn inspect_present(kind: &str, ids: &[String]) -> Result<Vec<Value>, DockerError> {
    let parse = |text: &str| -> Result<Vec<Value>, DockerError> {
        serde_json::from_str(text).map_err(|e| DockerError::Output {
            what: format!("docker {kind} inspect"),
            detail: e.to_string(),
        })
    };
    let mut all = vec![kind.to_owned(), "inspect".to_owned()];
    all.extend(ids.iter().cloned());
    match cli::docker(&all) {
        Ok(text) => parse(&text),
        Err(error) if error.is_gone() => {
            let mut present = Vec::new();
            for id in ids {
                match cli::docker(&[kind, "inspect", id]) {
                    Ok(text) => present.extend(parse(&text)?),
                    Err(error) if error.is_gone() => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(present)
        }
        Err(error) => Err(error),
    }
}

/// Which of `names` (of `kind`) still exist.
fn still_there(kind: &str, names: &[String]) -> Result<Vec<String>, DockerError> {
    Ok(inspect_present(kind, names)?
        .iter()
        .filter_map(|o| o["Name"].as_str())
        .map(|n| n.trim_start_matches('/').to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use super::Labelled;
    use crate::model::names::{rfc3339, tag_keys};

    fn object(expires: Option<String>) -> Labelled {
        let mut labels = BTreeMap::from([(tag_keys::RUN.to_owned(), "t-app-1".to_owned())]);
        if let Some(expires) = expires {
            labels.insert(tag_keys::EXPIRES.to_owned(), expires);
        }
        Labelled {
            kind: "container",
            name: "argos-t-app-1-app".into(),
            labels,
        }
    }

    #[test]
    fn expiry_decides_and_an_unreadable_one_counts_as_expired() {
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        assert!(object(Some(rfc3339(now - hour))).expired(now));
        assert!(!object(Some(rfc3339(now + hour))).expired(now));
        assert!(object(Some("next tuesday".into())).expired(now));
        assert!(object(None).expired(now));
    }

    #[test]
    fn a_kept_environment_is_never_swept_and_is_listed_apart() {
        let now = SystemTime::now();
        let mut kept = object(Some(rfc3339(now - Duration::from_secs(3600))));
        kept.labels.insert(
            tag_keys::KEPT.to_owned(),
            "/roles/motd/molecule/default".into(),
        );
        assert!(kept.expired(now), "its expiry passed");
        assert!(!kept.sweepable(now), "yet no sweep removes it");
        assert!(object(None).sweepable(now));
        assert_eq!(
            super::kept_environments_of(&[kept.clone(), kept, object(None)]),
            ["t-app-1"]
        );
    }

    /// Another run's teardown may remove an object between the listing and
    /// the inspect: it is left out, not an error (a sweep failed on it once).
    #[test]
    fn objects_that_vanish_between_listing_and_inspecting_are_left_out() {
        if !crate::sys::process::succeeds("docker", &["info"]) {
            // argos_harness::skip's rule (the library's tests cannot use the harness).
            assert!(std::env::var_os("CI").is_none(), "CI must have Docker");
            eprintln!("SKIPPED (not a pass): needs Docker: docker info failed");
            return;
        }
        let stamp = format!("{}-{}", std::process::id(), rfc3339(SystemTime::now()));
        let stamp: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
        let names = [format!("argos-gone-{stamp}"), format!("argos-kept-{stamp}")];
        for name in &names {
            super::cli::docker(&[
                "network",
                "create",
                "--label",
                "argos:run=vanish-test",
                name,
            ])
            .unwrap();
        }
        super::cli::docker(&["network", "rm", &names[0]]).unwrap();
        let present = super::inspect_present("network", &names);
        let left = super::still_there("network", &names);
        super::cli::docker(&["network", "rm", &names[1]]).unwrap();
        let present = present.unwrap();
        assert_eq!(present.len(), 1, "{present:?}");
        assert_eq!(present[0]["Name"], names[1].as_str());
        assert_eq!(left.unwrap(), [names[1].clone()]);
    }
}
