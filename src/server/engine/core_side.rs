//! The engine's side of the replication core ([`crate::core::Instance`]): building it, what
//! it says (role, link state, replicas, INFO replication, its config), and the engine as the
//! core's [`Driver`]: each output carried out on the engine's state. Every use of the core's
//! API by the server is here or in `engine/mod.rs` (inputs), so a change of that API lands in
//! two files.
//!
//! `Driver::apply` (a command from our master's stream) runs a command, which is the layer
//! above's business: it calls the [`super::ApplyFn`] the engine was built with.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::Engine;
use crate::core::{
    BgsaveTarget, Config as CoreConfig, ConnId, Driver, Instance, InstanceParams, LinkStatus,
    LogEntry, MarkEvent, Payload, RestoredReplInfo,
};
use crate::server::config::ServerConfig;
use crate::server::log::level_rank;
use crate::server::types::{Action, BgsaveJob, LinkHandle};
use crate::view::{Frame, Mark, MasterView, ReplicaView};

/// Builds the core from the server's configuration.
pub(super) fn make_instance(
    cfg: &ServerConfig,
    port: u16,
    epoch_ms: u64,
    restored: Option<RestoredReplInfo>,
) -> Result<Instance, String> {
    let mut core_cfg = CoreConfig::default();
    for (name, value) in &cfg.core_lines {
        core_cfg.load_pair(name, value).map_err(|e| {
            format!("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n>>> '{name} {value}'\n{e}")
        })?;
    }
    core_cfg.port = port;
    // Authentication is the server's job (it knows every client); the core sees
    // authenticated clients only.
    core_cfg.requirepass = None;
    let seed = {
        use rand::RngCore;
        rand::thread_rng().next_u64()
    };
    Ok(Instance::new(InstanceParams {
        name: format!("127.0.0.1:{port}"),
        ip: "127.0.0.1".into(),
        pid: std::process::id(),
        seed,
        epoch_ms,
        start_ms: 0,
        config: core_cfg,
        restored,
    }))
}

impl Engine {
    /// Builds the core again with the bound port and what the RDB loaded at startup said.
    pub fn init_core(
        &mut self,
        port: u16,
        restored: Option<RestoredReplInfo>,
    ) -> Result<(), String> {
        self.cfg.port = port;
        self.core = make_instance(&self.cfg, port, self.epoch_ms, restored)?;
        // Start its timers (a restored replica asks to connect) and carry out what it asks.
        self.core_timeout();
        self.pump();
        Ok(())
    }

    // ---- what the core says ---------------------------------------------------------------

    pub fn is_replica(&self) -> bool {
        self.core.is_replica()
    }

    /// `replica-read-only`.
    pub fn replica_read_only(&self) -> bool {
        self.core.config().replica_read_only
    }

    /// A replica whose link is down and that must not serve stale data
    /// (`replica-serve-stale-data no`): only commands flagged `stale` run.
    pub fn refuses_stale_reads(&self) -> bool {
        self.core.is_replica()
            && !self.core.config().replica_serve_stale_data
            && self.core.link_status() != LinkStatus::Connected
    }

    pub fn is_replica_client(&self, id: u64) -> bool {
        self.core
            .replica_clients()
            .iter()
            .any(|r| r.conn == ConnId(id))
    }

    /// CLIENT LIST `flags` and `omem` (for replicas: the bytes the limit measures).
    pub fn client_flags_and_omem(&self, id: u64) -> (&'static str, u64) {
        let conn = ConnId(id);
        match self
            .core
            .replica_clients()
            .into_iter()
            .find(|r| r.conn == conn)
        {
            Some(r) => ("S", r.obuf_bytes),
            None => ("N", self.core.outgoing_len(conn)),
        }
    }

    /// INFO replication's fields (without the section title).
    pub fn info_replication(&self) -> String {
        let text = self.core.info_replication(self.now_ms());
        text.strip_prefix("# Replication\r\n")
            .unwrap_or(&text)
            .to_string()
    }

    /// `sync_full`, `sync_partial_ok`, `sync_partial_err`, repl output and input bytes.
    pub fn repl_stats(&self) -> (u64, u64, u64, u64, u64) {
        let s = self.core.stats();
        (
            s.sync_full,
            s.sync_partial_ok,
            s.sync_partial_err,
            s.total_net_repl_output_bytes,
            s.total_net_repl_input_bytes,
        )
    }

    /// Bytes of the shared replication buffer (backlog and replicas' buffers).
    pub fn repl_buffer_bytes(&self) -> u64 {
        self.core.repl_buffer_mem()
    }

    /// `repl-backlog-size`.
    pub fn repl_backlog_size(&self) -> u64 {
        self.core.config().repl_backlog_size
    }

    /// Replicas attached to us.
    pub fn replica_count(&self) -> usize {
        self.core.replica_clients().len()
    }

    /// Bytes of RDB the diskless child has handed over and the slowest replica not yet taken.
    pub fn bgsave_backlog_bytes(&self) -> u64 {
        self.core.bgsave_backlog_bytes()
    }

    /// CONFIG GET of the core's options (authentication and the port are the server's).
    pub fn core_config_matching(&self, pat: &str) -> Vec<(String, String)> {
        // A plain name goes to the core as it is (it also knows the old aliases such as
        // `slave-read-only`); a pattern is matched here, with the server's guarded glob,
        // against all the core's options ("*" costs the core nothing).
        let is_pattern = pat.bytes().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'));
        let all = self
            .core
            .config()
            .get_matching(if is_pattern { "*" } else { pat });
        all.into_iter()
            .filter(|(k, _)| {
                !is_pattern || crate::server::glob::glob_match_nocase(pat.as_bytes(), k.as_bytes())
            })
            .filter(|(k, _)| k != "requirepass" && k != "port")
            .collect()
    }

    /// CONFIG SET of a core option. The caller drains the core's outputs.
    pub fn core_config_set(&mut self, name: &str, value: &str) -> Result<(), String> {
        if name == "requirepass" {
            return Ok(());
        }
        self.core.config_set(name, value).map_err(|e| e.to_string())
    }

    // ---- connections the core opened -------------------------------------------------------

    /// The link's wake-up handle, if the core still wants it.
    pub fn link_notify(&self, conn: ConnId) -> Option<Arc<Notify>> {
        self.links.get(&conn).map(|l| l.notify.clone())
    }

    /// (closed by the core, killed by CLIENT KILL TYPE master, readable).
    pub fn link_status(&self, conn: ConnId) -> (bool, bool, bool) {
        match self.links.get(&conn) {
            None => (true, false, false),
            Some(l) => (l.closed_by_core, l.kill, l.readable),
        }
    }

    pub fn forget_link(&mut self, conn: ConnId) {
        self.links.remove(&conn);
    }

    /// CLIENT KILL TYPE master: drop the link as if the network failed.
    pub fn kill_master_link(&mut self) -> bool {
        let Some(conn) = self.core.master_conn() else {
            return false;
        };
        match self.links.get_mut(&conn) {
            Some(l) => {
                l.kill = true;
                l.notify.notify_one();
                true
            }
            None => false,
        }
    }

    // ---- carrying out the core's outputs ---------------------------------------------------

    /// Carries out every output the core has (the one rule of the driving loop): each goes
    /// to its [`Driver`] method below. Callers feed the core, then pump.
    pub fn pump(&mut self) {
        while let Some(out) = self.core.poll_output() {
            out.dispatch(self);
        }
    }
    /// The core forks a child: the snapshot is taken now, at the offset the core recorded, so
    /// the RDB plus the stream after `offset` is exactly the dataset (fork semantics).
    fn start_core_child(&mut self, id: u64, target: BgsaveTarget, child_pid: u32, offset: i64) {
        let snap = self.ks.snapshot();
        let mut opts = self.save_opts(true);
        opts.aux = self.aux_fields(Some((0, self.core.replid().to_string(), offset)));
        let kill = Arc::new(AtomicBool::new(false));
        self.children.insert(id, kill.clone());
        let progress = Arc::new(AtomicU64::new(0));
        let disk = matches!(target, BgsaveTarget::Disk);
        self.save.child = Some(child_pid);
        self.save.child_started = Some(Instant::now());
        self.save.child_target = if disk { "disk" } else { "replicas sockets" }.into();
        self.save.progress = Some((progress.clone(), snap.keys()));
        self.save.total_forks += 1;
        if disk {
            self.save.dirty_before_bgsave = self.save.dirty;
        }
        self.actions.push(Action::Bgsave(Box::new(BgsaveJob {
            core_id: Some(id),
            pid: child_pid,
            disk,
            snap,
            opts,
            kill,
            progress,
        })));
    }

    // ---- the live view --------------------------------------------------------------------

    /// A snapshot for the web app's pictures.
    pub fn view_frame(&self) -> Frame {
        let mut master = MasterView::of(&self.core);
        master.cow_bytes = if self.save.child.is_some() {
            self.ks.cow.get()
        } else {
            0
        };
        if let (Some(b), Some((p, total))) = (master.bgsave.as_mut(), self.save.progress.as_ref()) {
            if *total > 0 {
                b.progress = (p.load(Ordering::Relaxed) as f64 / *total as f64).min(1.0);
            }
        }
        let mut replicas = Vec::new();
        for r in self.core.replica_clients() {
            let mut v = ReplicaView {
                name: r.name.clone(),
                link_state: String::new(),
                offset: -1,
                ..Default::default()
            };
            v.fill_master_side(&self.core, r.conn);
            // A remote replica's applied offset is only known through its ACKs.
            v.offset = v.ack_offset;
            replicas.push(v);
        }
        if self.core.is_replica() {
            // This server is itself a replica: show its side of the link too.
            replicas.push(ReplicaView::of_link(&self.core));
        }
        Frame {
            t_ms: self.now_ms(),
            master,
            replicas,
        }
    }
}

/// What the engine does with each of the core's outputs. Threads and sockets an output needs
/// are queued as [`Action`]s for the driver layer, which starts them once the lock is
/// released.
impl Driver for Engine {
    fn data_ready(&mut self, conn: ConnId) {
        if let Some(c) = self.clients.get(&conn.0) {
            c.notify.notify_one();
        } else if let Some(l) = self.links.get(&conn) {
            l.notify.notify_one();
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(c) = self.clients.get_mut(&conn.0) {
            c.killed = true;
            c.notify.notify_one();
        } else if let Some(l) = self.links.get_mut(&conn) {
            l.closed_by_core = true;
            l.notify.notify_one();
        }
    }

    fn connect(&mut self, conn: ConnId, host: String, port: u16) {
        self.links.insert(
            conn,
            LinkHandle {
                notify: Arc::new(Notify::new()),
                readable: true,
                closed_by_core: false,
                kill: false,
            },
        );
        self.actions.push(Action::Connect { conn, host, port });
    }

    fn set_readable(&mut self, conn: ConnId, readable: bool) {
        if let Some(l) = self.links.get_mut(&conn) {
            l.readable = readable;
            l.notify.notify_one();
        }
    }

    fn start_bgsave(&mut self, id: u64, target: BgsaveTarget, child_pid: u32, offset: i64) {
        self.start_core_child(id, target, child_pid, offset);
    }

    fn kill_bgsave(&mut self, id: u64) {
        if let Some(k) = self.children.remove(&id) {
            k.store(true, Ordering::Relaxed);
        }
        self.save.child = None;
        self.save.child_started = None;
        self.save.progress = None;
    }

    fn rdb_begin(&mut self, from_socket: bool) {
        // Whatever an aborted transfer left is void; dropping its sender ends its loader,
        // whose result then no longer matches `load_gen`.
        self.rdb_recv.clear();
        self.rdb_stream = None;
        self.load_gen += 1;
        if from_socket {
            // `repl-diskless-load`: parse while the bytes arrive, as `readSyncBulkPayload`
            // hands the connection to `rdbLoadRio`.
            let (tx, chunks) = std::sync::mpsc::channel();
            self.rdb_stream = Some(tx);
            self.actions.push(Action::LoadStream {
                gen: self.load_gen,
                chunks,
            });
        }
    }

    fn rdb_data(&mut self, payload: Payload) {
        if let Payload::Bytes(b) = payload {
            match &self.rdb_stream {
                // A loader that stopped on a corrupt RDB no longer receives: nothing to keep.
                Some(tx) => {
                    let _ = tx.send(b);
                }
                None => self.rdb_recv.extend_from_slice(&b),
            }
        }
    }

    fn load_rdb(&mut self, _size: u64, _eof_marked: bool) {
        self.loading = true;
        if self.rdb_stream.take().is_some() {
            // The loader has parsed along; the closed channel tells it the RDB is whole.
            return;
        }
        let data = std::mem::take(&mut self.rdb_recv);
        self.actions.push(Action::Load(data));
    }

    /// Runs through the command table, one layer up (see [`ApplyFn`]).
    fn apply(&mut self, argv: Vec<Vec<u8>>) {
        (self.apply_from_master)(self, &argv);
    }

    fn log(&mut self, entry: LogEntry) {
        if level_rank(entry.level.mark()) >= self.log.level() {
            self.log.line(entry.t_ms, &entry.line);
        }
    }

    fn mark(&mut self, m: MarkEvent) {
        let replica = m
            .conn
            .and_then(|c| self.core.replica_clients().iter().position(|r| r.conn == c));
        self.marks.push_back(Mark {
            replica,
            kind: m.kind,
            t_ms: m.t_ms,
            cause: m.cause,
        });
        self.marks_total += 1;
        while self.marks.len() > 200 {
            self.marks.pop_front();
        }
    }
}
