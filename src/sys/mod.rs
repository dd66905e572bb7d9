//! What every part leans on: waiting with a deadline, signals and the
//! children they end, and where progress goes.

pub mod process;
pub mod progress;
pub mod signal;
pub mod wait;
