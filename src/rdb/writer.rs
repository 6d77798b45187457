//! Writing RDB v10 as a 7.0 master does, streaming into any `std::io::Write` (a file, a socket
//! buffer) with a running CRC-64.
//!
//! Strings use 7.0's choices (`rdbSaveRawString`): small canonical integers as INT8/16/32,
//! strings over 20 bytes LZF-compressed when that saves at least 4 bytes, else raw.
//! Aggregates use the simple table types (list 1, set 2, hash 4, zset 5 with binary scores),
//! which every 7.0 loads and converts to its own encodings (spec §2.11, verified).
//! Streams loaded from another RDB are written back verbatim.

use std::io::{self, Write};

use crc::{Digest, Table};

use super::checksum::digest;
use super::Value;

/// Streams an RDB: call [`RdbWriter::aux`] fields, then [`RdbWriter::select_db`] and
/// [`RdbWriter::entry`] per key, then [`RdbWriter::finish`].
pub struct RdbWriter<W: Write> {
    out: W,
    crc: Digest<'static, u64, Table<16>>,
    /// Reused encoding buffer (one allocation for the whole file).
    scratch: Vec<u8>,
    written: u64,
    /// `rdbcompression`: try LZF on strings over 20 bytes.
    pub compression: bool,
}

impl<W: Write> RdbWriter<W> {
    /// Writes the magic `REDIS0010` (7.0 refuses any version above 10).
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = RdbWriter {
            out,
            crc: digest(),
            scratch: Vec::with_capacity(256),
            written: 0,
            compression: true,
        };
        w.put(b"REDIS0010")?;
        Ok(w)
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc.update(b);
        self.written += b.len() as u64;
        self.out.write_all(b)
    }

    fn put_len(&mut self, n: u64) -> io::Result<()> {
        let mut b = std::mem::take(&mut self.scratch);
        b.clear();
        encode_len(n, &mut b);
        let r = self.put(&b);
        self.scratch = b;
        r
    }

    fn put_string(&mut self, s: &[u8]) -> io::Result<()> {
        let mut b = std::mem::take(&mut self.scratch);
        b.clear();
        encode_string(s, self.compression, &mut b);
        let r = self.put(&b);
        self.scratch = b;
        r
    }

    /// An AUX field (`FA key value`).
    pub fn aux(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.put(&[0xFA])?;
        self.put_string(key.as_bytes())?;
        self.put_string(value)
    }

    /// A function library (`F5 <source>`), carried over from a loaded file.
    pub fn function(&mut self, source: &[u8]) -> io::Result<()> {
        self.put(&[0xF5])?;
        self.put_string(source)
    }

    /// `FE db FB size expires`.
    pub fn select_db(&mut self, db: u32, size: u64, expires: u64) -> io::Result<()> {
        self.put(&[0xFE])?;
        self.put_len(db as u64)?;
        self.put(&[0xFB])?;
        self.put_len(size)?;
        self.put_len(expires)
    }

    /// One key. Empty aggregates are skipped (a 7.0 loader would drop them anyway).
    pub fn entry(&mut self, key: &[u8], value: &Value, expire_ms: Option<i64>) -> io::Result<()> {
        let empty = match value {
            Value::List(v) => v.is_empty(),
            Value::Set(v) => v.is_empty(),
            Value::Hash(v) => v.is_empty(),
            Value::ZSet(v) => v.is_empty(),
            _ => false,
        };
        if empty {
            return Ok(());
        }
        if let Some(ms) = expire_ms {
            self.put(&[0xFC])?;
            self.put(&ms.to_le_bytes())?;
        }
        match value {
            Value::String(s) => {
                self.put(&[0])?;
                self.put_string(key)?;
                self.put_string(s)
            }
            Value::List(v) => {
                self.put(&[1])?;
                self.put_string(key)?;
                self.put_len(v.len() as u64)?;
                for e in v {
                    self.put_string(e)?;
                }
                Ok(())
            }
            Value::Set(v) => {
                self.put(&[2])?;
                self.put_string(key)?;
                self.put_len(v.len() as u64)?;
                for e in v {
                    self.put_string(e)?;
                }
                Ok(())
            }
            Value::Hash(v) => {
                self.put(&[4])?;
                self.put_string(key)?;
                self.put_len(v.len() as u64)?;
                for (f, x) in v {
                    self.put_string(f)?;
                    self.put_string(x)?;
                }
                Ok(())
            }
            Value::ZSet(v) => {
                self.put(&[5])?;
                self.put_string(key)?;
                self.put_len(v.len() as u64)?;
                for (m, s) in v {
                    self.put_string(m)?;
                    self.put(&s.to_le_bytes())?;
                }
                Ok(())
            }
            Value::Stream { type_byte, payload } => {
                self.put(&[*type_byte])?;
                self.put_string(key)?;
                self.put(payload)
            }
        }
    }

    /// Writes `FF` and the CRC-64 (little-endian) and returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[0xFF])?;
        let crc = self.crc.finalize();
        self.written += 8;
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Length encoding, smallest form (§2.3; 14/32/64-bit forms are big-endian).
pub fn encode_len(n: u64, out: &mut Vec<u8>) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The integer a string canonically spells, if it fits in int32 (what `rdbTryIntegerEncoding`
/// accepts: no sign on zero, no leading zeros, no `+`).
fn canonical_i32(s: &[u8]) -> Option<i32> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    let t = std::str::from_utf8(s).ok()?;
    let v: i64 = t.parse().ok()?;
    if v.to_string() != t {
        return None;
    }
    i32::try_from(v).ok()
}

thread_local! {
    /// LZF output scratch, reused across strings.
    static LZF_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// String encoding as 7.0 chooses it.
pub fn encode_string(s: &[u8], compression: bool, out: &mut Vec<u8>) {
    if let Some(v) = canonical_i32(s) {
        if let Ok(b) = i8::try_from(v) {
            out.extend_from_slice(&[0xC0, b as u8]);
        } else if let Ok(h) = i16::try_from(v) {
            out.push(0xC1);
            out.extend_from_slice(&h.to_le_bytes());
        } else {
            out.push(0xC2);
            out.extend_from_slice(&v.to_le_bytes());
        }
        return;
    }
    if compression && s.len() > 20 {
        // Keep LZF only if it saves at least 4 bytes (output buffer of len-4, as Redis).
        let done = LZF_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            buf.clear();
            match super::lzf::compress(s, &mut buf, s.len() - 4) {
                Some(n) => {
                    out.push(0xC3);
                    encode_len(n as u64, out);
                    encode_len(s.len() as u64, out);
                    out.extend_from_slice(&buf[..n]);
                    true
                }
                None => false,
            }
        });
        if done {
            return;
        }
    }
    encode_len(s.len() as u64, out);
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::super::reader::parse_rdb;
    use super::*;

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn one_key_file_matches_the_23_byte_capture_layout() {
        // The capture has no SELECTDB: write the same bytes by hand through the encoder.
        let mut w = RdbWriter::new(Vec::new()).unwrap();
        w.entry(b"k", &Value::String(b"v".to_vec()), None).unwrap();
        let bytes = w.finish().unwrap();
        let want = std::fs::read(format!(
            "{}/tests/fixtures/handmade_one_key_23_bytes.rdb",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(bytes, want);
    }

    #[test]
    fn string_encodings_follow_redis_choices() {
        let enc = |s: &[u8]| {
            let mut o = Vec::new();
            encode_string(s, true, &mut o);
            o
        };
        assert_eq!(enc(b"-7"), vec![0xC0, 0xF9]);
        assert_eq!(enc(b"-300"), vec![0xC1, 0xD4, 0xFE]);
        assert_eq!(enc(b"2000000000"), vec![0xC2, 0x00, 0x94, 0x35, 0x77]);
        assert_eq!(enc(b"0123")[0], 4); // raw, not canonical
        assert_eq!(enc(b"12345678901234")[0], 14); // raw, wider than int32
        assert_eq!(enc(&[b'a'; 72])[0], 0xC3);
        let mut l = Vec::new();
        encode_len(72, &mut l);
        assert_eq!(l, vec![0x40, 0x48]);
    }

    #[test]
    fn roundtrip_all_value_kinds() {
        let values = vec![
            (b"s".to_vec(), Value::String(b"hello".to_vec()), None),
            (
                b"n".to_vec(),
                Value::String(b"-123456".to_vec()),
                Some(1_795_338_857_925),
            ),
            (b"z".to_vec(), Value::String(vec![b'z'; 1000]), None),
            (
                b"l".to_vec(),
                Value::List(vec![b"a".to_vec(), b"1".to_vec()].into()),
                None,
            ),
            (
                b"h".to_vec(),
                Value::Hash(vec![(b"f".to_vec(), b"v".to_vec())]),
                None,
            ),
            (
                b"st".to_vec(),
                Value::Set(vec![b"x".to_vec(), b"y".to_vec()]),
                None,
            ),
            (
                b"zs".to_vec(),
                Value::ZSet(vec![(b"m".to_vec(), 2.5), (b"i".to_vec(), f64::INFINITY)]),
                None,
            ),
        ];
        let mut w = RdbWriter::new(Vec::new()).unwrap();
        w.aux("redis-ver", b"7.0.15").unwrap();
        w.select_db(0, values.len() as u64, 1).unwrap();
        for (k, v, e) in &values {
            w.entry(k, v, *e).unwrap();
        }
        w.select_db(5, 1, 0).unwrap();
        w.entry(b"other", &Value::String(b"db5".to_vec()), None)
            .unwrap();
        let bytes = w.finish().unwrap();
        let mut got = Vec::new();
        let info = parse_rdb(&bytes, 16, |e| {
            got.push(e);
            Ok(())
        })
        .unwrap();
        assert!(info.checksum_checked);
        assert_eq!(got.len(), values.len() + 1);
        for (e, (k, v, x)) in got.iter().zip(&values) {
            assert_eq!((&e.key, &e.value, e.expire_ms), (k, v, *x));
        }
        assert_eq!(got.last().unwrap().db, 5);
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn stream_survives_load_and_save() {
        let real = std::fs::read(format!(
            "{}/tests/fixtures/master7015_all_types_disk.rdb",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut entries = Vec::new();
        parse_rdb(&real, 16, |e| {
            entries.push(e);
            Ok(())
        })
        .unwrap();
        let mut w = RdbWriter::new(Vec::new()).unwrap();
        for e in &entries {
            w.select_db(e.db, 1, 0).unwrap();
            w.entry(&e.key, &e.value, e.expire_ms).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut again = Vec::new();
        parse_rdb(&bytes, 16, |e| {
            again.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(again, entries);
    }
}
