//! The little RESP the core itself needs: encode commands, cut lines, parse the stream's
//! multibulk commands (the driver parses client commands; the master link is ours).

/// `*<n>\r\n$<len>\r\n<arg>\r\n...`
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// A bulk string reply.
pub fn bulk(s: &[u8]) -> Vec<u8> {
    let mut v = format!("${}\r\n", s.len()).into_bytes();
    v.extend_from_slice(s);
    v.extend_from_slice(b"\r\n");
    v
}

/// Remove and return one line (without `\r\n` / `\n`) from the front of `buf`.
pub fn take_line(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = buf.drain(..=nl).collect();
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(line)
}

/// `Ok(Some((argv, consumed)))`, `Ok(None)` when incomplete, `Err(reason)` on bad input.
pub type ParseResult = Result<Option<(Vec<Vec<u8>>, usize)>, String>;

/// Parse one command from the front of `buf`: `Ok(Some((argv, consumed)))`, `Ok(None)` if
/// incomplete, `Err(reason)` on a protocol error. Inline commands are accepted too (an empty
/// inline line yields an empty argv).
pub fn parse_command(buf: &[u8]) -> ParseResult {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = &buf[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let argv = line
            .split(|c| *c == b' ')
            .filter(|s| !s.is_empty())
            .map(|s| s.to_vec())
            .collect();
        return Ok(Some((argv, nl + 1)));
    }
    let mut pos = 0;
    let Some((n, p)) = read_int_line(buf, pos, b'*')? else {
        return Ok(None);
    };
    pos = p;
    if !(0..=1024 * 1024).contains(&n) {
        return Err(format!("invalid multibulk length {n}"));
    }
    let mut argv = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let Some((len, p)) = read_int_line(buf, pos, b'$')? else {
            return Ok(None);
        };
        if !(0..=512 * 1024 * 1024).contains(&len) {
            return Err(format!("invalid bulk length {len}"));
        }
        let len = len as usize;
        if buf.len() < p + len + 2 {
            return Ok(None);
        }
        if &buf[p + len..p + len + 2] != b"\r\n" {
            return Err("bulk string not terminated by CRLF".into());
        }
        argv.push(buf[p..p + len].to_vec());
        pos = p + len + 2;
    }
    Ok(Some((argv, pos)))
}

fn read_int_line(buf: &[u8], pos: usize, lead: u8) -> Result<Option<(i64, usize)>, String> {
    if pos >= buf.len() {
        return Ok(None);
    }
    if buf[pos] != lead {
        return Err(format!(
            "expected '{}', got byte {}",
            lead as char, buf[pos]
        ));
    }
    let Some(rel) = buf[pos..].iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let end = pos + rel;
    let s = &buf[pos + 1..end];
    let s = s.strip_suffix(b"\r").unwrap_or(s);
    let txt = std::str::from_utf8(s).map_err(|_| "non-ASCII length".to_string())?;
    let n = txt
        .parse::<i64>()
        .map_err(|_| format!("invalid length '{txt}'"))?;
    Ok(Some((n, end + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_select_getack_sizes_match_redis() {
        assert_eq!(encode_command(&[b"ping"]).len(), 14);
        assert_eq!(encode_command(&[b"SELECT", b"0"]).len(), 23);
        assert_eq!(encode_command(&[b"REPLCONF", b"GETACK", b"*"]).len(), 37);
    }

    #[test]
    fn parses_partial_and_complete() {
        let c = encode_command(&[b"set", b"foo", b"bar"]);
        assert_eq!(parse_command(&c[..c.len() - 1]).unwrap(), None);
        let (argv, n) = parse_command(&c).unwrap().unwrap();
        assert_eq!(n, c.len());
        assert_eq!(
            argv,
            vec![b"set".to_vec(), b"foo".to_vec(), b"bar".to_vec()]
        );
        assert!(parse_command(b"*1\r\n+x\r\n").is_err());
        assert_eq!(parse_command(b"\n").unwrap(), Some((vec![], 1)));
        let mut b = b"+OK\r\nrest".to_vec();
        assert_eq!(take_line(&mut b), Some(b"+OK".to_vec()));
        assert_eq!(b, b"rest");
    }
}
