//! [`Instance`]: one Redis node, composed of parts that own their state, and the driving
//! API (see the polling order in `core/mod.rs`).
//!
//! * [`Ctx`]: identity, config, clock, replication history, output queue, counters;
//! * [`TimerTable`]: `clientsCron`, `replicationCron`, WAIT timeouts;
//! * [`MasterSide`]: clients, replicas, the fork child, WAIT, the stream store;
//! * `Option<`[`ReplicaLink`]`>`: the link to our master, while we are a replica.
//!
//! This file routes inputs to the part that owns them and runs the timers; what crosses
//! parts (becoming a replica or a master) is here too.

use super::config::Config;
use super::ctx::{Clock, Ctx, Node, Outputs, ReplHistory, Stats};
use super::ids::SplitMix64;
use super::log::Level;
use super::master::MasterSide;
use super::replica::{use_diskless_load, CachedMaster, ReplicaLink};
use super::status::{
    BacklogInfo, BgsaveInfo, LinkInfo, LinkStatus, ReplicaClientInfo, ReplicaState,
};
use super::timers::{CronPhase, Timer, TimerTable};
use super::{commands, info, roles};
use super::{ConnId, Input, InstanceParams, Output, Payload, RestoredReplInfo, Role};
use crate::wire::encode_command;

/// One Redis node. See the module comment and `core/mod.rs`.
#[derive(Clone)]
pub struct Instance {
    ctx: Ctx,
    timers: TimerTable,
    /// Where its crons fall after the first (see [`CronPhase`]).
    cron_phase: CronPhase,
    master: MasterSide,
    link: Option<ReplicaLink>,
}

impl Instance {
    /// A node booting at `p.start_ms`, its cron grid at phase 0 (every node in step).
    pub fn new(p: InstanceParams) -> Instance {
        Instance::with_cron_phase(p, CronPhase::default())
    }

    /// A node whose cron grid sits at `phase` (real nodes are out of step: a replica
    /// reconnects on its own 1 Hz cron, 0-1 s after a link returns).
    pub fn with_cron_phase(p: InstanceParams, phase: CronPhase) -> Instance {
        let mut rng = SplitMix64::new(p.seed);
        let hist = ReplHistory::new(&mut rng);
        let ctx = Ctx {
            node: Node {
                name: p.name,
                ip: p.ip,
                pid: p.pid,
                start_ms: p.start_ms,
            },
            config: p.config,
            clock: Clock::new(p.epoch_ms, p.start_ms),
            hist,
            rng,
            stats: Stats::default(),
            out: Outputs::new(),
            keys: 0,
        };
        let master = MasterSide::new(&ctx);
        let mut timers = TimerTable::default();
        let first = phase.first_cron_ms(p.start_ms);
        timers.set(Timer::ClientsCron, Some(first));
        timers.set(Timer::ReplicationCron, Some(first));
        let mut inst = Instance {
            ctx,
            timers,
            cron_phase: phase,
            master,
            link: None,
        };
        if let Some((host, port)) = inst.ctx.config.replicaof.clone() {
            // Configured as a replica: state CONNECT, the first replicationCron connects.
            inst.link = Some(ReplicaLink::new(host, port, None));
            inst.ctx.out.set_role(true);
        }
        if let Some(r) = p.restored {
            inst.restore_repl_info(r);
        }
        inst
    }

    /// An RDB with `repl-id`/`repl-offset` loaded at boot (`loadDataFromDisk`): a replica
    /// resumes from it (a synthesised cached master, `replicationCacheMasterUsingMyself`), a
    /// master keeps it as its previous history.
    fn restore_repl_info(&mut self, r: RestoredReplInfo) {
        if r.replid.len() != 40 || r.offset < 0 {
            return;
        }
        match &mut self.link {
            Some(link) => {
                // A restarted replica can PSYNC with what it had.
                self.ctx.hist.restore_as_replica(r.replid.clone());
                self.master.set_offset(r.offset);
                let (host, port) = link.master_addr();
                let cached = CachedMaster {
                    replid: r.replid,
                    reploff: r.offset,
                };
                *link = ReplicaLink::new(host.to_string(), port, Some(cached));
            }
            None => {
                // A restarted master keeps serving PSYNC of its old history through replid2.
                self.ctx.hist.restore_as_master(r.replid, r.offset);
                self.master.restore_offset(r.offset);
            }
        }
    }

    // ------------------------------------------------------------------ driving

    /// Feed one input. Due timers (≤ `now`) run first.
    pub fn handle(&mut self, now: u64, input: Input) {
        self.advance(now);
        let ctx = &mut self.ctx;
        match input {
            Input::Accepted { conn, peer } => self.master.accept(ctx, conn, peer),
            Input::Command { conn, argv } => {
                commands::on_command(ctx, &mut self.master, &mut self.link, conn, argv)
            }
            Input::Received { conn, payload } => {
                if self.master.has_client(conn) {
                    return self.before_sleep(); // client bytes come parsed, as Input::Command
                }
                if let Some(link) = self.link.as_mut() {
                    link.on_received(ctx, &mut self.master, conn, payload);
                }
            }
            Input::Connected { conn } => {
                if let Some(link) = self.link.as_mut() {
                    link.on_connected(ctx, conn);
                }
            }
            Input::ConnectFailed { conn, error } => {
                if let Some(link) = self.link.as_mut() {
                    link.on_connect_failed(ctx, conn, &error);
                }
            }
            Input::Closed { conn, error } => match self.link.as_mut() {
                Some(link) if link.owns(conn) => link.on_closed(ctx, conn, &error),
                _ => self.master.on_closed(ctx, conn, &error),
            },
            Input::Propagate { db, payload } => {
                // A replica relays its master's stream; its own writes do not replicate.
                if self.link.is_none() {
                    self.master.propagate(ctx, db as i64, payload);
                }
            }
            Input::BgsaveData { id, payload } => self.master.on_bgsave_data(ctx, id, payload),
            Input::BgsaveDone {
                id,
                ok,
                rdb,
                cow_bytes,
            } => self.master.on_child_exit(ctx, id, ok, rdb, cow_bytes),
            Input::RdbLoading { aux } => {
                if let Some(link) = self.link.as_mut() {
                    link.on_rdb_header(ctx, &aux);
                }
            }
            Input::LoadDone { ok, error, keys } => {
                if let Some(link) = self.link.as_mut() {
                    link.on_load_done(ctx, &mut self.master, ok, &error, keys);
                }
            }
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
        self.ctx.out.pop()
    }

    /// When the core next needs `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timers.next_timeout()
    }

    /// Run the timers due by `now` in deadline order, each at its own time, then stand at
    /// `now`. Time never goes backwards for the core: a late stamp is ignored.
    fn advance(&mut self, now: u64) {
        if now < self.ctx.now() {
            return;
        }
        while let Some((timer, at)) = self.timers.next_expired(now) {
            self.ctx.clock.advance_to(at);
            match timer {
                Timer::ClientsCron => {
                    self.master.clients_cron(&mut self.ctx);
                    // `serverCron` calls `checkChildrenDone` after `clientsCron`.
                    self.master.check_children_done(&mut self.ctx);
                    let next = self.cron_phase.next_clients_cron_ms(at);
                    self.timers.set(Timer::ClientsCron, Some(next));
                }
                Timer::ReplicationCron => {
                    self.replication_cron();
                    let next = self.cron_phase.next_replication_cron_ms(at);
                    self.timers.set(Timer::ReplicationCron, Some(next));
                }
                Timer::WaitTimeout => self.master.expire_waiters(&mut self.ctx),
            }
            self.sync_wait_timer();
        }
        self.ctx.clock.advance_to(now);
    }

    /// `replicationCron`.
    fn replication_cron(&mut self) {
        let ctx = &mut self.ctx;
        if let Some(link) = self.link.as_mut() {
            link.notice_bio_download(ctx, &mut self.master);
            if link.is_loading() {
                // rdbLoad blocks the event loop: no cron runs, only the loading callback.
                link.loading_keepalive(ctx);
                return;
            }
            link.cron(ctx);
        }
        self.master.master_cron(ctx, self.link.is_some());
    }

    /// `beforeSleep`: answer satisfied WAITs, send the GETACK new waiters asked for, trim the
    /// replication backlog.
    fn before_sleep(&mut self) {
        self.master.process_waiters(&mut self.ctx);
        if self.master.take_getack_request() && self.link.is_none() {
            let getack = encode_command(&["REPLCONF", "GETACK", "*"]);
            self.master
                .feed_from_master(&mut self.ctx, Payload::Bytes(getack));
        }
        self.master.trim_backlog_before_sleep();
        self.sync_wait_timer();
    }

    fn sync_wait_timer(&mut self) {
        self.timers
            .set(Timer::WaitTimeout, self.master.next_wait_deadline());
    }

    // ------------------------------------------------------------------ bytes out

    /// Take up to `max` bytes queued for `conn` (replies, RDB, stream). Drain `poll_output`
    /// afterwards: taking may put a replica online, trim the backlog or close the connection.
    pub fn take_outgoing(&mut self, now: u64, conn: ConnId, max: u64) -> Vec<Payload> {
        self.advance(now);
        if let Some(link) = self.link.as_mut().filter(|l| l.handles(conn)) {
            return link.take_outgoing(conn, max);
        }
        let out = self.master.take_outgoing(&mut self.ctx, conn, max);
        self.sync_wait_timer();
        out
    }

    /// Bytes the core holds for `conn` that the driver has not taken yet.
    pub fn outgoing_len(&self, conn: ConnId) -> u64 {
        match self.link.as_ref().filter(|l| l.handles(conn)) {
            Some(link) => link.outgoing_len(conn),
            None => self.master.outgoing_len(conn),
        }
    }

    /// Connections holding data for the driver.
    pub fn conns_with_output(&self) -> Vec<ConnId> {
        let mut v: Vec<ConnId> = self.master.conns_with_output().collect();
        if let Some(link) = &self.link {
            v.extend(link.out_conns().filter(|c| link.outgoing_len(*c) > 0));
        }
        v
    }

    /// Queue a reply produced by the driver for one of its clients, so that "SYNC and PSYNC
    /// are invalid with pending output" and the output buffer accounting see it.
    pub fn queue_reply(&mut self, conn: ConnId, payload: Payload) {
        self.master.send_direct(&mut self.ctx, conn, payload);
    }

    // ------------------------------------------------------------------ roles

    /// Make this node a replica of `host:port`, or a master (`None`), as `REPLICAOF` does.
    pub fn replicaof(&mut self, now: u64, target: Option<(&str, u16)>) {
        self.advance(now);
        self.before_sleep();
        let driver = "id=0 addr=driver cmd=replicaof";
        let (ctx, master, link) = (&mut self.ctx, &mut self.master, &mut self.link);
        match target {
            Some((h, p)) => {
                if link.as_ref().is_some_and(|l| l.master_addr() == (h, p)) {
                    return;
                }
                roles::set_master(ctx, master, link, h, p);
                ctx.log(
                    Level::Notice,
                    format!("REPLICAOF {h}:{p} enabled (user request from '{driver}')"),
                );
            }
            None => {
                if link.is_some() {
                    roles::unset_master(ctx, master, link);
                    ctx.log(
                        Level::Notice,
                        format!("MASTER MODE enabled (user request from '{driver}')"),
                    );
                }
            }
        }
        self.before_sleep();
    }

    // ------------------------------------------------------------------ config

    /// `CONFIG SET` with the side effects Redis applies (backlog resize, model switch).
    pub fn config_set(&mut self, name: &str, value: &str) -> Result<(), super::ConfigError> {
        commands::config_set(&mut self.ctx, &mut self.master, name, value)
    }

    // ------------------------------------------------------------------ INFO, ROLE

    /// `ROLE`.
    pub fn role(&self) -> Role {
        info::role(&self.master, self.link.as_ref())
    }

    /// The `# Stats` fields about replication.
    pub fn info_stats(&self) -> String {
        info::info_stats(&self.ctx.stats)
    }

    /// `INFO replication` at `now` (no earlier than the node's clock), exactly as 7.0.15
    /// lays it out (CRLF line ends).
    pub fn info_replication(&self, now: u64) -> String {
        info::info_replication(&self.ctx, &self.master, self.link.as_ref(), now)
    }

    // ------------------------------------------------------------------ getters

    pub fn name(&self) -> &str {
        &self.ctx.node.name
    }
    pub fn config(&self) -> &Config {
        &self.ctx.config
    }
    pub fn now(&self) -> u64 {
        self.ctx.now()
    }
    /// Run time at which this node booted.
    pub fn started_ms(&self) -> u64 {
        self.ctx.node.start_ms
    }
    pub fn replid(&self) -> &str {
        self.ctx.hist.replid()
    }
    pub fn replid2(&self) -> &str {
        self.ctx.hist.replid2()
    }
    pub fn master_repl_offset(&self) -> i64 {
        self.master.offset()
    }
    pub fn second_repl_offset(&self) -> i64 {
        self.ctx.hist.second_replid_offset()
    }
    pub fn stats(&self) -> &Stats {
        &self.ctx.stats
    }
    /// The replication backlog, while there is one.
    pub fn backlog(&self) -> Option<BacklogInfo> {
        self.master.backlog()
    }
    pub fn has_backlog(&self) -> bool {
        self.master.backlog().is_some()
    }
    /// `repl_backlog_first_byte_offset` (0 without a backlog).
    pub fn backlog_first_byte_offset(&self) -> i64 {
        self.master.backlog().map_or(0, |b| b.first_byte_offset)
    }
    /// `repl_backlog_histlen` (0 without a backlog).
    pub fn backlog_histlen(&self) -> u64 {
        self.master.backlog().map_or(0, |b| b.histlen)
    }
    /// Memory of the replication buffers (`mem_total_replication_buffers`).
    pub fn repl_buffer_mem(&self) -> u64 {
        self.master.store().mem()
    }
    pub fn is_replica(&self) -> bool {
        self.link.is_some()
    }
    /// The running BGSAVE, if any.
    pub fn bgsave_info(&self) -> Option<BgsaveInfo> {
        self.master.bgsave()
    }
    /// Socket BGSAVE: the largest amount of RDB data still queued for a target. A driver
    /// pauses the child while this is high (Redis stops reading the pipe).
    pub fn bgsave_backlog_bytes(&self) -> u64 {
        self.master.bgsave_backlog_bytes()
    }
    /// Replica clients in `server.slaves` order.
    pub fn replica_clients(&self) -> Vec<ReplicaClientInfo> {
        self.master.replica_clients()
    }
    /// Replica client `conn`'s state, if it is one (cheaper than `replica_client`).
    pub fn replica_state(&self, conn: ConnId) -> Option<ReplicaState> {
        self.master.replica_state(conn)
    }
    /// Replica client `conn`'s output buffer as the limit measures it, if it is one.
    pub fn replica_obuf_bytes(&self, conn: ConnId) -> Option<u64> {
        self.master.replica_obuf_bytes(conn)
    }
    /// Replica client `conn`, if it is one.
    pub fn replica_client(&self, conn: ConnId) -> Option<ReplicaClientInfo> {
        self.master.replica_client(conn)
    }
    /// `repl_good_slaves_count`.
    pub fn good_replicas(&self) -> u64 {
        self.master.good_replicas(&self.ctx)
    }
    /// Whether a write may run under `min-replicas-to-write` (the feature is off if either
    /// setting is 0, and only masters check). A driver rejects the write with
    /// `-NOREPLICAS Not enough good replicas to write.` when this is false.
    pub fn min_replicas_ok(&self) -> bool {
        let c = &self.ctx.config;
        if self.link.is_some() || c.min_replicas_to_write == 0 || c.min_replicas_max_lag == 0 {
            return true;
        }
        self.good_replicas() >= c.min_replicas_to_write
    }
    /// Redis's client info string for `conn` (as CLIENT LIST prints it), empty if unknown.
    pub fn client_info(&self, conn: ConnId) -> String {
        self.master.client_info_string(&self.ctx, conn)
    }
    /// This node's link to its master ([`LinkStatus::None`] on a master).
    pub fn link_status(&self) -> LinkStatus {
        self.link.as_ref().map_or(LinkStatus::None, |l| l.status())
    }
    /// This node's side of its link, for views (`None` on a master).
    pub fn link_info(&self) -> Option<LinkInfo> {
        self.link.as_ref().map(|l| l.info())
    }
    /// The replica's applied offset (`slave_repl_offset`), -1 without a master client.
    pub fn reploff(&self) -> i64 {
        self.link.as_ref().map_or(-1, |l| l.reploff())
    }
    /// What INFO's `slave_repl_offset` shows on a replica (the live master client's, else the
    /// cached master's, else 1), None on a master.
    pub fn info_applied_offset(&self) -> Option<i64> {
        self.link.as_ref().map(|l| l.read_and_applied_offsets().1)
    }
    /// The connection to our master, if any.
    pub fn master_conn(&self) -> Option<ConnId> {
        self.link.as_ref().and_then(|l| l.main_conn())
    }
    /// The connection an RDB arrives on right now (see [`ReplicaLink::rdb_conn`]).
    pub fn rdb_conn(&self) -> Option<ConnId> {
        self.link.as_ref().and_then(|l| l.rdb_conn())
    }
    /// Whether a replica is loading an RDB right now (with diskless load, while it receives
    /// it: the parser reads the socket).
    pub fn is_loading(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.is_loading())
    }
    /// `(replid, offset)` saved in the RDB this replica is loading now (see
    /// [`ReplicaLink::loading_rdb_repl_info`]).
    pub fn loading_rdb_repl_info(&self) -> Option<(String, i64)> {
        self.link.as_ref().and_then(|l| l.loading_rdb_repl_info())
    }
    /// Whether this replica's RDB goes straight into its parser (`repl-diskless-load`
    /// `swapdb`, or `on-empty-db` with no keys, decided at the transfer's header): the
    /// transfer then moves at the load's pace and no load follows it.
    pub fn loads_from_socket(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.loads_from_socket())
    }
    /// Where a full sync starting now would put the RDB (`useDisklessLoad` on the current
    /// config and key count): straight into the parser (true) or a temp file on disk.
    pub fn would_load_from_socket(&self) -> bool {
        use_diskless_load(&self.ctx)
    }
    /// A load runs whose RDB header the driver has not reported (`Input::RdbLoading`).
    pub fn awaits_rdb_header(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.awaits_rdb_header())
    }
    /// When the replica's load in progress started (ms; a socket load at the RDB's header).
    pub fn load_started_ms(&self) -> Option<u64> {
        self.link.as_ref().and_then(|l| l.load_started_ms())
    }
    /// Tell the core how many keys the node's dataset holds (`dbTotalServerKeyCount`), when
    /// it changes other than by a replica's load (which reports its own).
    pub fn set_key_count(&mut self, keys: u64) {
        self.ctx.keys = keys;
    }
    /// `(replid, reploff)` of the cached master, if this replica has one.
    pub fn cached_master(&self) -> Option<(String, i64)> {
        self.link
            .as_ref()
            .and_then(|l| l.cached_master())
            .map(|c| (c.replid.clone(), c.reploff))
    }
    /// Bytes buffered locally during a dual-channel sync.
    pub fn dual_local_buffer_bytes(&self) -> u64 {
        self.link_info().map_or(0, |l| l.local_buffer_bytes)
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.ctx.node.name)
            .field("replid", &self.ctx.hist.replid())
            .field("master_repl_offset", &self.master.offset())
            .finish_non_exhaustive()
    }
}
