//! The AWS engine behind the scenario [`Backend`] interface, so the same
//! scenario files run on AWS (the nightly smoke) and on its emulator (the
//! rehearsal here).
//!
//! The interface is synchronous (the environment guard tears down from
//! `Drop`), the SDK is not: every call runs on this adapter's own runtime,
//! on a thread of its own, so it works from inside the caller's runtime too.
//! On an emulator there is no data plane (no machine boots, nothing listens
//! on SSH), and the adapter says so, so the runner reports deploy and probes
//! as skipped, never as passed.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::SystemTime;

use super::data_plane::DataPlane;
use super::{Aws, AwsBackend, EngineError, Provisioner, SweepAction, SweepFilter, SweepItem};
use crate::backend::containers::{Labelled, NotRemoved, SweepReport};
use crate::backend::{Backend, BackendError, HostSpec, HostStatus};
use crate::cfn::template::Formations;
use crate::converge::inventory::{Expect, Inventory};
use crate::model::names::{EnvName, EnvNames, RunTags, tag_keys};
use crate::model::project::Project;
use crate::model::settings::Settings;
use crate::sys::progress::{Event, Progress};

/// What a scenario run may remove in its own teardown: what the run made
/// outside its stack and is not meant to outlive it (its image bake and the
/// database's final snapshot). Anything else of the run left after the
/// stack is gone is a leak.
const RUN_ARTEFACTS: &[&str] = &["image", "snapshot", "db-snapshot"];
/// What carries the four tags: the hosts and the database.
const TAGGED_HOSTS: &[&str] = &["instance", "database"];

/// Where the AWS backend works: AWS, or an emulator at `endpoint`; on an
/// emulator, `data_plane` gives its instances and databases hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub endpoint: Option<String>,
    pub data_plane: bool,
}

pub struct AwsHosts {
    engine: AwsBackend,
    project: Project,
    /// Taken out in `Drop`: a runtime must not be dropped inside another.
    runtime: Option<tokio::runtime::Runtime>,
}

impl AwsHosts {
    /// Check the formations and settings for `env` (before anything is
    /// made), then connect to AWS, or to the emulator at `endpoint`. Where
    /// hosts can be reached, an image bake runs the image playbook with
    /// `bake_vars` as extra vars, so `ansible-playbook` must be there.
    pub fn connect(
        project: Project,
        settings: Settings,
        env: &EnvName,
        target: Target,
        progress: Progress,
        run: Option<RunTags>,
        bake_vars: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, String> {
        let Target {
            endpoint,
            data_plane,
        } = target;
        let formations = Formations::load(&project).map_err(|e| e.to_string())?;
        let names = EnvNames::new(settings.app_name.clone(), env.clone());
        crate::cfn::validate::preflight(&project, &formations, &settings, &names).map_err(
            |problems| {
                format!(
                    "the formations or settings are not ready:\n  {}",
                    problems.join("\n  ")
                )
            },
        )?;
        let stand_ins = match data_plane {
            true => Some(DataPlane::for_emulator(
                endpoint.as_deref(),
                &project,
                &settings,
                &progress,
                run.clone(),
            )?),
            false => None,
        };
        let options = super::options(&settings.region, endpoint);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("starting a runtime for the AWS SDK: {e}"))?;
        let aws = std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(Aws::connect(&options)))
                .join()
                .expect("connecting to AWS panicked")
        });
        let mut engine = AwsBackend {
            run,
            data_plane: stand_ins,
            ..AwsBackend::new(aws, settings, formations, progress)
        };
        if engine.data_plane().is_ok() {
            // The stand-in hosts have no internet: the bake installs the
            // stand-in app, as on Docker.
            let bake_vars = match &engine.data_plane {
                Some(plane) => plane.ansible_vars(bake_vars),
                None => bake_vars,
            };
            let strategy = engine.settings.ansible_strategy;
            let provisioner = Provisioner::for_project(&project, bake_vars, strategy)
                .map_err(|e| format!("the image bake runs the image playbook: {e}"))?;
            engine.provisioner = Some(provisioner);
        }
        Ok(Self {
            engine,
            project,
            runtime: Some(runtime),
        })
    }

    pub fn engine(&self) -> &AwsBackend {
        &self.engine
    }

    /// Run `call` to its end on the adapter's runtime. A signal ends it at
    /// once (unless it is cleanup): its future is dropped, and the engine's
    /// guards delete what it had started (a half-made stack, a bake).
    fn block<'a, F, T>(
        &'a self,
        call: impl FnOnce(&'a AwsBackend) -> F + Send,
    ) -> Result<T, BackendError>
    where
        F: Future<Output = Result<T, EngineError>> + 'a,
        T: Send,
    {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let engine = &self.engine;
        let stoppable = crate::sys::signal::Stoppable::here();
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(stoppable.run(call(engine))))
                .join()
                .expect("an AWS call panicked")
        })
        .map_err(|signal| BackendError::Interrupted { signal })?
        .map_err(BackendError::from)
    }

    /// What `filter` finds (a dry run), as labelled objects.
    fn find(&self, filter: SweepFilter) -> Result<Vec<Labelled>, BackendError> {
        let report = self.block(|engine| async move { engine.sweep(&filter, false).await })?;
        Ok(report.items.into_iter().map(labelled).collect())
    }

    /// Delete what `filter` finds: what went, and what could not.
    fn try_delete(&self, filter: SweepFilter) -> Result<SweepReport, BackendError> {
        let report = self.block(|engine| async move { engine.sweep(&filter, true).await })?;
        let mut swept = SweepReport::default();
        for item in report.items {
            match item.action.clone() {
                SweepAction::Failed(reason) => swept.failed.push(NotRemoved {
                    remove_with: remove_command(&item),
                    reason,
                    object: labelled(item),
                }),
                _ => swept.removed.push(labelled(item)),
            }
        }
        Ok(swept)
    }

    /// Delete what `filter` finds; a deletion that failed is an error.
    fn delete(&self, filter: SweepFilter) -> Result<Vec<Labelled>, BackendError> {
        let report = self.try_delete(filter)?;
        if let Some(failed) = report.failed.first() {
            return Err(BackendError::from(EngineError::Cleanup {
                what: format!(
                    "{} {}: {}",
                    failed.object.kind, failed.object.name, failed.reason
                ),
            }));
        }
        Ok(report.removed)
    }

    /// Delete the environment's stack if it carries this run's id. A stack
    /// of that name without it is another's environment (an operator's
    /// `staging`, another run's) and is left as it is.
    fn delete_own_stack(&self, env: &EnvName, run_id: &str) -> Result<(), BackendError> {
        let name = self.engine.names(env).stack();
        self.block(|engine| async move {
            let Some(stack) = engine.aws.stack(&name).await? else {
                return Ok(());
            };
            match stack.tag(tag_keys::RUN) {
                Some(owner) if owner == run_id => {
                    engine.emit(Event::StackDeleting {
                        stack: name.clone(),
                        status: stack.status.clone(),
                    });
                    engine.delete_and_wait(&stack.id, &name).await
                }
                owner => {
                    engine.emit(Event::StackNotOurs {
                        stack: name.clone(),
                        owner: owner.unwrap_or("none").to_owned(),
                    });
                    Ok(())
                }
            }
        })?;
        Ok(())
    }
}

fn labelled(item: SweepItem) -> Labelled {
    Labelled {
        kind: item.kind,
        name: item.id,
        labels: item.tags.into_iter().collect::<BTreeMap<_, _>>(),
    }
}

/// What removes a sweep item that could not be deleted, once the reason is
/// dealt with: a sweep of its run.
fn remove_command(item: &SweepItem) -> String {
    let env = argos_aws::tag(&item.tags, tag_keys::ENV).unwrap_or("ENV");
    format!(
        "argos-cloud --backend aws {env} sweep --run {} --yes",
        item.run
    )
}

impl Drop for AwsHosts {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl From<EngineError> for BackendError {
    fn from(error: EngineError) -> Self {
        BackendError::Failed(Box::new(error))
    }
}

impl Backend for AwsHosts {
    fn kind(&self) -> &'static str {
        "aws"
    }

    fn settings(&self) -> &Settings {
        &self.engine.settings
    }

    fn existing(&self, env: &EnvName) -> Result<Option<String>, BackendError> {
        let name = self.engine.names(env).stack();
        let stack = self.block(|engine| async move { Ok(engine.aws.stack(&name).await?) })?;
        Ok(stack.map(|s| format!("stack {} ({})", s.name, s.status)))
    }

    /// The whole environment the formations describe; `groups` only say
    /// which hosts the scenario looks at.
    fn commission(&self, env: &EnvName, _hosts: &[HostSpec]) -> Result<(), BackendError> {
        self.block(|engine| async move { engine.commission(env, false).await })?;
        Ok(())
    }

    fn inventory(&self, env: &EnvName, expect: Expect) -> Result<Inventory, BackendError> {
        let names = self.engine.names(env);
        let project = &self.project;
        self.block(|engine| async move { engine.inventory(project, &names, expect).await })
    }

    fn status(&self, env: &EnvName) -> Result<Vec<HostStatus>, BackendError> {
        let status = self.block(|engine| async move { engine.status(env).await })?;
        let access = &self.engine.settings.access;
        let key = self.project.path(&format!("keys/{}.pem", access.key_name));
        let mut hosts: Vec<HostStatus> = status
            .instances
            .iter()
            .map(|i| HostStatus {
                name: i.id.clone(),
                group: i.group.clone().unwrap_or_else(|| "-".into()),
                state: i.state.clone(),
                address: i.private_ip.clone(),
                login: format!(
                    "ssh -i {} {}@{}",
                    key.display(),
                    access.ssh_user,
                    i.public_ip.as_deref().unwrap_or("?")
                ),
            })
            .collect();
        hosts.extend(status.databases.iter().map(|db| {
            HostStatus {
                name: db.id.clone(),
                group: argos_aws::tag(&db.tags, tag_keys::GROUP)
                    .unwrap_or("-")
                    .to_owned(),
                state: db.status.clone(),
                address: db.address.clone(),
                login: format!(
                    "psql -h {} -p {} (from the app host)",
                    db.address.as_deref().unwrap_or("?"),
                    db.port.unwrap_or(5432)
                ),
            }
        }));
        Ok(hosts)
    }

    /// Delete the stack, then what this run made beside it (its image bake,
    /// the database's final snapshot). An operator's environment (no run
    /// tags) keeps its image. A run deletes only a stack tagged with its id.
    fn decommission(&self, env: &EnvName) -> Result<usize, BackendError> {
        let Some(run) = &self.engine.run else {
            self.block(|engine| async move { engine.decommission(env).await })?;
            return Ok(0);
        };
        let stand_ins = match &self.engine.data_plane {
            Some(plane) => plane.remove(env)?,
            None => 0,
        };
        self.delete_own_stack(env, &run.run_id)?;
        let removed = self.delete(SweepFilter {
            run: Some(run.run_id.clone()),
            now: SystemTime::now(),
            kinds: Some(RUN_ARTEFACTS),
        })?;
        Ok(removed.len() + stand_ins)
    }

    /// A run's objects; without a run, the expired ones (what the engine's
    /// sweep finds).
    fn labelled(&self, run: Option<&str>) -> Result<Vec<Labelled>, BackendError> {
        let mut found = self.find(SweepFilter {
            run: run.map(str::to_owned),
            now: SystemTime::now(),
            kinds: None,
        })?;
        if let Some(plane) = &self.engine.data_plane {
            found.extend(plane.docker.labelled(run)?);
        }
        Ok(found)
    }

    fn tagged_hosts(&self, run: &str) -> Result<Vec<Labelled>, BackendError> {
        self.find(SweepFilter {
            run: Some(run.to_owned()),
            now: SystemTime::now(),
            kinds: Some(TAGGED_HOSTS),
        })
    }

    fn sweep(&self, run: Option<&str>, now: SystemTime) -> Result<SweepReport, BackendError> {
        let filter = SweepFilter {
            run: run.map(str::to_owned),
            now,
            kinds: None,
        };
        let mut report = if run.is_some() {
            SweepReport {
                removed: self.delete(filter)?,
                ..SweepReport::default()
            }
        } else {
            self.try_delete(filter)?
        };
        // The stand-ins of what is gone, and those of the run or expired.
        if let Some(plane) = &self.engine.data_plane {
            let (instances, databases) = self.block(|engine| async move {
                Ok((
                    engine.aws.instances(&[]).await?,
                    engine.aws.db_instances().await?,
                ))
            })?;
            let docker = plane.sweep(run, now, &instances, &databases)?;
            report.removed.extend(docker.removed);
            report.failed.extend(docker.failed);
        }
        Ok(report)
    }

    /// Real AWS runs the real roles; an emulator's stand-in hosts stand in.
    fn stands_in(&self) -> bool {
        self.engine.data_plane.is_some()
    }

    fn data_plane(&self) -> Result<(), String> {
        self.engine.data_plane()
    }
}
