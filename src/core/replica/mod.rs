//! A node's link to its master (present only while the node is a replica): connecting, the
//! handshake, receiving and loading the RDB, applying and relaying the stream, ACKs,
//! timeouts, and Valkey's dual-channel sync.
//!
//! The link's state is one enum whose variants carry their own data (`server.repl_state`
//! plus what Redis keeps beside it for that state), so what exists in a state is exactly
//! what the state needs:
//!
//! ```text
//!            cron           connected      +FULLRESYNC / SYNC      RDB complete     loaded
//! Connect ─────────► Connecting ───► Handshake ──────────────► Receiving ─────► Loading ──┐
//!    ▲                                    │ +CONTINUE                                      │
//!    │ failure, timeout                   ├──────────────────────────────────────► Online ◄┘
//!    └──────────── (any state) ◄───────── │ +DUALCHANNELSYNC                         ▲
//!                                         └──────► DualChannel (RDB on a 2nd conn) ──┘
//! ```
//!
//! * `handshake.rs`: PING, AUTH, REPLCONF, PSYNC and its reply (`syncWithMaster`,
//!   `slaveTryPartialResynchronization`).
//! * `transfer.rs`: reading the RDB (`readSyncBulkPayload`) and loading it.
//! * `stream.rs`: applying the stream, offsets, relaying, ACKs, losing the link.
//! * `dual.rs`: the dual-channel sync.

mod dual;
mod handshake;
mod stream;
mod transfer;

use std::collections::{BTreeMap, VecDeque};

use super::ctx::Ctx;
use super::log::Level;
use super::master::MasterSide;
use super::payload::{push_merged, take_front, total_len, Payload};
use super::status::{LinkInfo, LinkStatus, MarkKind};
use super::{ConnId, Output};
use crate::wire::encode_command;

use dual::Dual;
use handshake::Handshake;
use stream::MasterClient;
pub(super) use transfer::use_diskless_load;
use transfer::{Loading, Receiving};

/// `server.cached_master`: what lets a replica ask for a partial resync after its link
/// broke (or, synthesised from its own history, after it was a master).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CachedMaster {
    pub replid: String,
    pub reploff: i64,
}

/// See the module comment.
#[derive(Clone, Debug)]
enum LinkState {
    /// `REPL_STATE_CONNECT`: the next `replicationCron` connects.
    Connect,
    /// `REPL_STATE_CONNECTING`.
    Connecting { conn: ConnId },
    /// `REPL_STATE_RECEIVE_*_REPLY`: each handshake step waits for its reply.
    Handshake(Handshake),
    /// `REPL_STATE_TRANSFER`, reading the RDB.
    Receiving(Receiving),
    /// `REPL_STATE_TRANSFER`, loading the RDB: the load blocks the event loop, so the link
    /// is not read meanwhile (the master keeps buffering).
    Loading(Loading),
    /// `REPL_STATE_TRANSFER` of a Valkey dual-channel sync: the RDB on its own connection,
    /// the stream buffered locally from the main one.
    DualChannel(Box<Dual>),
    /// `REPL_STATE_CONNECTED`, with `server.master`.
    Online(MasterClient),
}

/// Bytes queued for the driver on the link's connections.
#[derive(Clone, Debug, Default)]
struct LinkOut {
    queues: BTreeMap<ConnId, VecDeque<Payload>>,
}

impl LinkOut {
    fn send(&mut self, ctx: &mut Ctx, conn: ConnId, bytes: Vec<u8>) {
        push_merged(self.queues.entry(conn).or_default(), Payload::Bytes(bytes));
        ctx.data_ready(conn);
    }

    fn send_cmd(&mut self, ctx: &mut Ctx, conn: ConnId, args: &[&[u8]]) {
        self.send(ctx, conn, encode_command(args));
    }

    /// Drop what is queued for `conn`; `close`: tell the driver to close it.
    fn forget(&mut self, ctx: &mut Ctx, conn: ConnId, close: bool) {
        self.queues.remove(&conn);
        if close {
            ctx.emit(Output::Close { conn });
        }
    }
}

/// See the module comment.
#[derive(Clone, Debug)]
pub(crate) struct ReplicaLink {
    /// `replicaof <host> <port>`.
    master: (String, u16),
    state: LinkState,
    out: LinkOut,
    /// `repl_transfer_lastio`: the last time the master sent anything on the link.
    lastio_ms: u64,
    cached: Option<CachedMaster>,
    /// `repl_down_since`; `None` = never had a link (or reset by a promotion).
    down_since_ms: Option<u64>,
    /// The most a second-channel sync buffered locally (8.2's
    /// `replica_full_sync_buffer_peak`, Valkey's `replicas_repl_buffer_peak`).
    pub local_buffer_peak: u64,
}

impl ReplicaLink {
    /// A replica of `host:port` that will connect on its next cron.
    pub fn new(host: String, port: u16, cached: Option<CachedMaster>) -> ReplicaLink {
        ReplicaLink {
            master: (host, port),
            state: LinkState::Connect,
            out: LinkOut::default(),
            lastio_ms: 0,
            cached,
            down_since_ms: None,
            local_buffer_peak: 0,
        }
    }

    pub fn master_addr(&self) -> (&str, u16) {
        (&self.master.0, self.master.1)
    }

    // ------------------------------------------------------------------ connections

    /// The main connection to the master, while there is one.
    pub fn main_conn(&self) -> Option<ConnId> {
        match &self.state {
            LinkState::Connect => None,
            LinkState::Connecting { conn } => Some(*conn),
            LinkState::Handshake(h) => Some(h.conn),
            LinkState::Receiving(r) => Some(r.conn),
            LinkState::Loading(l) => Some(l.conn),
            LinkState::DualChannel(d) => Some(d.main),
            LinkState::Online(mc) => Some(mc.conn),
        }
    }

    /// The connection the RDB arrives on while one does: the main one in a classic sync,
    /// the second channel in a dual-channel or RDB-channel sync.
    pub fn rdb_conn(&self) -> Option<ConnId> {
        match &self.state {
            LinkState::Receiving(r) => Some(r.conn),
            LinkState::DualChannel(d) if !d.rdb_done() => Some(d.rdb_conn),
            _ => None,
        }
    }

    /// Whether `conn` is one of the link's connections.
    pub fn owns(&self, conn: ConnId) -> bool {
        self.main_conn() == Some(conn)
            || matches!(&self.state, LinkState::DualChannel(d) if d.rdb_conn == conn)
    }

    /// Whether bytes for `conn` are the link's business.
    pub fn handles(&self, conn: ConnId) -> bool {
        self.out.queues.contains_key(&conn) || self.owns(conn)
    }

    pub fn take_outgoing(&mut self, conn: ConnId, max: u64) -> Vec<Payload> {
        match self.out.queues.get_mut(&conn) {
            Some(q) => take_front(q, max),
            None => Vec::new(),
        }
    }

    pub fn outgoing_len(&self, conn: ConnId) -> u64 {
        self.out.queues.get(&conn).map_or(0, total_len)
    }

    pub fn out_conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.out.queues.keys().copied()
    }

    /// `connectWithMaster`.
    fn connect_with_master(&mut self, ctx: &mut Ctx) {
        let conn = ctx.alloc_outbound();
        self.state = LinkState::Connecting { conn };
        self.lastio_ms = ctx.now();
        let (host, port) = self.master.clone();
        ctx.emit(Output::Connect { conn, host, port });
        ctx.log_r(Level::Notice, "MASTER <-> REPLICA sync started");
    }

    /// Connect now (`REPLICAOF` does not wait for the cron).
    pub fn connect_now(&mut self, ctx: &mut Ctx) {
        let (h, p) = self.master.clone();
        ctx.log_r(Level::Notice, format!("Connecting to MASTER {h}:{p}"));
        self.connect_with_master(ctx);
    }

    /// Close every connection of the current state and go back to `Connect`.
    /// `already_closed`: a connection the peer closed (no `Output::Close` for it).
    fn abort(&mut self, ctx: &mut Ctx, already_closed: Option<ConnId>) {
        let rdb_conn = match &self.state {
            LinkState::DualChannel(d) => Some(d.rdb_conn),
            _ => None,
        };
        for c in self.main_conn().into_iter().chain(rdb_conn) {
            self.out.forget(ctx, c, Some(c) != already_closed);
        }
        self.state = LinkState::Connect;
    }

    /// `cancelReplicationHandshake`: abort a connect, handshake or transfer in progress
    /// (returns whether there was one) and, with `reconnect`, start again at once.
    fn cancel_handshake(
        &mut self,
        ctx: &mut Ctx,
        reconnect: bool,
        already_closed: Option<ConnId>,
    ) -> bool {
        if matches!(self.state, LinkState::Connect | LinkState::Online(_)) {
            return false;
        }
        self.abort(ctx, already_closed);
        if reconnect {
            let (h, p) = self.master.clone();
            ctx.log_r(
                Level::Notice,
                format!("Reconnecting to MASTER {h}:{p} after failure"),
            );
            self.connect_with_master(ctx);
        }
        true
    }

    /// The handshake's `error:` path: close, state `Connect`, the next cron retries.
    fn handshake_error(&mut self, ctx: &mut Ctx) {
        self.abort(ctx, None);
    }

    pub fn on_connected(&mut self, ctx: &mut Ctx, conn: ConnId) {
        if matches!(&self.state, LinkState::DualChannel(d) if d.rdb_conn == conn) {
            self.dual_rdb_connected(ctx);
            return;
        }
        if !matches!(self.state, LinkState::Connecting { conn: c } if c == conn) {
            return;
        }
        ctx.log_r(
            Level::Notice,
            "Non blocking connect for SYNC fired the event.",
        );
        self.lastio_ms = ctx.now();
        self.out.send_cmd(ctx, conn, &[b"PING"]);
        self.state = LinkState::Handshake(Handshake::new(conn));
    }

    pub fn on_connect_failed(&mut self, ctx: &mut Ctx, conn: ConnId, error: &str) {
        if !self.owns(conn) {
            return;
        }
        ctx.log_r(
            Level::Warning,
            format!("Error condition on socket for SYNC: {error}"),
        );
        self.handshake_error(ctx);
    }

    /// Bytes from the master on one of the link's connections.
    pub fn on_received(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        conn: ConnId,
        p: Payload,
    ) {
        if !self.owns(conn) {
            return;
        }
        ctx.stats.total_net_repl_input_bytes += p.len();
        self.lastio_ms = ctx.now();
        match &mut self.state {
            LinkState::Online(mc) => {
                mc.last_interaction_ms = ctx.now();
                self.stream_in(ctx, master, p);
            }
            LinkState::DualChannel(d) if d.rdb_conn == conn => {
                self.dual_rdb_received(ctx, master, p)
            }
            // Dual channel: the main channel is read into the local buffer even while the
            // RDB loads (that is the point of the design).
            LinkState::DualChannel(_) => self.dual_main_received(ctx, master, p),
            // Nobody reads the socket while the RDB loads: what arrives waits.
            LinkState::Loading(l) => push_merged(&mut l.pending, p),
            LinkState::Receiving(_) => self.transfer_received(ctx, master, p),
            LinkState::Handshake(h) => match p {
                Payload::Bytes(b) => {
                    h.inbuf.extend_from_slice(&b);
                    self.process_handshake(ctx, master);
                }
                Payload::Phantom(_) => {
                    ctx.log_r(
                        Level::Warning,
                        "Bad protocol from MASTER during the handshake",
                    );
                    self.handshake_error(ctx);
                }
            },
            LinkState::Connect | LinkState::Connecting { .. } => {}
        }
    }

    /// One of the link's connections closed.
    pub fn on_closed(&mut self, ctx: &mut Ctx, conn: ConnId, error: &str) {
        let what = if error.is_empty() {
            "connection lost".to_string()
        } else {
            error.to_string()
        };
        if let LinkState::DualChannel(d) = &self.state {
            if d.rdb_conn == conn {
                if d.rdb_done() {
                    return; // its job was done
                }
                ctx.log_r(
                    Level::Warning,
                    format!("I/O error trying to sync with MASTER: {what}"),
                );
                self.cancel_handshake(ctx, true, None);
                return;
            }
        }
        self.out.queues.remove(&conn);
        match &mut self.state {
            LinkState::Online(_) => self.master_link_lost(ctx, false),
            // Not noticed until the load ends: nobody reads the socket meanwhile.
            LinkState::Loading(l) => l.clock.main_closed = true,
            LinkState::DualChannel(d) if d.load.is_some() => {
                if let Some(l) = d.load.as_mut() {
                    l.main_closed = true;
                }
            }
            LinkState::Receiving(transfer::Receiving {
                parser: Some(p), ..
            }) => {
                // The loader's read fails: the load, not the transfer, reports it.
                let swapdb = p.swapdb;
                self.parser_load_failed(ctx, &what, Some(conn), swapdb);
            }
            LinkState::Receiving(_) | LinkState::DualChannel(_) => {
                let header = matches!(&self.state, LinkState::Receiving(r) if r.rdb.header_seen());
                if header {
                    ctx.log_r(
                        Level::Warning,
                        format!("I/O error trying to sync with MASTER: {what}"),
                    );
                } else {
                    // The line reader reports errno, which is 0 on a clean close: Redis then
                    // prints strerror(0), "Success" (observed in the COB full-sync loop).
                    let clean = error.is_empty()
                        || error.eq_ignore_ascii_case("connection lost")
                        || error.eq_ignore_ascii_case("eof");
                    let errno_text = if clean { "Success".to_string() } else { what };
                    ctx.log_r(
                        Level::Warning,
                        format!("I/O error reading bulk count from MASTER: {errno_text}"),
                    );
                }
                self.cancel_handshake(ctx, true, Some(conn));
            }
            LinkState::Connecting { .. } => {
                ctx.log_r(
                    Level::Warning,
                    format!("Error condition on socket for SYNC: {error}"),
                );
                self.abort(ctx, Some(conn));
            }
            LinkState::Handshake(h) => {
                if h.waits_for_psync_reply() {
                    ctx.log_r(
                        Level::Warning,
                        "Master did not reply to PSYNC, will try later",
                    );
                } else {
                    ctx.log_r(
                        Level::Warning,
                        "Master did not respond to command during SYNC handshake",
                    );
                }
                self.abort(ctx, Some(conn));
            }
            LinkState::Connect => {}
        }
    }

    // ------------------------------------------------------------------ REPLICAOF

    /// The node stops following its current master, whose client is cached so a PSYNC to
    /// the next one may continue (`replicationSetMaster` on a replica).
    pub fn retarget(&mut self, ctx: &mut Ctx, host: &str, port: u16) {
        if let Some(mc) = self.take_master_client() {
            ctx.log_r(
                ctx.config.version.wording().link_lost_level,
                "Connection with master lost.",
            );
            self.out.forget(ctx, mc.conn, true);
            self.cache(ctx, mc);
            self.down_since_ms = Some(ctx.now());
        }
        self.master = (host.to_string(), port);
        self.cancel_handshake(ctx, false, None);
    }

    /// `REPLICAOF NO ONE`: the link goes (`replicationUnsetMaster`). The master client is
    /// cached and at once discarded, as Redis does (a master has no cached master).
    pub fn close_for_promotion(&mut self, ctx: &mut Ctx) {
        if let Some(mc) = self.take_master_client() {
            ctx.log_r(
                ctx.config.version.wording().link_lost_level,
                "Connection with master lost.",
            );
            let conn = mc.conn;
            self.cache(ctx, mc);
            self.out.forget(ctx, conn, true);
        }
        if self.cached.take().is_some() {
            ctx.log_r(Level::Notice, "Discarding previously cached master state.");
        }
        self.cancel_handshake(ctx, false, None);
    }

    // ------------------------------------------------------------------ cron

    /// Whether an RDB load blocks the node now (then no cron runs but the loading
    /// callback's keepalive).
    pub fn is_loading(&self) -> bool {
        match &self.state {
            LinkState::Loading(_) => true,
            LinkState::Receiving(r) => r.parser.is_some(),
            LinkState::DualChannel(d) => {
                (d.load.is_some() || d.loads_from_socket()) && !d.loaded_early()
            }
            _ => false,
        }
    }

    /// The replication ID and offset the RDB being loaded carries (its `repl-id` and
    /// `repl-offset` aux fields: the master's at the fork, which `+FULLRESYNC` or `$ENDOFF`
    /// announced). A replica that loads from a temp file renames it to its `dbfilename`
    /// first (`readSyncBulkPayload`), so that file is what it loads again after a crash.
    pub fn loading_rdb_repl_info(&self) -> Option<(String, i64)> {
        let r = match &self.state {
            LinkState::Loading(l) => l.resync.clone(),
            LinkState::DualChannel(d) if d.load.is_some() => d.resync(),
            _ => return None,
        };
        Some((r.replid, r.offset))
    }

    /// While loading, only the loading callback runs (`processEventsWhileBlocked`): a `\n`
    /// at most once per second keeps the master's `repl_ack_time` fresh, so a long load
    /// does not time the replica out. A load from the socket reads it with a timeout of
    /// `repl-timeout` (`connRecvTimeout`): a transfer silent that long fails the load.
    pub fn loading_keepalive(&mut self, ctx: &mut Ctx) {
        if let LinkState::Receiving(transfer::Receiving {
            parser: Some(p), ..
        }) = &self.state
        {
            if ctx.now().saturating_sub(self.lastio_ms) > ctx.config.repl_timeout * 1000 {
                let swapdb = p.swapdb;
                self.parser_load_failed(ctx, "Connection timed out", None, swapdb);
                return;
            }
        }
        let ut = ctx.unixtime();
        let main = self.main_conn();
        let Some(clock) = self.load_clock_mut() else {
            return;
        };
        if ut > clock.last_newline_s {
            clock.last_newline_s = ut;
            if let (Some(c), false) = (main, clock.main_closed) {
                self.out.send(ctx, c, b"\n".to_vec());
            }
        }
    }

    /// The replica part of `replicationCron`: timeouts (`repl-timeout` on the seconds
    /// clock), connecting, and the once-a-second ACK. A master that sends nothing for
    /// `repl-timeout` (it PINGs every `repl-ping-replica-period` to prevent exactly that) is
    /// taken for dead; the ACK tells the master our offset (WAIT, `min-replicas`) and that we
    /// are alive (its own timeout).
    pub fn cron(&mut self, ctx: &mut Ctx) {
        let ut = ctx.unixtime();
        let to = ctx.config.repl_timeout;
        let silent = ut.saturating_sub(ctx.clock.unixtime_of(self.lastio_ms)) > to;
        if matches!(
            self.state,
            LinkState::Connecting { .. } | LinkState::Handshake(_)
        ) && silent
        {
            ctx.log_r(Level::Warning, "Timeout connecting to the MASTER...");
            ctx.mark(
                MarkKind::Timeout,
                None,
                None,
                format!("no handshake progress for more than repl-timeout {to} s"),
            );
            self.cancel_handshake(ctx, true, None);
        }
        if matches!(
            self.state,
            LinkState::Receiving(_) | LinkState::Loading(_) | LinkState::DualChannel(_)
        ) && silent
        {
            ctx.log_r(Level::Warning, "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            ctx.mark(
                MarkKind::Timeout,
                None,
                None,
                format!("no RDB bytes for more than repl-timeout {to} s"),
            );
            self.cancel_handshake(ctx, true, None);
        }
        if let LinkState::Online(mc) = &self.state {
            if ut.saturating_sub(ctx.clock.unixtime_of(mc.last_interaction_ms)) > to {
                ctx.log_r(
                    Level::Warning,
                    "MASTER timeout: no data nor PING received...",
                );
                ctx.mark(
                    MarkKind::Timeout,
                    None,
                    None,
                    format!("no data nor PING from the master for more than repl-timeout {to} s"),
                );
                self.master_link_lost(ctx, false);
            }
        }
        if matches!(self.state, LinkState::Connect) {
            self.connect_now(ctx);
        }
        if matches!(self.state, LinkState::Online(_)) {
            self.send_ack(ctx);
        }
    }

    // ------------------------------------------------------------------ status

    pub fn status(&self) -> LinkStatus {
        match &self.state {
            LinkState::Connect => LinkStatus::Connect,
            LinkState::Connecting { .. } => LinkStatus::Connecting,
            LinkState::Handshake(_) => LinkStatus::Handshake,
            LinkState::Receiving(_) | LinkState::Loading(_) | LinkState::DualChannel(_) => {
                LinkStatus::Sync
            }
            LinkState::Online(_) => LinkStatus::Connected,
        }
    }

    /// The applied offset (`slave_repl_offset` of a live link), -1 without one.
    pub fn reploff(&self) -> i64 {
        match &self.state {
            LinkState::Online(mc) => mc.reploff,
            _ => -1,
        }
    }

    pub fn cached_master(&self) -> Option<&CachedMaster> {
        self.cached.as_ref()
    }

    /// (`slave_read_repl_offset`, `slave_repl_offset`): the live master client's, else the
    /// cached master's, else 1 and 1 (as 7.0 prints with neither).
    pub fn read_and_applied_offsets(&self) -> (i64, i64) {
        match (&self.state, &self.cached) {
            (LinkState::Online(m), _) => (m.read_reploff, m.reploff),
            (_, Some(c)) => (c.reploff, c.reploff),
            _ => (1, 1),
        }
    }

    /// Seconds since the master last sent anything on a live link (-1 without one).
    pub fn last_io_seconds_ago(&self, ctx: &Ctx, ut: u64) -> i64 {
        match &self.state {
            LinkState::Online(m) => {
                ut.saturating_sub(ctx.clock.unixtime_of(m.last_interaction_ms)) as i64
            }
            _ => -1,
        }
    }

    /// Seconds since the last byte of a transfer (`master_sync_last_io_seconds_ago`).
    pub fn transfer_last_io_seconds_ago(&self, ctx: &Ctx, ut: u64) -> u64 {
        ut.saturating_sub(ctx.clock.unixtime_of(self.lastio_ms))
    }

    pub fn down_since_ms(&self) -> Option<u64> {
        self.down_since_ms
    }

    /// The typed picture of the link for views.
    pub fn info(&self) -> LinkInfo {
        let transfer = match &self.state {
            LinkState::Receiving(r) => Some(r.rdb.progress()),
            LinkState::Loading(l) => Some(l.transfer),
            LinkState::DualChannel(d) => Some((0, d.bulk.progress().1)),
            _ => None,
        };
        let loading = match &self.state {
            LinkState::Loading(l) => Some(l.clock.size),
            LinkState::DualChannel(d) => d.load.as_ref().map(|l| l.size),
            _ => None,
        };
        LinkInfo {
            status: self.status(),
            reploff: self.reploff(),
            transfer,
            loading,
            local_buffer_bytes: match &self.state {
                LinkState::DualChannel(d) => d.local_bytes,
                _ => 0,
            },
        }
    }
}
