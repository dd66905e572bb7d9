//! What the user gives argos-cloud, read defensively: files (regular,
//! bounded, UTF-8), the environment (not assumed to be text), YAML as
//! Ansible reads it and JSON as CloudFormation reads it, each with the
//! line of every problem and no value of a secret in any message.

pub mod env;
pub mod file;
pub mod json;
pub mod yaml;
