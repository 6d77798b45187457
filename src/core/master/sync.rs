//! SYNC and PSYNC on the master: try a partial resync, else set the replica up for a full one
//! (`syncCommand`, `masterTryPartialResynchronization`,
//! `replicationSetupSlaveForFullResync`).

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::payload::Payload;
use super::super::status::{LinkStatus, MarkKind, ReplicaState};
use super::super::version::{FullSync, LackOfBacklog};
use super::super::ConnId;
use super::clients::ReplicaSide;
use super::MasterSide;
use crate::wire::Reply;

/// Why a PSYNC cannot continue, in the words of the log line Redis writes and of the mark the
/// timeline shows.
struct Refusal {
    /// `sync_partial_err` counts refusals, except an explicit `PSYNC ? -1`.
    counts: bool,
    cause: String,
}

impl MasterSide {
    /// `syncCommand`, for both SYNC and PSYNC. `link`: this node's own link to a master
    /// ([`LinkStatus::None`] when it is a master).
    pub fn cmd_sync(
        &mut self,
        ctx: &mut Ctx,
        conn: ConnId,
        args: &[String],
        is_psync: bool,
        link: LinkStatus,
    ) {
        let Some(c) = self.clients.get(&conn) else {
            return;
        };
        if c.replica.is_some() {
            return; // already a replica: ignore
        }
        if is_psync && args.len() < 3 {
            self.reply_error(
                ctx,
                conn,
                "ERR wrong number of arguments for 'psync' command",
            );
            return;
        }
        // A replica serves sub-replicas only while its own link is up: what it would send
        // them is a history it does not have yet.
        if link != LinkStatus::None && link != LinkStatus::Connected {
            self.reply_error(
                ctx,
                conn,
                "NOMASTERLINK Can't SYNC while not connected with my master",
            );
            return;
        }
        // A full sync needs a fresh reply buffer: from here on it accumulates the difference
        // between the RDB and the dataset. So a replica must read each handshake reply
        // before it sends PSYNC (pipelining REPLCONF and PSYNC fails here).
        if !c.out.is_empty() {
            self.reply_error(
                ctx,
                conn,
                "ERR SYNC and PSYNC are invalid with pending output",
            );
            return;
        }
        let name = self.replica_name(conn);
        ctx.log(
            Level::Notice,
            format!("Replica {name} asks for synchronization"),
        );
        let cause = if is_psync {
            let Ok(off) = args[2].parse::<i64>() else {
                ctx.log(
                    Level::Warning,
                    format!("Replica {name} asks for synchronization but with a wrong offset"),
                );
                self.reply_error(ctx, conn, "ERR value is not an integer or out of range");
                return;
            };
            let cause = match self.psync_refusal(ctx, conn, &args[1], off) {
                None => return self.accept_partial_resync(ctx, conn, off),
                Some(r) => {
                    if r.counts {
                        ctx.stats.sync_partial_err += 1;
                        self.mark(ctx, MarkKind::PartialSyncRefused, conn, r.cause.clone());
                    }
                    r.cause
                }
            };
            if self.wants_rdb_channel(ctx, conn) {
                // 8.2: the RDB goes on a second connection the replica opens now; this one
                // gets the stream from the fork on (`syncCommand` @8.2, checked).
                self.create_backlog_if_none(ctx);
                ctx.log(Level::Notice, format!("Replica {name} is capable of rdb channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated rdb channel."));
                let id = self.clients.get(&conn).map_or(0, |c| c.id);
                self.reply(ctx, conn, Reply::Simple(format!("RDBCHANNELSYNC {id}")));
                self.mark(
                    ctx,
                    MarkKind::FullSyncStart,
                    conn,
                    format!("{cause}; rdb-channel sync"),
                );
                return;
            }
            if self.wants_dual_channel(ctx, conn) {
                // The replica opens a second connection for the RDB; this one PSYNCs again at
                // the RDB's end offset once the RDB channel knows it.
                ctx.log(Level::Notice, format!("Dual channel replication: Replica {name} is capable of dual channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated RDB channel."));
                self.reply(ctx, conn, Reply::Simple("DUALCHANNELSYNC".into()));
                self.mark(
                    ctx,
                    MarkKind::FullSyncStart,
                    conn,
                    format!("{cause}; dual-channel sync"),
                );
                return;
            }
            cause
        } else {
            "the replica sent SYNC (no PSYNC support)".to_string()
        };
        self.start_full_sync(ctx, conn, is_psync, cause);
    }

    /// The rest of `syncCommand` for a full sync: the client becomes a replica waiting for a
    /// BGSAVE, the first replica creates the backlog, and an RDB is found or made for it.
    fn start_full_sync(&mut self, ctx: &mut Ctx, conn: ConnId, is_psync: bool, cause: String) {
        ctx.stats.sync_full += 1;
        let mut side =
            ReplicaSide::new(ReplicaState::WaitBgsaveStart, -1, ctx.unixtime(), ctx.now());
        // An old replica that sent SYNC gets no `+FULLRESYNC` and is never timed out.
        side.pre_psync = !is_psync;
        if let Some(c) = self.clients.get_mut(&conn) {
            c.replica = Some(side);
        }
        self.replicas.push(conn);
        // 8.2's RDB connection: its main connection already marked the start.
        if self
            .clients
            .get(&conn)
            .is_none_or(|c| c.main_ch_client_id.is_none())
        {
            self.mark(ctx, MarkKind::FullSyncStart, conn, cause);
        }
        if self.replicas.len() == 1 {
            self.create_backlog_if_none(ctx);
        }
        self.decide_rdb_for_new_replica(ctx, conn);
    }

    /// The first replica creates the backlog with a fresh history: nobody can hold offsets
    /// of the old, unbuffered one (`createReplicationBacklog` + `changeReplicationId`).
    fn create_backlog_if_none(&mut self, ctx: &mut Ctx) {
        if self.store.has_backlog() {
            return;
        }
        ctx.hist.change_and_clear(&mut ctx.rng);
        self.store.create_backlog();
        let t = format!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            ctx.hist.replid(),
            ctx.hist.replid2()
        );
        ctx.log(Level::Notice, t);
    }

    /// Redis 8.2: a replica that offered `capa rdb-channel-repl` gets its RDB on a second
    /// connection, if this master has the RDB channel on and syncs diskless.
    fn wants_rdb_channel(&self, ctx: &Ctx, conn: ConnId) -> bool {
        ctx.config.second_channel() == FullSync::RdbChannel
            && ctx.config.repl_diskless_sync
            && self.clients.get(&conn).is_some_and(|c| c.capa_rdb_channel)
    }

    /// Valkey 8: a dual-channel replica doing a diskless full sync gets its RDB on a second
    /// connection.
    fn wants_dual_channel(&self, ctx: &Ctx, conn: ConnId) -> bool {
        match ctx.config.second_channel() {
            FullSync::Classic | FullSync::RdbChannel => false,
            FullSync::DualChannel => {
                self.clients.get(&conn).is_some_and(|c| c.capa_dual)
                    && ctx.config.repl_diskless_sync
            }
        }
    }

    /// The decision of `masterTryPartialResynchronization`: `None` if `PSYNC id off` can
    /// continue from the backlog, else why not (logged as Redis logs it). Long because each
    /// refusal has its own log line and its own cause in words, side by side.
    fn psync_refusal(&self, ctx: &mut Ctx, conn: ConnId, id: &str, off: i64) -> Option<Refusal> {
        let name = self.replica_name(conn);
        // The same history? A master has two valid IDs: its own, and the one it had before a
        // promotion (`replid2`), which is only good up to the offset where it was promoted:
        // past that point the two histories differ.
        let (replid, replid2) = (
            ctx.hist.replid().to_string(),
            ctx.hist.replid2().to_string(),
        );
        let second_off = ctx.hist.second_replid_offset();
        let is_this = id.eq_ignore_ascii_case(&replid);
        let is_prev = id.eq_ignore_ascii_case(&replid2);
        if !(is_this || (is_prev && off <= second_off)) {
            if id.starts_with('?') {
                // `PSYNC ? -1`: the replica has no history and asks for a full sync itself.
                // 8.2 marks its RDB connection's request.
                let rdb_channel = self
                    .clients
                    .get(&conn)
                    .is_some_and(|c| c.main_ch_client_id.is_some());
                let tail = if rdb_channel { " (rdb-channel)" } else { "" };
                ctx.log(
                    Level::Notice,
                    format!("Full resync requested by replica {name}{tail}"),
                );
                return Some(Refusal {
                    counts: false,
                    cause: "the replica has no cached master (PSYNC ? -1)".to_string(),
                });
            }
            let cause = if !is_this && !is_prev {
                ctx.log(
                    Level::Notice,
                    format!(
                        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{id}', my replication IDs are '{replid}' and '{replid2}')"
                    ),
                );
                if self
                    .expired_replids
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(id))
                {
                    format!(
                        "replid mismatch: history {} was dropped with the backlog after repl-backlog-ttl {} s without replicas",
                        short(id),
                        ctx.config.repl_backlog_ttl
                    )
                } else {
                    format!(
                        "replid mismatch: the replica asked for history {}, this master knows {} and {}",
                        short(id),
                        short(&replid),
                        short(&replid2)
                    )
                }
            } else {
                ctx.log(
                    Level::Notice,
                    format!(
                        "Partial resynchronization not accepted: Requested offset for second ID was {off}, but I can reply up to {second_off}"
                    ),
                );
                format!("offset {off} is beyond {second_off} where the previous history ends")
            };
            return Some(Refusal {
                counts: true,
                cause,
            });
        }
        // The same history: does the backlog still hold every byte from `off` on? Asking for
        // exactly the next byte (`first + histlen == master_repl_offset + 1`) is fine: the
        // replica missed nothing.
        let first = self.store.backlog_offset();
        let end = first + self.store.histlen() as i64;
        if !self.store.has_backlog() || off < first || off > end {
            // Valkey 9.1 says what it asked and what it has (`primaryTryPartialResynchronization`).
            let text = match ctx.config.version.wording().lack_of_backlog {
                LackOfBacklog::Offset => format!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {off})."),
                LackOfBacklog::Range => format!("Unable to partial resync with replica {name} for lack of backlog (Replica request was {id}:{off}, and I can only reply with the range [{first}, {}]).", end - 1),
            };
            ctx.log(Level::Notice, text);
            if off > self.store.offset() {
                ctx.log(
                    Level::Warning,
                    format!("Warning: replica {name} tried to PSYNC with an offset that is greater than the master replication offset."),
                );
            }
            let cause = if self.store.has_backlog() {
                format!("offset {off} is outside the backlog [{first}, {end}]")
            } else {
                format!("offset {off} asked but there is no backlog")
            };
            return Some(Refusal {
                counts: true,
                cause,
            });
        }
        None
    }

    /// The partial resync: the client becomes an online replica at once (its ACK time set to
    /// now, so the timeout does not fire before its first ACK), `+CONTINUE` tells it, and the
    /// backlog from `off` to the end follows. No SELECT is forced: the replica kept its db
    /// from the previous connection.
    fn accept_partial_resync(&mut self, ctx: &mut Ctx, conn: ConnId, off: i64) {
        let name = self.replica_name(conn);
        let first = self.store.backlog_offset();
        let end = first + self.store.histlen() as i64;
        let psync2 = self.clients.get(&conn).is_some_and(|c| c.capa_psync2);
        // Valkey's dual-channel main connection streams at once but is only online once the
        // replica has loaded its RDB and ACKs (checked: `bg_transfer` in its INFO).
        let dual_main = self
            .clients
            .get(&conn)
            .is_some_and(|c| c.rdb_client_id.is_some());
        let state = if dual_main {
            ReplicaState::BgTransfer
        } else {
            ReplicaState::Online
        };
        let side = ReplicaSide::new(state, off - 1, ctx.unixtime(), ctx.now());
        if let Some(c) = self.clients.get_mut(&conn) {
            c.replica = Some(side);
        }
        self.replicas.push(conn);
        // A PSYNC2 replica learns our current ID (it changes when we were promoted).
        let reply = if psync2 {
            format!("CONTINUE {}", ctx.hist.replid())
        } else {
            "CONTINUE".to_string()
        };
        self.reply(ctx, conn, Reply::Simple(reply));
        self.store.attach_at(conn, off);
        // A dual-channel main connection takes over the RDB channel's pin.
        self.release_rdb_channel_pin(conn);
        let n = self.store.offset() - off + 1;
        ctx.log(
            Level::Notice,
            format!("Partial resynchronization request from {name} accepted. Sending {n} bytes of backlog starting from offset {off}."),
        );
        ctx.stats.sync_partial_ok += 1;
        self.mark(
            ctx,
            MarkKind::PartialSyncAccepted,
            conn,
            format!("offset {off} is inside the backlog [{first}, {end}]: {n} bytes resent"),
        );
        ctx.data_ready(conn);
    }

    /// `replicationSetupSlaveForFullResync`: from here the replica accumulates the stream
    /// after `offset`, the one its RDB will stop at.
    pub(super) fn setup_full_resync(
        &mut self,
        ctx: &mut Ctx,
        conn: ConnId,
        offset: i64,
        bgsave_id: u64,
    ) {
        // Force a SELECT before the next propagated command: the replica's db is unknown.
        self.slaveseldb = -1;
        let Some(c) = self.clients.get_mut(&conn) else {
            return;
        };
        let mut pre_psync = false;
        if let Some(r) = c.replica.as_mut() {
            r.state = ReplicaState::WaitBgsaveEnd;
            r.psync_initial_offset = offset;
            r.bgsave_id = Some(bgsave_id);
            pre_psync = r.pre_psync;
        }
        let (rdb_channel, client_id, main_cid) = (c.rdb_channel, c.id, c.main_ch_client_id);
        if let Some(main_cid) = main_cid {
            // 8.2: `+FULLRESYNC` on the RDB connection, and from now on the main connection
            // streams from the RDB's offset (`replicationSetupSlaveForFullResync` @8.2).
            let line = format!("FULLRESYNC {} {}", ctx.hist.replid(), offset);
            self.reply(ctx, conn, Reply::Simple(line));
            self.start_main_channel_stream(ctx, main_cid, offset);
        } else if rdb_channel {
            // Valkey dual channel: the end offset travels on the RDB channel, and the stream
            // after it is pinned until the main channel PSYNCs.
            let name = self.replica_name(conn);
            let line = format!(
                "$ENDOFF:{} {} 0 {}\r\n",
                offset,
                ctx.hist.replid(),
                client_id
            );
            self.send_direct(ctx, conn, Payload::Bytes(line.into_bytes()));
            ctx.log(
                Level::Notice,
                format!(
                    "Dual channel replication: Sending to replica {name} RDB end offset {offset} and client-id {client_id}"
                ),
            );
            self.store.attach_at(conn, offset + 1);
        } else if !pre_psync {
            // The reply to PSYNC waited until now: it carries the offset at fork time.
            let line = format!("FULLRESYNC {} {}", ctx.hist.replid(), offset);
            self.reply(ctx, conn, Reply::Simple(line));
        }
    }

    /// 8.2: the main connection of an RDB-channel sync becomes a replica in
    /// `send_bulk_and_stream`, fed from the byte after `offset`.
    fn start_main_channel_stream(&mut self, ctx: &mut Ctx, main_cid: u64, offset: i64) {
        let Some(main) = self
            .clients
            .iter()
            .find(|(_, c)| c.id == main_cid && c.replica.is_none())
            .map(|(k, _)| *k)
        else {
            return; // the main connection is gone: the RDB alone is of no use, but harmless
        };
        let name = self.replica_name(main);
        ctx.log(
            Level::Notice,
            format!("Starting to deliver RDB and replication stream to replica: {name}"),
        );
        let mut side = ReplicaSide::new(
            ReplicaState::SendBulkAndStream,
            offset,
            ctx.unixtime(),
            ctx.now(),
        );
        side.psync_initial_offset = offset;
        if let Some(c) = self.clients.get_mut(&main) {
            c.replica = Some(side);
        }
        self.replicas.push(main);
        self.store.attach_at(main, offset + 1);
        ctx.data_ready(main);
    }

    /// The main connection of a dual-channel sync PSYNCed: the RDB channel's reader (which
    /// kept the stream since the RDB's end offset) can go.
    fn release_rdb_channel_pin(&mut self, main: ConnId) {
        let Some(rdb_id) = self.clients.get(&main).and_then(|c| c.rdb_client_id) else {
            return;
        };
        let rdb_conn = self
            .clients
            .iter()
            .find(|(_, c)| c.id == rdb_id && c.rdb_channel)
            .map(|(k, _)| *k);
        if let Some(rc) = rdb_conn {
            self.store.detach(rc);
        }
    }
}

/// The first 8 characters of a replication ID, for causes a person reads.
fn short(id: &str) -> String {
    id.chars().take(8).collect::<String>() + "…"
}
