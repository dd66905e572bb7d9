//! argos-cloud: the engine behind the `argos-cloud` CLI and the
//! `argos-harness` test harness. Data flows one way, a folder per stage:
//!
//! ```text
//! input/     what a user gives: files (regular, bounded), the environment,
//!            YAML as Ansible reads it, JSON with its lines
//!   ↓
//! model/     the project as data: names and tags, settings, topology
//!   ↓
//! cfn/       formations → template; settings → plan (parameters, tags);
//!            validate and cfn-lint, before any backend is touched
//!   ↓
//! backend/   where environments live: the trait (a leaf), and docker/,
//!            vagrant/, aws/ (with the emulator's data plane), chosen by
//!            backend::choose
//!   ↓
//! converge/  inventory by Group tag → ansible-playbook runs → reports;
//!            the image bake's content key
//!   ↓
//! probe/     health and connectivity of a running environment
//!   ↓
//! scenario/  a scenario file's steps on a throwaway environment, its report
//!
//! sys/       waits, signals and children, progress: used by every stage
//! profile/   what is Argos's own (stand-ins, its standard probes)
//! ```
//!
//! Each stage uses only the stages above it and `sys`; no backend uses
//! another (`layering.rs` checks both, and that no modules use each
//! other round a loop).

pub mod backend;
pub mod cfn;
pub mod cli;
pub mod converge;
pub mod input;
pub mod model;
pub mod probe;
pub mod profile;
pub mod scenario;
pub mod sys;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod layering;
