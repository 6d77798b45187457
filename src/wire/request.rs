//! Parsing client requests the way Redis's `processMultibulkBuffer` and
//! `processInlineBuffer` (networking.c) do, including their limits and error texts.

/// Longest count/length line or inline request Redis buffers without a newline
/// (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Default `proto-max-bulk-len` (512 MiB).
pub const DEFAULT_PROTO_MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// Limits in force for one connection.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`. Not applied to our master's link (Redis exempts master clients).
    pub max_bulk_len: usize,
    /// The client is our master: no bulk-length limit (`CLIENT_MASTER` exemption).
    pub from_master: bool,
    /// A password is required and the client has not authenticated yet: Redis then caps a
    /// request at 10 elements and 16 KiB bulks so unauthenticated peers cannot make it
    /// allocate much.
    pub unauthenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_bulk_len: DEFAULT_PROTO_MAX_BULK_LEN,
            from_master: false,
            unauthenticated: false,
        }
    }
}

/// One complete request found at the start of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A command with its arguments; `consumed` bytes of the buffer formed it.
    Command { args: Vec<Vec<u8>>, consumed: usize },
    /// Something Redis silently ignores: an empty inline line (a replica's keepalive `\n`),
    /// `*0` or `*-1`. No reply is due.
    Empty { consumed: usize, newline: bool },
}

impl Parsed {
    pub fn consumed(&self) -> usize {
        match self {
            Parsed::Command { consumed, .. } | Parsed::Empty { consumed, .. } => *consumed,
        }
    }
}

/// A protocol error. Redis replies `-ERR Protocol error: <text>` and then closes the
/// connection; [`ProtocolError::reply_text`] gives that exact line content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
    TooBigMbulkCount,
    TooBigBulkCount,
    TooBigInline,
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error text after `-ERR `, as Redis 7.0.15 sends it.
    pub fn reply_text(&self) -> String {
        let detail = match self {
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            ProtocolError::InvalidBulkLength => "invalid bulk length".to_string(),
            ProtocolError::ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            ProtocolError::UnauthenticatedMultibulkLength => {
                "unauthenticated multibulk length".to_string()
            }
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length".to_string(),
            ProtocolError::TooBigMbulkCount => "too big mbulk count string".to_string(),
            ProtocolError::TooBigBulkCount => "too big bulk count string".to_string(),
            ProtocolError::TooBigInline => "too big inline request".to_string(),
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
        };
        format!("Protocol error: {detail}")
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reply_text())
    }
}

impl std::error::Error for ProtocolError {}

/// Parses the first request in `buf` (a fresh parser over a copy: for tests and tools; the
/// server keeps a [`RequestParser`] per connection). `Ok(None)` means "need more bytes".
pub fn parse_request(buf: &[u8], limits: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
    let mut p = RequestParser::default();
    p.feed(buf);
    p.next(limits)
}

/// Redis's `string2ll`: an optional `-`, then digits without a leading zero (but `0`), no
/// `+`, no spaces, within i64.
pub fn string2ll(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// A bulk this long or longer gets its buffer reserved at once (Redis's
/// `PROTO_MBULK_BIG_ARG`), so a 512 MB argument is not grown by doubling.
const BIG_ARG: usize = 32 * 1024;

/// The most reserved ahead for one announced bulk.
const MAX_RESERVE: usize = 64 * 1024 * 1024;

/// A connection's query buffer and the request being parsed in it, kept between reads the
/// way Redis keeps `querybuf`, `multibulklen`, `bulklen` and the arguments already read: each
/// byte is looked at once, however many reads a request takes (a 1.6-million-argument DEL
/// arriving in 64 KiB reads is parsed in one pass, not re-parsed from its start each time).
#[derive(Debug, Default)]
pub struct RequestParser {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
    /// A multibulk in progress.
    multibulk: Option<Multibulk>,
}

#[derive(Debug)]
struct Multibulk {
    /// Arguments still to read.
    left: usize,
    args: Vec<Vec<u8>>,
    /// The length of the bulk being read, once its `$<len>` line is parsed.
    bulk_len: Option<usize>,
    /// Bytes of the request consumed so far.
    taken: usize,
}

impl RequestParser {
    /// Appends bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            // What was consumed goes; at most one partial request is moved.
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Unparsed bytes held (what `client-query-buffer-limit` measures).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The first bytes of the unparsed input, for log lines.
    pub fn head(&self, n: usize) -> &[u8] {
        let rest = &self.buf[self.pos..];
        &rest[..rest.len().min(n)]
    }

    /// The next complete request, `Ok(None)` if more bytes are needed. After an error the
    /// connection is to be closed (Redis replies, then closes); the parser is not reusable.
    pub fn next(&mut self, limits: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
        if self.multibulk.is_none() {
            match self.buf.get(self.pos) {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => return self.inline(),
            }
            let start = self.pos;
            let Some(end) = find_crlf(&self.buf, start + 1) else {
                if self.buffered() > PROTO_INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigMbulkCount);
                }
                return Ok(None);
            };
            let count = match string2ll(&self.buf[start + 1..end]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if limits.unauthenticated && count > 10 {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos = end + 2;
            if count <= 0 {
                return Ok(Some(Parsed::Empty {
                    consumed: self.pos - start,
                    newline: false,
                }));
            }
            self.multibulk = Some(Multibulk {
                left: count as usize,
                // Never trust the count for allocation (Redis caps argv at 1024 up front).
                args: Vec::with_capacity((count as usize).min(1024)),
                bulk_len: None,
                taken: self.pos - start,
            });
        }
        self.bulks(limits)
    }

    /// Reads the bulks of the multibulk in progress, as many as have arrived.
    fn bulks(&mut self, limits: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
        let Some(mb) = self.multibulk.as_mut() else {
            return Ok(None);
        };
        while mb.left > 0 {
            let len = match mb.bulk_len {
                Some(len) => len,
                None => {
                    let Some(&first) = self.buf.get(self.pos) else {
                        return Ok(None);
                    };
                    if first != b'$' {
                        return Err(ProtocolError::ExpectedDollar(first));
                    }
                    let Some(end) = find_crlf(&self.buf, self.pos + 1) else {
                        if self.buf.len() - self.pos > PROTO_INLINE_MAX_SIZE {
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        return Ok(None);
                    };
                    let len = match string2ll(&self.buf[self.pos + 1..end]) {
                        Some(n) if n >= 0 => n as u64,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if !limits.from_master && len > limits.max_bulk_len as u64 {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    if limits.unauthenticated && len > 16384 {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
                    mb.taken += end + 2 - self.pos;
                    self.pos = end + 2;
                    mb.bulk_len = Some(len);
                    if len >= BIG_ARG {
                        // Room for what is announced, up to what a client could really
                        // send soon: a length is a claim (our master has no limit), and
                        // the buffer still grows as the bytes arrive.
                        let want = (len + 2).saturating_sub(self.buf.len() - self.pos);
                        let _ = self.buf.try_reserve(want.min(MAX_RESERVE));
                    }
                    len
                }
            };
            // Redis does not check the two bytes after the payload; it skips them.
            if self.buf.len() - self.pos < len + 2 {
                return Ok(None);
            }
            mb.args.push(self.buf[self.pos..self.pos + len].to_vec());
            self.pos += len + 2;
            mb.taken += len + 2;
            mb.bulk_len = None;
            mb.left -= 1;
        }
        let args = std::mem::take(&mut mb.args);
        let consumed = mb.taken;
        self.multibulk = None;
        Ok(Some(Parsed::Command { args, consumed }))
    }

    fn inline(&mut self) -> Result<Option<Parsed>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(None);
        };
        let mut line = &rest[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.pos += nl + 1;
        if args.is_empty() {
            return Ok(Some(Parsed::Empty {
                consumed: nl + 1,
                newline: true,
            }));
        }
        Ok(Some(Parsed::Command {
            args,
            consumed: nl + 1,
        }))
    }
}

/// Finds the end of a `*<count>` or `$<len>` line from `from`, as Redis does: the first
/// `\r`, with one more byte after it (taken to be the `\n` and skipped unchecked).
/// `None`: no `\r` yet, or not the byte after it.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let p = from + buf.get(from..)?.iter().position(|&b| b == b'\r')?;
    (p + 1 < buf.len()).then_some(p)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line like a shell does, with the quoting rules of Redis's `sdssplitargs`.
/// `None` means unbalanced quotes (or a closing quote not followed by a space).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    };
                    cur.push(e);
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    // The closing quote must be followed by a space or the end.
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                let c = line[i];
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

/// Encodes a command as a RESP multibulk array: what replicas receive and clients send.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    encode_command_into(args, &mut out);
    out
}

/// [`encode_command`] appending to `out` (the propagation queue gathers a batch's writes in
/// one buffer).
pub fn encode_command_into<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.push(b'*');
    push_decimal(out, args.len() as u64);
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        push_decimal(out, a.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `n` in decimal, without the allocation `to_string` makes (this runs for every
/// argument of every write and every reply length).
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Option<Parsed>, ProtocolError> {
        parse_request(buf, &RequestLimits::default())
    }

    fn args_of(p: Parsed) -> Vec<Vec<u8>> {
        match p {
            Parsed::Command { args, .. } => args,
            other => panic!("expected a command, got {other:?}"),
        }
    }

    #[test]
    fn multibulk_get() {
        let p = parse(b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n").unwrap().unwrap();
        assert_eq!(p.consumed(), 20);
        assert_eq!(args_of(p), vec![b"GET".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn partial_multibulk_needs_more() {
        let full = b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn pipelined_requests_parse_one_at_a_time() {
        let buf = b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n";
        let p = parse(buf).unwrap().unwrap();
        assert_eq!(p.consumed(), 14);
        let q = parse(&buf[14..]).unwrap().unwrap();
        assert_eq!(args_of(q), vec![b"PING".to_vec()]);
    }

    #[test]
    fn star_zero_and_minus_one_are_ignored() {
        assert_eq!(
            parse(b"*0\r\n").unwrap(),
            Some(Parsed::Empty {
                consumed: 4,
                newline: false
            })
        );
        assert_eq!(
            parse(b"*-1\r\n").unwrap(),
            Some(Parsed::Empty {
                consumed: 5,
                newline: false
            })
        );
    }

    #[test]
    fn protocol_error_texts_match_captures() {
        // captures/resp_examples_7015.txt
        assert_eq!(
            parse(b"*1\r\n$x\r\n").unwrap_err().reply_text(),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            parse(b"\"unbalanced\r\n").unwrap_err().reply_text(),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            parse(b"*1\r\n#4\r\nPING\r\n").unwrap_err().reply_text(),
            "Protocol error: expected '$', got '#'"
        );
        assert_eq!(
            parse(b"*abc\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
        assert_eq!(
            parse(b"*3000000000\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
    }

    #[test]
    fn bulk_length_limits() {
        let limits = RequestLimits {
            max_bulk_len: 10,
            ..Default::default()
        };
        assert_eq!(
            parse_request(b"*1\r\n$11\r\n", &limits).unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
        let master = RequestLimits {
            from_master: true,
            ..limits
        };
        assert_eq!(parse_request(b"*1\r\n$11\r\n", &master).unwrap(), None);
        let unauth = RequestLimits {
            unauthenticated: true,
            ..Default::default()
        };
        assert_eq!(
            parse_request(b"*11\r\n", &unauth).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        assert_eq!(
            parse_request(b"*1\r\n$16385\r\n", &unauth).unwrap_err(),
            ProtocolError::UnauthenticatedBulkLength
        );
    }

    #[test]
    fn too_big_lines() {
        let mut big = b"*".to_vec();
        big.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE + 1));
        assert_eq!(parse(&big).unwrap_err(), ProtocolError::TooBigMbulkCount);
        let inline = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(parse(&inline).unwrap_err(), ProtocolError::TooBigInline);
    }

    #[test]
    fn inline_with_quotes_and_escapes() {
        // Verified on 7.0.15: the value becomes "a bA".
        let p = parse(b"set  inl \"a b\\x41\"\r\nget inl\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(p.consumed(), 20);
        assert_eq!(
            args_of(p),
            vec![b"set".to_vec(), b"inl".to_vec(), b"a bA".to_vec()]
        );
        let p = parse(b"echo 'it\\'s' \"t\\tab\"\n").unwrap().unwrap();
        assert_eq!(
            args_of(p),
            vec![b"echo".to_vec(), b"it's".to_vec(), b"t\tab".to_vec()]
        );
    }

    #[test]
    fn empty_inline_line_is_ignored() {
        assert_eq!(
            parse(b"\n").unwrap(),
            Some(Parsed::Empty {
                consumed: 1,
                newline: true
            })
        );
        assert_eq!(
            parse(b"\r\n").unwrap(),
            Some(Parsed::Empty {
                consumed: 2,
                newline: true
            })
        );
        assert_eq!(parse(b"PING").unwrap(), None);
    }

    #[test]
    fn a_request_arriving_in_reads_is_parsed_as_it_comes() {
        // DEL with 1.6 million arguments in 64 KiB reads: each read's complete arguments are
        // taken at once, so the buffer never holds more than a read and a partial argument
        // (the old parser kept, and re-parsed, the whole 11 MB request on every read).
        let n = 1_600_000;
        let mut big = format!("*{}\r\n$3\r\nDEL\r\n", n + 1).into_bytes();
        for _ in 0..n {
            big.extend_from_slice(b"$1\r\nx\r\n");
        }
        let mut p = RequestParser::default();
        let limits = RequestLimits::default();
        let mut done = None;
        for chunk in big.chunks(64 * 1024) {
            p.feed(chunk);
            if let Some(Parsed::Command { args, consumed }) = p.next(&limits).unwrap() {
                done = Some((args.len(), consumed));
            }
            assert!(p.buffered() < 64 * 1024 + 16, "{}", p.buffered());
        }
        assert_eq!(done, Some((n + 1, big.len())));
    }

    #[test]
    fn a_huge_announced_bulk_reserves_little() {
        // Found by the resp_request fuzz target: 344 TB announced by a client exempt from
        // proto-max-bulk-len used to be reserved at once (an allocation failure, an abort).
        let master = RequestLimits {
            from_master: true,
            ..Default::default()
        };
        let mut p = RequestParser::default();
        p.feed(b"*9\r\n$344444444444444\r\nGET\r\n");
        assert_eq!(p.next(&master).unwrap(), None);
        assert!(p.buf.capacity() <= MAX_RESERVE + 64);
    }

    #[test]
    fn string2ll_is_redis_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-5"), Some(-5));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+5",
            b"05",
            b"-0",
            b" 5",
            b"5 ",
            b"9223372036854775808",
            b"-",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn decimals() {
        for n in [0u64, 7, 10, 99, 100, 123456789, u64::MAX] {
            let mut v = Vec::new();
            push_decimal(&mut v, n);
            assert_eq!(v, n.to_string().into_bytes());
        }
    }

    #[test]
    fn encode_command_roundtrip() {
        let bytes = encode_command(&["SET", "k", "v"]);
        assert_eq!(bytes, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
        let p = parse(&bytes).unwrap().unwrap();
        assert_eq!(
            args_of(p),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
    }
}
