//! The `Instance`: state shared by the master and replica halves, input dispatch, timers and
//! the output queue. The halves live in `master.rs` and `replica.rs`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::config::Config;
use super::ids::{SplitMix64, ZERO_REPLID};
use super::log::{format_log_line, Level};
use super::obuf::StreamStore;
use super::payload::{push_merged, take_front, total_len, Payload};
use super::{ConnId, Input, InstanceParams, LogEntry, MarkEvent, Output};
use crate::view::MarkKind;
use crate::wire::Reply;

/// INFO stats counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub total_net_repl_output_bytes: u64,
    pub total_net_repl_input_bytes: u64,
}

/// Master-side replica states (`replstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplState {
    WaitBgsaveStart,
    WaitBgsaveEnd,
    SendBulk,
    Online,
    /// rdb-only client (dual-channel RDB channel) whose RDB was sent.
    RdbTransmitted,
}

impl ReplState {
    pub(crate) fn info_name(self) -> &'static str {
        match self {
            ReplState::WaitBgsaveStart | ReplState::WaitBgsaveEnd => "wait_bgsave",
            ReplState::SendBulk => "send_bulk",
            ReplState::Online => "online",
            ReplState::RdbTransmitted => "",
        }
    }
}

/// What the master knows about a replica client.
#[derive(Clone, Debug)]
pub(crate) struct ReplicaSide {
    pub state: ReplState,
    pub psync_initial_offset: i64,
    pub ack_off: i64,
    /// `repl_ack_time`, unixtime seconds.
    pub ack_time_s: u64,
    pub ack_time_ms: u64,
    /// Diskless: stream only after the first ACK (`repl_start_cmd_stream_on_ack`).
    pub start_stream_on_ack: bool,
    /// Came with `SYNC`: no `+FULLRESYNC`, never timed out.
    pub pre_psync: bool,
    /// `obuf_soft_limit_reached_time` (unixtime seconds) and its run-time twin for views.
    pub soft_since_s: Option<u64>,
    pub soft_since_ms: Option<u64>,
    /// The BGSAVE this replica waits for.
    pub bgsave_id: Option<u64>,
}

/// Any connection a peer opened to us.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub id: u64,
    pub peer: String,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    pub out: VecDeque<Payload>,
    pub close_after_flush: bool,
    pub last_cmd: String,
    pub listening_port: Option<u16>,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub capa_dual: bool,
    pub rdb_only: bool,
    pub rdb_channel: bool,
    /// Dual channel: the RDB-channel client id announced on the main channel.
    pub rdb_client_id: Option<u64>,
    pub partial_write_since_s: Option<u64>,
    pub replica: Option<ReplicaSide>,
    pub authenticated: bool,
}

/// A running fork child.
#[derive(Clone, Debug)]
pub(crate) struct Child {
    pub id: u64,
    pub pid: u32,
    pub socket_targets: Option<Vec<ConnId>>,
    pub started_ms: u64,
    pub mark: String,
}

/// A client blocked in WAIT.
#[derive(Clone, Debug)]
pub(crate) struct Waiter {
    pub conn: ConnId,
    pub numreplicas: u64,
    pub woff: i64,
    pub deadline_ms: Option<u64>,
}

/// Public summary of one replica client, for drivers and views.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaClientInfo {
    pub conn: ConnId,
    pub client_id: u64,
    /// `ip:listening-port`, as Redis names replicas in logs.
    pub name: String,
    /// `wait_bgsave`, `send_bulk`, `online` (empty for a finished RDB channel).
    pub state: String,
    pub ack_offset: i64,
    pub obuf_bytes: u64,
    pub pending_bytes: u64,
    pub soft_limit_since_ms: Option<u64>,
    pub streaming: bool,
}

/// One Redis node.
#[derive(Clone)]
pub struct Instance {
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) pid: u32,
    pub(crate) epoch_ms: u64,
    pub(crate) rng: SplitMix64,
    pub(crate) config: Config,
    pub(crate) now: u64,
    /// Run time at which the node booted (for `uptime`-like views).
    pub(crate) start_ms: u64,

    pub(crate) replid: String,
    pub(crate) replid2: String,
    pub(crate) master_repl_offset: i64,
    pub(crate) second_replid_offset: i64,
    pub(crate) store: StreamStore,
    pub(crate) slaveseldb: i64,
    pub(crate) repl_no_slaves_since_s: u64,
    /// Replids this master dropped with its backlog (`repl-backlog-ttl`), for mark causes.
    pub(crate) expired_replids: Vec<String>,

    pub(crate) clients: BTreeMap<ConnId, Client>,
    /// `server.slaves`, in arrival order.
    pub(crate) replicas: Vec<ConnId>,
    pub(crate) next_client_id: u64,

    pub(crate) child: Option<Child>,
    pub(crate) next_bgsave_id: u64,
    pub(crate) next_child_pid: u32,

    pub(crate) next_tick_ms: u64,
    pub(crate) cronloops: u64,
    pub(crate) repl_cron_loops: u64,
    pub(crate) clients_cron_cursor: usize,

    pub(crate) link: super::replica::Link,

    pub(crate) stats: Stats,
    pub(crate) waiters: Vec<Waiter>,
    pub(crate) get_ack_pending: bool,

    pub(crate) outputs: VecDeque<Output>,
    pub(crate) ready: BTreeSet<ConnId>,
    pub(crate) next_outbound: u64,
}

impl Instance {
    pub fn new(p: InstanceParams) -> Instance {
        let mut rng = SplitMix64::new(p.seed);
        let replid = rng.hex40();
        let start = p.start_ms;
        let model = p.config.replication_model;
        let mut inst = Instance {
            name: p.name,
            ip: p.ip,
            pid: p.pid,
            epoch_ms: p.epoch_ms,
            rng,
            config: p.config,
            now: start,
            start_ms: start,
            replid,
            replid2: ZERO_REPLID.to_string(),
            master_repl_offset: 0,
            second_replid_offset: -1,
            store: StreamStore::new(model),
            slaveseldb: -1,
            repl_no_slaves_since_s: 0,
            expired_replids: Vec::new(),
            clients: BTreeMap::new(),
            replicas: Vec::new(),
            next_client_id: 3,
            child: None,
            next_bgsave_id: 1,
            next_child_pid: p.pid + 1,
            next_tick_ms: (start / 100 + 1) * 100,
            cronloops: 0,
            repl_cron_loops: 0,
            clients_cron_cursor: 0,
            link: super::replica::Link::default(),
            stats: Stats::default(),
            waiters: Vec::new(),
            get_ack_pending: false,
            outputs: VecDeque::new(),
            ready: BTreeSet::new(),
            next_outbound: 1,
        };
        inst.repl_no_slaves_since_s = inst.unixtime();
        let replicaof = inst.config.replicaof.clone();
        if let Some((h, port)) = replicaof {
            // Configured as a replica: state CONNECT, the first replicationCron connects.
            inst.link.master = Some((h, port));
            inst.link.state = super::replica::LinkState::Connect;
        }
        if let Some(r) = p.restored {
            inst.restore_repl_info(r);
        }
        inst
    }

    /// Spec 1.2 #6: an RDB with `repl-id`/`repl-offset` loaded at boot.
    fn restore_repl_info(&mut self, r: super::RestoredReplInfo) {
        if r.replid.len() != 40 || r.offset < 0 {
            return;
        }
        if self.link.master.is_some() {
            // A restarted replica can PSYNC with what it had.
            self.replid = r.replid.clone();
            self.master_repl_offset = r.offset;
            self.link.cached = Some(super::replica::CachedMaster {
                replid: r.replid,
                reploff: r.offset,
            });
        } else {
            // A restarted master keeps serving PSYNC of its old history through replid2.
            self.replid2 = r.replid;
            self.second_replid_offset = r.offset + 1;
            self.master_repl_offset += r.offset;
            let size = self.config.repl_backlog_size;
            self.store.create_backlog(size, self.master_repl_offset);
        }
    }

    // ------------------------------------------------------------------ driving

    /// Feed one input. Due timers (≤ `now`) run first.
    pub fn handle(&mut self, now: u64, input: Input) {
        self.advance(now);
        match input {
            Input::Accepted { conn, peer } => self.on_accepted(conn, peer),
            Input::Command { conn, argv } => self.on_command(conn, argv),
            Input::Received { conn, payload } => self.on_received(conn, payload),
            Input::Connected { conn } => self.on_connected(conn),
            Input::ConnectFailed { conn, error } => self.on_connect_failed(conn, &error),
            Input::Closed { conn, error } => self.on_closed(conn, &error),
            Input::Propagate { db, payload } => self.propagate(db as i64, payload),
            Input::BgsaveData { id, payload } => self.on_bgsave_data(id, payload),
            Input::BgsaveDone {
                id,
                ok,
                rdb,
                cow_bytes,
            } => self.on_bgsave_done(id, ok, rdb, cow_bytes),
            Input::LoadDone { ok, error, keys } => self.on_load_done(ok, &error, keys),
            Input::Tick => {}
        }
        self.before_sleep();
    }

    /// Run the timers due at or before `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.advance(now);
        self.before_sleep();
    }

    /// The next output to carry out.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.outputs.pop_front();
        if self.outputs.is_empty() {
            self.ready.clear();
        }
        o
    }

    /// When the core next needs `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut t = self.next_tick_ms;
        for w in &self.waiters {
            if let Some(d) = w.deadline_ms {
                t = t.min(d);
            }
        }
        Some(t)
    }

    fn advance(&mut self, now: u64) {
        if now < self.now {
            // Time never goes backwards for the core; treat a late stamp as "now".
            return;
        }
        while self.next_tick_ms <= now {
            let t = self.next_tick_ms;
            self.now = t;
            self.server_cron();
            self.next_tick_ms = t + 100;
        }
        self.now = now;
        self.expire_waiters();
    }

    /// `serverCron` at hz 10: clientsCron every tick, replicationCron every 10th.
    fn server_cron(&mut self) {
        self.clients_cron();
        if self.cronloops % 10 == 0 {
            self.replication_cron();
        }
        self.cronloops += 1;
    }

    fn replication_cron(&mut self) {
        if self.link.loading {
            // rdbLoad blocks the event loop: no cron runs, only the loading callback's
            // newline to the master (at most once per second).
            self.replica_loading_newline();
            return;
        }
        self.replica_cron();
        self.master_cron();
        self.repl_cron_loops += 1;
    }

    /// `beforeSleep`: send GETACK for WAIT, answer satisfied WAITs.
    pub(crate) fn before_sleep(&mut self) {
        self.process_waiters();
        if self.get_ack_pending {
            self.get_ack_pending = false;
            let getack = crate::wire::encode_command(&["REPLCONF", "GETACK", "*"]);
            self.feed_stream_from_master(Payload::Bytes(getack));
        }
    }

    // ------------------------------------------------------------------ bytes out

    /// Take up to `max` bytes queued for `conn` (replies, RDB, stream). Drain `poll_output`
    /// afterwards: taking may put a replica online, trim the backlog or close the connection.
    pub fn take_outgoing(&mut self, now: u64, conn: ConnId, max: u64) -> Vec<Payload> {
        self.advance(now);
        let mut out = Vec::new();
        if self.link.out_conn_matches(conn) {
            out = self.link.take_out(conn, max);
            self.stats.total_net_repl_input_bytes += 0;
            return out;
        }
        let Some(c) = self.clients.get_mut(&conn) else {
            return out;
        };
        out.extend(take_front(&mut c.out, max));
        let mut left = max - total_len(&out);
        let direct_empty = c.out.is_empty();
        // Disk sync: once the whole file is written the replica goes online (replicaPutOnline)
        // and the accumulated stream follows on the same socket.
        if direct_empty {
            if let Some(r) = c.replica.as_ref() {
                if r.state == ReplState::SendBulk {
                    self.replica_put_online(conn, false);
                }
            }
        }
        if left > 0 && self.streaming(conn) {
            let size = self.config.repl_backlog_size;
            let got = self.store.take(conn, left, size, self.master_repl_offset);
            let n = total_len(&got);
            left -= n;
            self.stats.total_net_repl_output_bytes += n;
            out.extend(got);
        }
        let _ = left;
        let pending = self.outgoing_len(conn);
        let ut = self.unixtime();
        if let Some(c) = self.clients.get_mut(&conn) {
            if pending > 0 && !out.is_empty() {
                c.partial_write_since_s.get_or_insert(ut);
            } else if pending == 0 {
                c.partial_write_since_s = None;
            }
            if c.close_after_flush && pending == 0 {
                self.drop_client(conn, true);
            }
        }
        out
    }

    /// Bytes the core holds for `conn` that the driver has not taken yet.
    pub fn outgoing_len(&self, conn: ConnId) -> u64 {
        if self.link.out_conn_matches(conn) {
            return self.link.out_len(conn);
        }
        let Some(c) = self.clients.get(&conn) else {
            return 0;
        };
        let mut n = total_len(&c.out);
        if self.streaming(conn) {
            n += self.store.pending(conn);
        }
        n
    }

    /// Connections holding data for the driver.
    pub fn conns_with_output(&self) -> Vec<ConnId> {
        let mut v: Vec<ConnId> = self
            .clients
            .keys()
            .copied()
            .filter(|c| self.outgoing_len(*c) > 0)
            .collect();
        v.extend(
            self.link
                .conns()
                .into_iter()
                .filter(|c| self.outgoing_len(*c) > 0),
        );
        v
    }

    /// Queue a reply produced by the driver for one of its clients.
    pub fn queue_reply(&mut self, conn: ConnId, payload: Payload) {
        self.send_direct(conn, payload);
    }

    /// Whether the stream flows to `conn` now (online, and for diskless after the first ACK).
    pub(crate) fn streaming(&self, conn: ConnId) -> bool {
        self.clients
            .get(&conn)
            .and_then(|c| c.replica.as_ref())
            .is_some_and(|r| r.state == ReplState::Online && !r.start_stream_on_ack)
    }

    // ------------------------------------------------------------------ helpers

    /// `server.unixtime`: the seconds clock most replication timers use.
    pub(crate) fn unixtime(&self) -> u64 {
        (self.epoch_ms + self.now) / 1000
    }

    pub(crate) fn unixtime_of(&self, t_ms: u64) -> u64 {
        (self.epoch_ms + t_ms) / 1000
    }

    pub(crate) fn role_char(&self) -> char {
        if self.link.master.is_some() {
            'S'
        } else {
            'M'
        }
    }

    pub(crate) fn log(&mut self, level: Level, text: impl Into<String>) {
        let role = self.role_char();
        let pid = self.pid;
        self.log_as(level, role, pid, text);
    }

    pub(crate) fn log_as(&mut self, level: Level, role: char, pid: u32, text: impl Into<String>) {
        let text = text.into();
        let line = format_log_line(pid, role, self.epoch_ms + self.now, level, &text);
        self.outputs.push_back(Output::Log(LogEntry {
            t_ms: self.now,
            level,
            role,
            pid,
            text,
            line,
        }));
    }

    pub(crate) fn mark(&mut self, kind: MarkKind, conn: Option<ConnId>, cause: impl Into<String>) {
        let peer = conn
            .filter(|c| self.clients.contains_key(c))
            .map(|c| self.replica_name(c));
        self.outputs.push_back(Output::Mark(MarkEvent {
            t_ms: self.now,
            kind,
            conn,
            peer,
            cause: cause.into(),
        }));
    }

    pub(crate) fn emit(&mut self, o: Output) {
        self.outputs.push_back(o);
    }

    pub(crate) fn data_ready(&mut self, conn: ConnId) {
        if self.ready.insert(conn) {
            self.outputs.push_back(Output::DataReady { conn });
        }
    }

    /// Write to a client's own queue (replies, `+FULLRESYNC`, keepalives, the RDB).
    pub(crate) fn send_direct(&mut self, conn: ConnId, p: Payload) {
        if let Some(c) = self.clients.get_mut(&conn) {
            push_merged(&mut c.out, p);
            self.data_ready(conn);
        }
    }

    pub(crate) fn reply_str(&mut self, conn: ConnId, s: &str) {
        self.send_direct(conn, Payload::Bytes(s.as_bytes().to_vec()));
    }

    pub(crate) fn reply_error(&mut self, conn: ConnId, msg: &str) {
        self.reply_str(conn, &format!("-{msg}\r\n"));
    }

    pub(crate) fn alloc_outbound(&mut self) -> ConnId {
        let c = ConnId(ConnId::OUTBOUND_BIT | self.next_outbound);
        self.next_outbound += 1;
        c
    }

    pub(crate) fn new_replid(&mut self) -> String {
        self.rng.hex40()
    }

    /// `changeReplicationId` + `clearReplicationId2`.
    pub(crate) fn change_and_clear_replid(&mut self) {
        self.replid = self.new_replid();
        self.replid2 = ZERO_REPLID.to_string();
        self.second_replid_offset = -1;
    }

    /// `shiftReplicationId`: the old history stays valid through replid2.
    pub(crate) fn shift_replid(&mut self) {
        self.replid2 = self.replid.clone();
        self.second_replid_offset = self.master_repl_offset + 1;
        self.replid = self.new_replid();
        let t = format!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2, self.second_replid_offset, self.replid
        );
        self.log(Level::Warning, t);
    }

    // ------------------------------------------------------------------ connections

    fn on_accepted(&mut self, conn: ConnId, peer: String) {
        let id = self.next_client_id;
        self.next_client_id += 1;
        let now = self.now;
        self.clients.insert(
            conn,
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
                partial_write_since_s: None,
                replica: None,
                authenticated: self.config.requirepass.is_none(),
            },
        );
    }

    fn on_closed(&mut self, conn: ConnId, error: &str) {
        if self.link.owns(conn) {
            self.link_closed(conn, error);
            return;
        }
        if self.clients.get(&conn).is_some_and(|c| c.replica.is_some()) {
            let e = if error.is_empty() {
                "connection closed"
            } else {
                error
            };
            self.mark(
                MarkKind::LinkCut,
                Some(conn),
                format!("replica connection lost: {e}"),
            );
        }
        if self.clients.contains_key(&conn) {
            self.drop_client(conn, false);
        }
    }

    /// `freeClient` for a peer connection. `emit_close`: the core decided to close it.
    pub(crate) fn drop_client(&mut self, conn: ConnId, emit_close: bool) {
        let Some(c) = self.clients.get(&conn) else {
            return;
        };
        let was_replica = c.replica.clone();
        if let Some(r) = was_replica {
            if r.state != ReplState::RdbTransmitted || !c.rdb_only {
                let name = self.replica_name(conn);
                self.log(
                    Level::Warning,
                    format!("Connection with replica {name} lost."),
                );
            }
            let size = self.config.repl_backlog_size;
            self.store.detach(conn, size, self.master_repl_offset);
            self.replicas.retain(|x| *x != conn);
            if self.replicas.is_empty() {
                self.repl_no_slaves_since_s = self.unixtime();
            }
            self.clients.remove(&conn);
            self.after_replica_gone(conn, r);
        } else {
            self.clients.remove(&conn);
        }
        self.waiters.retain(|w| w.conn != conn);
        if emit_close {
            self.emit(Output::Close { conn });
        }
    }

    // ------------------------------------------------------------------ commands

    fn on_command(&mut self, conn: ConnId, argv: Vec<Vec<u8>>) {
        let now = self.now;
        let Some(c) = self.clients.get_mut(&conn) else {
            return;
        };
        c.last_interaction_ms = now;
        if argv.is_empty() {
            // A bare newline: a loading replica's keepalive refreshes repl_ack_time.
            let ut = self.unixtime();
            if let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) {
                r.ack_time_s = ut;
                r.ack_time_ms = now;
            }
            return;
        }
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        if let Some(c) = self.clients.get_mut(&conn) {
            c.last_cmd = name.clone();
        }
        let args: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !self.clients.get(&conn).is_some_and(|c| c.authenticated)
            && name != "auth"
            && name != "ping"
        {
            // Redis lets PING through unauthenticated only with NOAUTH too; keep it simple:
            self.reply_error(conn, "NOAUTH Authentication required.");
            return;
        }
        match name.as_str() {
            "ping" => {
                if !self.clients.get(&conn).is_some_and(|c| c.authenticated) {
                    self.reply_error(conn, "NOAUTH Authentication required.");
                } else {
                    self.reply_str(conn, "+PONG\r\n");
                }
            }
            "auth" => self.cmd_auth(conn, &args),
            "replconf" => self.cmd_replconf(conn, &args),
            "psync" => self.cmd_sync(conn, &args, true),
            "sync" => self.cmd_sync(conn, &args, false),
            "replicaof" | "slaveof" => self.cmd_replicaof(conn, &args),
            "role" => self.cmd_role(conn),
            "info" => self.cmd_info(conn, &args),
            "wait" => self.cmd_wait(conn, &args),
            "config" => self.cmd_config(conn, &args),
            _ => {
                let rest: Vec<String> = args.iter().skip(1).map(|a| format!("'{a}' ")).collect();
                self.reply_error(
                    conn,
                    &format!(
                        "ERR unknown command '{}', with args beginning with: {}",
                        args[0],
                        rest.join("")
                    ),
                );
            }
        }
    }

    fn cmd_auth(&mut self, conn: ConnId, args: &[String]) {
        let pass = args.last().cloned().unwrap_or_default();
        match self.config.requirepass.clone() {
            None => self.reply_error(
                conn,
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            Some(p) if args.len() >= 2 && p == pass => {
                if let Some(c) = self.clients.get_mut(&conn) {
                    c.authenticated = true;
                }
                self.reply_str(conn, "+OK\r\n");
            }
            Some(_) => self.reply_error(conn, "WRONGPASS invalid username-password pair or user is disabled."),
        }
    }

    fn cmd_config(&mut self, conn: ConnId, args: &[String]) {
        let sub = args
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        match (sub.as_str(), args.len()) {
            ("get", n) if n >= 3 => {
                let mut pairs = Vec::new();
                for pat in &args[2..] {
                    for (k, v) in self.config.get_matching(pat) {
                        if !pairs.iter().any(|(a, _): &(String, String)| *a == k) {
                            pairs.push((k, v));
                        }
                    }
                }
                let items = pairs
                    .into_iter()
                    .flat_map(|(k, v)| [Reply::bulk(k), Reply::bulk(v)])
                    .collect();
                self.send_direct(conn, Payload::Bytes(Reply::Array(items).to_bytes(2)));
            }
            ("set", n) if n >= 4 && n % 2 == 0 => {
                let mut err = None;
                for kv in args[2..].chunks(2) {
                    if let Err(e) = self.config_set(&kv[0], &kv[1]) {
                        err = Some(e);
                        break;
                    }
                }
                match err {
                    Some(e) => self.reply_str(conn, &format!("-{e}\r\n")),
                    None => self.reply_str(conn, "+OK\r\n"),
                }
            }
            _ => self.reply_error(
                conn,
                &format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try CONFIG HELP.",
                    args.get(1).cloned().unwrap_or_default()
                ),
            ),
        }
    }

    /// `CONFIG SET` with the side effects Redis applies (backlog resize, model switch).
    pub fn config_set(&mut self, name: &str, value: &str) -> Result<(), super::ConfigError> {
        let old_model = self.config.replication_model;
        let mut next = self.config.clone();
        next.set(name, value)?;
        if next.replication_model != old_model && !self.replicas.is_empty() {
            return Err(super::ConfigError::BadValue {
                name: "replication-model".into(),
                reason: "can't switch the buffer model while replicas are connected".into(),
            });
        }
        self.config = next;
        if self.config.replication_model != old_model {
            let had = self.store.has_backlog();
            self.store = StreamStore::new(self.config.replication_model);
            if had {
                let size = self.config.repl_backlog_size;
                self.store.create_backlog(size, self.master_repl_offset);
            }
        }
        let size = self.config.repl_backlog_size;
        self.store.resize(size, self.master_repl_offset);
        Ok(())
    }

    // ------------------------------------------------------------------ getters

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn now(&self) -> u64 {
        self.now
    }
    /// Run time at which this node booted.
    pub fn started_ms(&self) -> u64 {
        self.start_ms
    }
    pub fn replid(&self) -> &str {
        &self.replid
    }
    pub fn replid2(&self) -> &str {
        &self.replid2
    }
    pub fn master_repl_offset(&self) -> i64 {
        self.master_repl_offset
    }
    pub fn second_repl_offset(&self) -> i64 {
        self.second_replid_offset
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn has_backlog(&self) -> bool {
        self.store.has_backlog()
    }
    pub fn backlog_first_byte_offset(&self) -> i64 {
        self.store.backlog_offset()
    }
    pub fn backlog_histlen(&self) -> u64 {
        self.store.histlen()
    }
    /// Memory of the replication buffers (`mem_total_replication_buffers`).
    pub fn repl_buffer_mem(&self) -> u64 {
        self.store.mem()
    }
    /// Backlog bytes `[off, off+len)` (tests, views).
    pub fn backlog_range(&self, off: i64, len: u64) -> Vec<Payload> {
        self.store.backlog_range(off, len)
    }
    pub fn is_replica(&self) -> bool {
        self.link.master.is_some()
    }
    /// The running BGSAVE: (id, socket targets or None for disk, started_ms).
    pub fn bgsave(&self) -> Option<(u64, Option<Vec<ConnId>>, u64)> {
        self.child
            .as_ref()
            .map(|c| (c.id, c.socket_targets.clone(), c.started_ms))
    }
    /// Socket BGSAVE: the largest amount of RDB data still queued for a target. A driver
    /// pauses the child while this is high (Redis stops reading the pipe).
    pub fn bgsave_backlog_bytes(&self) -> u64 {
        let Some(t) = self.child.as_ref().and_then(|c| c.socket_targets.clone()) else {
            return 0;
        };
        t.iter()
            .filter_map(|c| self.clients.get(c))
            .map(|c| total_len(&c.out))
            .max()
            .unwrap_or(0)
    }
    /// Replica clients in `server.slaves` order.
    pub fn replica_clients(&self) -> Vec<ReplicaClientInfo> {
        let lim = self.config.effective_replica_limit();
        let _ = lim;
        self.replicas
            .iter()
            .filter_map(|conn| {
                let c = self.clients.get(conn)?;
                let r = c.replica.as_ref()?;
                Some(ReplicaClientInfo {
                    conn: *conn,
                    client_id: c.id,
                    name: self.replica_name(*conn),
                    state: r.state.info_name().to_string(),
                    ack_offset: r.ack_off,
                    obuf_bytes: self.store.used(*conn),
                    pending_bytes: self.store.pending(*conn),
                    soft_limit_since_ms: r.soft_since_ms,
                    streaming: self.streaming(*conn),
                })
            })
            .collect()
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("replid", &self.replid)
            .field("master_repl_offset", &self.master_repl_offset)
            .finish_non_exhaustive()
    }
}
