//! Hosts from EC2 and RDS answers: running instances and available
//! databases tagged with the environment's `App` and `Env`.

use std::collections::BTreeMap;

use argos_aws::{DbInstance, Instance};

use super::{DatabaseEndpoint, Host};
use crate::model::names::{EnvNames, Group, tag_keys};

use argos_aws::tag;

/// Database states in which it accepts connections.
const DB_SERVING: [&str; 4] = [
    "available",
    "backing-up",
    "modifying",
    "storage-optimization",
];

/// Where EC2 says an instance is reached over SSH: its public address,
/// else its private one, port 22.
pub fn ssh_address(instance: &Instance) -> Option<(String, u16)> {
    instance
        .public_ip
        .clone()
        .filter(|ip| !ip.is_empty())
        .or_else(|| instance.private_ip.clone())
        .or_else(|| instance.private_dns.clone())
        .map(|address| (address, 22))
}

/// The environment's hosts and databases; `reach` says where this process
/// connects to each instance (the AWS resolver: EC2's [`ssh_address`], or
/// an emulated instance's own place).
pub fn from_aws(
    names: &EnvNames,
    instances: &[Instance],
    databases: &[DbInstance],
    user: &str,
    reach: &dyn Fn(&Instance) -> Option<(String, u16)>,
) -> (Vec<Host>, Vec<DatabaseEndpoint>) {
    let ours = |tags: &[(String, String)]| {
        tag(tags, tag_keys::APP) == Some(names.app.as_str())
            && tag(tags, tag_keys::ENV) == Some(names.env.as_str())
    };
    let running: Vec<&Instance> = instances
        .iter()
        .filter(|i| i.state == "running" && ours(&i.tags))
        .collect();
    let mut per_name: BTreeMap<&str, usize> = BTreeMap::new();
    for instance in &running {
        *per_name
            .entry(tag(&instance.tags, tag_keys::NAME).unwrap_or(&instance.id))
            .or_default() += 1;
    }
    let hosts = running
        .iter()
        .filter_map(|instance| {
            let group = Group::parse(tag(&instance.tags, tag_keys::GROUP)?)?;
            let private = instance
                .private_ip
                .clone()
                .or_else(|| instance.private_dns.clone())?;
            let name = tag(&instance.tags, tag_keys::NAME).unwrap_or(&instance.id);
            // Autoscaled hosts share a Name: tell them apart by instance id.
            let name = if per_name[name] > 1 {
                format!("{name}-{}", instance.id)
            } else {
                name.to_owned()
            };
            let (address, port) = reach(instance)?;
            Some(Host {
                name,
                group,
                groups: Vec::new(),
                address,
                port,
                user: user.to_owned(),
                private_address: private,
                vars: BTreeMap::new(),
            })
        })
        .collect();
    let databases = databases
        .iter()
        .filter(|d| ours(&d.tags) && DB_SERVING.contains(&d.status.as_str()))
        .filter_map(|d| {
            Some(DatabaseEndpoint {
                group: Group::parse(tag(&d.tags, tag_keys::GROUP)?)?,
                address: d.address.clone()?,
                port: u16::try_from(d.port?).ok()?,
            })
        })
        .collect();
    (hosts, databases)
}
