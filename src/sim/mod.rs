//! A deterministic discrete-event simulator around the replication core.

pub mod advise;
pub mod presets;
pub mod rng;
pub mod scenario;
mod serde_units;
pub mod units;

pub use presets::{presets, PresetInfo};
pub use scenario::{params, ParamSpec, Scenario, ScenarioError};
