//! Many seeds of one scenario, run in slices so the page stays responsive ("How often?").
//!
//! A [`SpreadJob`] owns the seed range still to run and the [`Spread`] counted so far; each
//! call to [`SpreadJob::step`] runs whole seeds until a time budget is spent (at least one seed,
//! so it always progresses) and merges them, so the page can run a slice per timer tick, show
//! the progress and drop the job to cancel. The counts equal `sim::run_seeds` over the same
//! range whatever the slicing (`Spread::merge` is order-independent). Pure: no DOM, unit-tested
//! natively.

use std::ops::Range;

use crate::sim::summary::Step;
use crate::sim::{run_seeds, Scenario, Spread};

/// Runs per spread the page offers; [`DEFAULT_RUNS`] is chosen until the person picks another.
pub const RUN_COUNTS: [u64; 3] = [20, 100, 500];
pub const DEFAULT_RUNS: u64 = 100;

pub struct SpreadJob {
    scenario: Scenario,
    seeds: Range<u64>,
    next: u64,
    spread: Spread,
}

impl SpreadJob {
    /// `runs` seeds from `first_seed` on (as `replscope sim --seed S --seeds N`), each run for
    /// the scenario's duration.
    pub fn new(scenario: &Scenario, first_seed: u64, runs: u64) -> SpreadJob {
        let end = first_seed.saturating_add(runs);
        SpreadJob {
            scenario: scenario.clone(),
            seeds: first_seed..end,
            next: first_seed,
            spread: Spread {
                until_ms: scenario.duration,
                ..Spread::default()
            },
        }
    }

    pub fn seeds(&self) -> Range<u64> {
        self.seeds.clone()
    }

    /// (runs done, runs asked for).
    pub fn progress(&self) -> (u64, u64) {
        (
            self.next - self.seeds.start,
            self.seeds.end - self.seeds.start,
        )
    }

    pub fn done(&self) -> bool {
        self.next >= self.seeds.end
    }

    /// Runs seeds until `spent()` says the slice's time is over (checked after each seed, so at
    /// least one runs) or the range is done. Returns whether the job is done.
    pub fn step(&mut self, spent: &mut dyn FnMut() -> bool) -> bool {
        while !self.done() {
            let seed = self.next;
            let part = run_seeds(&self.scenario, seed..seed + 1, self.spread.until_ms);
            self.spread.merge(part);
            self.next += 1;
            if spent() {
                break;
            }
        }
        self.done()
    }

    /// The counts so far (all of them once `done`).
    pub fn spread(&self) -> &Spread {
        &self.spread
    }

    pub fn into_spread(self) -> Spread {
        self.spread
    }
}

/// Which outcome (index into `spread.outcomes`) the run of `seed` had, when `seed` is the first
/// of the counted range (the page starts its range at the run on screen): each outcome keeps
/// its smallest seeds, so the first seed of the range is always among its outcome's.
pub fn outcome_of_first_seed(spread: &Spread, seed: u64) -> Option<usize> {
    spread.outcomes.iter().position(|o| o.seeds.contains(&seed))
}

/// The share of `runs` in `of`, in whole percent (rounded), for the bars' widths and words.
pub fn percent(runs: u64, of: u64) -> u64 {
    if of == 0 {
        return 0;
    }
    (runs * 100 + of / 2) / of
}

/// A sequence in people's words, repeats folded (`full sync, online, (full sync, cut off) ×3`),
/// through `word` so it can be translated. Uses the same folding as the CLI's text.
/// `none` is what an empty sequence reads as.
pub fn sequence_words(seq: &[Step], word: &dyn Fn(Step) -> &'static str, none: &str) -> String {
    if seq.is_empty() {
        return none.to_string();
    }
    // render_sequence folds on the short labels; map each label back to its words.
    let folded = crate::sim::spread::render_sequence(seq);
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            let step = [
                Step::Full,
                Step::Partial,
                Step::Online,
                Step::ObufCut,
                Step::Timeout,
            ]
            .into_iter()
            .find(|s| s.label() == token.as_str());
            match (step, token.strip_prefix('x')) {
                (Some(s), _) => out.push_str(word(s)),
                (None, Some(n)) if n.chars().all(|c| c.is_ascii_digit()) => {
                    out.push('×');
                    out.push_str(n);
                }
                _ => out.push_str(token),
            }
            token.clear();
        }
    };
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn short_scenario() -> Scenario {
        let mut s = Scenario::preset("backlog-sized").expect("preset");
        // Near the backlog's boundary, so seeds differ (see docs/simulator.md).
        s.set("repl-backlog-size", "12mb").expect("backlog size");
        s
    }

    #[test]
    fn slices_of_any_size_count_what_run_seeds_counts() {
        let s = short_scenario();
        let whole = run_seeds(&s, 3..9, s.duration);
        // One seed per slice, then everything in one slice.
        for budget in [0usize, usize::MAX] {
            let mut job = SpreadJob::new(&s, 3, 6);
            let mut slices = 0;
            let mut last = 0;
            loop {
                let mut n = 0usize;
                let done = job.step(&mut || {
                    n += 1;
                    n > budget
                });
                slices += 1;
                let (done_runs, of) = job.progress();
                assert_eq!(of, 6);
                assert!(done_runs > last, "every slice runs at least one seed");
                last = done_runs;
                assert_eq!(job.spread().runs, done_runs);
                if done {
                    break;
                }
            }
            assert_eq!(slices, if budget == 0 { 6 } else { 1 });
            assert_eq!(job.seeds(), 3..9);
            assert_eq!(job.into_spread(), whole, "budget {budget}");
        }
    }

    #[test]
    fn the_run_on_screen_is_found_among_the_outcomes() {
        let s = short_scenario();
        for first in 1..5 {
            let spread = run_seeds(&s, first..first + 8, s.duration);
            let mut sim = crate::sim::Simulation::new(&s, first);
            sim.run_until(s.duration);
            let i = outcome_of_first_seed(&spread, first).expect("the first seed is listed");
            assert_eq!(spread.outcomes[i].outcome, sim.outcome(), "seed {first}");
        }
    }

    #[test]
    fn shares_and_words() {
        assert_eq!(percent(64, 100), 64);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(0, 0), 0);
        let word = |s: Step| match s {
            Step::Full => "full sync",
            Step::Partial => "PSYNC accepted",
            Step::Online => "online",
            Step::ObufCut => "cut off",
            _ => "timed out",
        };
        use Step::*;
        assert_eq!(
            sequence_words(
                &[Full, Online, Full, ObufCut, Full, ObufCut, Full],
                &word,
                "no sync"
            ),
            "full sync, online, (full sync, cut off) ×2, full sync"
        );
        assert_eq!(
            sequence_words(&[Full, Online, Partial], &word, "no sync"),
            "full sync, online, PSYNC accepted"
        );
        assert_eq!(sequence_words(&[], &word, "no sync"), "no sync");
    }
}
