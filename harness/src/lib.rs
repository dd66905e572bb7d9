//! argos-harness: throwaway Argos environments for tests.
//!
//! [`emulator`]: a local AWS API (moto's server) that the AWS backend runs
//! against unchanged. [`scenarios`]: the shipped scenario files run on a
//! local backend, as the `roles` test suite runs them. [`tools`]: the
//! Python tools both need (moto, Ansible, cfn-lint), in one venv made on
//! first use. [`molecule`]: Molecule beside argos-cloud, for the bench.
//! [`registry`]: a container registry on loopback, for the pull path.
//! [`skip`]: what a test does on a machine that lacks a part it needs.
//! [`StallingProxy`]: an emulator whose answers get lost, for
//! retries.

pub mod emulator;
pub mod molecule;
pub mod registry;
pub mod scenarios;
pub mod skip;
pub mod stalling_proxy;
pub mod tools;

pub use argos_cloud as engine;
pub use emulator::{Emulator, EmulatorError, EmulatorKind};
pub use stalling_proxy::StallingProxy;

/// The repository: where `formations/`, `playbooks/`, `scenarios/` and `.venv` are.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
        .to_owned()
}
