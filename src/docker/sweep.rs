//! Finding and removing what harness runs left on Docker, by label: every
//! container, network and volume a harness environment makes carries
//! `argos:run` and `argos:expires`. `sweep` removes the expired ones (a run
//! that was killed) or one named run; nothing without the labels is touched.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use serde_json::Value;

use super::{DockerBackend, DockerError, cli};
use crate::names::{AppName, EnvName, EnvNames, parse_rfc3339, tag_keys};

/// One labelled Docker object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Labelled {
    /// container, network or volume.
    pub kind: &'static str,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

impl Labelled {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    fn run(&self) -> Option<&str> {
        self.label(tag_keys::RUN)
    }

    /// Expired, or carrying an expiry nobody can read (which counts as expired:
    /// a harness object must never outlive its run by accident).
    pub fn expired(&self, now: SystemTime) -> bool {
        self.label(tag_keys::EXPIRES)
            .is_none_or(|text| parse_rfc3339(text).is_none_or(|t| t <= now))
    }
}

impl fmt::Display for Labelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (run {}, expires {})",
            self.kind,
            self.name,
            self.run().unwrap_or("?"),
            self.label(tag_keys::EXPIRES).unwrap_or("?")
        )
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SweepReport {
    pub removed: Vec<Labelled>,
    /// Left alone: harness objects of runs that are still alive.
    pub kept: usize,
}

const KINDS: [&str; 3] = ["container", "network", "volume"];

impl DockerBackend {
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
            let mut inspect = vec![kind.to_owned(), "inspect".to_owned()];
            inspect.extend(ids);
            let text = cli::docker(&inspect)?;
            let objects: Vec<Value> =
                serde_json::from_str(&text).map_err(|e| DockerError::Output {
                    what: format!("docker {kind} inspect"),
                    detail: e.to_string(),
                })?;
            for object in objects {
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
    /// `run`; containers first, then networks and volumes they used.
    pub fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, DockerError> {
        let mut report = SweepReport::default();
        let (doomed, kept): (Vec<Labelled>, Vec<Labelled>) = self
            .labelled(run)?
            .into_iter()
            .partition(|o| run.is_some() || o.expired(now));
        report.kept = kept.len();
        for kind in KINDS {
            let names: Vec<String> = doomed
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| o.name.clone())
                .collect();
            if names.is_empty() {
                continue;
            }
            let mut args: Vec<String> = match kind {
                "container" => vec!["rm".into(), "-f".into(), "-v".into()],
                _ => vec![kind.into(), "rm".into()],
            };
            args.extend(names);
            cli::docker(&args)?;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use super::Labelled;
    use crate::names::{rfc3339, tag_keys};

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
}
