//! Bringing hosts to their roles: the inventory of an environment (hosts by
//! their `Group` tag), the addresses it may connect to, `ansible-playbook`
//! runs and their reports, and the content key of the image bake.

pub mod bake;
pub mod deploy;
pub mod destinations;
pub mod inventory;
