//! The shared `<app>-image`: reused when it exists, otherwise baked on an
//! instance from `image.json` that is always removed afterwards, success or
//! not. `clean` removes the image, its snapshots and any leftover instance.
//!
//! Who owns an image: an operator's commission bakes the shared image, and
//! every environment after it stands on it. A test run reuses the shared
//! image when there is one and never owns it; a run that finds none bakes
//! its own, `<app>-image-<run id>`, tagged with the run, which its teardown
//! (or a sweep) removes. So a run never deletes the image that environments
//! commissioned meanwhile stand on.

use argos_aws::{CreateStack, filter};

use super::stack_guard::StackGuard;
use super::stack_status::{Operation, Phase};
use super::stacks::create_token;
use super::{AwsBackend, EngineError};
use crate::cfn::plan::Plan;
use crate::model::names::{EnvName, Group, tag_keys};
use crate::sys::progress::Event;
use crate::sys::wait::{self, Backoff, Poll};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanReport {
    pub stack_deleted: bool,
    pub instances: Vec<String>,
    pub images: Vec<String>,
    pub snapshots: Vec<String>,
}

impl AwsBackend {
    /// The image environments share: `<app>-image`.
    fn shared_image_name(&self) -> String {
        self.settings.app_name.image_name()
    }

    /// What this process bakes when there is no shared image: the shared
    /// image for an operator, `<app>-image-<run id>` for a test run. The
    /// bake's stack has the same name.
    fn bake_name(&self) -> String {
        let shared = self.shared_image_name();
        match &self.run {
            None => shared,
            Some(run) => {
                let mut id: String = run
                    .run_id
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                // Stack names and AMI names both stop at 128 characters.
                id.truncate(127 - shared.len());
                format!("{shared}-{id}")
            }
        }
    }

    /// Tags of image `name` and its snapshots (and of a harness run's bake).
    fn image_tags(&self, name: &str) -> Vec<(String, String)> {
        let mut tags = vec![
            (tag_keys::NAME.to_owned(), name.to_owned()),
            (tag_keys::GROUP.to_owned(), Group::IMAGE.as_str().to_owned()),
            (tag_keys::APP.to_owned(), self.settings.app_name.to_string()),
        ];
        if let Some(run) = &self.run {
            tags.extend(run.tags().into_iter().map(|t| (t.key, t.value)));
        }
        tags
    }

    /// The id of the image environments start from: the shared
    /// `<app>-image` when it exists, else this process's bake (see the
    /// module's note on who owns an image). A bake that another process
    /// already started is waited for, not duplicated. `env` is the
    /// environment whose commission or update needs it.
    pub async fn image_for_environments(&self, env: &EnvName) -> Result<String, EngineError> {
        let shared = self.shared_image_name();
        if let Some(id) = self.wait_for_existing_image(&shared).await? {
            self.emit(Event::ImageReused {
                image: shared.clone(),
                id: id.clone(),
                own: false,
            });
            return Ok(id);
        }
        let name = self.bake_name();
        if name != shared
            && let Some(id) = self.wait_for_existing_image(&name).await?
        {
            self.emit(Event::ImageReused {
                image: name.clone(),
                id: id.clone(),
                own: true,
            });
            return Ok(id);
        }
        match self.bake(env, &name).await? {
            Some(id) => Ok(id),
            None => {
                self.emit(Event::ImageBakeWaiting {
                    image: name.clone(),
                });
                let what = format!("image {name} from another bake");
                let id = wait::until(
                    &what,
                    self.timeouts.image,
                    Backoff::CONTROL_PLANE,
                    || async {
                        match self.wait_for_existing_image(&name).await? {
                            Some(id) => Ok(Poll::Ready(id)),
                            None => Ok(Poll::Pending),
                        }
                    },
                )
                .await?;
                Ok(id)
            }
        }
    }

    /// Image `name` once it is available; `None` when there is none.
    async fn wait_for_existing_image(&self, name: &str) -> Result<Option<String>, EngineError> {
        let Some(image) = self
            .aws
            .images(&[filter("name", &[name])])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let what = format!("image {name} ({})", image.id);
        let id = wait::until(&what, self.timeouts.image, Backoff::CONTROL_PLANE, || async {
            let current = self.aws.images(&[filter("image-id", &[&image.id])]).await?;
            match current.first().map(|i| i.state.as_str()) {
                Some("available") => Ok(Poll::Ready(image.id.clone())),
                Some("pending") => Ok(Poll::Pending),
                state => Err(EngineError::Image {
                    image: name.to_owned(),
                    reason: format!(
                        "{} is {}; `argos-cloud <env> clean` removes it so the next commission bakes a new one",
                        image.id,
                        state.unwrap_or("gone")
                    ),
                }),
            }
        })
        .await?;
        Ok(Some(id))
    }

    /// Bake image `name` on a stack of the same name; `None` when another
    /// bake holds that stack.
    async fn bake(&self, env: &EnvName, name: &str) -> Result<Option<String>, EngineError> {
        let plan = Plan::image(&self.settings, &self.formations.image, name);
        let mut tags = plan.tag_pairs();
        tags.extend(
            self.run
                .iter()
                .flat_map(|r| r.tags())
                .map(|t| (t.key, t.value)),
        );
        self.emit(Event::ImageBakeStarted {
            image: name.to_owned(),
            stack: plan.stack_name.clone(),
        });
        let body = self.formations.image.to_json();
        let token = create_token(&plan.stack_name);
        // The bake instance must not outlive the bake, even when the bake is
        // dropped half-way (Ctrl-C, a panic): then this deletes its stack.
        // Armed before the request, by name, so a drop while CreateStack is
        // in flight is covered too; by id as soon as the id is known.
        let by_name = StackGuard::new(
            &self.aws,
            &plan.stack_name,
            &plan.stack_name,
            &self.progress,
            true,
        );
        let created = self
            .aws
            .create_stack(CreateStack {
                name: &plan.stack_name,
                template_body: &body,
                parameters: plan.parameter_values(),
                tags,
                keep_on_failure: false,
                client_request_token: &token,
            })
            .await;
        let stack_id = match created {
            Ok(id) => id,
            Err(e) if e.is_code("AlreadyExistsException") => {
                match self.own_stack(&plan.stack_name, &token).await {
                    Ok(Some(stack)) => stack.id,
                    // Another bake's stack: theirs to finish.
                    other => {
                        by_name.disarm();
                        return other.map(|_| None);
                    }
                }
            }
            Err(e) => {
                // Some endpoints reject the template in the call itself and
                // still leave a stack record behind.
                let cleaned = self.clean_up_failed_create(&plan.stack_name, false).await;
                by_name.disarm();
                cleaned?;
                return Err(e.into());
            }
        };
        by_name.disarm();
        let guard = StackGuard::new(&self.aws, &stack_id, &plan.stack_name, &self.progress, true);
        // An emulator may let two racing CreateStack calls for one name both
        // succeed (AWS never does); the name then resolves to the first stack,
        // so every other bake stands down and waits for that one.
        let holder = self.aws.stack(&plan.stack_name).await?;
        if holder.is_some_and(|holder| holder.id != stack_id) {
            let removed = self.delete_and_wait(&stack_id, &plan.stack_name).await;
            guard.disarm();
            removed?;
            return Ok(None);
        }
        // The stack's name is held by one bake at a time. A bake that finished
        // between our first look and now made its image before it released
        // the name: look again while holding it, so no image is baked twice.
        let outcome = match self.wait_for_existing_image(name).await {
            Ok(Some(id)) => {
                self.emit(Event::ImageBakeRaced {
                    image: name.to_owned(),
                    id: id.clone(),
                });
                Ok(id)
            }
            Ok(None) => self.bake_on(env, name, &stack_id).await,
            Err(e) => Err(e),
        };
        // The instance is never left behind, whatever happened.
        self.emit(Event::BakeInstanceRemoving {
            image: name.to_owned(),
            stack: plan.stack_name.clone(),
        });
        let removed = self.delete_and_wait(&stack_id, &plan.stack_name).await;
        guard.disarm();
        let image_id = outcome?;
        removed?;
        Ok(Some(image_id))
    }

    /// Bake image `name` on the instance of bake stack `stack_id`.
    async fn bake_on(
        &self,
        env: &EnvName,
        name: &str,
        stack_id: &str,
    ) -> Result<String, EngineError> {
        let stack_name = name;
        let (phase, stack) = self
            .wait_for_stack(stack_id, stack_name, Operation::Create, &Default::default())
            .await?;
        if phase != Phase::Succeeded {
            return Err(EngineError::Image {
                image: name.to_owned(),
                reason: format!(
                    "the bake instance's stack ended in {}: {}",
                    stack.status,
                    stack.reason.unwrap_or_default()
                ),
            });
        }
        // The output `ImageInstanceId` names the bake instance; without
        // one, the stack's one instance is it (any project's image.json).
        let instance_id = match stack
            .outputs
            .iter()
            .find(|(key, _)| key == "ImageInstanceId")
        {
            Some((_, value)) => value.clone(),
            None => {
                let instances: Vec<String> = self
                    .aws
                    .stack_resources(stack_id)
                    .await?
                    .into_iter()
                    .filter(|r| r.resource_type == "AWS::EC2::Instance")
                    .filter_map(|r| r.physical_id)
                    .collect();
                match instances.as_slice() {
                    [one] => one.clone(),
                    _ => {
                        return Err(EngineError::Image {
                            image: name.to_owned(),
                            reason: format!(
                                "stack {stack_name} has {} instances and no ImageInstanceId \
                                 output naming the bake instance: add the output to image.json",
                                instances.len()
                            ),
                        });
                    }
                }
            }
        };
        let what = format!("bake instance {instance_id} to run");
        let instance = wait::until(
            &what,
            self.timeouts.image,
            Backoff::CONTROL_PLANE,
            || async {
                let found = self
                    .aws
                    .instances(&[filter("instance-id", &[&instance_id])])
                    .await?
                    .into_iter()
                    .next();
                match found.as_ref().map(|i| i.state.as_str()) {
                    Some("running") => Ok(Poll::Ready(found.expect("just matched"))),
                    Some("pending") | None => Ok(Poll::Pending),
                    Some(state) => Err(EngineError::Image {
                        image: name.to_owned(),
                        reason: format!("bake instance {instance_id} is {state}"),
                    }),
                }
            },
        )
        .await?;
        // On an emulator's data plane the bake instance is a host too,
        // removed with the bake whatever happens.
        let _bake_host = match &self.data_plane {
            Some(plane) => {
                plane.place_bake_host(env, &instance)?;
                Some(BakeHost {
                    plane,
                    instance_id: &instance_id,
                })
            }
            None => None,
        };
        let instance = match &self.data_plane {
            Some(plane) => plane.located(vec![instance], Vec::new()).0.remove(0),
            None => instance,
        };
        match &self.provisioner {
            Some(provisioner) => {
                self.provision_bake_instance(provisioner, env, name, &instance)
                    .await?
            }
            None => self.emit(Event::ProvisionSkipped {
                reason: self
                    .data_plane()
                    .err()
                    .unwrap_or_else(|| "no Ansible was given to run the image playbook".into()),
            }),
        }
        // Tagged as CreateImage makes them: the nightly role may tag images
        // and snapshots no other way. moto fails a CreateImage that tags
        // snapshots, so on an emulator they are tagged once they exist.
        let snapshots_later = self.aws.endpoint().is_some_and(super::is_loopback);
        let image_id = match self
            .aws
            .create_image(
                &instance_id,
                name,
                "Argos app image, baked by argos-cloud",
                &self.image_tags(name),
                !snapshots_later,
            )
            .await
        {
            Ok(id) => id,
            // Someone else's bake won after all: theirs is the image.
            Err(e) if e.is_code("InvalidAMIName.Duplicate") => {
                if let Some(id) = self.wait_for_existing_image(name).await? {
                    self.emit(Event::ImageBakeRaced {
                        image: name.to_owned(),
                        id: id.clone(),
                    });
                    return Ok(id);
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        self.emit(Event::ImageCreated {
            image: name.to_owned(),
            id: image_id.clone(),
            instance: instance_id.to_owned(),
        });
        let what = format!("image {name} ({image_id})");
        let snapshots = wait::until(
            &what,
            self.timeouts.image,
            Backoff::CONTROL_PLANE,
            || async {
                let found = self.aws.images(&[filter("image-id", &[&image_id])]).await?;
                match found.first() {
                    Some(image) if image.state == "available" => {
                        Ok(Poll::Ready(image.snapshot_ids.clone()))
                    }
                    Some(image) if image.state == "pending" => Ok(Poll::Pending),
                    None => Ok(Poll::Pending),
                    Some(image) => Err(EngineError::Image {
                        image: name.to_owned(),
                        reason: format!("{image_id} is {}", image.state),
                    }),
                }
            },
        )
        .await?;
        if snapshots_later {
            self.aws
                .create_tags(&snapshots, &self.image_tags(name))
                .await?;
        }
        self.emit(Event::ImageAvailable {
            image: name.to_owned(),
            id: image_id.clone(),
            snapshots: snapshots.len(),
        });
        if let Some(plane) = &self.data_plane {
            let local = plane.commit_bake_host(&instance_id, &image_id)?;
            self.emit(Event::ImageLocalCopy {
                copy: local.clone(),
                id: image_id.clone(),
            });
        }
        Ok(image_id)
    }

    /// Remove the image, its snapshots, a leftover bake stack and any
    /// instance still tagged as the image's.
    pub async fn clean(&self) -> Result<CleanReport, EngineError> {
        let name = self.shared_image_name();
        let mut report = CleanReport::default();
        if let Some(stack) = self.aws.stack(&name).await? {
            self.emit(Event::LeftoverBakeStack {
                stack: name.to_owned(),
                status: stack.status.clone(),
            });
            self.delete_and_wait(&stack.id, &name).await?;
            report.stack_deleted = true;
        }
        let instances: Vec<String> = self
            .aws
            .instances(&[filter(format!("tag:{}", tag_keys::NAME), &[&name])])
            .await?
            .into_iter()
            .filter(|i| i.state != "terminated" && i.state != "shutting-down")
            .map(|i| i.id)
            .collect();
        if !instances.is_empty() {
            self.emit(Event::LeftoverBakeInstances {
                instances: instances.clone(),
            });
            self.aws.terminate_instances(&instances).await?;
        }
        report.instances = instances;
        for image in self.aws.images(&[filter("name", &[&name])]).await? {
            self.emit(Event::ImageDeregistering {
                id: image.id.clone(),
                image: name.to_owned(),
            });
            self.aws.deregister_image(&image.id).await?;
            if let Some(plane) = &self.data_plane {
                plane.remove_ami_image(&image.id);
            }
            report.images.push(image.id);
            report.snapshots.extend(image.snapshot_ids);
        }
        let tagged = self
            .aws
            .snapshots(&[filter(format!("tag:{}", tag_keys::NAME), &[&name])])
            .await?;
        for snapshot in tagged {
            if !report.snapshots.contains(&snapshot.id) {
                report.snapshots.push(snapshot.id);
            }
        }
        for snapshot in &report.snapshots {
            self.emit(Event::SnapshotDeleting {
                id: snapshot.clone(),
            });
            match self.aws.delete_snapshot(snapshot).await {
                Ok(()) => {}
                // Deregistering may already have removed it.
                Err(e) if e.is_code("InvalidSnapshot.NotFound") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }
}

/// Removes the bake instance's stand-in host when the bake ends.
struct BakeHost<'a> {
    plane: &'a super::data_plane::DataPlane,
    instance_id: &'a str,
}

impl Drop for BakeHost<'_> {
    fn drop(&mut self) {
        self.plane.remove_bake_host(self.instance_id);
    }
}
