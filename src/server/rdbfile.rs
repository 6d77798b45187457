//! RDB files from and into a keyspace: writing a snapshot (SAVE, BGSAVE, replication) and
//! loading one into a new keyspace (startup, a full sync from our master), with the
//! `rdb-key-save-delay` and `key-load-delay` test knobs. Pure functions: the engine decides
//! when, and logs.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::keyspace::{Entry, Keyspace, Snapshot};
use crate::rdb::{
    parse_rdb, parse_rdb_stream, Entry as RdbEntry, MoreBytes, RdbError, RdbInfo, RdbWriter,
};

/// What goes into an RDB besides the keys.
#[derive(Clone, Debug, Default)]
pub struct SaveOpts {
    pub aux: Vec<(String, Vec<u8>)>,
    pub functions: Vec<Vec<u8>>,
    /// Microseconds per key (`rdb-key-save-delay`, see [`KeyPacer`]).
    pub key_delay_us: u64,
    pub compression: bool,
}

/// The `rdb-key-save-delay` / `key-load-delay` of each key, kept on a schedule: key `n` ends
/// no earlier than `n x delay` after the start. Redis sleeps the delay after every key
/// (`debugDelay`), and a sleep on a loaded machine overshoots by a varying amount, so the same
/// BGSAVE took a different time from one minute to the next; `replscope compare` times a
/// BGSAVE before the run and predicts with it, and a BGSAVE that ran 15% faster in the run
/// than in that timing put the prediction off by as much. On schedule, a late wake-up is
/// made up on the next keys, and the time is the delay's unless the work itself is slower.
pub struct KeyPacer {
    delay_us: u64,
    start: Instant,
    keys: u64,
}

impl KeyPacer {
    pub fn new(delay_us: u64) -> KeyPacer {
        KeyPacer {
            delay_us,
            start: Instant::now(),
            keys: 0,
        }
    }

    /// One more key is done: wait until its time on the schedule.
    pub fn key_done(&mut self) {
        if self.delay_us == 0 {
            return;
        }
        self.keys += 1;
        let due = self.start + Duration::from_micros(self.delay_us.saturating_mul(self.keys));
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

/// Writes a snapshot as RDB v10 into `w`. `progress` counts keys written (for views).
pub fn write_snapshot<W: Write>(
    snap: &Snapshot,
    w: W,
    opts: &SaveOpts,
    progress: &AtomicU64,
) -> io::Result<(W, u64)> {
    let mut rw = RdbWriter::new(w)?;
    rw.compression = opts.compression;
    for (k, v) in &opts.aux {
        rw.aux(k, v)?;
    }
    for f in &opts.functions {
        rw.function(f)?;
    }
    let mut pace = KeyPacer::new(opts.key_delay_us);
    for (n, db) in snap.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        rw.select_db(n as u32, db.len() as u64, db.expires() as u64)?;
        for (k, e) in db.iter() {
            rw.entry(k, &e.value, e.expire_ms)?;
            progress.fetch_add(1, Ordering::Relaxed);
            pace.key_done();
        }
    }
    let written = rw.written() + 9;
    let w = rw.finish()?;
    Ok((w, written))
}

/// Result of loading an RDB into a fresh keyspace.
pub struct Loaded {
    pub ks: Keyspace,
    pub info: RdbInfo,
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

/// Parses `data` into a new keyspace (the old one is untouched, so a bad file loses nothing).
/// `drop_expired`: a master loading its own file drops keys already expired; a replica keeps
/// them (its master sends DEL).
pub fn load_rdb(
    data: &[u8],
    databases: u32,
    key_load_delay_us: u64,
    drop_expired: bool,
    now_unix_ms: i64,
) -> Result<Loaded, RdbError> {
    load_with(
        databases,
        key_load_delay_us,
        drop_expired,
        now_unix_ms,
        |on_entry| parse_rdb(data, databases, on_entry),
    )
}

/// [`load_rdb`] on an RDB that arrives in chunks (`more`; None at its end): a replica's
/// diskless load, which parses as the transfer goes.
pub fn load_rdb_stream(
    more: MoreBytes<'_>,
    databases: u32,
    key_load_delay_us: u64,
    drop_expired: bool,
    now_unix_ms: i64,
) -> Result<Loaded, RdbError> {
    load_with(
        databases,
        key_load_delay_us,
        drop_expired,
        now_unix_ms,
        |on_entry| parse_rdb_stream(more, databases, on_entry),
    )
}

/// Builds the new keyspace from the entries `parse` hands out.
fn load_with(
    databases: u32,
    key_load_delay_us: u64,
    drop_expired: bool,
    now_unix_ms: i64,
    parse: impl FnOnce(&mut dyn FnMut(RdbEntry) -> Result<(), String>) -> Result<RdbInfo, RdbError>,
) -> Result<Loaded, RdbError> {
    let mut ks = Keyspace::new(databases as usize);
    let (mut loaded, mut expired) = (0u64, 0u64);
    let mut pace = KeyPacer::new(key_load_delay_us);
    let info = parse(&mut |e| {
        pace.key_done();
        if drop_expired && e.expire_ms.is_some_and(|t| t <= now_unix_ms) {
            expired += 1;
            return Ok(());
        }
        let (db, cow) = ks.db_mut(e.db as usize);
        if db.get(&e.key).is_some() {
            // Redis panics on a duplicate key; we refuse the file instead.
            return Err(format!(
                "Duplicate key '{}' found in RDB file",
                String::from_utf8_lossy(&e.key)
            ));
        }
        db.set(
            e.key,
            Entry {
                value: Arc::new(e.value),
                expire_ms: e.expire_ms,
            },
            cow,
        );
        loaded += 1;
        Ok(())
    })?;
    Ok(Loaded {
        ks,
        info,
        keys_loaded: loaded,
        keys_expired: expired,
    })
}
