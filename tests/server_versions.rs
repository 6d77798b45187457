//! `replscope server` with real Redis 6.2.14, 7.0.15, 8.2.3 and Valkey 8.1.8, 9.1.2 (the
//! binaries `scripts/setup.sh test` puts in `.tools/servers/<version>/server`), both ways:
//!
//! - each version as the replica of ours: a disk and a diskless full sync, then a partial
//!   resync after we drop the link; Redis 6.2 must refuse our RDB 10, in its own words;
//! - ours as the replica of each version: the same, the RDB being 9 (6.2), 10 (7.0), 12
//!   (8.2), 11 (Valkey 8.1 and 9.1, which sends 11 to a replica that does not announce 9.x);
//! - a master whose dataset holds what we cannot hold (a hash with a field TTL, 8.2) is
//!   refused by name and our data is kept.
//!
//! The handshakes differ (8.2 replicas offer `capa rdb-channel-repl`, Valkey replicas send
//! `REPLCONF version`; 8.2 masters offer the RDB channel only to replicas that ask, and ours
//! does not): each sync below goes through them. Every pair compares the whole dataset.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::path::PathBuf;

use support::*;

/// The server binary of `version`, or None (with a note) if setup has not fetched it.
fn server_bin(version: &str, test: &str) -> Option<PathBuf> {
    if !have_real_redis(test) {
        return None; // redis-cli drives the tests
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/servers")
        .join(version)
        .join("server");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP {test}: {} is missing (run scripts/setup.sh test)",
            p.display()
        );
        None
    }
}

/// Keys of every type we hold, in the encodings these versions pick for them (small sets
/// of strings are listpacks from 7.2 on, RDB type 20), a TTL, and a second db.
fn fill(port: u16, tag: &str) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut c = client.get_connection().expect("connect to fill");
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("s:{tag}:{i}")).arg(i).ignore();
    }
    p.cmd("SET")
        .arg(format!("big:{tag}"))
        .arg("x".repeat(5000))
        .ignore();
    p.cmd("SET")
        .arg(format!("ttl:{tag}"))
        .arg("v")
        .arg("EX")
        .arg(1000)
        .ignore();
    p.cmd("RPUSH")
        .arg(format!("l:{tag}"))
        .arg(&["a", "b", "c"])
        .ignore();
    for i in 0..300 {
        p.cmd("RPUSH")
            .arg(format!("lb:{tag}"))
            .arg(format!("e{i}"))
            .ignore();
        p.cmd("SADD")
            .arg(format!("sb:{tag}"))
            .arg(format!("m{i}"))
            .ignore();
        p.cmd("HSET")
            .arg(format!("hb:{tag}"))
            .arg(format!("f{i}"))
            .arg(i)
            .ignore();
        p.cmd("ZADD")
            .arg(format!("zb:{tag}"))
            .arg(i)
            .arg(format!("m{i}"))
            .ignore();
    }
    p.cmd("SADD")
        .arg(format!("ss:{tag}"))
        .arg(&["x", "y", "z"])
        .ignore();
    p.cmd("SADD")
        .arg(format!("si:{tag}"))
        .arg(&[1, 2, 3])
        .ignore();
    p.cmd("HSET")
        .arg(format!("h:{tag}"))
        .arg(&["f1", "v1", "f2", "v2"])
        .ignore();
    p.cmd("ZADD")
        .arg(format!("z:{tag}"))
        .arg(&["1.5", "a", "2", "b"])
        .ignore();
    p.cmd("SELECT").arg(3).ignore();
    p.cmd("SET").arg(format!("db3:{tag}")).arg("here").ignore();
    p.cmd("SELECT").arg(0).ignore();
    let _: () = p.query(&mut c).expect("fill");
}

/// `--repl-diskless-sync` for a mode, with no delay (Valkey and 7.0+ wait 5 s by default).
fn mode_args(diskless: bool) -> [&'static str; 4] {
    let on = if diskless { "yes" } else { "no" };
    [
        "--repl-diskless-sync",
        on,
        "--repl-diskless-sync-delay",
        "0",
    ]
}

/// The line a master logs when it forks for a replica in this mode.
fn fork_line(diskless: bool) -> &'static str {
    if diskless {
        "Starting BGSAVE for SYNC with target: replicas sockets"
    } else {
        "Starting BGSAVE for SYNC with target: disk"
    }
}

/// A real replica of `version` syncs from ours, disk then diskless, then resumes with a
/// partial resync after we kill its link.
async fn real_replica_of_ours(version: &str) {
    let test = format!("{version} as a replica of ours");
    let Some(bin) = server_bin(version, &test) else {
        return;
    };
    for diskless in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let ours = start_ours(&dir.path().join("ours"), &mode_args(diskless)).await;
        let m = ours.port;
        fill(m, "before");
        let real = RealRedis::start_bin(
            &bin,
            &dir.path().join("real"),
            &["--replicaof", "127.0.0.1", &m.to_string()],
        );
        let r = real.port;
        await_in_sync(m, r).await;
        fill(m, "after");
        await_in_sync(m, r).await;
        assert!(
            dataset(r) == dataset(m),
            "{test}, diskless={diskless}: data differs"
        );
        let log = log_of(&dir.path().join("ours"));
        assert!(log.contains(fork_line(diskless)), "{test}:\n{log}");
        if version.starts_with("valkey") {
            // We answer `REPLCONF version` as Redis 7.0 does; Valkey goes on without it.
            let rlog = real.log();
            assert!(
                rlog.contains("(Non critical) Primary does not understand REPLCONF VERSION: -ERR Unrecognized REPLCONF option: version"),
                "{test}:\n{rlog}"
            );
        }
        if diskless {
            ours.stop();
            continue;
        }
        // Drop the link from our side: the replica comes back with PSYNC and continues.
        kill_link_and_expect_psync(&test, m, r).await;
        ours.stop();
    }
}

/// Kills master `m`'s link to replica `r`, writes on, and expects the replica back with a
/// partial resync: in sync, same data, still one full sync.
async fn kill_link_and_expect_psync(test: &str, m: u16, r: u16) {
    assert_eq!(cli(m, &["client", "kill", "type", "replica"]).trim(), "1");
    fill(m, "gap");
    wait_for(T, "partial resync", move || {
        field(m, "stats", "sync_partial_ok") == "1"
    })
    .await;
    await_in_sync(m, r).await;
    assert!(
        dataset(r) == dataset(m),
        "{test}, after the partial resync: data differs"
    );
    assert_eq!(
        field(m, "stats", "sync_full"),
        "1",
        "{test}: no second full sync"
    );
}

/// Ours syncs from a real master of `version`, disk then diskless, then resumes with a
/// partial resync after it kills our link.
async fn ours_replica_of_real(version: &str) {
    let test = format!("ours as a replica of {version}");
    let Some(bin) = server_bin(version, &test) else {
        return;
    };
    for diskless in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let real = RealRedis::start_bin(&bin, &dir.path().join("real"), &mode_args(diskless));
        let m = real.port;
        fill(m, "before");
        let ours = start_ours_replica_of(&dir.path().join("ours"), m, &[]).await;
        let r = ours.port;
        await_in_sync(m, r).await;
        fill(m, "after");
        await_in_sync(m, r).await;
        assert!(
            dataset(r) == dataset(m),
            "{test}, diskless={diskless}: data differs"
        );
        // The classic sync on one connection, on every version (8.2 forks for its RDB
        // channel only for replicas that offer it; its line then ends `(rdb-channel)`).
        // Valkey 9.1 saves VALKEY080 to disk, which a replica that does not announce 9.x
        // cannot read: it sends such a replica RDB 11 through a socket even when told to sync
        // to disk (seen here; `repl-diskless-sync no` is honoured for 9.x replicas).
        let socket = diskless || version == "valkey-9.1";
        let mlog = real.log();
        let line = mlog
            .lines()
            .find(|l| l.contains("Starting BGSAVE for SYNC with target:"))
            .unwrap_or_default();
        assert!(line.contains(fork_line(socket)), "{test}:\n{mlog}");
        assert!(
            !line.contains("rdb-channel") && !line.contains("dual-channel"),
            "{line}"
        );
        if diskless {
            ours.stop();
            continue;
        }
        kill_link_and_expect_psync(&test, m, r).await;
        let log = log_of(&dir.path().join("ours"));
        assert!(
            log.contains("Successful partial resynchronization with master."),
            "{test}:\n{log}"
        );
        ours.stop();
    }
}

macro_rules! both_ways {
    ($($version:literal: $as_replica:ident, $as_master:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $as_replica() {
            real_replica_of_ours($version).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $as_master() {
            ours_replica_of_real($version).await;
        }
    )*};
}

both_ways! {
    "redis-7.0": redis_70_replicates_from_ours, ours_replicates_from_redis_70;
    "redis-8.2": redis_82_replicates_from_ours, ours_replicates_from_redis_82;
    "valkey-8.1": valkey_81_replicates_from_ours, ours_replicates_from_valkey_81;
    "valkey-9.1": valkey_91_replicates_from_ours, ours_replicates_from_valkey_91;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_replicates_from_redis_62() {
    ours_replica_of_real("redis-6.2").await;
}

/// Redis 6.2 reads RDB up to 9; ours writes 10. It refuses in its own words, every time
/// (it retries a full sync, and refuses again).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_62_refuses_our_rdb_10() {
    let test = "redis 6.2 as a replica of ours";
    let Some(bin) = server_bin("redis-6.2", test) else {
        return;
    };
    for diskless in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let ours = start_ours(&dir.path().join("ours"), &mode_args(diskless)).await;
        let m = ours.port;
        fill(m, "before");
        let real = RealRedis::start_bin(
            &bin,
            &dir.path().join("real"),
            &["--replicaof", "127.0.0.1", &m.to_string()],
        );
        let dir_real = real.dir.join("redis.log");
        wait_for(T, "6.2 refusing RDB 10 twice", move || {
            let log = std::fs::read_to_string(&dir_real).unwrap_or_default();
            log.matches("Can't handle RDB format version 10").count() >= 2
        })
        .await;
        assert_eq!(
            field(real.port, "replication", "master_link_status"),
            "down"
        );
        let full: u64 = field(m, "stats", "sync_full").parse().unwrap();
        assert!(
            full >= 2,
            "{test}: the replica retries, and we serve each retry"
        );
        ours.stop();
    }
}

/// A Redis 8.2 master holding a hash with a field TTL (RDB type 25): our replica refuses
/// the RDB by name, keeps the data it had, and keeps trying (as Redis does on a load error).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_refuses_a_field_ttl_hash_from_redis_82_and_keeps_its_data() {
    let test = "ours as a replica of an 8.2 master with HEXPIRE";
    let Some(bin) = server_bin("redis-8.2", test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealRedis::start_bin(&bin, &dir.path().join("real"), &mode_args(true));
    let m = real.port;
    fill(m, "theirs");
    cli(m, &["hset", "hx", "f1", "v1", "f2", "v2"]);
    assert_eq!(
        cli(m, &["hexpire", "hx", "1000", "fields", "1", "f1"]).trim(),
        "1"
    );
    let ours = start_ours(&dir.path().join("ours"), &[]).await;
    let r = ours.port;
    fill(r, "ours");
    let before = dataset(r);
    assert_eq!(
        cli(r, &["replicaof", "127.0.0.1", &m.to_string()]).trim(),
        "OK"
    );
    let ours_dir = dir.path().join("ours");
    wait_for(T, "the refusal, twice", move || {
        log_of(&ours_dir)
            .matches("Failed trying to load the MASTER synchronization DB")
            .count()
            >= 2
    })
    .await;
    let log = log_of(&dir.path().join("ours"));
    assert!(
        log.lines()
            .any(|l| l.ends_with("# type 25 is a hash with field expiration (HEXPIRE, Redis 7.4+ / Valkey 9), which this server does not support")),
        "{log}"
    );
    assert_eq!(field(r, "replication", "master_link_status"), "down");
    // Stop retrying (REPLICAOF is refused with -LOADING while a retry loads), then look.
    wait_for(T, "REPLICAOF NO ONE between two loads", move || {
        cli(r, &["replicaof", "no", "one"]).trim() == "OK"
    })
    .await;
    assert!(dataset(r) == before, "{test}: our data was not kept");
    ours.stop();
}
