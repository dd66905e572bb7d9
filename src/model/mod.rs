//! What a project is, as data: its folder, the names and tags every
//! resource gets, its settings (the engine's keys and the project's own),
//! the topology of its environments, and the secrets among the values.

pub mod home;
pub mod names;
pub mod project;
pub mod secret;
pub mod settings;
pub mod topology;
