//! Sweep: delete what test runs left behind — only resources carrying the
//! harness tags, and only when their `argos:expires` has passed or they
//! belong to a named run. Stacks go first (they take their instances and
//! databases with them), then stray instances, databases, images and
//! snapshots. A dry run unless asked to act.

use std::fmt;
use std::time::SystemTime;

use argos_aws::Filter;

use super::{AwsBackend, EngineError};
use crate::model::names::{parse_rfc3339, tag_keys};
use crate::sys::progress::Event;

#[derive(Debug, Clone)]
pub struct SweepFilter {
    /// Only this run's resources, expired or not.
    pub run: Option<String>,
    pub now: SystemTime,
    /// Only these kinds (`stack`, `instance`, `database`, `image`,
    /// `snapshot`, `db-snapshot`); None for all.
    pub kinds: Option<&'static [&'static str]>,
}

impl SweepFilter {
    fn wants(&self, kind: &str) -> bool {
        self.kinds.is_none_or(|kinds| kinds.contains(&kind))
    }

    fn matches(&self, tags: &[(String, String)]) -> bool {
        let tag = |key: &str| argos_aws::tag(tags, key);
        let Some(run) = tag(tag_keys::RUN) else {
            return false;
        };
        match &self.run {
            Some(wanted) => run == wanted,
            None => tag(tag_keys::EXPIRES)
                .and_then(parse_rfc3339)
                .is_some_and(|expires| expires <= self.now),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepAction {
    /// Dry run: would be deleted.
    Found,
    Deleted,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct SweepItem {
    pub kind: &'static str,
    pub id: String,
    pub run: String,
    pub expires: String,
    /// All its tags, for checks beyond the harness tags.
    pub tags: Vec<(String, String)>,
    pub action: SweepAction,
}

#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    pub items: Vec<SweepItem>,
    pub acted: bool,
}

impl SweepReport {
    pub fn failures(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.action, SweepAction::Failed(_)))
            .count()
    }
}

impl fmt::Display for SweepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.items.is_empty() {
            return writeln!(f, "sweep: nothing to delete");
        }
        for item in &self.items {
            let action = match &item.action {
                SweepAction::Found => "would delete".to_owned(),
                SweepAction::Deleted => "deleted".to_owned(),
                SweepAction::Failed(e) => format!("FAILED: {e}"),
            };
            writeln!(
                f,
                "  {:<12} {:<40} run {:<24} expires {:<21} {action}",
                item.kind, item.id, item.run, item.expires
            )?;
        }
        if !self.acted {
            writeln!(
                f,
                "sweep: dry run; --yes deletes the {} item(s) above",
                self.items.len()
            )?;
        }
        Ok(())
    }
}

fn item(kind: &'static str, id: &str, tags: &[(String, String)]) -> SweepItem {
    let tag = |key: &str| argos_aws::tag(tags, key).unwrap_or_default().to_owned();
    SweepItem {
        kind,
        id: id.to_owned(),
        run: tag(tag_keys::RUN),
        expires: tag(tag_keys::EXPIRES),
        tags: tags.to_vec(),
        action: SweepAction::Found,
    }
}

fn harness_tagged() -> Vec<Filter> {
    vec![(String::from("tag-key"), vec![tag_keys::RUN.to_owned()])]
}

impl AwsBackend {
    pub async fn sweep(&self, filter: &SweepFilter, act: bool) -> Result<SweepReport, EngineError> {
        let mut report = SweepReport {
            items: Vec::new(),
            acted: act,
        };

        for stack in self.aws.stacks().await? {
            if !filter.wants("stack") || !filter.matches(&stack.tags) {
                continue;
            }
            let mut found = item("stack", &stack.name, &stack.tags);
            if act {
                self.emit(Event::SweepRemoving {
                    kind: "stack".into(),
                    id: stack.name.clone(),
                });
                found.action = match self.delete_and_wait(&stack.id, &stack.name).await {
                    Ok(()) => SweepAction::Deleted,
                    Err(e) => SweepAction::Failed(e.to_string()),
                };
            }
            report.items.push(found);
        }

        let instances: Vec<_> = self
            .aws
            .instances(&harness_tagged())
            .await?
            .into_iter()
            .filter(|i| {
                filter.wants("instance")
                    && i.state != "terminated"
                    && i.state != "shutting-down"
                    && filter.matches(&i.tags)
            })
            .collect();
        if !instances.is_empty() {
            let ids: Vec<String> = instances.iter().map(|i| i.id.clone()).collect();
            let outcome = if act {
                self.emit(Event::SweepRemoving {
                    kind: "instances".into(),
                    id: ids.join(", "),
                });
                Some(self.aws.terminate_instances(&ids).await)
            } else {
                None
            };
            for instance in &instances {
                let mut found = item("instance", &instance.id, &instance.tags);
                found.action = action(&outcome);
                report.items.push(found);
            }
        }

        for db in self.aws.db_instances().await? {
            if !filter.wants("database") || !filter.matches(&db.tags) || db.status == "deleting" {
                continue;
            }
            let mut found = item("database", &db.id, &db.tags);
            if act {
                self.emit(Event::SweepRemoving {
                    kind: "database".into(),
                    id: db.id.clone(),
                });
                found.action = action(&Some(self.aws.delete_db_instance(&db.id).await));
            }
            report.items.push(found);
        }

        for image in self.aws.images(&harness_tagged()).await? {
            if !filter.wants("image") || !filter.matches(&image.tags) {
                continue;
            }
            let mut found = item("image", &image.id, &image.tags);
            if act {
                self.emit(Event::SweepRemoving {
                    kind: "image".into(),
                    id: image.id.clone(),
                });
                found.action = action(&Some(self.aws.deregister_image(&image.id).await));
                if let Some(plane) = &self.data_plane {
                    plane.remove_ami_image(&image.id);
                }
            }
            report.items.push(found);
        }

        for snapshot in self.aws.snapshots(&harness_tagged()).await? {
            if !filter.wants("snapshot") || !filter.matches(&snapshot.tags) {
                continue;
            }
            let mut found = item("snapshot", &snapshot.id, &snapshot.tags);
            if act {
                self.emit(Event::SweepRemoving {
                    kind: "snapshot".into(),
                    id: snapshot.id.clone(),
                });
                found.action = match self.aws.delete_snapshot(&snapshot.id).await {
                    Ok(()) => SweepAction::Deleted,
                    Err(e) if e.is_code("InvalidSnapshot.NotFound") => SweepAction::Deleted,
                    Err(e) => SweepAction::Failed(e.to_string()),
                };
            }
            report.items.push(found);
        }

        for snapshot in self.aws.db_snapshots().await? {
            if !filter.wants("db-snapshot") || !filter.matches(&snapshot.tags) {
                continue;
            }
            let mut found = item("db-snapshot", &snapshot.id, &snapshot.tags);
            if act {
                self.emit(Event::SweepRemoving {
                    kind: "database snapshot".into(),
                    id: snapshot.id.clone(),
                });
                found.action = action(&Some(self.aws.delete_db_snapshot(&snapshot.id).await));
            }
            report.items.push(found);
        }
        Ok(report)
    }
}

fn action(outcome: &Option<Result<(), argos_aws::AwsError>>) -> SweepAction {
    match outcome {
        None => SweepAction::Found,
        Some(Ok(())) => SweepAction::Deleted,
        Some(Err(e)) => SweepAction::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn tags(run: &str, expires: &str) -> Vec<(String, String)> {
        vec![
            ("argos:run".into(), run.into()),
            ("argos:expires".into(), expires.into()),
        ]
    }

    #[test]
    fn only_expired_or_named_runs_are_swept() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000); // 2026-11-18T11:06:40Z
        let expired = SweepFilter {
            run: None,
            now,
            kinds: None,
        };
        assert!(expired.matches(&tags("r1", "2026-11-18T11:06:39Z")));
        assert!(!expired.matches(&tags("r1", "2026-11-18T11:06:41Z")));
        assert!(
            !expired.matches(&tags("r1", "not a time")),
            "an unreadable expiry is never swept"
        );
        assert!(
            !expired.matches(&[("Name".into(), "argos-prod-app".into())]),
            "no harness tags: never touched"
        );

        let named = SweepFilter {
            run: Some("r2".into()),
            now,
            kinds: None,
        };
        assert!(named.matches(&tags("r2", "2099-01-01T00:00:00Z")));
        assert!(!named.matches(&tags("r1", "2000-01-01T00:00:00Z")));
    }
}
