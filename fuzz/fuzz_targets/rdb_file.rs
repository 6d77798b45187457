//! The RDB loader (`rdb::parse_rdb` and the server's `load_rdb` into a keyspace), as it reads a
//! `dump.rdb` at start or an RDB received from a master, and the same parser fed in chunks as
//! a diskless load reads a master's socket (`rdb::parse_rdb_stream`): any bytes give a value
//! or an error, never a panic, an abort or an allocation far beyond the input's size, and
//! the chunked parse gives exactly what the whole-file parse gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::server::rdbfile::load_rdb;

fuzz_target!(|data: &[u8]| {
    // The parser on everything; the keyspace loader (which sets up its shards, the costly
    // part) on what parses, so most executions go to the parser's edges.
    let mut whole = Vec::new();
    let res = replscope::rdb::parse_rdb(data, 16, |e| {
        whole.push(e);
        Ok(())
    });
    // Chunk sizes from the input itself, so the fuzzer explores the cuts too.
    let size = 1 + data.first().copied().unwrap_or(0) as usize % 61;
    let mut chunks = data.chunks(size).map(<[u8]>::to_vec);
    let mut more = || chunks.next();
    let mut streamed = Vec::new();
    let res2 = replscope::rdb::parse_rdb_stream(&mut more, 16, |e| {
        streamed.push(e);
        Ok(())
    });
    assert_eq!(res, res2);
    assert_eq!(whole, streamed);
    if res.is_ok() {
        let drop_expired = data.len() % 2 == 0;
        let _ = load_rdb(data, 16, 0, drop_expired, 1_700_000_000_000);
    }
});
