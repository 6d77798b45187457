//! Redis 7.0 replication as sans-IO state machines.
//!
//! One [`Instance`] is one Redis node: a master, a replica, or both (a replica serving
//! sub-replicas). It owns no sockets, reads no clock and draws no OS randomness: the driver
//! (the simulator, the native server, the core's own test world) feeds it [`Input`]s stamped
//! with `now` (milliseconds of the run) and carries out the [`Output`]s it asks for.
//!
//! # Driving loop (the one rule: drain outputs after every call)
//!
//! ```text
//! let mut inst = Instance::new(params);
//! loop {
//!     // 1. something happened (bytes, a command, a connection, a child exit) or time passed
//!     inst.handle(now, input);          // or inst.handle_timeout(now) when poll_timeout() is due
//!     // 2. drain every output into the driver (see `Driver`: one method per kind)
//!     while let Some(out) = inst.poll_output() { out.dispatch(&mut driver) }
//!     // 3. move bytes: for every connection that is writable and has data in the core
//!     let chunks = inst.take_outgoing(now, conn, budget);   // then drain poll_output() again
//!     // 4. sleep until inst.poll_timeout() or the next input
//! }
//! ```
//!
//! What the driver must do with each output is the doc of its [`Driver`] method. Marks about
//! a replica seen from its master carry the master-side `conn` (`FullSyncStart`,
//! `PartialSyncAccepted`/`Refused`, `OutputBufferCutOff`, `Timeout`, `LinkCut`); marks a
//! replica emits about itself have `conn: None` (`FullSyncDone`, `PartialSyncAccepted`,
//! `LinkCut`, `LinkRestored`, `Timeout`, `Promotion`).
//!
//! Connection ids: the driver allocates ids for accepted connections (top bit clear); the core
//! allocates ids for connections it opens (top bit set, see [`ConnId::is_outbound`]).
//!
//! Commands: the driver parses client requests into argv and hands the replication ones to
//! the core as `Input::Command` (PING, AUTH, PSYNC, SYNC, REPLCONF, REPLICAOF/SLAVEOF, ROLE,
//! INFO, WAIT, CONFIG GET/SET); replies go into the connection's queue (take them with
//! `take_outgoing`). A driver answering other commands itself should push its replies through
//! [`Instance::queue_reply`], so that "SYNC and PSYNC are invalid with pending output" sees them.
//! Writes executed on a master come in as `Input::Propagate { db, payload }`; the core adds
//! `SELECT`, `PING` and `REPLCONF GETACK` itself.
//!
//! Replica side: the core opens the master link itself (`Output::Connect`), speaks the
//! handshake, and parses what arrives (`Input::Received`): reply lines and the RDB header are
//! real bytes even in a simulation; the RDB body and the stream may be `Payload::Phantom`.
//! A replica never answers its master except with `REPLCONF ACK`.
//!
//! # Inside
//!
//! An [`Instance`] is composed of parts that own their state (see `instance.rs`): the
//! context every part borrows (`ctx.rs`: config, clock, replication history, output queue),
//! a timer table ([`timers`]), the master side (`master/`: clients, replicas, the fork
//! child, WAIT, the [`store`] holding `master_repl_offset`, the backlog and every replica's
//! output buffer) and, while the node is a replica, its link (`replica/`: one state enum
//! whose variants carry their data). What they expose is typed ([`status`]); views and INFO
//! are built from it.
//!
//! Versions are variants, not flags ([`version`]): the buffer model (`replication-model 6|7`:
//! 6.x's ring plus private copies, 7.0's shared block list) and the full-sync mechanism
//! (classic, or Valkey 8's dual channel) are enums a node's config picks.
//!
//! Time: Redis's replication timers use a seconds clock (`server.unixtime`); the core derives
//! it as `(epoch_ms + now) / 1000`. `replicationCron` runs at 1 Hz and `clientsCron` at 10 Hz
//! on a grid set by the node's [`CronPhase`]; `poll_timeout` returns the next timer (or an
//! earlier WAIT deadline).
//!
//! Tests: `tests.rs` runs Redis's `replication-psync` cases and many more through `testkit.rs`
//! (test builds only), a zero-latency world of instances with an instant fake BGSAVE and load.

pub mod config;
pub mod ids;
pub mod log;
pub mod payload;
pub mod status;
pub mod store;
pub mod timers;
pub mod version;

mod commands;
mod ctx;
pub mod driver;
mod info;
mod instance;
mod master;
mod replica;
mod roles;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use config::{BufferLimit, Config, ConfigError, DisklessLoad};
pub use ctx::Stats;
pub use driver::{drain, Driver, RequestSplitter};
pub use instance::Instance;
pub use log::{format_log_line, Level};
pub use payload::Payload;
pub use status::{
    BacklogInfo, BgsaveInfo, BgsaveTarget, LinkInfo, LinkStatus, MarkKind, ReplicaClientInfo,
    ReplicaState,
};
pub use timers::CronPhase;
pub use version::{BufferModel, FullSync, Version};

/// An opaque connection handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl ConnId {
    /// Bit set on ids the core allocates for connections it opens.
    pub const OUTBOUND_BIT: u64 = 1 << 63;

    pub fn is_outbound(self) -> bool {
        self.0 & Self::OUTBOUND_BIT != 0
    }
}

/// How an instance starts.
#[derive(Clone, Debug)]
pub struct InstanceParams {
    /// Node name for views and marks ("master", "replica-1").
    pub name: String,
    /// Our own IP (for `laddr` in client info strings).
    pub ip: String,
    /// Process id printed in log lines; fork children get `pid + n`.
    pub pid: u32,
    /// Seed for replids and EOF marks.
    pub seed: u64,
    /// Wall-clock milliseconds since the Unix epoch at run time 0 (log dates, `unixtime`).
    pub epoch_ms: u64,
    /// Run time at which the instance boots.
    pub start_ms: u64,
    pub config: Config,
    /// Replication info found in the RDB loaded at boot (`repl-id`, `repl-offset`), if any.
    pub restored: Option<RestoredReplInfo>,
}

impl InstanceParams {
    pub fn new(name: &str, port: u16, seed: u64) -> Self {
        let config = Config {
            port,
            ..Config::default()
        };
        InstanceParams {
            name: name.to_string(),
            ip: "127.0.0.1".to_string(),
            pid: 1000 + port as u32,
            seed,
            epoch_ms: 1_795_219_200_000, // 21 Nov 2026 00:00:00 UTC
            start_ms: 0,
            config,
            restored: None,
        }
    }
}

/// `repl-id` / `repl-offset` aux fields of an RDB loaded at startup (`rdbPopulateSaveInfo`
/// wrote them; `loadDataFromDisk` resumes from them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoredReplInfo {
    pub replid: String,
    pub offset: i64,
}

/// The aux fields of an RDB that the loader logs (`redis-ver`, `ctime`, `used-mem`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdbAux {
    /// The version of the server that wrote it.
    pub redis_ver: Option<String>,
    /// When it was written (the fork child's `time(NULL)`), Unix seconds.
    pub ctime_s: Option<u64>,
    /// The writer's used memory then, bytes.
    pub used_mem: Option<u64>,
}

/// Everything that can happen to an instance.
#[derive(Clone, Debug)]
pub enum Input {
    /// A client connected to us; `peer` is `ip:port`.
    Accepted { conn: ConnId, peer: String },
    /// A parsed client command. An empty argv is a bare newline (what a loading replica sends).
    Command { conn: ConnId, argv: Vec<Vec<u8>> },
    /// Bytes arrived on a connection the core opened (the master link, the RDB channel).
    Received { conn: ConnId, payload: Payload },
    /// An outbound connection is established.
    Connected { conn: ConnId },
    /// An outbound connection could not be established.
    ConnectFailed { conn: ConnId, error: String },
    /// A connection (either direction) was closed by the peer or failed.
    Closed { conn: ConnId, error: String },
    /// A write command executed on this node, to feed to the replication stream.
    Propagate { db: u32, payload: Payload },
    /// Socket-target BGSAVE: RDB body bytes produced by child `id`.
    BgsaveData { id: u64, payload: Payload },
    /// Child `id` exited. `rdb` is the file for a disk target (ignored for sockets).
    BgsaveDone {
        id: u64,
        ok: bool,
        rdb: Payload,
        cow_bytes: u64,
    },
    /// Replica: the loader read the RDB's aux fields (`rdbLoadRio` logs them as it reads
    /// the header, at the start of the load: after `Output::LoadRdb`, or with diskless load
    /// after the first `Output::RdbData`). A driver that sends none gets them logged at
    /// `LoadDone`, aged from the start of the load.
    RdbLoading { aux: RdbAux },
    /// The RDB load requested by `Output::LoadRdb` finished.
    LoadDone { ok: bool, error: String, keys: u64 },
}

/// A log line.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub t_ms: u64,
    pub level: Level,
    /// `M`, `S` or `C`.
    pub role: char,
    pub pid: u32,
    pub text: String,
    /// The whole line in Redis's format.
    pub line: String,
}

/// A timeline event.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkEvent {
    pub t_ms: u64,
    pub kind: MarkKind,
    /// The replica connection it concerns (master side), `None` for this node itself.
    pub conn: Option<ConnId>,
    /// The replica's name (`ip:port`) when known.
    pub peer: Option<String>,
    pub cause: String,
}

/// Everything the driver must carry out.
#[derive(Clone, Debug)]
pub enum Output {
    DataReady {
        conn: ConnId,
    },
    Close {
        conn: ConnId,
    },
    Connect {
        conn: ConnId,
        host: String,
        port: u16,
    },
    SetReadable {
        conn: ConnId,
        readable: bool,
    },
    StartBgsave {
        id: u64,
        target: BgsaveTarget,
        child_pid: u32,
        offset: i64,
    },
    KillBgsave {
        id: u64,
    },
    /// Replica: an RDB transfer begins (its bulk header was read); `from_socket`: it is
    /// loaded as it arrives (diskless load), else once whole.
    RdbBegin {
        from_socket: bool,
    },
    /// Replica: RDB body bytes from the master (framing and EOF mark removed).
    RdbData {
        payload: Payload,
    },
    /// Replica: the RDB of `size` bytes is complete: flush, load, report `LoadDone`.
    LoadRdb {
        size: u64,
        eof_marked: bool,
    },
    /// Replica: execute a command of the master stream.
    Apply {
        argv: Vec<Vec<u8>>,
    },
    Log(LogEntry),
    Mark(MarkEvent),
}

/// What `ROLE` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Master {
        offset: i64,
        replicas: Vec<(String, u16, i64)>,
    },
    Replica {
        host: String,
        port: u16,
        state: String,
        offset: i64,
    },
}
