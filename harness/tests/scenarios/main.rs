//! The roles suite: every shipped scenario on Docker (one test each), the
//! scenarios that must fail and how they fail, and the guard's promise that
//! nothing is left behind. `cargo nextest run --profile roles` runs these.

mod failing;
mod leaks;
mod shipped;
