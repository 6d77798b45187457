//! The sizing adviser: from a write load, a dataset and the machine's speeds, the
//! `repl-backlog-size` and `client-output-buffer-limit replica` that avoid the two classic
//! replication failures, with the arithmetic shown so a reader can check it.
//!
//! It uses the same model the simulator plays out (`sim/simulation`): the replica's output
//! buffer on the master fills from the fork (`replicationSetupSlaveForFullResync` starts it)
//! until the replica has received *and loaded* the RDB (it reads its link again only after
//! `rdbLoad`), and a reconnecting replica can resume only if the backlog still holds every
//! byte written while it was away (`masterTryPartialResynchronization`). Pure computation:
//! the web app calls it too.

use super::units::{format_bytes, HumanBytes};
use serde::{Deserialize, Serialize};

/// What the adviser needs to know. Speeds are bytes per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdviseInput {
    /// Writes per second.
    pub write_rate: f64,
    /// Bytes each write adds to the replication stream (a SET's RESP size).
    pub bytes_per_write: u64,
    /// Overrides `write_rate * bytes_per_write` when set.
    pub stream_bytes_per_sec: Option<f64>,
    pub dataset_bytes: u64,
    pub bandwidth: u64,
    pub disk_write_speed: u64,
    pub disk_read_speed: u64,
    /// How fast the fork child serialises the dataset.
    pub rdb_speed: u64,
    pub load_speed: u64,
    /// Fork pause per GB, in ms.
    pub fork_ms_per_gb: u64,
    /// The link outage a partial resync must survive, in ms.
    pub outage_ms: u64,
    /// `repl-diskless-sync`.
    pub diskless: bool,
    /// Headroom multiplier on every estimate (1.5 = 50 % spare).
    pub safety: f64,
}

impl Default for AdviseInput {
    fn default() -> Self {
        AdviseInput {
            write_rate: 1000.0,
            bytes_per_write: 150,
            stream_bytes_per_sec: None,
            dataset_bytes: 1 << 30,
            bandwidth: 100 << 20,
            disk_write_speed: 200 << 20,
            disk_read_speed: 400 << 20,
            rdb_speed: 300 << 20,
            load_speed: 150 << 20,
            fork_ms_per_gb: 15,
            outage_ms: 60_000,
            diskless: false,
            safety: 1.5,
        }
    }
}

impl AdviseInput {
    /// The load and machine of a scenario, to survive an outage of `outage_ms`.
    pub fn from_scenario(s: &super::Scenario, outage_ms: u64) -> AdviseInput {
        AdviseInput {
            write_rate: s.workload.rate,
            bytes_per_write: s.bytes_per_write(),
            stream_bytes_per_sec: None,
            dataset_bytes: s.dataset.size,
            bandwidth: s.link.bandwidth,
            disk_write_speed: s.disk.write_speed,
            disk_read_speed: s.disk.read_speed,
            rdb_speed: s.fork.rdb_speed,
            load_speed: s.replica.load_speed,
            fork_ms_per_gb: s.fork.time_per_gb,
            outage_ms,
            diskless: s.redis.repl_diskless_sync,
            safety: 1.5,
        }
    }
}

/// The recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub stream_bytes_per_sec: f64,
    /// Seconds from the fork until the replica has loaded the RDB.
    pub full_sync_seconds: f64,
    /// Bytes that pile up in the replica's output buffer during a full sync.
    pub buffer_peak_bytes: u64,
    /// Seconds the buffer needs to drain after the load (infinite if the link is too slow).
    pub drain_seconds: f64,
    pub repl_backlog_size: u64,
    pub obuf_hard: u64,
    pub obuf_soft: u64,
    pub obuf_soft_seconds: u64,
    /// The arithmetic, one step per line.
    pub steps: Vec<String>,
    /// Things no setting can fix (e.g. a link slower than the write stream).
    pub warnings: Vec<String>,
}

impl Advice {
    /// `client-output-buffer-limit replica ...` and `repl-backlog-size ...` as config lines.
    pub fn config_lines(&self) -> String {
        format!(
            "repl-backlog-size {}\nclient-output-buffer-limit replica {} {} {}\n",
            format_bytes(self.repl_backlog_size),
            format_bytes(self.obuf_hard),
            format_bytes(self.obuf_soft),
            self.obuf_soft_seconds
        )
    }
}

/// Rounds up to a power of two of megabytes (at least 1mb): sizes people can read at a glance.
fn round_up_mb(bytes: f64) -> u64 {
    let mb = (bytes / (1u64 << 20) as f64).ceil().max(1.0) as u64;
    mb.next_power_of_two() << 20
}

fn secs(bytes: u64, speed: u64) -> f64 {
    if speed == 0 {
        f64::INFINITY
    } else {
        bytes as f64 / speed as f64
    }
}

/// Computes the recommendation, one step of arithmetic per line of `steps`.
pub fn advise(i: &AdviseInput) -> Advice {
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    let stream = stream_rate(i, &mut steps);
    let window = full_sync_window(i, &mut steps);
    let peak = stream * window;
    steps.push(format!(
        "buffer peak = {}/s x {:.1} s = {}",
        HumanBytes(stream as u64),
        window,
        HumanBytes(peak as u64)
    ));
    let drain = drain_time(i, stream, peak, &mut steps, &mut warnings);
    let (hard, soft, soft_secs) = buffer_limits(i, peak, window, drain, &mut steps);
    let backlog = backlog_size(i, stream, &mut steps);
    let mut hard = hard;
    if hard < backlog {
        // Redis 7.0 ignores a replica hard limit below repl-backlog-size (checkClientOutputBufferLimits
        // floors it) because the shared buffer already holds that much for the backlog.
        steps.push(format!(
            "7.0 floors the hard limit at repl-backlog-size: hard = {}",
            format_bytes(backlog)
        ));
        hard = backlog;
    }
    Advice {
        stream_bytes_per_sec: stream,
        full_sync_seconds: window,
        buffer_peak_bytes: peak as u64,
        drain_seconds: drain,
        repl_backlog_size: backlog,
        obuf_hard: hard,
        obuf_soft: soft.min(hard),
        obuf_soft_seconds: soft_secs,
        steps,
        warnings,
    }
}

/// Bytes per second the replication stream carries.
fn stream_rate(i: &AdviseInput, steps: &mut Vec<String>) -> f64 {
    let stream = i
        .stream_bytes_per_sec
        .unwrap_or(i.write_rate * i.bytes_per_write as f64);
    match i.stream_bytes_per_sec {
        Some(_) => steps.push(format!("stream = {}/s (given)", HumanBytes(stream as u64))),
        None => steps.push(format!(
            "stream = {} writes/s x {} B = {}/s",
            i.write_rate,
            i.bytes_per_write,
            HumanBytes(stream as u64)
        )),
    }
    stream
}

/// Seconds from the fork until the replica has loaded the RDB: while they pass, the
/// replica's output buffer on the master only grows.
fn full_sync_window(i: &AdviseInput, steps: &mut Vec<String>) -> f64 {
    let d = i.dataset_bytes;
    let fork_s = d as f64 / (1u64 << 30) as f64 * i.fork_ms_per_gb as f64 / 1000.0;
    steps.push(format!(
        "fork = {} x {} ms/GB = {:.2} s",
        HumanBytes(d),
        i.fork_ms_per_gb,
        fork_s
    ));
    let load_s = secs(d, i.load_speed);
    let window = if i.diskless {
        // The child streams straight to the socket: production and transfer overlap, so the
        // slowest of serialisation, link and the replica's temp-file write sets the pace.
        let pace = i.rdb_speed.min(i.bandwidth).min(i.disk_write_speed);
        let t = secs(d, pace);
        steps.push(format!(
            "diskless transfer = {} / min(rdb {}/s, link {}/s, replica disk {}/s) = {:.1} s",
            HumanBytes(d),
            HumanBytes(i.rdb_speed),
            HumanBytes(i.bandwidth),
            HumanBytes(i.disk_write_speed),
            t
        ));
        steps.push(load_step(i, load_s));
        fork_s + t + load_s
    } else {
        // The file is written whole, then read back and sent: the two add up.
        let save = secs(d, i.rdb_speed.min(i.disk_write_speed));
        let pace = i.disk_read_speed.min(i.bandwidth).min(i.disk_write_speed);
        let t = secs(d, pace);
        steps.push(format!(
            "BGSAVE to disk = {} / min(rdb {}/s, disk write {}/s) = {:.1} s",
            HumanBytes(d),
            HumanBytes(i.rdb_speed),
            HumanBytes(i.disk_write_speed),
            save
        ));
        steps.push(format!(
            "transfer = {} / min(disk read {}/s, link {}/s, replica disk {}/s) = {:.1} s",
            HumanBytes(d),
            HumanBytes(i.disk_read_speed),
            HumanBytes(i.bandwidth),
            HumanBytes(i.disk_write_speed),
            t
        ));
        steps.push(load_step(i, load_s));
        fork_s + save + t + load_s
    };
    steps.push(format!(
        "full sync window (fork to end of load) = {window:.1} s"
    ));
    window
}

fn load_step(i: &AdviseInput, load_s: f64) -> String {
    format!(
        "load = {} / {}/s = {:.1} s",
        HumanBytes(i.dataset_bytes),
        HumanBytes(i.load_speed),
        load_s
    )
}

/// Seconds the buffer needs to empty after the load: the link's spare bandwidth over the
/// stream (infinite, with a warning, when the link cannot even carry the stream).
fn drain_time(
    i: &AdviseInput,
    stream: f64,
    peak: f64,
    steps: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> f64 {
    let spare = i.bandwidth as f64 - stream;
    if spare <= 0.0 {
        warnings.push(format!(
            "the link ({}/s) cannot carry the write stream ({}/s): the replica falls further behind forever and no buffer limit helps; add bandwidth or reduce writes",
            HumanBytes(i.bandwidth),
            HumanBytes(stream as u64)
        ));
        return f64::INFINITY;
    }
    let drain = peak / spare;
    steps.push(format!(
        "drain after load = {} / (link {}/s - stream {}/s) = {:.1} s",
        HumanBytes(peak as u64),
        HumanBytes(i.bandwidth),
        HumanBytes(stream as u64),
        drain
    ));
    drain
}

/// `client-output-buffer-limit replica <hard> <soft> <seconds>`. Hard: the peak plus
/// headroom. The soft limit sits at half of it, and its timer must outlast the whole sync
/// plus the drain: the timer starts when the buffer crosses the soft line during the sync
/// and would otherwise fire before the replica catches up.
fn buffer_limits(
    i: &AdviseInput,
    peak: f64,
    window: f64,
    drain: f64,
    steps: &mut Vec<String>,
) -> (u64, u64, u64) {
    let hard = round_up_mb(peak * i.safety);
    steps.push(format!(
        "hard limit = peak x {} = {} -> {}",
        i.safety,
        HumanBytes((peak * i.safety) as u64),
        format_bytes(hard)
    ));
    let soft = (hard / 2).max(1 << 20);
    let soft_secs = if drain.is_finite() {
        ((window + drain) * i.safety).ceil().max(60.0) as u64
    } else {
        60
    };
    steps.push(format!(
        "soft limit = hard / 2 = {}, for (window {:.1} s + drain {:.1} s) x {} = {} s (at least 60)",
        format_bytes(soft),
        window,
        if drain.is_finite() { drain } else { 0.0 },
        i.safety,
        soft_secs
    ));
    (hard, soft, soft_secs)
}

/// `repl-backlog-size`: every byte written while the replica is away, plus the reconnect
/// second (replicationCron retries at 1 Hz), with headroom.
fn backlog_size(i: &AdviseInput, stream: f64, steps: &mut Vec<String>) -> u64 {
    let outage_s = i.outage_ms as f64 / 1000.0 + 1.0;
    let backlog = round_up_mb(stream * outage_s * i.safety);
    steps.push(format!(
        "backlog = {}/s x ({} s outage + 1 s reconnect) x {} = {} -> {}",
        HumanBytes(stream as u64),
        i.outage_ms as f64 / 1000.0,
        i.safety,
        HumanBytes((stream * outage_s * i.safety) as u64),
        format_bytes(backlog)
    ));
    backlog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_is_rate_times_outage_with_headroom() {
        let a = advise(&AdviseInput {
            write_rate: 10_000.0,
            bytes_per_write: 100,
            outage_ms: 60_000,
            safety: 1.0,
            ..Default::default()
        });
        // 1,000,000 B/s x 61 s = 61 MB -> 64mb.
        assert_eq!(a.repl_backlog_size, 64 << 20);
    }

    #[test]
    fn diskless_shortens_the_window_and_the_limit() {
        let base = AdviseInput {
            write_rate: 8000.0,
            bytes_per_write: 1060,
            dataset_bytes: 2 << 30,
            bandwidth: 125 << 20,
            disk_write_speed: 100 << 20,
            disk_read_speed: 200 << 20,
            rdb_speed: 400 << 20,
            load_speed: 200 << 20,
            ..Default::default()
        };
        let disk = advise(&base);
        let diskless = advise(&AdviseInput {
            diskless: true,
            ..base.clone()
        });
        // Disk: 20.5 s save + 20.5 s transfer (replica disk 100 MB/s) + 10.2 s load.
        assert!(
            (disk.full_sync_seconds - 51.2).abs() < 0.5,
            "{}",
            disk.full_sync_seconds
        );
        assert!(diskless.full_sync_seconds < disk.full_sync_seconds - 15.0);
        assert!(
            disk.obuf_hard > 256 << 20,
            "the default 256mb is too small here"
        );
        assert!(diskless.obuf_hard <= disk.obuf_hard);
        assert!(disk.steps.iter().any(|s| s.starts_with("buffer peak")));
    }

    #[test]
    fn the_advice_for_the_looping_preset_would_have_fixed_it() {
        // Feed the adviser the disk-sync-loop preset, apply its advice, and run it again.
        let mut s = crate::sim::Scenario::preset("disk-sync-loop").unwrap();
        let a = advise(&AdviseInput::from_scenario(&s, 5_000));
        assert!(a.obuf_hard > s.redis.client_output_buffer_limit.hard);
        s.set(
            "client-output-buffer-limit",
            &format!("{} {} {}", a.obuf_hard, a.obuf_soft, a.obuf_soft_seconds),
        )
        .unwrap();
        s.set("repl-backlog-size", &a.repl_backlog_size.to_string())
            .unwrap();
        let mut sim = crate::sim::Simulation::new(&s, 1);
        sim.run_until(s.duration);
        let r = &sim.summary().replicas[0];
        assert!(r.in_sync_at_end, "{r:?}");
        // With the backlog sized for the 5 s cut, no second full sync is needed at all.
        assert_eq!(r.full_syncs, 1, "{r:?}");
        assert_eq!(r.partial_syncs_accepted, 1, "{r:?}");
    }

    #[test]
    fn too_slow_a_link_is_a_warning_not_a_number() {
        let a = advise(&AdviseInput {
            write_rate: 100_000.0,
            bytes_per_write: 1000,
            bandwidth: 10 << 20,
            ..Default::default()
        });
        assert!(!a.warnings.is_empty());
        assert!(a.drain_seconds.is_infinite());
    }
}
