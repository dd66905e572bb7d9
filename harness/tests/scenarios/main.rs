//! The roles suite: every shipped scenario on the `ARGOS_BACKEND` (docker by
//! default; one test each), app and knowledge on Vagrant too, the
//! scenarios that must fail and how they fail, the guard's promise that
//! nothing is left behind, and the machine's apt cache the hosts download
//! through. `cargo nextest run --profile roles` runs these.

mod apt_cache;
mod bake;
mod failing;
mod galaxy;
mod leaks;
mod shipped;
mod vagrant;
