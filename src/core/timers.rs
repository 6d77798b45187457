//! The core's timers: one small table of deadlines; the next wake-up is one `min`
//! (quinn-proto's `TimerTable`).
//!
//! Redis drives replication from `serverCron` at `hz 10`: `clientsCron` every call (output
//! buffer soft limits), `replicationCron` every 10th call (`run_with_period(1000)`: connects,
//! timeouts, PINGs, keepalives, deferred forks). A node's cron grid is set by when its process
//! started, so two nodes' crons are out of step: [`CronPhase`] says where in the second a
//! node's later crons fall. Blocked clients (WAIT) time out at their own deadline.

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

/// When a node's crons run. `serverCron` runs every 100 ms (`hz 10`) and calls
/// `replicationCron` every 10th time (`run_with_period(1000)`).
///
/// The first `serverCron` runs 1 ms after the process starts (`initServer` creates the time
/// event with a 1 ms delay) with `cronloops` 0, when `run_with_period(1000)` is true: a
/// configured replica connects as soon as it boots, and replicas started together ask
/// together (and share one BGSAVE).
///
/// Where the later crons fall is `offset_ms` (0..1000: where in each second of the run
/// `replicationCron` falls, `clientsCron` on the same 100 ms grid), drawn from the seed. A
/// real grid does not stay where the process started: `processTimeEvents` re-arms
/// `serverCron` from the moment it ran, so every late wake-up moves it, and a blocking RDB
/// load (no time events run meanwhile) restarts it from the load's end. So a replica's cron
/// is out of step with everything else after its first sync, and it reconnects 0-1 s after a
/// link returns. Phase 0 puts the later crons on the run's own second boundaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CronPhase {
    pub offset_ms: u64,
}

/// `aeCreateTimeEvent(server.el, 1, serverCron, ...)` in `initServer`.
const FIRST_SERVER_CRON_AFTER_BOOT_MS: u64 = 1;

impl CronPhase {
    /// The first `serverCron` (`clientsCron` and `replicationCron` both) of a node that
    /// boots at `start_ms`.
    pub fn first_cron_ms(self, start_ms: u64) -> u64 {
        start_ms + FIRST_SERVER_CRON_AFTER_BOOT_MS
    }

    /// The `clientsCron` after one that ran at `at`: the next point of the phase's 100 ms grid.
    pub fn next_clients_cron_ms(self, at: u64) -> u64 {
        self.next_on_grid(at, CLIENTS_CRON_PERIOD_MS)
    }

    /// The `replicationCron` after one that ran at `at`: the next point of the phase's 1 s
    /// grid (a `serverCron` call too: the same 100 ms grid).
    pub fn next_replication_cron_ms(self, at: u64) -> u64 {
        self.next_on_grid(at, REPLICATION_CRON_PERIOD_MS)
    }

    /// The first `t > at` with `t = offset_ms (mod period)`.
    fn next_on_grid(self, at: u64, period: u64) -> u64 {
        let phase = self.offset_ms % period;
        let base = at - at % period + phase;
        if base > at {
            base
        } else {
            base + period
        }
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
    fn first_cron_at_boot_then_the_phase_grid() {
        let p0 = CronPhase::default();
        assert_eq!(p0.first_cron_ms(0), 1);
        assert_eq!(p0.first_cron_ms(5_234), 5_235);
        assert_eq!(p0.next_clients_cron_ms(1), 100);
        assert_eq!(p0.next_replication_cron_ms(1), 1_000);
        assert_eq!(p0.next_replication_cron_ms(1_000), 2_000);
        let p = CronPhase { offset_ms: 730 };
        assert_eq!(p.next_clients_cron_ms(1), 30);
        assert_eq!(p.next_clients_cron_ms(30), 130);
        assert_eq!(p.next_replication_cron_ms(5_235), 5_730);
        assert_eq!(p.next_replication_cron_ms(5_730), 6_730);
        // replicationCron lands on a clientsCron call (both are serverCron's).
        assert_eq!(
            (5_730 - p.next_clients_cron_ms(5_235)) % CLIENTS_CRON_PERIOD_MS,
            0
        );
    }
}
