//! The live feed (`--live-port N`): a read-only HTTP + WebSocket endpoint that streams JSON so
//! the web app can draw a real server.
//!
//! - `GET /frame.json`: the current [`crate::view::Frame`].
//! - `GET /` with `Upgrade: websocket`: about ten messages a second, each a JSON object
//!   `{"type":"frame","frame":{...}}`, plus `{"type":"log","lines":[LogLine...]}` with new log
//!   lines and `{"type":"marks","marks":[Mark...]}` with new timeline marks. Nothing a client
//!   sends is obeyed.
//!
//! HTTP is parsed by hyper and WebSocket frames by tungstenite. What the feed shows (replids,
//! offsets, replica addresses, the log) is for the page that asked, nobody else:
//! - it listens on 127.0.0.1 unless `--live-bind` says otherwise;
//! - a browser's `Origin` must be in `--live-allow-origin` (the web app's own address; by
//!   default trunk's `http://127.0.0.1:8080` and `http://localhost:8080`), so another web
//!   page open in the same browser can neither open the WebSocket nor read the JSON;
//! - on loopback the `Host` must be a loopback name (a page that re-points its own domain at
//!   127.0.0.1, DNS rebinding, is refused);
//! - with `requirepass`, the password is asked as `?token=...`;
//! - at most `--live-max-clients` connections at once, a request must arrive within 5 s, and a
//!   viewer that does not read is closed once 1 MiB waits for it or a send takes 5 s.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::driver::Shared;
use crate::view::LogLine;

/// How long a client may take to send its request head, and a viewer to take one message.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes that may wait for a viewer before it is closed as too slow.
const MAX_QUEUED: usize = 1 << 20;

/// Who may see the feed; fixed at start.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Allowed `Origin` values (exact, as browsers send them: `scheme://host[:port]`).
    pub allow_origins: Vec<String>,
    /// Whether the feed listens on loopback only (then `Host` must be a loopback name).
    pub loopback: bool,
}

/// Starts the live feed listener; returns the bound port.
pub async fn start_live(sh: Shared, bind: &str, port: u16) -> Result<u16, String> {
    let listener = TcpListener::bind((bind, port))
        .await
        .map_err(|e| format!("can't listen for the live feed on {bind}:{port}: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (origins, max) = {
        let e = sh.lock();
        (e.cfg().live_allow_origins.clone(), e.cfg().live_max_clients)
    };
    let policy = Arc::new(Policy {
        allow_origins: origins,
        loopback: is_loopback_addr(bind),
    });
    let slots = Arc::new(Semaphore::new(max));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sh.shutdown.notified() => return,
                r = listener.accept() => if let Ok((mut s, _)) = r {
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        // Full: refused without parsing anything. What the client sent is
                        // drained for a moment, or closing would reset the connection and
                        // lose the 503 on its way.
                        tokio::spawn(async move {
                            let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                            let _ = s.shutdown().await;
                            let mut sink = [0u8; 4096];
                            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
                            })
                            .await;
                        });
                        continue;
                    };
                    // A small kernel send buffer, so what a slow viewer has not read stays
                    // bounded and shows up as a stalled send.
                    let _ = socket2::SockRef::from(&s).set_send_buffer_size(64 * 1024);
                    let (sh, policy) = (sh.clone(), policy.clone());
                    tokio::spawn(serve_connection(sh, policy, s, Some(Arc::new(permit))));
                }
            }
        }
    });
    Ok(port)
}

/// One of the `--live-max-clients` slots, held until the connection and any WebSocket it
/// became have closed.
pub type Slot = Option<Arc<OwnedSemaphorePermit>>;

/// Serves one connection (HTTP/1.1, maybe upgraded to a WebSocket) until it closes. Generic
/// over the stream so the fuzz target can drive it without sockets.
pub async fn serve_connection<S>(sh: Shared, policy: Arc<Policy>, stream: S, slot: Slot)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let (sh, policy, slot) = (sh.clone(), policy.clone(), slot.clone());
        async move { Ok::<_, Infallible>(handle(sh, &policy, req, slot)) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(TIMEOUT)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let _ = conn.await;
}

fn respond(
    status: StatusCode,
    body: impl Into<Bytes>,
    ctype: &'static str,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(ctype));
    r
}

fn refuse(status: StatusCode, why: &str) -> Response<Full<Bytes>> {
    respond(status, format!("{why}\n"), "text/plain")
}

/// What a request may do, decided from its method, target and headers alone.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Frame,
    WebSocket { key: String },
    Index,
    Refuse(StatusCode, &'static str),
}

/// The checks, in order: method and path, `Host`, `Origin`, token, then the route.
pub fn admit(
    policy: &Policy,
    password: Option<&str>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Admit {
    if method != Method::GET {
        return Admit::Refuse(StatusCode::METHOD_NOT_ALLOWED, "the live feed is read-only");
    }
    if !matches!(path, "/" | "/frame.json") {
        return Admit::Refuse(StatusCode::NOT_FOUND, "not found");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if policy.loopback && !header("host").is_some_and(is_loopback_host) {
        return Admit::Refuse(StatusCode::FORBIDDEN, "Host must be a loopback address");
    }
    if let Some(origin) = headers.get("origin") {
        let ok = origin
            .to_str()
            .is_ok_and(|o| policy.allow_origins.iter().any(|a| a == o));
        if !ok {
            return Admit::Refuse(
                StatusCode::FORBIDDEN,
                "this page's origin is not in --live-allow-origin",
            );
        }
    }
    if let Some(pass) = password {
        let given = query
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(crate::web::url::decode)
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), pass.as_bytes()) {
            return Admit::Refuse(
                StatusCode::UNAUTHORIZED,
                "the server has requirepass: add ?token=<password>",
            );
        }
    }
    let upgrade = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if path == "/frame.json" {
        return Admit::Frame;
    }
    if !upgrade {
        return Admit::Index;
    }
    let connection_upgrade = header("connection").is_some_and(|c| {
        c.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    match header("sec-websocket-key") {
        Some(key) if connection_upgrade && header("sec-websocket-version") == Some("13") => {
            Admit::WebSocket {
                key: key.trim().to_string(),
            }
        }
        _ => Admit::Refuse(
            StatusCode::BAD_REQUEST,
            "not a WebSocket version 13 handshake",
        ),
    }
}

fn handle(
    sh: Shared,
    policy: &Policy,
    req: Request<Incoming>,
    slot: Slot,
) -> Response<Full<Bytes>> {
    let password = sh.lock().cfg().requirepass.clone();
    let admit = admit(
        policy,
        password.as_deref(),
        req.method(),
        req.uri().path(),
        req.uri().query(),
        req.headers(),
    );
    let origin = req.headers().get("origin").cloned();
    let mut resp = match admit {
        Admit::Refuse(status, why) => return refuse(status, why),
        Admit::Index => respond(
            StatusCode::OK,
            "replscope live feed: connect a WebSocket to / or GET /frame.json\n",
            "text/plain",
        ),
        Admit::Frame => respond(StatusCode::OK, frame_json(&sh), "application/json"),
        Admit::WebSocket { key } => {
            let accept = derive_accept_key(key.as_bytes());
            tokio::spawn(async move {
                if let Ok(upgraded) = hyper::upgrade::on(req).await {
                    let config = WebSocketConfig::default()
                        .max_message_size(Some(64 * 1024))
                        .max_frame_size(Some(64 * 1024))
                        .max_write_buffer_size(MAX_QUEUED);
                    let ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    stream_feed(sh, ws).await;
                }
                drop(slot);
            });
            let mut r = respond(StatusCode::SWITCHING_PROTOCOLS, Bytes::new(), "text/plain");
            let h = r.headers_mut();
            h.remove("content-type");
            h.insert("upgrade", HeaderValue::from_static("websocket"));
            h.insert("connection", HeaderValue::from_static("Upgrade"));
            if let Ok(v) = HeaderValue::from_str(&accept) {
                h.insert("sec-websocket-accept", v);
            }
            r
        }
    };
    // Only the allowed origin (checked above) may read the response, never `*`.
    if let Some(o) = origin {
        resp.headers_mut().insert("access-control-allow-origin", o);
    }
    resp.headers_mut()
        .insert("vary", HeaderValue::from_static("Origin"));
    resp
}

/// Streams frames, log lines and marks to a viewer until it goes, the server stops, or it
/// cannot keep up.
async fn stream_feed<S>(sh: Shared, ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let (mut log_seen, mut marks_seen) = (0u64, 0u64);
    loop {
        tokio::select! {
            _ = sh.shutdown.notified() => break,
            m = rx.next() => match m {
                // Pings are answered by tungstenite; everything else is ignored (read-only).
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            _ = tick.tick() => {}
        }
        let mut batch = vec![format!(
            "{{\"type\":\"frame\",\"frame\":{}}}",
            frame_json(&sh)
        )];
        let (lines, total) = new_log_lines(&sh, log_seen);
        log_seen = total;
        if !lines.is_empty() {
            batch.push(serde_json::json!({ "type": "log", "lines": lines }).to_string());
        }
        let (marks, total) = sh.lock().marks_since(marks_seen);
        marks_seen = total;
        if !marks.is_empty() {
            batch.push(serde_json::json!({ "type": "marks", "marks": marks }).to_string());
        }
        for text in batch {
            // A viewer that does not read: its queue fills (send fails) or a send stalls.
            match tokio::time::timeout(TIMEOUT, tx.send(Message::text(text))).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
    }
    let _ = tokio::time::timeout(TIMEOUT, tx.send(Message::Close(None))).await;
}

fn frame_json(sh: &Shared) -> String {
    let frame = sh.lock().view_frame();
    serde_json::to_string(&frame).unwrap_or_else(|_| "{}".into())
}

/// Log lines after the `seen`-th one ever logged.
fn new_log_lines(sh: &Shared, seen: u64) -> (Vec<LogLine>, u64) {
    let log = sh.lock().logger().clone();
    let (lines, total) = log.lines_since(seen);
    let lines = lines
        .into_iter()
        .map(|(t_ms, line)| LogLine {
            t_ms,
            node: "master".into(),
            line,
        })
        .collect();
    (lines, total)
}

fn is_loopback_addr(bind: &str) -> bool {
    bind == "localhost"
        || bind
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `127.0.0.1:6381`, `localhost`, `[::1]:6381`: a name that can only mean this machine.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    is_loopback_addr(name)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn policy() -> Policy {
        Policy {
            allow_origins: vec!["http://127.0.0.1:8080".into()],
            loopback: true,
        }
    }

    #[test]
    fn origin_host_and_token_are_checked() {
        let p = policy();
        let get = Method::GET;
        let host = ("host", "127.0.0.1:6381");
        let ws = [
            host,
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "13"),
        ];
        assert_eq!(
            admit(&p, None, &get, "/frame.json", None, &headers(&[host])),
            Admit::Frame
        );
        assert!(matches!(
            admit(&p, None, &get, "/", None, &headers(&ws)),
            Admit::WebSocket { .. }
        ));
        let mut evil = ws.to_vec();
        evil.push(("origin", "https://evil.example"));
        assert!(matches!(
            admit(&p, None, &get, "/", None, &headers(&evil)),
            Admit::Refuse(StatusCode::FORBIDDEN, _)
        ));
        let mut ours = ws.to_vec();
        ours.push(("origin", "http://127.0.0.1:8080"));
        assert!(matches!(
            admit(&p, None, &get, "/", None, &headers(&ours)),
            Admit::WebSocket { .. }
        ));
        let rebound = [("host", "evil.example:6381")];
        assert!(matches!(
            admit(&p, None, &get, "/frame.json", None, &headers(&rebound)),
            Admit::Refuse(StatusCode::FORBIDDEN, _)
        ));
        assert!(matches!(
            admit(
                &p,
                Some("s3cret"),
                &get,
                "/frame.json",
                None,
                &headers(&[host])
            ),
            Admit::Refuse(StatusCode::UNAUTHORIZED, _)
        ));
        assert_eq!(
            admit(
                &p,
                Some("s3cret"),
                &get,
                "/frame.json",
                Some("token=s3cret"),
                &headers(&[host])
            ),
            Admit::Frame
        );
        assert!(matches!(
            admit(&p, None, &Method::POST, "/", None, &headers(&[host])),
            Admit::Refuse(StatusCode::METHOD_NOT_ALLOWED, _)
        ));
    }

    #[test]
    fn loopback_names() {
        for h in [
            "127.0.0.1:6381",
            "localhost:1",
            "[::1]:6381",
            "127.0.0.1",
            "localhost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "10.0.0.1:6381",
            "[::2]:1",
            "",
            "localhost.evil:1",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
        // The accept key is tungstenite's (RFC 6455 §1.3 example).
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
