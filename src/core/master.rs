//! The master half: SYNC/PSYNC, BGSAVE for replication, feeding the stream, output buffer
//! limits, REPLCONF, WAIT and the master part of `replicationCron`.

use super::instance::{Child, Instance, ReplState, ReplicaSide, Waiter};
use super::log::Level;
use super::payload::Payload;
use super::{BgsaveTarget, ConnId, Output};
use crate::view::MarkKind;
use crate::wire::encode_command;

impl Instance {
    /// `ip:listening-port` (or `ip:<unknown-replica-port>`), as Redis names a replica.
    pub(crate) fn replica_name(&self, conn: ConnId) -> String {
        let Some(c) = self.clients.get(&conn) else {
            return format!("client id #{}", conn.0);
        };
        let ip = match &c.announced_ip {
            Some(ip) => ip.clone(),
            None => c
                .peer
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or_else(|| c.peer.clone()),
        };
        match c.listening_port {
            Some(p) => format!("{ip}:{p}"),
            None => format!("{ip}:<unknown-replica-port>"),
        }
    }

    /// `catClientInfoString`, with the fields we cannot know set to plausible constants.
    pub(crate) fn client_info_string(&self, conn: ConnId) -> String {
        let Some(c) = self.clients.get(&conn) else {
            return String::new();
        };
        let flags = if c.replica.is_some() { "S" } else { "N" };
        let omem = if c.replica.is_some() {
            self.store.used(conn)
        } else {
            0
        };
        let oll = if c.replica.is_some() {
            self.store.oll(conn)
        } else {
            0
        };
        let age = self.now.saturating_sub(c.created_ms) / 1000;
        let idle = self.now.saturating_sub(c.last_interaction_ms) / 1000;
        if self.config.replication_model == super::config::ReplicationModel::V6 {
            // 6.2's layout: no ssub/multi-mem/rbs/rbp/resp fields yet.
            return format!(
                "id={} addr={} laddr={}:{} fd={} name= age={} idle={} flags={} db=0 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1",
                c.id,
                c.peer,
                self.ip,
                self.config.port,
                8 + (c.id % 1000),
                age,
                idle,
                flags,
                oll,
                omem,
                omem + 1800,
                c.last_cmd
            );
        }
        format!(
            "id={} addr={} laddr={}:{} fd={} name= age={} idle={} flags={} db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp=2",
            c.id,
            c.peer,
            self.ip,
            self.config.port,
            8 + (c.id % 1000),
            age,
            idle,
            flags,
            oll,
            omem,
            omem + 1800,
            c.last_cmd
        )
    }

    // ------------------------------------------------------------------ SYNC / PSYNC

    /// `syncCommand` (spec 4.1), for both SYNC and PSYNC.
    pub(crate) fn cmd_sync(&mut self, conn: ConnId, args: &[String], is_psync: bool) {
        let Some(c) = self.clients.get(&conn) else {
            return;
        };
        if c.replica.is_some() {
            return; // already a replica: ignore
        }
        if is_psync && args.len() < 3 {
            self.reply_error(conn, "ERR wrong number of arguments for 'psync' command");
            return;
        }
        if self.link.master.is_some() && !self.link.is_connected() {
            self.reply_error(
                conn,
                "NOMASTERLINK Can't SYNC while not connected with my master",
            );
            return;
        }
        if !c.out.is_empty() {
            // A replica must read each handshake reply before PSYNC (spec 4.1 step 5).
            self.reply_error(conn, "ERR SYNC and PSYNC are invalid with pending output");
            return;
        }
        let name = self.replica_name(conn);
        self.log(
            Level::Notice,
            format!("Replica {name} asks for synchronization"),
        );
        let mut pre_psync = false;
        let cause;
        if is_psync {
            let Ok(off) = args[2].parse::<i64>() else {
                self.log(
                    Level::Warning,
                    format!("Replica {name} asks for synchronization but with a wrong offset"),
                );
                self.reply_error(conn, "ERR value is not an integer or out of range");
                return;
            };
            match self.try_partial_resync(conn, &args[1], off) {
                Ok(()) => return,
                Err(why) => cause = why,
            }
            // Valkey 8 dual channel: the RDB goes over a second connection.
            let dual = self.clients.get(&conn).is_some_and(|c| c.capa_dual)
                && self.config.dual_channel_replication_enabled
                && self.config.repl_diskless_sync;
            if dual {
                self.log(Level::Notice, format!("Replica {name} is capable of dual channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated RDB channel."));
                self.reply_str(conn, "+DUALCHANNELSYNC\r\n");
                self.mark(
                    MarkKind::FullSyncStart,
                    Some(conn),
                    format!("{cause}; dual-channel sync"),
                );
                return;
            }
        } else {
            pre_psync = true;
            cause = "the replica sent SYNC (no PSYNC support)".to_string();
        }
        self.stats.sync_full += 1;
        let ut = self.unixtime();
        let now = self.now;
        if let Some(c) = self.clients.get_mut(&conn) {
            c.replica = Some(ReplicaSide {
                state: ReplState::WaitBgsaveStart,
                psync_initial_offset: -1,
                ack_off: 0,
                ack_time_s: ut,
                ack_time_ms: now,
                start_stream_on_ack: false,
                pre_psync,
                soft_since_s: None,
                soft_since_ms: None,
                bgsave_id: None,
            });
        }
        self.replicas.push(conn);
        self.mark(MarkKind::FullSyncStart, Some(conn), cause);
        if self.replicas.len() == 1 && !self.store.has_backlog() {
            // The first replica creates the backlog with a fresh history: nobody can hold
            // offsets of the old (unbuffered) one.
            self.change_and_clear_replid();
            let size = self.config.repl_backlog_size;
            self.store.create_backlog(size, self.master_repl_offset);
            let t = format!(
                "Replication backlog created, my new replication IDs are '{}' and '{}'",
                self.replid, self.replid2
            );
            self.log(Level::Notice, t);
        }
        self.decide_rdb_for_new_replica(conn);
    }

    /// `masterTryPartialResynchronization` (spec 2.4). `Err` carries the human cause.
    fn try_partial_resync(&mut self, conn: ConnId, id: &str, off: i64) -> Result<(), String> {
        let name = self.replica_name(conn);
        let is_this = id.eq_ignore_ascii_case(&self.replid);
        let is_prev = id.eq_ignore_ascii_case(&self.replid2);
        if !(is_this || (is_prev && off <= self.second_replid_offset)) {
            let cause;
            if id.starts_with('?') {
                self.log(
                    Level::Notice,
                    format!("Full resync requested by replica {name}"),
                );
                return Err("the replica has no cached master (PSYNC ? -1)".to_string());
            } else if !is_this && !is_prev {
                self.log(
                    Level::Notice,
                    format!(
                        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                        id, self.replid, self.replid2
                    ),
                );
                cause = if self
                    .expired_replids
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(id))
                {
                    format!(
                        "replid mismatch: history {} was dropped with the backlog after repl-backlog-ttl {} s without replicas",
                        short(id),
                        self.config.repl_backlog_ttl
                    )
                } else {
                    format!(
                        "replid mismatch: the replica asked for history {}, this master knows {} and {}",
                        short(id),
                        short(&self.replid),
                        short(&self.replid2)
                    )
                };
            } else {
                self.log(
                    Level::Notice,
                    format!(
                        "Partial resynchronization not accepted: Requested offset for second ID was {}, but I can reply up to {}",
                        off, self.second_replid_offset
                    ),
                );
                cause = format!(
                    "offset {off} is beyond {} where the previous history ends",
                    self.second_replid_offset
                );
            }
            self.stats.sync_partial_err += 1;
            self.mark(MarkKind::PartialSyncRefused, Some(conn), cause.clone());
            return Err(cause);
        }
        let first = self.store.backlog_offset();
        let end = first + self.store.histlen() as i64;
        if !self.store.has_backlog() || off < first || off > end {
            self.log(
                Level::Notice,
                format!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {off})."),
            );
            if off > self.master_repl_offset {
                self.log(
                    Level::Warning,
                    format!("Warning: replica {name} tried to PSYNC with an offset that is greater than the master replication offset."),
                );
            }
            let cause = if self.store.has_backlog() {
                format!("offset {off} is outside the backlog [{first}, {end}]")
            } else {
                format!("offset {off} asked but there is no backlog")
            };
            self.stats.sync_partial_err += 1;
            self.mark(MarkKind::PartialSyncRefused, Some(conn), cause.clone());
            return Err(cause);
        }
        // Accepted: online at once, the backlog tail follows +CONTINUE.
        let ut = self.unixtime();
        let now = self.now;
        let psync2 = self.clients.get(&conn).is_some_and(|c| c.capa_psync2);
        if let Some(c) = self.clients.get_mut(&conn) {
            c.replica = Some(ReplicaSide {
                state: ReplState::Online,
                psync_initial_offset: off - 1,
                ack_off: 0,
                ack_time_s: ut,
                ack_time_ms: now,
                start_stream_on_ack: false,
                pre_psync: false,
                soft_since_s: None,
                soft_since_ms: None,
                bgsave_id: None,
            });
        }
        self.replicas.push(conn);
        let reply = if psync2 {
            format!("+CONTINUE {}\r\n", self.replid)
        } else {
            "+CONTINUE\r\n".to_string()
        };
        self.reply_str(conn, &reply);
        self.store.attach_at(conn, off, self.master_repl_offset);
        // A dual-channel main connection takes over the RDB channel's pin.
        self.release_rdb_channel_pin(conn);
        let n = self.master_repl_offset - off + 1;
        self.log(
            Level::Notice,
            format!("Partial resynchronization request from {name} accepted. Sending {n} bytes of backlog starting from offset {off}."),
        );
        self.stats.sync_partial_ok += 1;
        self.mark(
            MarkKind::PartialSyncAccepted,
            Some(conn),
            format!("offset {off} is inside the backlog [{first}, {end}]: {n} bytes resent"),
        );
        self.data_ready(conn);
        Ok(())
    }

    /// Spec 4.3: join a running disk BGSAVE, wait for the next one, delay, or fork now.
    fn decide_rdb_for_new_replica(&mut self, conn: ConnId) {
        if let Some(child) = self.child.clone() {
            if child.socket_targets.is_none() {
                let (capa, rdb_only) = {
                    let c = &self.clients[&conn];
                    (capa_bits(c), c.rdb_only)
                };
                let other = self.replicas.iter().copied().find(|o| {
                    *o != conn
                        && self.clients.get(o).is_some_and(|oc| {
                            oc.replica.as_ref().is_some_and(|r| {
                                r.state == ReplState::WaitBgsaveEnd && r.bgsave_id == Some(child.id)
                            }) && (rdb_only || !oc.rdb_only)
                                && capa & capa_bits(oc) == capa_bits(oc)
                                && oc.rdb_only == rdb_only
                        })
                });
                if let Some(o) = other {
                    let off = self.clients[&o]
                        .replica
                        .as_ref()
                        .map_or(self.master_repl_offset, |r| r.psync_initial_offset);
                    self.store.copy_reader(o, conn);
                    self.setup_full_resync(conn, off, child.id);
                    self.log(Level::Notice, "Waiting for end of BGSAVE for SYNC");
                } else {
                    self.log(Level::Notice, "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
                }
            } else {
                self.log(
                    Level::Notice,
                    "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC",
                );
            }
            return;
        }
        let eof = self.clients.get(&conn).is_some_and(|c| c.capa_eof);
        if self.config.repl_diskless_sync && eof && self.config.repl_diskless_sync_delay > 0 {
            self.log(Level::Notice, "Delay next BGSAVE for diskless SYNC");
        } else {
            self.start_bgsave_for_replication();
        }
    }

    /// `replicationSetupSlaveForFullResync`: from here the replica accumulates the stream.
    fn setup_full_resync(&mut self, conn: ConnId, offset: i64, bgsave_id: u64) {
        self.slaveseldb = -1; // force a SELECT before the first propagated command
        let (pre, rdb_channel, client_id) = match self.clients.get_mut(&conn) {
            Some(c) => {
                if let Some(r) = c.replica.as_mut() {
                    r.state = ReplState::WaitBgsaveEnd;
                    r.psync_initial_offset = offset;
                    r.bgsave_id = Some(bgsave_id);
                }
                (
                    c.replica.as_ref().is_some_and(|r| r.pre_psync),
                    c.rdb_channel,
                    c.id,
                )
            }
            None => return,
        };
        if rdb_channel {
            // Valkey dual channel: the end offset travels on the RDB channel, and the stream
            // after it is pinned until the main channel PSYNCs.
            let name = self.replica_name(conn);
            let line = format!("$ENDOFF:{} {} 0 {}\r\n", offset, self.replid, client_id);
            self.reply_str(conn, &line);
            self.log(
                Level::Notice,
                format!(
                    "Sending to replica {name} RDB end offset {offset} and client-id {client_id}"
                ),
            );
            self.store
                .attach_at(conn, offset + 1, self.master_repl_offset);
        } else if !pre {
            let line = format!("+FULLRESYNC {} {}\r\n", self.replid, offset);
            self.reply_str(conn, &line);
        }
    }

    fn release_rdb_channel_pin(&mut self, main: ConnId) {
        let Some(rdb_id) = self.clients.get(&main).and_then(|c| c.rdb_client_id_hint()) else {
            return;
        };
        let rdb_conn = self
            .clients
            .iter()
            .find(|(_, c)| c.id == rdb_id && c.rdb_channel)
            .map(|(k, _)| *k);
        if let Some(rc) = rdb_conn {
            let size = self.config.repl_backlog_size;
            self.store.detach(rc, size, self.master_repl_offset);
        }
    }

    /// `startBgsaveForReplication`: fork for every replica waiting to start.
    pub(crate) fn start_bgsave_for_replication(&mut self) {
        let waiting: Vec<ConnId> = self
            .replicas
            .iter()
            .copied()
            .filter(|c| {
                self.clients
                    .get(c)
                    .and_then(|c| c.replica.as_ref())
                    .is_some_and(|r| r.state == ReplState::WaitBgsaveStart)
            })
            .collect();
        if waiting.is_empty() {
            return;
        }
        // One replica without `capa eof` pushes the whole batch to disk (mincapa).
        let mincapa_eof = waiting.iter().all(|c| self.clients[c].capa_eof);
        let socket = self.config.repl_diskless_sync && mincapa_eof;
        let target_name = if socket { "replicas sockets" } else { "disk" };
        self.log(
            Level::Notice,
            format!("Starting BGSAVE for SYNC with target: {target_name}"),
        );
        let id = self.next_bgsave_id;
        self.next_bgsave_id += 1;
        let pid = self.next_child_pid;
        self.next_child_pid += 1;
        let offset = self.master_repl_offset;
        let mark = self.rng.hex40();
        if socket {
            for c in &waiting {
                self.setup_full_resync(*c, offset, id);
                let pre = format!("$EOF:{mark}\r\n");
                self.reply_str(*c, &pre);
            }
            self.log(
                Level::Notice,
                format!("Background RDB transfer started by pid {pid}"),
            );
        } else {
            self.log(
                Level::Notice,
                format!("Background saving started by pid {pid}"),
            );
            for c in &waiting {
                self.setup_full_resync(*c, offset, id);
            }
        }
        self.child = Some(Child {
            id,
            pid,
            socket_targets: socket.then(|| waiting.clone()),
            started_ms: self.now,
            mark,
        });
        let target = if socket {
            BgsaveTarget::Sockets(waiting)
        } else {
            BgsaveTarget::Disk
        };
        self.emit(Output::StartBgsave {
            id,
            target,
            child_pid: pid,
            offset,
        });
    }

    /// Diskless: RDB bytes from the child go to every target still connected.
    pub(crate) fn on_bgsave_data(&mut self, id: u64, p: Payload) {
        let Some(child) = self.child.as_ref().filter(|c| c.id == id) else {
            return;
        };
        let Some(targets) = child.socket_targets.clone() else {
            return;
        };
        for t in targets {
            if self
                .clients
                .get(&t)
                .and_then(|c| c.replica.as_ref())
                .is_some_and(|r| r.state == ReplState::WaitBgsaveEnd)
            {
                self.send_direct(t, p.clone());
            }
        }
    }

    /// The child exited: `backgroundSaveDoneHandler` + `updateSlavesWaitingBgsave`.
    pub(crate) fn on_bgsave_done(&mut self, id: u64, ok: bool, rdb: Payload, cow_bytes: u64) {
        let Some(child) = self.child.clone().filter(|c| c.id == id) else {
            return;
        };
        self.child = None;
        let mb = cow_bytes / (1024 * 1024);
        let waiting_end: Vec<ConnId> = self
            .replicas
            .iter()
            .copied()
            .filter(|c| {
                self.clients
                    .get(c)
                    .and_then(|c| c.replica.as_ref())
                    .is_some_and(|r| r.state == ReplState::WaitBgsaveEnd && r.bgsave_id == Some(id))
            })
            .collect();
        match child.socket_targets {
            None => {
                if ok {
                    self.log_as(Level::Notice, 'C', child.pid, "DB saved on disk");
                    self.log_as(Level::Notice, 'C', child.pid, self.cow_log_text(mb));
                    self.log(Level::Notice, "Background saving terminated with success");
                } else {
                    self.log(Level::Warning, "Background saving error");
                }
                for c in waiting_end {
                    if !ok {
                        self.log(
                            Level::Warning,
                            "SYNC failed. BGSAVE child returned an error",
                        );
                        self.drop_client(c, true);
                        continue;
                    }
                    if let Some(r) = self.clients.get_mut(&c).and_then(|c| c.replica.as_mut()) {
                        r.state = ReplState::SendBulk;
                    }
                    let pre = format!("${}\r\n", rdb.len());
                    self.reply_str(c, &pre);
                    self.send_direct(c, rdb.clone());
                }
            }
            Some(targets) => {
                let alive: Vec<ConnId> = targets
                    .iter()
                    .copied()
                    .filter(|t| waiting_end.contains(t))
                    .collect();
                if ok {
                    for t in &alive {
                        self.send_direct(*t, Payload::Bytes(child.mark.clone().into_bytes()));
                    }
                    self.log(
                        Level::Warning,
                        format!(
                            "Diskless rdb transfer, done reading from pipe, {} replicas still up.",
                            alive.len()
                        ),
                    );
                    self.log_as(Level::Notice, 'C', child.pid, self.cow_log_text(mb));
                    self.log(
                        Level::Notice,
                        "Background RDB transfer terminated with success",
                    );
                } else {
                    self.log(Level::Warning, "Background transfer error");
                }
                for t in alive {
                    if !ok {
                        self.log(
                            Level::Warning,
                            "SYNC failed. BGSAVE child returned an error",
                        );
                        self.drop_client(t, true);
                        continue;
                    }
                    let name = self.replica_name(t);
                    if self.clients.get(&t).is_some_and(|c| c.rdb_only) {
                        self.log(Level::Notice, format!("RDB transfer completed, rdb only replica ({name}) should be disconnected asap"));
                        if let Some(r) = self.clients.get_mut(&t).and_then(|c| c.replica.as_mut()) {
                            r.state = ReplState::RdbTransmitted;
                        }
                        continue;
                    }
                    self.log(
                        Level::Notice,
                        format!("Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming"),
                    );
                    self.replica_put_online(t, true);
                }
            }
        }
        // replicationStartPendingFork runs as soon as a child exits.
        self.start_pending_fork();
    }

    /// `replicaPutOnline`.
    pub(crate) fn replica_put_online(&mut self, conn: ConnId, wait_ack: bool) {
        let ut = self.unixtime();
        let now = self.now;
        if let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) {
            r.state = ReplState::Online;
            r.ack_time_s = ut;
            r.ack_time_ms = now;
            r.start_stream_on_ack = wait_ack;
        } else {
            return;
        }
        let name = self.replica_name(conn);
        self.log(
            Level::Notice,
            format!("Synchronization with replica {name} succeeded"),
        );
        if !wait_ack {
            self.data_ready(conn);
        }
    }

    /// Kill a child nobody needs any more (spec 4.3, last paragraphs).
    pub(crate) fn after_replica_gone(&mut self, _conn: ConnId, r: ReplicaSide) {
        let Some(child) = self.child.clone() else {
            return;
        };
        if r.bgsave_id != Some(child.id) || r.state != ReplState::WaitBgsaveEnd {
            return;
        }
        let others = self.replicas.iter().any(|c| {
            self.clients
                .get(c)
                .and_then(|c| c.replica.as_ref())
                .is_some_and(|o| {
                    o.state == ReplState::WaitBgsaveEnd && o.bgsave_id == Some(child.id)
                })
        });
        if others {
            return;
        }
        match child.socket_targets {
            None => {
                if self.config.has_save_points() {
                    return; // the file is also a snapshot: let it finish
                }
                self.emit(Output::KillBgsave { id: child.id });
                self.child = None;
                self.log(Level::Warning, "Background saving terminated by signal 10");
            }
            Some(_) => {
                self.log(
                    Level::Warning,
                    "Diskless rdb transfer, last replica dropped, killing fork child.",
                );
                self.emit(Output::KillBgsave { id: child.id });
                self.child = None;
                self.log(
                    Level::Warning,
                    "Background transfer terminated by signal 10",
                );
            }
        }
        self.start_pending_fork();
    }

    /// `replicationStartPendingFork`.
    pub(crate) fn start_pending_fork(&mut self) {
        if self.child.is_some() {
            return;
        }
        let ut = self.unixtime();
        let mut n = 0u64;
        let mut max_idle = 0u64;
        for c in &self.replicas {
            if let Some(cl) = self.clients.get(c) {
                if cl
                    .replica
                    .as_ref()
                    .is_some_and(|r| r.state == ReplState::WaitBgsaveStart)
                {
                    n += 1;
                    max_idle =
                        max_idle.max(ut.saturating_sub(self.unixtime_of(cl.last_interaction_ms)));
                }
            }
        }
        if n == 0 {
            return;
        }
        let cfg = &self.config;
        if !cfg.repl_diskless_sync
            || (cfg.repl_diskless_sync_max_replicas > 0 && n >= cfg.repl_diskless_sync_max_replicas)
            || max_idle >= cfg.repl_diskless_sync_delay
        {
            self.start_bgsave_for_replication();
        }
    }

    // ------------------------------------------------------------------ the stream

    /// A write on this node (`replicationFeedSlaves`): SELECT when the db changes, then the
    /// command. Replicas and masters without a backlog produce no stream.
    pub(crate) fn propagate(&mut self, db: i64, p: Payload) {
        if self.link.master.is_some() || !self.store.has_backlog() {
            return;
        }
        if self.slaveseldb != db {
            let dbs = db.to_string();
            let sel = encode_command(&["SELECT", &dbs]);
            self.feed_stream(Payload::Bytes(sel));
            self.slaveseldb = db;
        }
        self.feed_stream(p);
    }

    /// Keyless stream commands the master generates (PING, GETACK): fed with the current
    /// `slaveseldb`, so they never trigger a SELECT.
    pub(crate) fn feed_stream_from_master(&mut self, p: Payload) {
        if self.link.master.is_some() || !self.store.has_backlog() {
            return;
        }
        self.feed_stream(p);
    }

    /// `feedReplicationBuffer`: append to the backlog/buffers, advance the offset, check
    /// output buffer limits of the replicas that just got a new block.
    pub(crate) fn feed_stream(&mut self, p: Payload) {
        if !self.store.has_backlog() || p.is_empty() {
            return;
        }
        let eligible: Vec<ConnId> = self
            .replicas
            .iter()
            .copied()
            .filter(|c| {
                self.clients.get(c).is_some_and(|cl| {
                    !cl.rdb_only
                        && cl.replica.as_ref().is_some_and(|r| {
                            r.state != ReplState::WaitBgsaveStart
                                && r.state != ReplState::RdbTransmitted
                        })
                })
            })
            .collect();
        let size = self.config.repl_backlog_size;
        let len = p.len();
        let check = self
            .store
            .feed(&p, self.master_repl_offset, &eligible, size);
        self.master_repl_offset += len as i64;
        for c in check {
            self.check_output_buffer(c, true);
        }
        for c in eligible {
            if self.streaming(c) {
                self.data_ready(c);
            }
        }
    }

    /// `checkClientOutputBufferLimits` + `closeClientOnOutputBufferLimitReached`.
    /// `async_close`: called from the write path ("scheduled to be closed ASAP") rather than
    /// from clientsCron ("closed").
    pub(crate) fn check_output_buffer(&mut self, conn: ConnId, async_close: bool) -> bool {
        let Some(c) = self.clients.get(&conn) else {
            return false;
        };
        if c.replica.is_none() || c.rdb_only {
            return false;
        }
        let lim = self.config.effective_replica_limit();
        let used = self.store.used(conn);
        let ut = self.unixtime();
        let now = self.now;
        let hard = lim.hard != 0 && used >= lim.hard;
        let mut soft = false;
        if let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) {
            if lim.soft != 0 && used >= lim.soft {
                match r.soft_since_s {
                    None => {
                        r.soft_since_s = Some(ut);
                        r.soft_since_ms = Some(now);
                    }
                    // Strictly longer than soft_seconds on the seconds clock.
                    Some(since) => soft = ut.saturating_sub(since) > lim.soft_seconds,
                }
            } else {
                r.soft_since_s = None;
                r.soft_since_ms = None;
            }
        }
        if !(hard || soft) {
            return false;
        }
        let info = self.client_info_string(conn);
        let text = if async_close {
            format!(
                "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
            )
        } else {
            format!("Client {info} closed for overcoming of output buffer limits.")
        };
        self.log(Level::Warning, text);
        let which = if hard {
            format!("hard limit {} reached", lim.hard)
        } else {
            format!(
                "over the soft limit {} for more than {} s",
                lim.soft, lim.soft_seconds
            )
        };
        self.mark(
            MarkKind::OutputBufferCutOff,
            Some(conn),
            format!("output buffer of {used} bytes: {which}"),
        );
        self.drop_client(conn, true);
        true
    }

    /// `clientsCron` at hz 10: visits `max(numclients/10, min(numclients, 5))` clients per
    /// call, so with few replicas each is checked every 100 ms.
    pub(crate) fn clients_cron(&mut self) {
        let n = self.replicas.len();
        if n == 0 {
            return;
        }
        let iterations = (n / 10).max(n.min(5));
        for _ in 0..iterations {
            if self.replicas.is_empty() {
                break;
            }
            self.clients_cron_cursor %= self.replicas.len();
            let c = self.replicas[self.clients_cron_cursor];
            if !self.check_output_buffer(c, false) {
                self.clients_cron_cursor += 1;
            }
        }
    }

    /// The master part of `replicationCron`.
    pub(crate) fn master_cron(&mut self) {
        let ut = self.unixtime();
        // PING every repl-ping-replica-period cron loops (only a top-level master).
        if self.repl_cron_loops % self.config.repl_ping_replica_period.max(1) == 0
            && !self.replicas.is_empty()
        {
            self.feed_stream_from_master(Payload::Bytes(encode_command(&["ping"])));
        }
        // `\n` to replicas waiting for their RDB (outside the stream).
        let disk_child = self
            .child
            .as_ref()
            .is_some_and(|c| c.socket_targets.is_none());
        for c in self.replicas.clone() {
            let st = self
                .clients
                .get(&c)
                .and_then(|c| c.replica.as_ref())
                .map(|r| r.state);
            if st == Some(ReplState::WaitBgsaveStart)
                || (st == Some(ReplState::WaitBgsaveEnd) && disk_child)
            {
                self.send_direct(c, Payload::Bytes(b"\n".to_vec()));
            }
        }
        // Timeouts.
        let socket_child = self
            .child
            .as_ref()
            .is_some_and(|c| c.socket_targets.is_some());
        for c in self.replicas.clone() {
            let Some(cl) = self.clients.get(&c) else {
                continue;
            };
            let Some(r) = cl.replica.as_ref() else {
                continue;
            };
            let name = self.replica_name(c);
            if r.state == ReplState::Online
                && !r.pre_psync
                && ut.saturating_sub(r.ack_time_s) > self.config.repl_timeout
            {
                self.log(
                    Level::Warning,
                    format!("Disconnecting timedout replica (streaming sync): {name}"),
                );
                self.mark(
                    MarkKind::Timeout,
                    Some(c),
                    format!(
                        "no REPLCONF ACK for more than repl-timeout {} s",
                        self.config.repl_timeout
                    ),
                );
                self.drop_client(c, true);
            } else if r.state == ReplState::WaitBgsaveEnd
                && socket_child
                && cl
                    .partial_write_since_s
                    .is_some_and(|s| ut.saturating_sub(s) > self.config.repl_timeout)
            {
                self.log(
                    Level::Warning,
                    format!("Disconnecting timedout replica (full sync): {name}"),
                );
                self.mark(
                    MarkKind::Timeout,
                    Some(c),
                    "diskless transfer stalled for more than repl-timeout",
                );
                self.drop_client(c, true);
            }
        }
        // Backlog TTL: only a master with no replicas frees it, and its history with it.
        if self.link.master.is_none()
            && self.replicas.is_empty()
            && self.config.repl_backlog_ttl > 0
            && self.store.has_backlog()
        {
            let idle = ut.saturating_sub(self.repl_no_slaves_since_s);
            if idle > self.config.repl_backlog_ttl {
                // Remember the abandoned history so a later refusal can say why.
                self.expired_replids.push(self.replid.clone());
                self.change_and_clear_replid();
                self.store.free_backlog();
                let ttl = self.config.repl_backlog_ttl;
                self.log(
                    Level::Notice,
                    format!(
                        "Replication backlog freed after {ttl} seconds without connected replicas."
                    ),
                );
            }
        }
        self.start_pending_fork();
    }

    // ------------------------------------------------------------------ REPLCONF, WAIT

    pub(crate) fn cmd_replconf(&mut self, conn: ConnId, args: &[String]) {
        if args.len() % 2 == 0 {
            self.reply_error(conn, "ERR syntax error");
            return;
        }
        let mut i = 1;
        while i + 1 < args.len() {
            let opt = args[i].to_ascii_lowercase();
            let val = &args[i + 1];
            match opt.as_str() {
                "listening-port" => match val.parse::<u16>() {
                    Ok(p) => {
                        if let Some(c) = self.clients.get_mut(&conn) {
                            c.listening_port = Some(p);
                        }
                    }
                    Err(_) => {
                        self.reply_error(conn, "ERR value is not an integer or out of range");
                        return;
                    }
                },
                "ip-address" => {
                    if let Some(c) = self.clients.get_mut(&conn) {
                        c.announced_ip = Some(val.clone());
                    }
                }
                "capa" => {
                    if let Some(c) = self.clients.get_mut(&conn) {
                        match val.to_ascii_lowercase().as_str() {
                            "eof" => c.capa_eof = true,
                            "psync2" => c.capa_psync2 = true,
                            "dual-channel" => c.capa_dual = true,
                            _ => {} // unknown capas are ignored
                        }
                    }
                }
                "ack" => {
                    // Never replied to; only replicas count.
                    let off = val.parse::<i64>().unwrap_or(0);
                    self.on_replica_ack(conn, off);
                    return;
                }
                "getack" => return, // only meaningful on the master link (handled there)
                "rdb-only" => {
                    if let Some(c) = self.clients.get_mut(&conn) {
                        c.rdb_only = val == "1";
                    }
                }
                "rdb-channel" => {
                    if let Some(c) = self.clients.get_mut(&conn) {
                        c.rdb_channel = val == "1";
                    }
                }
                "set-rdb-client-id" => {
                    if let (Ok(id), Some(c)) = (val.parse::<u64>(), self.clients.get_mut(&conn)) {
                        c.rdb_client_id = Some(id);
                    }
                }
                "rdb-filter-only" => {}
                _ => {
                    self.reply_error(
                        conn,
                        &format!("ERR Unrecognized REPLCONF option: {}", args[i]),
                    );
                    return;
                }
            }
            i += 2;
        }
        self.reply_str(conn, "+OK\r\n");
    }

    fn on_replica_ack(&mut self, conn: ConnId, off: i64) {
        let ut = self.unixtime();
        let now = self.now;
        let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) else {
            return;
        };
        r.ack_off = r.ack_off.max(off);
        r.ack_time_s = ut;
        r.ack_time_ms = now;
        if r.start_stream_on_ack && r.state == ReplState::Online {
            // Diskless: the replica found the EOF mark; the stream may flow now.
            r.start_stream_on_ack = false;
            self.data_ready(conn);
        }
    }

    pub(crate) fn cmd_wait(&mut self, conn: ConnId, args: &[String]) {
        if args.len() != 3 {
            self.reply_error(conn, "ERR wrong number of arguments for 'wait' command");
            return;
        }
        if self.link.master.is_some() {
            self.reply_error(conn, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        let (Ok(num), Ok(timeout)) = (args[1].parse::<i64>(), args[2].parse::<i64>()) else {
            self.reply_error(conn, "ERR value is not an integer or out of range");
            return;
        };
        if timeout < 0 {
            self.reply_error(conn, "ERR timeout is negative");
            return;
        }
        // Redis waits for the client's `woff` (the offset after its previous command); the
        // core does not see the client's other commands, so it waits for everything
        // propagated so far, which is the same or slightly more.
        let woff = self.master_repl_offset;
        let acked = self.acked_replicas(woff);
        if acked as i64 >= num {
            self.reply_str(conn, &format!(":{acked}\r\n"));
            return;
        }
        let deadline_ms = (timeout > 0).then(|| self.now + timeout as u64);
        self.waiters.push(Waiter {
            conn,
            numreplicas: num.max(0) as u64,
            woff,
            deadline_ms,
        });
        self.get_ack_pending = true;
    }

    fn acked_replicas(&self, woff: i64) -> u64 {
        self.replicas
            .iter()
            .filter(|c| {
                self.clients
                    .get(c)
                    .and_then(|c| c.replica.as_ref())
                    .is_some_and(|r| r.state == ReplState::Online && r.ack_off >= woff)
            })
            .count() as u64
    }

    pub(crate) fn process_waiters(&mut self) {
        let mut i = 0;
        while i < self.waiters.len() {
            let w = self.waiters[i].clone();
            let n = self.acked_replicas(w.woff);
            if n >= w.numreplicas {
                self.waiters.remove(i);
                self.reply_str(w.conn, &format!(":{n}\r\n"));
            } else {
                i += 1;
            }
        }
    }

    pub(crate) fn expire_waiters(&mut self) {
        let now = self.now;
        let mut i = 0;
        while i < self.waiters.len() {
            let w = self.waiters[i].clone();
            if w.deadline_ms.is_some_and(|d| d <= now) {
                self.waiters.remove(i);
                let n = self.acked_replicas(w.woff);
                self.reply_str(w.conn, &format!(":{n}\r\n"));
            } else {
                i += 1;
            }
        }
    }
}

impl Instance {
    /// The child's copy-on-write report: 7.0 wording, or 6.x's for the 6.x model.
    fn cow_log_text(&self, mb: u64) -> String {
        match self.config.replication_model {
            super::config::ReplicationModel::V7 => {
                format!("Fork CoW for RDB: current {mb} MB, peak {mb} MB, average {mb} MB")
            }
            super::config::ReplicationModel::V6 => {
                format!("RDB: {mb} MB of memory used by copy-on-write")
            }
        }
    }
}

impl Instance {
    /// `repl_good_slaves_count`: online replicas whose last ACK is at most
    /// `min-replicas-max-lag` seconds old.
    pub fn good_replicas(&self) -> u64 {
        let ut = self.unixtime();
        let lag = self.config.min_replicas_max_lag;
        self.replicas
            .iter()
            .filter_map(|c| self.clients.get(c)?.replica.as_ref())
            .filter(|r| r.state == ReplState::Online && ut.saturating_sub(r.ack_time_s) <= lag)
            .count() as u64
    }

    /// Whether a write may run under `min-replicas-to-write` (the feature is off if either
    /// setting is 0, and only masters check). A driver rejects the write with
    /// `-NOREPLICAS Not enough good replicas to write.` when this is false.
    pub fn min_replicas_ok(&self) -> bool {
        let c = &self.config;
        if self.link.master.is_some() || c.min_replicas_to_write == 0 || c.min_replicas_max_lag == 0
        {
            return true;
        }
        self.good_replicas() >= c.min_replicas_to_write
    }

    /// Redis's client info string for `conn` (as CLIENT LIST prints it), empty if unknown.
    pub fn client_info(&self, conn: ConnId) -> String {
        self.client_info_string(conn)
    }
}

fn capa_bits(c: &super::instance::Client) -> u8 {
    (c.capa_eof as u8) | ((c.capa_psync2 as u8) << 1)
}

fn short(id: &str) -> String {
    id.chars().take(8).collect::<String>() + "…"
}

impl super::instance::Client {
    /// The RDB-channel client id announced with `REPLCONF set-rdb-client-id`.
    pub(crate) fn rdb_client_id_hint(&self) -> Option<u64> {
        self.rdb_client_id
    }
}
