//! The engine: everything one Redis process holds in its main thread (keyspace, clients,
//! config, stats, the replication core), and the only owner of that state. Its fields are
//! private; the layers above (commands, the core seam, the dispatcher, the driver, the
//! sockets) change it through the methods here, grouped by concern:
//!
//! - this file: clients, replies, the propagation queue, logging, time;
//! - [`keys`]: the keyspace as commands see it (lookups with lazy expiry, writes, expiry);
//! - [`persist`]: RDB files (SAVE, the startup load, what a BGSAVE child is given);
//! - [`core_side`]: what the replication core says (queries) and carrying out its outputs.
//!
//! One `Engine` lives behind one mutex (see `driver::Shared`); commands run one at a time
//! under it, the way Redis runs them on its event loop.

mod core_side;
mod keys;
mod persist;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::config::ServerConfig;
use super::keyspace::Keyspace;
use super::log::{now_epoch_ms, Logger};
use super::types::{Action, Client, LinkHandle, SaveState, ServerStats};
use crate::core::{ConnId, Input, Instance, Payload};
use crate::view::Mark;
use crate::wire::Reply;

/// Runs a command of our master's stream ([`crate::core::Driver::apply`]). The command table
/// is a layer above the engine, so the engine is given this function when it is built.
pub type ApplyFn = fn(&mut Engine, &[Vec<u8>]);

pub struct Engine {
    cfg: ServerConfig,
    apply_from_master: ApplyFn,
    ks: Keyspace,
    clients: BTreeMap<u64, Client>,
    next_client_id: u64,
    stats: ServerStats,
    save: SaveState,
    log: Arc<Logger>,
    started: Instant,
    /// Loading an RDB (replies `-LOADING` to commands without the `loading` flag).
    loading: bool,
    /// Database the master stream currently applies to (`SELECT` from the master).
    master_db: usize,
    /// Replication stream produced by writes, waiting to be handed to the replication core.
    pending_propagation: Vec<(u32, Vec<u8>)>,
    run_id: String,
    /// Work that needs the shared handle (threads, sockets), done after the lock is released.
    actions: Vec<Action>,
    /// Function libraries carried over from a loaded RDB (written back on save).
    functions: Vec<Vec<u8>>,
    /// The replication core.
    core: Instance,
    /// Wall clock (unix ms) at run time 0, the core's `epoch_ms`.
    epoch_ms: u64,
    /// Connections the core opened.
    links: BTreeMap<ConnId, LinkHandle>,
    /// Running core BGSAVE children and their kill switches.
    children: BTreeMap<u64, Arc<std::sync::atomic::AtomicBool>>,
    /// RDB bytes received from our master, until the core says "load".
    rdb_recv: Vec<u8>,
    /// A diskless load's loader thread, fed as the RDB arrives (dropped: the transfer ended).
    rdb_stream: Option<std::sync::mpsc::Sender<Vec<u8>>>,
    /// The current transfer: a loader's result for an earlier, aborted one is ignored.
    load_gen: u64,
    /// Timeline marks for the live view, and how many were recorded since start.
    marks: VecDeque<Mark>,
    marks_total: u64,
    /// Replies not yet handed to the core: (connection, bytes).
    reply_buf: (u64, Vec<u8>),
    /// Next shard the active expiry cycle looks at.
    expire_cursor: usize,
    /// Master-stream commands we could not apply, warned about once each.
    unsupported_warned: BTreeSet<String>,
    /// When the last "Possible SECURITY ATTACK" line was logged (at most one a minute).
    last_security_warning: Option<Instant>,
    /// `now_ms` when the current connection turn began (Redis's cached `mstime`).
    turn_ms: u64,
}

impl Engine {
    /// A new engine. The replication core is built again by [`Engine::init_core`] once the
    /// port is bound and the RDB loaded (it needs both).
    pub fn new(
        cfg: ServerConfig,
        log: Arc<Logger>,
        apply_from_master: ApplyFn,
    ) -> Result<Engine, String> {
        let databases = cfg.databases as usize;
        let epoch_ms = now_epoch_ms();
        let core = core_side::make_instance(&cfg, cfg.port, epoch_ms, None)?;
        log.set_level(&cfg.loglevel);
        Ok(Engine {
            cfg,
            apply_from_master,
            ks: Keyspace::new(databases),
            clients: BTreeMap::new(),
            next_client_id: 1,
            stats: ServerStats::default(),
            save: SaveState {
                last_bgsave_ok: true,
                last_bgsave_secs: -1,
                lastsave_unix: epoch_ms / 1000,
                next_child_pid: std::process::id() + 1,
                ..Default::default()
            },
            log,
            started: Instant::now(),
            loading: false,
            master_db: 0,
            pending_propagation: Vec::new(),
            run_id: random_hex40(),
            actions: Vec::new(),
            functions: Vec::new(),
            core,
            epoch_ms,
            links: BTreeMap::new(),
            children: BTreeMap::new(),
            rdb_recv: Vec::new(),
            rdb_stream: None,
            load_gen: 0,
            marks: VecDeque::new(),
            marks_total: 0,
            reply_buf: (0, Vec::new()),
            unsupported_warned: BTreeSet::new(),
            expire_cursor: 0,
            last_security_warning: None,
            turn_ms: 0,
        })
    }

    // ---- configuration, time, logging, stats -------------------------------------------

    pub fn cfg(&self) -> &ServerConfig {
        &self.cfg
    }

    /// Replaces the server options (CONFIG SET has validated them) and applies the log level.
    pub fn set_cfg(&mut self, cfg: ServerConfig) {
        self.log.set_level(&cfg.loglevel);
        self.cfg = cfg;
    }

    /// Milliseconds since the server started (the core's `now`).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Starts a connection's turn: commands in it share one reading of the clock.
    pub fn begin_turn(&mut self) {
        self.turn_ms = self.now_ms();
    }

    /// The clock at the start of the current turn.
    pub fn turn_ms(&self) -> u64 {
        self.turn_ms
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Wall clock in unix ms (for expire times).
    pub fn unix_ms(&self) -> i64 {
        now_epoch_ms() as i64
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn logger(&self) -> &Arc<Logger> {
        &self.log
    }

    fn role_char(&self) -> char {
        if self.core.is_replica() {
            'S'
        } else {
            'M'
        }
    }

    /// Logs at notice level (`*`).
    pub fn notice(&self, text: &str) {
        self.log.log(self.now_ms(), self.role_char(), '*', text);
    }

    /// Logs at warning level (`#`).
    pub fn warning(&self, text: &str) {
        self.log.log(self.now_ms(), self.role_char(), '#', text);
    }

    /// Logs at debug level (`.`).
    pub fn debug(&self, text: &str) {
        self.log.log(self.now_ms(), self.role_char(), '.', text);
    }

    /// securityWarningCommand's log line, at most once a minute.
    pub fn security_warning(&mut self) {
        if self
            .last_security_warning
            .is_some_and(|t| t.elapsed().as_secs() <= 60)
        {
            return;
        }
        self.last_security_warning = Some(Instant::now());
        self.warning("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.");
    }

    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    pub fn stats_mut(&mut self) -> &mut ServerStats {
        &mut self.stats
    }

    pub fn save_state(&self) -> &SaveState {
        &self.save
    }

    pub fn is_loading(&self) -> bool {
        self.loading
    }

    /// Work for the driver to start once the lock is released.
    pub fn push_action(&mut self, a: Action) {
        self.actions.push(a);
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    // ---- clients ------------------------------------------------------------------------

    /// Registers a new connection, tells the core, and returns its id.
    pub fn add_client(&mut self, addr: String, laddr: String, notify: Arc<Notify>) -> u64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.total_connections_received += 1;
        let now = self.now_ms();
        self.clients.insert(
            id,
            Client {
                id,
                addr: addr.clone(),
                laddr,
                name: String::new(),
                db: 0,
                proto: 2,
                authenticated: self.cfg.requirepass.is_none(),
                multi: None,
                multi_error: false,
                created_ms: now,
                last_ms: now,
                last_cmd: "NULL",
                notify,
                killed: false,
                close_after_flush: false,
                bw_tokens: 0.0,
                bw_last: Instant::now(),
            },
        );
        self.core_input(Input::Accepted {
            conn: ConnId(id),
            peer: addr,
        });
        id
    }

    pub fn remove_client(&mut self, id: u64) {
        if self.reply_buf.0 == id {
            self.flush_replies();
            self.reply_buf.0 = 0;
        }
        self.clients.remove(&id);
    }

    pub fn client(&self, id: u64) -> Option<&Client> {
        self.clients.get(&id)
    }

    pub fn client_mut(&mut self, id: u64) -> Option<&mut Client> {
        self.clients.get_mut(&id)
    }

    pub fn clients(&self) -> impl Iterator<Item = &Client> {
        self.clients.values()
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Closes a client connection (its task sees `killed` and drops the socket).
    pub fn kill_client(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.killed = true;
            c.notify.notify_one();
        }
    }

    /// Sends what is queued, then closes (QUIT, protocol errors).
    pub fn close_after_reply(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.close_after_flush = true;
        }
    }

    /// Whether the connection must close (killed, or QUIT once flushed).
    pub fn should_close(&self, conn: u64) -> bool {
        match self.clients.get(&conn) {
            None => true,
            Some(c) => c.killed || (c.close_after_flush && self.pending_outgoing(conn) == 0),
        }
    }

    // ---- replies --------------------------------------------------------------------------

    /// Queues a reply for a connection in its protocol. Replies are gathered per connection
    /// and handed to the core (which measures every client's output buffer) before the core
    /// sees any other input and before bytes are taken, so the order never changes.
    pub fn queue_reply(&mut self, conn: u64, reply: &Reply) {
        let Some(proto) = self.clients.get(&conn).map(|c| c.proto) else {
            return;
        };
        self.select_reply_buf(conn);
        reply.encode(proto, &mut self.reply_buf.1);
    }

    /// Queues already-encoded bytes (the same in RESP2 and RESP3).
    pub fn queue_raw(&mut self, conn: u64, bytes: &[u8]) {
        if self.select_reply_buf(conn) {
            self.reply_buf.1.extend_from_slice(bytes);
        }
    }

    /// Queues a bulk string reply, encoded straight from the value (no copy of it first).
    pub fn queue_bulk(&mut self, conn: u64, bytes: &[u8]) {
        if self.select_reply_buf(conn) {
            let out = &mut self.reply_buf.1;
            out.push(b'$');
            crate::wire::request::push_decimal(out, bytes.len() as u64);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Points the reply buffer at `conn` (handing another connection's replies over first);
    /// false if the connection is gone.
    fn select_reply_buf(&mut self, conn: u64) -> bool {
        // The buffer's connection exists (remove_client hands its replies over first);
        // ids start at 1, 0 is nobody.
        if self.reply_buf.0 == conn && conn != 0 {
            return true;
        }
        if !self.clients.contains_key(&conn) {
            return false;
        }
        self.flush_replies();
        self.reply_buf.0 = conn;
        true
    }

    /// Hands gathered replies to the core.
    pub fn flush_replies(&mut self) {
        if self.reply_buf.1.is_empty() {
            return;
        }
        let conn = self.reply_buf.0;
        // The next replies start in a buffer of the size the last ones needed, rather than
        // growing one by doubling each time.
        let room = self.reply_buf.1.len().clamp(64, 16 * 1024);
        let bytes = std::mem::replace(&mut self.reply_buf.1, Vec::with_capacity(room));
        self.core.queue_reply(ConnId(conn), Payload::Bytes(bytes));
    }

    /// Bytes waiting for a connection (in the core, and gathered but not handed over yet).
    pub fn pending_outgoing(&self, conn: u64) -> u64 {
        let unflushed = if self.reply_buf.0 == conn {
            self.reply_buf.1.len() as u64
        } else {
            0
        };
        self.core.outgoing_len(ConnId(conn)) + unflushed
    }

    // ---- propagation -----------------------------------------------------------------------

    /// Records a write for the replication stream. Consecutive writes to one db share a
    /// buffer: the stream bytes are the same, and the core is entered once per batch.
    pub fn propagate(&mut self, db: usize, argv: &[Vec<u8>]) {
        self.save.dirty += 1;
        let db = db as u32;
        match self.pending_propagation.last_mut() {
            Some((d, buf)) if *d == db => crate::wire::request::encode_command_into(argv, buf),
            _ => {
                let mut buf = Vec::with_capacity(4096);
                crate::wire::request::encode_command_into(argv, &mut buf);
                self.pending_propagation.push((db, buf));
            }
        }
    }

    /// Where the propagation queue ends now (EXEC wraps what comes after it).
    pub fn propagation_mark(&self) -> (usize, usize) {
        let n = self.pending_propagation.len();
        let last = self.pending_propagation.last().map_or(0, |(_, b)| b.len());
        (n, last)
    }

    /// Wraps the writes recorded since `mark` in MULTI ... EXEC (execCommand), if any.
    pub fn wrap_propagation_in_multi(&mut self, (n, last): (usize, usize)) {
        let multi = crate::wire::encode_command(&["MULTI"]);
        let exec = crate::wire::encode_command(&["EXEC"]);
        // The first write after the mark: inside the entry that was last, or a new one.
        let (idx, at) = match self.pending_propagation.get(n.wrapping_sub(1)) {
            Some((_, b)) if b.len() > last => (n - 1, last),
            _ if self.pending_propagation.len() > n => (n, 0),
            _ => return,
        };
        self.pending_propagation[idx].1.splice(at..at, multi);
        if let Some((_, b)) = self.pending_propagation.last_mut() {
            b.extend_from_slice(&exec);
        }
    }

    /// Hands the writes executed since the last call to the core, in order. Returns whether
    /// the core was given anything (then its outputs must be drained).
    pub fn hand_writes_to_core(&mut self) -> bool {
        if self.pending_propagation.is_empty() {
            return false;
        }
        let writes = std::mem::take(&mut self.pending_propagation);
        if self.core.is_replica() {
            // A writable replica does not feed its own writes to sub-replicas.
            return false;
        }
        // Stamped with the core's own clock, so that no timer runs before them: they were
        // applied to the keyspace before any timer due since, as Redis runs a command before
        // the next `serverCron`. With the current time, a cron due meanwhile ran first and
        // could fork (a diskless BGSAVE after its delay): the snapshot, taken when its output
        // is carried out, held these writes, and the stream after its offset held them again.
        let at = self.core.now();
        for (db, buf) in writes {
            self.core.handle(
                at,
                Input::Propagate {
                    db,
                    payload: Payload::Bytes(buf),
                },
            );
        }
        true
    }

    /// Feeds the core one input. Writes already applied to the keyspace and replies already
    /// produced reach the core first, so a snapshot taken on its request matches its offset
    /// and replies keep their order. The caller drains the outputs (`seam::pump`).
    pub fn core_input(&mut self, input: Input) {
        self.hand_writes_to_core();
        self.flush_replies();
        let now = self.now_ms();
        self.core.handle(now, input);
    }

    /// The core's timers are due.
    pub fn core_timeout(&mut self) {
        self.hand_writes_to_core();
        let now = self.now_ms();
        self.core.handle_timeout(now);
    }

    /// Milliseconds until the core's next timer (at most 100).
    pub fn core_wait_ms(&self) -> u64 {
        let now = self.now_ms();
        let next = self.core.poll_timeout().unwrap_or(now + 100);
        next.saturating_sub(now).clamp(1, 100)
    }

    /// Takes up to `max` bytes the core holds for a connection (replies or stream). The
    /// caller drains the outputs afterwards.
    pub fn core_take_outgoing(&mut self, conn: ConnId, max: usize) -> Vec<u8> {
        self.hand_writes_to_core();
        self.flush_replies();
        let now = self.now_ms();
        let chunks = self.core.take_outgoing(now, conn, max as u64);
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

    /// A replica with no `repl-bandwidth-limit`: written until the kernel refuses more.
    pub fn writes_until_refused(&self, id: u64) -> bool {
        self.cfg.repl_bandwidth_limit == 0 && self.is_replica_client(id)
    }

    /// `repl-bandwidth-limit`: bytes a connection may write now (a token bucket for
    /// replicas).
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

    // ---- the live view's timeline marks ---------------------------------------------------

    /// Marks after the `seen`-th one ever recorded, and the total so far.
    pub fn marks_since(&self, seen: u64) -> (Vec<Mark>, u64) {
        let skip_from = self.marks_total.saturating_sub(self.marks.len() as u64);
        let marks = self
            .marks
            .iter()
            .enumerate()
            .filter(|(i, _)| skip_from + *i as u64 >= seen)
            .map(|(_, m)| m.clone())
            .collect();
        (marks, self.marks_total)
    }
}

/// 40 random lowercase hex characters (run ids).
pub fn random_hex40() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}
