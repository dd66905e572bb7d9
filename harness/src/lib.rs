//! argos-harness: throwaway Argos environments for tests.
//!
//! Each scenario in `scenarios/` will spin up an environment on a backend
//! (Docker, Vagrant, an AWS emulator or AWS), run create → converge →
//! idempotence → verify → destroy for a role, and always clean up. The
//! scenarios, the environment guard and the probes arrive with issue #5; the
//! emulator fixture with issue #3. Until then this crate only fixes the
//! workspace's shape: it builds on the same engine the CLI uses.

pub use argos_cloud as engine;
