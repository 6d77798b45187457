//! Every preset plays out as its `expect` sentence says: its `[check]` table holds against the
//! run's summary. The outcomes come from the model (rates, sizes, limits), not from the preset.
#![cfg(not(target_arch = "wasm32"))] // native-only (tests/sim_wasm.rs checks the browser build)

use replscope::sim::{self, summary::check_summary, Scenario, Simulation};

fn run(name: &str, seed: u64) -> Simulation {
    let s = Scenario::preset(name).unwrap_or_else(|| panic!("preset {name}"));
    let mut sim = Simulation::new(&s, seed);
    sim.run_until(s.duration);
    sim
}

#[test]
fn every_preset_meets_its_expectation() {
    let mut failures = Vec::new();
    for p in sim::presets() {
        let s = Scenario::preset(&p.name).expect("listed preset parses");
        assert!(!s.check.is_empty(), "{} has no [check]", p.name);
        let sim = run(&p.name, 1);
        for f in check_summary(&sim.summary(), &s.check) {
            failures.push(format!("{}: {f} (expect: {})", p.name, p.expect));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn outcomes_do_not_depend_on_the_seed() {
    // The seed moves replication IDs and write jitter, not the story.
    for name in [
        "disk-sync-loop",
        "diskless-fix",
        "backlog-sized",
        "psync-no-backlog-diskless",
    ] {
        let s = Scenario::preset(name).unwrap();
        for seed in [2, 99] {
            let sim = run(name, seed);
            let f = check_summary(&sim.summary(), &s.check);
            assert!(f.is_empty(), "{name} seed {seed}: {f:?}");
        }
    }
}

#[test]
fn the_fixes_are_real_consequences_of_the_model() {
    // Take the looping scenario and change one knob at a time.
    let base = Scenario::preset("disk-sync-loop").unwrap();
    let outcome = |s: &Scenario| {
        let mut sim = Simulation::new(s, 1);
        sim.run_until(s.duration);
        sim.summary().replicas[0].clone()
    };
    let looping = outcome(&base);
    assert!(!looping.in_sync_at_end && looping.full_syncs >= 5);

    // Diskless helps only because the disk costs time: with an infinitely fast disk, disk sync
    // is as good as diskless.
    let mut fast_disk = base.clone();
    fast_disk.set("disk.write-speed", "100gb").unwrap();
    fast_disk.set("disk.read-speed", "100gb").unwrap();
    let r = outcome(&fast_disk);
    assert!(r.in_sync_at_end, "fast disk: {r:?}");

    // Halve the write rate: the buffer growth x window drops under the limit.
    let mut slow_writes = base.clone();
    slow_writes.set("workload.rate", "3k").unwrap();
    let r = outcome(&slow_writes);
    assert!(r.in_sync_at_end && r.full_syncs == 2, "3k writes/s: {r:?}");

    // Diskless with a much slower replica disk loops again: the replica's disk write paces
    // the socket transfer.
    let mut diskless_slow = base.clone();
    diskless_slow.set("repl-diskless-sync", "yes").unwrap();
    diskless_slow.set("repl-diskless-sync-delay", "0").unwrap();
    diskless_slow.set("disk.write-speed", "40mb").unwrap();
    let r = outcome(&diskless_slow);
    assert!(!r.in_sync_at_end, "diskless, 40 MB/s disk: {r:?}");
}

#[test]
fn timeline_views_are_consistent() {
    let s = Scenario::preset("disk-sync-loop").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(200_000);
    // Spans per replica are contiguous and ordered.
    let spans: Vec<_> = sim.spans().iter().filter(|s| s.replica == 0).collect();
    assert!(spans.len() > 5);
    for w in spans.windows(2) {
        assert_eq!(w[0].end_ms, Some(w[1].start_ms));
    }
    use replscope::view::{MarkKind, SpanKind};
    assert!(spans.iter().any(|s| s.kind == SpanKind::Transfer));
    assert!(spans.iter().any(|s| s.kind == SpanKind::Load));
    assert!(spans.iter().any(|s| s.kind == SpanKind::Streaming));
    // Every full sync after the first has a cause a student can read.
    let refused: Vec<_> = sim
        .marks()
        .iter()
        .filter(|m| m.kind == MarkKind::PartialSyncRefused)
        .collect();
    assert!(!refused.is_empty());
    assert!(refused
        .iter()
        .all(|m| !m.cause.is_empty() && m.replica == Some(0)));
    assert!(sim
        .marks()
        .iter()
        .any(|m| m.kind == MarkKind::OutputBufferCutOff));
    // Samples every 250 ms of virtual time.
    let samples = sim.samples();
    assert_eq!(samples[1].t_ms - samples[0].t_ms, 250);
    assert!(samples.iter().any(|x| x.obuf_bytes[0] > 200 << 20));
    // The frame shows the buffer against its limit.
    let f = sim.frame();
    assert_eq!(f.replicas.len(), 1);
    assert_eq!(f.replicas[0].hard_limit, 256 << 20);
    assert!(f.master.backlog.is_some());
    assert!(sim.info_replication(0).contains("role:master"));
    assert!(sim.info_replication(1).contains("role:slave"));
}

#[test]
fn the_log_is_redis_format_and_carries_the_cow_report() {
    let s = Scenario::preset("disk-sync-loop").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(30_000);
    let lines: Vec<&str> = sim.log().iter().map(|l| l.line.as_str()).collect();
    // `pid:S dd Mon yyyy hh:mm:ss.mmm * message`; the run starts at a seeded fraction of a
    // second and the replica connects on its first replicationCron, within 2 s.
    let (pid, rest) = lines[0]
        .split_once(":S 21 Nov 2026 10:00:0")
        .expect(lines[0]);
    assert!(pid.parse::<u32>().is_ok(), "{}", lines[0]);
    let (clock, msg) = rest.split_at(5);
    assert!(
        clock.as_bytes()[1] == b'.' && clock[2..].chars().all(|c| c.is_ascii_digit()),
        "{}",
        lines[0]
    );
    assert_eq!(msg, " * Connecting to MASTER 10.0.0.1:6379", "{}", lines[0]);
    let cow = lines
        .iter()
        .find(|l| l.contains("Fork CoW for RDB: current"))
        .expect("CoW line");
    // ~26 s of BGSAVE at 100 writes/s touches ~2,600 pages: a few MB of copy-on-write.
    assert!(cow.contains(":C "), "{cow}");
}

#[test]
fn the_6x_model_keeps_the_backlog_at_its_size() {
    // Same slow replica as shared-buffer-growth, Redis 6 buffers: a fixed ring plus private
    // buffers, so the backlog never outgrows repl-backlog-size.
    let mut s = Scenario::preset("shared-buffer-growth").unwrap();
    s.set("replication-model", "6").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(s.duration);
    let sum = sim.summary();
    assert_eq!(sum.master.peak_backlog_bytes, 1 << 20);
    assert!(
        sum.replicas[1].peak_output_buffer_bytes > 8 << 20,
        "{sum:?}"
    );
}

#[test]
fn diskless_load_overlaps_the_transfer() {
    let peak = |mode: &str| {
        let mut s = Scenario::preset("diskless-fix").unwrap();
        s.set("repl-diskless-load", mode).unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(s.duration);
        let r = sim.summary().replicas[0].clone();
        assert!(r.in_sync_at_end, "{mode}: {r:?}");
        r.peak_output_buffer_bytes
    };
    let disk = peak("disabled");
    let swapdb = peak("swapdb");
    // Parsing while receiving removes the separate load and the replica's disk from the
    // window in which the master buffers.
    assert!(swapdb * 3 < disk * 2, "swapdb {swapdb} vs disabled {disk}");
    // on-empty-db: the second sync finds data in the replica and goes through the disk.
    assert_eq!(peak("on-empty-db"), disk);
}
