//! A minimal blocking RESP2 client: enough to drive a server (SET, INFO, CLIENT LIST, CONFIG
//! SET, DEBUG POPULATE) without pulling a client crate into the binary.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text (status, bulk or integer), or an error naming what came back.
    pub fn text(&self) -> io::Result<String> {
        match self {
            Reply::Status(s) => Ok(s.clone()),
            Reply::Bulk(Some(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
            Reply::Int(n) => Ok(n.to_string()),
            other => Err(io::Error::other(format!("unexpected reply {other:?}"))),
        }
    }
}

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// One command in RESP (a multibulk of bulk strings).
pub fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Client {
    pub fn connect(port: u16, timeout: Duration) -> io::Result<Client> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Client {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one command and reads its reply; an error reply becomes `Err`.
    pub fn cmd(&mut self, args: &[&str]) -> io::Result<Reply> {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut buf = Vec::new();
        encode(&bytes, &mut buf);
        self.writer.write_all(&buf)?;
        match self.read_reply()? {
            Reply::Error(e) => Err(io::Error::other(format!("{}: {e}", args.join(" ")))),
            r => Ok(r),
        }
    }

    /// Writes raw, already encoded commands (a pipeline).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (tag, rest) = line.split_at(line.len().min(1));
        let num = || {
            rest.parse::<i64>()
                .map_err(|_| io::Error::other(format!("bad RESP line `{line}`")))
        };
        match tag {
            "+" => Ok(Reply::Status(rest.to_string())),
            "-" => Ok(Reply::Error(rest.to_string())),
            ":" => Ok(Reply::Int(num()?)),
            "$" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let mut b = vec![0u8; n as usize + 2];
                self.reader.read_exact(&mut b)?;
                b.truncate(n as usize);
                Ok(Reply::Bulk(Some(b)))
            }
            "*" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Reply::Array(None));
                }
                let mut v = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    v.push(self.read_reply()?);
                }
                Ok(Reply::Array(Some(v)))
            }
            _ => Err(io::Error::other(format!("bad RESP line `{line}`"))),
        }
    }

    /// `INFO <section>` as field -> value pairs.
    pub fn info(&mut self, section: &str) -> io::Result<Vec<(String, String)>> {
        let text = self.cmd(&["INFO", section])?.text()?;
        Ok(parse_info(&text))
    }
}

/// `field:value` lines of an INFO reply.
pub fn parse_info(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

pub fn field<'a>(info: &'a [(String, String)], name: &str) -> Option<&'a str> {
    info.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_set() {
        let mut b = Vec::new();
        encode(&[b"SET", b"k", b"vv"], &mut b);
        assert_eq!(b, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n");
    }

    #[test]
    fn parses_info_fields() {
        let i = parse_info("# Replication\r\nrole:master\r\nmaster_repl_offset:42\r\n");
        assert_eq!(field(&i, "master_repl_offset"), Some("42"));
        assert_eq!(field(&i, "role"), Some("master"));
        assert_eq!(field(&i, "nope"), None);
    }
}
