//! Hosts from EC2 and RDS answers: running instances and available
//! databases tagged with the environment's `App` and `Env`.

use std::collections::BTreeMap;

use argos_aws::{DbInstance, Instance};

use super::{DatabaseEndpoint, Host};
use crate::names::{EnvNames, Group, tag_keys};

use argos_aws::tag;

/// Database states in which it accepts connections.
const DB_SERVING: [&str; 4] = [
    "available",
    "backing-up",
    "modifying",
    "storage-optimization",
];

pub fn from_aws(
    names: &EnvNames,
    instances: &[Instance],
    databases: &[DbInstance],
    user: &str,
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
            Some(Host {
                name,
                group,
                address: instance
                    .public_ip
                    .clone()
                    .unwrap_or_else(|| private.clone()),
                port: 22,
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
                address: d.address.clone()?,
                port: u16::try_from(d.port?).ok()?,
            })
        })
        .collect();
    (hosts, databases)
}
