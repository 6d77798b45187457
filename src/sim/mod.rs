//! A deterministic discrete-event simulator around the replication core: one master and 1 to
//! 8 replicas (core [`crate::core::Instance`]s) joined by simulated links, with a fork child
//! whose RDB write and copy-on-write memory cost time and RAM, disks, an RDB loader, a write
//! workload and faults. Same scenario + seed = byte-identical trace, natively and in wasm32.
//!
//! * [`Scenario`]: the setup as data (TOML with line/field errors, `set`/`get` by name,
//!   Redis config names included); [`params()`] lists every settable key for sliders;
//!   [`presets()`] are scenarios shipped in the binary (`src/sim/presets/*.toml`), each with an
//!   `expect` sentence and a `[check]` table the tests assert.
//! * [`Simulation`]: `new(&scenario, seed)`, `run_until(t)`, views for the web (`frame`, `log`,
//!   `spans`, `marks`, `samples`, `info_replication`), faults on command (`cut_link`,
//!   `restart_replica`, `kill_master`), `set_param` from now on, `summary`, `trace_hash`.
//!   `Clone`: a clone is a checkpoint to step back to.
//! * [`advise`]: the sizing arithmetic behind `replscope advise` (pure; the web calls it too).
//! * [`run_seeds`]: a scenario over a range of seeds, how often each outcome happens
//!   ([`Spread`], mergeable, for `replscope sim --seeds N` and the page's workers).
//!
//! The replication itself (PSYNC decisions, buffers and their limits, states, log lines) is
//! the core's; this module only decides when things happen and how fast bytes move. Inside,
//! the world (`simulation/`) owns components that own their state: the network (`net.rs`),
//! the fork child (`fork.rs`) and the recorder (`recorder.rs`); see docs/architecture.md.

pub mod advise;
mod agenda;
mod fork;
mod models;
mod net;
pub mod presets;
mod recorder;
pub mod rng;
pub mod scenario;
mod serde_units;
mod simulation;
pub mod spread;
pub mod summary;
pub mod units;

pub use advise::{Advice, AdviseInput};
pub use presets::{presets, PresetInfo};
pub use recorder::TraceEvent;
pub use scenario::{params, ParamSpec, Scenario, ScenarioError};
pub use simulation::Simulation;
pub use spread::{run_seeds, Spread};
pub use summary::Summary;

/// Runs preset `preset` with `seed` until `until_ms` and returns its trace hash (the value the
/// wasm test compares with the native one). `None` for an unknown preset.
pub fn trace_hash(preset: &str, seed: u64, until_ms: u64) -> Option<u64> {
    let s = Scenario::preset(preset)?;
    let mut sim = Simulation::new(&s, seed);
    sim.run_until(until_ms);
    Some(sim.trace_hash())
}

/// The summary as a table for the terminal.
pub fn render_summary_table(s: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>6} {:>8} {:>8} {:>12} {:>14} {:>14} {:>8}",
        "replica",
        "full",
        "psync ok",
        "refused",
        "disconnects",
        "peak obuf",
        "final offset",
        "in sync"
    );
    for r in &s.replicas {
        let disc: u64 = r.disconnects.values().sum();
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>8} {:>8} {:>12} {:>14} {:>14} {:>8}",
            r.name,
            r.full_syncs,
            r.partial_syncs_accepted,
            r.partial_syncs_refused,
            disc,
            units::HumanBytes(r.peak_output_buffer_bytes).to_string(),
            r.final_offset,
            if r.in_sync_at_end {
                "yes"
            } else if r.is_master {
                "master"
            } else {
                "no"
            }
        );
        let causes: Vec<String> = r
            .disconnects
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        if !causes.is_empty() {
            let _ = writeln!(out, "{:<12} disconnects: {}", "", causes.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "master: final offset {}, peak backlog {}, BGSAVEs {}, peak fork CoW {}",
        s.master.final_offset,
        units::HumanBytes(s.master.peak_backlog_bytes),
        s.master.bgsaves,
        units::HumanBytes(s.master.peak_cow_bytes)
    );
    out
}
