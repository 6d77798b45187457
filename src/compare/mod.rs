//! `replscope compare`: stage a scenario on real servers and show, side by side, what the
//! simulator predicted and what happened.
//!
//! * [`stage`]: starts a master and replicas on 127.0.0.1 (`replscope server` or a real
//!   `redis-server`), a [`proxy`] on each master-replica link (bandwidth, latency, cuts),
//!   calibrates `rdb-key-save-delay`/`key-load-delay`, fills the dataset with DEBUG POPULATE,
//!   drives the write load and the faults, polls INFO/CLIENT LIST and reads the log files.
//! * [`events`]: sync events from Redis log lines, for the simulator's log and the real ones.
//! * [`presets`]: the scenarios scaled down to stage in under two minutes each.
//!
//! The simulator runs on the scenario *as staged* (dataset size = the real RDB's, RDB and load
//! speeds = what calibration achieved), so the comparison tests the model, not the knobs.

pub mod events;
pub mod presets;
pub mod procs;
pub mod proxy;
pub mod resp;
pub mod stage;

pub use procs::Against;
pub use stage::{Calibration, Executables};

use crate::sim::{Scenario, Simulation, Summary};
use events::{full_sync_durations, parse_events, parse_log_line, sequence, Naming, SyncEvent};
use serde::Serialize;

/// A finished comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub scenario: String,
    pub against: String,
    pub predicted: Summary,
    pub measured: Summary,
    pub predicted_events: Vec<SyncEvent>,
    pub measured_events: Vec<SyncEvent>,
    pub calibration: Calibration,
    pub notes: Vec<String>,
    /// The master polled every ~100 ms: (ms, backlog histlen, omem of each replica).
    pub measured_samples: Vec<(u64, u64, Vec<u64>)>,
}

/// One row of the side-by-side table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub what: String,
    pub predicted: f64,
    pub measured: f64,
    /// (measured - predicted) / predicted; `None` when the prediction is 0 and the
    /// measurement is not.
    pub rel_error: Option<f64>,
    /// Counts (syncs, cut-offs) must match exactly; the others are durations and sizes.
    pub is_count: bool,
}

fn row(what: String, p: f64, m: f64, is_count: bool) -> Row {
    let rel_error = if p == 0.0 {
        if m == 0.0 {
            Some(0.0)
        } else {
            None
        }
    } else {
        Some((m - p) / p)
    };
    Row {
        what,
        predicted: p,
        measured: m,
        rel_error,
        is_count,
    }
}

/// Runs the simulator on `scenario` (seed 1) and returns its summary and sync events.
pub fn predict(scenario: &Scenario) -> (Summary, Vec<SyncEvent>) {
    let mut sim = Simulation::new(scenario, 1);
    sim.run_until(scenario.duration);
    let lines: Vec<(u64, String, String)> = sim
        .log()
        .iter()
        .map(|l| {
            let msg = parse_log_line(&l.line).map_or(l.line.clone(), |(_, m)| m);
            (l.t_ms, l.node.clone(), msg)
        })
        .collect();
    let n = scenario.replicas as usize;
    let naming = Naming {
        // The simulator's nodes are 10.0.0.1 (master), 10.0.0.2.. (replicas), all on 6379.
        replica_addrs: (0..n)
            .map(|i| (format!("10.0.0.{}:6379", i + 2), i))
            .collect(),
        replica_nodes: (0..n).map(|i| (format!("replica-{}", i + 1), i)).collect(),
        client_ports: Default::default(),
        replicas: n,
    };
    (sim.summary(), parse_events(&lines, &naming))
}

/// Stages `scenario` against `against`, predicts it, and pairs the two.
pub fn compare(
    scenario: &Scenario,
    against: Against,
    exes: &Executables,
    progress: &dyn Fn(&str),
) -> Result<Comparison, String> {
    let staged = stage::stage(scenario, against, exes, progress)?;
    let (mut predicted, predicted_events) = predict(&staged.scenario);
    predicted.until_ms = scenario.duration;
    let mut measured = staged.measured;
    for (m, p) in measured.replicas.iter_mut().zip(&predicted.replicas) {
        m.name = p.name.clone();
    }
    Ok(Comparison {
        scenario: scenario.name.clone(),
        against: against.as_str().to_string(),
        predicted,
        measured,
        predicted_events,
        measured_events: staged.events,
        calibration: staged.calibration,
        notes: staged.notes,
        measured_samples: staged.samples,
    })
}

impl Comparison {
    /// Replica `i`'s sync sequence: (predicted, measured).
    pub fn sequences(&self, i: usize) -> (Vec<&'static str>, Vec<&'static str>) {
        (
            sequence(&self.predicted_events, i),
            sequence(&self.measured_events, i),
        )
    }

    /// Whether every replica's sequence of sync kinds and cut-offs is the same.
    pub fn sequences_agree(&self) -> bool {
        (0..self.predicted.replicas.len()).all(|i| {
            let (p, m) = self.sequences(i);
            p == m
        })
    }

    /// The side-by-side numbers.
    pub fn rows(&self) -> Vec<Row> {
        let mut out = Vec::new();
        for (i, (p, m)) in self
            .predicted
            .replicas
            .iter()
            .zip(&self.measured.replicas)
            .enumerate()
        {
            let name = &p.name;
            out.push(row(
                format!("{name} full syncs"),
                p.full_syncs as f64,
                m.full_syncs as f64,
                true,
            ));
            out.push(row(
                format!("{name} partial syncs accepted"),
                p.partial_syncs_accepted as f64,
                m.partial_syncs_accepted as f64,
                true,
            ));
            out.push(row(
                format!("{name} partial syncs refused"),
                p.partial_syncs_refused as f64,
                m.partial_syncs_refused as f64,
                true,
            ));
            for (cause, pn) in &p.disconnects {
                let mn = m.disconnects.get(cause).copied().unwrap_or(0);
                if *pn > 0 || mn > 0 {
                    out.push(row(
                        format!("{name} disconnects: {cause}"),
                        *pn as f64,
                        mn as f64,
                        true,
                    ));
                }
            }
            let pd = full_sync_durations(&self.predicted_events, i);
            let md = full_sync_durations(&self.measured_events, i);
            for (k, (a, b)) in pd.iter().zip(&md).enumerate() {
                let how = if a.0 == b.0 {
                    a.0.to_string()
                } else {
                    format!("{}/{}", a.0, b.0)
                };
                out.push(row(
                    format!(
                        "{name} full sync #{} duration, s ({})",
                        k + 1,
                        if how == "ok" {
                            "to end of load"
                        } else {
                            "to cut-off"
                        }
                    ),
                    a.1 as f64 / 1000.0,
                    b.1 as f64 / 1000.0,
                    false,
                ));
            }
            out.push(row(
                format!("{name} peak output buffer, bytes"),
                p.peak_output_buffer_bytes as f64,
                m.peak_output_buffer_bytes as f64,
                false,
            ));
            out.push(row(
                format!("{name} final offset"),
                p.final_offset as f64,
                m.final_offset as f64,
                false,
            ));
        }
        out.push(row(
            "master BGSAVEs for sync".into(),
            self.predicted.master.bgsaves as f64,
            self.measured.master.bgsaves as f64,
            true,
        ));
        out.push(row(
            "master peak backlog, bytes".into(),
            self.predicted.master.peak_backlog_bytes as f64,
            self.measured.master.peak_backlog_bytes as f64,
            false,
        ));
        out.push(row(
            "master final offset".into(),
            self.predicted.master.final_offset as f64,
            self.measured.master.final_offset as f64,
            false,
        ));
        out
    }

    /// The comparison for the terminal.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "scenario {} staged against {} (simulator: the scenario as staged, seed 1)",
            self.scenario, self.against
        );
        for n in &self.notes {
            let _ = writeln!(o, "  staging: {n}");
        }
        for i in 0..self.predicted.replicas.len() {
            let (p, m) = self.sequences(i);
            let _ = writeln!(
                o,
                "replica-{} sequence {}\n  predicted: {}\n  measured:  {}",
                i + 1,
                if p == m { "AGREES" } else { "DIFFERS" },
                p.join(" "),
                m.join(" ")
            );
        }
        let _ = writeln!(
            o,
            "{:<52} {:>14} {:>14} {:>9}",
            "", "predicted", "measured", "error"
        );
        for r in self.rows() {
            let err = match r.rel_error {
                Some(e) => format!("{:+.1}%", e * 100.0),
                None => "n/a".into(),
            };
            let fmt = |v: f64| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            };
            let _ = writeln!(
                o,
                "{:<52} {:>14} {:>14} {:>9}",
                r.what,
                fmt(r.predicted),
                fmt(r.measured),
                err
            );
        }
        o
    }

    /// `{"predicted": <summary>, "measured": <summary>, ...}`: the two summaries in the
    /// `replscope sim` schema, then the sequences, rows and calibration.
    pub fn to_json(&self) -> serde_json::Value {
        let seqs: Vec<serde_json::Value> = (0..self.predicted.replicas.len())
            .map(|i| {
                let (p, m) = self.sequences(i);
                serde_json::json!({"replica": i + 1, "predicted": p, "measured": m, "agree": p == m})
            })
            .collect();
        serde_json::json!({
            "predicted": self.predicted,
            "measured": self.measured,
            "scenario": self.scenario,
            "against": self.against,
            "sequences": seqs,
            "rows": self.rows(),
            "calibration": self.calibration,
            "notes": self.notes,
            "predicted_events": self.predicted_events,
            "measured_events": self.measured_events,
            "measured_samples": self.measured_samples,
        })
    }
}
