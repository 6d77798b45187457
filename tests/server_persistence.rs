//! Snapshots on our server: BGSAVE runs beside writes on a copy-on-write snapshot, save
//! points, `redis-cli --rdb` (inline SYNC), the load delay knob, DEBUG SLEEP.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::{Duration, Instant};

use support::*;

fn rdb_keys(path: &std::path::Path) -> Vec<(u32, Vec<u8>, replscope::rdb::Value)> {
    let data = std::fs::read(path).unwrap();
    let mut v = Vec::new();
    replscope::rdb::parse_rdb(&data, 16, |e| {
        v.push((e.db, e.key, e.value));
        Ok(())
    })
    .unwrap();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bgsave_is_a_point_in_time_snapshot_and_does_not_block_writes() {
    if !have_real_redis("bgsave_is_a_point_in_time_snapshot_and_does_not_block_writes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 20,000 keys at 200 µs each: the BGSAVE runs for four seconds or more.
    let ours = start_ours(
        dir.path(),
        &[
            "--rdb-key-save-delay",
            "200",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let p = ours.port;
    cli(p, &["debug", "populate", "20000", "key", "100"]);
    cli(p, &["set", "marker", "before"]);
    assert_eq!(cli(p, &["bgsave"]).trim(), "Background saving started");
    assert_eq!(
        info_field(p, "persistence", "rdb_bgsave_in_progress").as_deref(),
        Some("1")
    );
    // Writes are served while the child writes: each answers quickly.
    let client = redis::Client::open(format!("redis://127.0.0.1:{p}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let mut slowest = Duration::ZERO;
    for i in 0..3000 {
        let t = Instant::now();
        let _: () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg("changed")
            .query_async(&mut c)
            .await
            .unwrap();
        slowest = slowest.max(t.elapsed());
    }
    let _: () = redis::cmd("SET")
        .arg("marker")
        .arg("after")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(
        info_field(p, "persistence", "rdb_bgsave_in_progress").as_deref(),
        Some("1"),
        "still saving after the writes"
    );
    assert!(
        slowest < Duration::from_millis(1500),
        "a write waited {slowest:?}"
    );
    wait_for(Duration::from_secs(60), "bgsave ends", move || {
        info_field(p, "persistence", "rdb_bgsave_in_progress").as_deref() == Some("0")
    })
    .await;
    // The file holds the dataset as it was when BGSAVE started.
    let keys = rdb_keys(&dir.path().join("dump.rdb"));
    assert_eq!(keys.len(), 20001);
    let marker = keys.iter().find(|(_, k, _)| k == b"marker").unwrap();
    assert_eq!(marker.2, replscope::rdb::Value::String(b"before".to_vec()));
    let k0 = keys.iter().find(|(_, k, _)| k == b"key:0").unwrap();
    assert_ne!(k0.2, replscope::rdb::Value::String(b"changed".to_vec()));
    // The copied shards are reported.
    let cow: u64 = info_field(p, "persistence", "rdb_last_cow_size")
        .unwrap()
        .parse()
        .unwrap();
    assert!(cow > 1_000_000, "copy-on-write bytes {cow}");
    let log = std::fs::read_to_string(dir.path().join("ours.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("Fork CoW for RDB: current") && !l.contains("current 0 MB")),
        "{log}"
    );
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn save_points_trigger_a_bgsave() {
    if !have_real_redis("save_points_trigger_a_bgsave") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--save", "1 2"]).await;
    let p = ours.port;
    cli(p, &["set", "a", "1"]);
    cli(p, &["set", "b", "2"]);
    let d = dir.path().to_path_buf();
    wait_for(Duration::from_secs(10), "save point BGSAVE", move || {
        d.join("dump.rdb").exists()
    })
    .await;
    let log = std::fs::read_to_string(dir.path().join("ours.log")).unwrap();
    assert!(log.contains("changes in 1 seconds. Saving..."), "{log}");
    wait_for(Duration::from_secs(10), "bgsave ends", move || {
        info_field(p, "persistence", "rdb_changes_since_last_save").as_deref() == Some("0")
    })
    .await;
    assert_eq!(rdb_keys(&dir.path().join("dump.rdb")).len(), 2);
    assert_eq!(
        info_field(p, "persistence", "rdb_saves").as_deref(),
        Some("1")
    );
    assert_eq!(info_field(p, "stats", "total_forks").as_deref(), Some("1"));
    assert_eq!(
        info_field(p, "persistence", "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cli_rdb_downloads_a_snapshot_over_sync() {
    if !have_real_redis("redis_cli_rdb_downloads_a_snapshot_over_sync") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--repl-diskless-sync-delay", "0"]).await;
    let p = ours.port;
    for i in 0..50 {
        cli(p, &["set", &format!("k{i}"), &format!("v{i}")]);
    }
    let out = dir.path().join("fetched.rdb");
    let st = std::process::Command::new("redis-cli")
        .args(["-p", &p.to_string(), "--rdb", &out.display().to_string()])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(rdb_keys(&out).len(), 50);
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_load_delay_makes_a_replica_answer_loading() {
    if !have_real_redis("key_load_delay_makes_a_replica_answer_loading") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let real = RealRedis::start(
        &dir.path().join("real"),
        &[
            "--enable-debug-command",
            "yes",
            "--repl-diskless-sync",
            "no",
        ],
    );
    cli(real.port, &["debug", "populate", "3000"]);
    let ours = start_ours_replica_of(
        &dir.path().join("ours"),
        real.port,
        &["--key-load-delay", "1000"],
    )
    .await;
    let p = ours.port;
    wait_for(
        Duration::from_secs(30),
        "LOADING reply during the load",
        move || {
            cli(p, &["get", "key:1"]).contains("LOADING Redis is loading the dataset in memory")
        },
    )
    .await;
    assert_eq!(
        info_field(p, "persistence", "loading").as_deref(),
        Some("1")
    );
    let m = real.port;
    wait_for(Duration::from_secs(60), "loaded and in sync", move || {
        info_field(p, "replication", "master_link_status").as_deref() == Some("up")
            && info_field(p, "replication", "slave_repl_offset")
                == info_field(m, "replication", "master_repl_offset")
    })
    .await;
    assert_eq!(cli(p, &["dbsize"]).trim(), "3000");
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn debug_sleep_blocks_the_whole_server() {
    if !have_real_redis("debug_sleep_blocks_the_whole_server") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--enable-debug-command", "yes"]).await;
    let p = ours.port;
    // Connect first, then start the sleep, then ping in a loop from this connection: the
    // ping that arrives during the sleep waits for it.
    let (longest, sleeper) = tokio::task::spawn_blocking(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{p}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let _: String = redis::cmd("PING").query(&mut c).unwrap();
        let sleeper = std::thread::spawn(move || cli(p, &["debug", "sleep", "1"]));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut longest = Duration::ZERO;
        while Instant::now() < deadline && longest < Duration::from_millis(300) {
            let t = Instant::now();
            let pong: String = redis::cmd("PING").query(&mut c).unwrap();
            assert_eq!(pong, "PONG");
            longest = longest.max(t.elapsed());
        }
        (longest, sleeper)
    })
    .await
    .unwrap();
    assert!(
        longest >= Duration::from_millis(300),
        "no PING was held by DEBUG SLEEP (longest {longest:?})"
    );
    assert_eq!(sleeper.join().unwrap().trim(), "OK");
    assert_eq!(
        cli(p, &["debug", "nope"]).trim(),
        "ERR unknown subcommand 'nope'. Try DEBUG HELP."
    );
    ours.stop();
}
