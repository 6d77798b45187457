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
    // The fields below draw the stage (the web app's picture of the system). A driver that
    // does not know them leaves them at their defaults, and the stage draws without them.
    /// Size of the dataset a BGSAVE writes, in bytes (0 = unknown).
    #[serde(default)]
    pub dataset_bytes: u64,
    /// Client writes arriving now, in commands per second and in bytes of replication stream
    /// per second (0 = none or unknown).
    #[serde(default)]
    pub write_ops_per_sec: f64,
    #[serde(default)]
    pub write_bytes_per_sec: u64,
    /// Where a full sync's RDB goes (`repl-diskless-sync`): "disk" or "socket"; empty when
    /// unknown.
    #[serde(default)]
    pub sync_target: String,
    /// `dual-channel-replication-enabled` (Valkey 8): the RDB travels on a second connection.
    #[serde(default)]
    pub dual_channel: bool,
    /// The master is inside `fork()` until then (run ms): it handles nothing meanwhile.
    #[serde(default)]
    pub frozen_until_ms: Option<u64>,
    /// The RDB file on the master's disk while a disk BGSAVE writes it or replicas are sent it.
    #[serde(default)]
    pub rdb_file: Option<RdbFileView>,
}

/// The RDB file a disk-target BGSAVE writes, then sends to each waiting replica.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RdbFileView {
    /// Bytes on disk so far.
    pub bytes: u64,
    /// The size it will have when complete.
    pub total: u64,
    /// The fork child is still writing it.
    pub writing: bool,
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
    /// RDB bytes the child has produced so far, of `total_bytes` (0 = unknown).
    #[serde(default)]
    pub written_bytes: u64,
    #[serde(default)]
    pub total_bytes: u64,
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
    // The fields below draw the stage; a driver that does not know them leaves the defaults.
    /// `offset` is the cached master's (`slave_repl_offset` of the lost link): the replica
    /// keeps it through an outage to ask `PSYNC <replid> <offset+1>` when it reconnects.
    #[serde(default)]
    pub offset_cached: bool,
    /// RDB bytes received so far in a transfer, of `sync_total_bytes` (0 total = unknown,
    /// e.g. a diskless transfer whose size is only known at its EOF mark).
    #[serde(default)]
    pub sync_received_bytes: u64,
    #[serde(default)]
    pub sync_total_bytes: u64,
    /// Size of the RDB being loaded (with `load_left_bytes`, the load progress).
    #[serde(default)]
    pub load_total_bytes: u64,
    /// Where the replica puts a received RDB (`repl-diskless-load`): "disk" (a temp file,
    /// loaded once complete) or "socket" (parsed as it arrives); empty when unknown.
    #[serde(default)]
    pub rdb_to: String,
    /// Master side, disk sync: bytes of the RDB file still to send (`send_bulk`).
    #[serde(default)]
    pub rdb_send_left_bytes: u64,
    /// Master side, dual channel: the state of the RDB connection (as `master_side_state`),
    /// or "handshake" before it asks to sync; empty without one.
    #[serde(default)]
    pub rdb_channel_state: String,
    /// The link between the master and this replica.
    #[serde(default)]
    pub link: LinkView,
}

/// One master–replica link: its capacity and what moves on it now, towards the replica.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    /// Bytes per second (0 = unknown).
    pub bandwidth: u64,
    pub latency_ms: u64,
    /// The link is cut until then (run ms).
    pub cut_until_ms: Option<u64>,
    /// Bytes sent but not yet arrived: RDB bytes and replication-stream bytes.
    pub rdb_in_flight: u64,
    pub stream_in_flight: u64,
    /// Bytes per second leaving the master now: RDB and replication stream.
    pub rdb_rate: u64,
    pub stream_rate: u64,
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
