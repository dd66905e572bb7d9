//! `argos-cloud <env> check`: the standard probes of an environment, what
//! the project's profile expects of the groups it has and the ports the
//! topology says its groups listen on, and their verdict.

use std::time::Duration;

use super::{DatabaseLogin, Expectations, HealthProbe, ProbeContext, ProbeResult, TcpProbe};
use crate::converge::deploy::HostKeys;
use crate::converge::inventory::Inventory;
use crate::model::topology::Topology;
use crate::sys::progress::Progress;

/// Why `check` did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{stack} has no hosts to check: `commission` it first")]
    NoHosts { stack: String },
    /// `report` is every result, one per line.
    #[error("{report}check: {failed} of {total} probe(s) failed")]
    ProbesFailed {
        report: String,
        failed: usize,
        total: usize,
    },
}

/// Run the standard probes: `standard` gives what the profile expects of
/// the groups present (e.g. every connection Argos depends on); every port
/// of the topology is probed too. An error when the environment has no hosts.
#[allow(clippy::too_many_arguments)]
pub async fn check(
    inventory: &Inventory,
    topology: &Topology,
    standard: fn(&[String]) -> Expectations,
    login: DatabaseLogin,
    host_keys: HostKeys,
    deadline: Duration,
    progress: Progress,
) -> Result<Vec<ProbeResult>, CheckError> {
    let mut groups: Vec<String> = inventory
        .hosts
        .iter()
        .map(|h| h.group.to_string())
        .chain(inventory.databases.iter().map(|d| d.group.to_string()))
        .collect();
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Err(CheckError::NoHosts {
            stack: inventory.env.stack(),
        });
    }
    let mut expect = standard(&groups);
    for spec in &topology.groups {
        for host in inventory.in_group(&spec.group) {
            for port in &spec.ports {
                expect.health.push(HealthProbe::Tcp(TcpProbe {
                    host: host.name.clone(),
                    port: *port,
                }));
            }
        }
    }
    let context = ProbeContext {
        inventory,
        host_keys,
        login,
        deadline,
        progress,
    };
    Ok(context.run_all(&expect).await)
}

/// The results one per line, then the verdict; an error when any failed.
pub fn verdict(results: &[ProbeResult]) -> Result<String, CheckError> {
    let mut text: String = results.iter().map(|r| format!("{r}\n")).collect();
    let failed = results.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        return Err(CheckError::ProbesFailed {
            report: text,
            failed,
            total: results.len(),
        });
    }
    text.push_str(&format!("check: {} probe(s) passed", results.len()));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ProbeFailure;

    #[test]
    fn the_verdict_fails_on_any_failed_probe_and_lists_them_all() {
        let passed = ProbeResult {
            host: "argos-dev-app".into(),
            probe: "tcp app:22 is open".into(),
            outcome: Ok("connected".into()),
        };
        let failed = ProbeResult {
            host: "argos-dev-app".into(),
            probe: "unit nginx on app is active".into(),
            outcome: Err(ProbeFailure::UnitInactive {
                unit: "nginx".into(),
                state: "failed".into(),
            }),
        };
        assert_eq!(
            verdict(std::slice::from_ref(&passed)).unwrap(),
            "ok    tcp app:22 is open on argos-dev-app: connected\ncheck: 1 probe(s) passed"
        );
        let error = verdict(&[passed, failed]).unwrap_err();
        assert!(matches!(
            error,
            CheckError::ProbesFailed {
                failed: 1,
                total: 2,
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            "ok    tcp app:22 is open on argos-dev-app: connected\n\
             FAIL  unit nginx on app is active on argos-dev-app: nginx is failed; \
             `journalctl -u nginx` on the host says why\n\
             check: 1 of 2 probe(s) failed"
        );
    }
}
