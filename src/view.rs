//! What the pictures are drawn from: plain, serialisable snapshots of replication state.
//!
//! The simulator (`sim`) and the native server's live feed (`server::live`) both produce these
//! types; the web app (`web`) only ever reads them. Keeping the contract here, free of any
//! rendering or driving code, lets each side change without touching the other, and lets a
//! snapshot travel over a WebSocket as JSON unchanged.
//!
//! They are built from the core's typed status in `view/from_core.rs`: the core itself knows
//! nothing of views.
//!
//! Times are milliseconds of the run (virtual time in the simulator, wall time since start in
//! the server). Offsets are Redis replication offsets (`master_repl_offset` space, 1-based
//! bytes, signed as in Redis).

use serde::{Deserialize, Serialize};

mod from_core;

/// The whole picture at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub t_ms: u64,
    pub master: MasterView,
    pub replicas: Vec<ReplicaView>,
}

/// The master as the backlog ring and the BGSAVE lane draw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MasterView {
    pub name: String,
    pub replid: String,
    pub replid2: String,
    pub master_repl_offset: i64,
    pub second_repl_offset: i64,
    /// `None` while no backlog exists (before the first replica, or after `repl-backlog-ttl`).
    pub backlog: Option<BacklogView>,
    /// A running BGSAVE (fork child), if any.
    pub bgsave: Option<BgsaveView>,
    /// Bytes of copy-on-write memory the running fork holds right now (0 without a child).
    pub cow_bytes: u64,
    /// Memory of the shared replication buffer (7.0 model: backlog plus what lagging replicas
    /// pin; 6.x model: backlog plus the sum of private buffers).
    pub repl_buffer_bytes: u64,
}

/// The replication backlog: a window `[first_byte_offset, first_byte_offset + histlen)` that
/// moves round a ring of `size` bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BacklogView {
    /// `repl-backlog-size`, the configured size.
    pub size: u64,
    /// `repl_backlog_first_byte_offset`.
    pub first_byte_offset: i64,
    /// `repl_backlog_histlen`; may exceed `size` in the 7.0 shared-buffer model.
    pub histlen: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BgsaveView {
    /// "disk" or "replicas sockets", as Redis logs the target.
    pub target: String,
    pub started_ms: u64,
    /// Fraction of the dataset written by the child so far, 0.0..=1.0.
    pub progress: f64,
}

/// One replica: its side of the link and the master's buffer for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplicaView {
    pub name: String,
    /// Replica side, as ROLE reports it: none, connect, connecting, handshake, sync, connected.
    pub link_state: String,
    /// Master side, as INFO reports it (`wait_bgsave`, `send_bulk`, `online`), or empty when the
    /// master has no client for this replica.
    pub master_side_state: String,
    /// The replica's applied offset (`slave_repl_offset`), or -1 with no master client.
    pub offset: i64,
    /// The last offset the master saw in a `REPLCONF ACK` from it.
    pub ack_offset: i64,
    /// The master's output buffer for this replica, measured as Redis measures it for the limit.
    pub obuf_bytes: u64,
    /// Limits in force (`client-output-buffer-limit replica`), after Redis's adjustments (7.0:
    /// hard limit floored at `repl-backlog-size`). 0 means disabled.
    pub hard_limit: u64,
    pub soft_limit: u64,
    pub soft_seconds: u64,
    /// When the buffer was first seen over the soft limit (the soft-limit timer), if it is now.
    pub soft_limit_since_ms: Option<u64>,
    /// RDB bytes still to receive during a transfer (`master_sync_left_bytes`), else 0.
    pub sync_left_bytes: i64,
    /// RDB bytes still to load, while loading.
    pub load_left_bytes: u64,
    /// Bytes the replica buffers locally during a dual-channel sync.
    pub local_buffer_bytes: u64,
}

/// What a timeline lane shows for one replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// Handshake and waiting for a BGSAVE to start (`wait_bgsave` before the fork).
    WaitBgsave,
    /// The fork child writes the RDB (disk target) or streams it (diskless).
    Bgsave,
    /// The RDB travels over the link.
    Transfer,
    /// The replica loads the RDB.
    Load,
    /// Online and streaming.
    Streaming,
    /// No link at all.
    Disconnected,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub replica: usize,
    pub kind: SpanKind,
    pub start_ms: u64,
    /// `None` while still open.
    pub end_ms: Option<u64>,
}

/// A moment worth marking on a timeline: the core's kinds.
pub use crate::core::MarkKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Index of the replica it concerns, or `None` for the master.
    pub replica: Option<usize>,
    pub kind: MarkKind,
    pub t_ms: u64,
    /// Why it happened, in words a student can follow (used by "why did this full sync
    /// happen?"), e.g. "offset 1234 is outside the backlog [5000, 9000]".
    pub cause: String,
}

/// One line of a node's log, already in Redis 7.0's format
/// (`pid:M 21 Nov 2026 10:00:00.123 * text`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub t_ms: u64,
    /// "master" or the replica's name.
    pub node: String,
    pub line: String,
}

/// A point of the buffer/backlog chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_ms: u64,
    pub backlog_histlen: u64,
    pub master_repl_offset: i64,
    pub obuf_bytes: Vec<u64>,
}
