//! What every backend reports about the objects it made: each one with its
//! labels (tags), and what a sweep removed or could not remove.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use crate::model::names::{parse_rfc3339, tag_keys};

/// One labelled object: a container, network or volume, or an AWS resource.
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

    /// The scenario folder of a kept environment's object (the development
    /// loop), which no sweep removes unless asked by its run id.
    pub fn kept(&self) -> Option<&str> {
        self.label(tag_keys::KEPT)
    }

    /// Whether a sweep (not asked for one run) removes it: expired, and not
    /// kept.
    pub fn sweepable(&self, now: SystemTime) -> bool {
        self.kept().is_none() && self.expired(now)
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
    /// Left alone: the run ids of kept environments (the development loop).
    pub kept_environments: Vec<String>,
    /// Expired objects that could not be removed, and how to remove them.
    pub failed: Vec<NotRemoved>,
}

/// An expired object a sweep could not remove.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotRemoved {
    pub object: Labelled,
    pub reason: String,
    /// The command that removes it (by hand, once its users are gone).
    pub remove_with: String,
}

impl fmt::Display for NotRemoved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason: Vec<&str> = self
            .reason
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        write!(
            f,
            "{}: {}; remove it with `{}`",
            self.object,
            reason.join("; "),
            self.remove_with
        )
    }
}
