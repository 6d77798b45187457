//! The old name of `tests/support`: a test file written with `mod common; use common::*;`
//! keeps working.
#[path = "../support/mod.rs"]
mod support;
pub use support::*;
