//! RDB files as the engine uses them: SAVE, the startup load, the `save` points, what a
//! BGSAVE child is given, and what happens when a child or the loader finishes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use super::Engine;
use crate::core::{Input, RestoredReplInfo};
use crate::rdb::RdbError;
use crate::server::log::now_epoch_ms;
use crate::server::rdbfile::{load_rdb, write_snapshot, Loaded, SaveOpts};
use crate::server::types::{Action, BgsaveJob};

impl Engine {
    /// AUX fields as 7.0 writes them (`rdbSaveInfoAuxFields`).
    pub fn aux_fields(&self, repl: Option<(u32, String, i64)>) -> Vec<(String, Vec<u8>)> {
        let mut aux = vec![
            ("redis-ver".to_string(), b"7.0.15".to_vec()),
            ("redis-bits".to_string(), b"64".to_vec()),
            (
                "ctime".to_string(),
                (now_epoch_ms() / 1000).to_string().into_bytes(),
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

    /// What goes into an RDB written now: AUX fields with our replication id and offset,
    /// functions, and the `rdb-key-save-delay` knob when `with_delay`.
    pub fn save_opts(&self, with_delay: bool) -> SaveOpts {
        let repl = (
            0,
            self.core.replid().to_string(),
            self.core.master_repl_offset(),
        );
        SaveOpts {
            aux: self.aux_fields(Some(repl)),
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

    pub fn rdb_path(&self) -> PathBuf {
        Path::new(&self.cfg.dir).join(&self.cfg.dbfilename)
    }

    /// Whether `save` points are configured.
    pub fn has_save_points(&self) -> bool {
        !self.core.config().save.trim().is_empty()
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
                self.save.lastsave_unix = now_epoch_ms() / 1000;
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

    /// Installs a loaded dataset, replacing the old one, and logs the loader lines.
    fn install_loaded(&mut self, l: Loaded) {
        if let Some(v) = l.info.aux_str("redis-ver") {
            self.notice(&format!("Loading RDB produced by version {v}"));
        }
        if let Some(ct) = l.info.aux_str("ctime").and_then(|s| s.parse::<i64>().ok()) {
            let age = (now_epoch_ms() / 1000) as i64 - ct;
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
    }

    /// Loads `dir/dbfilename` at startup, if present, and returns the replication id and
    /// offset it recorded (a restarted replica resumes from them).
    pub fn load_at_startup(&mut self) -> Result<Option<RestoredReplInfo>, String> {
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
        self.install_loaded(l);
        self.notice(&format!(
            "DB loaded from disk: {:.3} seconds",
            t0.elapsed().as_secs_f64()
        ));
        let replid = info.aux_str("repl-id");
        let offset = info.aux_str("repl-offset").and_then(|s| s.parse().ok());
        Ok(replid
            .zip(offset)
            .map(|(replid, offset)| RestoredReplInfo { replid, offset }))
    }

    /// `save <seconds> <changes>` points (serverCron): BGSAVE when enough changes are old
    /// enough.
    pub fn check_save_points(&mut self) {
        if self.save.child.is_some() || self.save.dirty == 0 {
            return;
        }
        let params: Vec<u64> = self
            .core
            .config()
            .save
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let elapsed = (now_epoch_ms() / 1000).saturating_sub(self.save.lastsave_unix);
        for pair in params.chunks(2) {
            if let [secs, changes] = pair {
                if self.save.dirty >= *changes && elapsed >= *secs {
                    self.notice(&format!("{changes} changes in {secs} seconds. Saving..."));
                    self.start_user_bgsave();
                    return;
                }
            }
        }
    }

    /// BGSAVE (a user's or a save point's): takes the snapshot now, as fork would, and
    /// queues the child for the driver. False if a child is already running.
    pub fn start_user_bgsave(&mut self) -> bool {
        if self.save.child.is_some() {
            return false;
        }
        let pid = self.save.next_child_pid;
        self.save.next_child_pid += 1;
        let snap = self.ks.snapshot();
        let progress = Arc::new(AtomicU64::new(0));
        self.save.child = Some(pid);
        self.save.child_started = Some(Instant::now());
        self.save.child_target = "disk".into();
        self.save.progress = Some((progress.clone(), snap.keys()));
        self.save.dirty_before_bgsave = self.save.dirty;
        self.save.total_forks += 1;
        self.notice(&format!("Background saving started by pid {pid}"));
        let opts = self.save_opts(true);
        self.actions.push(Action::Bgsave(Box::new(BgsaveJob {
            core_id: None,
            pid,
            disk: true,
            snap,
            opts,
            kill: Arc::new(AtomicBool::new(false)),
            progress,
        })));
        true
    }

    fn clear_child_state(&mut self) {
        self.save.child = None;
        self.save.child_started = None;
        self.save.progress = None;
    }

    /// A disk BGSAVE child ended (`ok`: the file is in place; `file`: its bytes, read for a
    /// replication BGSAVE). Returns false when the core had killed it (then nothing is left
    /// to do). The caller drains the core's outputs.
    pub fn disk_bgsave_done(
        &mut self,
        job_core_id: Option<u64>,
        pid: u32,
        res: &io::Result<()>,
        file: Option<Vec<u8>>,
        secs: i64,
        cow: u64,
    ) -> bool {
        if let Some(id) = job_core_id {
            if !self.children.contains_key(&id) {
                return false; // killed: the core already handled its death
            }
        }
        self.clear_child_state();
        self.save.last_bgsave_ok = res.is_ok();
        self.save.last_bgsave_secs = secs;
        self.save.last_cow_bytes = cow;
        if res.is_ok() {
            self.save.dirty = self
                .save
                .dirty
                .saturating_sub(self.save.dirty_before_bgsave);
            self.save.rdb_saves += 1;
            self.save.lastsave_unix = now_epoch_ms() / 1000;
        }
        let Some(id) = job_core_id else {
            // A user BGSAVE: the child's and the parent's log lines.
            let now = self.now_ms();
            match res {
                Ok(()) => {
                    self.log.log_as(pid, now, 'C', '*', "DB saved on disk");
                    let mb = cow / (1024 * 1024);
                    self.log.log_as(
                        pid,
                        now,
                        'C',
                        '*',
                        &format!(
                            "Fork CoW for RDB: current {mb} MB, peak {mb} MB, average {mb} MB"
                        ),
                    );
                    self.notice("Background saving terminated with success");
                }
                Err(err) => {
                    self.log.log_as(
                        pid,
                        now,
                        'C',
                        '#',
                        &format!("Write error saving DB on disk: {err}"),
                    );
                    self.warning("Background saving error");
                }
            }
            return true;
        };
        // The core's: it logs, then sends the file to the waiting replicas.
        self.children.remove(&id);
        let rdb = file.filter(|_| res.is_ok());
        self.core_input(Input::BgsaveDone {
            id,
            ok: rdb.is_some(),
            rdb: crate::core::Payload::Bytes(rdb.unwrap_or_default()),
            cow_bytes: cow,
        });
        true
    }

    /// A diskless BGSAVE child ended. False when the core had killed it.
    pub fn socket_bgsave_done(&mut self, id: u64, ok: bool, cow: u64) -> bool {
        if self.children.remove(&id).is_none() {
            return false;
        }
        self.clear_child_state();
        self.save.last_cow_bytes = cow;
        self.core_input(Input::BgsaveDone {
            id,
            ok,
            rdb: crate::core::Payload::Bytes(Vec::new()),
            cow_bytes: cow,
        });
        true
    }

    /// The loader thread finished with the RDB our master sent (`data`). On success the new
    /// keyspace replaces the old one; on failure the old one stays. The caller drains the
    /// core's outputs.
    pub fn load_done(&mut self, data: &[u8], res: Result<Loaded, RdbError>) {
        self.loading = false;
        match res {
            Ok(l) => {
                if self.core.config().repl_diskless_load == crate::core::DisklessLoad::Disabled {
                    // Disk load (the 7.0 default): the received file becomes our dump.rdb.
                    let path = self.rdb_path();
                    let tmp = path.with_file_name(format!(
                        "temp-{}.{}.rdb",
                        std::process::id(),
                        self.now_ms()
                    ));
                    if let Err(err) =
                        std::fs::write(&tmp, data).and_then(|_| std::fs::rename(&tmp, &path))
                    {
                        let _ = std::fs::remove_file(&tmp);
                        self.warning(&format!(
                            "Failed saving the RDB received from the master to {}: {err}",
                            path.display()
                        ));
                    }
                }
                let keys = l.keys_loaded;
                self.ks = l.ks;
                self.functions = l.info.functions.clone();
                self.master_db = l
                    .info
                    .aux_str("repl-stream-db")
                    .and_then(|s| s.parse().ok())
                    .filter(|&d: &usize| d < self.ks.dbs.len())
                    .unwrap_or(0);
                self.core_input(Input::LoadDone {
                    ok: true,
                    error: String::new(),
                    keys,
                });
            }
            Err(err) => {
                // rdbLoad's own line first ("Can't handle RDB format version N", in Redis's
                // words), then where it was and what became of our data.
                self.warning(&err.what);
                self.warning(&format!(
                    "The RDB received from the master is unusable (at byte {}); the old dataset is kept",
                    err.offset
                ));
                self.core_input(Input::LoadDone {
                    ok: false,
                    error: err.to_string(),
                    keys: 0,
                });
            }
        }
    }

    /// A streaming loader finished transfer `gen` (see `Action::LoadStream`): its result
    /// counts only for the current transfer, once the core asked for the load.
    pub fn stream_load_done(&mut self, gen: u64, res: Result<Loaded, RdbError>) {
        if gen == self.load_gen && self.loading && self.rdb_stream.is_none() {
            self.load_done(&[], res);
        }
    }

    /// What the loader needs: databases, `key-load-delay`, and the wall clock.
    pub fn load_params(&self) -> (u32, u64, i64) {
        (self.cfg.databases, self.cfg.key_load_delay, self.unix_ms())
    }
}
