//! What a master knows about each connection a peer opened to it (`client` in Redis), and
//! about the replicas among them.

use std::collections::VecDeque;

use super::super::payload::Payload;
use super::super::status::ReplicaState;

/// Any connection a peer opened to us.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub id: u64,
    /// `ip:port` of the peer.
    pub peer: String,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    /// Replies and, for a replica, the RDB (the stream itself is read from the store).
    pub out: VecDeque<Payload>,
    /// `CLIENT_CLOSE_AFTER_REPLY`.
    pub close_after_flush: bool,
    pub last_cmd: String,
    /// `REPLCONF listening-port`.
    pub listening_port: Option<u16>,
    /// `REPLCONF ip-address`.
    pub announced_ip: Option<String>,
    /// `REPLCONF capa eof`: can take a diskless (EOF-marked) RDB.
    pub capa_eof: bool,
    /// `REPLCONF capa psync2`: understands `+CONTINUE <replid>`.
    pub capa_psync2: bool,
    /// `REPLCONF capa dual-channel` (Valkey 8).
    pub capa_dual: bool,
    /// `REPLCONF rdb-only 1`: wants the RDB and no stream.
    pub rdb_only: bool,
    /// `REPLCONF rdb-channel 1`: the RDB connection of a dual-channel sync.
    pub rdb_channel: bool,
    /// Dual channel: the RDB-channel client id announced on the main channel.
    pub rdb_client_id: Option<u64>,
    /// `REPLCONF capa rdb-channel-repl` (Redis 8.2).
    pub capa_rdb_channel: bool,
    /// 8.2's RDB connection: `REPLCONF main-ch-client-id <id>`, the main connection's id.
    pub main_ch_client_id: Option<u64>,
    /// `repl_last_partial_write` (unixtime seconds): the last write to a diskless target that
    /// the socket took only part of; `None` once it took everything.
    pub last_partial_write_s: Option<u64>,
    pub replica: Option<ReplicaSide>,
    pub authenticated: bool,
}

impl Client {
    pub fn new(id: u64, peer: String, now: u64, authenticated: bool) -> Client {
        Client {
            id,
            peer,
            created_ms: now,
            last_interaction_ms: now,
            out: VecDeque::new(),
            close_after_flush: false,
            last_cmd: "NULL".into(),
            listening_port: None,
            announced_ip: None,
            capa_eof: false,
            capa_psync2: false,
            capa_dual: false,
            rdb_only: false,
            rdb_channel: false,
            rdb_client_id: None,
            capa_rdb_channel: false,
            main_ch_client_id: None,
            last_partial_write_s: None,
            replica: None,
            authenticated,
        }
    }

    /// The replica's address as its master names it: the announced IP, else the peer's.
    pub fn replica_ip(&self) -> String {
        match &self.announced_ip {
            Some(ip) => ip.clone(),
            None => self
                .peer
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or_else(|| self.peer.clone()),
        }
    }

    /// `slave_capa` as a bit set (EOF, PSYNC2): a new replica may join a running BGSAVE only
    /// if it has every capability of the replica already waiting for it.
    pub fn capa_bits(&self) -> u8 {
        (self.capa_eof as u8) | ((self.capa_psync2 as u8) << 1)
    }
}

/// What the master knows about a replica client.
#[derive(Clone, Debug)]
pub(crate) struct ReplicaSide {
    pub state: ReplicaState,
    /// The offset its full sync starts from (`+FULLRESYNC <replid> <offset>`).
    pub psync_initial_offset: i64,
    /// `repl_ack_off`.
    pub ack_off: i64,
    /// `repl_ack_time`, unixtime seconds, and its run-time twin for views.
    pub ack_time_s: u64,
    pub ack_time_ms: u64,
    /// Diskless: stream only after the first ACK (`repl_start_cmd_stream_on_ack`).
    pub start_stream_on_ack: bool,
    /// Came with `SYNC`: no `+FULLRESYNC`, never timed out (`CLIENT_PRE_PSYNC`).
    pub pre_psync: bool,
    /// `obuf_soft_limit_reached_time` (unixtime seconds) and its run-time twin for views.
    pub soft_since_s: Option<u64>,
    pub soft_since_ms: Option<u64>,
    /// The BGSAVE this replica waits for.
    pub bgsave_id: Option<u64>,
}

impl ReplicaSide {
    pub fn new(state: ReplicaState, psync_initial_offset: i64, ut: u64, now: u64) -> ReplicaSide {
        ReplicaSide {
            state,
            psync_initial_offset,
            ack_off: 0,
            ack_time_s: ut,
            ack_time_ms: now,
            start_stream_on_ack: false,
            pre_psync: false,
            soft_since_s: None,
            soft_since_ms: None,
            bgsave_id: None,
        }
    }
}
