//! argos-cloud: the engine behind the `argos-cloud` CLI and the
//! `argos-harness` test harness.
//!
//! Data flows one way, one module per arrow:
//! settings ([`settings`]) and names ([`names`]) make a [`plan`]; formations
//! merge into a [`template`]; [`validate`] and [`lint`] check both before any
//! backend is touched.

pub mod argos;
pub mod aws;
pub mod backend;
pub mod backends;
pub mod bake;
pub mod cli;
pub mod deploy;
pub mod destinations;
pub mod docker;
pub mod input;
pub mod inventory;
pub mod lint;
pub mod names;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod project;
pub mod scenario;
pub mod secret;
pub mod settings;
pub mod signal;
pub mod template;
pub mod topology;
pub mod vagrant;
pub mod validate;
pub mod wait;

#[cfg(test)]
mod fuzz;
