//! Our server over real sockets: RESP2/3 and inline requests, Redis's error texts, protocol
//! errors, the `redis` crate and redis-cli/redis-benchmark as clients, SAVE/BGSAVE files that
//! real Redis tools accept.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes and reads until `want` bytes arrived or the peer closed.
async fn raw(port: u16, send: &[u8], want: usize) -> (Vec<u8>, bool) {
    raw_at("127.0.0.1", port, send, want).await
}

async fn raw_at(host: &str, port: u16, send: &[u8], want: usize) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect((host, port)).await.unwrap();
    s.write_all(send).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        if got.len() >= want {
            break false;
        }
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (got, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resp_replies_match_real_redis_captures() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_ours(dir.path(), &[]).await;
    let p = srv.port;
    let cases: Vec<(&[u8], &[u8])> = vec![
        (b"*2\r\n$3\r\nGET\r\n$6\r\nnosuch\r\n", b"$-1\r\n"),
        (
            b"*3\r\n$9\r\nNOSUCHCMD\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n",
        ),
        (b"*1\r\n$3\r\nGET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
        (
            b"*2\r\n$6\r\nCONFIG\r\n$4\r\nNOPE\r\n",
            b"-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n",
        ),
        (b"PING\r\n", b"+PONG\r\n"),
        (b"\r\n*0\r\nPING\r\n", b"+PONG\r\n"),
        (b"set  inl \"a b\\x41\"\r\nget inl\r\n", b"+OK\r\n$4\r\na bA\r\n"),
        (b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n+PONG\r\n"),
        (b"*2\r\n$5\r\nHELLO\r\n$1\r\n4\r\n", b"-NOPROTO unsupported protocol version\r\n"),
        (
            b"*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n",
            b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
        ),
        (b"*2\r\n$4\r\nINCR\r\n$3\r\ninl\r\n", b"-ERR value is not an integer or out of range\r\n"),
    ];
    for (send, want) in cases {
        let (got, _) = raw(p, send, want.len()).await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "for {:?}",
            String::from_utf8_lossy(send)
        );
    }
    // RESP3 after HELLO 3: null and map shapes.
    let (got, _) = raw(p, b"HELLO 3\r\nGET nosuch\r\n", 10_000).await;
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"),
        "{text}"
    );
    assert!(text.ends_with("$7\r\nmodules\r\n*0\r\n_\r\n"), "{text}");
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protocol_errors_reply_then_close() {
    let dir = tempfile::tempdir().unwrap();
    // proto-max-bulk-len may not go below 1mb (as in Redis).
    let srv = start_ours(dir.path(), &["--proto-max-bulk-len", "1mb"]).await;
    let cases: Vec<(&[u8], &str)> = vec![
        (
            b"*1\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"\"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"*1\r\n#4\r\nPING\r\n",
            "-ERR Protocol error: expected '$', got '#'\r\n",
        ),
        (
            b"*1\r\n$1048577\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (send, want) in cases {
        let (got, closed) = raw(srv.port, send, 100_000).await;
        assert_eq!(String::from_utf8_lossy(&got), want);
        assert!(closed, "connection closed after {want}");
    }
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requirepass_noauth_wrongpass() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_ours(dir.path(), &["--requirepass", "sekret"]).await;
    let (got, _) = raw(srv.port, b"*1\r\n$4\r\nPING\r\n", 34).await;
    assert_eq!(got, b"-NOAUTH Authentication required.\r\n");
    let (got, _) = raw(srv.port, b"AUTH wrong\r\nAUTH sekret\r\nPING\r\n", 74).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n"
    );
    // Unauthenticated clients may not send big requests.
    let (got, closed) = raw(srv.port, b"*11\r\n", 100).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert!(closed);
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_crate_client_strings_and_expiry() {
    if !have_real_redis("redis_crate_client_strings_and_expiry") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let srv = start_ours(dir.path(), &[]).await;
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", srv.port)).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut c)
        .await
        .unwrap();
    let v: String = redis::cmd("GET")
        .arg("k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(v, "v");
    let n: i64 = redis::cmd("INCRBY")
        .arg("n")
        .arg(41)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 41);
    let n: i64 = redis::cmd("APPEND")
        .arg("k")
        .arg("xyz")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 4);
    let _: () = redis::cmd("MSET")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query_async(&mut c)
        .await
        .unwrap();
    let vals: Vec<Option<String>> = redis::cmd("MGET")
        .arg("a")
        .arg("zz")
        .arg("b")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(vals, vec![Some("1".into()), None, Some("2".into())]);
    let old: Option<String> = redis::cmd("SET")
        .arg("k")
        .arg("w")
        .arg("GET")
        .arg("PX")
        .arg(50)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(old.as_deref(), Some("vxyz"));
    let pttl: i64 = redis::cmd("PTTL")
        .arg("k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!((0..=50).contains(&pttl), "{pttl}");
    let nx: Option<String> = redis::cmd("SET")
        .arg("a")
        .arg("x")
        .arg("NX")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(nx, None);
    // The key expires (awaited, not slept).
    let port = srv.port;
    wait_for(Duration::from_secs(5), "k expires", move || {
        cli(port, &["exists", "k"]).trim() == "0"
    })
    .await;
    let size: i64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
    assert_eq!(size, 3);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("[ab]")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    // SCAN walks every key exactly once.
    let _: () = redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(10)
        .query_async(&mut c)
        .await
        .unwrap_or(());
    for i in 0..500 {
        let _: () = redis::cmd("SET")
            .arg(format!("s:{i}"))
            .arg(i)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let mut cursor = 0u64;
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("s:*")
            .arg("COUNT")
            .arg(50)
            .query_async(&mut c)
            .await
            .unwrap();
        seen.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 500);
    let _: () = redis::cmd("FLUSHALL").query_async(&mut c).await.unwrap();
    let size: i64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
    assert_eq!(size, 0);
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn save_and_bgsave_files_pass_redis_check_rdb_and_load_in_real_redis() {
    if !have_real_redis("save_and_bgsave_files_pass_redis_check_rdb_and_load_in_real_redis") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let srv = start_ours(dir.path(), &["--enable-debug-command", "yes"]).await;
    let p = srv.port;
    cli(p, &["debug", "populate", "2000", "key", "100"]);
    cli(p, &["set", "big", &"x".repeat(5000)]);
    cli(p, &["set", "num", "-123"]);
    cli(p, &["set", "ttl", "v", "EX", "1000"]);
    cli(p, &["rpush", "list", "a", "b", "c"]);
    cli(p, &["hset", "h", "f", "v"]);
    cli(p, &["sadd", "s", "1", "2"]);
    cli(p, &["zadd", "z", "1.5", "m"]);
    cli(p, &["-n", "3", "set", "indb3", "yes"]);
    assert_eq!(cli(p, &["bgsave"]).trim(), "Background saving started");
    wait_for(Duration::from_secs(20), "bgsave ends", move || {
        info_field(p, "persistence", "rdb_bgsave_in_progress").as_deref() == Some("0")
    })
    .await;
    let rdb = dir.path().join("dump.rdb");
    let check = std::process::Command::new("redis-check-rdb")
        .arg(&rdb)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "redis-check-rdb: {out}");
    assert!(out.contains("2008 keys read"), "{out}");
    // A real redis-server loads it and sees the same data.
    let rdir = dir.path().join("real");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::copy(&rdb, rdir.join("dump.rdb")).unwrap();
    let real = RealRedis::start(&rdir, &[]);
    assert!(real.log().contains("Done loading RDB"), "{}", real.log());
    assert_eq!(dataset(real.port), dataset(p));
    // SAVE writes too.
    assert_eq!(cli(p, &["save"]).trim(), "OK");
    let log = std::fs::read_to_string(dir.path().join("ours.log")).unwrap();
    assert!(log.contains("Background saving started by pid"), "{log}");
    assert!(log.contains("Fork CoW for RDB: current"), "{log}");
    assert!(
        log.contains("Background saving terminated with success"),
        "{log}"
    );
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn loads_a_real_7015_rdb_with_every_type_at_startup() {
    if !have_real_redis("loads_a_real_7015_rdb_with_every_type_at_startup") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/master7015_all_types_disk.rdb"
        ),
        dir.path().join("dump.rdb"),
    )
    .unwrap();
    let srv = start_ours(dir.path(), &[]).await;
    let p = srv.port;
    assert_eq!(
        cli(p, &["--raw", "lrange", "l:small", "0", "-1"])
            .lines()
            .collect::<Vec<_>>(),
        ["a", "b", "1", "2", "300", "-5", "70000"]
    );
    assert_eq!(cli(p, &["hlen", "h:big"]).trim(), "600");
    assert_eq!(cli(p, &["zscore", "z:small", "b"]).trim(), "2.5");
    assert_eq!(cli(p, &["type", "st"]).trim(), "stream");
    assert_eq!(cli(p, &["-n", "1", "get", "db1key"]).trim(), "db1val");
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupt_rdb_at_startup_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/master7015_all_types_disk.rdb"
    ))
    .unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    std::fs::write(dir.path().join("dump.rdb"), &bytes).unwrap();
    let cfg = replscope::server::config_from_args(&[
        "--port".into(),
        "0".into(),
        "--dir".into(),
        dir.path().display().to_string(),
        "--logfile".into(),
        dir.path().join("log").display().to_string(),
    ])
    .unwrap();
    let err = replscope::server::start(cfg).await.err().expect("refused");
    assert!(err.contains("Wrong RDB checksum"), "{err}");
}

#[test]
fn redis_benchmark_runs_against_ours() {
    if !have_real_redis("redis_benchmark_runs_against_ours") || which("redis-benchmark").is_none() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let srv = rt.block_on(start_ours(dir.path(), &[]));
    // redis-benchmark's default test list (no -t), with random keys.
    let out = std::process::Command::new("redis-benchmark")
        .args([
            "-p",
            &srv.port.to_string(),
            "-n",
            "2000",
            "-r",
            "1000",
            "-q",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for t in [
        "PING_INLINE",
        "SET",
        "GET",
        "INCR",
        "LPUSH",
        "RPUSH",
        "LPOP",
        "RPOP",
        "SADD",
        "HSET",
        "SPOP",
        "ZADD",
        "ZPOPMIN",
        "LRANGE_600 (first 600 elements)",
        "MSET (10 keys)",
    ] {
        assert!(text.contains(&format!("{t}: ")), "{t} missing in:\n{text}");
    }
    assert!(
        !text.contains("ERR") && !stderr.contains("ERR"),
        "{text}\n{stderr}"
    );
    let size = cli(srv.port, &["dbsize"]);
    assert!(
        size.trim().parse::<u64>().unwrap_or(0) > 100,
        "dbsize {size}"
    );
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binds_every_listed_address_and_honours_loglevel() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_ours(
        dir.path(),
        &["--bind", "127.0.0.1", "127.0.0.2", "--loglevel", "warning"],
    )
    .await;
    for host in ["127.0.0.1", "127.0.0.2"] {
        let (got, _) = raw_at(host, srv.port, b"PING\r\n", 7).await;
        assert_eq!(got, b"+PONG\r\n", "on {host}");
    }
    let log = std::fs::read_to_string(dir.path().join("ours.log")).unwrap();
    assert!(log.contains("# Server initialized"), "{log}");
    assert!(
        !log.contains("Ready to accept connections"),
        "notice lines are dropped at loglevel warning: {log}"
    );
    srv.stop();
}
