//! RDS: database instances and snapshots with their tags.

use crate::{Aws, AwsError, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    pub id: String,
    pub arn: String,
    /// creating, available, deleting, ...
    pub status: String,
    pub engine: String,
    pub address: Option<String>,
    pub port: Option<i32>,
    pub tags: Tags,
}

impl DbInstance {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSnapshot {
    pub id: String,
    pub status: String,
    pub tags: Tags,
}

fn tag_pairs(tags: &[aws_sdk_rds::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

impl Aws {
    /// Every database instance, with its tags.
    pub async fn db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        let found = self
            .rds
            .describe_db_instances()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeDBInstances", e))?;
        Ok(found
            .iter()
            .map(|d| DbInstance {
                id: d.db_instance_identifier().unwrap_or_default().to_owned(),
                arn: d.db_instance_arn().unwrap_or_default().to_owned(),
                status: d.db_instance_status().unwrap_or_default().to_owned(),
                engine: d.engine().unwrap_or_default().to_owned(),
                address: d.endpoint().and_then(|e| e.address()).map(str::to_owned),
                port: d.endpoint().and_then(|e| e.port()),
                tags: tag_pairs(d.tag_list()),
            })
            .collect())
    }

    pub async fn delete_db_instance(&self, id: &str) -> Result<(), AwsError> {
        self.rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await
            .map_err(|e| AwsError::new("DeleteDBInstance", e))?;
        Ok(())
    }

    /// Manual and final snapshots this account owns, with their tags.
    pub async fn db_snapshots(&self) -> Result<Vec<DbSnapshot>, AwsError> {
        let found = self
            .rds
            .describe_db_snapshots()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeDBSnapshots", e))?;
        Ok(found
            .iter()
            .map(|s| DbSnapshot {
                id: s.db_snapshot_identifier().unwrap_or_default().to_owned(),
                status: s.status().unwrap_or_default().to_owned(),
                tags: tag_pairs(s.tag_list()),
            })
            .collect())
    }

    pub async fn delete_db_snapshot(&self, id: &str) -> Result<(), AwsError> {
        self.rds
            .delete_db_snapshot()
            .db_snapshot_identifier(id)
            .send()
            .await
            .map_err(|e| AwsError::new("DeleteDBSnapshot", e))?;
        Ok(())
    }
}
