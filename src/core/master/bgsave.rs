//! The fork child that makes an RDB for replicas: when to fork (`startBgsaveForReplication`,
//! `replicationStartPendingFork`), what a new replica does while one runs, what happens when
//! it ends (`updateSlavesWaitingBgsave`) and when nobody needs it any more.

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::payload::Payload;
use super::super::status::{BgsaveInfo, BgsaveTarget, ReplicaState};
use super::super::version::FullSync;
use super::super::{ConnId, Output};
use super::clients::ReplicaSide;
use super::MasterSide;

/// A running fork child.
#[derive(Clone, Debug)]
pub(crate) struct Child {
    pub id: u64,
    pub pid: u32,
    /// Diskless: the replicas its RDB streams to. `None`: it writes the RDB file.
    pub socket_targets: Option<Vec<ConnId>>,
    pub started_ms: u64,
    /// The EOF mark framing a diskless RDB (`$EOF:<mark>` ... `<mark>`).
    pub mark: String,
    /// A socket child's `$EOF:<mark>` line has been sent. The child writes it
    /// (`rdbSaveRioWithEOFMark`) into the same buffered rio as the RDB, so it leaves with the
    /// child's first write, not when the BGSAVE starts.
    pub header_sent: bool,
}

/// A child's exit, as `waitpid` will report it.
#[derive(Clone, Debug)]
pub(crate) struct ExitedChild {
    id: u64,
    ok: bool,
    rdb: Payload,
    cow: u64,
}

impl Child {
    pub fn info(&self) -> BgsaveInfo {
        BgsaveInfo {
            id: self.id,
            target: match &self.socket_targets {
                Some(t) => BgsaveTarget::Sockets(t.clone()),
                None => BgsaveTarget::Disk,
            },
            started_ms: self.started_ms,
        }
    }
}

impl MasterSide {
    fn state_of(&self, conn: ConnId) -> Option<&ReplicaSide> {
        self.clients.get(&conn).and_then(|c| c.replica.as_ref())
    }

    /// Replicas in `state` (waiting for the child `bgsave_id`, if given).
    fn replicas_in(&self, state: ReplicaState, bgsave_id: Option<u64>) -> Vec<ConnId> {
        self.replicas
            .iter()
            .copied()
            .filter(|c| {
                self.state_of(*c).is_some_and(|r| {
                    r.state == state && (bgsave_id.is_none() || r.bgsave_id == bgsave_id)
                })
            })
            .collect()
    }

    /// A replica needs a full sync: join a running disk BGSAVE, wait for the next one, delay
    /// a diskless one, or fork now (`syncCommand`'s last part).
    pub(super) fn decide_rdb_for_new_replica(&mut self, ctx: &mut Ctx, conn: ConnId) {
        let Some(child) = self.child.clone() else {
            // Diskless: wait `repl-diskless-sync-delay` for more replicas to share the
            // transfer (the cron starts it).
            let eof = self.clients.get(&conn).is_some_and(|c| c.capa_eof);
            if ctx.config.repl_diskless_sync && eof && ctx.config.repl_diskless_sync_delay > 0 {
                ctx.log(Level::Notice, "Delay next BGSAVE for diskless SYNC");
            } else {
                self.start_bgsave_for_replication(ctx);
            }
            return;
        };
        if child.socket_targets.is_some() {
            // Its RDB goes straight into other replicas' sockets: nothing to share.
            ctx.log(
                Level::Notice,
                "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC",
            );
            return;
        }
        // A disk child: the new replica can share its file if another replica waits for it
        // and the new one can take what that one takes (it must have every capability the
        // other has, and the same RDB requirements). It then takes over the other's buffer
        // position and its `+FULLRESYNC` offset.
        let (capa, rdb_only) = {
            let c = &self.clients[&conn];
            (c.capa_bits(), c.rdb_only)
        };
        let other = self.replicas.iter().copied().find(|o| {
            *o != conn
                && self.clients.get(o).is_some_and(|oc| {
                    oc.replica.as_ref().is_some_and(|r| {
                        r.state == ReplicaState::WaitBgsaveEnd && r.bgsave_id == Some(child.id)
                    }) && (rdb_only || !oc.rdb_only)
                        && capa & oc.capa_bits() == oc.capa_bits()
                        && oc.rdb_only == rdb_only
                })
        });
        match other {
            Some(o) => {
                let off = self
                    .state_of(o)
                    .map_or(self.store.offset(), |r| r.psync_initial_offset);
                self.store.copy_reader(o, conn);
                self.setup_full_resync(ctx, conn, off, child.id);
                ctx.log(Level::Notice, "Waiting for end of BGSAVE for SYNC");
            }
            None => ctx.log(
                Level::Notice,
                "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC",
            ),
        }
    }

    /// `startBgsaveForReplication`: fork once for every replica waiting to start.
    pub(super) fn start_bgsave_for_replication(&mut self, ctx: &mut Ctx) {
        let waiting = self.replicas_in(ReplicaState::WaitBgsaveStart, None);
        if waiting.is_empty() {
            return;
        }
        // One replica without `capa eof` pushes the whole batch to disk (`mincapa`).
        let mincapa_eof = waiting.iter().all(|c| self.clients[c].capa_eof);
        let socket = ctx.config.repl_diskless_sync && mincapa_eof;
        let target = if socket {
            BgsaveTarget::Sockets(waiting.clone())
        } else {
            BgsaveTarget::Disk
        };
        // Which second channel the batch's replicas use: Valkey names the sync kind in this
        // line (`startBgsaveForReplication`: ` using: normal sync|dual-channel`), 8.2 appends
        // ` (rdb-channel)` to the target.
        let w = ctx.config.version.wording();
        let rdb_only = waiting.iter().any(|c| self.clients[c].rdb_only);
        let suffix = match (w.sync_using, rdb_only) {
            (true, false) => " using: normal sync",
            (true, true) => " using: dual-channel",
            (false, true) => " (rdb-channel)",
            (false, false) => "",
        };
        ctx.log(
            Level::Notice,
            format!(
                "Starting BGSAVE for SYNC with target: {}{suffix}",
                target.as_redis_str()
            ),
        );
        let id = self.next_bgsave_id;
        self.next_bgsave_id += 1;
        let pid = self.next_child_pid;
        self.next_child_pid += 1;
        // The RDB holds the dataset as of now: its replicas stream from the next byte.
        let offset = self.store.offset();
        let mark = ctx.rng.hex40();
        if socket {
            for c in &waiting {
                self.setup_full_resync(ctx, *c, offset, id);
            }
            // Where the child writes: 8.2 and Valkey name it (a dual/RDB-channel child writes
            // straight to the replica's socket).
            let dest = match (rdb_only, ctx.config.version.second_channel()) {
                (true, FullSync::RdbChannel) => " to replica socket",
                (true, _) => " to direct socket to replica",
                (false, _) => w.socket_child,
            };
            ctx.log(
                Level::Notice,
                format!("Background RDB transfer started by pid {pid}{dest}"),
            );
        } else {
            ctx.log(
                Level::Notice,
                format!("Background saving started by pid {pid}"),
            );
            for c in &waiting {
                self.setup_full_resync(ctx, *c, offset, id);
            }
        }
        self.child = Some(Child {
            id,
            pid,
            socket_targets: socket.then(|| waiting.clone()),
            started_ms: ctx.now(),
            mark,
            header_sent: false,
        });
        ctx.emit(Output::StartBgsave {
            id,
            target,
            child_pid: pid,
            offset,
        });
    }

    /// Diskless: RDB bytes from the child go to every target still waiting for them.
    pub fn on_bgsave_data(&mut self, ctx: &mut Ctx, id: u64, p: Payload) {
        let Some(child) = self.child.as_ref().filter(|c| c.id == id) else {
            return;
        };
        let Some(targets) = child.socket_targets.clone() else {
            return;
        };
        self.send_eof_header(ctx, id);
        self.send_to_waiting(ctx, &targets, &p);
    }

    /// The socket child's first write starts with `$EOF:<mark>`.
    fn send_eof_header(&mut self, ctx: &mut Ctx, id: u64) {
        let Some(child) = self.child.as_mut().filter(|c| c.id == id && !c.header_sent) else {
            return;
        };
        child.header_sent = true;
        let header = Payload::Bytes(format!("$EOF:{}\r\n", child.mark).into_bytes());
        let targets = child.socket_targets.clone().unwrap_or_default();
        self.send_to_waiting(ctx, &targets, &header);
    }

    /// What a socket child writes goes to each of its targets still waiting for the RDB: a
    /// replica dropped meanwhile (output buffer limit, timeout) gets nothing more.
    fn send_to_waiting(&mut self, ctx: &mut Ctx, targets: &[ConnId], p: &Payload) {
        for &t in targets {
            if self
                .state_of(t)
                .is_some_and(|r| r.state == ReplicaState::WaitBgsaveEnd)
            {
                self.send_direct(ctx, t, p.clone());
            }
        }
    }

    /// The child exited. Redis reaps a child in `checkChildrenDone`, which `serverCron` calls
    /// every 100 ms (hz 10), so a disk BGSAVE's replicas start receiving the file 0-100 ms
    /// after the child wrote its last byte, at the master's cron phase: their buffers grow
    /// for that long too. A diskless child is handled at once: the parent has already read
    /// the RDB's end from the pipe and written it out, and the replica goes online on its
    /// first `REPLCONF ACK`, which runs `checkChildrenDone` itself (`replconfCommand`).
    pub fn on_child_exit(&mut self, ctx: &mut Ctx, id: u64, ok: bool, rdb: Payload, cow: u64) {
        let disk = self
            .child
            .as_ref()
            .is_some_and(|c| c.id == id && c.socket_targets.is_none());
        if disk {
            // The child's own lines are written as it exits, the parent's when it reaps it.
            if ok {
                let pid = self.child.as_ref().map_or(0, |c| c.pid);
                let w = ctx.config.version.wording();
                ctx.log_as(Level::Notice, 'C', pid, "DB saved on disk");
                ctx.log_as(Level::Notice, 'C', pid, w.cow_text(cow / (1024 * 1024)));
            }
            self.exited_child = Some(ExitedChild { id, ok, rdb, cow });
        } else {
            self.on_bgsave_done(ctx, id, ok, rdb, cow);
        }
    }

    /// `serverCron`'s `checkChildrenDone`: reap the disk child that has exited.
    pub fn check_children_done(&mut self, ctx: &mut Ctx) {
        if let Some(e) = self.exited_child.take() {
            self.on_bgsave_done(ctx, e.id, e.ok, e.rdb, e.cow);
        }
    }

    /// The child was reaped: `backgroundSaveDoneHandler` + `updateSlavesWaitingBgsave`.
    fn on_bgsave_done(&mut self, ctx: &mut Ctx, id: u64, ok: bool, rdb: Payload, cow: u64) {
        if ok {
            // A socket child that wrote nothing still wrote its header.
            self.send_eof_header(ctx, id);
        }
        let Some(child) = self.child.clone().filter(|c| c.id == id) else {
            return;
        };
        self.child = None;
        let w = ctx.config.version.wording();
        let cow_text = w.cow_text(cow / (1024 * 1024));
        let waiting_end = self.replicas_in(ReplicaState::WaitBgsaveEnd, Some(id));
        // `backgroundSaveDoneHandler`: the child's report and the parent's verdict.
        let waiting = match &child.socket_targets {
            None => {
                if ok {
                    ctx.log(Level::Notice, "Background saving terminated with success");
                } else {
                    ctx.log(Level::Warning, "Background saving error");
                }
                waiting_end
            }
            Some(targets) => {
                let alive: Vec<ConnId> = targets
                    .iter()
                    .copied()
                    .filter(|t| waiting_end.contains(t))
                    .collect();
                if ok {
                    for t in &alive {
                        let mark = Payload::Bytes(child.mark.clone().into_bytes());
                        self.send_direct(ctx, *t, mark);
                    }
                    // The child reports its copy-on-write as it finishes writing, before it
                    // closes the pipe; the parent then reads EOF from the pipe.
                    ctx.log_as(Level::Notice, 'C', child.pid, cow_text.clone());
                    // Valkey's dual-channel child reports its CoW twice (seen on 8.1.8 and
                    // 9.1.2, `full-sync-dual-channel`; why is not read).
                    let dual = alive.iter().any(|t| {
                        self.clients[t].rdb_only && self.clients[t].main_ch_client_id.is_none()
                    });
                    if dual {
                        ctx.log_as(Level::Notice, 'C', child.pid, cow_text.clone());
                    }
                    // A second-channel child writes straight to the socket: no pipe to drain.
                    if !alive.iter().all(|t| self.clients[t].rdb_only) {
                        ctx.log(
                            w.pipe_drained_level,
                            format!(
                                "Diskless rdb transfer, done reading from pipe, {} replicas still up.",
                                alive.len()
                            ),
                        );
                    }
                    ctx.log(
                        Level::Notice,
                        "Background RDB transfer terminated with success",
                    );
                } else {
                    ctx.log(Level::Warning, "Background transfer error");
                }
                alive
            }
        };
        // `updateSlavesWaitingBgsave`: what each replica waiting for this RDB does next.
        for c in waiting {
            if !ok {
                ctx.log(
                    Level::Warning,
                    "SYNC failed. BGSAVE child returned an error",
                );
                self.drop_client(ctx, c, true);
            } else if child.socket_targets.is_some() {
                self.diskless_transfer_done(ctx, c);
            } else {
                // `$<size>\r\n` then the file; the replica goes online once all of it is
                // written (see `take_outgoing`).
                if let Some(r) = self.clients.get_mut(&c).and_then(|c| c.replica.as_mut()) {
                    r.state = ReplicaState::SendBulk;
                }
                let pre = format!("${}\r\n", rdb.len());
                self.send_direct(ctx, c, Payload::Bytes(pre.into_bytes()));
                self.send_direct(ctx, c, rdb.clone());
            }
        }
        // `replicationStartPendingFork` runs as soon as a child exits.
        self.start_pending_fork(ctx);
    }

    /// A diskless RDB reached replica `conn` whole.
    fn diskless_transfer_done(&mut self, ctx: &mut Ctx, conn: ConnId) {
        let name = self.replica_name(conn);
        let main_cid = self.clients.get(&conn).and_then(|c| c.main_ch_client_id);
        let rdb_only = self.clients.get(&conn).is_some_and(|c| c.rdb_only);
        if main_cid.is_some() || rdb_only {
            if let Some(main_cid) = main_cid {
                // 8.2: the main connection goes online when the RDB is sent, before the
                // replica has loaded it; the RDB connection is closed (checked,
                // full-sync-rdb-channel).
                let main = self
                    .clients
                    .iter()
                    .find(|(_, c)| c.id == main_cid && c.replica.is_some())
                    .map(|(k, _)| *k);
                if let Some(main) = main {
                    self.replica_put_online(ctx, main, false);
                }
            }
            // An RDB-only connection (8.2's RDB channel, Valkey's dual channel): its job is done.
            ctx.log(
                Level::Notice,
                format!("Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from {} to enable streaming", ctx.config.version.wording().ack_peer),
            );
            ctx.log(
                Level::Notice,
                format!(
                    "RDB transfer completed, rdb only replica ({name}) should be disconnected asap"
                ),
            );
            // It goes once its output is written: the replica closes it on the EOF mark.
            if let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) {
                r.state = ReplicaState::RdbTransmitted;
            }
            return;
        }
        ctx.log(
            Level::Notice,
            format!("Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from {} to enable streaming", ctx.config.version.wording().ack_peer),
        );
        // Online now, but the stream waits for the replica's first ACK: it finds the end of
        // an EOF-marked RDB by its trailing mark, which is much simpler when nothing is glued
        // after it.
        self.replica_put_online(ctx, conn, true);
    }

    /// `replicaPutOnline`: the ACK time is reset so the timeout does not fire at once.
    pub(super) fn replica_put_online(&mut self, ctx: &mut Ctx, conn: ConnId, wait_ack: bool) {
        let (ut, now) = (ctx.unixtime(), ctx.now());
        let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) else {
            return;
        };
        r.state = ReplicaState::Online;
        r.ack_time_s = ut;
        r.ack_time_ms = now;
        r.start_stream_on_ack = wait_ack;
        let name = self.replica_name(conn);
        ctx.log(
            Level::Notice,
            format!("Synchronization with replica {name} succeeded"),
        );
        if !wait_ack {
            ctx.data_ready(conn);
        }
    }

    /// A replica waiting for the running child left: kill the child if nobody else needs it
    /// (`checkChildrenDone`'s cleanup and `killRDBChild` in `freeClient`).
    pub(super) fn after_replica_gone(&mut self, ctx: &mut Ctx, r: ReplicaSide) {
        let Some(child) = self.child.clone() else {
            return;
        };
        if r.bgsave_id != Some(child.id) || r.state != ReplicaState::WaitBgsaveEnd {
            return;
        }
        if !self
            .replicas_in(ReplicaState::WaitBgsaveEnd, Some(child.id))
            .is_empty()
        {
            return;
        }
        match child.socket_targets {
            None => {
                if ctx.config.has_save_points() {
                    return; // the file is also a snapshot someone configured: let it finish
                }
                ctx.emit(Output::KillBgsave { id: child.id });
                self.child = None;
                ctx.log(Level::Warning, "Background saving terminated by signal 10");
            }
            Some(_) => {
                // Valkey logs the kill at NOTICE and names the child's pipe transfer.
                let w = ctx.config.version.wording();
                ctx.log(
                    w.pipe_drained_level,
                    "Diskless rdb transfer, last replica dropped, killing fork child.",
                );
                ctx.emit(Output::KillBgsave { id: child.id });
                self.child = None;
                let what = if w.sync_using {
                    "RDB transfer"
                } else {
                    "transfer"
                };
                ctx.log(
                    Level::Warning,
                    format!("Background {what} terminated by signal 10"),
                );
            }
        }
        self.start_pending_fork(ctx);
    }

    /// `replicationStartPendingFork` (`shouldStartChildReplication`): replicas waiting for a
    /// BGSAVE get one when no child runs and either sync is on disk, enough replicas wait
    /// (`repl-diskless-sync-max-replicas`), or the longest waiting one has waited
    /// `repl-diskless-sync-delay` seconds (on the seconds clock: the effective delay lands
    /// within about a second of the setting).
    pub(super) fn start_pending_fork(&mut self, ctx: &mut Ctx) {
        if self.child.is_some() {
            return;
        }
        let ut = ctx.unixtime();
        let mut n = 0u64;
        let mut max_idle = 0u64;
        for c in &self.replicas {
            if let Some(cl) = self.clients.get(c) {
                if cl
                    .replica
                    .as_ref()
                    .is_some_and(|r| r.state == ReplicaState::WaitBgsaveStart)
                {
                    n += 1;
                    let idle = ut.saturating_sub(ctx.clock.unixtime_of(cl.last_interaction_ms));
                    max_idle = max_idle.max(idle);
                }
            }
        }
        if n == 0 {
            return;
        }
        let cfg = &ctx.config;
        if !cfg.repl_diskless_sync
            || (cfg.repl_diskless_sync_max_replicas > 0 && n >= cfg.repl_diskless_sync_max_replicas)
            || max_idle >= cfg.repl_diskless_sync_delay
        {
            self.start_bgsave_for_replication(ctx);
        }
    }
}
