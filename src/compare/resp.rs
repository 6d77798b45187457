//! A minimal blocking RESP2 client on the crate's one RESP implementation ([`crate::wire`]):
//! enough to drive a server (SET, INFO, CLIENT LIST, CONFIG SET, DEBUG POPULATE) without
//! pulling a client crate into the binary.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::wire::{encode_command, parse_reply, Reply};

pub struct Client {
    stream: TcpStream,
    /// Bytes read but not yet parsed into a reply (a pipeline's replies arrive together).
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(port: u16, timeout: Duration) -> io::Result<Client> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Client {
            stream: s,
            buf: Vec::new(),
        })
    }

    /// Sends one command and reads its reply; an error reply becomes `Err`.
    pub fn cmd(&mut self, args: &[&str]) -> io::Result<Reply> {
        self.stream.write_all(&encode_command(args))?;
        match self.read_reply()? {
            Reply::Error(e) => Err(io::Error::other(format!("{}: {e}", args.join(" ")))),
            r => Ok(r),
        }
    }

    /// `cmd`, for a reply that must be text (a status, bulk string or integer).
    pub fn cmd_text(&mut self, args: &[&str]) -> io::Result<String> {
        let r = self.cmd(args)?;
        r.as_text()
            .ok_or_else(|| io::Error::other(format!("{}: unexpected reply {r:?}", args.join(" "))))
    }

    /// Writes raw, already encoded commands (a pipeline).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads the next reply (a pipeline's replies one after the other).
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf).map_err(io::Error::other)? {
                self.buf.drain(..used);
                return Ok(reply);
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// `INFO <section>` as field -> value pairs.
    pub fn info(&mut self, section: &str) -> io::Result<Vec<(String, String)>> {
        let text = self.cmd_text(&["INFO", section])?;
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
    fn parses_info_fields() {
        let i = parse_info("# Replication\r\nrole:master\r\nmaster_repl_offset:42\r\n");
        assert_eq!(field(&i, "master_repl_offset"), Some("42"));
        assert_eq!(field(&i, "role"), Some("master"));
        assert_eq!(field(&i, "nope"), None);
    }
}
