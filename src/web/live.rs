//! Live mode: the same views drawn from a real `replscope server`'s live feed
//! (`--live-port`, WebSocket messages `{"type":"frame"|"log"|"marks", ...}`).
//!
//! The feed sends snapshots, not spans, so the timeline lanes are derived here from the
//! replica states in successive frames, the same way the simulator labels its own spans.
//! Pure code: unit-tested natively with the server's message shapes.

use crate::view::{Frame, LogLine, Mark, ReplicaView, Sample, Span, SpanKind};
use serde::Deserialize;

/// Most chart samples kept (about 15 minutes at ten frames a second).
const MAX_SAMPLES: usize = 9_000;
/// Most log lines kept.
const MAX_LINES: usize = 5_000;

/// One feed message: `{"type": "frame", "frame": ...}`, `{"type": "log", "lines": [...]}` or
/// `{"type": "marks", "marks": [...]}`. Read as one flat struct rather than a tagged enum: serde
/// buffers a tagged enum's content first, which doubles the parsing code in the page.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    frame: Option<Frame>,
    #[serde(default)]
    lines: Vec<LogLine>,
    #[serde(default)]
    marks: Vec<Mark>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveFeed {
    pub url: String,
    pub connected: bool,
    pub error: Option<String>,
    pub frame: Option<Frame>,
    pub log: Vec<LogLine>,
    pub marks: Vec<Mark>,
    pub spans: Vec<Span>,
    pub samples: Vec<Sample>,
    pub frames_seen: u64,
}

/// Checks a feed address from the URL or the form: a `ws://` or `wss://` URL with a host.
pub fn check_feed_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or_else(|| "the live feed address must start with ws:// or wss://".to_string())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains(['<', '>', '"', '\''])
    {
        return Err("the live feed address has no valid host:port".into());
    }
    Ok(())
}

/// Whether a feed address carries a password (`token=` in its query).
pub fn has_token(url: &str) -> bool {
    split_token(url).1.is_some()
}

/// The address without its `token=` parameter, and the token if there was one (decoded):
/// typed into the address field, a password is moved to where it belongs.
pub fn split_token(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                token = Some(super::url::decode(t));
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, token)
}

/// The address the socket opens: the feed's, plus `token=<password>` (URL-encoded) when the
/// server asks for one (`requirepass`). Only the socket sees it; the page's link never does.
pub fn socket_url(url: &str, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        None => url.to_string(),
        Some(t) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}token={}", super::url::encode(t))
        }
    }
}

/// What a timeline lane shows for a replica in one frame.
pub fn span_kind(r: &ReplicaView, bgsave_running: bool) -> SpanKind {
    match (r.link_state.as_str(), r.master_side_state.as_str()) {
        ("connected", _) if r.master_side_state.is_empty() || r.master_side_state == "online" => {
            SpanKind::Streaming
        }
        (_, "send_bulk") => SpanKind::Transfer,
        ("sync", _) if r.load_left_bytes > 0 && r.sync_left_bytes <= 0 => SpanKind::Load,
        ("sync", _) => SpanKind::Transfer,
        (_, "wait_bgsave") if bgsave_running => SpanKind::Bgsave,
        (_, "online") => SpanKind::Streaming,
        ("handshake", _) | (_, "wait_bgsave") => SpanKind::WaitBgsave,
        _ => SpanKind::Disconnected,
    }
}

impl LiveFeed {
    pub fn new(url: &str) -> LiveFeed {
        LiveFeed {
            url: url.to_string(),
            ..LiveFeed::default()
        }
    }

    /// Takes one message from the feed. A malformed message is reported and changes nothing.
    pub fn ingest(&mut self, text: &str) -> Result<(), String> {
        let msg: Message = crate::json::from_str(text).map_err(|e| {
            let shown: String = text.chars().take(60).collect();
            format!("unreadable message from the live feed ({e}): {shown}")
        })?;
        match (msg.kind.as_str(), msg.frame) {
            ("frame", Some(frame)) => self.take_frame(frame),
            ("log", _) => {
                self.log.extend(msg.lines);
                if self.log.len() > MAX_LINES {
                    let cut = self.log.len() - MAX_LINES;
                    self.log.drain(..cut);
                }
            }
            ("marks", _) => self.marks.extend(msg.marks),
            (kind, _) => {
                return Err(format!(
                    "unreadable message from the live feed (type “{}” without its data)",
                    kind.chars().take(20).collect::<String>()
                ))
            }
        }
        Ok(())
    }

    fn take_frame(&mut self, frame: Frame) {
        let t = frame.t_ms;
        let bgsave = frame.master.bgsave.is_some();
        for (i, r) in frame.replicas.iter().enumerate() {
            let kind = span_kind(r, bgsave);
            let open = self
                .spans
                .iter()
                .rposition(|s| s.replica == i && s.end_ms.is_none());
            match open {
                Some(j) if self.spans[j].kind == kind => {}
                Some(j) => {
                    self.spans[j].end_ms = Some(t);
                    self.spans.push(Span {
                        replica: i,
                        kind,
                        start_ms: t,
                        end_ms: None,
                    });
                }
                None => self.spans.push(Span {
                    replica: i,
                    kind,
                    start_ms: t,
                    end_ms: None,
                }),
            }
        }
        self.samples.push(Sample {
            t_ms: t,
            backlog_histlen: frame
                .master
                .backlog
                .as_ref()
                .map(|b| b.histlen)
                .unwrap_or(0),
            master_repl_offset: frame.master.master_repl_offset,
            obuf_bytes: frame.replicas.iter().map(|r| r.obuf_bytes).collect(),
        });
        if self.samples.len() > MAX_SAMPLES {
            self.samples.remove(0);
        }
        self.frames_seen += 1;
        self.frame = Some(frame);
    }

    pub fn now_ms(&self) -> u64 {
        self.frame.as_ref().map(|f| f.t_ms).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_msg(t: u64, link: &str, side: &str, bgsave: bool) -> String {
        let bg = if bgsave {
            r#"{"target":"disk","started_ms":0,"progress":0.5}"#
        } else {
            "null"
        };
        format!(
            r#"{{"type":"frame","frame":{{"t_ms":{t},"master":{{"name":"master","replid":"a","replid2":"0","master_repl_offset":{t},"second_repl_offset":-1,
            "backlog":{{"size":1048576,"first_byte_offset":1,"histlen":{t}}},"bgsave":{bg},"cow_bytes":0,"repl_buffer_bytes":0}},
            "replicas":[{{"name":"127.0.0.1:7002","link_state":"{link}","master_side_state":"{side}","offset":1,"ack_offset":1,"obuf_bytes":{t},
            "hard_limit":10,"soft_limit":5,"soft_seconds":60,"soft_limit_since_ms":null,"sync_left_bytes":0,"load_left_bytes":0,"local_buffer_bytes":0}}]}}}}"#
        )
    }

    #[test]
    fn frames_become_spans_and_samples() {
        let mut f = LiveFeed::new("ws://127.0.0.1:6381/");
        f.ingest(&frame_msg(100, "handshake", "wait_bgsave", false))
            .unwrap();
        f.ingest(&frame_msg(200, "handshake", "wait_bgsave", true))
            .unwrap();
        f.ingest(&frame_msg(300, "sync", "send_bulk", false))
            .unwrap();
        f.ingest(&frame_msg(400, "connected", "online", false))
            .unwrap();
        f.ingest(&frame_msg(500, "connected", "online", false))
            .unwrap();
        let kinds: Vec<(SpanKind, u64, Option<u64>)> = f
            .spans
            .iter()
            .map(|s| (s.kind, s.start_ms, s.end_ms))
            .collect();
        assert_eq!(
            kinds,
            [
                (SpanKind::WaitBgsave, 100, Some(200)),
                (SpanKind::Bgsave, 200, Some(300)),
                (SpanKind::Transfer, 300, Some(400)),
                (SpanKind::Streaming, 400, None)
            ]
        );
        assert_eq!(f.samples.len(), 5);
        assert_eq!(f.samples[4].obuf_bytes, vec![500]);
        assert_eq!(f.now_ms(), 500);
    }

    #[test]
    fn log_and_marks_accumulate_and_garbage_is_refused() {
        let mut f = LiveFeed::new("ws://127.0.0.1:6381/");
        f.ingest(r#"{"type":"log","lines":[{"t_ms":5,"node":"master","line":"1:M 21 Nov 2026 10:00:00.000 * Ready"}]}"#)
            .unwrap();
        f.ingest(r#"{"type":"marks","marks":[{"replica":0,"kind":"full_sync_start","t_ms":7,"cause":"no cached master"}]}"#)
            .unwrap();
        assert_eq!(f.log.len(), 1);
        assert_eq!(f.marks[0].cause, "no cached master");
        let before = f.clone();
        let e = f.ingest("{not json").unwrap_err();
        assert!(e.contains("unreadable message"), "{e}");
        assert!(f.ingest(r#"{"type":"shutdown"}"#).is_err());
        assert_eq!(f, before, "a bad message changes nothing");
    }

    #[test]
    fn the_password_goes_to_the_socket_only() {
        assert_eq!(
            socket_url("ws://127.0.0.1:6381/", Some("s3cret &=?")),
            "ws://127.0.0.1:6381/?token=s3cret%20%26%3D%3F"
        );
        assert_eq!(
            socket_url("ws://h:1/?a=1", Some("x")),
            "ws://h:1/?a=1&token=x"
        );
        assert_eq!(socket_url("ws://h:1/", Some("")), "ws://h:1/");
        assert_eq!(
            split_token("ws://h:1/?a=1&token=p%40ss&b=2"),
            ("ws://h:1/?a=1&b=2".to_string(), Some("p@ss".to_string()))
        );
        assert_eq!(
            split_token("ws://h:1/?token=x"),
            ("ws://h:1/".to_string(), Some("x".into()))
        );
        assert!(!has_token("ws://h:1/?tokens=x"));
    }

    #[test]
    fn feed_addresses_are_checked() {
        assert!(check_feed_url("ws://127.0.0.1:6381/").is_ok());
        assert!(check_feed_url("wss://example.org/feed").is_ok());
        assert!(check_feed_url("http://127.0.0.1:6381/").is_err());
        assert!(check_feed_url("ws:///x").is_err());
        assert!(check_feed_url("ws://a<b>/").is_err());
    }
}
