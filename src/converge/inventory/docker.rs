//! Hosts from `docker inspect` answers: running containers labelled with the
//! environment's `App` and `Env`, addressed on the environment's network.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Host;
use crate::model::names::{EnvNames, Group, tag_keys};

pub fn from_docker_inspect(names: &EnvNames, containers: &[Value], user: &str) -> Vec<Host> {
    let network = names.resource(Group::NETWORK);
    containers
        .iter()
        .filter(|c| c["State"]["Running"] == Value::Bool(true))
        .filter_map(|c| {
            let labels = &c["Config"]["Labels"];
            let label = |key: &str| labels.get(key).and_then(Value::as_str);
            if label(tag_keys::APP) != Some(names.app.as_str())
                || label(tag_keys::ENV) != Some(names.env.as_str())
            {
                return None;
            }
            let group = Group::parse(label(tag_keys::GROUP)?)?;
            let groups = label(tag_keys::GROUPS)
                .into_iter()
                .flat_map(|list| list.split(','))
                .filter_map(Group::parse)
                .collect();
            let address = c["NetworkSettings"]["Networks"][&network]["IPAddress"]
                .as_str()
                .filter(|a| !a.is_empty())?;
            let name = c["Name"].as_str()?.trim_start_matches('/').to_owned();
            let mut vars = BTreeMap::new();
            if label(tag_keys::CONNECTION) == Some("docker") {
                // No sshd in its image: `docker exec` into the container,
                // as root, as Molecule's docker driver does.
                vars.insert("ansible_connection".to_owned(), "docker".to_owned());
                vars.insert("ansible_host".to_owned(), name.clone());
                vars.insert("ansible_user".to_owned(), "root".to_owned());
            }
            Some(Host {
                name,
                group,
                groups,
                address: address.to_owned(),
                port: 22,
                user: user.to_owned(),
                private_address: address.to_owned(),
                vars,
            })
        })
        .collect()
}
