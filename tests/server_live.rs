//! The live feed: HTTP `/frame.json` and a WebSocket streaming view frames and log lines, and
//! who may see them (Origin, Host, requirepass token, connection cap, slow readers).

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// A plain HTTP GET; returns the whole response (the feed closes after it).
async fn http_get(port: u16, path: &str, extra: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut resp)).await;
    resp
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// Opens the WebSocket at `path`, with an `Origin` header if given.
async fn ws_open(port: u16, path: &str, origin: Option<&str>) -> Result<Ws, String> {
    let mut req = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).unwrap());
    }
    let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio_tungstenite::client_async(req, s)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

async fn next_json(ws: &mut Ws) -> serde_json::Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("a message");
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn websocket_streams_frames_and_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let srv = start_ours(dir.path(), &["--live-port", &live.to_string()]).await;
    // Plain HTTP, no Origin (a tool, not a browser): readable, with no CORS grant.
    let resp = http_get(live, "/frame.json", "").await;
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(
        !resp
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"),
        "{resp}"
    );
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let frame: replscope::view::Frame = serde_json::from_str(body).unwrap();
    assert_eq!(frame.master.name, format!("127.0.0.1:{}", srv.port));
    // The web app's own origin gets its origin back (never `*`).
    let resp = http_get(live, "/frame.json", "Origin: http://127.0.0.1:8080\r\n").await;
    assert!(
        resp.to_ascii_lowercase()
            .contains("access-control-allow-origin: http://127.0.0.1:8080"),
        "{resp}"
    );
    // WebSocket.
    let mut ws = ws_open(live, "/", Some("http://localhost:8080"))
        .await
        .unwrap();
    let (mut saw_frame, mut saw_log) = (false, false);
    while !(saw_frame && saw_log) {
        let v = next_json(&mut ws).await;
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
            Some("marks") => {}
            other => panic!("unexpected message type {other:?}"),
        }
    }
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreign_pages_and_rebound_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let srv = start_ours(dir.path(), &["--live-port", &live.to_string()]).await;
    // Another web page open in the same browser.
    let err = ws_open(live, "/", Some("https://evil.example"))
        .await
        .unwrap_err();
    assert!(err.contains("403"), "{err}");
    let resp = http_get(live, "/frame.json", "Origin: https://evil.example\r\n").await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(
        !resp.contains("master_repl_offset") && !resp.contains("\"replid\""),
        "{resp}"
    );
    // DNS rebinding: a foreign name pointed at 127.0.0.1, same-origin so no Origin header.
    let mut s = TcpStream::connect(("127.0.0.1", live)).await.unwrap();
    s.write_all(b"GET /frame.json HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    // Only GET.
    let mut s = TcpStream::connect(("127.0.0.1", live)).await.unwrap();
    s.write_all(format!("POST / HTTP/1.1\r\nHost: 127.0.0.1:{live}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
    // Garbage is an HTTP error, and the feed keeps serving.
    let mut s = TcpStream::connect(("127.0.0.1", live)).await.unwrap();
    s.write_all(b"\x00\xff GARBAGE\r\n\r\n").await.unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp).await;
    assert!(http_get(live, "/frame.json", "")
        .await
        .starts_with("HTTP/1.1 200"));
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requirepass_is_asked_as_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let srv = start_ours(
        dir.path(),
        &[
            "--live-port",
            &live.to_string(),
            "--requirepass",
            "s3cret pass",
        ],
    )
    .await;
    let resp = http_get(live, "/frame.json", "").await;
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    let resp = http_get(live, "/frame.json?token=wrong", "").await;
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    let resp = http_get(live, "/frame.json?token=s3cret%20pass", "").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let err = ws_open(live, "/", None).await.unwrap_err();
    assert!(err.contains("401"), "{err}");
    let mut ws = ws_open(live, "/?token=s3cret%20pass", None).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "frame");
    srv.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_are_capped_and_a_viewer_that_does_not_read_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let srv = start_ours(
        dir.path(),
        &["--live-port", &live.to_string(), "--live-max-clients", "1"],
    )
    .await;
    // A viewer that never reads, with a tiny receive window so the server's sends stall.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{live}").parse().unwrap();
    sock.connect(&addr.into()).unwrap();
    sock.set_nonblocking(true).unwrap();
    let stream = TcpStream::from_std(sock.into()).unwrap();
    let req = format!("ws://127.0.0.1:{live}/")
        .into_client_request()
        .unwrap();
    let (slow, _) = tokio_tungstenite::client_async(req, stream).await.unwrap();
    // The one slot is taken: the next connection is refused at once.
    let resp = http_get(live, "/frame.json", "").await;
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    // The slow viewer's sends stall (or its queue fills) and it is closed, freeing the slot.
    wait_for(Duration::from_secs(120), "slow viewer closed", move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(http_get(live, "/frame.json", ""))
            .starts_with("HTTP/1.1 200")
    })
    .await;
    drop(slow);
    srv.stop();
}
