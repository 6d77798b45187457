//! The live feed: HTTP `/frame.json` and a WebSocket streaming view frames and log lines.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_ws_text(s: &mut TcpStream) -> String {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).await.unwrap();
    assert_eq!(h[0], 0x81, "a final text frame");
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).await.unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await.unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    String::from_utf8(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn websocket_streams_frames_and_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let srv = start_ours(dir.path(), &["--live-port", &live.to_string()]).await;
    // Plain HTTP.
    let mut s = TcpStream::connect(("127.0.0.1", live)).await.unwrap();
    s.write_all(b"GET /frame.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let frame: replscope::view::Frame = serde_json::from_str(body).unwrap();
    assert_eq!(frame.master.name, format!("127.0.0.1:{}", srv.port));
    // WebSocket.
    let mut s = TcpStream::connect(("127.0.0.1", live)).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.contains("101 Switching Protocols"), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{head}"
    );
    let mut saw_frame = false;
    let mut saw_log = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(saw_frame && saw_log) && tokio::time::Instant::now() < deadline {
        let text = read_ws_text(&mut s).await;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        match v["type"].as_str() {
            Some("frame") => {
                let _: replscope::view::Frame = serde_json::from_value(v["frame"].clone()).unwrap();
                saw_frame = true;
            }
            Some("log") => {
                let lines: Vec<replscope::view::LogLine> =
                    serde_json::from_value(v["lines"].clone()).unwrap();
                saw_log |= lines
                    .iter()
                    .any(|l| l.line.contains("Ready to accept connections"));
            }
            other => panic!("unexpected message type {other:?}"),
        }
    }
    assert!(saw_frame && saw_log, "frames {saw_frame}, log {saw_log}");
    srv.stop();
}
