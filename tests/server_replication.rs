//! Replication over real sockets between our server and a real redis-server 7.0, both ways,
//! disk and diskless, with partial resync after a killed link and the output-buffer cut-off.
//! Every test starts its own servers on free 127.0.0.1 ports and compares the data on both
//! sides. Conditions are awaited by polling INFO with a deadline.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::{Duration, Instant};

use support::*;

fn write_mixed_data(port: u16, tag: &str) {
    cli(port, &["set", &format!("s:{tag}"), "value"]);
    cli(port, &["set", &format!("ttl:{tag}"), "v", "EX", "1000"]);
    cli(port, &["incrby", &format!("n:{tag}"), "7"]);
    cli(port, &["append", &format!("s:{tag}"), "-more"]);
    cli(
        port,
        &["mset", &format!("m1:{tag}"), "1", &format!("m2:{tag}"), "2"],
    );
    cli(port, &["rpush", &format!("l:{tag}"), "a", "b", "c"]);
    cli(port, &["hset", &format!("h:{tag}"), "f1", "v1", "f2", "v2"]);
    cli(port, &["sadd", &format!("set:{tag}"), "x", "y"]);
    cli(port, &["zadd", &format!("z:{tag}"), "1.5", "a", "2", "b"]);
    cli(port, &["-n", "3", "set", &format!("db3:{tag}"), "here"]);
    cli(port, &["expire", &format!("s:{tag}"), "500"]);
    cli(port, &["del", &format!("m1:{tag}")]);
    cli(port, &["hincrby", &format!("h:{tag}"), "n", "5"]);
    cli(port, &["hsetnx", &format!("h:{tag}"), "f1", "ignored"]);
    cli(port, &["setrange", &format!("m2:{tag}"), "3", "xyz"]);
    cli(
        port,
        &["rename", &format!("n:{tag}"), &format!("renamed:{tag}")],
    );
    cli(
        port,
        &[
            "msetnx",
            &format!("nx1:{tag}"),
            "a",
            &format!("nx2:{tag}"),
            "b",
        ],
    );
    cli(port, &["sadd", &format!("pop:{tag}"), "p1", "p2", "p3"]);
    cli(port, &["spop", &format!("pop:{tag}")]);
    cli(port, &["zincrby", &format!("z:{tag}"), "3", "a"]);
    cli(port, &["zpopmin", &format!("z:{tag}")]);
    cli(
        port,
        &["rpush", &format!("tr:{tag}"), "1", "2", "3", "4", "5"],
    );
    cli(port, &["ltrim", &format!("tr:{tag}"), "1", "-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_replica_of_ours_disk_sync_then_partial_resync_after_kill() {
    if !have_real_redis("real_replica_of_ours_disk_sync_then_partial_resync_after_kill") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-sync",
            "no",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let m = ours.port;
    cli(m, &["debug", "populate", "3000", "key", "50"]);
    write_mixed_data(m, "before");
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    await_in_sync(m, real.port).await;
    write_mixed_data(m, "after");
    await_in_sync(m, real.port).await;
    assert_eq!(dataset(real.port), dataset(m));
    assert_eq!(field(m, "stats", "sync_full"), "1");
    assert!(log_of(dir.path()).contains("Starting BGSAVE for SYNC with target: disk"));
    // The replica's TTLs came through as absolute times (PEXPIREAT / SET PXAT).
    let ttl: i64 = cli(real.port, &["ttl", "ttl:after"])
        .trim()
        .parse()
        .unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");

    // Kill the link from the master side: the replica comes back with a partial resync.
    assert_eq!(cli(m, &["client", "kill", "type", "replica"]).trim(), "1");
    write_mixed_data(m, "during");
    wait_for(T, "partial resync", move || {
        field(m, "stats", "sync_partial_ok") == "1"
    })
    .await;
    await_in_sync(m, real.port).await;
    assert_eq!(dataset(real.port), dataset(m));
    assert_eq!(field(m, "stats", "sync_full"), "1", "no second full sync");
    assert!(
        real.log()
            .contains("Successful partial resynchronization with master."),
        "{}",
        real.log()
    );
    assert!(log_of(dir.path()).contains("Partial resynchronization request from"));
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_replica_of_ours_diskless_sync() {
    if !have_real_redis("real_replica_of_ours_diskless_sync") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let m = ours.port;
    cli(m, &["debug", "populate", "5000", "key", "100"]);
    write_mixed_data(m, "a");
    // Socket loading on the real replica too, to cover its parser path.
    let real = RealRedis::replica_of(
        &dir.path().join("real"),
        m,
        &["--repl-diskless-load", "swapdb"],
    );
    await_in_sync(m, real.port).await;
    write_mixed_data(m, "b");
    await_in_sync(m, real.port).await;
    assert_eq!(dataset(real.port), dataset(m));
    let log = log_of(dir.path());
    assert!(
        log.contains("Starting BGSAVE for SYNC with target: replicas sockets"),
        "{log}"
    );
    assert!(log.contains("Streamed RDB transfer with replica"), "{log}");
    // WAIT sees the replica's acknowledgement.
    let client = redis::Client::open(format!("redis://127.0.0.1:{m}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("w")
        .arg("1")
        .query_async(&mut c)
        .await
        .unwrap();
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(5000)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(acked, 1);
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_replicates_from_a_real_master_with_every_type_then_partial_resync() {
    if !have_real_redis("ours_replicates_from_a_real_master_with_every_type_then_partial_resync") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rdir = dir.path().join("real");
    std::fs::create_dir_all(&rdir).unwrap();
    // The real master starts from a 7.0.15 RDB holding every type (listpacks, quicklist2
    // with LZF nodes, intsets, big hashes/zsets, a stream, a function library).
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/master7015_all_types_disk.rdb"
        ),
        rdir.join("dump.rdb"),
    )
    .unwrap();
    let real = RealRedis::start(&rdir, &["--repl-diskless-sync", "no"]);
    let m = real.port;
    write_mixed_data(m, "pre");
    let ours = start_ours_replica_of(&dir.path().join("ours"), m, &[]).await;
    let r = ours.port;
    await_in_sync(m, r).await;
    write_mixed_data(m, "live");
    cli(m, &["lpop", "l:live"]);
    cli(m, &["srem", "set:live", "x"]);
    cli(m, &["incrbyfloat", "f", "2.5"]);
    cli(m, &["flushdb"]);
    write_mixed_data(m, "post");
    await_in_sync(m, r).await;
    assert_eq!(dataset(r), dataset(m));
    assert_eq!(
        cli(r, &["set", "x", "1"]).trim(),
        "READONLY You can't write against a read only replica."
    );

    // Drop the link from our side: PSYNC continues where it stopped.
    cli(r, &["client", "kill", "type", "master"]);
    write_mixed_data(m, "gap");
    wait_for(T, "partial resync on the real master", move || {
        field(m, "stats", "sync_partial_ok") == "1"
    })
    .await;
    await_in_sync(m, r).await;
    assert_eq!(dataset(r), dataset(m));
    let log = log_of(&dir.path().join("ours"));
    assert!(
        log.contains("Successful partial resynchronization with master."),
        "{log}"
    );
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_replicates_from_a_diskless_real_master() {
    if !have_real_redis("ours_replicates_from_a_diskless_real_master") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let real = RealRedis::start(
        &dir.path().join("real"),
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--enable-debug-command",
            "yes",
        ],
    );
    let m = real.port;
    cli(m, &["debug", "populate", "20000", "key", "64"]);
    write_mixed_data(m, "a");
    let ours = start_ours_replica_of(&dir.path().join("ours"), m, &[]).await;
    let r = ours.port;
    await_in_sync(m, r).await;
    write_mixed_data(m, "b");
    await_in_sync(m, r).await;
    // Same key and expire counts (avg_ttl is an estimate that differs between servers).
    let counts = |p: u16| {
        field(p, "keyspace", "db0")
            .split(",avg_ttl")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(counts(r), counts(m));
    assert_eq!(dataset(r), dataset(m));
    assert!(
        real.log()
            .contains("Starting BGSAVE for SYNC with target: replicas sockets"),
        "{}",
        real.log()
    );
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn output_buffer_limit_cuts_off_a_replica_during_a_slow_bgsave() {
    if !have_real_redis("output_buffer_limit_cuts_off_a_replica_during_a_slow_bgsave") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A slow disk BGSAVE (rdb-key-save-delay) and a tiny replica limit: the writes piling up
    // for the replica during the BGSAVE overflow the hard limit.
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-sync",
            "no",
            "--repl-backlog-size",
            "16kb",
            "--client-output-buffer-limit",
            "replica 64kb 32kb 60",
            "--rdb-key-save-delay",
            "1000",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let m = ours.port;
    cli(m, &["debug", "populate", "2000", "key", "10"]);
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    let md = dir.path().to_path_buf();
    wait_for(T, "BGSAVE for SYNC starts", move || {
        log_of(&md).contains("Starting BGSAVE for SYNC")
    })
    .await;
    let big = "x".repeat(10_000);
    for i in 0..20 {
        cli(m, &["set", &format!("big:{i}"), &big]);
    }
    let md = dir.path().to_path_buf();
    wait_for(T, "cut-off logged", move || {
        log_of(&md).contains("scheduled to be closed ASAP for overcoming of output buffer limits")
    })
    .await;
    let log = log_of(dir.path());
    assert!(log.contains("Connection with replica"), "{log}");
    // Lift the limit and the delay: the next full sync completes and the data matches.
    cli(
        m,
        &[
            "config",
            "set",
            "client-output-buffer-limit",
            "replica 0 0 0",
        ],
    );
    cli(m, &["config", "set", "rdb-key-save-delay", "0"]);
    await_in_sync(m, real.port).await;
    assert_eq!(dataset(real.port), dataset(m));
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bandwidth_limit_slows_the_transfer() {
    if !have_real_redis("bandwidth_limit_slows_the_transfer") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-sync",
            "no",
            "--repl-bandwidth-limit",
            "200kb",
            "--rdbcompression",
            "no",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let m = ours.port;
    // About 400 KB of RDB at 200 KB/s: at least ~1.5 s on loopback.
    cli(m, &["debug", "populate", "4000", "key", "100"]);
    let t0 = Instant::now();
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    await_in_sync(m, real.port).await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "transfer took only {took:?}"
    );
    assert_eq!(
        field(real.port, "keyspace", "db0"),
        field(m, "keyspace", "db0")
    );
    ours.stop();
}

/// A fake master that answers the handshake and then sends `rdb` as a `$len` payload (again
/// for each PSYNC on the connection).
async fn fake_master(rdb: Vec<u8>) -> u16 {
    use tokio::io::AsyncWriteExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let rdb = rdb.clone();
            tokio::spawn(async move {
                while answer_until_psync(&mut s).await {
                    let mut out = fullresync_header(rdb.len());
                    out.extend_from_slice(&rdb);
                    let _ = s.write_all(&out).await;
                }
            });
        }
    });
    port
}

/// Plays a master's side of the handshake on `s`: answers PING and each REPLCONF until the
/// replica sends PSYNC. False if the connection closed first.
async fn answer_until_psync(s: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if text.contains("PSYNC") {
            return true;
        }
        let replies = text.matches("PING").count() + text.matches("REPLCONF").count();
        for _ in 0..replies {
            let r: &[u8] = if text.contains("PING") {
                b"+PONG\r\n"
            } else {
                b"+OK\r\n"
            };
            let _ = s.write_all(r).await;
        }
        if replies > 0 {
            seen.clear();
        }
    }
}

/// `+FULLRESYNC` and the bulk header of an RDB of `len` bytes.
fn fullresync_header(len: usize) -> Vec<u8> {
    let mut out = b"+FULLRESYNC 1111111111222222222233333333334444444444 0\r\n".to_vec();
    out.extend_from_slice(format!("${len}\r\n").as_bytes());
    out
}

/// Keeps the link open until the replica closes it (a master streams on after the RDB).
async fn hold_open(s: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

/// A fake master that answers the handshake, sends all of `rdb` but its last `tail` bytes,
/// waits `pause`, then sends the rest; it records when the last bytes went out.
async fn slow_fake_master(
    rdb: Vec<u8>,
    tail: usize,
    pause: Duration,
    last_sent: std::sync::Arc<std::sync::Mutex<Option<Instant>>>,
) -> u16 {
    use tokio::io::AsyncWriteExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((mut s, _)) = l.accept().await else {
            return;
        };
        if !answer_until_psync(&mut s).await {
            return;
        }
        let mut out = fullresync_header(rdb.len());
        let cut = rdb.len() - tail;
        out.extend_from_slice(&rdb[..cut]);
        let _ = s.write_all(&out).await;
        tokio::time::sleep(pause).await;
        let _ = s.write_all(&rdb[cut..]).await;
        *last_sent.lock().unwrap() = Some(Instant::now());
        hold_open(&mut s).await;
    });
    port
}

/// With `repl-diskless-load on-empty-db` an empty replica parses the RDB while it arrives
/// (`readSyncBulkPayload` hands the socket to `rdbLoadRio`): when the master's last bytes
/// come after a pause, the keys before them are already loaded, and the load ends at once
/// instead of starting then. Each key costs 100 ms here (`key-load-delay`): loading the 18
/// keys after the transfer would take 1.8 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diskless_load_parses_the_rdb_while_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let rdb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/master7015_all_types_disk.rdb"
    ))
    .unwrap();
    // The last key (a short string) and the EOF come after the pause.
    let last_sent = std::sync::Arc::new(std::sync::Mutex::new(None));
    let fm = slow_fake_master(rdb, 40, Duration::from_secs(4), last_sent.clone()).await;
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-load",
            "on-empty-db",
            "--key-load-delay",
            "100000",
        ],
    )
    .await;
    let p = ours.port;
    cli(p, &["replicaof", "127.0.0.1", &fm.to_string()]);
    let d = dir.path().to_path_buf();
    wait_for(T, "sync finished", move || {
        log_of(&d).contains("MASTER <-> REPLICA sync: Finished with success")
    })
    .await;
    let sent = last_sent
        .lock()
        .unwrap()
        .expect("the master sent its last bytes");
    let after = sent.elapsed();
    let log = log_of(dir.path());
    assert!(log.contains("bytes from master to parser"), "{log}");
    assert!(
        after < Duration::from_millis(1500),
        "the load ended {after:?} after the last byte: it did not parse while receiving\n{log}"
    );
    // Every key of every db arrived (the file has 18, in several dbs).
    let keys: u64 = cli(p, &["info", "keyspace"])
        .lines()
        .filter_map(|l| l.split("keys=").nth(1))
        .filter_map(|r| r.split(',').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(keys, 18);
    ours.stop();
}

/// A fake master whose first transfer breaks off halfway (the connection closes) and whose
/// second is whole.
async fn breaking_fake_master(rdb: Vec<u8>) -> u16 {
    use tokio::io::AsyncWriteExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        for attempt in 0.. {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let rdb = rdb.clone();
            tokio::spawn(async move {
                if !answer_until_psync(&mut s).await {
                    return;
                }
                let mut out = fullresync_header(rdb.len());
                let part = if attempt == 0 {
                    rdb.len() / 2
                } else {
                    rdb.len()
                };
                out.extend_from_slice(&rdb[..part]);
                let _ = s.write_all(&out).await;
                if attempt == 0 {
                    return; // the connection drops mid-transfer
                }
                hold_open(&mut s).await;
            });
        }
    });
    port
}

/// A transfer cut halfway leaves nothing behind: the next one loads on its own, from disk
/// (`repl-diskless-load disabled`) and from the socket alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_transfer_leaves_nothing_for_the_next_one() {
    let rdb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/master7015_all_types_disk.rdb"
    ))
    .unwrap();
    for mode in ["disabled", "on-empty-db"] {
        let dir = tempfile::tempdir().unwrap();
        let fm = breaking_fake_master(rdb.clone()).await;
        let ours = start_ours(dir.path(), &["--repl-diskless-load", mode]).await;
        let p = ours.port;
        cli(p, &["replicaof", "127.0.0.1", &fm.to_string()]);
        let d = dir.path().to_path_buf();
        wait_for(T, "sync finished", move || {
            log_of(&d).contains("MASTER <-> REPLICA sync: Finished with success")
        })
        .await;
        let log = log_of(dir.path());
        // The break, in Redis's words for a transfer to disk and for a load from the socket.
        assert!(
            log.contains("I/O error trying to sync with MASTER")
                || log.contains("Failed trying to load the MASTER synchronization DB from socket"),
            "{mode}: {log}"
        );
        assert!(!log.contains("unusable"), "{mode}: {log}");
        let keys: u64 = cli(p, &["info", "keyspace"])
            .lines()
            .filter_map(|l| l.split("keys=").nth(1))
            .filter_map(|r| r.split(',').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(keys, 18, "{mode}");
        ours.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupt_rdb_from_a_master_is_refused_and_the_old_data_kept() {
    if !have_real_redis("corrupt_rdb_from_a_master_is_refused_and_the_old_data_kept") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rdb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/master7015_all_types_disk.rdb"
    ))
    .unwrap();
    let n = rdb.len();
    rdb[n - 2] ^= 0x55; // wrong CRC
    let fm = fake_master(rdb).await;
    let ours = start_ours(dir.path(), &[]).await;
    let p = ours.port;
    cli(p, &["set", "precious", "data"]);
    assert_eq!(
        cli(p, &["replicaof", "127.0.0.1", &fm.to_string()]).trim(),
        "OK"
    );
    let d = dir.path().to_path_buf();
    wait_for(T, "load failure logged", move || {
        log_of(&d).contains("Failed trying to load the MASTER synchronization DB")
    })
    .await;
    let log = log_of(dir.path());
    assert!(log.contains("Wrong RDB checksum"), "{log}");
    // The replica retries at once (as Redis does), so a GET may land while the next copy of
    // the bad file is loading and get -LOADING; the old data is checked for good below.
    let got = cli(p, &["get", "precious"]);
    assert!(
        got.trim() == "data" || got.starts_with("LOADING"),
        "old dataset kept, or a retry loading: {got}"
    );
    // The fake master keeps sending the bad file; REPLICAOF is refused with -LOADING while a
    // retry is being loaded (as in Redis), so ask until it lands.
    wait_for(T, "REPLICAOF NO ONE accepted", move || {
        cli(p, &["replicaof", "no", "one"]).trim() == "OK"
    })
    .await;
    assert_eq!(cli(p, &["get", "precious"]).trim(), "data");
    assert_eq!(cli(p, &["ping"]).trim(), "PONG");
    ours.stop();
}

/// A master sending a format newer than we read (RDB 13: no server writes it yet): refused
/// with Redis's own line, the old data kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn newer_rdb_version_from_a_master_is_refused_in_redis_words() {
    if !have_real_redis("newer_rdb_version_from_a_master_is_refused_in_redis_words") {
        return; // redis-cli drives it
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rdb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/master7015_all_types_disk.rdb"
    ))
    .unwrap();
    rdb[..9].copy_from_slice(b"REDIS0013");
    let fm = fake_master(rdb).await;
    let ours = start_ours(dir.path(), &[]).await;
    let p = ours.port;
    cli(p, &["set", "precious", "data"]);
    assert_eq!(
        cli(p, &["replicaof", "127.0.0.1", &fm.to_string()]).trim(),
        "OK"
    );
    let d = dir.path().to_path_buf();
    wait_for(T, "load failure logged", move || {
        log_of(&d).contains("Failed trying to load the MASTER synchronization DB")
    })
    .await;
    let log = log_of(dir.path());
    assert!(
        log.lines()
            .any(|l| l.ends_with(" # Can't handle RDB format version 13")),
        "{log}"
    );
    wait_for(T, "REPLICAOF NO ONE accepted", move || {
        cli(p, &["replicaof", "no", "one"]).trim() == "OK"
    })
    .await;
    assert_eq!(cli(p, &["get", "precious"]).trim(), "data");
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_replication_commands_get_errors_and_the_server_survives() {
    if !have_real_redis("bad_replication_commands_get_errors_and_the_server_survives") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &[]).await;
    let p = ours.port;
    // redis-cli would enter its replica mode on PSYNC: use a plain client.
    let client = redis::Client::open(format!("redis://127.0.0.1:{p}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let e = redis::cmd("PSYNC")
        .arg("a")
        .query_async::<String>(&mut c)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("wrong number of arguments for 'psync' command"),
        "{e}"
    );
    let r = cli(p, &["replconf", "listening-port", "notaport"]);
    assert!(r.starts_with("ERR") || r.contains("ERR"), "{r}");
    let r = cli(p, &["replicaof", "127.0.0.1", "notaport"]);
    assert!(r.contains("ERR"), "{r}");
    let r = cli(p, &["wait", "x", "0"]);
    assert!(r.contains("ERR"), "{r}");
    assert_eq!(cli(p, &["ping"]).trim(), "PONG");
    assert_eq!(cli(p, &["role"]).lines().next(), Some("master"));
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_masterauth_is_logged_then_fixed_with_config_set() {
    if !have_real_redis("wrong_masterauth_is_logged_then_fixed_with_config_set") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let real = RealRedis::start(
        &dir.path().join("real"),
        &["--requirepass", "pw", "--repl-diskless-sync", "no"],
    );
    let m = real.port;
    cli(m, &["-a", "pw", "--no-auth-warning", "set", "k", "v"]);
    let od = dir.path().join("ours");
    let ours = start_ours_replica_of(&od, m, &["--masterauth", "wrong"]).await;
    let r = ours.port;
    let d = od.clone();
    wait_for(T, "auth failure logged", move || {
        log_of(&d).contains("Unable to AUTH to MASTER")
    })
    .await;
    assert_ne!(field(r, "replication", "master_link_status"), "up");
    assert_eq!(cli(r, &["config", "set", "masterauth", "pw"]).trim(), "OK");
    await_link_up(r).await;
    wait_for(T, "data arrived", move || {
        cli(r, &["get", "k"]).trim() == "v"
    })
    .await;
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_list_shows_replicas_with_flag_s_and_omem() {
    if !have_real_redis("client_list_shows_replicas_with_flag_s_and_omem") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--repl-diskless-sync", "no"]).await;
    let m = ours.port;
    cli(m, &["set", "a", "1"]);
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    await_in_sync(m, real.port).await;
    let list = cli(m, &["client", "list"]);
    let replica_line = list
        .lines()
        .find(|l| l.contains("flags=S"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(replica_line.contains("omem="), "{replica_line}");
    assert!(
        list.lines()
            .any(|l| l.contains("flags=N") && l.contains("cmd=client")),
        "{list}"
    );
    let role = cli(m, &["role"]);
    assert!(role.starts_with("master"), "{role}");
    assert!(
        role.contains(&real.port.to_string()),
        "ROLE lists the replica: {role}"
    );
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diskless_child_is_killed_when_its_last_replica_drops() {
    if !have_real_redis("diskless_child_is_killed_when_its_last_replica_drops") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(
        dir.path(),
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--rdb-key-save-delay",
            "500",
            "--enable-debug-command",
            "yes",
        ],
    )
    .await;
    let m = ours.port;
    cli(m, &["debug", "populate", "5000"]);
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    let d = dir.path().to_path_buf();
    wait_for(T, "socket BGSAVE starts", move || {
        log_of(&d).contains("Background RDB transfer started by pid")
    })
    .await;
    assert_eq!(field(m, "persistence", "rdb_bgsave_in_progress"), "1");
    drop(real); // the replica process dies mid-transfer
    let d = dir.path().to_path_buf();
    wait_for(T, "child killed", move || {
        log_of(&d).contains("Diskless rdb transfer, last replica dropped, killing fork child.")
    })
    .await;
    wait_for(T, "no child left", move || {
        field(m, "persistence", "rdb_bgsave_in_progress") == "0"
    })
    .await;
    assert_eq!(cli(m, &["set", "still", "serving"]).trim(), "OK");
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_replica_answers_masterdown_when_told_not_to_serve_stale_data() {
    if !have_real_redis("stale_replica_answers_masterdown_when_told_not_to_serve_stale_data") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nobody = free_port(); // nothing listens there: the link stays down
    let ours =
        start_ours_replica_of(dir.path(), nobody, &["--replica-serve-stale-data", "no"]).await;
    let p = ours.port;
    assert_eq!(
        cli(p, &["get", "x"]).trim(),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    assert_eq!(
        cli(p, &["config", "set", "replica-serve-stale-data", "yes"]).trim(),
        "OK"
    );
    assert_eq!(cli(p, &["get", "x"]).trim(), "");
    assert!(cli(p, &["info", "replication"]).contains("master_link_status:down"));
    ours.stop();
}

/// Full syncs while a client keeps writing: the RDB plus the stream after its offset must add
/// up to exactly the master's data (an INCR counter would show any write applied twice or
/// lost).
async fn full_sync_under_writes(diskless: bool) {
    let dir = tempfile::tempdir().unwrap();
    let args = slow_bgsave_args(diskless, 200);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ours = start_ours(dir.path(), &args).await;
    let m = ours.port;
    cli(m, &["debug", "populate", "3000"]);
    let writer = Writer::start(m, |c, n| {
        let _: i64 = redis::cmd("INCR").arg("counter").query(c).unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("w:{}", n % 500))
            .arg(n)
            .query(c)
            .unwrap();
        let _: i64 = redis::cmd("LPUSH").arg("log").arg(n).query(c).unwrap();
    });
    let real = RealRedis::replica_of(&dir.path().join("real"), m, &[]);
    let r = real.port;
    await_link_up(r).await;
    let writes = writer.stop();
    assert!(writes > 0);
    await_in_sync(m, r).await;
    assert_eq!(cli(r, &["get", "counter"]).trim(), writes.to_string());
    assert_eq!(dataset(r), dataset(m));
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disk_full_sync_under_continuous_writes_loses_and_repeats_nothing() {
    if !have_real_redis("disk_full_sync_under_continuous_writes_loses_and_repeats_nothing") {
        return;
    }
    full_sync_under_writes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diskless_full_sync_under_continuous_writes_loses_and_repeats_nothing() {
    if !have_real_redis("diskless_full_sync_under_continuous_writes_loses_and_repeats_nothing") {
        return;
    }
    full_sync_under_writes(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_full_syncs_from_a_real_master_under_continuous_writes() {
    if !have_real_redis("ours_full_syncs_from_a_real_master_under_continuous_writes") {
        return;
    }
    for diskless in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let args = slow_bgsave_args(diskless, 200);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let real = RealRedis::start(&dir.path().join("real"), &args);
        let m = real.port;
        cli(m, &["debug", "populate", "3000"]);
        let writer = Writer::start(m, |c, n| {
            let _: i64 = redis::cmd("INCR").arg("counter").query(c).unwrap();
            let _: i64 = redis::cmd("RPUSH").arg("log").arg(n).query(c).unwrap();
        });
        // A slow load on our side too, so the master buffers writes for us meanwhile.
        let ours =
            start_ours_replica_of(&dir.path().join("ours"), m, &["--key-load-delay", "100"]).await;
        let r = ours.port;
        await_link_up(r).await;
        let writes = writer.stop();
        await_in_sync(m, r).await;
        assert_eq!(
            cli(r, &["get", "counter"]).trim(),
            writes.to_string(),
            "diskless={diskless}"
        );
        assert_eq!(dataset(r), dataset(m), "diskless={diskless}");
        ours.stop();
    }
}
