//! The engine: everything one Redis process holds in its main thread (keyspace, clients,
//! config, stats), behind one mutex, the way Redis runs commands one at a time.
//!
//! Connection tasks parse requests, lock the engine, run [`Engine::execute`] for each, and
//! take the bytes queued for their socket with [`Engine::take_outgoing`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::config::ServerConfig;
use super::keyspace::Keyspace;
use super::log::Logger;
use crate::wire::Reply;

/// One client connection as CLIENT LIST shows it.
#[derive(Clone, Debug)]
pub struct Client {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub name: String,
    pub db: usize,
    /// 2 or 3 (`HELLO 3`).
    pub proto: u8,
    pub authenticated: bool,
    /// Commands queued after MULTI.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A MULTI whose queued command was rejected: EXEC aborts.
    pub multi_error: bool,
    pub created_ms: u64,
    pub last_ms: u64,
    pub last_cmd: String,
    /// Wakes the connection task (bytes queued, or kill).
    pub notify: Arc<Notify>,
    pub killed: bool,
    pub close_after_flush: bool,
    /// `repl-bandwidth-limit` token bucket (bytes) and its last refill.
    pub bw_tokens: f64,
    pub bw_last: Instant,
}

/// INFO stats.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub expired_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub rejected_connections: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
}

/// The state of the last/current save.
#[derive(Clone, Debug, Default)]
pub struct SaveState {
    /// A BGSAVE child is running (its pid-like id).
    pub child: Option<u32>,
    pub child_started: Option<Instant>,
    pub child_target: String,
    pub lastsave_unix: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    pub last_cow_bytes: u64,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: u64,
    /// `dirty` when the running disk BGSAVE took its snapshot (`dirty_before_bgsave`): only
    /// the changes it saved are cleared when it succeeds.
    pub dirty_before_bgsave: u64,
    /// Successful saves (INFO `rdb_saves`) and children started (`total_forks`).
    pub rdb_saves: u64,
    pub total_forks: u64,
    pub next_child_pid: u32,
    /// Keys written so far by the running child, and its total, for progress views.
    pub progress: Option<(Arc<std::sync::atomic::AtomicU64>, u64)>,
}

/// What running a command asks the connection to do next.
#[derive(Debug)]
pub enum Flow {
    /// The reply has been queued (or there is none).
    Done,
    /// Send what is queued, then close (QUIT, protocol errors, CLIENT KILL of self).
    Close,
    /// DEBUG SLEEP: hold the server for this long (Redis blocks everything).
    Sleep(std::time::Duration),
}

pub struct Engine {
    pub cfg: ServerConfig,
    pub ks: Keyspace,
    pub clients: BTreeMap<u64, Client>,
    pub next_client_id: u64,
    pub stats: ServerStats,
    pub save: SaveState,
    pub log: Arc<Logger>,
    pub started: Instant,
    pub start_unix: u64,
    /// Loading an RDB (replies `-LOADING` to data commands).
    pub loading: bool,
    /// Database the master stream currently applies to (`SELECT` from the master).
    pub master_db: usize,
    /// Replication stream produced by writes, waiting to be handed to the replication core.
    pub pending_propagation: Vec<(u32, Vec<u8>)>,
    pub run_id: String,
    /// Work that needs the shared handle (threads, sockets), done after the lock is released.
    pub actions: Vec<Action>,
    /// Function libraries carried over from a loaded RDB (written back on save).
    pub functions: Vec<Vec<u8>>,
    /// The replication core.
    pub core: crate::core::Instance,
    /// Wall clock (unix ms) at run time 0, the core's `epoch_ms`.
    pub epoch_ms: u64,
    /// Connections the core opened.
    pub links: BTreeMap<crate::core::ConnId, super::repl::LinkHandle>,
    /// Running core BGSAVE children and their kill switches.
    pub children: BTreeMap<u64, Arc<std::sync::atomic::AtomicBool>>,
    /// RDB bytes received from our master, until the core says "load".
    pub rdb_recv: Vec<u8>,
    /// Timeline marks for the live view.
    pub marks: std::collections::VecDeque<crate::view::Mark>,
    /// Marks recorded since start (the live feed's cursor).
    pub marks_total: u64,
    /// Replies not yet handed to the core: (connection, bytes).
    pub reply_buf: (u64, Vec<u8>),
    /// Next shard the active expiry cycle looks at.
    pub expire_cursor: usize,
    /// Master-stream commands we could not apply, warned about once each.
    pub unsupported_warned: std::collections::BTreeSet<String>,
}

/// Work the engine asks its owner to start once the lock is released.
pub enum Action {
    /// A user BGSAVE to disk.
    Bgsave,
    Shutdown,
    /// Open a connection for the core (our master link).
    Connect {
        conn: crate::core::ConnId,
        host: String,
        port: u16,
    },
    /// Run a BGSAVE the core asked for (snapshot already taken).
    CoreBgsave(Box<super::repl::CoreBgsave>),
    /// Load an RDB received from our master.
    Load(Vec<u8>),
}

impl Engine {
    pub fn new(cfg: ServerConfig, log: Arc<Logger>) -> Result<Engine, String> {
        let databases = cfg.databases as usize;
        let epoch_ms = super::log::now_epoch_ms();
        let core = super::repl::make_instance(&cfg, cfg.port, epoch_ms, None)?;
        log.min_level.store(
            super::log::loglevel_rank(&cfg.loglevel),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(Engine {
            cfg,
            ks: Keyspace::new(databases),
            clients: BTreeMap::new(),
            next_client_id: 1,
            stats: ServerStats::default(),
            save: SaveState {
                last_bgsave_ok: true,
                last_bgsave_secs: -1,
                lastsave_unix: super::log::now_epoch_ms() / 1000,
                next_child_pid: std::process::id() + 1,
                ..Default::default()
            },
            log,
            started: Instant::now(),
            start_unix: super::log::now_epoch_ms() / 1000,
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
            marks: Default::default(),
            marks_total: 0,
            reply_buf: (0, Vec::new()),
            unsupported_warned: Default::default(),
            expire_cursor: 0,
        })
    }

    /// Milliseconds since the server started (the core's `now`).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Wall clock in unix ms (for expire times).
    pub fn unix_ms(&self) -> i64 {
        super::log::now_epoch_ms() as i64
    }

    pub fn role_char(&self) -> char {
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

    /// Registers a new connection and returns its id.
    pub fn add_client(&mut self, addr: String, laddr: String, notify: Arc<Notify>) -> u64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.total_connections_received += 1;
        let now = self.now_ms();
        self.clients.insert(
            id,
            Client {
                id,
                addr,
                laddr,
                name: String::new(),
                db: 0,
                proto: 2,
                authenticated: self.cfg.requirepass.is_none(),
                multi: None,
                multi_error: false,
                created_ms: now,
                last_ms: now,
                last_cmd: "NULL".into(),
                notify,
                killed: false,
                close_after_flush: false,
                bw_tokens: 0.0,
                bw_last: Instant::now(),
            },
        );
        let peer = self
            .clients
            .get(&id)
            .map(|c| c.addr.clone())
            .unwrap_or_default();
        self.core_handle(crate::core::Input::Accepted {
            conn: crate::core::ConnId(id),
            peer,
        });
        id
    }

    pub fn remove_client(&mut self, id: u64) {
        self.clients.remove(&id);
    }

    /// Queues a reply for a connection in its protocol. Replies are gathered per connection
    /// and handed to the core (which measures every client's output buffer) before the core
    /// sees any other input and before bytes are taken, so the order never changes.
    pub fn queue_reply(&mut self, conn: u64, reply: &Reply) {
        let Some(c) = self.clients.get(&conn) else {
            return;
        };
        let proto = c.proto;
        if self.reply_buf.0 != conn {
            self.flush_replies();
            self.reply_buf.0 = conn;
        }
        reply.encode(proto, &mut self.reply_buf.1);
    }

    /// Hands gathered replies to the core.
    pub fn flush_replies(&mut self) {
        if self.reply_buf.1.is_empty() {
            return;
        }
        let conn = self.reply_buf.0;
        let bytes = std::mem::take(&mut self.reply_buf.1);
        self.core.queue_reply(
            crate::core::ConnId(conn),
            crate::core::Payload::Bytes(bytes),
        );
    }

    /// Whether the connection must close (killed, or QUIT once flushed).
    pub fn should_close(&self, conn: u64) -> bool {
        match self.clients.get(&conn) {
            None => true,
            Some(c) => c.killed || (c.close_after_flush && self.pending_outgoing(conn) == 0),
        }
    }

    /// Records a write for the replication stream.
    pub fn propagate(&mut self, db: usize, argv: &[Vec<u8>]) {
        self.save.dirty += 1;
        self.pending_propagation
            .push((db as u32, crate::wire::encode_command(argv)));
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
