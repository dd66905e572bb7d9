//! A stack this process is making, deleted if the work on it is dropped
//! before it settles: Ctrl-C (the CLI drops the command's future), a panic,
//! a wait that gave up, or a library caller that stopped awaiting. Without
//! it an interrupted bake would leave its instance running, and an
//! interrupted commission a half-made environment.

use super::Aws;
use crate::sys::progress::{Event, Progress};

pub(super) struct StackGuard {
    aws: Aws,
    id: String,
    name: String,
    progress: Progress,
    armed: bool,
}

impl StackGuard {
    /// Guard stack `id` (its id, or a name no one else can hold); an
    /// unarmed guard (`--keep`) only watches.
    pub(super) fn new(aws: &Aws, id: &str, name: &str, progress: &Progress, armed: bool) -> Self {
        Self {
            aws: aws.clone(),
            id: id.to_owned(),
            name: name.to_owned(),
            progress: progress.clone(),
            armed,
        }
    }

    /// The work settled: the stack is kept, or was deleted by the work itself.
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }

    /// Send DeleteStack on a runtime of its own (the caller's may be the one
    /// being torn down); CloudFormation finishes the deletion by itself.
    fn delete(&self) -> Result<(), String> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    runtime.block_on(async {
                        let aws = self.aws.reconnect().await;
                        match aws.delete_stack(&self.id).await {
                            Ok(()) => Ok(()),
                            // Some endpoints answer an error after removing
                            // the stack (moto's DependencyViolation).
                            Err(e) => match aws.stack(&self.id).await {
                                Ok(None) => Ok(()),
                                Ok(Some(s)) if s.status.starts_with("DELETE_") => Ok(()),
                                _ => Err(e.to_string()),
                            },
                        }
                    })
                })
                .join()
                .unwrap_or_else(|_| Err("the cleanup thread panicked".into()))
        })
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let name = &self.name;
        self.progress.emit(Event::StackAbandoned {
            stack: name.clone(),
        });
        match self.delete() {
            Ok(()) => self.progress.emit(Event::StackDeleteSent {
                stack: name.clone(),
            }),
            Err(e) => self.progress.emit(Event::StackDeleteRefused {
                stack: name.clone(),
                reason: e.to_string(),
            }),
        }
    }
}
