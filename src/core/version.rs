//! What differs between the Redis and Valkey versions a node can play, as variants a version
//! picks. A new version adds variants here; the compiler then lists every `match` that must
//! say what the new variant does, instead of a flag tested in scattered `if`s.
//!
//! Today: Redis 6.x and 7.0 differ in how the master buffers the stream (`replication-model
//! 6|7`, ours: Redis has no such switch), and Valkey 8 carries a full sync's RDB on a second
//! connection (`dual-channel-replication-enabled`). Redis 8.2's RDB channel (with
//! `replica-full-sync-buffer-limit`) would be another [`FullSync`] variant.

/// How a master keeps the replication stream for its backlog and its replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferModel {
    /// Redis 6.x: a fixed ring backlog plus a private copy of the stream in each replica's
    /// output buffer.
    V6,
    /// Redis 7.0: one shared list of blocks referenced by the backlog and every replica
    /// (`repl_buffer_blocks`); a lagging replica pins old blocks and the backlog grows.
    V7,
}

impl BufferModel {
    /// The child's copy-on-write report at the end of a BGSAVE.
    pub fn cow_log_text(self, mb: u64) -> String {
        match self {
            BufferModel::V7 => {
                format!("Fork CoW for RDB: current {mb} MB, peak {mb} MB, average {mb} MB")
            }
            BufferModel::V6 => format!("RDB: {mb} MB of memory used by copy-on-write"),
        }
    }

    /// Whether a non-zero replica hard limit is raised to `repl-backlog-size`. 7.0 does it
    /// (redis.conf: a replica limit below the backlog size is ignored, since a replica must at
    /// least hold what a partial resync may send at once); 6.x applies the limit as given.
    pub fn floors_hard_limit_at_backlog(self) -> bool {
        matches!(self, BufferModel::V7)
    }

    /// The value `replication-model` prints.
    pub fn as_config_str(self) -> &'static str {
        match self {
            BufferModel::V6 => "6",
            BufferModel::V7 => "7",
        }
    }
}

/// How a full sync carries the RDB, and where the stream written meanwhile waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullSync {
    /// One connection: the RDB (from disk or streamed), then the stream the master buffered
    /// for the replica meanwhile (its output buffer, under `client-output-buffer-limit`).
    Classic,
    /// Valkey 8 dual channel: the RDB travels on its own connection while the main one PSYNCs
    /// at the RDB's end offset and the *replica* buffers the stream locally.
    DualChannel,
}

/// The version a node plays: one choice per behaviour that differs between versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub buffers: BufferModel,
    pub full_sync: FullSync,
}
