//! What an environment is made of right now: its stack, the stack's
//! resources, and every instance and database carrying its tags.

use std::fmt;

use argos_aws::filter;
use serde::Serialize;

use super::{AwsBackend, EngineError};
use crate::model::names::{EnvName, tag_keys};

#[derive(Debug, Clone, Serialize)]
pub struct EnvStatus {
    pub stack_name: String,
    pub stack: Option<StackStatus>,
    pub instances: Vec<InstanceStatus>,
    pub databases: Vec<DatabaseStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackStatus {
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    pub resources: Vec<ResourceStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceStatus {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub physical_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub group: Option<String>,
    pub state: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseStatus {
    pub id: String,
    pub status: String,
    pub address: Option<String>,
    pub port: Option<i32>,
    pub tags: Vec<(String, String)>,
}

use argos_aws::tag;

impl AwsBackend {
    /// The running instances and the databases tagged for an environment, for its inventory.
    pub async fn inventory_sources(
        &self,
        names: &crate::model::names::EnvNames,
    ) -> Result<(Vec<argos_aws::Instance>, Vec<argos_aws::DbInstance>), EngineError> {
        let instances = self
            .aws
            .instances(&[
                filter(format!("tag:{}", tag_keys::APP), &[names.app.as_str()]),
                filter(format!("tag:{}", tag_keys::ENV), &[names.env.as_str()]),
                filter("instance-state-name", &["running"]),
            ])
            .await?;
        Ok((instances, self.aws.db_instances().await?))
    }

    /// The environment's inventory: its running instances, reached with the
    /// key pair's private key (`keys/<key_name>.pem`), and its RDS endpoint.
    pub async fn inventory(
        &self,
        project: &crate::model::project::Project,
        names: &crate::model::names::EnvNames,
        expect: crate::converge::inventory::Expect,
    ) -> Result<crate::converge::inventory::Inventory, EngineError> {
        let (instances, databases) = self.inventory_sources(names).await?;
        // On an emulator's data plane, where its stand-ins are reached.
        let (instances, databases) = match &self.data_plane {
            Some(plane) => plane.located(instances, databases),
            None => (instances, databases),
        };
        let (user, key) = self.login(project, names);
        let reach = |instance: &argos_aws::Instance| self.resolver.ssh_address(instance);
        let (mut hosts, databases) =
            crate::converge::inventory::from_aws(names, &instances, &databases, &user, &reach);
        for host in &mut hosts {
            host.vars.insert(
                "ansible_ssh_private_key_file".into(),
                key.display().to_string(),
            );
        }
        Ok(
            crate::converge::inventory::Inventory::new(names.clone(), hosts, databases, expect)?
                .reaching(self.destinations(names)),
        )
    }

    pub async fn status(&self, env: &EnvName) -> Result<EnvStatus, EngineError> {
        let names = self.names(env);
        let stack_name = names.stack();
        let stack = match self.aws.stack(&stack_name).await? {
            None => None,
            Some(stack) => Some(StackStatus {
                resources: self
                    .aws
                    .stack_resources(&stack.id)
                    .await?
                    .into_iter()
                    .map(|r| ResourceStatus {
                        logical_id: r.logical_id,
                        resource_type: r.resource_type,
                        status: r.status,
                        physical_id: r.physical_id,
                    })
                    .collect(),
                status: stack.status,
                reason: stack.reason,
                outputs: stack.outputs,
            }),
        };
        let app_filter = filter(format!("tag:{}", tag_keys::APP), &[names.app.as_str()]);
        let env_filter = filter(format!("tag:{}", tag_keys::ENV), &[names.env.as_str()]);
        let instances = self
            .aws
            .instances(&[app_filter, env_filter])
            .await?
            .into_iter()
            .filter(|i| i.state != "terminated")
            .map(|i| InstanceStatus {
                group: tag(&i.tags, tag_keys::GROUP).map(str::to_owned),
                id: i.id,
                state: i.state,
                private_ip: i.private_ip,
                public_ip: i.public_ip,
                tags: i.tags,
            })
            .collect();
        let databases = self
            .aws
            .db_instances()
            .await?
            .into_iter()
            .filter(|d| {
                d.tag(tag_keys::APP) == Some(names.app.as_str())
                    && d.tag(tag_keys::ENV) == Some(names.env.as_str())
            })
            .map(|d| DatabaseStatus {
                id: d.id,
                status: d.status,
                address: d.address,
                port: d.port,
                tags: d.tags,
            })
            .collect();
        Ok(EnvStatus {
            stack_name,
            stack,
            instances,
            databases,
        })
    }
}

impl fmt::Display for EnvStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stack {
            None => writeln!(f, "stack     {}: does not exist", self.stack_name)?,
            Some(stack) => {
                let reason = stack
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                writeln!(f, "stack     {}: {}{reason}", self.stack_name, stack.status)?;
                writeln!(f, "resources {}", stack.resources.len())?;
                for r in &stack.resources {
                    writeln!(
                        f,
                        "  {:<36} {:<44} {}",
                        r.logical_id, r.resource_type, r.status
                    )?;
                }
            }
        }
        writeln!(f, "instances {}", self.instances.len())?;
        for i in &self.instances {
            writeln!(
                f,
                "  {:<20} {:<10} {:<10} private {:<15} public {}",
                i.id,
                i.group.as_deref().unwrap_or("-"),
                i.state,
                i.private_ip.as_deref().unwrap_or("-"),
                i.public_ip.as_deref().unwrap_or("-")
            )?;
        }
        writeln!(f, "databases {}", self.databases.len())?;
        for d in &self.databases {
            let endpoint = match (&d.address, d.port) {
                (Some(address), Some(port)) => format!("{address}:{port}"),
                _ => "-".to_owned(),
            };
            writeln!(f, "  {:<30} {:<10} {endpoint}", d.id, d.status)?;
        }
        Ok(())
    }
}
