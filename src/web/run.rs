//! One simulated run the app can move through in both directions.
//!
//! The simulator only goes forward, so going back restores the latest checkpoint (a clone of
//! the simulation) at or before the target and replays from there. The simulator is
//! deterministic, so the replayed state equals the one first seen. Checkpoints are taken every
//! `interval` of virtual time; when there are too many, every other one is dropped and the
//! interval doubles, so memory stays bounded for long runs.
//!
//! Changes made by hand (a parameter changed "from now", a link cut, a replica restarted) are
//! [`Edit`]s kept with their time and replayed whenever the run passes that time, so stepping
//! back before a change and forward again gives the same run. The state at a time includes
//! the edits made at that time; an edit drops the checkpoints and edits after it (it starts a
//! new future).

use crate::sim::{Scenario, Simulation};
use crate::view::{Mark, MarkKind};

const FIRST_INTERVAL_MS: u64 = 10_000;
const MAX_CHECKPOINTS: usize = 96;
/// Virtual time run between two looks at the clock when a seek has a deadline.
const SLICE_MS: u64 = 1_000;

/// A change made by hand at a moment of the run.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// A parameter takes this value from now on.
    Set(String, String),
    /// Replica `n` (1-based) loses its link for this many ms.
    Cut(usize, u64),
    /// Replica `n` (1-based) crashes and restarts.
    Restart(usize),
}

#[derive(Clone)]
pub struct Run {
    pub sim: Simulation,
    checkpoints: Vec<Simulation>,
    interval_ms: u64,
    /// `(time, edit)` in the order they were made.
    edits: Vec<(u64, Edit)>,
}

impl Run {
    pub fn new(scenario: &Scenario, seed: u64) -> Run {
        let sim = Simulation::new(scenario, seed);
        Run {
            checkpoints: vec![sim.clone()],
            sim,
            interval_ms: FIRST_INTERVAL_MS,
            edits: Vec::new(),
        }
    }

    /// The changes made by hand, with their times.
    pub fn edits(&self) -> &[(u64, Edit)] {
        &self.edits
    }

    /// Makes `edit` now. A refused change (a bad value) changes nothing.
    pub fn edit(&mut self, edit: Edit) -> Result<(), String> {
        let now = self.sim.now_ms();
        let mut next = self.sim.clone();
        apply(&mut next, &edit)?;
        self.sim = next;
        self.edits.retain(|(t, _)| *t <= now);
        self.edits.push((now, edit));
        // Checkpoints at or after now were taken without this change. The one at now is
        // replaced by the state with it (a checkpoint includes the edits of its time).
        let keep = self
            .checkpoints
            .partition_point(|c| c.now_ms() < now)
            .max(1);
        self.checkpoints.truncate(keep);
        if self.checkpoints[0].now_ms() == now {
            self.checkpoints[0] = self.sim.clone();
        } else {
            self.checkpoints.push(self.sim.clone());
        }
        Ok(())
    }

    /// Applies the edits made at exactly `t` (the simulation stands at `t`).
    fn replay_edits_at(&mut self, t: u64) {
        for (_, e) in self.edits.iter().filter(|(at, _)| *at == t) {
            // Each was applied once already when it was made: it cannot fail now.
            let _ = apply(&mut self.sim, e);
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.sim.now_ms()
    }

    /// Moves to virtual time `t_ms`, forwards or backwards.
    pub fn seek(&mut self, t_ms: u64) {
        self.seek_until(t_ms, &mut || false);
    }

    /// Moves towards `t_ms`, giving up early (between slices of a second of virtual time) once
    /// `late()` says the time allowed is spent. Returns whether `t_ms` was reached.
    pub fn seek_until(&mut self, t_ms: u64, late: &mut dyn FnMut() -> bool) -> bool {
        if t_ms < self.sim.now_ms() {
            let i = self.checkpoints.partition_point(|c| c.now_ms() <= t_ms);
            // checkpoints[0] is the run's start, so i >= 1 whenever t_ms >= start.
            self.sim = self.checkpoints[i.saturating_sub(1)].clone();
        }
        while self.sim.now_ms() < t_ms {
            let now = self.sim.now_ms();
            let last = self.checkpoints.last().map_or(0, |c| c.now_ms());
            let next_cp = last + self.interval_ms;
            let next_edit = self
                .edits
                .iter()
                .map(|(t, _)| *t)
                .find(|t| *t > now)
                .unwrap_or(u64::MAX);
            let step = t_ms
                .min(now + SLICE_MS)
                .min(next_cp.max(now + 1))
                .min(next_edit);
            self.sim.run_until(step);
            if step == next_edit {
                self.replay_edits_at(step);
            }
            if self.sim.now_ms() == next_cp {
                self.push_checkpoint();
            }
            if self.sim.now_ms() < t_ms && late() {
                return false;
            }
        }
        if t_ms == self.sim.now_ms() {
            return true;
        }
        // Already there (replaying to an earlier point of a checkpoint's interval).
        self.sim.run_until(t_ms);
        true
    }

    fn push_checkpoint(&mut self) {
        if self.checkpoints.last().map(|c| c.now_ms()) == Some(self.sim.now_ms()) {
            return;
        }
        self.checkpoints.push(self.sim.clone());
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Keep the start and every other checkpoint after it.
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.interval_ms *= 2;
        }
    }

    /// Advances to the time of the next log line (one "event" for a person), at most `limit`
    /// ms ahead. Returns whether anything was found.
    pub fn step_to_next_line(&mut self, limit_ms: u64) -> bool {
        let now = self.sim.now_ms();
        let seen = self.sim.log().partition_point(|l| l.t_ms <= now);
        if let Some(l) = self.sim.log().get(seen) {
            let t = l.t_ms;
            self.seek(t);
            return true;
        }
        self.advance_until(now + limit_ms, |s| s.log().len() > seen)
    }

    /// Advances to the next mark of an interesting kind (sync start, cut-off, resync, ...).
    pub fn step_to_next_mark(&mut self, limit_ms: u64) -> bool {
        let now = self.sim.now_ms();
        let interesting = |m: &Mark| m.t_ms > now && is_interesting(m.kind);
        if let Some(t) = self
            .sim
            .marks()
            .iter()
            .find(|m| interesting(m))
            .map(|m| m.t_ms)
        {
            self.seek(t);
            return true;
        }
        let before = self.sim.marks().len();
        self.advance_until(now + limit_ms, |s| {
            s.marks()[before..].iter().any(|m| is_interesting(m.kind))
        })
    }

    /// Runs event by event until `done` holds, or stays where it was if nothing does by
    /// `limit` (the checkpoints made on the way stay valid: the future is deterministic).
    fn advance_until(&mut self, limit: u64, done: impl Fn(&Simulation) -> bool) -> bool {
        let start = self.sim.now_ms();
        while let Some(t) = self.sim.next_event_ms() {
            if t > limit {
                break;
            }
            self.seek(t.max(self.sim.now_ms()));
            if done(&self.sim) {
                return true;
            }
            if self.sim.next_event_ms() == Some(t) {
                // The simulator did not move past t; avoid spinning.
                self.seek(t + 1);
                if done(&self.sim) {
                    return true;
                }
            }
        }
        self.seek(limit.max(self.sim.now_ms()));
        if done(&self.sim) {
            return true;
        }
        self.seek(start);
        false
    }

    /// Time of the last log line strictly before now (one step back), if any.
    pub fn previous_line_ms(&self) -> Option<u64> {
        let now = self.sim.now_ms();
        let before = self.sim.log().partition_point(|l| l.t_ms < now);
        before.checked_sub(1).map(|i| self.sim.log()[i].t_ms)
    }
}

fn apply(sim: &mut Simulation, edit: &Edit) -> Result<(), String> {
    match edit {
        Edit::Set(name, value) => sim.set_param(name, value).map_err(|e| e.to_string()),
        Edit::Cut(n, ms) => {
            sim.cut_link(*n, *ms);
            Ok(())
        }
        Edit::Restart(n) => {
            sim.restart_replica(*n);
            Ok(())
        }
    }
}

pub fn is_interesting(kind: MarkKind) -> bool {
    !matches!(kind, MarkKind::LinkRestored)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn preset() -> Scenario {
        Scenario::preset("disk-sync-loop").expect("the disk-sync-loop preset")
    }

    #[test]
    fn seeking_back_gives_the_state_first_seen() {
        let s = preset();
        let mut run = Run::new(&s, 7);
        run.seek(95_000);
        let later = run.sim.frame();
        run.seek(42_500);
        let back = run.sim.frame();
        let mut fresh = Simulation::new(&s, 7);
        fresh.run_until(42_500);
        assert_eq!(
            back,
            fresh.frame(),
            "seed 7: replay from a checkpoint differs from a fresh run"
        );
        run.seek(95_000);
        assert_eq!(run.sim.frame(), later, "seed 7: forward again differs");
    }

    #[test]
    fn edits_replay_when_the_run_passes_them_again() {
        let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        let mut run = Run::new(&s, 1);
        run.seek(25_000);
        run.edit(Edit::Set("repl-backlog-size".into(), "8mb".into()))
            .unwrap();
        run.seek(30_000);
        run.edit(Edit::Cut(1, 10_000)).unwrap();
        assert!(run
            .edit(Edit::Set("repl-backlog-size".into(), "lots".into()))
            .is_err());
        run.seek(60_000);
        let first = run.sim.frame();
        // The same changes made by hand on a fresh simulation.
        let mut native = Simulation::new(&s, 1);
        native.run_until(25_000);
        native.set_param("repl-backlog-size", "8mb").unwrap();
        native.run_until(30_000);
        native.cut_link(1, 10_000);
        native.run_until(60_000);
        assert_eq!(first, native.frame());
        // Back before both changes and forward again: the same run.
        run.seek(12_000);
        assert_eq!(
            run.sim.scenario().get("repl-backlog-size").as_deref(),
            Some("1mb")
        );
        run.seek(60_000);
        assert_eq!(run.sim.frame(), first);
        assert_eq!(run.edits().len(), 2);
        // A change made back in time starts a new future: the later edits are gone.
        run.seek(20_000);
        run.edit(Edit::Restart(1)).unwrap();
        assert_eq!(run.edits().len(), 1);
    }

    #[test]
    fn checkpoints_stay_bounded_on_long_runs() {
        let s = preset();
        let mut run = Run::new(&s, 1);
        run.seek(3_600_000);
        assert!(run.checkpoints.len() <= MAX_CHECKPOINTS);
        assert!(run.interval_ms > FIRST_INTERVAL_MS);
        assert_eq!(run.now_ms(), 3_600_000);
    }

    #[test]
    fn stepping_moves_to_log_lines_and_back() {
        let s = preset();
        let mut run = Run::new(&s, 3);
        assert!(run.step_to_next_line(60_000));
        let t1 = run.now_ms();
        assert!(
            run.sim.log().iter().any(|l| l.t_ms == t1),
            "stopped at a time with a log line"
        );
        assert!(run.step_to_next_mark(600_000));
        let t2 = run.now_ms();
        assert!(t2 >= t1);
        assert!(run
            .sim
            .marks()
            .iter()
            .any(|m| m.t_ms == t2 && is_interesting(m.kind)));
        let prev = run.previous_line_ms().expect("a line before the mark");
        assert!(prev < t2);
    }
}
