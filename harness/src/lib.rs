//! argos-harness: throwaway Argos environments for tests.
//!
//! Today: [`emulator`], a local AWS API (moto's server) that the AWS backend
//! runs against unchanged. Scenarios, the environment guard and the probes
//! (Docker, Vagrant) arrive with issue #5.

pub mod emulator;
pub mod environment;

pub use argos_cloud as engine;
pub use emulator::{Emulator, EmulatorError, EmulatorKind};
pub use environment::{DockerEnvironment, EnvironmentError};
