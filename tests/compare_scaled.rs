//! `replscope compare` on the four scaled presets, against replscope server and a real
//! redis-server 7.0: the sequence of sync kinds and cut-offs must be the simulator's, the
//! preset's own `[check]` table must hold for what the servers did, and durations, peaks and
//! offsets must be within 15% of the prediction.
//!
//! The runs are serialised (a shared lock): they measure time, and two at once on a 2-core
//! machine would slow each other's BGSAVEs. About 6 minutes in all. Each prints its table
//! (`cargo test --test compare_scaled -- --nocapture` shows them).

#![cfg(not(target_arch = "wasm32"))]

use replscope::compare::{self, Against, Comparison, Executables};
use replscope::core::version::Version;
use replscope::sim::summary::check_summary;
use std::path::PathBuf;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn redis_server() -> Option<PathBuf> {
    let ok = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then(|| PathBuf::from("redis-server"))
}

fn run(preset: &str, against: Against) -> Option<Comparison> {
    let redis = redis_server();
    if redis.is_none() && against != Against::Replscope {
        eprintln!("SKIPPED: redis-server is not installed");
        return None;
    }
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let scenario = compare::presets::scenario(preset).expect("preset");
    let exes = Executables {
        replscope: PathBuf::from(env!("CARGO_BIN_EXE_replscope")),
        server: redis,
        servers_dir: None,
    };
    let c = compare::compare(&scenario, against, &exes, compare::DEFAULT_SEEDS, &|m| {
        eprintln!("[{preset}] {m}")
    })
    .unwrap_or_else(|e| panic!("{preset} against {}: {e}", against.as_str()));
    println!("{}", c.render_text());
    Some(c)
}

/// The agreement every run must show.
fn assert_agrees(c: &Comparison, preset: &str, within: &[&str]) {
    let (p, m) = c.sequences(0);
    assert!(
        c.sequences_agree(),
        "{preset} against {}: sync sequence differs\n predicted {p:?}\n measured  {m:?}",
        c.against
    );
    let scenario = compare::presets::scenario(preset).expect("preset");
    let failed = check_summary(&c.measured, &scenario.check);
    assert!(
        failed.is_empty(),
        "{preset} against {}: the servers did not do what the preset expects: {failed:?}",
        c.against
    );
    for r in c.rows() {
        if r.is_count {
            assert_eq!(
                r.predicted, r.measured,
                "{preset} against {}: {} differs",
                c.against, r.what
            );
        }
        if within.iter().any(|w| r.what.contains(w)) {
            let e = r.rel_error.unwrap_or(f64::INFINITY);
            assert!(
                e.abs() <= 0.15,
                "{preset} against {}: {} is {:+.1}% off (predicted {}, measured {})",
                c.against,
                r.what,
                e * 100.0,
                r.predicted,
                r.measured
            );
        }
    }
}

const NUMBERS: &[&str] = &[
    "duration",
    "peak output buffer",
    "peak backlog",
    "final offset",
];

#[test]
fn compare_disk_sync_loop_against_redis() {
    if let Some(c) = run("compare-disk-sync-loop", Against::Server(Version::Redis70)) {
        assert_agrees(&c, "compare-disk-sync-loop", NUMBERS);
    }
}

#[test]
fn compare_disk_sync_loop_against_replscope() {
    if let Some(c) = run("compare-disk-sync-loop", Against::Replscope) {
        assert_agrees(&c, "compare-disk-sync-loop", NUMBERS);
    }
}

#[test]
fn compare_diskless_fix_against_redis() {
    if let Some(c) = run("compare-diskless-fix", Against::Server(Version::Redis70)) {
        assert_agrees(&c, "compare-diskless-fix", NUMBERS);
    }
}

#[test]
fn compare_diskless_fix_against_replscope() {
    if let Some(c) = run("compare-diskless-fix", Against::Replscope) {
        assert_agrees(&c, "compare-diskless-fix", NUMBERS);
    }
}

#[test]
fn compare_backlog_too_small_against_redis() {
    if let Some(c) = run(
        "compare-backlog-too-small",
        Against::Server(Version::Redis70),
    ) {
        assert_agrees(&c, "compare-backlog-too-small", NUMBERS);
    }
}

#[test]
fn compare_backlog_too_small_against_replscope() {
    if let Some(c) = run("compare-backlog-too-small", Against::Replscope) {
        assert_agrees(&c, "compare-backlog-too-small", NUMBERS);
    }
}

#[test]
fn compare_backlog_sized_against_redis() {
    if let Some(c) = run("compare-backlog-sized", Against::Server(Version::Redis70)) {
        assert_agrees(&c, "compare-backlog-sized", NUMBERS);
    }
}

#[test]
fn compare_backlog_sized_against_replscope() {
    if let Some(c) = run("compare-backlog-sized", Against::Replscope) {
        assert_agrees(&c, "compare-backlog-sized", NUMBERS);
    }
}
