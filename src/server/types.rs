//! Plain types the server's layers pass to each other. A leaf: it uses nothing of the server
//! but the keyspace's snapshot type and the RDB writer's options.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::keyspace::Snapshot;
use super::rdbfile::SaveOpts;
use crate::core::ConnId;
use crate::wire::Reply;

/// A command's arguments, the name first.
pub type Args = [Vec<u8>];

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
    /// The last command run (its full name, `client|list`), `NULL` before any.
    pub last_cmd: &'static str,
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
    pub progress: Option<(Arc<AtomicU64>, u64)>,
}

/// What running a command asks the connection to do next.
#[derive(Debug, PartialEq)]
pub enum Flow {
    /// The reply has been queued (or there is none).
    Done,
    /// Send what is queued, then close (QUIT, protocol errors, CLIENT KILL of self).
    Close,
    /// Close at once, dropping what is queued (`freeClientAsync` after a cross-protocol
    /// attack: nothing more is read or answered).
    Drop,
    /// DEBUG SLEEP: hold the server for this long (Redis blocks everything).
    Sleep(Duration),
}

/// Who runs a command: a client connection, or our master's replication stream.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub conn: Option<u64>,
    pub db: usize,
}

impl Ctx {
    pub fn from_master(&self) -> bool {
        self.conn.is_none()
    }
}

/// What a command produced.
pub enum Out {
    R(Reply),
    /// A reply that is the same bytes in RESP2 and RESP3 (`+OK`), queued without building a
    /// [`Reply`].
    Static(&'static [u8]),
    /// A string value sent as a bulk reply straight from the keyspace's copy (GET).
    Bulk(Arc<crate::rdb::Value>),
    /// No reply (the command queued its own, or none is due).
    Silent,
    Flow(Flow),
}

impl From<Reply> for Out {
    fn from(r: Reply) -> Out {
        Out::R(r)
    }
}

/// Work that needs the shared handle (threads, sockets), started once the lock is released.
pub enum Action {
    /// A user BGSAVE to disk, its snapshot already taken.
    Bgsave(Box<BgsaveJob>),
    Shutdown,
    /// Open a connection for the core (our master link).
    Connect {
        conn: ConnId,
        host: String,
        port: u16,
    },
    /// Load an RDB received from our master.
    Load(Vec<u8>),
    /// Load an RDB while it arrives from our master (diskless load): its chunks come on
    /// `chunks`, which closes when the transfer is whole (or void). `gen` names the transfer.
    LoadStream {
        gen: u64,
        chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    },
}

/// A fork child's work: write `snap` as an RDB to disk, or to the replicas' sockets.
pub struct BgsaveJob {
    /// The core's id for its children; `None` for a user BGSAVE.
    pub core_id: Option<u64>,
    pub pid: u32,
    pub disk: bool,
    pub snap: Snapshot,
    pub opts: SaveOpts,
    /// Set when the child is killed (SIGUSR1 in Redis): its writer fails from then on.
    pub kill: Arc<AtomicBool>,
    pub progress: Arc<AtomicU64>,
}

/// A connection the core opened (our master link).
pub struct LinkHandle {
    pub notify: Arc<Notify>,
    pub readable: bool,
    /// The core closed it (do not report `Closed`).
    pub closed_by_core: bool,
    /// CLIENT KILL TYPE master: drop the socket and report it as lost.
    pub kill: bool,
}
