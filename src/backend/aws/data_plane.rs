//! The emulator's data plane. On an AWS emulator nothing boots: here every
//! instance the emulated stack runs gets a systemd host container, and
//! every RDS database a PostgreSQL host converged with the database role,
//! as on the Docker backend. The control plane stays the emulator's; these
//! hosts only stand in for what it says exists.
//!
//! - An instance's host starts from the image its AMI stands for: the base
//!   AMI is the local host image; an AMI baked here is the commit of its
//!   bake host (`argos-ami:<ami id>`).
//! - Hosts carry the environment's labels (as the Docker backend's hosts
//!   do), the run's, the emulator's endpoint and the id of the instance or
//!   database they stand in for: the inventory finds their addresses by it,
//!   and decommission and sweep remove them by the same labels.
//! - Not emulated: security groups (containers on one network reach each
//!   other on every port) and instance types (no memory limit). `validate`
//!   keeps checking both statically.

use std::net::IpAddr;

use argos_aws::{DbInstance, Instance, tag};
use serde_json::{Map, Value};

use crate::backend::containers::{Containers, DockerError, HOST_IMAGE};
use crate::backend::{HostSpec, Labelled};
use crate::converge::bake::Provisioner;
use crate::converge::deploy::{self, DeployRequest, Playbooks, RunKnownHosts};
use crate::converge::destinations::Subnet;
use crate::converge::inventory::Expect;
use crate::model::names::{EnvName, EnvNames, Group, tag_keys};
use crate::sys::progress::Event;

/// The label naming the EC2 instance a host stands in for.
pub const INSTANCE_LABEL: &str = "argos.instance-id";
/// The label naming the RDS instance a PostgreSQL host stands in for.
pub const DATABASE_LABEL: &str = "argos.db-instance";
/// The label naming the emulator (its endpoint) whose machine a host
/// stands in for: a sweep judges only its own emulator's stand-ins.
pub const EMULATOR_LABEL: &str = "argos.emulator";
/// The label naming the AMI an image is the local copy of.
pub const AMI_LABEL: &str = "argos.ami";
/// Where the local copies of AMIs baked here live: `argos-ami:<ami id>`.
const AMI_REPOSITORY: &str = "argos-ami";
/// PostgreSQL's port on a database stand-in, as RDS reports it.
const POSTGRES_PORT: i32 = 5432;

/// The containers standing in for an emulated stack's machines.
#[derive(Debug, Clone)]
pub struct DataPlane {
    /// Makes, finds and removes the hosts (with the run's labels).
    pub docker: Containers,
    /// The AMI the settings name as the base image: the local host image.
    pub base_ami: String,
    /// The emulator's endpoint, on every stand-in's label.
    pub endpoint: String,
}

impl DataPlane {
    /// The data plane of the emulator at `endpoint` (loopback: on AWS the
    /// machines are real, and asking for stand-ins there is an error).
    pub fn for_emulator(
        endpoint: Option<&str>,
        project: &crate::model::project::Project,
        settings: &crate::model::settings::Settings,
        progress: &crate::sys::progress::Progress,
        run: Option<crate::model::names::RunTags>,
    ) -> Result<Self, String> {
        match endpoint {
            Some(endpoint) if super::is_loopback(endpoint) => Ok(Self {
                docker: Containers {
                    project: project.clone(),
                    settings: settings.clone(),
                    progress: progress.clone(),
                    run,
                    bake_vars: Map::new(),
                },
                base_ami: settings.access.base_ami.clone(),
                endpoint: endpoint.to_owned(),
            }),
            _ => Err(
                "--data-plane gives an AWS emulator's instances hosts (--endpoint on this \
                 machine); on AWS they are real"
                    .into(),
            ),
        }
    }

    fn stand_in(
        &self,
        group: &Group,
        alike: usize,
        id: &str,
        label: &str,
        image: String,
    ) -> HostSpec {
        stand_in(group, alike, id, label, image, &self.endpoint)
    }

    /// This emulator's stand-ins, as a `docker ps` filter.
    fn ours(&self) -> String {
        format!("label={EMULATOR_LABEL}={}", self.endpoint)
    }

    /// The local image `ami` stands for; an AMI baked without the data
    /// plane has none, which is an error naming the remedy.
    pub fn image_for(&self, ami: Option<&str>) -> Result<String, DockerError> {
        match ami {
            None => Ok(HOST_IMAGE.to_owned()),
            Some(ami) if ami == self.base_ami => Ok(HOST_IMAGE.to_owned()),
            Some(ami) => {
                let image = ami_image(ami);
                let found = crate::backend::containers::docker_lines(&[
                    "image",
                    "ls",
                    "-q",
                    "--filter",
                    &format!("reference={image}"),
                ])?;
                if found.is_empty() {
                    return Err(DockerError::StandIn {
                        what: format!("AMI {ami}"),
                        reason: format!(
                            "no local image {image} stands for it (it was baked without the data \
                             plane): `argos-cloud --backend aws ENV clean --yes` removes the AMI, \
                             and the next commission bakes it anew"
                        ),
                    });
                }
                Ok(image)
            }
        }
    }

    /// Hosts for the running instances and the databases of `env` that have
    /// none yet; each database host is converged with the database role
    /// (the master user and password the stack asked for are the settings'
    /// `db_user` and `db_pass`, as for RDS).
    pub async fn place(
        &self,
        env: &EnvName,
        instances: &[Instance],
        databases: &[DbInstance],
        provisioner: &Provisioner,
    ) -> Result<usize, DockerError> {
        let names = self.docker.names(env);
        let placed = self.placed(&names)?;
        let mut hosts = Vec::new();
        let mut database_groups = Vec::new();
        for want in wanted(&names, instances, databases, &placed) {
            if want.label == DATABASE_LABEL && !database_groups.contains(&want.group) {
                database_groups.push(want.group.clone());
            }
            hosts.push(self.stand_in(
                &want.group,
                want.alike,
                want.id,
                want.label,
                self.image_for(want.ami)?,
            ));
        }
        if hosts.is_empty() {
            return Ok(0);
        }
        self.docker.progress.emit(Event::StandInsPlacing {
            hosts: hosts.len(),
            stack: names.stack(),
        });
        self.docker.stand_in_hosts(env, &hosts)?;
        if !database_groups.is_empty() {
            self.converge_databases(env, &database_groups, provisioner)
                .await?;
        }
        Ok(hosts.len())
    }

    /// The database role on the environment's database stand-ins.
    async fn converge_databases(
        &self,
        env: &EnvName,
        groups: &[Group],
        provisioner: &Provisioner,
    ) -> Result<(), DockerError> {
        let names = self.docker.names(env);
        let mut inventory = self.docker.inventory(env, Expect::anything())?;
        inventory.hosts.retain(|h| groups.contains(&h.group));
        let known_hosts =
            RunKnownHosts::new(&provisioner.project, &format!("dp-{}", names.stack()));
        let request = DeployRequest {
            project: &provisioner.project,
            inventory: &inventory,
            topology: &self.docker.settings.topology,
            playbooks: Playbooks::roles(&groups.iter().map(Group::as_str).collect::<Vec<_>>()),
            roles_path: Vec::new(),
            collections_path: Vec::new(),
            environment: Vec::new(),
            extra_vars: crate::profile::argos::with_standins(provisioner.extra_vars.clone()),
            host_keys: known_hosts.host_keys(),
            log_dir: provisioner.project.path(".argos/logs"),
            reach_timeout: provisioner.reach_timeout,
            strategy: self.docker.settings.ansible_strategy,
            masters: None,
            progress: self.docker.progress.clone(),
        };
        let report = deploy::deploy(&provisioner.ansible, &request)
            .await
            .map_err(|e| DockerError::StandIn {
                what: "converging the database stand-in".into(),
                reason: e.to_string(),
            })?;
        if !report.succeeded() {
            return Err(DockerError::StandIn {
                what: "converging the database stand-in".into(),
                reason: report.to_string(),
            });
        }
        Ok(())
    }

    /// What of `names`'s environment already has a host: (label, id) pairs.
    fn placed(&self, names: &EnvNames) -> Result<Vec<(&'static str, String)>, DockerError> {
        let mut placed = Vec::new();
        for label in [INSTANCE_LABEL, DATABASE_LABEL] {
            let env = [
                format!("label={}={}", tag_keys::APP, names.app),
                format!("label={}={}", tag_keys::ENV, names.env),
            ];
            for (_, id) in self.stand_ins(label, &env)? {
                placed.push((label, id));
            }
        }
        Ok(placed)
    }

    /// This emulator's stand-ins by `label` (and `filters`): each one's
    /// container name and the id it stands in for.
    fn stand_ins(
        &self,
        label: &str,
        filters: &[String],
    ) -> Result<Vec<(String, String)>, DockerError> {
        let format = format!("{{{{.Names}}}} {{{{.Label \"{label}\"}}}}");
        let mut args = vec![
            "ps".to_owned(),
            "-a".to_owned(),
            "--filter".to_owned(),
            format!("label={label}"),
            "--filter".to_owned(),
            self.ours(),
            "--format".to_owned(),
            format,
        ];
        for filter in filters {
            args.extend(["--filter".to_owned(), filter.clone()]);
        }
        Ok(crate::backend::containers::docker_lines(&args)?
            .into_iter()
            .filter_map(|line| {
                let (container, id) = line.split_once(' ')?;
                Some((container.to_owned(), id.to_owned()))
            })
            .collect())
    }

    /// The address of the host standing in for `id` (an instance or a
    /// database, by `label`), on its environment's network.
    pub fn address(&self, label: &str, id: &str) -> Option<String> {
        let containers = crate::backend::containers::docker_lines(&[
            "ps",
            "-q",
            "--filter",
            &format!("label={label}={id}"),
            "--filter",
            &self.ours(),
        ])
        .ok()?;
        let container = containers.first()?;
        let addresses = crate::backend::containers::docker_lines(&[
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}\n{{end}}",
            container,
        ])
        .ok()?;
        addresses.into_iter().find(|a| a.parse::<IpAddr>().is_ok())
    }

    /// The instances and databases as they are reached here: each one with
    /// a stand-in at its container's address (private, no public one), an
    /// RDS endpoint at its PostgreSQL host. One without a stand-in keeps
    /// the emulator's invented address, which the destinations refuse.
    pub fn located(
        &self,
        instances: Vec<Instance>,
        databases: Vec<DbInstance>,
    ) -> (Vec<Instance>, Vec<DbInstance>) {
        let instances = instances
            .into_iter()
            .map(|mut instance| {
                if let Some(address) = self.address(INSTANCE_LABEL, &instance.id) {
                    instance.private_ip = Some(address);
                    instance.public_ip = None;
                    instance.private_dns = None;
                    instance.public_dns = None;
                }
                instance
            })
            .collect();
        let databases = databases
            .into_iter()
            .map(|mut database| {
                if let Some(address) = self.address(DATABASE_LABEL, &database.id) {
                    database.address = Some(address);
                    database.port = Some(POSTGRES_PORT);
                }
                database
            })
            .collect();
        (instances, databases)
    }

    /// The environment's network, the one range its hosts may be reached in.
    pub fn subnet(&self, names: &EnvNames) -> Option<Subnet> {
        let network = names.resource(Group::NETWORK);
        crate::backend::containers::docker_lines(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}}\n{{end}}",
            &network,
        ])
        .ok()?
        .iter()
        .find_map(|cidr| Subnet::parse(cidr))
    }

    /// The bake instance's host: on the environment's network, labelled
    /// only with the instance's id (a commit copies a container's labels
    /// into the image, and from there into every host started from it).
    pub fn place_bake_host(&self, env: &EnvName, instance: &Instance) -> Result<(), DockerError> {
        let image = self.image_for(instance.image_id.as_deref())?;
        self.docker.stand_in_bake_host(
            env,
            &bake_container(&instance.id),
            &[
                (INSTANCE_LABEL.to_owned(), instance.id.clone()),
                (EMULATOR_LABEL.to_owned(), self.endpoint.clone()),
            ],
            &image,
        )
    }

    /// The bake host, committed as the local copy of `ami`.
    pub fn commit_bake_host(&self, instance_id: &str, ami: &str) -> Result<String, DockerError> {
        let image = ami_image(ami);
        self.docker
            .commit_host(&bake_container(instance_id), &image, &[(AMI_LABEL, ami)])?;
        Ok(image)
    }

    // Removals are cleanup: a signal that ended the run does not end them
    // (they may run on the AWS adapter's thread, outside the caller's
    // cleanup).

    /// The bake host gone, whatever happened to the bake.
    pub fn remove_bake_host(&self, instance_id: &str) {
        crate::sys::signal::cleanup(|| {
            let _ = crate::backend::containers::docker_lines(&[
                "rm",
                "-f",
                "-v",
                &bake_container(instance_id),
            ]);
        });
    }

    /// The local copy of `ami`, when the AMI goes.
    pub fn remove_ami_image(&self, ami: &str) {
        crate::sys::signal::cleanup(|| {
            let _ =
                crate::backend::containers::docker_lines(&["image", "rm", "-f", &ami_image(ami)]);
        });
    }

    /// Every stand-in of `env` (and its network) gone: what was removed.
    pub fn remove(&self, env: &EnvName) -> Result<usize, DockerError> {
        crate::sys::signal::cleanup(|| self.docker.decommission(env))
    }

    /// This emulator's hosts standing in for instances or databases it no
    /// longer has (a stack deleted behind the harness's back), removed.
    /// Another emulator's stand-ins are not this one's to judge.
    pub fn remove_orphans(
        &self,
        instances: &[Instance],
        databases: &[DbInstance],
    ) -> Result<Vec<Labelled>, DockerError> {
        let mut removed = Vec::new();
        for (label, alive) in [
            (
                INSTANCE_LABEL,
                instances
                    .iter()
                    .filter(|i| i.state != "terminated")
                    .map(|i| i.id.clone())
                    .collect::<Vec<_>>(),
            ),
            (
                DATABASE_LABEL,
                databases.iter().map(|d| d.id.clone()).collect(),
            ),
        ] {
            for (container, id) in self.stand_ins(label, &[])? {
                if !alive.contains(&id) {
                    crate::backend::containers::docker_lines(&["rm", "-f", "-v", &container])?;
                    removed.push(Labelled {
                        kind: "container",
                        name: container,
                        labels: [(label.to_owned(), id)].into(),
                    });
                }
            }
        }
        Ok(removed)
    }

    /// A sweep of the stand-ins: this emulator's whose instance or database
    /// is gone (`instances`, `databases`: all it has), then the run's (or
    /// the expired ones) by label, with their networks.
    pub fn sweep(
        &self,
        run: Option<&str>,
        now: std::time::SystemTime,
        instances: &[Instance],
        databases: &[DbInstance],
    ) -> Result<crate::backend::SweepReport, DockerError> {
        let orphans = self.remove_orphans(instances, databases)?;
        let mut report = self.docker.sweep(run, now)?;
        report.removed.extend(orphans);
        Ok(report)
    }

    /// What Ansible sees on these hosts: the stand-ins for what needs the
    /// internet, as on the Docker backend.
    pub fn ansible_vars(&self, vars: Map<String, Value>) -> Map<String, Value> {
        crate::profile::argos::with_standins(vars)
    }
}

/// A machine of the environment that still needs a host.
#[derive(Debug, PartialEq, Eq)]
struct Wanted<'a> {
    group: Group,
    id: &'a str,
    /// [`INSTANCE_LABEL`] or [`DATABASE_LABEL`].
    label: &'static str,
    /// How many machines of the environment share its group (placed or
    /// not, so a host added later never takes an existing host's name).
    alike: usize,
    /// The AMI an instance runs; none for a database.
    ami: Option<&'a str>,
}

/// An instance or a database: its label, id, tags and AMI.
type Machine<'a> = (
    &'static str,
    &'a str,
    &'a [(String, String)],
    Option<&'a str>,
);

/// What of `names`'s environment has no host yet: its running instances
/// and its databases (RDS is listed whole) not in `placed`.
fn wanted<'a>(
    names: &EnvNames,
    instances: &'a [Instance],
    databases: &'a [DbInstance],
    placed: &[(&str, String)],
) -> Vec<Wanted<'a>> {
    let ours = |tags: &[(String, String)]| {
        tag(tags, tag_keys::APP) == Some(names.app.as_str())
            && tag(tags, tag_keys::ENV) == Some(names.env.as_str())
    };
    let group_of = |tags: &[(String, String)]| tag(tags, tag_keys::GROUP).and_then(Group::parse);
    let machines: Vec<Machine<'a>> = instances
        .iter()
        .filter(|i| i.state == "running" && ours(&i.tags))
        .map(|i| {
            (
                INSTANCE_LABEL,
                i.id.as_str(),
                &i.tags[..],
                i.image_id.as_deref(),
            )
        })
        .chain(
            databases
                .iter()
                .filter(|d| ours(&d.tags))
                .map(|d| (DATABASE_LABEL, d.id.as_str(), &d.tags[..], None)),
        )
        .collect();
    machines
        .iter()
        .filter(|(label, id, _, _)| !placed.iter().any(|(l, p)| l == label && p == id))
        .filter_map(|&(label, id, tags, ami)| {
            let group = group_of(tags)?;
            let alike = machines
                .iter()
                .filter(|(l, _, t, _)| *l == label && group_of(t).as_ref() == Some(&group))
                .count();
            Some(Wanted {
                group,
                id,
                label,
                alike,
                ami,
            })
        })
        .collect()
}

/// A host standing in for `id` of `group`, named after the group (after
/// the group and the id's end when `alike` hosts share the group), of the
/// emulator at `endpoint`.
fn stand_in(
    group: &Group,
    alike: usize,
    id: &str,
    label: &str,
    image: String,
    endpoint: &str,
) -> HostSpec {
    let base = group.as_str().replace('_', "-");
    let name = if alike > 1 {
        let end: String = id
            .chars()
            .rev()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
            .to_ascii_lowercase();
        format!("{base}-{end}")
    } else {
        base
    };
    HostSpec {
        name,
        group: group.clone(),
        groups: Vec::new(),
        image: Some(image),
        memory_mb: 0,
        published_ports: Vec::new(),
        docker_args: vec![
            "--label".to_owned(),
            format!("{label}={id}"),
            "--label".to_owned(),
            format!("{EMULATOR_LABEL}={endpoint}"),
        ],
    }
}

fn ami_image(ami: &str) -> String {
    format!("{AMI_REPOSITORY}:{ami}")
}

fn bake_container(instance_id: &str) -> String {
    format!("argos-ami-bake-{instance_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::names::AppName;

    fn tags(env: &str, group: &str) -> Vec<(String, String)> {
        [("App", "argos"), ("Env", env), ("Group", group)]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
    }

    fn instance(id: &str, env: &str, group: &str, state: &str) -> Instance {
        Instance {
            id: id.into(),
            state: state.into(),
            tags: tags(env, group),
            image_id: Some("ami-app".into()),
            instance_type: None,
            private_ip: None,
            public_ip: None,
            private_dns: None,
            public_dns: None,
        }
    }

    fn database(id: &str, env: &str) -> DbInstance {
        DbInstance {
            id: id.into(),
            arn: String::new(),
            status: "available".into(),
            engine: "postgres".into(),
            address: None,
            port: None,
            tags: tags(env, "database"),
        }
    }

    #[test]
    fn only_this_environments_running_machines_without_a_host_are_wanted() {
        let names = EnvNames::new(AppName::new("argos").unwrap(), EnvName::new("b").unwrap());
        let instances = [
            instance("i-a1", "a", "app", "running"),
            instance("i-b1", "b", "app", "running"),
            instance("i-b2", "b", "worker", "running"),
            instance("i-b3", "b", "worker", "running"),
            instance("i-b4", "b", "worker", "terminated"),
        ];
        let databases = [database("db-a", "a"), database("db-b", "b")];
        let placed = [(INSTANCE_LABEL, "i-b2".to_owned())];
        let wanted: Vec<(&str, &str, usize, Option<&str>)> =
            wanted(&names, &instances, &databases, &placed)
                .iter()
                .map(|w| (w.label, w.id, w.alike, w.ami))
                .collect();
        assert_eq!(
            wanted,
            [
                (INSTANCE_LABEL, "i-b1", 1, Some("ami-app")),
                // Its placed twin still counts: the names stay apart.
                (INSTANCE_LABEL, "i-b3", 2, Some("ami-app")),
                (DATABASE_LABEL, "db-b", 1, None),
            ]
        );
    }

    #[test]
    fn a_stand_in_is_named_after_its_group_and_labelled_with_what_it_stands_for() {
        let app = Group::parse("app").unwrap();
        let one = stand_in(
            &app,
            1,
            "i-0abc123def4567890",
            INSTANCE_LABEL,
            "img".into(),
            "http://127.0.0.1:5000",
        );
        assert_eq!(one.name, "app");
        assert_eq!(
            one.docker_args,
            [
                "--label",
                "argos.instance-id=i-0abc123def4567890",
                "--label",
                "argos.emulator=http://127.0.0.1:5000"
            ]
        );
        let worker = Group::parse("worker").unwrap();
        let two = stand_in(
            &worker,
            2,
            "i-0abc123def4567890",
            INSTANCE_LABEL,
            "img".into(),
            "e",
        );
        assert_eq!(two.name, "worker-f4567890");
        assert_eq!(two.image.as_deref(), Some("img"));
    }
}
