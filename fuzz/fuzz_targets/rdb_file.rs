//! The RDB loader (`rdb::parse_rdb` and the server's `load_rdb` into a keyspace), as it reads a
//! `dump.rdb` at start or an RDB received from a master: any bytes give a value or an error,
//! never a panic, an abort or an allocation far beyond the input's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::server::rdbfile::load_rdb;

fuzz_target!(|data: &[u8]| {
    // The parser on everything; the keyspace loader (which sets up its shards, the costly
    // part) on what parses, so most executions go to the parser's edges.
    if replscope::rdb::parse_rdb(data, 16, |_| Ok(())).is_ok() {
        let drop_expired = data.len() % 2 == 0;
        let _ = load_rdb(data, 16, 0, drop_expired, 1_700_000_000_000);
    }
});
