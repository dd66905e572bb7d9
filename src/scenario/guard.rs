//! The environment guard: owns a throwaway environment from before its
//! first resource exists until every resource is gone. `destroy` is the
//! normal way out; `Drop` is the way out on `?`, on a panic, and when the run
//! future is dropped because SIGINT or SIGTERM arrived (see
//! [`crate::sys::signal::until_signal`]). With keep-on-failure a failed environment is
//! left standing and the guard prints how to reach it and how to delete it.
//!
//! The guard owns only what its run made. An environment that exists when
//! the run's create starts (an operator's `staging`, another run's), or
//! anything that carries the run's id already (a kept run of the same
//! `--env`), is an error that names it; the run then made nothing, and its
//! teardown, its keep-on-failure and its leak check touch nothing at all.
//! Once the run makes something, the backend tears down by the run's
//! `argos:run` id, never by the environment's name.

use crate::backend::containers::Labelled;
use crate::backend::{Backend, BackendError, HostSpec};
use crate::model::names::{EnvName, RunTags};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(
        "environment {stack} exists already ({what}); this run made nothing and leaves it as \
         it is: run the scenario on another --env (or none, for a throwaway name)"
    )]
    Exists { stack: String, what: String },
    #[error(
        "the run id {run} is taken: {what} already tagged {key}={run} (a run kept with \
         keep-on-failure?); this run made nothing and leaves them as they are: run the scenario \
         on another --env, or remove them with `argos-cloud --backend {backend} {run} sweep \
         --run {run} --yes`",
        key = crate::model::names::tag_keys::RUN
    )]
    RunIdTaken {
        run: String,
        what: String,
        backend: String,
    },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

pub struct EnvironmentGuard {
    backend: Box<dyn Backend>,
    env: EnvName,
    run_id: String,
    keep_on_failure: bool,
    /// Whether this run has made (or started to make) anything: false
    /// until its create found the environment free.
    made: bool,
    /// A kept environment of the development loop: it stays when the run
    /// ends, whatever happened, until its destroy.
    kept: bool,
    destroyed: bool,
    failed: bool,
    done: bool,
}

impl EnvironmentGuard {
    /// Guard `env` on `backend`, which labels what it makes with `run`.
    /// Nothing is made yet: create inside the guard, so a half-made
    /// environment is removed too.
    pub fn new(
        backend: Box<dyn Backend>,
        env: EnvName,
        run: &RunTags,
        keep_on_failure: bool,
    ) -> Self {
        Self {
            backend,
            env,
            run_id: run.run_id.clone(),
            keep_on_failure,
            made: false,
            kept: false,
            destroyed: false,
            failed: false,
            done: false,
        }
    }

    /// A guard of a kept environment (the development loop): it stays
    /// when the run ends, until a destroy step removes it.
    pub fn kept(backend: Box<dyn Backend>, env: EnvName, run: &RunTags) -> Self {
        let mut guard = Self::new(backend, env, run, false);
        guard.kept = true;
        guard
    }

    /// Take on the kept environment an earlier command made, after checking
    /// it is this run id's: what carries another id, or none, is not ours.
    pub fn adopt(&mut self) -> Result<(), String> {
        let ours = self
            .backend
            .labelled(Some(&self.run_id))
            .map_err(|e| e.to_string())?;
        if ours.is_empty() {
            return Err(format!(
                "environment {} exists but carries no {}={}: it is not this scenario's kept \
                 environment, and is left as it is",
                self.backend.names(&self.env).stack(),
                crate::model::names::tag_keys::RUN,
                self.run_id
            ));
        }
        self.made = true;
        Ok(())
    }

    /// Whether this is a kept environment of the development loop.
    pub fn is_kept(&self) -> bool {
        self.kept
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub fn env(&self) -> &EnvName {
        &self.env
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Make the environment's hosts, unless the environment exists: then
    /// nothing is made and the error names what is there.
    pub fn commission(&mut self, hosts: &[HostSpec]) -> Result<(), CreateError> {
        if let Some(what) = self.backend.existing(&self.env)? {
            return Err(CreateError::Exists {
                stack: self.backend.names(&self.env).stack(),
                what,
            });
        }
        // Teardown goes by the run id: it must be this run's alone.
        let taken = self.backend.labelled(Some(&self.run_id))?;
        if !taken.is_empty() {
            return Err(CreateError::RunIdTaken {
                run: self.run_id.clone(),
                what: taken
                    .iter()
                    .map(|o| format!("{} {}", o.kind, o.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                backend: self.backend.kind().into(),
            });
        }
        // From here on a failure may leave a half-made environment: ours.
        self.made = true;
        Ok(self.backend.commission(&self.env, hosts)?)
    }

    /// Whether this run made anything (its create found the environment free).
    pub fn made(&self) -> bool {
        self.made
    }

    /// A step failed: keep-on-failure now applies.
    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    /// Whether a failed environment is to be kept rather than destroyed
    /// (never one this run did not make).
    pub fn keeps(&self) -> bool {
        self.made
            && !self.destroyed
            && (self.kept || self.keep_on_failure && (self.failed || std::thread::panicking()))
    }

    /// Decommission what this run made (by its run id), then look for
    /// anything of this run still there. Returns the leftovers (empty when
    /// all is gone). A run that made nothing touches nothing. This is
    /// cleanup: a signal (the usual reason it runs) does not stop it.
    pub fn destroy(&mut self) -> Result<Vec<Labelled>, String> {
        self.done = true;
        self.destroyed = true;
        if !self.made {
            return Ok(Vec::new());
        }
        crate::sys::signal::cleanup(|| self.remove())
    }

    fn remove(&self) -> Result<Vec<Labelled>, String> {
        self.backend
            .decommission(&self.env)
            .map_err(|e| e.to_string())?;
        let mut left = self
            .backend
            .labelled(Some(&self.run_id))
            .map_err(|e| e.to_string())?;
        if !left.is_empty() {
            // Whatever decommission missed goes by label, and still counts as a leak.
            let _ = self
                .backend
                .sweep(Some(&self.run_id), std::time::SystemTime::now());
            left.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        }
        Ok(left)
    }

    /// Leave the (failed) environment standing; what to tell the user.
    pub fn keep(&mut self) -> String {
        self.done = true;
        self.how_to_reach()
    }

    /// What to tell a user about a kept environment (read even after a signal).
    pub fn how_to_reach(&self) -> String {
        crate::sys::signal::cleanup(|| self.reach())
    }

    fn reach(&self) -> String {
        let names = self.backend.names(&self.env);
        let why = if self.kept {
            "argos-cloud converge, verify, login, destroy"
        } else {
            "for debugging (keep-on-failure)"
        };
        let mut text = format!("kept environment {} ({why}):\n", names.stack());
        if let Ok(status) = self.backend.status(&self.env) {
            for host in status {
                text.push_str(&format!("  {}    # {}\n", host.login, host.group));
            }
        }
        if self.kept {
            text.push_str("  delete it: argos-cloud destroy");
        } else {
            text.push_str(&format!(
                "  delete it: argos-cloud --backend {} {} decommission",
                self.backend.kind(),
                self.env
            ));
        }
        text
    }
}

impl Drop for EnvironmentGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.keeps() {
            // The loop's commands say how to go on themselves.
            if !self.kept {
                eprintln!("{}", self.how_to_reach());
            }
            return;
        }
        match self.destroy() {
            Ok(left) if left.is_empty() => {}
            Ok(left) => eprintln!(
                "argos-cloud: removed leftovers of {}: {}",
                self.env,
                left.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(error) => eprintln!(
                "argos-cloud: could not remove environment {}: {error}\n  remove it with: argos-cloud --backend {} {} sweep --run {} --yes",
                self.env,
                self.backend.kind(),
                self.env,
                self.run_id
            ),
        }
    }
}
