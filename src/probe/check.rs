//! `argos-cloud <env> check`: the standard probes of an environment, what
//! the project's profile expects of the groups it has and the ports the
//! topology says its groups listen on, and their verdict.

use std::time::Duration;

use super::{DatabaseLogin, Expectations, HealthProbe, ProbeContext, ProbeResult, TcpProbe};
use crate::converge::deploy::HostKeys;
use crate::converge::inventory::Inventory;
use crate::model::topology::Topology;
use crate::sys::progress::Progress;

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
) -> Result<Vec<ProbeResult>, String> {
    let mut groups: Vec<String> = inventory
        .hosts
        .iter()
        .map(|h| h.group.to_string())
        .chain(inventory.databases.iter().map(|d| d.group.to_string()))
        .collect();
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Err(format!(
            "{} has no hosts to check: `commission` it first",
            inventory.env.stack()
        ));
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
pub fn verdict(results: &[ProbeResult]) -> Result<String, String> {
    let mut text: String = results.iter().map(|r| format!("{r}\n")).collect();
    let failed = results.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        return Err(format!(
            "{text}check: {failed} of {} probe(s) failed",
            results.len()
        ));
    }
    text.push_str(&format!("check: {} probe(s) passed", results.len()));
    Ok(text)
}
