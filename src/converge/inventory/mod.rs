//! The Ansible inventory of one environment: its hosts, found by their tags
//! on whichever backend holds them, grouped by their `Group` tag.
//!
//! Groups are the project's group names (its topology). A host is in the
//! group of its `Group` tag and in any further groups a scenario gave it.
//! Every SSH host has `ansible_host`, `ansible_port`, `ansible_user` and
//! `private_address` (how the other hosts reach it). On AWS a managed
//! database (RDS) is in the group of its own `Group` tag, with `db_port` and
//! a local connection: it is never reached over SSH.

mod docker;
mod ec2;
mod vagrant;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use docker::from_docker_inspect;
pub use ec2::{from_aws, ssh_address};
pub use vagrant::{SshConfigError, parse_ssh_config};

use crate::converge::destinations::{Destinations, Refused};
use crate::model::names::{EnvNames, Group};
use crate::model::topology::Topology;

/// One host Ansible reaches over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The inventory name, e.g. `argos-staging-app`.
    pub name: String,
    pub group: Group,
    /// Further Ansible groups the host is in (a scenario's `hosts[].groups`).
    pub groups: Vec<Group>,
    /// Where Ansible connects.
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Where the other hosts of the environment reach it.
    pub private_address: String,
    /// Backend-specific connection variables (key file, options).
    pub vars: BTreeMap<String, String>,
}

impl Host {
    /// Whether the host is in `group`, by its `Group` tag or a further group.
    pub fn is_in(&self, group: &Group) -> bool {
        &self.group == group || self.groups.contains(group)
    }
}

/// A managed database (RDS): an address, not a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseEndpoint {
    /// The group of its `Group` tag.
    pub group: Group,
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

/// What an environment must hold: the topology's singleton groups never
/// hold more than one host, and the required ones exactly one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    pub singletons: Vec<Group>,
    pub required: Vec<Group>,
}

impl Expect {
    /// A whole environment: every singleton group the settings switch on.
    pub fn environment(topology: &Topology) -> Self {
        let singletons = topology.singletons();
        let required = topology
            .environment_groups()
            .into_iter()
            .filter(|g| singletons.contains(g))
            .collect();
        Self {
            singletons,
            required,
        }
    }

    /// Exactly these groups' singletons (a partial environment, as a role test makes).
    pub fn groups(topology: &Topology, groups: &[Group]) -> Self {
        let singletons = topology.singletons();
        let required = groups
            .iter()
            .filter(|g| singletons.contains(g))
            .cloned()
            .collect();
        Self {
            singletons,
            required,
        }
    }

    /// Whatever is there: no group is checked.
    pub fn anything() -> Self {
        Self::default()
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
    /// Variables a scenario gives: for every host, per group, per host
    /// (by inventory name).
    pub vars: InventoryVars,
}

/// Inventory variables beyond the connection's (a scenario's `vars`,
/// `group_vars`, `host_vars`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryVars {
    pub all: Map<String, Value>,
    pub groups: BTreeMap<String, Map<String, Value>>,
    pub hosts: BTreeMap<String, Map<String, Value>>,
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
        hosts.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
        for group in expect.singletons.iter().chain(&expect.required) {
            let group = group.clone();
            let mut names: Vec<String> = hosts
                .iter()
                .filter(|h| h.group == group)
                .map(|h| h.name.clone())
                .collect();
            names.extend(
                databases
                    .iter()
                    .filter(|d| d.group == group)
                    .map(|d| d.address.clone()),
            );
            match names.len() {
                1 => {}
                0 if !expect.required.contains(&group) => {}
                n if n > 1 && !expect.singletons.contains(&group) => {}
                0 => {
                    return Err(InventoryError::Missing {
                        env: env.stack(),
                        hint: format!(
                            "no running host is tagged App={}, Env={}, Group={group}; is the environment commissioned (`argos-cloud {} status`)?",
                            env.app, env.env, env.env
                        ),
                        group,
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
            vars: InventoryVars::default(),
        })
    }

    /// The same inventory with a scenario's variables.
    pub fn with_vars(self, vars: InventoryVars) -> Self {
        Self { vars, ..self }
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
        if !host.groups.is_empty() {
            vars.insert("argos_groups".into(), json!(host.groups));
        }
        for (key, value) in &host.vars {
            vars.insert(key.clone(), json!(value));
        }
        Value::Object(vars)
    }

    /// A host's variables with the scenario's own for it on top.
    fn all_host_vars(&self, host: &Host) -> Value {
        let mut vars = Self::host_vars(host);
        if let (Value::Object(map), Some(own)) = (&mut vars, self.vars.hosts.get(&host.name)) {
            map.extend(own.clone());
        }
        vars
    }

    fn database_vars(database: &DatabaseEndpoint) -> Value {
        json!({
            "ansible_connection": "local",
            "db_port": database.port,
            "private_address": database.address,
            "argos_group": database.group.as_str(),
        })
    }

    fn all_vars(&self) -> Value {
        // `group_vars: {all: ...}` is Ansible's way of writing `vars`.
        let mut vars = self.vars.groups.get("all").cloned().unwrap_or_default();
        vars.extend(self.vars.all.clone());
        vars.insert("app_name".into(), json!(self.env.app.as_str()));
        vars.insert("env_name".into(), json!(self.env.env.as_str()));
        Value::Object(vars)
    }

    /// Every group with its members: the hosts' groups, and the
    /// environment's own group of every host, which Ansible reads
    /// `group_vars/<env>.yml` for (as EC2 inventories group by `Env`).
    fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for host in &self.hosts {
            for group in std::iter::once(&host.group).chain(&host.groups) {
                let members = groups.entry(group.as_str().to_owned()).or_default();
                if !members.contains(&host.name) {
                    members.push(host.name.clone());
                }
            }
        }
        for db in &self.databases {
            groups
                .entry(db.group.as_str().to_owned())
                .or_default()
                .push(db.address.clone());
        }
        let everyone: Vec<String> = self
            .hosts
            .iter()
            .map(|h| h.name.clone())
            .chain(self.databases.iter().map(|db| db.address.clone()))
            .collect();
        if !everyone.is_empty() {
            groups.entry(self.env_group()).or_insert(everyone);
        }
        groups
    }

    /// The environment's own group (`staging`; `-` made `_`).
    pub fn env_group(&self) -> String {
        crate::model::settings::env_group(&self.env.env)
    }

    /// A group's inventory variables: the scenario's for it, and for the
    /// environment's own group a priority over the role groups, so its
    /// `group_vars` file wins as an environment's settings should.
    fn group_vars(&self, group: &str) -> Option<Value> {
        let mut vars = self.vars.groups.get(group).cloned();
        if group == self.env_group() {
            vars.get_or_insert_with(Map::new)
                .insert("ansible_group_priority".into(), json!(10));
        }
        vars.map(Value::Object)
    }

    /// The hosts in `group`, by their `Group` tag or a further group.
    pub fn in_group<'a>(&'a self, group: &'a Group) -> impl Iterator<Item = &'a Host> + 'a {
        self.hosts.iter().filter(move |h| h.is_in(group))
    }

    /// Ansible's dynamic-inventory answer to `--list`.
    pub fn list(&self) -> Value {
        let mut root = Map::new();
        let groups = self.groups();
        for (group, hosts) in &groups {
            let mut entry = json!({ "hosts": hosts });
            if let Some(vars) = self.group_vars(group) {
                entry["vars"] = vars;
            }
            root.insert(group.clone(), entry);
        }
        root.insert(
            "all".into(),
            json!({ "children": groups.keys().collect::<Vec<_>>(), "vars": self.all_vars() }),
        );
        let mut hostvars = Map::new();
        for host in &self.hosts {
            hostvars.insert(host.name.clone(), self.all_host_vars(host));
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
            return self.all_host_vars(host);
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
            let mut entry = json!({ "hosts": members });
            if let Some(vars) = self.group_vars(&group) {
                entry["vars"] = vars;
            }
            children.insert(group, entry);
        }
        json!({ "all": { "vars": self.all_vars(), "children": children } })
    }
}

#[cfg(test)]
mod tests;
