//! Typed status the core exposes to its drivers and to whoever draws it: the replica link's
//! state, a replica client's state on its master, timeline marks. Each carries the exact word
//! Redis prints for it (`as_redis_str`), so ROLE, INFO and the views say what Redis says while
//! code compares enums, not strings.

use serde::{Deserialize, Serialize};

use super::ConnId;

/// This node's link to its master, as `ROLE` reports it (`roleCommand` folds
/// `server.repl_state` into these six words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkStatus {
    /// Not a replica (`REPL_STATE_NONE`).
    None,
    /// Must connect: the next `replicationCron` will (`REPL_STATE_CONNECT`).
    Connect,
    /// The TCP connection is being set up (`REPL_STATE_CONNECTING`).
    Connecting,
    /// PING, AUTH, REPLCONF, PSYNC, each waiting for its reply (`REPL_STATE_RECEIVE_*`).
    Handshake,
    /// Receiving or loading the RDB (`REPL_STATE_TRANSFER`).
    Sync,
    /// Streaming (`REPL_STATE_CONNECTED`): `master_link_status:up`.
    Connected,
}

impl LinkStatus {
    /// The word `ROLE` prints.
    pub fn as_redis_str(self) -> &'static str {
        match self {
            LinkStatus::None => "none",
            LinkStatus::Connect => "connect",
            LinkStatus::Connecting => "connecting",
            LinkStatus::Handshake => "handshake",
            LinkStatus::Sync => "sync",
            LinkStatus::Connected => "connected",
        }
    }
}

/// A replica client's state on its master (`slave->replstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplicaState {
    /// Waiting for a BGSAVE to start (`SLAVE_STATE_WAIT_BGSAVE_START`).
    WaitBgsaveStart,
    /// Its BGSAVE runs; the stream accumulates meanwhile (`SLAVE_STATE_WAIT_BGSAVE_END`).
    WaitBgsaveEnd,
    /// The RDB file is being sent (`SLAVE_STATE_SEND_BULK`).
    SendBulk,
    /// Streaming (`SLAVE_STATE_ONLINE`).
    Online,
    /// Redis 8.2: the main connection of an RDB-channel sync, streamed to from the fork on
    /// while the RDB travels on the other connection (`SLAVE_STATE_SEND_BULK_AND_STREAM`).
    SendBulkAndStream,
    /// Valkey: the main connection of a dual-channel sync, streamed to while the replica
    /// loads; online at its first ACK after the load (`REPLICA_STATE_BG_RDB_LOAD`).
    BgTransfer,
    /// A dual-channel RDB connection whose RDB was sent (`SLAVE_STATE_RDB_TRANSMITTED`):
    /// INFO does not list it.
    RdbTransmitted,
}

impl ReplicaState {
    /// The word `INFO replication` prints in `slaveN:...,state=<word>` (empty: not listed).
    pub fn as_redis_str(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
            ReplicaState::SendBulkAndStream => "send_bulk_and_stream",
            ReplicaState::BgTransfer => "bg_transfer",
            ReplicaState::RdbTransmitted => "",
        }
    }
}

/// A moment worth marking on a timeline (and jumping to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    FullSyncStart,
    FullSyncDone,
    PartialSyncAccepted,
    PartialSyncRefused,
    OutputBufferCutOff,
    Timeout,
    LinkCut,
    LinkRestored,
    ReplicaRestart,
    Promotion,
}

/// One replica client of a master, for drivers and views.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaClientInfo {
    pub conn: ConnId,
    pub client_id: u64,
    /// `ip:listening-port`, as Redis names replicas in logs.
    pub name: String,
    pub state: ReplicaState,
    pub ack_offset: i64,
    /// The output buffer as the limit measures it (`getClientOutputBufferMemoryUsage`).
    pub obuf_bytes: u64,
    /// Stream bytes queued for it and not yet taken by the driver.
    pub pending_bytes: u64,
    /// When the buffer went over the soft limit (the soft-limit timer), while it is.
    pub soft_limit_since_ms: Option<u64>,
    /// Whether the stream flows to it now (online, and for diskless after the first ACK).
    pub streaming: bool,
}

/// Where a BGSAVE writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BgsaveTarget {
    Disk,
    /// Diskless: the child's output goes to these replica connections.
    Sockets(Vec<ConnId>),
}

impl BgsaveTarget {
    /// How Redis logs the target (`Starting BGSAVE for SYNC with target: <word>`).
    pub fn as_redis_str(&self) -> &'static str {
        match self {
            BgsaveTarget::Disk => "disk",
            BgsaveTarget::Sockets(_) => "replicas sockets",
        }
    }
}

/// The running fork child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BgsaveInfo {
    pub id: u64,
    pub target: BgsaveTarget,
    pub started_ms: u64,
}

/// The replication backlog: the window `[first_byte_offset, first_byte_offset + histlen)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BacklogInfo {
    /// `repl-backlog-size`.
    pub size: u64,
    /// `repl_backlog_first_byte_offset`.
    pub first_byte_offset: i64,
    /// `repl_backlog_histlen` (may exceed `size` with 7.0's shared buffer).
    pub histlen: u64,
}

/// This node's side of its link to a master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub status: LinkStatus,
    /// The applied offset (`slave_repl_offset`), -1 without a master client.
    pub reploff: i64,
    /// While receiving the RDB: (`master_sync_total_bytes`, `master_sync_read_bytes`); the
    /// total is -1 before the `$<len>` header and 0 for an EOF-marked transfer.
    pub transfer: Option<(i64, u64)>,
    /// While loading: the size of the RDB being loaded.
    pub loading: Option<u64>,
    /// Bytes buffered locally during a dual-channel sync.
    pub local_buffer_bytes: u64,
}
