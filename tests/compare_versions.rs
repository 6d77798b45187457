//! `replscope compare --against <version>` on the real servers other than Redis 7.0 (which
//! `compare_scaled` and `compare_suite` cover), one short preset each, the simulator playing
//! the same version: Redis 6.2's private replica buffers, Redis 8.2's RDB channel (a diskless
//! sync), Valkey 8.1's dual channel, Valkey 9.1's own log lines (a slow diskless sync, no timeout). Each must agree as
//! `replscope compare --check` means it: the real sequences come out of the simulator's seeds,
//! every count is equal, durations, peaks and offsets are within 15% (or the absolute floors
//! of a poll), and the preset's own `[check]` table holds for what the servers did.
//!
//! The binaries are `.tools/servers/<version>/server` (`scripts/setup.sh test`); a missing one
//! skips its test with a printed reason. Serialised (they measure time); about 3 minutes.

#![cfg(not(target_arch = "wasm32"))]

use replscope::compare::{self, Against, Comparison, Executables};
use replscope::core::version::Version;
use replscope::sim::summary::check_summary;
use std::path::PathBuf;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn run(preset: &str, version: Version) -> Option<Comparison> {
    let servers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/servers");
    let bin = servers.join(version.name()).join("server");
    if !bin.exists() {
        eprintln!(
            "SKIPPED: {} is missing (scripts/setup.sh test installs it)",
            bin.display()
        );
        return None;
    }
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let scenario = compare::presets::scenario(preset).expect("preset");
    let exes = Executables {
        replscope: PathBuf::from(env!("CARGO_BIN_EXE_replscope")),
        server: None,
        servers_dir: Some(servers),
    };
    let against = Against::Server(version);
    let c = compare::compare(&scenario, against, &exes, 20, &|m| {
        eprintln!("[{preset} on {version}] {m}")
    })
    .unwrap_or_else(|e| panic!("{preset} against {version}: {e}"));
    println!("{}\n{}", c.render_text(), c.table_row());
    let failed = check_summary(&c.measured, &scenario.check);
    assert!(
        failed.is_empty(),
        "{preset} against {version}: the servers did not do what the preset expects: {failed:?}"
    );
    let v = c.verdict();
    assert!(v.agrees(), "{preset} against {version}: {:?}", v.failures);
    Some(c)
}

#[test]
fn redis_6_2_keeps_a_partial_resync_with_a_sized_backlog() {
    if let Some(c) = run("compare-backlog-sized", Version::Redis62) {
        assert_eq!(c.against, "redis-6.2");
        assert_eq!(c.sequences(0).1, ["full", "online", "partial"]);
    }
}

#[test]
fn redis_8_2_syncs_diskless_over_its_rdb_channel() {
    if let Some(c) = run("compare-slow-diskless-transfer", Version::Redis82) {
        // One full sync, read once although the RDB channel asks for its own.
        assert_eq!(c.measured.replicas[0].full_syncs, 1);
        assert_eq!(c.sequences(0).1, ["full", "online"]);
    }
}

#[test]
fn valkey_8_1_dual_channel_resumes_the_main_channel_with_a_psync() {
    if let Some(c) = run("compare-dual-channel", Version::Valkey81) {
        assert_eq!(
            c.sequences(0).1,
            ["full", "partial", "online", "full", "partial", "online"]
        );
    }
}

#[test]
fn valkey_9_1_is_read_in_its_own_words() {
    if let Some(c) = run("compare-slow-diskless-transfer", Version::Valkey91) {
        // The end of load is read from "PRIMARY <-> REPLICA sync: Finished with success".
        assert!(c
            .measured_events
            .iter()
            .any(|e| e.kind == compare::events::EventKind::LoadDone));
        assert_eq!(c.sequences(0).1, ["full", "online"]);
    }
}
