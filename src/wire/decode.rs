//! Reading what a server sends back, the client's half of RESP2: one line at a time (what a
//! replica's handshake reads, as Redis's `connSyncReadLine` does) or whole replies (what a
//! client such as `replscope compare`'s reads).
//!
//! Pure functions over byte buffers: the caller owns the socket and the buffer, so the same
//! code serves the core (no I/O at all) and a blocking client.

use super::reply::Reply;

/// Removes and returns one line, without its `\r\n` (or bare `\n`), from the front of `buf`;
/// `None` until a newline has arrived.
pub fn take_line(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = buf.drain(..=nl).collect();
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(line)
}

/// A reply that is not RESP2: what was wrong and at which byte of the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyError {
    pub offset: usize,
    pub reason: String,
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad RESP reply at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for ReplyError {}

/// Parses the first RESP2 reply in `buf`: `Ok(Some((reply, consumed)))`, `Ok(None)` while it
/// is incomplete. `$-1` reads as [`Reply::Nil`], `*-1` as [`Reply::NilArray`], `+` as
/// [`Reply::Simple`].
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    parse_nested(buf, 0, 0)
}

/// Nesting deeper than this is refused rather than followed (a hostile peer cannot make us
/// recurse without bound).
const MAX_DEPTH: usize = 64;

fn parse_nested(
    buf: &[u8],
    pos: usize,
    depth: usize,
) -> Result<Option<(Reply, usize)>, ReplyError> {
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(rel) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &buf[pos + 1..pos + rel];
    let next = pos + rel + 2;
    let bad = |reason: String| ReplyError {
        offset: pos,
        reason,
    };
    let text = || String::from_utf8_lossy(line).into_owned();
    let number = || {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| bad(format!("`{}` is not a number", text())))
    };
    match tag {
        b'+' => Ok(Some((Reply::Simple(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Int(number()?), next))),
        b'$' => {
            let n = number()?;
            if n < 0 {
                return Ok(Some((Reply::Nil, next)));
            }
            let n = n as usize;
            let Some(end) = next.checked_add(n).and_then(|e| e.checked_add(2)) else {
                return Err(bad(format!("bulk length {n} is too large")));
            };
            if buf.len() < end {
                return Ok(None);
            }
            if &buf[next + n..end] != b"\r\n" {
                return Err(bad("bulk string not terminated by CRLF".into()));
            }
            Ok(Some((Reply::Bulk(buf[next..next + n].to_vec()), end)))
        }
        b'*' => {
            let n = number()?;
            if n < 0 {
                return Ok(Some((Reply::NilArray, next)));
            }
            if depth >= MAX_DEPTH {
                return Err(bad(format!("arrays nested deeper than {MAX_DEPTH}")));
            }
            // Never trust the count for allocation.
            let mut items = Vec::with_capacity((n as usize).min(1024));
            let mut at = next;
            for _ in 0..n {
                match parse_nested(buf, at, depth + 1)? {
                    Some((r, used)) => {
                        items.push(r);
                        at = used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(items), at)))
        }
        other => Err(bad(format!(
            "unexpected type byte {:?}",
            char::from(other).escape_default().to_string()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_and_without_cr() {
        let mut b = b"+OK\r\n\nrest".to_vec();
        assert_eq!(take_line(&mut b), Some(b"+OK".to_vec()));
        assert_eq!(
            take_line(&mut b),
            Some(Vec::new()),
            "a bare keepalive newline"
        );
        assert_eq!(take_line(&mut b), None);
        assert_eq!(b, b"rest");
    }

    #[test]
    fn replies_round_trip_through_the_encoder() {
        let r = Reply::Array(vec![
            Reply::bulk("master"),
            Reply::Int(42),
            Reply::Array(vec![Reply::Simple("OK".into()), Reply::Nil]),
            Reply::Error("ERR no".into()),
            Reply::NilArray,
        ]);
        let bytes = r.to_bytes(2);
        assert_eq!(parse_reply(&bytes).unwrap(), Some((r, bytes.len())));
        for cut in 0..bytes.len() {
            assert_eq!(parse_reply(&bytes[..cut]).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn malformed_replies_name_what_and_where() {
        let e = parse_reply(b"*1\r\n:x\r\n").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.reason.contains("`x` is not a number"), "{e}");
        let e = parse_reply(b"$2\r\nabc\r\n").unwrap_err();
        assert!(e.reason.contains("CRLF"), "{e}");
        assert!(parse_reply(b"%1\r\n")
            .unwrap_err()
            .reason
            .contains("type byte"));
        let deep = "*1\r\n".repeat(100);
        assert!(parse_reply(deep.as_bytes())
            .unwrap_err()
            .reason
            .contains("nested"));
    }
}
