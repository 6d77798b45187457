//! When things happen in a simulated run: one clock, and agendas of timed events that all
//! share one sequence, so events at the same millisecond run in the order they were
//! scheduled whichever component holds them. (Ordered maps only: iteration order never
//! depends on hashing, so a run is the same on every platform.)

use std::collections::BTreeMap;

/// Virtual time (ms) and the sequence that orders events scheduled for the same time.
#[derive(Clone, Debug, Default)]
pub struct SimClock {
    now: u64,
    seq: u64,
}

impl SimClock {
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Move to `t` (never backwards).
    pub fn advance_to(&mut self, t: u64) {
        self.now = self.now.max(t);
    }

    /// The key of an event scheduled now for time `t` (a past time means now).
    fn stamp(&mut self, t: u64) -> (u64, u64) {
        self.seq += 1;
        (t.max(self.now), self.seq)
    }
}

/// Timed events of one component, in (time, sequence) order.
#[derive(Clone, Debug)]
pub struct Agenda<E> {
    items: BTreeMap<(u64, u64), E>,
}

impl<E> Default for Agenda<E> {
    fn default() -> Self {
        Agenda {
            items: BTreeMap::new(),
        }
    }
}

impl<E> Agenda<E> {
    pub fn schedule(&mut self, clock: &mut SimClock, t: u64, e: E) {
        self.items.insert(clock.stamp(t), e);
    }

    /// The key of the next event.
    pub fn peek(&self) -> Option<(u64, u64)> {
        self.items.keys().next().copied()
    }

    /// Every waiting event, in the order they will run (read-only, for pictures).
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.items.values()
    }

    pub fn pop(&mut self) -> Option<E> {
        self.items.pop_first().map(|(_, e)| e)
    }
}
