//! The master side of a node: the clients connected to it, which of them are replicas (and in
//! what state), the fork child that makes RDBs for them, clients blocked in WAIT, and the
//! stream store (the backlog and every replica's output buffer).
//!
//! A replica has a master side too: its sub-replicas are its clients, and the stream it
//! applies is relayed through its own store, byte-identical (one offset space for the chain).
//!
//! * `clients.rs`: what the master knows about each connection (`client` in Redis).
//! * `sync.rs`: SYNC/PSYNC: the partial resync decision, the full resync setup.
//! * `bgsave.rs`: the fork child for replication: when to fork, what to do when it ends.
//! * `stream.rs`: feeding the stream, output buffer limits, `clientsCron`.
//! * `replconf.rs`: REPLCONF (capabilities, ACKs).
//! * `wait.rs`: WAIT.
//! * `cron.rs`: the master part of `replicationCron`.

mod bgsave;
mod clients;
mod cron;
mod replconf;
mod stream;
mod sync;
mod wait;

use std::collections::BTreeMap;

use super::ctx::Ctx;
use super::log::Level;
use super::payload::{push_merged, take_front, total_len, Payload};
use super::status::{BacklogInfo, BgsaveInfo, MarkKind, ReplicaClientInfo, ReplicaState};
use super::store::StreamStore;
use super::version::BufferModel;
use super::{ConnId, Output};
use crate::wire::Reply;

use bgsave::Child;
use bgsave::ExitedChild;
use clients::Client;
use wait::Waits;

/// See the module comment.
#[derive(Clone, Debug)]
pub(crate) struct MasterSide {
    clients: BTreeMap<ConnId, Client>,
    /// `server.slaves`, in arrival order.
    replicas: Vec<ConnId>,
    next_client_id: u64,
    store: StreamStore,
    /// `server.slaveseldb`: the db of the last SELECT in the stream (-1: emit one next).
    slaveseldb: i64,
    /// `server.repl_no_slaves_since`: when the last replica left (for `repl-backlog-ttl`).
    repl_no_slaves_since_s: u64,
    /// Histories this master dropped with its backlog (`repl-backlog-ttl`), to explain a
    /// later refused PSYNC.
    expired_replids: Vec<String>,
    child: Option<Child>,
    /// A disk child that has exited and that the next `serverCron` reaps.
    exited_child: Option<ExitedChild>,
    next_bgsave_id: u64,
    next_child_pid: u32,
    waits: Waits,
    /// `clientsCron`'s position in the client list.
    clients_cron_cursor: usize,
    /// `replication_cron_loops`: `replicationCron` calls so far (PINGs go every
    /// `repl-ping-replica-period` of them).
    repl_cron_loops: u64,
}

impl MasterSide {
    pub fn new(ctx: &Ctx) -> MasterSide {
        MasterSide {
            clients: BTreeMap::new(),
            replicas: Vec::new(),
            next_client_id: 3,
            store: StreamStore::new(ctx.config.replication_model, ctx.config.repl_backlog_size),
            slaveseldb: -1,
            repl_no_slaves_since_s: ctx.unixtime(),
            expired_replids: Vec::new(),
            child: None,
            exited_child: None,
            next_bgsave_id: 1,
            next_child_pid: ctx.node.pid + 1,
            waits: Waits::default(),
            clients_cron_cursor: 0,
            repl_cron_loops: 0,
        }
    }

    // ------------------------------------------------------------------ connections

    /// A client connected.
    pub fn accept(&mut self, ctx: &Ctx, conn: ConnId, peer: String) {
        let id = self.next_client_id;
        self.next_client_id += 1;
        // Authentication is only asked for when `requirepass` is set.
        let authenticated = ctx.config.requirepass.is_none();
        self.clients
            .insert(conn, Client::new(id, peer, ctx.now(), authenticated));
    }

    pub fn has_client(&self, conn: ConnId) -> bool {
        self.clients.contains_key(&conn)
    }

    pub fn is_replica_client(&self, conn: ConnId) -> bool {
        self.clients.get(&conn).is_some_and(|c| c.replica.is_some())
    }

    /// A command arrived from `conn`: `lastinteraction` and the `cmd=` of CLIENT LIST.
    /// Returns false for an unknown connection.
    pub fn touch(&mut self, ctx: &Ctx, conn: ConnId, cmd: Option<&str>) -> bool {
        let Some(c) = self.clients.get_mut(&conn) else {
            return false;
        };
        c.last_interaction_ms = ctx.now();
        if let Some(cmd) = cmd {
            c.last_cmd = cmd.to_string();
        }
        true
    }

    pub fn is_authenticated(&self, conn: ConnId) -> bool {
        self.clients.get(&conn).is_some_and(|c| c.authenticated)
    }

    pub fn authenticate(&mut self, conn: ConnId) {
        if let Some(c) = self.clients.get_mut(&conn) {
            c.authenticated = true;
        }
    }

    /// A bare newline from a replica (it is loading the RDB, `processInlineBuffer`) counts as
    /// an ACK for the timeout: `repl_ack_time` is refreshed.
    pub fn newline_from(&mut self, ctx: &Ctx, conn: ConnId) {
        if let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) {
            r.ack_time_s = ctx.unixtime();
            r.ack_time_ms = ctx.now();
        }
    }

    /// The peer closed `conn` (or the link to it failed).
    pub fn on_closed(&mut self, ctx: &mut Ctx, conn: ConnId, error: &str) {
        if self.clients.get(&conn).is_some_and(|c| c.replica.is_some()) {
            let e = if error.is_empty() {
                "connection closed"
            } else {
                error
            };
            self.mark(
                ctx,
                MarkKind::LinkCut,
                conn,
                format!("replica connection lost: {e}"),
            );
        }
        if self.clients.contains_key(&conn) {
            self.drop_client(ctx, conn, false);
        }
    }

    /// `freeClient`. `emit_close`: the core decided to close it (the driver must).
    pub fn drop_client(&mut self, ctx: &mut Ctx, conn: ConnId, emit_close: bool) {
        let Some(c) = self.clients.get(&conn) else {
            return;
        };
        if let Some(r) = c.replica.clone() {
            // A dual-channel RDB connection that did its job leaves quietly; 8.2 names it.
            if c.main_ch_client_id.is_some() {
                let name = self.replica_name(conn);
                ctx.log(
                    ctx.config.version.wording().link_lost_level,
                    format!("Connection with replica (rdbchannel) {name} lost."),
                );
            } else if r.state == ReplicaState::RdbTransmitted && c.rdb_only {
                let name = self.replica_name(conn);
                ctx.log(
                    Level::Notice,
                    format!("Dual channel replication: Replica {name} rdb channel disconnected."),
                );
            } else {
                let name = self.replica_name(conn);
                // WARNING on 6.2/7.0, NOTICE from 8.2 and on Valkey (checked, obuf-cutoff).
                ctx.log(
                    ctx.config.version.wording().link_lost_level,
                    format!("Connection with replica {name} lost."),
                );
            }
            self.store.detach(conn);
            self.replicas.retain(|x| *x != conn);
            if self.replicas.is_empty() {
                self.repl_no_slaves_since_s = ctx.unixtime();
            }
            self.clients.remove(&conn);
            self.after_replica_gone(ctx, r);
        } else {
            self.clients.remove(&conn);
        }
        self.waits.forget(conn);
        if emit_close {
            ctx.emit(Output::Close { conn });
        }
    }

    /// Every sub-replica goes (its history is no longer ours: we load a new RDB, follow a
    /// new master id, or were promoted); they reconnect and PSYNC.
    pub fn disconnect_replicas(&mut self, ctx: &mut Ctx) {
        for c in self.replicas.clone() {
            self.drop_client(ctx, c, true);
        }
    }

    // ------------------------------------------------------------------ replies

    /// Write to a client's own queue (replies, `+FULLRESYNC`, keepalives, the RDB).
    pub fn send_direct(&mut self, ctx: &mut Ctx, conn: ConnId, p: Payload) {
        if let Some(c) = self.clients.get_mut(&conn) {
            push_merged(&mut c.out, p);
            ctx.data_ready(conn);
        }
    }

    /// A reply, in RESP2 (the core's replies never need RESP3 shapes).
    pub fn reply(&mut self, ctx: &mut Ctx, conn: ConnId, r: Reply) {
        self.send_direct(ctx, conn, Payload::Bytes(r.to_bytes(2)));
    }

    pub fn reply_ok(&mut self, ctx: &mut Ctx, conn: ConnId) {
        self.reply(ctx, conn, Reply::ok());
    }

    /// An error reply; `msg` starts with its code (`ERR ...`, `NOAUTH ...`).
    pub fn reply_error(&mut self, ctx: &mut Ctx, conn: ConnId, msg: &str) {
        self.reply(ctx, conn, Reply::Error(msg.to_string()));
    }

    // ------------------------------------------------------------------ bytes out

    /// Take up to `max` bytes queued for `conn`: its own queue first, then the stream.
    pub fn take_outgoing(&mut self, ctx: &mut Ctx, conn: ConnId, max: u64) -> Vec<Payload> {
        let mut out = Vec::new();
        let Some(c) = self.clients.get_mut(&conn) else {
            return out;
        };
        out.extend(take_front(&mut c.out, max));
        let left = max - total_len(&out);
        // Disk sync: once the whole file is written the replica goes online
        // (`replicaPutOnline`) and the accumulated stream follows on the same socket.
        if c.out.is_empty()
            && c.replica
                .as_ref()
                .is_some_and(|r| r.state == ReplicaState::SendBulk)
        {
            self.replica_put_online(ctx, conn, false);
        }
        if left > 0 && self.streaming(conn) {
            let got = self.store.take(conn, left);
            ctx.stats.total_net_repl_output_bytes += total_len(&got);
            out.extend(got);
        }
        let pending = self.outgoing_len(conn);
        let ut = ctx.unixtime();
        if let Some(c) = self.clients.get_mut(&conn) {
            // `repl_last_partial_write`: `rdbPipeReadHandler`/`rdbPipeWriteHandler` stamp it
            // on every write the socket took only part of, and clear it once the socket took
            // everything. `replicationCron` times out only a diskless transfer whose last
            // partial write is older than `repl-timeout`: one that stalls, never one that is
            // merely slow (a stamp taken once would cut every transfer longer than the
            // timeout, forever).
            if pending > 0 && !out.is_empty() {
                c.last_partial_write_s = Some(ut);
            } else if pending == 0 {
                c.last_partial_write_s = None;
            }
            if c.close_after_flush && pending == 0 {
                self.drop_client(ctx, conn, true);
            }
        }
        out
    }

    /// Bytes held for `conn` that the driver has not taken yet.
    pub fn outgoing_len(&self, conn: ConnId) -> u64 {
        let Some(c) = self.clients.get(&conn) else {
            return 0;
        };
        let mut n = total_len(&c.out);
        if self.streaming(conn) {
            n += self.store.pending(conn);
        }
        n
    }

    pub fn conns_with_output(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.clients
            .keys()
            .copied()
            .filter(|c| self.outgoing_len(*c) > 0)
    }

    /// Whether the stream flows to `conn` now (online, and for diskless after the first ACK).
    fn streaming(&self, conn: ConnId) -> bool {
        self.clients
            .get(&conn)
            .and_then(|c| c.replica.as_ref())
            .is_some_and(|r| {
                (r.state == ReplicaState::Online && !r.start_stream_on_ack)
                    || r.state == ReplicaState::SendBulkAndStream
                    || r.state == ReplicaState::BgTransfer
            })
    }

    // ------------------------------------------------------------------ names

    /// `ip:listening-port` (or `ip:<unknown-replica-port>`), as Redis names a replica in logs
    /// (`replicationGetSlaveName`).
    pub fn replica_name(&self, conn: ConnId) -> String {
        let Some(c) = self.clients.get(&conn) else {
            return format!("client id #{}", conn.0);
        };
        let ip = c.replica_ip();
        match c.listening_port {
            Some(p) => format!("{ip}:{p}"),
            None => format!("{ip}:<unknown-replica-port>"),
        }
    }

    /// A timeline mark about replica `conn`.
    fn mark(&self, ctx: &mut Ctx, kind: MarkKind, conn: ConnId, cause: impl Into<String>) {
        let peer = self
            .clients
            .contains_key(&conn)
            .then(|| self.replica_name(conn));
        ctx.mark(kind, Some(conn), peer, cause);
    }

    /// `catClientInfoString`, with the fields we cannot know set to plausible constants.
    pub fn client_info_string(&self, ctx: &Ctx, conn: ConnId) -> String {
        let Some(c) = self.clients.get(&conn) else {
            return String::new();
        };
        let (flags, oll, omem) = if c.replica.is_some() {
            ("S", self.store.oll(conn), self.store.used(conn))
        } else {
            ("N", 0, 0)
        };
        let now = ctx.now();
        let age = now.saturating_sub(c.created_ms) / 1000;
        let idle = now.saturating_sub(c.last_interaction_ms) / 1000;
        let (id, addr, ip, port) = (c.id, &c.peer, &ctx.node.ip, ctx.config.port);
        let fd = 8 + (c.id % 1000);
        let (tot, cmd) = (omem + 1800, &c.last_cmd);
        match self.store.model() {
            // 6.2's layout: no ssub/multi-mem/rbs/rbp/resp fields yet.
            BufferModel::V6 => format!(
                "id={id} addr={addr} laddr={ip}:{port} fd={fd} name= age={age} idle={idle} flags={flags} db=0 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 obl=0 oll={oll} omem={omem} tot-mem={tot} events=r cmd={cmd} user=default redir=-1"
            ),
            BufferModel::V7 => format!(
                "id={id} addr={addr} laddr={ip}:{port} fd={fd} name= age={age} idle={idle} flags={flags} db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll={oll} omem={omem} tot-mem={tot} events=r cmd={cmd} user=default redir=-1 resp=2"
            ),
        }
    }

    // ------------------------------------------------------------------ the stream store

    /// `master_repl_offset`.
    pub fn offset(&self) -> i64 {
        self.store.offset()
    }

    pub fn store(&self) -> &StreamStore {
        &self.store
    }

    /// A replica adopts its master's offset after a full sync (no backlog exists then).
    pub fn set_offset(&mut self, offset: i64) {
        self.store.set_offset(offset);
    }

    /// The backlog, if none exists (a replica keeps one for its own sub-replicas and for a
    /// PSYNC after a promotion).
    pub fn ensure_backlog(&mut self) {
        if !self.store.has_backlog() {
            self.store.create_backlog();
        }
    }

    pub fn free_backlog(&mut self) {
        self.store.free_backlog();
    }

    /// `beforeSleep`'s backlog trim (see `StreamStore::trim_before_sleep`).
    pub fn trim_backlog_before_sleep(&mut self) {
        self.store.trim_before_sleep();
    }

    /// A master restarted from an RDB with `repl-id`/`repl-offset`: its offsets are rebased
    /// on the old history (`master_repl_offset += repl-offset`) and a backlog is created so
    /// its replicas can PSYNC through `replid2`.
    pub fn restore_offset(&mut self, offset: i64) {
        let rebased = self.store.offset() + offset;
        self.store.set_offset(rebased);
        self.store.create_backlog();
    }

    /// `CONFIG SET` of the buffer model or the backlog size. Switching models is refused
    /// while replicas are connected (their buffers could not be carried over).
    pub fn apply_config(&mut self, model: BufferModel, backlog_size: u64) -> Result<(), String> {
        if model != self.store.model() {
            if !self.replicas.is_empty() {
                return Err("can't switch the buffer model while replicas are connected".into());
            }
            self.store.switch_model(model);
        }
        self.store.resize(backlog_size);
        Ok(())
    }

    /// Promotion (`replicationUnsetMaster`): the next propagated write starts with a SELECT,
    /// and the backlog TTL counts from now.
    pub fn became_master(&mut self, ctx: &Ctx) {
        self.slaveseldb = -1;
        self.repl_no_slaves_since_s = ctx.unixtime();
    }

    // ------------------------------------------------------------------ status

    pub fn backlog(&self) -> Option<BacklogInfo> {
        self.store.has_backlog().then(|| BacklogInfo {
            size: self.store.backlog_size(),
            first_byte_offset: self.store.backlog_offset(),
            histlen: self.store.histlen(),
        })
    }

    pub fn bgsave(&self) -> Option<BgsaveInfo> {
        self.child.as_ref().map(Child::info)
    }

    /// Replica clients in `server.slaves` order.
    pub fn replica_clients(&self) -> Vec<ReplicaClientInfo> {
        self.replicas
            .iter()
            .filter_map(|conn| self.replica_client(*conn))
            .collect()
    }

    /// Replica `conn`'s state (cheap: no name is built).
    pub fn replica_state(&self, conn: ConnId) -> Option<ReplicaState> {
        self.clients.get(&conn)?.replica.as_ref().map(|r| r.state)
    }

    /// Replica `conn`'s output buffer as the limit measures it (cheap).
    pub fn replica_obuf_bytes(&self, conn: ConnId) -> Option<u64> {
        self.clients.get(&conn)?.replica.as_ref()?;
        Some(self.store.used(conn))
    }

    pub fn replica_client(&self, conn: ConnId) -> Option<ReplicaClientInfo> {
        let c = self.clients.get(&conn)?;
        let r = c.replica.as_ref()?;
        Some(ReplicaClientInfo {
            conn,
            client_id: c.id,
            name: self.replica_name(conn),
            state: r.state,
            ack_offset: r.ack_off,
            obuf_bytes: self.store.used(conn),
            pending_bytes: self.store.pending(conn),
            soft_limit_since_ms: r.soft_since_ms,
            streaming: self.streaming(conn),
        })
    }

    /// `(ip, listening port, ack offset, ack time in unixtime seconds, state)` of each
    /// replica, for INFO and ROLE.
    /// Valkey's `replicas_waiting_psync`: dual-channel RDB connections whose main channel has
    /// not PSYNCed yet (`addReplicaToPsyncWait` @valkey 8.0.1).
    pub fn replicas_waiting_psync(&self) -> usize {
        self.clients
            .values()
            .filter(|c| c.rdb_only && c.main_ch_client_id.is_none() && c.replica.is_some())
            .filter(|rdb| {
                !self
                    .clients
                    .values()
                    .any(|m| m.rdb_client_id == Some(rdb.id))
            })
            .count()
    }

    /// `(ip, port, ack offset, ack time, state, type)`; the type is what Valkey appends to
    /// `slaveN` (`replica`, or `rdb-channel` / `main-channel` during a dual-channel sync).
    pub fn replica_rows(&self) -> Vec<(String, u16, i64, u64, ReplicaState, &'static str)> {
        self.replicas
            .iter()
            .filter_map(|conn| {
                let c = self.clients.get(conn)?;
                let r = c.replica.as_ref()?;
                Some((
                    c.replica_ip(),
                    c.listening_port.unwrap_or(0),
                    r.ack_off,
                    r.ack_time_s,
                    r.state,
                    if c.rdb_only {
                        "rdb-channel"
                    } else if c.rdb_client_id.is_some() && r.state == ReplicaState::BgTransfer {
                        "main-channel"
                    } else {
                        "replica"
                    },
                ))
            })
            .collect()
    }

    /// Socket BGSAVE: the largest amount of RDB data still queued for a target. A driver
    /// pauses the child while this is high (Redis stops reading the pipe).
    pub fn bgsave_backlog_bytes(&self) -> u64 {
        let Some(t) = self.child.as_ref().and_then(|c| c.socket_targets.as_ref()) else {
            return 0;
        };
        t.iter()
            .filter_map(|c| self.clients.get(c))
            .map(|c| total_len(&c.out))
            .max()
            .unwrap_or(0)
    }

    /// `repl_good_slaves_count`: online replicas whose last ACK is at most
    /// `min-replicas-max-lag` seconds old.
    pub fn good_replicas(&self, ctx: &Ctx) -> u64 {
        let ut = ctx.unixtime();
        let lag = ctx.config.min_replicas_max_lag;
        self.replicas
            .iter()
            .filter_map(|c| self.clients.get(c)?.replica.as_ref())
            .filter(|r| r.state == ReplicaState::Online && ut.saturating_sub(r.ack_time_s) <= lag)
            .count() as u64
    }
}
