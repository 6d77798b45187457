//! The live feed: a read-only HTTP + WebSocket endpoint (`--live-port N`, 127.0.0.1 unless
//! `--live-bind` says otherwise) that streams JSON so the web app can draw a real server.
//!
//! - `GET /frame.json`: the current [`crate::view::Frame`].
//! - `GET /` with `Upgrade: websocket`: about ten messages a second, each a JSON object
//!   `{"type":"frame","frame":{...}}`, plus `{"type":"log","lines":[LogLine...]}` with new log
//!   lines and `{"type":"marks","marks":[Mark...]}` with new timeline marks (full syncs,
//!   partial resyncs, cut-offs, ...). Nothing the client sends is obeyed (read-only): only close frames are handled.
//!
//! SHA-1 and base64 (needed only for the WebSocket handshake) are written out here; they are
//! small and keep the dependency list short.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::driver::Shared;
use crate::view::LogLine;

const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// SHA-1 (FIPS 180-4), for `Sec-WebSocket-Accept` only.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, c) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        h[0] = h[0].wrapping_add(a);
        h[1] = h[1].wrapping_add(b);
        h[2] = h[2].wrapping_add(c);
        h[3] = h[3].wrapping_add(d);
        h[4] = h[4].wrapping_add(e);
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// `Sec-WebSocket-Accept` for a client key (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &str) -> String {
    base64(&sha1(format!("{}{WS_GUID}", key.trim()).as_bytes()))
}

/// One unmasked server frame (text = opcode 1, close = 8, pong = 10).
pub fn ws_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else if n < 65536 {
        f.push(126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// Starts the live feed listener; returns the bound port.
pub async fn start_live(sh: Shared, bind: &str, port: u16) -> Result<u16, String> {
    let listener = TcpListener::bind((bind, port))
        .await
        .map_err(|e| format!("can't listen for the live feed on {bind}:{port}: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sh.shutdown.notified() => return,
                r = listener.accept() => if let Ok((s, _)) = r {
                    let sh = sh.clone();
                    tokio::spawn(async move { let _ = serve_http(sh, s).await; });
                }
            }
        }
    });
    Ok(port)
}

fn frame_json(sh: &Shared) -> String {
    let frame = sh.lock().view_frame();
    serde_json::to_string(&frame).unwrap_or_else(|_| "{}".into())
}

async fn serve_http(sh: Shared, mut s: TcpStream) -> std::io::Result<()> {
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("request timeout"))??;
        if n == 0 || req.len() > 16384 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&req).into_owned();
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut key = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case("sec-websocket-key") {
                key = Some(v.trim().to_string());
            }
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    if !request_line.starts_with("GET ") {
        s.write_all(
            b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await?;
        return Ok(());
    }
    let Some(key) = key else {
        let (status, body, ctype) = if path == "/frame.json" {
            ("200 OK", frame_json(&sh), "application/json")
        } else if path == "/" {
            (
                "200 OK",
                "replscope live feed: connect a WebSocket to / or GET /frame.json\n".to_string(),
                "text/plain",
            )
        } else {
            ("404 Not Found", "not found\n".to_string(), "text/plain")
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        s.write_all(body.as_bytes()).await?;
        return Ok(());
    };
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        websocket_accept(&key)
    );
    s.write_all(resp.as_bytes()).await?;
    let (mut rd, mut wr) = s.into_split();
    // Reader: only notices close (or the peer going away).
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut b = [0u8; 1024];
        loop {
            match rd.read(&mut b).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if n > 0 && b[0] & 0x0f == 8 {
                        break;
                    }
                }
            }
        }
        let _ = closed_tx.send(());
    });
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut log_seen: u64 = 0;
    let mut marks_seen: u64 = 0;
    loop {
        tokio::select! {
            _ = &mut closed_rx => break,
            _ = sh.shutdown.notified() => break,
            _ = tick.tick() => {}
        }
        let msg = format!("{{\"type\":\"frame\",\"frame\":{}}}", frame_json(&sh));
        wr.write_all(&ws_frame(1, msg.as_bytes())).await?;
        let (lines, total) = new_log_lines(&sh, log_seen);
        log_seen = total;
        if !lines.is_empty() {
            let body = serde_json::json!({ "type": "log", "lines": lines });
            wr.write_all(&ws_frame(1, body.to_string().as_bytes()))
                .await?;
        }
        let (marks, total) = new_marks(&sh, marks_seen);
        marks_seen = total;
        if !marks.is_empty() {
            let body = serde_json::json!({ "type": "marks", "marks": marks });
            wr.write_all(&ws_frame(1, body.to_string().as_bytes()))
                .await?;
        }
    }
    let _ = wr.write_all(&ws_frame(8, &[0x03, 0xe8])).await;
    Ok(())
}

/// Timeline marks after the `seen`-th one ever recorded.
fn new_marks(sh: &Shared, seen: u64) -> (Vec<crate::view::Mark>, u64) {
    sh.lock().marks_since(seen)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_and_base64_vectors() {
        let hex: String = sha1(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        // RFC 6455 §1.3 example.
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frame_lengths() {
        assert_eq!(ws_frame(1, b"hi"), vec![0x81, 2, b'h', b'i']);
        assert_eq!(&ws_frame(1, &[0; 200])[..4], &[0x81, 126, 0, 200]);
        assert_eq!(&ws_frame(1, &vec![0; 70000])[..2], &[0x81, 127]);
    }
}
