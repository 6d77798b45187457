//! Replies as values, encoded for the connection's protocol (RESP2, or RESP3 after `HELLO 3`).

/// A reply. RESP3-only kinds fall back to their RESP2 shapes when encoded for RESP2,
/// the way Redis's `addReply*` functions do.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Simple(String),
    /// The full error line without the leading `-` (for example `ERR syntax error`).
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// `%` in RESP3; a flat array of 2×pairs in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~` in RESP3; an array in RESP2.
    Set(Vec<Reply>),
    /// `,` in RESP3; a bulk string formatted `%.17g` in RESP2.
    Double(f64),
    /// `#t`/`#f` in RESP3; `:1`/`:0` in RESP2.
    Bool(bool),
    /// `=` in RESP3 with a 3-letter format; a bulk string in RESP2.
    Verbatim(String, Vec<u8>),
    /// Already-encoded bytes, sent as they are.
    Raw(Vec<u8>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    /// An error with Redis's convention: `ERR ` is added unless the text starts with an
    /// upper-case error code (`WRONGTYPE ...`, `NOAUTH ...`). CR/LF become spaces.
    pub fn err(text: impl Into<String>) -> Reply {
        let text: String = text.into();
        let clean: String = text
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        Reply::Error(clean)
    }

    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The reply as text, for a status, bulk string or integer; `None` for anything else.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Reply::Int(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Encodes for protocol `proto` (2 or 3) onto `out`.
    pub fn encode(&self, proto: u8, out: &mut Vec<u8>) {
        let resp3 = proto >= 3;
        match self {
            Reply::Simple(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => line(out, b'-', s.as_bytes()),
            Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for i in items {
                    i.encode(proto, out);
                }
            }
            Reply::Set(items) => {
                line(
                    out,
                    if resp3 { b'~' } else { b'*' },
                    items.len().to_string().as_bytes(),
                );
                for i in items {
                    i.encode(proto, out);
                }
            }
            Reply::Map(pairs) => {
                if resp3 {
                    line(out, b'%', pairs.len().to_string().as_bytes());
                } else {
                    line(out, b'*', (pairs.len() * 2).to_string().as_bytes());
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let text = format_double(*d);
                if resp3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if resp3 {
                    out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::Verbatim(fmt, body) => {
                if resp3 {
                    let mut payload = fmt.as_bytes().to_vec();
                    payload.push(b':');
                    payload.extend_from_slice(body);
                    line(out, b'=', payload.len().to_string().as_bytes());
                    out.extend_from_slice(&payload);
                    out.extend_from_slice(b"\r\n");
                } else {
                    bulk(out, body);
                }
            }
            Reply::Raw(b) => out.extend_from_slice(b),
        }
    }

    pub fn to_bytes(&self, proto: u8) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(proto, &mut v);
        v
    }
}

fn line(out: &mut Vec<u8>, prefix: u8, body: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    line(out, b'$', b.len().to_string().as_bytes());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Formats a double the way Redis does for replies (`%.17g`, with `inf`/`-inf`), trimmed to the
/// shortest text that reads back to the same value (what 7.0's `fpconv_dtoa` prints).
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == d.trunc() && d.abs() < 1e17 {
        return format!("{}", d as i64);
    }
    format!("{d}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_nulls_match_captures() {
        assert_eq!(Reply::Nil.to_bytes(2), b"$-1\r\n");
        assert_eq!(Reply::Nil.to_bytes(3), b"_\r\n");
        assert_eq!(Reply::NilArray.to_bytes(2), b"*-1\r\n");
    }

    #[test]
    fn map_set_double_shapes_match_captures() {
        let m = Reply::Map(vec![
            (Reply::bulk("f1"), Reply::bulk("v1")),
            (Reply::bulk("f2"), Reply::bulk("2")),
        ]);
        assert_eq!(
            m.to_bytes(2),
            b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            m.to_bytes(3),
            b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$1\r\n2\r\n"
        );
        assert_eq!(Reply::Double(2.5).to_bytes(2), b"$3\r\n2.5\r\n");
        assert_eq!(Reply::Double(2.5).to_bytes(3), b",2.5\r\n");
        let s = Reply::Set(vec![Reply::bulk("banana"), Reply::bulk("apple")]);
        assert_eq!(s.to_bytes(3), b"~2\r\n$6\r\nbanana\r\n$5\r\napple\r\n");
        assert_eq!(s.to_bytes(2), b"*2\r\n$6\r\nbanana\r\n$5\r\napple\r\n");
        assert_eq!(Reply::Bool(true).to_bytes(2), b":1\r\n");
        assert_eq!(Reply::Bool(false).to_bytes(3), b"#f\r\n");
    }

    #[test]
    fn errors_lose_newlines() {
        assert_eq!(Reply::err("ERR a\r\nb").to_bytes(2), b"-ERR a  b\r\n");
    }

    #[test]
    fn verbatim_falls_back_to_bulk() {
        let v = Reply::Verbatim("txt".into(), b"hi".to_vec());
        assert_eq!(v.to_bytes(2), b"$2\r\nhi\r\n");
        assert_eq!(v.to_bytes(3), b"=6\r\ntxt:hi\r\n");
    }
}
