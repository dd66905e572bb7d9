//! EC2: instances, images, snapshots and security groups, found by tag filters.

use aws_sdk_ec2::types::{Filter as Ec2Filter, IpPermission, ResourceType, Tag, TagSpecification};

use crate::{Aws, AwsError, Filter, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// pending, running, stopping, stopped, shutting-down, terminated.
    pub state: String,
    pub tags: Tags,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub private_dns: Option<String>,
    pub public_dns: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    /// pending, available, failed, ...
    pub state: String,
    pub tags: Tags,
    pub snapshot_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub state: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub tags: Tags,
    /// Inbound rules from address ranges (IPv4 and IPv6), one per range;
    /// rules whose source is another security group are not listed.
    pub ingress: Vec<IngressRule>,
}

/// One inbound rule from one address range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRule {
    /// `tcp`, `udp`, `icmp`, or `-1` for every protocol.
    pub protocol: String,
    /// The port range; `None` for every port (protocol `-1`).
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidr: String,
    pub description: Option<String>,
}

impl IngressRule {
    /// Whether the rule admits TCP on `port`.
    pub fn admits_tcp(&self, port: i32) -> bool {
        match self.protocol.as_str() {
            "-1" => true,
            "tcp" | "6" => {
                self.from_port.is_none_or(|from| from <= port)
                    && self.to_port.is_none_or(|to| port <= to)
            }
            _ => false,
        }
    }
}

fn filters(values: &[Filter]) -> Vec<Ec2Filter> {
    values
        .iter()
        .map(|(name, values)| {
            Ec2Filter::builder()
                .name(name)
                .set_values(Some(values.clone()))
                .build()
        })
        .collect()
}

fn tag_pairs(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

impl Aws {
    pub async fn instances(&self, filter: &[Filter]) -> Result<Vec<Instance>, AwsError> {
        let reservations = self
            .ec2
            .describe_instances()
            .set_filters(Some(filters(filter)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeInstances", e))?;
        Ok(reservations
            .iter()
            .flat_map(|r| r.instances())
            .map(|i| Instance {
                id: i.instance_id().unwrap_or_default().to_owned(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
                tags: tag_pairs(i.tags()),
                image_id: non_empty(i.image_id()),
                instance_type: i.instance_type().map(|t| t.as_str().to_owned()),
                private_ip: non_empty(i.private_ip_address()),
                public_ip: non_empty(i.public_ip_address()),
                private_dns: non_empty(i.private_dns_name()),
                public_dns: non_empty(i.public_dns_name()),
            })
            .collect())
    }

    pub async fn terminate_instances(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.ec2
            .terminate_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::new("TerminateInstances", e))?;
        Ok(())
    }

    /// Images this account owns that match `filter`, every page of them.
    pub async fn images(&self, filter: &[Filter]) -> Result<Vec<Image>, AwsError> {
        let images = self
            .ec2
            .describe_images()
            .owners("self")
            .set_filters(Some(filters(filter)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeImages", e))?;
        Ok(images
            .iter()
            .map(|i| Image {
                id: i.image_id().unwrap_or_default().to_owned(),
                name: i.name().unwrap_or_default().to_owned(),
                state: i.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                tags: tag_pairs(i.tags()),
                snapshot_ids: i
                    .block_device_mappings()
                    .iter()
                    .filter_map(|m| m.ebs()?.snapshot_id().map(str::to_owned))
                    .collect(),
            })
            .collect())
    }

    /// Start making an image of an instance; returns the image id.
    /// Make an image of the instance, tagged with `tags` as CreateImage
    /// makes it (the only tagging a least-privilege role may do), and its
    /// snapshots too when `tag_snapshots`.
    pub async fn create_image(
        &self,
        instance_id: &str,
        name: &str,
        description: &str,
        tags: &Tags,
        tag_snapshots: bool,
    ) -> Result<String, AwsError> {
        let spec = |kind: ResourceType| {
            TagSpecification::builder()
                .resource_type(kind)
                .set_tags(Some(ec2_tags(tags)))
                .build()
        };
        let mut specs = vec![spec(ResourceType::Image)];
        if tag_snapshots {
            specs.push(spec(ResourceType::Snapshot));
        }
        let output = self
            .ec2
            .create_image()
            .instance_id(instance_id)
            .name(name)
            .description(description)
            .set_tag_specifications(Some(specs))
            .send()
            .await
            .map_err(|e| AwsError::new("CreateImage", e))?;
        Ok(output.image_id().unwrap_or_default().to_owned())
    }

    pub async fn deregister_image(&self, image_id: &str) -> Result<(), AwsError> {
        self.ec2
            .deregister_image()
            .image_id(image_id)
            .send()
            .await
            .map_err(|e| AwsError::new("DeregisterImage", e))?;
        Ok(())
    }

    /// Snapshots this account owns that match `filter`.
    pub async fn snapshots(&self, filter: &[Filter]) -> Result<Vec<Snapshot>, AwsError> {
        let snapshots = self
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .set_filters(Some(filters(filter)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeSnapshots", e))?;
        Ok(snapshots
            .iter()
            .map(|s| Snapshot {
                id: s.snapshot_id().unwrap_or_default().to_owned(),
                state: s.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                tags: tag_pairs(s.tags()),
            })
            .collect())
    }

    pub async fn delete_snapshot(&self, snapshot_id: &str) -> Result<(), AwsError> {
        self.ec2
            .delete_snapshot()
            .snapshot_id(snapshot_id)
            .send()
            .await
            .map_err(|e| AwsError::new("DeleteSnapshot", e))?;
        Ok(())
    }

    /// Security groups that match `filter`, every page of them.
    pub async fn security_groups(&self, filter: &[Filter]) -> Result<Vec<SecurityGroup>, AwsError> {
        let groups = self
            .ec2
            .describe_security_groups()
            .set_filters(Some(filters(filter)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeSecurityGroups", e))?;
        Ok(groups
            .iter()
            .map(|g| SecurityGroup {
                id: g.group_id().unwrap_or_default().to_owned(),
                name: g.group_name().unwrap_or_default().to_owned(),
                tags: tag_pairs(g.tags()),
                ingress: g.ip_permissions().iter().flat_map(ingress_rules).collect(),
            })
            .collect())
    }

    pub async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> Result<(), AwsError> {
        if resource_ids.is_empty() {
            return Ok(());
        }
        self.ec2
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(ec2_tags(tags)))
            .send()
            .await
            .map_err(|e| AwsError::new("CreateTags", e))?;
        Ok(())
    }
}

/// One rule per address range of a permission.
fn ingress_rules(permission: &IpPermission) -> Vec<IngressRule> {
    let rule = |cidr: Option<&str>, description: Option<&str>| IngressRule {
        protocol: permission.ip_protocol().unwrap_or_default().to_owned(),
        from_port: permission.from_port(),
        to_port: permission.to_port(),
        cidr: cidr.unwrap_or_default().to_owned(),
        description: non_empty(description),
    };
    let v4 = permission
        .ip_ranges()
        .iter()
        .map(|r| rule(r.cidr_ip(), r.description()));
    let v6 = permission
        .ipv6_ranges()
        .iter()
        .map(|r| rule(r.cidr_ipv6(), r.description()));
    v4.chain(v6).collect()
}

fn ec2_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}
