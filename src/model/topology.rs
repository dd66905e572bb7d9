//! The topology of a project: which groups an environment is made of, the
//! order they are deployed in and what each group needs. It is data, not
//! code: the `topology` list of the settings (`group_vars/all.yml`), in
//! deploy order, checked by `validate` against the groups the formations
//! tag and the playbooks in `playbooks/` ([`Topology::check_against`]).
//!
//! ```yaml
//! topology:
//!   - {group: database, singleton: true, after: []}
//!   - {group: knowledge, singleton: true, memory_mb: 3072, after: []}
//!   - {group: broker, singleton: true, when: tasks_enabled, after: []}
//!   - {group: app, baked: true, after: [database, knowledge, broker]}
//!   - {group: worker, baked: true, when: tasks_enabled, after: [database, knowledge, broker]}
//! ```
//!
//! `after` makes the deploy a dependency graph: groups that wait for
//! nothing unfinished converge at the same time. A group without `after`
//! waits for every group listed before it, so a list without any is
//! deployed one group after another, in its order.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::names::Group;

/// A resource that starts hosts of a group, and from which image (what
/// `cfn::template::images` finds in the formations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupImage {
    /// Where the resource is (formation file and line).
    pub location: String,
    pub resource: String,
    pub group: Group,
    /// The parameter its `ImageId` refers to.
    pub parameter: String,
    /// Whether that parameter carries the baked `<app>-image`.
    pub baked: bool,
}

/// One group of the topology.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub group: Group,
    /// Exactly one host, never more (a database, a broker). Other groups may scale.
    #[serde(default)]
    pub singleton: bool,
    /// A settings key that must be `true` for the group to be made (`tasks_enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Whether `when` is on in the settings read (set by the settings reader).
    #[serde(skip, default = "on")]
    #[schemars(skip)]
    pub enabled: bool,
    /// Memory of a Vagrant machine of this group, MiB (default 1024).
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// Ports something must listen on, on each of its hosts (`check` probes them).
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Its hosts start from `<app>-image`, the bake of `playbooks/image.yml`
    /// (on AWS, their formation starts them from the parameter the settings
    /// map to `{{ app_image_id }}`; local backends bake it once per content
    /// and reuse it).
    #[serde(default)]
    pub baked: bool,
    /// The groups whose deploy must finish before this one's starts; each
    /// listed before it. Absent: every group listed before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<Group>>,
}

impl GroupSpec {
    /// A group with no settings of its own (a scenario's ad-hoc group).
    pub fn plain(group: Group) -> Self {
        Self {
            group,
            singleton: false,
            when: None,
            enabled: true,
            memory_mb: None,
            ports: Vec::new(),
            baked: false,
            after: None,
        }
    }
}

fn on() -> bool {
    true
}

/// Default memory of a Vagrant machine, MiB.
pub const DEFAULT_MEMORY_MB: u32 = 1024;

/// The groups of a project, in deploy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub groups: Vec<GroupSpec>,
}

/// Where the topology and the project disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    #[error("topology[{index}]: {group} is listed twice")]
    Doubled { index: usize, group: Group },
    #[error("topology[{index}]: {group} is the engine's own group ({why}); it cannot be listed")]
    Reserved {
        index: usize,
        group: Group,
        why: &'static str,
    },
    #[error("topology[{index}].when: {key:?} is not a settings key of this file")]
    UnknownSwitch { index: usize, key: String },
    #[error(
        "topology[{index}].after: {after} is not listed before {group}: a group waits only \
         for groups above it (the list is the deploy order)"
    )]
    AfterNotAbove {
        index: usize,
        group: Group,
        after: Group,
    },
    #[error("topology[{index}]: group {group} has no playbook: add {playbook}")]
    NoPlaybook {
        index: usize,
        group: Group,
        playbook: String,
    },
    #[error(
        "{playbook}: group {group} has a playbook but is not in the settings' `topology`: \
         add `- {{group: {group}}}` where it belongs in the deploy order"
    )]
    NotListed { group: Group, playbook: String },
    #[error(
        "{formation}: resource {resource} is tagged Group={group}, which is not in the \
         settings' `topology`: add `- {{group: {group}}}` there"
    )]
    UntaggedGroup {
        formation: String,
        resource: String,
        group: Group,
    },
    #[error(
        "{formation}: resource {resource} starts {group} hosts from {parameter} on AWS, {}",
        if *listed_baked {
            format!(
                "but the settings' `topology` marks {group} `baked: true` (local hosts start \
                 from <app>-image): start it from {baked_parameter}, or drop `baked`"
            )
        } else {
            format!(
                "the baked <app>-image, but the settings' `topology` does not mark {group} \
                 `baked: true`: add it, so local hosts start from the same image"
            )
        }
    )]
    BakedDisagrees {
        formation: String,
        resource: String,
        group: Group,
        parameter: String,
        listed_baked: bool,
        /// The parameter(s) of the baked image, for the remedy.
        baked_parameter: String,
    },
}

impl Topology {
    pub fn new(groups: Vec<GroupSpec>) -> Self {
        Self { groups }
    }

    /// The groups in deploy order: what others depend on first.
    pub fn deploy_order(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().map(|g| &g.group)
    }

    pub fn get(&self, group: &Group) -> Option<&GroupSpec> {
        self.groups.iter().find(|g| &g.group == group)
    }

    pub fn knows(&self, group: &Group) -> bool {
        self.get(group).is_some()
    }

    /// Groups that never hold more than one host.
    pub fn singletons(&self) -> Vec<Group> {
        self.groups
            .iter()
            .filter(|g| g.singleton)
            .map(|g| g.group.clone())
            .collect()
    }

    /// The groups a whole environment has: those whose `when` switch is on.
    pub fn environment_groups(&self) -> Vec<Group> {
        self.groups
            .iter()
            .filter(|g| g.enabled)
            .map(|g| g.group.clone())
            .collect()
    }

    /// A Vagrant machine's memory for `group`.
    pub fn memory_mb(&self, group: &Group) -> u32 {
        self.get(group)
            .and_then(|g| g.memory_mb)
            .unwrap_or(DEFAULT_MEMORY_MB)
    }

    /// Whether hosts of `group` start from the baked `<app>-image`.
    pub fn is_baked(&self, group: &Group) -> bool {
        self.get(group).is_some_and(|g| g.baked)
    }

    /// The groups `group` waits for before its deploy starts: its `after`,
    /// else every group listed before it. A group the topology does not
    /// list (a scenario's own) waits for every listed group.
    pub fn waits_for(&self, group: &Group) -> Vec<Group> {
        let index = self.groups.iter().position(|g| &g.group == group);
        match index {
            Some(index) => match &self.groups[index].after {
                Some(after) => after.clone(),
                None => self.groups[..index]
                    .iter()
                    .map(|g| g.group.clone())
                    .collect(),
            },
            None => self.groups.iter().map(|g| g.group.clone()).collect(),
        }
    }

    /// `groups` in waves: each wave's groups wait only for groups of the
    /// waves before it, so a wave's groups can converge at the same time.
    /// Waiting for a group that is not in `groups` (not deployed this time)
    /// is no wait. Groups keep their deploy order within a wave.
    pub fn deploy_waves(&self, groups: &[Group]) -> Vec<Vec<Group>> {
        let ordered = self.in_deploy_order(groups);
        let mut waves: Vec<Vec<Group>> = Vec::new();
        let mut wave_of: BTreeMap<&Group, usize> = BTreeMap::new();
        for group in &ordered {
            let wave = self
                .waits_for(group)
                .iter()
                .filter_map(|before| wave_of.get(before).map(|w| w + 1))
                .max()
                .unwrap_or(0);
            wave_of.insert(group, wave);
            if waves.len() <= wave {
                waves.resize(wave + 1, Vec::new());
            }
            waves[wave].push(group.clone());
        }
        waves
    }

    /// `groups` sorted into deploy order; groups the topology does not list
    /// (a scenario's own) go last, in the order given.
    pub fn in_deploy_order(&self, groups: &[Group]) -> Vec<Group> {
        let mut ordered: Vec<Group> = self
            .deploy_order()
            .filter(|g| groups.contains(g))
            .cloned()
            .collect();
        for group in groups {
            if !ordered.contains(group) {
                ordered.push(group.clone());
            }
        }
        ordered
    }

    /// The rules within the list: no group twice, not the engine's own
    /// groups, `when` naming a key of the file (`has_key`).
    pub fn check(&self, has_key: impl Fn(&str) -> bool) -> Result<(), TopologyError> {
        for (index, spec) in self.groups.iter().enumerate() {
            let group = spec.group.clone();
            if self.groups[..index].iter().any(|g| g.group == group) {
                return Err(TopologyError::Doubled { index, group });
            }
            if group == Group::NETWORK {
                return Err(TopologyError::Reserved {
                    index,
                    group,
                    why: "the environment's network",
                });
            }
            if group == Group::IMAGE {
                return Err(TopologyError::Reserved {
                    index,
                    group,
                    why: "the image bake, converged by playbooks/image.yml",
                });
            }
            if let Some(key) = &spec.when
                && !has_key(key)
            {
                return Err(TopologyError::UnknownSwitch {
                    index,
                    key: key.clone(),
                });
            }
            // Only groups above: the list stays a deploy order, and no
            // group can wait for itself through others.
            for after in spec.after.iter().flatten() {
                if !self.groups[..index].iter().any(|g| &g.group == after) {
                    return Err(TopologyError::AfterNotAbove {
                        index,
                        group,
                        after: after.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every group has a playbook `playbooks/<group>.yml`, and every
    /// playbook but `image.yml` names a listed group. `formation_groups`
    /// are the groups the formations tag, as (formation, resource, group).
    /// `baked_parameters` are the parameters the settings map to
    /// `{{ app_image_id }}`.
    pub fn check_against(
        &self,
        playbooks: &Path,
        formation_groups: &[(String, String, Group)],
        images: &[GroupImage],
        baked_parameters: &[&str],
    ) -> Vec<TopologyError> {
        let mut problems = Vec::new();
        for (index, spec) in self.groups.iter().enumerate() {
            let playbook = playbooks.join(format!("{}.yml", spec.group));
            if !playbook.is_file() {
                problems.push(TopologyError::NoPlaybook {
                    index,
                    group: spec.group.clone(),
                    playbook: playbook.display().to_string(),
                });
            }
        }
        for group in playbook_groups(playbooks) {
            if group != Group::IMAGE && !self.knows(&group) {
                problems.push(TopologyError::NotListed {
                    playbook: playbooks.join(format!("{group}.yml")).display().to_string(),
                    group,
                });
            }
        }
        for (formation, resource, group) in formation_groups {
            if *group != Group::IMAGE && *group != Group::NETWORK && !self.knows(group) {
                problems.push(TopologyError::UntaggedGroup {
                    formation: formation.clone(),
                    resource: resource.clone(),
                    group: group.clone(),
                });
            }
        }
        for image in images {
            if self.knows(&image.group) && self.is_baked(&image.group) != image.baked {
                problems.push(TopologyError::BakedDisagrees {
                    formation: image.location.clone(),
                    resource: image.resource.clone(),
                    group: image.group.clone(),
                    parameter: image.parameter.clone(),
                    listed_baked: self.is_baked(&image.group),
                    baked_parameter: if baked_parameters.is_empty() {
                        "a parameter the settings map to \"{{ app_image_id }}\"".into()
                    } else {
                        baked_parameters.join(" or ")
                    },
                });
            }
        }
        problems.dedup();
        problems
    }
}

/// The groups that have a playbook: `playbooks/<group>.yml`, whose stem is a group name.
pub fn playbook_groups(playbooks: &Path) -> Vec<Group> {
    let mut groups: Vec<Group> = std::fs::read_dir(playbooks)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "yml").then_some(())?;
            Group::parse(path.file_stem()?.to_str()?)
        })
        .collect();
    groups.sort();
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str) -> Group {
        Group::new(name).unwrap()
    }

    fn topology(text: &str) -> Topology {
        Topology::new(serde_norway::from_str(text).unwrap())
    }

    const ARGOS: &str = "
- {group: database, singleton: true}
- {group: knowledge, singleton: true, memory_mb: 3072}
- {group: broker, singleton: true, when: tasks_enabled}
- {group: app}
- {group: worker, when: tasks_enabled}
";

    #[test]
    fn the_order_and_the_settings_of_each_group_are_data() {
        let topology = topology(ARGOS);
        let order: Vec<&str> = topology.deploy_order().map(Group::as_str).collect();
        assert_eq!(order, ["database", "knowledge", "broker", "app", "worker"]);
        assert_eq!(
            topology.singletons(),
            [group("database"), group("knowledge"), group("broker")]
        );
        assert_eq!(topology.memory_mb(&group("knowledge")), 3072);
        assert_eq!(topology.memory_mb(&group("app")), DEFAULT_MEMORY_MB);
        assert_eq!(topology.environment_groups().len(), 5);
        let mut off = topology.clone();
        for spec in &mut off.groups {
            spec.enabled = spec.when.is_none();
        }
        assert_eq!(
            off.environment_groups(),
            [group("database"), group("knowledge"), group("app")]
        );
        assert_eq!(
            topology.in_deploy_order(&[group("collector"), group("app"), group("database")]),
            [group("database"), group("app"), group("collector")]
        );
    }

    #[test]
    fn a_group_twice_or_the_engines_own_or_an_unknown_switch_is_an_error() {
        let doubled = topology("[{group: app}, {group: app}]");
        assert!(matches!(
            doubled.check(|_| true),
            Err(TopologyError::Doubled { index: 1, .. })
        ));
        let network = topology("[{group: network}]");
        assert!(matches!(
            network.check(|_| true),
            Err(TopologyError::Reserved { index: 0, .. })
        ));
        let switch = topology("[{group: app, when: taks_enabled}]");
        let error = switch.check(|k| k == "tasks_enabled").unwrap_err();
        assert_eq!(
            error.to_string(),
            "topology[0].when: \"taks_enabled\" is not a settings key of this file"
        );
        topology(ARGOS).check(|k| k == "tasks_enabled").unwrap();
        let below = topology("[{group: app, after: [database]}, {group: database}]");
        assert_eq!(
            below.check(|_| true).unwrap_err().to_string(),
            "topology[0].after: database is not listed before app: a group waits only \
             for groups above it (the list is the deploy order)"
        );
        let itself = topology("[{group: app, after: [app]}]");
        assert!(matches!(
            itself.check(|_| true),
            Err(TopologyError::AfterNotAbove { index: 0, .. })
        ));
    }

    #[test]
    fn groups_that_wait_for_nothing_unfinished_deploy_in_one_wave() {
        let names = |waves: Vec<Vec<Group>>| -> Vec<Vec<String>> {
            waves
                .iter()
                .map(|w| w.iter().map(ToString::to_string).collect())
                .collect()
        };
        let graph = topology(
            "
- {group: database, after: []}
- {group: knowledge, after: []}
- {group: broker, after: []}
- {group: app, baked: true, after: [database, knowledge, broker]}
- {group: worker, baked: true, after: [database, broker]}
",
        );
        let all: Vec<Group> = graph.deploy_order().cloned().collect();
        assert_eq!(
            names(graph.deploy_waves(&all)),
            [
                vec!["database", "knowledge", "broker"],
                vec!["app", "worker"]
            ]
        );
        // Waiting for a group not deployed this time is no wait.
        assert_eq!(
            names(graph.deploy_waves(&[group("app"), group("knowledge")])),
            [vec!["knowledge"], vec!["app"]]
        );
        assert_eq!(
            names(graph.deploy_waves(&[group("worker")])),
            [vec!["worker"]]
        );
        assert!(graph.is_baked(&group("app")) && !graph.is_baked(&group("database")));
        // No `after` anywhere: one group after another, as listed; a
        // scenario's own group goes last.
        let plain = topology(ARGOS);
        let order = [group("app"), group("collector"), group("database")];
        assert_eq!(
            names(plain.deploy_waves(&order)),
            [vec!["database"], vec!["app"], vec!["collector"]]
        );
    }

    #[test]
    fn an_unknown_field_or_a_bad_group_name_is_refused_by_the_reader() {
        let unknown = serde_norway::from_str::<Vec<GroupSpec>>("[{group: app, singleto: true}]");
        assert!(unknown.unwrap_err().to_string().contains("singleto"));
        let hyphen = serde_norway::from_str::<Vec<GroupSpec>>("[{group: my-app}]");
        assert!(
            hyphen
                .unwrap_err()
                .to_string()
                .contains("Ansible group name"),
            "a hyphen is refused with the reason"
        );
    }

    #[test]
    fn playbooks_and_formations_must_agree_with_the_list() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["app.yml", "collector.yml", "image.yml", "README.md"] {
            std::fs::write(dir.path().join(name), "---\n").unwrap();
        }
        let topology = topology("[{group: app}, {group: database}]");
        let formations = vec![(
            "formations/collector.json".to_owned(),
            "CollectorInstance".to_owned(),
            group("collector"),
        )];
        let problems: Vec<String> = topology
            .check_against(dir.path(), &formations, &[], &[])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("topology[1]: group database has no playbook"));
        assert!(problems[1].contains("collector.yml: group collector has a playbook"));
        assert!(problems[2].starts_with(
            "formations/collector.json: resource CollectorInstance is tagged Group=collector"
        ));
    }

    #[test]
    fn the_baked_groups_start_from_the_baked_image_on_aws_too() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["app.yml", "worker.yml", "knowledge.yml"] {
            std::fs::write(dir.path().join(name), "---\n").unwrap();
        }
        let topology = topology(
            "[{group: knowledge, baked: true}, {group: app, baked: true}, {group: worker}]",
        );
        let image = |resource: &str, g: &str, parameter: &str| GroupImage {
            location: format!("formations/{g}.json:7"),
            resource: resource.to_owned(),
            group: group(g),
            parameter: parameter.to_owned(),
            baked: parameter == "AppImageId",
        };
        let images = [
            image("AppInstance", "app", "AppImageId"),
            image("KnowledgeInstance", "knowledge", "BaseImageId"),
            image("WorkerLaunchTemplate", "worker", "AppImageId"),
        ];
        let problems: Vec<String> = topology
            .check_against(dir.path(), &[], &images, &["AppImageId"])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "formations/knowledge.json:7: resource KnowledgeInstance starts knowledge hosts from \
                 BaseImageId on AWS, but the settings' `topology` marks knowledge `baked: true` \
                 (local hosts start from <app>-image): start it from AppImageId, or drop `baked`",
                "formations/worker.json:7: resource WorkerLaunchTemplate starts worker hosts from \
                 AppImageId on AWS, the baked <app>-image, but the settings' `topology` does not \
                 mark worker `baked: true`: add it, so local hosts start from the same image",
            ]
        );
    }
}
