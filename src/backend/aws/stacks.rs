//! Environment stacks: create, update and delete, waiting with a deadline
//! while streaming the stack's events, and turning failures into one line
//! that says why.

use std::collections::HashSet;

use argos_aws::{CreateStack, Stack, UpdateOutcome};

use super::stack_guard::StackGuard;
use super::stack_status::{self, Operation, Phase};
use super::{AwsBackend, EngineError};
use crate::cfn::plan::Plan;
use crate::model::names::{EnvName, EnvNames, RunTags, tag_keys};
use crate::sys::progress::Event;
use crate::sys::wait::{self, Backoff, Poll};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    Changed(Stack),
    /// CloudFormation found nothing to change.
    NoChanges,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decommissioned {
    Deleted {
        stack: String,
    },
    /// There was nothing to delete; decommission is idempotent.
    NotFound {
        stack: String,
    },
}

impl AwsBackend {
    /// The plan of the environment's stack on the image `image_id`.
    fn environment_plan(&self, names: &EnvNames, image_id: &str, run: Option<&RunTags>) -> Plan {
        let template = &self.formations.environment;
        Plan::environment(&self.settings, names, template, image_id, run)
    }

    /// Create the environment's stack, baking or reusing the image first. A
    /// stack that already exists is an error, never a silent update. On
    /// failure the stack is deleted unless `keep`.
    pub async fn commission(&self, env: &EnvName, keep: bool) -> Result<Stack, EngineError> {
        let names = self.names(env);
        let stack_name = names.stack();
        if let Some(existing) = self.aws.stack(&stack_name).await? {
            return Err(EngineError::StackExists {
                stack: stack_name,
                status: existing.status,
            });
        }
        let image_id = self.image_for_environments(env).await?;
        let plan = self.environment_plan(&names, &image_id, self.run.as_ref());
        let body = self.formations.environment.to_json();
        self.emit(Event::StackCreating {
            stack: stack_name.clone(),
            parameters: plan.parameters.len(),
            image: image_id.clone(),
        });
        // Deletes the stack unless `keep` if this is dropped before the
        // create settles (Ctrl-C, a wait that gave up). By name, so a drop
        // during CreateStack is covered once CloudFormation has registered
        // the stack (it did not exist a moment ago, so it can only be ours).
        let guard = StackGuard::new(&self.aws, &stack_name, &stack_name, &self.progress, !keep);
        let token = create_token(&stack_name);
        let created = self
            .aws
            .create_stack(CreateStack {
                name: &stack_name,
                template_body: &body,
                parameters: plan.parameter_values(),
                tags: plan.tag_pairs(),
                keep_on_failure: keep,
                client_request_token: &token,
            })
            .await;
        let stack_id = match created {
            Ok(id) => id,
            Err(error) if error.is_code("AlreadyExistsException") => {
                match self.own_stack(&stack_name, &token).await {
                    Ok(Some(stack)) => stack.id,
                    // Another commission of this environment got there
                    // first: the stack is theirs, to be left alone.
                    other => {
                        guard.disarm();
                        other?;
                        return Err(EngineError::StackExists {
                            stack: stack_name,
                            status: "being created by another commission".into(),
                        });
                    }
                }
            }
            Err(error) => {
                // Some endpoints reject the template in the call itself but
                // still leave a stack record behind.
                let kept = self.clean_up_failed_create(&stack_name, keep).await;
                guard.disarm();
                let kept = kept?;
                return Err(EngineError::CreateFailed {
                    stack: stack_name,
                    env: env.to_string(),
                    reason: error.to_string(),
                    kept,
                });
            }
        };
        let (phase, stack) = self
            .wait_for_stack(&stack_id, &stack_name, Operation::Create, &HashSet::new())
            .await
            .inspect_err(|_| {
                self.emit(Event::StackTimedOut {
                    stack: stack_name.clone(),
                })
            })?;
        if phase == Phase::Succeeded {
            self.emit(Event::StackSettled {
                stack: stack_name.clone(),
                status: stack.status.clone(),
            });
            // Stand-ins that cannot all be made take the stack with them
            // (unless `keep`), as a failed create does.
            self.place_stand_ins(env).await?;
            guard.disarm();
            return Ok(stack);
        }
        let reason = self.first_failure(&stack_id, &HashSet::new(), &stack).await;
        let kept = self.clean_up_failed_create(&stack_id, keep).await;
        guard.disarm();
        let kept = kept?;
        Err(EngineError::CreateFailed {
            stack: stack_name,
            env: env.to_string(),
            reason,
            kept,
        })
    }

    /// The stack named `name` when a create of it was answered
    /// AlreadyExists and it is this create's own after all: the SDK retried
    /// a create whose answer was lost, on an endpoint that ignores the
    /// token (AWS answers such a retry with the stack itself). Ours when it
    /// carries this run's id, or when its events carry `token`; anything
    /// else is someone else's.
    pub(super) async fn own_stack(
        &self,
        name: &str,
        token: &str,
    ) -> Result<Option<Stack>, EngineError> {
        let Some(stack) = self.aws.stack(name).await? else {
            return Ok(None);
        };
        let by_run = self
            .run
            .as_ref()
            .is_some_and(|run| stack.tag(tag_keys::RUN) == Some(run.run_id.as_str()));
        let ours = by_run
            || self
                .aws
                .stack_events(&stack.id)
                .await?
                .iter()
                .any(|e| e.client_request_token.as_deref() == Some(token));
        if ours {
            self.emit(Event::StackCreateRecovered {
                stack: name.to_owned(),
            });
        }
        Ok(ours.then_some(stack))
    }

    /// Delete what a failed create left, unless the user keeps it. Returns
    /// whether a stack was kept.
    pub(super) async fn clean_up_failed_create(
        &self,
        name_or_id: &str,
        keep: bool,
    ) -> Result<bool, EngineError> {
        let Some(stack) = self.aws.stack(name_or_id).await? else {
            return Ok(false);
        };
        if keep {
            self.emit(Event::StackKept {
                stack: stack.name.clone(),
                status: stack.status.clone(),
            });
            return Ok(true);
        }
        self.emit(Event::StackDeletingFailed {
            stack: stack.name.clone(),
        });
        self.delete_and_wait(&stack.id, &stack.name).await?;
        Ok(false)
    }

    /// Bring the stack to the current formations and settings.
    pub async fn update(&self, env: &EnvName) -> Result<Updated, EngineError> {
        let names = self.names(env);
        let stack_name = names.stack();
        let Some(stack) = self.aws.stack(&stack_name).await? else {
            return Err(EngineError::NotCommissioned { stack: stack_name });
        };
        if !stack_status::is_stable(&stack.status) {
            return Err(EngineError::Busy {
                stack: stack_name,
                status: stack.status,
            });
        }
        let image_id = self.image_for_environments(env).await?;
        // Harness tags stay as they were: an update changes the formation, not the run.
        let plan = self.environment_plan(&names, &image_id, None);
        let before: HashSet<String> = self
            .aws
            .stack_events(&stack.id)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        self.emit(Event::StackUpdating {
            stack: stack_name.clone(),
        });
        let body = self.formations.environment.to_json();
        match self
            .aws
            .update_stack(&stack.id, &body, &plan.parameter_values())
            .await?
        {
            UpdateOutcome::NoChanges => {
                self.emit(Event::StackUnchanged {
                    stack: stack_name.clone(),
                });
                return Ok(Updated::NoChanges);
            }
            UpdateOutcome::Started => {}
        }
        let (phase, updated) = self
            .wait_for_stack(&stack.id, &stack_name, Operation::Update, &before)
            .await?;
        if phase == Phase::Succeeded {
            self.emit(Event::StackSettled {
                stack: stack_name.clone(),
                status: updated.status.clone(),
            });
            return Ok(Updated::Changed(updated));
        }
        let reason = self.first_failure(&stack.id, &before, &updated).await;
        Err(EngineError::UpdateFailed {
            stack: stack_name,
            status: updated.status,
            reason,
        })
    }

    /// On an emulator's data plane, hosts for the environment's instances
    /// and databases; none are left when this fails or is dropped.
    async fn place_stand_ins(&self, env: &EnvName) -> Result<(), EngineError> {
        let Some(plane) = &self.data_plane else {
            return Ok(());
        };
        let Some(provisioner) = &self.provisioner else {
            return Err(EngineError::DataPlane(
                crate::backend::containers::DockerError::StandIn {
                    what: "the database stand-ins".into(),
                    reason: "they are converged with Ansible, and no ansible-playbook was located"
                        .into(),
                },
            ));
        };
        let guard = StandIns {
            plane,
            env,
            armed: true,
        };
        let (instances, databases) = self.inventory_sources(&self.names(env)).await?;
        let placed = plane
            .place(env, &instances, &databases, provisioner)
            .await?;
        guard.disarm();
        self.emit(Event::StandInsReady { hosts: placed });
        Ok(())
    }

    /// Delete the environment's stack and wait until it is gone. Deleting an
    /// environment that does not exist succeeds.
    pub async fn decommission(&self, env: &EnvName) -> Result<Decommissioned, EngineError> {
        if let Some(plane) = &self.data_plane {
            plane.remove(env)?;
        }
        let stack_name = self.names(env).stack();
        let Some(stack) = self.aws.stack(&stack_name).await? else {
            self.emit(Event::StackMissing {
                stack: stack_name.clone(),
            });
            return Ok(Decommissioned::NotFound { stack: stack_name });
        };
        self.emit(Event::StackDeleting {
            stack: stack_name.clone(),
            status: stack.status.clone(),
        });
        self.delete_and_wait(&stack.id, &stack_name).await?;
        self.emit(Event::StackDeleted {
            stack: stack_name.clone(),
        });
        Ok(Decommissioned::Deleted { stack: stack_name })
    }

    pub(super) async fn delete_and_wait(
        &self,
        stack_id: &str,
        label: &str,
    ) -> Result<(), EngineError> {
        let before: HashSet<String> = self
            .aws
            .stack_events(stack_id)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        if let Err(error) = self.aws.delete_stack(stack_id).await {
            // AWS deletes in the background and reports failures as
            // DELETE_FAILED. An endpoint that deletes synchronously (moto)
            // reports them here, after removing the stack: only a stack
            // still standing makes this call's error a failure.
            if self
                .aws
                .stack(stack_id)
                .await?
                .is_some_and(|s| s.status != "DELETE_COMPLETE")
            {
                return Err(error.into());
            }
            self.emit(Event::StackDeleteReported {
                stack: label.to_owned(),
                error: error.to_string(),
            });
            return Ok(());
        }
        let (phase, stack) = self
            .wait_for_stack(stack_id, label, Operation::Delete, &before)
            .await?;
        if phase == Phase::Succeeded {
            return Ok(());
        }
        let resources = self
            .aws
            .stack_resources(stack_id)
            .await?
            .into_iter()
            .filter(|r| r.status == "DELETE_FAILED")
            .map(|r| {
                format!(
                    "{} ({}): {}",
                    r.logical_id,
                    r.resource_type,
                    r.physical_id.unwrap_or_default()
                )
            })
            .collect::<Vec<_>>();
        let resources = if resources.is_empty() {
            vec![self.first_failure(stack_id, &before, &stack).await]
        } else {
            resources
        };
        Err(EngineError::DeleteFailed {
            stack: label.to_owned(),
            resources,
        })
    }

    /// Wait until the stack leaves its in-progress states, printing each new
    /// event as it arrives. A stack that disappears has been deleted.
    pub(super) async fn wait_for_stack(
        &self,
        stack_id: &str,
        label: &str,
        operation: Operation,
        already_seen: &HashSet<String>,
    ) -> Result<(Phase, Stack), EngineError> {
        let timeout = match operation {
            Operation::Delete => self.timeouts.delete,
            Operation::Create | Operation::Update => self.timeouts.stack,
        };
        let seen = std::sync::Mutex::new(already_seen.clone());
        let what = format!("stack {label}");
        let result = wait::until(&what, timeout, Backoff::CONTROL_PLANE, || async {
            self.stream_events(stack_id, &seen).await;
            match self.aws.stack(stack_id).await? {
                None if operation == Operation::Delete => Ok(Poll::Ready((
                    Phase::Succeeded,
                    Stack {
                        id: stack_id.to_owned(),
                        name: label.to_owned(),
                        status: "DELETE_COMPLETE".to_owned(),
                        reason: None,
                        outputs: Vec::new(),
                        parameters: Vec::new(),
                        tags: Vec::new(),
                    },
                ))),
                None => Err(EngineError::Aws(argos_aws::AwsError {
                    operation: "DescribeStacks",
                    code: None,
                    service_message: None,
                    detail: format!("stack {label} disappeared while waiting for it"),
                })),
                Some(stack) => match stack_status::phase(operation, &stack.status) {
                    Phase::InProgress => Ok(Poll::Pending),
                    phase => Ok(Poll::Ready((phase, stack))),
                },
            }
        })
        .await;
        Ok(result?)
    }

    /// Print events not seen before, oldest first. Events are a courtesy: a
    /// failure to read them must not fail the wait.
    async fn stream_events(&self, stack_id: &str, seen: &std::sync::Mutex<HashSet<String>>) {
        let Ok(events) = self.aws.stack_events(stack_id).await else {
            return;
        };
        let mut seen = seen.lock().expect("seen events");
        for event in events {
            if seen.insert(event.id.clone()) {
                self.emit(Event::StackResource {
                    status: event.status,
                    resource_type: event.resource_type,
                    logical_id: event.logical_id,
                    reason: event.reason,
                });
            }
        }
    }

    /// The first failing event's reason (a resource's own reason rather than
    /// the stack's summary), or the stack's status reason.
    async fn first_failure(
        &self,
        stack_id: &str,
        before: &HashSet<String>,
        stack: &Stack,
    ) -> String {
        let events = self.aws.stack_events(stack_id).await.unwrap_or_default();
        let failed: Vec<_> = events
            .iter()
            .filter(|e| {
                !before.contains(&e.id) && e.status.ends_with("_FAILED") && e.reason.is_some()
            })
            .collect();
        let resource_level = failed
            .iter()
            .find(|e| e.resource_type != "AWS::CloudFormation::Stack");
        match resource_level.or(failed.first()) {
            Some(event) => format!(
                "{} {}: {}",
                event.logical_id,
                event.status,
                event.reason.as_deref().unwrap_or_default()
            ),
            None => match &stack.reason {
                Some(reason) => format!("{}: {reason}", stack.status),
                None => format!("the stack ended in {}", stack.status),
            },
        }
    }
}

/// A ClientRequestToken for one logical create of `stack`, the same on each
/// of its retries: unique to this process and moment, in the token's
/// alphabet (`[a-zA-Z0-9][-a-zA-Z0-9]*`, at most 128 characters).
pub(super) fn create_token(stack: &str) -> String {
    static CREATES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = CREATES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut token = format!("argos-{:x}-{nanos:x}-{count}-{stack}", std::process::id());
    token.retain(|c| c.is_ascii_alphanumeric() || c == '-');
    token.truncate(128);
    token
}

/// Removes an environment's stand-in hosts unless disarmed: a placement
/// that failed or was dropped half-way leaves none.
struct StandIns<'a> {
    plane: &'a super::data_plane::DataPlane,
    env: &'a EnvName,
    armed: bool,
}

impl StandIns<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for StandIns<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.plane.remove(self.env);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn create_tokens_are_valid_and_differ_per_create() {
        let long = "s".repeat(200);
        let first = super::create_token("argos-staging");
        let second = super::create_token("argos-staging");
        assert_ne!(first, second);
        for token in [first, second, super::create_token(&long)] {
            assert!(token.len() <= 128, "{token}");
            assert!(token.starts_with("argos-"), "{token}");
            assert!(
                token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{token}"
            );
        }
    }
}
