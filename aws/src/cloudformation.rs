//! CloudFormation: stacks, their events and resources.

use aws_sdk_cloudformation::types::{OnFailure, Parameter, Tag};

use crate::{Aws, AwsError, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    /// The parameters as CloudFormation keeps them (a NoEcho one as `****`).
    pub parameters: Vec<(String, String)>,
    pub tags: Tags,
}

impl Stack {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub id: String,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// The token of the request that caused the event.
    pub client_request_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct CreateStack<'a> {
    pub name: &'a str,
    pub template_body: &'a str,
    pub parameters: Vec<(String, String)>,
    pub tags: Tags,
    /// Leave a failed stack's resources in place (for debugging) instead of
    /// rolling back.
    pub keep_on_failure: bool,
    /// One per logical create, the same on every retry: CloudFormation
    /// answers a retried create with the stack the first attempt made.
    pub client_request_token: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Started,
    /// CloudFormation's "No updates are to be performed.": nothing differs.
    NoChanges,
}

fn parameters(values: &[(String, String)]) -> Vec<Parameter> {
    values
        .iter()
        .map(|(key, value)| {
            Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build()
        })
        .collect()
}

fn tags(values: &Tags) -> Vec<Tag> {
    values
        .iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

fn stack(s: &aws_sdk_cloudformation::types::Stack) -> Stack {
    Stack {
        id: s.stack_id().unwrap_or_default().to_owned(),
        name: s.stack_name().unwrap_or_default().to_owned(),
        status: s
            .stack_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: s.stack_status_reason().map(str::to_owned),
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
    }
}

impl Aws {
    /// Create a stack; returns its id.
    pub async fn create_stack(&self, request: CreateStack<'_>) -> Result<String, AwsError> {
        let on_failure = if request.keep_on_failure {
            OnFailure::DoNothing
        } else {
            OnFailure::Rollback
        };
        let output = self
            .cloudformation
            .create_stack()
            .stack_name(request.name)
            .template_body(request.template_body)
            .set_parameters(Some(parameters(&request.parameters)))
            .set_tags(Some(tags(&request.tags)))
            .on_failure(on_failure)
            .client_request_token(request.client_request_token)
            .send()
            .await
            .map_err(|e| AwsError::new("CreateStack", e))?;
        Ok(output.stack_id().unwrap_or(request.name).to_owned())
    }

    pub async fn update_stack(
        &self,
        name: &str,
        template_body: &str,
        parameter_values: &[(String, String)],
    ) -> Result<UpdateOutcome, AwsError> {
        let result = self
            .cloudformation
            .update_stack()
            .stack_name(name)
            .template_body(template_body)
            .set_parameters(Some(parameters(parameter_values)))
            .send()
            .await
            .map_err(|e| AwsError::new("UpdateStack", e));
        match result {
            Ok(_) => Ok(UpdateOutcome::Started),
            Err(e) if e.message_contains("No updates are to be performed") => {
                Ok(UpdateOutcome::NoChanges)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn delete_stack(&self, name_or_id: &str) -> Result<(), AwsError> {
        self.cloudformation
            .delete_stack()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(|e| AwsError::new("DeleteStack", e))?;
        Ok(())
    }

    /// The stack, or `None` when it does not exist (or is deleted, by name).
    pub async fn stack(&self, name_or_id: &str) -> Result<Option<Stack>, AwsError> {
        let result = self
            .cloudformation
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(|e| AwsError::new("DescribeStacks", e));
        match result {
            Ok(output) => Ok(output.stacks().first().map(stack)),
            Err(e) if e.message_contains("does not exist") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every stack that is not deleted.
    pub async fn stacks(&self) -> Result<Vec<Stack>, AwsError> {
        let stacks = self
            .cloudformation
            .describe_stacks()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeStacks", e))?;
        Ok(stacks
            .iter()
            .map(stack)
            .filter(|s| s.status != "DELETE_COMPLETE")
            .collect())
    }

    /// The stack's events, oldest first.
    pub async fn stack_events(&self, name_or_id: &str) -> Result<Vec<StackEvent>, AwsError> {
        let events = self
            .cloudformation
            .describe_stack_events()
            .stack_name(name_or_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("DescribeStackEvents", e))?;
        // AWS lists them newest first.
        Ok(events
            .iter()
            .rev()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().to_owned(),
                timestamp: e.timestamp().map(|t| t.secs()).unwrap_or_default(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
                client_request_token: e.client_request_token().map(str::to_owned),
            })
            .collect())
    }

    pub async fn stack_resources(&self, name_or_id: &str) -> Result<Vec<StackResource>, AwsError> {
        let resources = self
            .cloudformation
            .list_stack_resources()
            .stack_name(name_or_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("ListStackResources", e))?;
        Ok(resources
            .iter()
            // Emulators list resources a condition skipped as empty entries.
            .filter(|r| r.logical_resource_id().is_some_and(|id| !id.is_empty()))
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect())
    }
}
