//! Where probes run: the inventory's hosts (found by name or group, and
//! only the run's own), the SSH host keys, the database login, and how long
//! a probe may keep failing before it counts as failed.

use std::time::Duration;

use super::{DatabaseLogin, Expectations, ProbeFailure, ProbeResult};
use crate::converge::deploy::HostKeys;
use crate::converge::inventory::{Host, Inventory};
use crate::model::names::Group;
use crate::sys::progress::{Event, Progress};
use crate::sys::wait::{self, Backoff, Poll};

/// How probes reach hosts and how long each may keep failing.
#[derive(Debug, Clone)]
pub struct ProbeContext<'a> {
    pub inventory: &'a Inventory,
    pub host_keys: HostKeys,
    pub login: DatabaseLogin,
    /// How long one probe is retried before it counts as failed.
    pub deadline: Duration,
    /// Where each probe's verdict goes as it comes ([`Event::ProbeFinished`]).
    pub progress: Progress,
}

const PROBE_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    factor: 1.5,
    cap: Duration::from_secs(4),
};

/// How long one attempt may take.
pub(super) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

impl ProbeContext<'_> {
    /// The host `name` means: the inventory host of that name (its own,
    /// or `<app>-<env>-<name>`), else the first host of group `name`.
    pub(super) fn host(&self, name: &str) -> Result<&Host, ProbeFailure> {
        let full = self.inventory.env.resource(name);
        let hosts = &self.inventory.hosts;
        let host = hosts
            .iter()
            .find(|h| h.name == name || h.name == full)
            .or_else(|| {
                let group = Group::parse(name)?;
                hosts.iter().find(|h| h.is_in(&group))
            })
            .ok_or_else(|| ProbeFailure::NoSuchHost {
                name: name.to_owned(),
            })?;
        self.inventory
            .destinations
            .check(&host.name, &host.address)
            .map_err(|refused| ProbeFailure::NotOurs {
                reason: refused.to_string(),
            })?;
        Ok(host)
    }

    /// Where other hosts reach `name`: a host's private address, or a
    /// managed database's endpoint (RDS) in that group.
    pub(super) fn target(&self, name: &str) -> Result<(String, Option<u16>), ProbeFailure> {
        if let Some(endpoint) = self
            .inventory
            .databases
            .iter()
            .find(|d| d.group.as_str() == name)
        {
            return Ok((endpoint.address.clone(), Some(endpoint.port)));
        }
        Ok((self.host(name)?.private_address.clone(), None))
    }

    /// Run every probe of `expect`, health first; all of them, not only
    /// up to the first failure, so one report shows everything wrong.
    pub async fn run_all(&self, expect: &Expectations) -> Vec<ProbeResult> {
        let mut results = Vec::new();
        for probe in &expect.health {
            results.push(self.reported(self.health(probe).await));
        }
        for connection in &expect.connectivity {
            results.push(self.reported(self.connectivity(connection).await));
        }
        results
    }

    fn reported(&self, result: ProbeResult) -> ProbeResult {
        self.progress.emit(Event::ProbeFinished {
            host: result.host.clone(),
            probe: result.probe.clone(),
            passed: result.passed(),
            detail: match &result.outcome {
                Ok(detail) => detail.clone(),
                Err(failure) => failure.to_string(),
            },
        });
        result
    }

    /// Try until the probe passes or the deadline passes; the last reason counts.
    pub(super) async fn retry<F, Fut>(&self, what: &str, attempt: F) -> Result<String, ProbeFailure>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<String, ProbeFailure>>,
    {
        let last = std::sync::Mutex::new(None);
        let outcome = wait::until(what, self.deadline, PROBE_BACKOFF, || async {
            let failure = match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt()).await {
                Ok(Ok(detail)) => return Ok::<_, std::convert::Infallible>(Poll::Ready(detail)),
                Ok(Err(failure)) => failure,
                Err(_) => ProbeFailure::NoAnswer {
                    seconds: ATTEMPT_TIMEOUT.as_secs(),
                },
            };
            *last.lock().expect("not poisoned") = Some(failure);
            Ok(Poll::Pending)
        })
        .await;
        outcome.map_err(|_| {
            let last = last
                .into_inner()
                .expect("not poisoned")
                .unwrap_or(ProbeFailure::NoAnswer {
                    seconds: self.deadline.as_secs(),
                });
            ProbeFailure::StillFailing {
                last: Box::new(last),
                seconds: self.deadline.as_secs(),
            }
        })
    }
}
