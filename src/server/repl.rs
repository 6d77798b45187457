//! The seam between the server and the replication core ([`crate::core::Instance`]).
//!
//! The core decides everything about replication (PSYNC, backlog, output-buffer limits, the
//! handshake, the stream, ACKs, timeouts, logs); this file carries out what it asks with real
//! sockets, threads and the real keyspace, following the driving loop documented in
//! `core/mod.rs`: after every input, drain `poll_output` ([`Engine::pump`]).
//!
//! Client connections are core connections `ConnId(client id)`; every reply goes through the
//! core's queue so it can measure output buffers exactly as Redis does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::commands::{Ctx, Out};
use super::engine::{Action, Engine, Flow};
use super::keyspace::Snapshot;
use super::net::{after_batch, Shared};
use super::persist::{load_rdb, write_snapshot, SaveOpts};
use crate::core::{
    BgsaveTarget, Config as CoreConfig, ConnId, Input, Instance, InstanceParams, Output, Payload,
    RestoredReplInfo,
};
use crate::view::{Frame, Mark, ReplicaView};

/// A connection the core opened (our master link).
pub struct LinkHandle {
    pub notify: Arc<Notify>,
    pub readable: bool,
    /// The core closed it (do not report `Closed`).
    pub closed_by_core: bool,
    /// CLIENT KILL TYPE master: drop the socket and report it as lost.
    pub kill: bool,
}

/// Builds the core from the server's configuration.
pub fn make_instance(
    cfg: &super::config::ServerConfig,
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

/// Starts the task that runs the core's timers.
pub fn start_core_drivers(sh: &Shared) {
    let sh = sh.clone();
    tokio::spawn(async move {
        loop {
            let wait = {
                let e = sh.lock();
                let next = e.core.poll_timeout().unwrap_or(e.now_ms() + 100);
                next.saturating_sub(e.now_ms()).clamp(1, 100)
            };
            tokio::select! {
                _ = sh.shutdown.notified() => return,
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
            {
                let mut e = sh.lock();
                e.flush_propagation();
                let now = e.now_ms();
                e.core.handle_timeout(now);
                e.pump();
            }
            after_batch(&sh);
        }
    });
}

fn payload_bytes(chunks: Vec<Payload>) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        if let Payload::Bytes(b) = c {
            if out.is_empty() {
                out = b;
            } else {
                out.extend_from_slice(&b);
            }
        }
    }
    out
}

impl Engine {
    pub fn init_core(
        &mut self,
        port: u16,
        restored: Option<RestoredReplInfo>,
    ) -> Result<(), String> {
        self.core = make_instance(&self.cfg, port, self.epoch_ms, restored)?;
        self.core_handle(Input::Tick);
        Ok(())
    }

    /// Feeds the core one input and carries out what it asks.
    pub fn core_handle(&mut self, input: Input) {
        // Writes already applied to the keyspace reach the core before anything else it sees,
        // so a snapshot taken on its request always matches its offset.
        self.flush_propagation();
        self.flush_replies();
        let now = self.now_ms();
        self.core.handle(now, input);
        self.pump();
    }

    /// Drains the core's outputs (the one rule of the driving loop).
    pub fn pump(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::DataReady { conn } => self.wake(conn),
                Output::Close { conn } => {
                    if let Some(c) = self.clients.get_mut(&conn.0) {
                        c.killed = true;
                        c.notify.notify_one();
                    } else if let Some(l) = self.links.get_mut(&conn) {
                        l.closed_by_core = true;
                        l.notify.notify_one();
                    }
                }
                Output::Connect { conn, host, port } => {
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
                Output::SetReadable { conn, readable } => {
                    if let Some(l) = self.links.get_mut(&conn) {
                        l.readable = readable;
                        l.notify.notify_one();
                    }
                }
                Output::StartBgsave {
                    id,
                    target,
                    child_pid,
                    offset,
                } => {
                    // The snapshot is taken now, at the offset the core recorded, so the RDB
                    // plus the stream after `offset` is exactly the dataset (fork semantics).
                    let snap = self.ks.snapshot();
                    let mut opts = self.save_opts(true);
                    opts.aux = self.aux_fields(Some((0, self.core.replid().to_string(), offset)));
                    let kill = Arc::new(AtomicBool::new(false));
                    self.children.insert(id, kill.clone());
                    let total = snap.keys();
                    let progress = Arc::new(AtomicU64::new(0));
                    self.save.child = Some(child_pid);
                    self.save.child_started = Some(Instant::now());
                    self.save.child_target = match &target {
                        BgsaveTarget::Disk => "disk".into(),
                        BgsaveTarget::Sockets(_) => "replicas sockets".into(),
                    };
                    self.save.progress = Some((progress.clone(), total));
                    self.save.total_forks += 1;
                    if matches!(target, BgsaveTarget::Disk) {
                        self.save.dirty_before_bgsave = self.save.dirty;
                    }
                    self.actions.push(Action::CoreBgsave(Box::new(CoreBgsave {
                        id,
                        pid: child_pid,
                        disk: matches!(target, BgsaveTarget::Disk),
                        snap,
                        opts,
                        kill,
                        progress,
                    })));
                }
                Output::KillBgsave { id } => {
                    if let Some(k) = self.children.remove(&id) {
                        k.store(true, Ordering::Relaxed);
                    }
                    self.clear_child_state();
                }
                Output::RdbData { payload } => {
                    if let Payload::Bytes(b) = payload {
                        self.rdb_recv.extend_from_slice(&b);
                    }
                }
                Output::LoadRdb { .. } => {
                    let data = std::mem::take(&mut self.rdb_recv);
                    self.loading = true;
                    self.actions.push(Action::Load(data));
                }
                Output::Apply { argv } => self.apply_from_master(&argv),
                Output::Log(entry) => {
                    let rank = super::log::level_rank(entry.level.mark());
                    if rank >= self.log.min_level.load(Ordering::Relaxed) {
                        self.log.line(entry.t_ms, &entry.line);
                    }
                }
                Output::Mark(m) => {
                    let replica = m
                        .conn
                        .and_then(|c| self.core.replica_clients().iter().position(|r| r.conn == c));
                    self.marks.push_back(Mark {
                        replica,
                        kind: m.kind,
                        t_ms: m.t_ms,
                        cause: m.cause,
                    });
                    while self.marks.len() > 200 {
                        self.marks.pop_front();
                    }
                }
            }
        }
    }

    fn wake(&self, conn: ConnId) {
        if let Some(c) = self.clients.get(&conn.0) {
            c.notify.notify_one();
        } else if let Some(l) = self.links.get(&conn) {
            l.notify.notify_one();
        }
    }

    fn clear_child_state(&mut self) {
        self.save.child = None;
        self.save.child_started = None;
        self.save.progress = None;
    }

    pub fn replica_read_only(&self) -> bool {
        self.core.config().replica_read_only
    }

    pub fn requirepass(&self) -> Option<String> {
        self.cfg.requirepass.clone()
    }

    /// Authentication is the server's; the core's clients are always authenticated.
    pub fn auth_to_core(&mut self, _conn: u64, _argv: &[Vec<u8>]) {}

    pub fn core_config_matching(&self, pat: &str) -> Vec<(String, String)> {
        self.core
            .config()
            .get_matching(pat)
            .into_iter()
            .filter(|(k, _)| k != "requirepass" && k != "port")
            .collect()
    }

    pub fn core_config_set(&mut self, name: &str, value: &str) -> Result<(), String> {
        if name == "requirepass" {
            return Ok(());
        }
        let r = self.core.config_set(name, value).map_err(|e| e.to_string());
        self.pump();
        r
    }

    pub fn config_get_one(&self, name: &str) -> Option<String> {
        self.cfg.get(name)
    }

    /// CLIENT LIST `flags` and `omem` (for replicas: the bytes the limit measures).
    pub fn client_flags_and_omem(&self, id: u64) -> (String, u64) {
        let conn = ConnId(id);
        match self
            .core
            .replica_clients()
            .into_iter()
            .find(|r| r.conn == conn)
        {
            Some(r) => ("S".into(), r.obuf_bytes),
            None => ("N".into(), self.core.outgoing_len(conn)),
        }
    }

    pub fn is_replica_client(&self, id: u64) -> bool {
        self.core
            .replica_clients()
            .iter()
            .any(|r| r.conn == ConnId(id))
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

    pub fn run_replication_command(&mut self, ctx: &mut Ctx, _name: &str, a: &[Vec<u8>]) -> Out {
        let Some(conn) = ctx.conn else {
            return Out::Silent;
        };
        self.core_handle(Input::Command {
            conn: ConnId(conn),
            argv: a.to_vec(),
        });
        Out::Core
    }

    pub fn repl_info_for_rdb(&self) -> Option<(u32, String, i64)> {
        Some((
            0,
            self.core.replid().to_string(),
            self.core.master_repl_offset(),
        ))
    }

    pub fn core_save_param(&self) -> String {
        self.core.config().save.clone()
    }

    pub fn repl_buffer_bytes(&self) -> u64 {
        self.core.repl_buffer_mem()
    }

    pub fn replica_obuf_total(&self) -> u64 {
        self.core
            .replica_clients()
            .iter()
            .map(|r| r.obuf_bytes)
            .sum()
    }

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

    pub fn info_replication(&self) -> String {
        let text = self.core.info_replication(self.now_ms());
        text.strip_prefix("# Replication\r\n")
            .unwrap_or(&text)
            .to_string()
    }

    pub fn cron(&mut self) {
        self.check_save_points();
    }

    /// `save <seconds> <changes>` points (serverCron): BGSAVE when enough changes are old
    /// enough.
    fn check_save_points(&mut self) {
        if self.save.child.is_some()
            || self.save.dirty == 0
            || self.actions.iter().any(|a| matches!(a, Action::Bgsave))
        {
            return;
        }
        let params: Vec<u64> = self
            .core
            .config()
            .save
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let elapsed = (super::log::now_epoch_ms() / 1000).saturating_sub(self.save.lastsave_unix);
        for pair in params.chunks(2) {
            if let [secs, changes] = pair {
                if self.save.dirty >= *changes && elapsed >= *secs {
                    self.notice(&format!("{changes} changes in {secs} seconds. Saving..."));
                    self.actions.push(Action::Bgsave);
                    return;
                }
            }
        }
    }

    /// Hands writes executed since the last call to the core, in order.
    pub fn flush_propagation(&mut self) {
        if self.pending_propagation.is_empty() {
            return;
        }
        let writes = std::mem::take(&mut self.pending_propagation);
        if self.core.is_replica() {
            // A writable replica does not feed its own writes to sub-replicas.
            return;
        }
        // Consecutive writes to the same db travel as one payload: the stream bytes are the
        // same, and the core is entered once per batch instead of once per command.
        let now = self.now_ms();
        let mut run: Option<(u32, Vec<u8>)> = None;
        for (db, bytes) in writes {
            match run.as_mut() {
                Some((d, buf)) if *d == db => buf.extend_from_slice(&bytes),
                _ => {
                    if let Some((d, buf)) = run.take() {
                        self.core.handle(
                            now,
                            Input::Propagate {
                                db: d,
                                payload: Payload::Bytes(buf),
                            },
                        );
                    }
                    run = Some((db, bytes));
                }
            }
        }
        if let Some((d, buf)) = run {
            self.core.handle(
                now,
                Input::Propagate {
                    db: d,
                    payload: Payload::Bytes(buf),
                },
            );
        }
        self.pump();
    }

    /// A disk BGSAVE thread ended. For the core's, the file goes to the waiting replicas.
    pub fn bgsave_finished(
        &mut self,
        core_id: Option<u64>,
        ok: bool,
        path: &std::path::Path,
        cow: u64,
    ) {
        let Some(id) = core_id else { return };
        if self.children.remove(&id).is_none() {
            return; // killed: the core already handled its death
        }
        let rdb = if ok { std::fs::read(path).ok() } else { None };
        let ok = rdb.is_some();
        self.core_handle(Input::BgsaveDone {
            id,
            ok,
            rdb: Payload::Bytes(rdb.unwrap_or_default()),
            cow_bytes: cow,
        });
    }

    /// Bytes a connection may write now: the `repl-bandwidth-limit` token bucket for replicas.
    pub fn write_budget(&mut self, id: u64) -> usize {
        let cap = self.cfg.repl_bandwidth_limit;
        if cap == 0 || !self.is_replica_client(id) {
            // What is taken here waits in the socket write, where the output buffer limit no
            // longer sees it: take at most 64 KiB at a time (Redis's NET_MAX_WRITES_PER_EVENT),
            // so a slow replica's bytes stay counted in `omem` as they are in Redis.
            return 64 * 1024;
        }
        let Some(c) = self.clients.get_mut(&id) else {
            return 0;
        };
        let now = Instant::now();
        let elapsed = now.duration_since(c.bw_last).as_secs_f64();
        c.bw_last = now;
        // Burst of at most 1/10 s of bandwidth, like a link with a small queue.
        c.bw_tokens = (c.bw_tokens + elapsed * cap as f64).min(cap as f64 / 10.0 + 16384.0);
        c.bw_tokens.max(0.0) as usize
    }

    pub fn charge_budget(&mut self, id: u64, n: usize) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.bw_tokens -= n as f64;
        }
    }

    pub fn empty_line(&mut self, id: u64) {
        self.core_handle(Input::Command {
            conn: ConnId(id),
            argv: Vec::new(),
        });
    }

    /// Runs a client command. Its writes are handed to the core at the end of the batch (or
    /// before the core's next input), see [`Engine::flush_propagation`].
    pub fn execute_client(&mut self, id: u64, argv: Vec<Vec<u8>>) -> Flow {
        self.execute(id, argv)
    }

    pub fn client_closed(&mut self, id: u64) {
        self.remove_client(id);
        self.core_handle(Input::Closed {
            conn: ConnId(id),
            error: "connection closed by peer".into(),
        });
    }

    /// Takes what the core holds for a client, up to `max` bytes.
    pub fn take_outgoing(&mut self, conn: u64, max: usize) -> Vec<u8> {
        self.flush_propagation();
        self.flush_replies();
        let now = self.now_ms();
        let chunks = self.core.take_outgoing(now, ConnId(conn), max as u64);
        self.pump();
        payload_bytes(chunks)
    }

    pub fn pending_outgoing(&self, conn: u64) -> u64 {
        let unflushed = if self.reply_buf.0 == conn {
            self.reply_buf.1.len() as u64
        } else {
            0
        };
        self.core.outgoing_len(ConnId(conn)) + unflushed
    }

    /// A snapshot for the web app's pictures.
    pub fn view_frame(&self) -> Frame {
        let mut master = self.core.master_view();
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
            self.core.fill_master_side(r.conn, &mut v);
            // A remote replica's applied offset is only known through its ACKs.
            v.offset = v.ack_offset;
            replicas.push(v);
        }
        if self.core.is_replica() {
            // This server is itself a replica: show its side of the link too.
            replicas.push(self.core.replica_view());
        }
        Frame {
            t_ms: self.now_ms(),
            master,
            replicas,
        }
    }
}

/// A BGSAVE the core asked for.
pub struct CoreBgsave {
    pub id: u64,
    pub pid: u32,
    pub disk: bool,
    pub snap: Snapshot,
    pub opts: SaveOpts,
    pub kill: Arc<AtomicBool>,
    pub progress: Arc<AtomicU64>,
}

/// Runs a core BGSAVE on a thread (the fork child).
pub fn run_core_bgsave(sh: &Shared, job: CoreBgsave) {
    if job.disk {
        super::net::run_disk_bgsave(
            sh,
            Some(job.id),
            job.pid,
            job.snap,
            job.opts,
            job.kill,
            job.progress,
        );
        return;
    }
    let sh = sh.clone();
    std::thread::spawn(move || {
        let sink = SocketSink {
            sh: sh.clone(),
            id: job.id,
            buf: Vec::with_capacity(CHUNK),
            kill: job.kill.clone(),
        };
        let res = write_snapshot(&job.snap, sink, &job.opts, &job.progress);
        let cow = job.snap.cow.get();
        let mut e = sh.lock();
        if e.children.remove(&job.id).is_some() {
            e.clear_child_state();
            e.save.last_cow_bytes = cow;
            e.core_handle(Input::BgsaveDone {
                id: job.id,
                ok: res.is_ok(),
                rdb: Payload::Bytes(Vec::new()),
                cow_bytes: cow,
            });
        }
        drop(e);
        after_batch(&sh);
    });
}

/// Redis's RDB pipe reads 16 KiB at a time.
const CHUNK: usize = 16 * 1024;
/// Pause the child while a target still has this much RDB queued (Redis stops reading the
/// pipe until the slowest replica drains).
const MAX_QUEUED_RDB: u64 = 4 * CHUNK as u64;

/// The diskless "pipe": RDB bytes go to the core in chunks, paced by the slowest target.
struct SocketSink {
    sh: Shared,
    id: u64,
    buf: Vec<u8>,
    kill: Arc<AtomicBool>,
}

impl SocketSink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        loop {
            if self.kill.load(Ordering::Relaxed) {
                return Err(std::io::Error::other("killed by the master"));
            }
            let queued = self.sh.lock().core.bgsave_backlog_bytes();
            if queued < MAX_QUEUED_RDB {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let data = std::mem::take(&mut self.buf);
        {
            let mut e = self.sh.lock();
            e.core_handle(Input::BgsaveData {
                id: self.id,
                payload: Payload::Bytes(data),
            });
        }
        after_batch(&self.sh);
        Ok(())
    }
}

impl std::io::Write for SocketSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.kill.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("killed by the master"));
        }
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Loads an RDB received from our master on a thread, then reports to the core. The old
/// dataset is kept until the new one loaded completely.
pub fn run_load(sh: &Shared, data: Vec<u8>) {
    let sh = sh.clone();
    std::thread::spawn(move || {
        let (databases, delay, now) = {
            let e = sh.lock();
            (e.cfg.databases, e.cfg.key_load_delay, e.unix_ms())
        };
        let res = load_rdb(&data, databases, delay, false, now);
        let mut e = sh.lock();
        e.loading = false;
        match res {
            Ok(l) => {
                if e.core.config().repl_diskless_load == crate::core::DisklessLoad::Disabled {
                    // Disk load (the 7.0 default): the received file becomes our dump.rdb.
                    let path = e.rdb_path();
                    let tmp = path.with_file_name(format!(
                        "temp-{}.{}.rdb",
                        std::process::id(),
                        e.now_ms()
                    ));
                    if let Err(err) =
                        std::fs::write(&tmp, &data).and_then(|_| std::fs::rename(&tmp, &path))
                    {
                        let _ = std::fs::remove_file(&tmp);
                        e.warning(&format!(
                            "Failed saving the RDB received from the master to {}: {err}",
                            path.display()
                        ));
                    }
                }
                let keys = l.keys_loaded;
                e.ks = l.ks;
                e.functions = l.info.functions.clone();
                e.master_db = l
                    .info
                    .aux_str("repl-stream-db")
                    .and_then(|s| s.parse().ok())
                    .filter(|&d: &usize| d < e.ks.dbs.len())
                    .unwrap_or(0);
                e.core_handle(Input::LoadDone {
                    ok: true,
                    error: String::new(),
                    keys,
                });
            }
            Err(err) => {
                e.warning(&format!(
                    "The RDB received from the master is unusable ({err}); the old dataset is kept"
                ));
                e.core_handle(Input::LoadDone {
                    ok: false,
                    error: err.to_string(),
                    keys: 0,
                });
            }
        }
        drop(e);
        after_batch(&sh);
    });
}

/// Our connection to a master (opened because the core asked for it).
pub async fn run_link(sh: Shared, conn: ConnId, host: String, port: u16) {
    let notify = match sh.lock().links.get(&conn) {
        Some(l) => l.notify.clone(),
        None => return,
    };
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    let stream = match connect {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return link_failed(&sh, conn, e.to_string()),
        Err(_) => return link_failed(&sh, conn, "connection timed out".into()),
    };
    let _ = stream.set_nodelay(true);
    sh.lock().core_handle(Input::Connected { conn });
    after_batch(&sh);
    let (mut rd, mut wr) = stream.into_split();
    let mut chunk = vec![0u8; 64 * 1024];
    let error = 'link: loop {
        loop {
            let (out, closed, kill) = {
                let mut e = sh.lock();
                e.flush_propagation();
                let now = e.now_ms();
                let out = payload_bytes(e.core.take_outgoing(now, conn, 1 << 20));
                e.pump();
                let l = e.links.get(&conn);
                (
                    out,
                    l.is_none_or(|l| l.closed_by_core),
                    l.is_some_and(|l| l.kill),
                )
            };
            if closed {
                sh.lock().links.remove(&conn);
                return;
            }
            if kill {
                break 'link "killed by CLIENT KILL TYPE master".to_string();
            }
            if out.is_empty() {
                break;
            }
            if let Err(e) = wr.write_all(&out).await {
                break 'link e.to_string();
            }
        }
        let readable = sh.lock().links.get(&conn).is_some_and(|l| l.readable);
        tokio::select! {
            r = rd.read(&mut chunk), if readable => match r {
                Ok(0) => break 'link "connection lost".to_string(),
                Err(e) => break 'link e.to_string(),
                Ok(n) => {
                    {
                        let mut e = sh.lock();
                        e.core_handle(Input::Received { conn, payload: Payload::Bytes(chunk[..n].to_vec()) });
                    }
                    after_batch(&sh);
                }
            },
            _ = notify.notified() => {}
            _ = sh.shutdown.notified() => return,
        }
    };
    {
        let mut e = sh.lock();
        e.links.remove(&conn);
        e.core_handle(Input::Closed { conn, error });
    }
    after_batch(&sh);
}

fn link_failed(sh: &Shared, conn: ConnId, error: String) {
    {
        let mut e = sh.lock();
        e.links.remove(&conn);
        e.core_handle(Input::ConnectFailed { conn, error });
    }
    after_batch(sh);
}
