//! The RDB loader (`rdb::parse_rdb` and the server's `load_rdb` into a keyspace), as it reads a
//! `dump.rdb` at start or an RDB received from a master: any bytes give a value or an error,
//! never a panic, an abort or an allocation far beyond the input's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::server::rdbfile::load_rdb;

fuzz_target!(|data: &[u8]| {
    let _ = replscope::rdb::parse_rdb(data, 16, |_| Ok(()));
    let _ = load_rdb(data, 16, 0, data.first().is_some_and(|b| b & 1 != 0), 1_700_000_000_000);
});
