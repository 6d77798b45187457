//! Hostile input, row by row as issue 13's table lists it, over real sockets on 127.0.0.1.
//! Where a real redis-server 7.0 is installed, each test sends the same bytes to it and asserts
//! that ours answers the same; Redis's behaviour is the specification.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(30);

/// Sends `send`, then reads until `want` bytes arrived, the peer closed, or it was quiet for
/// `quiet`. Returns what came and whether the peer closed.
async fn exchange(port: u16, send: &[u8], want: usize, quiet: Duration) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(send).await.unwrap();
    read_reply(&mut s, want, quiet).await
}

async fn read_reply(s: &mut TcpStream, want: usize, quiet: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if got.len() >= want {
            return (got, false);
        }
        match tokio::time::timeout(quiet, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

/// One RESP multibulk request.
fn req(args: &[&[u8]]) -> Vec<u8> {
    replscope::wire::encode_command(args)
}

/// Sends one request per element on one connection and returns each reply line (simple
/// replies only: `+`, `-`, `:`), in order.
async fn replies(port: u16, reqs: &[Vec<u8>]) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut out = Vec::new();
    for r in reqs {
        s.write_all(r).await.unwrap();
        let (got, _) = read_reply(&mut s, 1, T).await;
        let mut all = got;
        while !all.ends_with(b"\r\n") {
            let (more, closed) = read_reply(&mut s, 1, T).await;
            all.extend(more);
            if closed {
                break;
            }
        }
        out.push(String::from_utf8_lossy(&all).trim_end().to_string());
    }
    out
}

/// Ours and, when installed, a real redis-server with the same extra arguments.
struct Pair {
    ours: replscope::server::RunningServer,
    real: Option<RealRedis>,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start(test: &str, extra: &[&str]) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ours = start_ours(&dir.path().join("ours"), extra).await;
        let real = have_real_redis(test).then(|| RealRedis::start(&dir.path().join("real"), extra));
        Pair {
            ours,
            real,
            _dir: dir,
        }
    }

    fn ports(&self) -> Vec<u16> {
        let mut v = vec![self.ours.port];
        v.extend(self.real.as_ref().map(|r| r.port));
        v
    }

    fn ours_log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("ours/ours.log")).unwrap_or_default()
    }
}

/// Runs `f` against ours and the real server and asserts the same result.
async fn same<F, Fut, R>(p: &Pair, what: &str, f: F) -> R
where
    F: Fn(u16) -> Fut,
    Fut: std::future::Future<Output = R>,
    R: PartialEq + std::fmt::Debug,
{
    let ours = f(p.ours.port).await;
    if let Some(real) = &p.real {
        let theirs = f(real.port).await;
        assert_eq!(ours, theirs, "{what}: ours vs redis-server");
    }
    ours
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn abusive_glob_patterns_answer_at_once_like_redis() {
    let p = Pair::start("abusive_glob_patterns", &[]).await;
    let key = vec![b'a'; 64];
    let mut pat = b"*a".repeat(12);
    pat.extend_from_slice(b"*b");
    let got = same(&p, "KEYS, SCAN MATCH, CONFIG GET with *a*a*...*b", |port| {
        let (key, pat) = (key.clone(), pat.clone());
        async move {
            replies_raw(
                port,
                &[
                    req(&[b"SET", &key, b"v"]),
                    req(&[b"KEYS", &pat]),
                    req(&[b"SCAN", b"0", b"MATCH", &pat, b"COUNT", b"1000"]),
                    req(&[b"CONFIG", b"GET", &pat]),
                    req(&[b"PING"]),
                ],
            )
            .await
        }
    })
    .await;
    assert_eq!(got.last().map(|s| s.as_str()), Some("+PONG\r\n"));
}

/// Sends each request and reads its whole reply (any RESP shape, small), in order.
async fn replies_raw(port: u16, reqs: &[Vec<u8>]) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut out = Vec::new();
    for r in reqs {
        s.write_all(r).await.unwrap();
        // Replies here are small: read until the line structure is complete.
        let mut all = Vec::new();
        loop {
            let (more, closed) = read_reply(&mut s, 1, T).await;
            all.extend(more);
            if closed || resp_complete(&all) {
                break;
            }
        }
        out.push(String::from_utf8_lossy(&all).into_owned());
    }
    out
}

/// Whether `b` holds one complete RESP2 value.
fn resp_complete(b: &[u8]) -> bool {
    fn value(b: &[u8], at: usize) -> Option<usize> {
        let end = at + b.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&b[at + 1..end]).ok()?;
        let next = end + 2;
        match b.get(at)? {
            b'$' => {
                let n: i64 = line.parse().ok()?;
                if n < 0 {
                    Some(next)
                } else {
                    let e = next + n as usize + 2;
                    (b.len() >= e).then_some(e)
                }
            }
            b'*' => {
                let n: i64 = line.parse().ok()?;
                let mut at = next;
                for _ in 0..n.max(0) {
                    at = value(b, at)?;
                }
                Some(at)
            }
            _ => Some(next),
        }
    }
    value(b, 0) == Some(b.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_huge_multibulk_arriving_in_pieces_is_answered() {
    // DEL with 1.6 million one-byte arguments (11 MB): parsed once as it arrives, not again
    // from its start on every read (the parser's own test checks the buffer stays small).
    let p = Pair::start("a_huge_multibulk", &[]).await;
    let n = 1_600_000;
    let mut big = format!("*{}\r\n$3\r\nDEL\r\n", n + 1).into_bytes();
    for _ in 0..n {
        big.extend_from_slice(b"$1\r\nx\r\n");
    }
    big.extend_from_slice(&req(&[b"PING"]));
    same(&p, "DEL with 1.6M args, then PING", |port| {
        let big = big.clone();
        async move {
            let t = std::time::Instant::now();
            let (got, _) = exchange(port, &big, 11, Duration::from_secs(120)).await;
            eprintln!("port {port}: {:?} for 11 MB of DEL", t.elapsed());
            String::from_utf8_lossy(&got).into_owned()
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn debug_is_off_and_cannot_be_switched_on() {
    let p = Pair::start("debug_is_off", &[]).await;
    same(
        &p,
        "CONFIG SET enable-debug-command, DEBUG",
        |port| async move {
            replies(
                port,
                &[
                    req(&[b"CONFIG", b"SET", b"enable-debug-command", b"yes"]),
                    req(&[b"DEBUG", b"SLEEP", b"nan"]),
                    req(&[b"CONFIG", b"SET", b"dir", b"/tmp"]),
                ],
            )
            .await
        },
    )
    .await;
    // Switched on at start, hostile arguments still answer and leave no ghost behind.
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--enable-debug-command", "yes"]).await;
    let got = replies(
        ours.port,
        &[
            req(&[b"DEBUG", b"SLEEP", b"nan"]),
            req(&[b"DEBUG", b"SLEEP", b"-inf"]),
            req(&[b"DEBUG", b"POPULATE", b"1", b"k", b"100000000000"]),
            req(&[b"DBSIZE"]),
            req(&[b"PING"]),
        ],
    )
    .await;
    assert_eq!(got[..2], ["+OK", "+OK"]);
    assert!(
        got[2].starts_with("-ERR string exceeds maximum allowed size"),
        "{got:?}"
    );
    assert_eq!(got[3..], [":0", "+PONG"]);
    let list = cli(ours.port, &["client", "list"]);
    assert_eq!(list.lines().count(), 1, "one client, no ghost: {list}");
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zincrby_to_nan_keeps_the_score_and_the_rdb_loads() {
    let p = Pair::start("zincrby_to_nan", &[]).await;
    same(&p, "ZADD inf, ZINCRBY -inf", |port| async move {
        replies_raw(
            port,
            &[
                req(&[b"ZADD", b"z", b"inf", b"m"]),
                req(&[b"ZINCRBY", b"z", b"-inf", b"m"]),
                req(&[b"ZADD", b"z", b"nan", b"m"]),
                req(&[b"ZSCORE", b"z", b"m"]),
            ],
        )
        .await
    })
    .await;
    // Nothing NaN was stored: the file saves and loads again.
    let dir = p._dir.path().join("ours");
    assert_eq!(cli(p.ours.port, &["save"]).trim(), "OK");
    let again = start_ours(&dir, &[]).await;
    assert_eq!(cli(again.port, &["zscore", "z", "m"]).trim(), "inf");
    again.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn maxclients_refuses_with_redis_error() {
    let p = Pair::start("maxclients", &["--maxclients", "10"]).await;
    let ports = p.ports();
    for port in ports.iter().copied() {
        let mut held = Vec::new();
        let mut got = Vec::new();
        for _ in 0..15 {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(b"PING\r\n").await.unwrap();
            let (r, closed) = read_reply(&mut s, 7, T).await;
            got.push((String::from_utf8_lossy(&r).into_owned(), closed));
            held.push(s);
        }
        let served = got.iter().filter(|(r, _)| r == "+PONG\r\n").count();
        assert_eq!(served, 10, "port {port}: {got:?}");
        let refused = &got[10..];
        assert!(
            refused
                .iter()
                .all(|(r, _)| r == "-ERR max number of clients reached\r\n"),
            "port {port}: {got:?}"
        );
        drop(held);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_names_and_kill_are_validated_like_redis() {
    let p = Pair::start("client_names", &[]).await;
    same(&p, "CLIENT KILL, HELLO SETNAME", |port| async move {
        replies(
            port,
            &[
                req(&[b"CLIENT", b"KILL"]),
                req(&[b"HELLO", b"3", b"SETNAME", b"x y"]),
                req(&[b"HELLO", b"2", b"SETNAME", b"a\nid=1 addr=forged"]),
                req(&[b"CLIENT", b"SETNAME", b"bad\r\nname"]),
            ],
        )
        .await
    })
    .await;
    let list = cli(p.ours.port, &["client", "list"]);
    assert!(!list.contains("forged"), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buffer_limits_have_redis_floors_and_strings_its_cap() {
    let p = Pair::start("buffer_limits", &[]).await;
    let mb = vec![b'x'; 1 << 20];
    same(&p, "limits below 1mb, then the string cap at 2mb", |port| {
        let mb = mb.clone();
        async move {
            replies(
                port,
                &[
                    req(&[b"CONFIG", b"SET", b"proto-max-bulk-len", b"0"]),
                    req(&[b"CONFIG", b"SET", b"client-query-buffer-limit", b"0"]),
                    req(&[b"SET", b"k", b"v"]),
                    req(&[b"CONFIG", b"SET", b"proto-max-bulk-len", b"2mb"]),
                    req(&[b"APPEND", b"s", &mb]),
                    req(&[b"APPEND", b"s", &mb]),
                    req(&[b"APPEND", b"s", &mb]),
                    req(&[b"SETRANGE", b"s", b"2097152", b"x"]),
                    req(&[b"SETRANGE", b"s", b"-1", b"x"]),
                    req(&[b"STRLEN", b"s"]),
                ],
            )
            .await
        }
    })
    .await;
    // A client whose unparsed input passes client-query-buffer-limit is closed, unanswered.
    same(&p, "client-query-buffer-limit", |port| async move {
        cli(port, &["config", "set", "client-query-buffer-limit", "1mb"]);
        let mut send = b"*2\r\n$3\r\nGET\r\n$2000000\r\n".to_vec();
        send.extend(vec![b'a'; 1_500_000]);
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _ = s.write_all(&send).await;
        let (got, closed) = read_reply(&mut s, 1, T).await;
        (got, closed)
    })
    .await;
    assert!(p
        .ours_log()
        .contains("Closing client that reached max query buffer length"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_command_errors_are_cut_like_redis() {
    let p = Pair::start("unknown_command_errors", &[]).await;
    let name = vec![b'a'; 1 << 20];
    let long_arg = vec![b'b'; 300];
    let got = same(
        &p,
        "a 1 MB command name, long args, a long subcommand",
        |port| {
            let (name, long_arg) = (name.clone(), long_arg.clone());
            async move {
                replies(
                    port,
                    &[
                        req(&[&name, b"b"]),
                        req(&[b"FOO", &long_arg, &long_arg]),
                        req(&[b"CONFIG", &long_arg]),
                    ],
                )
                .await
            }
        },
    )
    .await;
    assert!(got[0].len() < 200, "{}", got[0].len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_post_to_the_redis_port_is_cut_off() {
    let p = Pair::start("http_post", &[]).await;
    same(
        &p,
        "POST with a Redis command in its body",
        |port| async move {
            let post =
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n\r\n\r\nSET x 1\r\n";
            let (got, closed) = exchange(port, post, 1, T).await;
            let exists = cli(port, &["exists", "x"]);
            // A GET with a Host: header is cut at that line too (replies included).
            let (got2, closed2) = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1, T).await;
            (got, closed, exists, got2, closed2)
        },
    )
    .await;
    assert!(p.ours_log().contains("Possible SECURITY ATTACK detected"));
}

/// An RDB with one string whose LZF header claims `ulen` bytes from 2 bytes of input.
fn lzf_bomb(ulen: u64) -> Vec<u8> {
    let mut rdb = b"REDIS0010".to_vec();
    rdb.extend_from_slice(&[0xFE, 0x00]); // SELECTDB 0
    rdb.extend_from_slice(&[0x00, 0x01, b'k']); // string key "k"
    rdb.push(0xC3); // LZF-encoded value
    rdb.push(0x03); // compressed length 3
    rdb.push(0x81); // uncompressed length: 64-bit
    rdb.extend_from_slice(&ulen.to_be_bytes());
    rdb.extend_from_slice(&[0x01, b'a', b'b']);
    rdb.push(0xFF);
    rdb.extend_from_slice(&[0; 8]); // checksum 0: not checked
    rdb
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_dump_rdb_at_start_exits_1_with_a_message() {
    for ulen in [u64::MAX, 1 << 40] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dump.rdb"), lzf_bomb(ulen)).unwrap();
        let bin = env!("CARGO_BIN_EXE_replscope");
        let out = std::process::Command::new(bin)
            .args(["server", "--port", "0", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("invalid LZF compressed string"), "{text}");
        if which("redis-server").is_some() {
            let port = free_port().to_string();
            let status = std::process::Command::new("redis-server")
                .args(["--port", &port, "--bind", "127.0.0.1", "--dir"])
                .arg(dir.path())
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(1), "redis-server refuses it too");
        }
    }
}

/// A master that answers the handshake, then sends `rdb` for every PSYNC.
async fn rogue_master(rdb: Vec<u8>) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let rdb = rdb.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).into_owned();
                    let mut out = Vec::new();
                    for _ in 0..text.matches("PING").count() {
                        out.extend_from_slice(b"+PONG\r\n");
                    }
                    for _ in 0..text.matches("REPLCONF").count() {
                        out.extend_from_slice(b"+OK\r\n");
                    }
                    if text.contains("PSYNC") {
                        out.extend_from_slice(
                            b"+FULLRESYNC 1111111111222222222233333333334444444444 0\r\n",
                        );
                        out.extend_from_slice(format!("${}\r\n", rdb.len()).as_bytes());
                        out.extend_from_slice(&rdb);
                    }
                    if !out.is_empty() {
                        seen.clear();
                        let _ = s.write_all(&out).await;
                    }
                }
            });
        }
    });
    port
}

fn log_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("ours.log")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lzf_bombs_from_a_rogue_master_keep_the_old_data() {
    for ulen in [u64::MAX, 1 << 40] {
        let dir = tempfile::tempdir().unwrap();
        let master = rogue_master(lzf_bomb(ulen)).await;
        let ours = start_ours(dir.path(), &[]).await;
        let p = ours.port;
        cli(p, &["set", "precious", "data"]);
        assert_eq!(
            cli(p, &["replicaof", "127.0.0.1", &master.to_string()]).trim(),
            "OK"
        );
        let d = dir.path().to_path_buf();
        wait_for(T, "the bad RDB refused", move || {
            log_of(&d).contains("invalid LZF compressed string")
        })
        .await;
        // The replica retries at once, so it may be loading the next copy: it answers
        // -LOADING meanwhile, never for good, and SHUTDOWN is allowed while loading.
        wait_for(T, "REPLICAOF NO ONE accepted", move || {
            cli(p, &["replicaof", "no", "one"]).trim() == "OK"
        })
        .await;
        assert_eq!(cli(p, &["get", "precious"]).trim(), "data");
        assert_eq!(cli(p, &["ping"]).trim(), "PONG");
        ours.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_backlog_shrinks_after_the_only_replica_leaves() {
    if !have_real_redis("the_backlog_shrinks_after_the_only_replica_leaves") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(&dir.path().join("master"), &["--repl-backlog-size", "1mb"]).await;
    let port = ours.port.to_string();
    let replica = RealRedis::start(
        &dir.path().join("replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let rport = replica.port;
    wait_for(T, "replica online", move || {
        info_field(rport, "replication", "master_link_status").as_deref() == Some("up")
    })
    .await;
    // The replica stops reading: the shared buffer grows past the backlog's size.
    let pid = info_field(rport, "server", "process_id").unwrap();
    std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    let value = "v".repeat(1000);
    let lines: String = (0..20_000)
        .map(|i| format!("SET k{} {value}\n", i % 100))
        .collect();
    cli_pipe(ours.port, &lines);
    let p = ours.port;
    let grown: u64 = info_field(p, "memory", "mem_total_replication_buffers")
        .unwrap()
        .parse()
        .unwrap();
    assert!(grown > 8 << 20, "the buffer grew: {grown}");
    std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap();
    wait_for(T, "replica gone", move || {
        info_field(p, "replication", "connected_slaves").as_deref() == Some("0")
    })
    .await;
    // A few writes, as an idle master gets: Redis is back near 1 MB at once.
    for i in 0..10 {
        cli(p, &["set", &format!("after{i}"), "x"]);
    }
    wait_for(
        Duration::from_secs(5),
        "backlog back near its size",
        move || {
            let mem: u64 = info_field(p, "memory", "mem_total_replication_buffers")
                .unwrap()
                .parse()
                .unwrap();
            mem < 2 << 20
        },
    )
    .await;
    drop(replica);
    ours.stop();
}

/// Pipes commands into redis-cli (one line each).
fn cli_pipe(port: u16, lines: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    child.wait().unwrap();
}
