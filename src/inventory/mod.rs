//! The Ansible inventory of one environment: its hosts, found by their tags
//! on whichever backend holds them, grouped by their `Group` tag.
//!
//! Groups are the group names (`app`, `knowledge`, ...). Every SSH host has
//! `ansible_host`, `ansible_port`, `ansible_user` and `private_address` (how
//! the other hosts reach it). On AWS the `database` group holds the RDS
//! endpoint read from RDS itself, with `db_port` and a local connection: it
//! is never reached over SSH.

mod docker;
mod ec2;
mod vagrant;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use docker::from_docker_inspect;
pub use ec2::{from_aws, ssh_address};
pub use vagrant::{SshConfigError, parse_ssh_config};

use crate::destinations::{Destinations, Refused};
use crate::names::{EnvNames, Group};

/// One host Ansible reaches over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The inventory name, e.g. `argos-staging-app`.
    pub name: String,
    pub group: Group,
    /// Where Ansible connects.
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Where the other hosts of the environment reach it.
    pub private_address: String,
    /// Backend-specific connection variables (key file, options).
    pub vars: BTreeMap<String, String>,
}

/// A managed database (RDS): an address, not a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseEndpoint {
    pub address: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("environment {env} has no {group} host: {hint}")]
    Missing {
        env: String,
        group: Group,
        hint: String,
    },
    #[error("environment {env} has {} {group} hosts ({}), and exactly one is expected", hosts.len(), hosts.join(", "))]
    Doubled {
        env: String,
        group: Group,
        hosts: Vec<String>,
    },
}

/// Groups that never hold more than one host: the knowledge host, the
/// database and the broker. App and worker groups may scale.
pub const SINGLETONS: [Group; 3] = [Group::Knowledge, Group::Database, Group::Broker];

/// Which singleton groups an environment must have (exactly one host each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub required: Vec<Group>,
}

impl Expect {
    /// A whole Argos environment: knowledge and database, and the broker
    /// when tasks are on.
    pub fn environment(tasks_enabled: bool) -> Self {
        let mut required = vec![Group::Knowledge, Group::Database];
        if tasks_enabled {
            required.push(Group::Broker);
        }
        Self { required }
    }

    /// Exactly these singleton groups (a partial environment, as a role test makes).
    pub fn groups(groups: &[Group]) -> Self {
        Self {
            required: groups
                .iter()
                .copied()
                .filter(|g| SINGLETONS.contains(g))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub env: EnvNames,
    pub hosts: Vec<Host>,
    /// Managed databases (RDS); local backends have a database host instead.
    pub databases: Vec<DatabaseEndpoint>,
    /// Which of the hosts' addresses may be connected to.
    pub destinations: Destinations,
}

impl Inventory {
    /// Check the hosts against what the environment needs: each singleton
    /// group exactly once (a managed database counts for `database`).
    pub fn new(
        env: EnvNames,
        mut hosts: Vec<Host>,
        databases: Vec<DatabaseEndpoint>,
        expect: Expect,
    ) -> Result<Self, InventoryError> {
        hosts.sort_by(|a, b| (a.group, &a.name).cmp(&(b.group, &b.name)));
        for group in SINGLETONS {
            let mut names: Vec<String> = hosts
                .iter()
                .filter(|h| h.group == group)
                .map(|h| h.name.clone())
                .collect();
            if group == Group::Database {
                names.extend(databases.iter().map(|d| d.address.clone()));
            }
            match names.len() {
                1 => {}
                0 if !expect.required.contains(&group) => {}
                0 => {
                    return Err(InventoryError::Missing {
                        env: env.stack(),
                        group,
                        hint: format!(
                            "no running host is tagged App={}, Env={}, Group={group}; is the environment commissioned (`argos-cloud {} status`)?",
                            env.app, env.env, env.env
                        ),
                    });
                }
                _ => {
                    return Err(InventoryError::Doubled {
                        env: env.stack(),
                        group,
                        hosts: names,
                    });
                }
            }
        }
        Ok(Self {
            env,
            hosts,
            databases,
            destinations: Destinations::Any,
        })
    }

    /// The same inventory, reached only where `destinations` allow.
    pub fn reaching(self, destinations: Destinations) -> Self {
        Self {
            destinations,
            ..self
        }
    }

    /// Every SSH host whose address may not be connected to; asked before
    /// any connection to the hosts is opened.
    pub fn refused(&self) -> Vec<Refused> {
        self.hosts
            .iter()
            .filter_map(|h| self.destinations.check(&h.name, &h.address).err())
            .collect()
    }

    fn host_vars(host: &Host) -> Value {
        let mut vars = Map::new();
        vars.insert("ansible_host".into(), json!(host.address));
        vars.insert("ansible_port".into(), json!(host.port));
        vars.insert("ansible_user".into(), json!(host.user));
        vars.insert("private_address".into(), json!(host.private_address));
        vars.insert("argos_group".into(), json!(host.group.as_str()));
        for (key, value) in &host.vars {
            vars.insert(key.clone(), json!(value));
        }
        Value::Object(vars)
    }

    fn database_vars(database: &DatabaseEndpoint) -> Value {
        json!({
            "ansible_connection": "local",
            "db_port": database.port,
            "private_address": database.address,
            "argos_group": Group::Database.as_str(),
        })
    }

    fn all_vars(&self) -> Value {
        json!({
            "app_name": self.env.app.as_str(),
            "env_name": self.env.env.as_str(),
        })
    }

    fn groups(&self) -> BTreeMap<&'static str, Vec<String>> {
        let mut groups: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for host in &self.hosts {
            groups
                .entry(host.group.as_str())
                .or_default()
                .push(host.name.clone());
        }
        for db in &self.databases {
            groups
                .entry(Group::Database.as_str())
                .or_default()
                .push(db.address.clone());
        }
        groups
    }

    /// Ansible's dynamic-inventory answer to `--list`.
    pub fn list(&self) -> Value {
        let mut root = Map::new();
        let groups = self.groups();
        for (group, hosts) in &groups {
            root.insert((*group).to_owned(), json!({ "hosts": hosts }));
        }
        root.insert(
            "all".into(),
            json!({ "children": groups.keys().collect::<Vec<_>>(), "vars": self.all_vars() }),
        );
        let mut hostvars = Map::new();
        for host in &self.hosts {
            hostvars.insert(host.name.clone(), Self::host_vars(host));
        }
        for db in &self.databases {
            hostvars.insert(db.address.clone(), Self::database_vars(db));
        }
        root.insert("_meta".into(), json!({ "hostvars": hostvars }));
        Value::Object(root)
    }

    /// Ansible's dynamic-inventory answer to `--host NAME` (`{}` when unknown,
    /// as the protocol wants).
    pub fn host(&self, name: &str) -> Value {
        if let Some(host) = self.hosts.iter().find(|h| h.name == name) {
            return Self::host_vars(host);
        }
        match self.databases.iter().find(|db| db.address == name) {
            Some(db) => Self::database_vars(db),
            None => json!({}),
        }
    }

    /// The same inventory as a static file for Ansible's `yaml` inventory
    /// plugin (which also reads JSON), for `ansible-playbook -i FILE`.
    pub fn static_file(&self) -> Value {
        let mut children = Map::new();
        for (group, hosts) in self.groups() {
            let mut members = Map::new();
            for name in hosts {
                let vars = self.host(&name);
                members.insert(name, vars);
            }
            children.insert(group.to_owned(), json!({ "hosts": members }));
        }
        json!({ "all": { "vars": self.all_vars(), "children": children } })
    }
}

#[cfg(test)]
mod tests;
