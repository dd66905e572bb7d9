//! What is one project's own, not the engine's: Argos's stand-ins and the
//! probes `check` runs on an Argos environment.

pub mod argos;
