//! RDB files from and into a keyspace: writing a snapshot (SAVE, BGSAVE, replication) and
//! loading one into a new keyspace (startup, a full sync from our master), with the
//! `rdb-key-save-delay` and `key-load-delay` test knobs. Pure functions: the engine decides
//! when, and logs.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::keyspace::{Entry, Keyspace, Snapshot};
use crate::rdb::{parse_rdb, RdbError, RdbInfo, RdbWriter};

/// What goes into an RDB besides the keys.
#[derive(Clone, Debug, Default)]
pub struct SaveOpts {
    pub aux: Vec<(String, Vec<u8>)>,
    pub functions: Vec<Vec<u8>>,
    /// Microseconds slept after each key (`rdb-key-save-delay`).
    pub key_delay_us: u64,
    pub compression: bool,
}

/// Sleeps `us` microseconds; like Redis's `debugDelay`, a tiny value still costs a syscall.
pub fn key_delay(us: u64) {
    if us > 0 {
        std::thread::sleep(Duration::from_micros(us));
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
    for (n, db) in snap.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        rw.select_db(n as u32, db.len() as u64, db.expires() as u64)?;
        for (k, e) in db.iter() {
            rw.entry(k, &e.value, e.expire_ms)?;
            progress.fetch_add(1, Ordering::Relaxed);
            key_delay(opts.key_delay_us);
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
    let mut ks = Keyspace::new(databases as usize);
    let (mut loaded, mut expired) = (0u64, 0u64);
    let info = parse_rdb(data, databases, |e| {
        key_delay(key_load_delay_us);
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
