//! The AWS backend: commission, update, decommission, clean, status and sweep
//! on CloudFormation, EC2 and RDS — or on an emulator at another endpoint,
//! through exactly the same code.

pub mod data_plane;
mod hosts;
mod image;
mod provision;
mod resolver;
mod stack_guard;
mod stack_status;
mod stacks;
mod status;
mod sweep;

use std::time::Duration;

pub use argos_aws::{ApiTimeouts, Aws, AwsError, AwsOptions};
pub use hosts::{AwsHosts, Target};
pub use image::CleanReport;
pub use provision::Provisioner;
pub use resolver::{Placement, Resolver};
pub use stacks::{Decommissioned, Updated};
pub use status::{DatabaseStatus, EnvStatus, InstanceStatus, ResourceStatus, StackStatus};
pub use sweep::{SweepAction, SweepFilter, SweepItem, SweepReport};

use crate::cfn::template::Formations;
use crate::model::names::{EnvNames, RunTags};
use crate::model::settings::Settings;
use crate::sys::progress::{Event, Progress};

/// How long each kind of wait may take before it is an error.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Create or update of an environment stack (RDS alone takes ~10 min).
    pub stack: Duration,
    /// Delete of a stack.
    pub delete: Duration,
    /// An image becoming available after CreateImage.
    pub image: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            stack: Duration::from_secs(60 * 60),
            delete: Duration::from_secs(60 * 60),
            image: Duration::from_secs(45 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "stack {stack} already exists ({status}): use `update` to change it, or `decommission` \
         it first"
    )]
    StackExists { stack: String, status: String },
    #[error("stack {stack} does not exist: `commission` it first")]
    NotCommissioned { stack: String },
    #[error("stack {stack} is {status}; wait until it settles before updating it")]
    Busy { stack: String, status: String },
    #[error("creating stack {stack} failed: {reason}{}", if *kept { format!(" (kept for debugging: `argos-cloud {env} decommission` removes it)") } else { " (the failed stack was deleted)".to_owned() })]
    CreateFailed {
        stack: String,
        env: String,
        reason: String,
        kept: bool,
    },
    #[error("updating stack {stack} failed and was rolled back ({status}): {reason}")]
    UpdateFailed {
        stack: String,
        status: String,
        reason: String,
    },
    #[error("deleting stack {stack} failed: {}", resources.join("; "))]
    DeleteFailed {
        stack: String,
        resources: Vec<String>,
    },
    #[error("image {image}: {reason}")]
    Image { image: String, reason: String },
    #[error("gave up waiting for {what} after {:.0?}", after)]
    TimedOut { what: String, after: Duration },
    #[error(transparent)]
    Inventory(#[from] crate::converge::inventory::InventoryError),
    #[error("could not delete {what}")]
    Cleanup { what: String },
    #[error(transparent)]
    DataPlane(#[from] crate::backend::containers::DockerError),
}

impl From<crate::sys::wait::WaitError<EngineError>> for EngineError {
    fn from(error: crate::sys::wait::WaitError<EngineError>) -> Self {
        match error {
            crate::sys::wait::WaitError::TimedOut { what, after } => {
                EngineError::TimedOut { what, after }
            }
            crate::sys::wait::WaitError::Probe(e) => e,
        }
    }
}

/// Everything the AWS backend needs for one app: the clients, the checked
/// settings and formations, and where to report progress.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    pub aws: Aws,
    pub settings: Settings,
    pub formations: Formations,
    pub progress: Progress,
    pub timeouts: Timeouts,
    /// Set on environments the harness makes: every resource is tagged with it.
    pub run: Option<RunTags>,
    /// Runs the image playbook on the bake instance; `None` where hosts
    /// cannot be reached (an emulator), and the image is the base AMI.
    pub provisioner: Option<Provisioner>,
    /// Where instances are reached, and which addresses may be.
    pub resolver: Resolver,
    /// On an emulator: the hosts standing in for its instances and
    /// databases, when asked for (`--data-plane`).
    pub data_plane: Option<data_plane::DataPlane>,
}

impl AwsBackend {
    /// An operator's backend on `aws`: no run tags, no bake provisioner,
    /// the default timeouts, and the resolver `aws`'s endpoint calls for.
    pub fn new(aws: Aws, settings: Settings, formations: Formations, progress: Progress) -> Self {
        let resolver = Resolver::for_endpoint(aws.endpoint());
        Self {
            aws,
            settings,
            formations,
            progress,
            timeouts: Timeouts::default(),
            run: None,
            provisioner: None,
            resolver,
            data_plane: None,
        }
    }

    pub fn names(&self, env: &crate::model::names::EnvName) -> EnvNames {
        EnvNames::new(self.settings.app_name.clone(), env.clone())
    }

    fn emit(&self, event: Event) {
        self.progress.emit(event);
    }

    /// Whether hosts can be reached (SSH, probes); why not, on an emulator
    /// without stand-in hosts.
    pub fn data_plane(&self) -> Result<(), String> {
        match self.aws.endpoint() {
            Some(endpoint) if is_loopback(endpoint) && self.data_plane.is_none() => {
                Err("no data plane on the emulator".into())
            }
            _ => Ok(()),
        }
    }

    /// Which addresses of `names`'s environment may be connected to: on an
    /// emulator with stand-in hosts, their network's too.
    pub fn destinations(&self, names: &EnvNames) -> crate::converge::destinations::Destinations {
        let destinations = self.resolver.destinations().clone();
        match self
            .data_plane
            .as_ref()
            .and_then(|plane| plane.subnet(names))
        {
            Some(subnet) => destinations.with_network(subnet),
            None => destinations,
        }
    }

    /// The SSH login of `names`'s hosts: the user and the private key (the
    /// key pair's; on an emulator's stand-ins, the environment's own).
    pub fn login(
        &self,
        project: &crate::model::project::Project,
        names: &EnvNames,
    ) -> (String, std::path::PathBuf) {
        match &self.data_plane {
            Some(plane) => (
                crate::backend::containers::HOST_USER.to_owned(),
                plane.docker.private_key(names),
            ),
            None => (
                self.settings.access.ssh_user.clone(),
                self.key_pair_file(project),
            ),
        }
    }
}

/// How to reach AWS, or an emulator at `endpoint`. An emulator on this
/// machine takes any credentials; real AWS gets the SDK's own chain
/// (variables, profiles, SSO, instance roles).
pub fn options(region: &str, endpoint: Option<String>) -> AwsOptions {
    let endpoint = endpoint.filter(|e| !e.is_empty());
    let emulator_credentials = endpoint.as_deref().is_some_and(is_loopback)
        && std::env::var_os("AWS_ACCESS_KEY_ID").is_none();
    AwsOptions {
        region: region.to_owned(),
        endpoint,
        emulator_credentials,
        timeouts: Default::default(),
    }
}

/// Whether an endpoint is this machine, where only an emulator can be.
pub fn is_loopback(endpoint: &str) -> bool {
    let host = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(super::is_loopback("http://127.0.0.1:5000"));
        assert!(super::is_loopback("http://localhost:4566/"));
        assert!(!super::is_loopback(
            "https://cloudformation.us-east-1.amazonaws.com"
        ));
    }
}
