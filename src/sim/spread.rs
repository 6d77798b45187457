//! Outcomes over many seeds. Where a run's story depends on phases (which second boundary a
//! timeout falls on, when in its 1 s cron a replica notices that a link is back), one seed
//! shows one possibility; [`run_seeds`] runs a range of seeds and counts how often each
//! outcome happens ("PSYNC accepted in 37 of 100 runs"), with the spread of the full syncs'
//! durations.
//!
//! Pure and mergeable: the page can split a range over web workers and [`Spread::merge`] the
//! parts (the JSON round-trips). The runs record counts only (`Simulation::counting`): no log,
//! trace or pictures, which would cost more than the replication itself.

use std::fmt::Write as _;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::scenario::Scenario;
use super::simulation::Simulation;
use super::summary::{full_sync_durations, Outcome, Step};
use super::units::HumanMs;

/// How many example seeds an outcome keeps (the smallest ones).
const EXAMPLE_SEEDS: usize = 5;

/// Counts over a set of runs of one scenario. See the module comment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Virtual time each run lasted.
    pub until_ms: u64,
    /// Runs counted.
    pub runs: u64,
    /// Each distinct outcome, most frequent first (ties: in outcome order).
    pub outcomes: Vec<OutcomeTally>,
    /// For each replica and event, in how many runs it happened at least once.
    pub events: Vec<EventTally>,
    /// Each replica's n-th full sync, by how it ended: its durations over the runs that had it.
    pub durations: Vec<DurationSpread>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeTally {
    pub outcome: Outcome,
    pub runs: u64,
    /// A few seeds that gave it (the smallest), to replay one with `--seed`.
    pub seeds: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTally {
    pub replica: String,
    /// `full sync`, `partial resync accepted`, `partial resync refused`,
    /// `output-buffer cut-off`, `timeout`, `in sync at end`.
    pub event: String,
    pub runs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationSpread {
    pub replica: String,
    /// 1 for the first full sync of the replica.
    pub full_sync: usize,
    /// How it ended: `loaded` (from the master's decision to the end of the replica's load),
    /// `obuf-cut` or `timeout` (to the cut-off).
    pub ended: Step,
    /// One value per run that had it, ascending.
    pub ms: Vec<u64>,
}

impl DurationSpread {
    pub fn min(&self) -> u64 {
        self.ms.first().copied().unwrap_or(0)
    }
    pub fn max(&self) -> u64 {
        self.ms.last().copied().unwrap_or(0)
    }
    /// The lower median.
    pub fn median(&self) -> u64 {
        self.ms
            .get(self.ms.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or(0)
    }
}

/// The events counted per replica, in the order they are listed.
const EVENTS: [&str; 6] = [
    "full sync",
    "partial resync accepted",
    "partial resync refused",
    "output-buffer cut-off",
    "timeout",
    "in sync at end",
];

/// Runs `scenario` once per seed of `seeds` until `until_ms` and counts the outcomes. Same
/// seeds, same counts, on every platform; `run_seeds(s, a..c, t)` equals `run_seeds(s, a..b,
/// t)` merged with `run_seeds(s, b..c, t)`.
pub fn run_seeds(scenario: &Scenario, seeds: Range<u64>, until_ms: u64) -> Spread {
    let mut spread = Spread {
        until_ms,
        ..Spread::default()
    };
    for seed in seeds {
        let mut sim = Simulation::counting(scenario, seed);
        sim.run_until(until_ms);
        spread.add_run(seed, &sim);
    }
    spread
}

impl Spread {
    /// Counts one finished run.
    pub fn add_run(&mut self, seed: u64, sim: &Simulation) {
        let outcome = sim.outcome();
        let summary = sim.summary();
        let mut part = Spread {
            until_ms: self.until_ms,
            runs: 1,
            ..Spread::default()
        };
        for (i, r) in summary.replicas.iter().enumerate() {
            let happened = [
                r.full_syncs > 0,
                r.partial_syncs_accepted > 0,
                r.partial_syncs_refused > 0,
                r.disconnects
                    .get("output_buffer_limit")
                    .copied()
                    .unwrap_or(0)
                    > 0,
                r.disconnects.get("timeout").copied().unwrap_or(0) > 0,
                r.in_sync_at_end,
            ];
            for (event, yes) in EVENTS.iter().zip(happened) {
                part.events.push(EventTally {
                    replica: r.name.clone(),
                    event: event.to_string(),
                    runs: u64::from(yes),
                });
            }
            for (n, ended, ms) in full_sync_durations(&sim.steps()[i]) {
                part.durations.push(DurationSpread {
                    replica: r.name.clone(),
                    full_sync: n,
                    ended,
                    ms: vec![ms],
                });
            }
        }
        part.outcomes.push(OutcomeTally {
            outcome,
            runs: 1,
            seeds: vec![seed],
        });
        self.merge(part);
    }

    /// Adds the runs counted in `other` (of the same scenario and duration).
    pub fn merge(&mut self, other: Spread) {
        if self.runs == 0 {
            self.until_ms = other.until_ms;
        }
        self.runs += other.runs;
        for o in other.outcomes {
            match self.outcomes.iter_mut().find(|x| x.outcome == o.outcome) {
                Some(x) => {
                    x.runs += o.runs;
                    x.seeds.extend(o.seeds);
                    x.seeds.sort_unstable();
                    x.seeds.dedup();
                    x.seeds.truncate(EXAMPLE_SEEDS);
                }
                None => self.outcomes.push(o),
            }
        }
        self.outcomes
            .sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.outcome.cmp(&b.outcome)));
        for e in other.events {
            match self
                .events
                .iter_mut()
                .find(|x| x.replica == e.replica && x.event == e.event)
            {
                Some(x) => x.runs += e.runs,
                None => self.events.push(e),
            }
        }
        for d in other.durations {
            match self.durations.iter_mut().find(|x| {
                x.replica == d.replica && x.full_sync == d.full_sync && x.ended == d.ended
            }) {
                Some(x) => {
                    x.ms.extend(d.ms);
                    x.ms.sort_unstable();
                }
                None => self.durations.push(d),
            }
        }
        self.durations.sort_by(|a, b| {
            (&a.replica, a.full_sync, a.ended).cmp(&(&b.replica, b.full_sync, b.ended))
        });
    }

    /// In how many runs `event` (see [`EventTally`]) happened to `replica`.
    pub fn runs_with(&self, replica: &str, event: &str) -> u64 {
        self.events
            .iter()
            .find(|e| e.replica == replica && e.event == event)
            .map_or(0, |e| e.runs)
    }

    /// The spread as text for the terminal.
    pub fn render(&self, scenario: &str, seeds: &Range<u64>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} runs of {scenario} (seeds {}..={}), {} each",
            self.runs,
            seeds.start,
            seeds.end.saturating_sub(1),
            HumanMs(self.until_ms)
        );
        let _ = writeln!(
            out,
            "\noutcomes (sequence of syncs and cut-offs per replica):"
        );
        const SHOWN: usize = 10;
        for o in self.outcomes.iter().take(SHOWN) {
            let seeds: Vec<String> = o.seeds.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "  {:>5} of {}  (seeds {})",
                o.runs,
                self.runs,
                seeds.join(", ")
            );
            for r in &o.outcome.replicas {
                let _ = writeln!(
                    out,
                    "      {:<10} {} -> {}",
                    r.name,
                    render_sequence(&r.sequence),
                    if r.in_sync_at_end {
                        "in sync"
                    } else {
                        "not in sync"
                    }
                );
            }
        }
        if self.outcomes.len() > SHOWN {
            let rest: u64 = self.outcomes[SHOWN..].iter().map(|o| o.runs).sum();
            let _ = writeln!(
                out,
                "  {rest:>5} of {}  in {} other outcomes",
                self.runs,
                self.outcomes.len() - SHOWN
            );
        }
        let _ = writeln!(
            out,
            "\nhow often (runs in which it happened at least once):"
        );
        for e in &self.events {
            let _ = writeln!(
                out,
                "  {:<10} {:<24} in {:>5} of {} runs",
                e.replica, e.event, e.runs, self.runs
            );
        }
        if !self.durations.is_empty() {
            let _ = writeln!(
                out,
                "\nfull syncs (min / median / max over the runs that had it):"
            );
            for d in &self.durations {
                let to = match d.ended {
                    Step::Loaded => "loaded",
                    Step::ObufCut => "cut off (output buffer)",
                    _ => "timed out",
                };
                let _ = writeln!(
                    out,
                    "  {:<10} #{:<3} {:<24} {} / {} / {}  ({} runs)",
                    d.replica,
                    d.full_sync,
                    to,
                    HumanMs(d.min()),
                    HumanMs(d.median()),
                    HumanMs(d.max()),
                    d.ms.len()
                );
            }
        }
        out
    }
}

/// `full, online, full, obuf-cut, full, obuf-cut, full` as `full, online, (full, obuf-cut) x2,
/// full`: repeats folded so an endless loop reads as one.
pub fn render_sequence(seq: &[Step]) -> String {
    if seq.is_empty() {
        return "(no sync)".into();
    }
    let labels: Vec<&str> = seq.iter().map(|s| s.label()).collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < labels.len() {
        // The longest period (up to 4) that repeats at least twice from here.
        let best = (1..=4)
            .filter_map(|p| {
                let mut n = 1;
                while i + (n + 1) * p <= labels.len()
                    && labels[i + n * p..i + (n + 1) * p] == labels[i..i + p]
                {
                    n += 1;
                }
                (n > 1).then_some((p, n))
            })
            .max_by_key(|(p, n)| (p * n, std::cmp::Reverse(*p)));
        match best {
            Some((p, n)) => {
                let unit = labels[i..i + p].join(", ");
                if p == 1 {
                    parts.push(format!("{unit} x{n}"));
                } else {
                    parts.push(format!("({unit}) x{n}"));
                }
                i += p * n;
            }
            None => {
                parts.push(labels[i].to_string());
                i += 1;
            }
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_fold_their_repeats() {
        use Step::*;
        assert_eq!(
            render_sequence(&[Full, Online, Full, ObufCut, Full, ObufCut, Full, ObufCut, Full]),
            "full, online, (full, obuf-cut) x3, full"
        );
        assert_eq!(
            render_sequence(&[Full, Online, Partial]),
            "full, online, partial"
        );
        assert_eq!(
            render_sequence(&[Timeout, Timeout, Full]),
            "timeout x2, full"
        );
        assert_eq!(render_sequence(&[]), "(no sync)");
    }
}
