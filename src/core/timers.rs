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

/// Where a node's cron grid sits. `serverCron` runs every 100 ms (`hz 10`) and calls
/// `replicationCron` every 10th time (`run_with_period(1000)`), so a node's grid is fixed by
/// when its process started: `offset_ms` (0..1000) is where in each second of the run its
/// `replicationCron` falls, its `clientsCron` on the same 100 ms grid. Phase 0 puts every node
/// on the run's own second boundaries; real nodes are out of step with each other and with
/// everything else (a replica reconnects 0-1 s after a link returns, on its own cron).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CronPhase {
    pub offset_ms: u64,
}

impl CronPhase {
    /// The first 100 ms boundary of the run after a boot at `start_ms`.
    fn grid_start(start_ms: u64) -> u64 {
        (start_ms / CLIENTS_CRON_PERIOD_MS + 1) * CLIENTS_CRON_PERIOD_MS
    }

    /// The first `clientsCron` (the first `serverCron`) of a node that boots at `start_ms`.
    pub fn first_clients_cron_ms(self, start_ms: u64) -> u64 {
        Self::grid_start(start_ms) + self.offset_ms % CLIENTS_CRON_PERIOD_MS
    }

    /// The first `replicationCron` of a node that boots at `start_ms` (a `serverCron` call
    /// too: the same grid).
    pub fn first_replication_cron_ms(self, start_ms: u64) -> u64 {
        Self::grid_start(start_ms) + self.offset_ms % REPLICATION_CRON_PERIOD_MS
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
    fn phase_shifts_the_first_crons_on_one_grid() {
        let p0 = CronPhase::default();
        assert_eq!(p0.first_clients_cron_ms(0), 100);
        assert_eq!(p0.first_replication_cron_ms(0), 100);
        assert_eq!(p0.first_replication_cron_ms(5_234), 5_300);
        let p = CronPhase { offset_ms: 730 };
        assert_eq!(p.first_clients_cron_ms(0), 130);
        assert_eq!(p.first_replication_cron_ms(0), 830);
        // replicationCron lands on a clientsCron call (both are serverCron's).
        assert_eq!((830 - 130) % CLIENTS_CRON_PERIOD_MS, 0);
    }
}
