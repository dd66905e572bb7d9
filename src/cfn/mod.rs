//! CloudFormation before any API call: formations read and merged into a
//! template, the plan of a stack's parameters and tags, the checks of
//! `validate` (references, tags, topology, size, policy, cfn-lint).

pub mod lint;
pub mod plan;
pub mod policy;
pub mod template;
pub mod validate;
