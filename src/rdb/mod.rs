//! RDB version 10, the snapshot format Redis 7.0 writes and replicas load.
//!
//! - [`reader`]: parses RDB v1..=11 from memory: strings (raw, int, LZF), lists (quicklist2,
//!   quicklist, ziplist, plain), hashes (listpack, ziplist, table), sets (intset, table),
//!   sorted sets (listpack, ziplist, both table forms). Streams are kept as opaque payload
//!   bytes (walked, not interpreted) so they survive a load/save round trip; modules and
//!   zipmaps are rejected with a clear error.
//! - [`writer`]: writes RDB v10 the way a 7.0 master does for strings (int and LZF encodings),
//!   and the simple legacy types (1, 2, 4, 5) for aggregates, which 7.0 loads and converts.
//! - [`blobs`] decodes listpacks, intsets and ziplists.
//! - [`checksum`] computes CRC-64/REDIS; [`lzf`] compresses in liblzf's format.
//!
//! The format is described in /work/shared/spec/rdb-and-wire.md §2 (kept beside the tests as
//! fixtures).

pub mod blobs;
pub mod checksum;
pub mod lzf;
pub mod reader;
pub mod writer;

pub use reader::Entry;
pub use writer::RdbWriter;

use std::collections::VecDeque;

pub use reader::{parse_rdb, parse_rdb_stream, MoreBytes, RdbInfo};

/// A value as it lives in a keyspace and in an RDB file.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    /// A deque, so pushes and pops at both ends are O(1) in the server.
    List(VecDeque<Vec<u8>>),
    /// Field/value pairs in file order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Set(Vec<Vec<u8>>),
    /// Member/score pairs.
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A stream, kept as the raw bytes of its RDB payload (type byte `type_byte`), so a load
    /// followed by a save reproduces it exactly without interpreting it.
    Stream {
        type_byte: u8,
        payload: Vec<u8>,
    },
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream { .. } => "stream",
        }
    }

    /// Approximate bytes held, for INFO memory and copy-on-write accounting.
    pub fn approx_bytes(&self) -> usize {
        match self {
            Value::String(s) => s.len() + 16,
            Value::List(v) => v.iter().map(|e| e.len() + 24).sum::<usize>() + 16,
            Value::Set(v) => v.iter().map(|e| e.len() + 24).sum::<usize>() + 16,
            Value::Hash(v) => v.iter().map(|(f, x)| f.len() + x.len() + 48).sum::<usize>() + 16,
            Value::ZSet(v) => v.iter().map(|(m, _)| m.len() + 32).sum::<usize>() + 16,
            Value::Stream { payload, .. } => payload.len() + 16,
        }
    }
}

/// A failure to read an RDB: what went wrong and at which byte of the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    pub offset: usize,
    pub what: String,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RDB error at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for RdbError {}
