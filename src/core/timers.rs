//! The core's timers: one small table of deadlines; the next wake-up is one `min`
//! (quinn-proto's `TimerTable`).
//!
//! Redis drives replication from `serverCron` at `hz 10`: `clientsCron` every call (output
//! buffer soft limits), `replicationCron` every 10th call (`run_with_period(1000)`: connects,
//! timeouts, PINGs, keepalives, deferred forks). A node's cron grid is set by when its process
//! started, so two nodes' crons are out of step: [`CronPhase`] says where in the second a
//! node's first `serverCron` falls. Blocked clients (WAIT) time out at their own deadline.

/// The timers a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// `clientsCron`, 10 Hz.
    ClientsCron = 0,
    /// `replicationCron`, 1 Hz. After `ClientsCron` at equal deadlines, as `serverCron` calls
    /// them.
    ReplicationCron = 1,
    /// The earliest WAIT timeout.
    WaitTimeout = 2,
}

impl Timer {
    const ALL: [Timer; 3] = [
        Timer::ClientsCron,
        Timer::ReplicationCron,
        Timer::WaitTimeout,
    ];
}

/// `1000 / hz` with Redis's default `hz 10`.
pub const CLIENTS_CRON_PERIOD_MS: u64 = 100;
/// `replicationCron`'s period.
pub const REPLICATION_CRON_PERIOD_MS: u64 = 1000;

/// Where a node's cron grid sits: its first `serverCron` (which also runs `replicationCron`)
/// comes `offset_ms` after the first 100 ms boundary of the run following its boot. Phase 0
/// puts every node on the same grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CronPhase {
    pub offset_ms: u64,
}

impl CronPhase {
    /// The first `serverCron` of a node that boots at `start_ms`.
    pub fn first_cron_ms(self, start_ms: u64) -> u64 {
        (start_ms / CLIENTS_CRON_PERIOD_MS + 1) * CLIENTS_CRON_PERIOD_MS + self.offset_ms
    }
}

/// One deadline per [`Timer`] (`None` = not armed).
#[derive(Clone, Debug, Default)]
pub struct TimerTable {
    deadlines: [Option<u64>; 3],
}

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: Option<u64>) {
        self.deadlines[timer as usize] = at;
    }

    pub fn get(&self, timer: Timer) -> Option<u64> {
        self.deadlines[timer as usize]
    }

    /// The next wake-up.
    pub fn next_timeout(&self) -> Option<u64> {
        self.deadlines.iter().flatten().copied().min()
    }

    /// The earliest timer due at or before `now` (ties in [`Timer`] order).
    pub fn next_expired(&self, now: u64) -> Option<(Timer, u64)> {
        Timer::ALL
            .iter()
            .filter_map(|t| self.get(*t).map(|at| (*t, at)))
            .filter(|(_, at)| *at <= now)
            .min_by_key(|(t, at)| (*at, *t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_cron_order_on_ties() {
        let mut t = TimerTable::default();
        assert_eq!(t.next_timeout(), None);
        t.set(Timer::ReplicationCron, Some(100));
        t.set(Timer::ClientsCron, Some(100));
        t.set(Timer::WaitTimeout, Some(50));
        assert_eq!(t.next_timeout(), Some(50));
        assert_eq!(t.next_expired(49), None);
        assert_eq!(t.next_expired(100), Some((Timer::WaitTimeout, 50)));
        t.set(Timer::WaitTimeout, None);
        assert_eq!(t.next_expired(100), Some((Timer::ClientsCron, 100)));
        t.set(Timer::ClientsCron, Some(200));
        assert_eq!(t.next_expired(100), Some((Timer::ReplicationCron, 100)));
    }

    #[test]
    fn phase_shifts_the_first_cron() {
        assert_eq!(CronPhase::default().first_cron_ms(0), 100);
        assert_eq!(CronPhase::default().first_cron_ms(5_234), 5_300);
        assert_eq!(CronPhase { offset_ms: 730 }.first_cron_ms(0), 830);
    }
}
