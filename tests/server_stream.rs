//! The replication stream our master sends, read by a hand-made replica over a socket, against
//! the shapes a real 7.0.15 master sends (captures/stream_command_rewrites.txt): SELECT before
//! the first command of a db, EXPIRE as PEXPIREAT, SETEX as SET ... PXAT, INCRBYFLOAT as
//! SET ... KEEPTTL, transactions wrapped in MULTI/EXEC, FLUSHDB as is, expiry as DEL.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use replscope::wire::{parse_request, Parsed, RequestLimits};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut b = [0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b))
        .await
        .expect("stream data within 10 s")
        .expect("read");
    assert!(n > 0, "master closed the link");
    buf.extend_from_slice(&b[..n]);
}

async fn read_line(s: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    loop {
        if let Some(p) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=p).collect();
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            if text.is_empty() {
                continue; // keepalive newline before the payload
            }
            return text;
        }
        read_more(s, buf).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stream_carries_redis_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let ours = start_ours(dir.path(), &["--repl-diskless-sync", "no"]).await;
    let p = ours.port;
    let mut s = TcpStream::connect(("127.0.0.1", p)).await.unwrap();
    // One step at a time, as a real replica does (PSYNC with a reply still pending is refused).
    s.write_all(b"*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n9999\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_line(&mut s, &mut buf).await, "+OK");
    s.write_all(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
        .await
        .unwrap();
    let full = read_line(&mut s, &mut buf).await;
    let parts: Vec<&str> = full.split(' ').collect();
    assert_eq!(parts[0], "+FULLRESYNC");
    assert_eq!(parts[1].len(), 40);
    let bulk = read_line(&mut s, &mut buf).await;
    let len: usize = bulk.strip_prefix('$').unwrap().parse().unwrap();
    while buf.len() < len {
        read_more(&mut s, &mut buf).await;
    }
    let rdb: Vec<u8> = buf.drain(..len).collect();
    assert!(rdb.starts_with(b"REDIS0010"));
    replscope::rdb::parse_rdb(&rdb, 16, |_| Ok(())).expect("a valid RDB");

    // Writes from a client.
    let client = redis::Client::open(format!("redis://127.0.0.1:{p}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let cmds: Vec<Vec<&str>> = vec![
        vec!["set", "r1", "v"],
        vec!["EXPIRE", "r1", "100"],
        vec!["SETEX", "r2", "100", "v"],
        vec!["set", "r3", "1.5"],
        vec!["INCRBYFLOAT", "r3", "2"],
        vec!["get", "r1"],
        vec!["del", "nosuchkey"],
        vec!["SELECT", "3"],
        vec!["flushdb"],
    ];
    for cmd in &cmds {
        let mut r = redis::cmd(cmd[0]);
        for a in &cmd[1..] {
            r.arg(*a);
        }
        let _: redis::Value = r.query_async(&mut c).await.unwrap();
    }
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("SELECT")
        .arg(0)
        .cmd("set")
        .arg("r4")
        .arg("x")
        .cmd("incr")
        .arg("r5");
    let _: redis::Value = pipe.query_async(&mut c).await.unwrap();
    // A key that expires: the master's active expiry sends DEL.
    let _: redis::Value = redis::cmd("SET")
        .arg("e1")
        .arg("v")
        .arg("PX")
        .arg(30)
        .query_async(&mut c)
        .await
        .unwrap();

    // What the replica receives.
    let limits = RequestLimits {
        from_master: true,
        ..Default::default()
    };
    let mut got: Vec<Vec<String>> = Vec::new();
    while got.len() < 15 {
        match parse_request(&buf, &limits).unwrap() {
            Some(Parsed::Command { args, consumed }) => {
                buf.drain(..consumed);
                let args: Vec<String> = args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                if args[0] != "ping" {
                    got.push(args);
                }
            }
            Some(Parsed::Empty { consumed, .. }) => {
                buf.drain(..consumed);
            }
            None => read_more(&mut s, &mut buf).await,
        }
    }
    let now_ms = replscope::server::log::now_epoch_ms() as i64;
    let near = |ms: &str, ahead_s: i64| {
        let v: i64 = ms.parse().unwrap();
        (v - (now_ms + ahead_s * 1000)).abs() < 10_000
    };
    assert_eq!(got[0], ["SELECT", "0"]);
    assert_eq!(got[1], ["set", "r1", "v"]);
    assert_eq!(got[2][..2], ["PEXPIREAT", "r1"]);
    assert!(near(&got[2][2], 100), "{:?}", got[2]);
    assert_eq!(got[3][..3], ["SET", "r2", "v"]);
    assert_eq!(got[3][3], "PXAT");
    assert!(near(&got[3][4], 100), "{:?}", got[3]);
    assert_eq!(got[4], ["set", "r3", "1.5"]);
    assert_eq!(got[5], ["SET", "r3", "3.5", "KEEPTTL"]);
    // GET and a DEL that deleted nothing are not propagated.
    assert_eq!(got[6], ["SELECT", "3"]);
    assert_eq!(got[7], ["flushdb"]);
    assert_eq!(got[8], ["SELECT", "0"]);
    assert_eq!(got[9], ["MULTI"]);
    assert_eq!(got[10], ["set", "r4", "x"]);
    assert_eq!(got[11], ["incr", "r5"]);
    assert_eq!(got[12], ["EXEC"]);
    assert_eq!(got[13][..4], ["SET", "e1", "v", "PXAT"]);
    assert!(near(&got[13][4], 0), "{:?}", got[13]);
    assert_eq!(got[14], ["DEL", "e1"]);
    ours.stop();
}
