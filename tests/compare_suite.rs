//! A fast subset of the comparison suite (`scripts/verify.sh` runs all of it): a replica
//! restart, a failover and issue 12's slow diskless transfer staged on real redis-server.
//! Each must tell the simulator's story: the real sequence of syncs and cut-offs is one the
//! simulator gives in at least 10% of its seeds, every count (syncs, refusals, cut-offs,
//! BGSAVEs) is equal, and what the servers did passes the preset's own `[check]` table. The
//! figures (durations, peaks, offsets within 15%) are printed and judged by verify.sh and by
//! `compare_scaled`'s long syncs: these short syncs (~1 s) move by more than 15% with the
//! machine's load, and test.sh must not be flaky.
//!
//! Serialised with a lock (they measure time); about 2 minutes in all.

#![cfg(not(target_arch = "wasm32"))]

use replscope::compare::{self, Against, Comparison, Executables};
use replscope::core::version::Version;
use replscope::sim::summary::check_summary;
use std::path::PathBuf;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn redis_installed() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run(preset: &str, against: Against) -> Option<Comparison> {
    if against == Against::Server(Version::Redis70) && !redis_installed() {
        eprintln!("SKIPPED: redis-server is not installed");
        return None;
    }
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let scenario = compare::presets::scenario(preset).expect("preset");
    let exes = Executables {
        replscope: PathBuf::from(env!("CARGO_BIN_EXE_replscope")),
        server: Some(PathBuf::from("redis-server")),
        servers_dir: None,
    };
    let c = compare::compare(&scenario, against, &exes, 20, &|m| {
        eprintln!("[{preset}] {m}")
    })
    .unwrap_or_else(|e| panic!("{preset} against {}: {e}", against.as_str()));
    println!("{}\n{}", c.render_text(), c.table_row());
    let failed = check_summary(&c.measured, &scenario.check);
    assert!(
        failed.is_empty(),
        "{preset} against {}: the servers did not do what the preset expects: {failed:?}",
        c.against
    );
    let v = c.verdict();
    assert!(
        v.story_agrees(),
        "{preset} against {}: {:?}",
        c.against,
        v.failures
    );
    Some(c)
}

#[test]
fn graceful_replica_restart_resumes_with_a_partial_resync_on_redis() {
    if let Some(c) = run(
        "compare-restart-graceful",
        Against::Server(Version::Redis70),
    ) {
        // Staged for real: the replica's process stopped and started again.
        assert_eq!(c.measured.replicas[0].disconnects["replica_restart"], 1);
        assert_eq!(c.measured.replicas[0].partial_syncs_accepted, 1);
    }
}

#[test]
fn failover_re_points_the_other_replica_on_redis() {
    if let Some(c) = run("compare-failover-psync", Against::Server(Version::Redis70)) {
        assert_eq!(c.measured.replicas[1].disconnects["master_killed"], 1);
        // The promoted replica is the master at the end, the other follows it.
        assert!(c.measured.replicas[1].in_sync_at_end);
        assert!(!c.measured.replicas[0].in_sync_at_end);
    }
}

#[test]
fn slow_diskless_transfer_is_not_timed_out_on_redis() {
    run(
        "compare-slow-diskless-transfer",
        Against::Server(Version::Redis70),
    );
}
