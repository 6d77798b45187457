//! RDB files on disk and in memory: writing a snapshot (SAVE, BGSAVE, replication), loading
//! one (startup, a full sync from our master), with the `rdb-key-save-delay` and
//! `key-load-delay` test knobs and Redis's log lines.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::Engine;
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
/// them (its master sends DEL). `stop` lets a caller abort a slow load.
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

impl Engine {
    /// AUX fields as 7.0 writes them (`rdbSaveInfoAuxFields`).
    pub fn aux_fields(&self, repl: Option<(u32, String, i64)>) -> Vec<(String, Vec<u8>)> {
        let mut aux = vec![
            ("redis-ver".to_string(), b"7.0.15".to_vec()),
            ("redis-bits".to_string(), b"64".to_vec()),
            (
                "ctime".to_string(),
                (super::log::now_epoch_ms() / 1000).to_string().into_bytes(),
            ),
            (
                "used-mem".to_string(),
                self.used_memory().to_string().into_bytes(),
            ),
        ];
        if let Some((db, id, off)) = repl {
            aux.push(("repl-stream-db".into(), db.to_string().into_bytes()));
            aux.push(("repl-id".into(), id.into_bytes()));
            aux.push(("repl-offset".into(), off.to_string().into_bytes()));
        }
        aux.push(("aof-base".into(), b"0".to_vec()));
        aux
    }

    pub fn save_opts(&self, with_delay: bool) -> SaveOpts {
        SaveOpts {
            aux: self.aux_fields(self.repl_info_for_rdb()),
            functions: self.functions.clone(),
            key_delay_us: if with_delay {
                self.cfg.rdb_key_save_delay
            } else {
                0
            },
            compression: self.cfg.rdbcompression,
        }
    }

    /// Approximate dataset memory (INFO used_memory).
    pub fn used_memory(&self) -> u64 {
        let data: u64 = self
            .ks
            .dbs
            .iter()
            .flat_map(|d| d.iter())
            .map(|(k, e)| (k.len() + 48 + e.value.approx_bytes()) as u64)
            .sum();
        data + 900_000
    }

    pub fn rdb_path(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.cfg.dir).join(&self.cfg.dbfilename)
    }

    /// SAVE: writes the RDB in the foreground (blocks every client, as in Redis).
    pub fn save_now(&mut self) -> io::Result<()> {
        let snap = self.ks.snapshot();
        let opts = self.save_opts(false);
        let path = self.rdb_path();
        let tmp = path.with_file_name(format!("temp-{}.rdb", std::process::id()));
        let res = (|| {
            let f = std::fs::File::create(&tmp)?;
            let (w, _) = write_snapshot(&snap, io::BufWriter::new(f), &opts, &AtomicU64::new(0))?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        match &res {
            Ok(()) => {
                self.notice("DB saved on disk");
                self.save.dirty = 0;
                self.save.rdb_saves += 1;
                self.save.lastsave_unix = super::log::now_epoch_ms() / 1000;
                self.save.last_bgsave_ok = true;
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                self.warning(&format!(
                    "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                    tmp.display(),
                    self.cfg.dir
                ));
            }
        }
        res
    }

    /// Whether `save` points are configured.
    pub fn cfg_has_save_points(&self) -> bool {
        !self.core_save_param().trim().is_empty()
    }

    /// Installs a loaded dataset, replacing the old one, and logs the loader lines.
    pub fn install_loaded(&mut self, l: Loaded, started: Instant) {
        if let Some(v) = l.info.aux_str("redis-ver") {
            self.notice(&format!("Loading RDB produced by version {v}"));
        }
        if let Some(ct) = l.info.aux_str("ctime").and_then(|s| s.parse::<i64>().ok()) {
            let age = (super::log::now_epoch_ms() / 1000) as i64 - ct;
            self.notice(&format!("RDB age {} seconds", age.max(0)));
        }
        if let Some(m) = l
            .info
            .aux_str("used-mem")
            .and_then(|s| s.parse::<f64>().ok())
        {
            self.notice(&format!(
                "RDB memory usage when created {:.2} Mb",
                m / 1024.0 / 1024.0
            ));
        }
        self.ks = l.ks;
        self.functions = l.info.functions.clone();
        self.notice(&format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            l.keys_loaded, l.keys_expired
        ));
        let _ = started;
    }

    /// Loads `dir/dbfilename` at startup, if present.
    pub fn load_at_startup(&mut self) -> Result<Option<RdbInfo>, String> {
        let path = self.rdb_path();
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("Can't read {}: {e}", path.display())),
        };
        let t0 = Instant::now();
        let l = load_rdb(
            &data,
            self.cfg.databases,
            self.cfg.key_load_delay,
            true,
            self.unix_ms(),
        )
        .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))?;
        let info = l.info.clone();
        self.install_loaded(l, t0);
        self.notice(&format!(
            "DB loaded from disk: {:.3} seconds",
            t0.elapsed().as_secs_f64()
        ));
        Ok(Some(info))
    }
}
