//! Feeding the replication stream (`replicationFeedSlaves`, `feedReplicationBuffer`) and
//! holding replicas to `client-output-buffer-limit replica` (`checkClientOutputBufferLimits`,
//! `clientsCron`).

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::payload::Payload;
use super::super::status::{MarkKind, ReplicaState};
use super::super::ConnId;
use super::MasterSide;
use crate::wire::encode_command;

impl MasterSide {
    /// A write executed on this master (`replicationFeedSlaves`): a SELECT when the db
    /// changes, then the command. Without a backlog there is no stream: the offset does not
    /// move until the first replica arrives. (A replica relays its master's stream instead,
    /// see [`MasterSide::feed_stream`]; the instance does not call this on a replica.)
    pub fn propagate(&mut self, ctx: &mut Ctx, db: i64, p: Payload) {
        if !self.store.has_backlog() {
            return;
        }
        if self.slaveseldb != db {
            let sel = encode_command(&["SELECT", &db.to_string()]);
            self.feed_stream(ctx, Payload::Bytes(sel));
            self.slaveseldb = db;
        }
        self.feed_stream(ctx, p);
    }

    /// Keyless commands the master itself puts in the stream (PING, REPLCONF GETACK): fed
    /// with the current `slaveseldb`, so they never cause a SELECT. Only a top-level master
    /// makes them; a replica relays its master's.
    pub fn feed_from_master(&mut self, ctx: &mut Ctx, p: Payload) {
        if self.store.has_backlog() {
            self.feed_stream(ctx, p);
        }
    }

    /// `feedReplicationBuffer`: append to the backlog and the buffers of the replicas that
    /// accumulate the stream, advance the offset, and check the output buffer limits of the
    /// replicas that got a new block.
    pub fn feed_stream(&mut self, ctx: &mut Ctx, p: Payload) {
        if !self.store.has_backlog() || p.is_empty() {
            return;
        }
        // A replica accumulates from the moment its RDB's offset is fixed (not while it
        // waits for a BGSAVE to start), and an RDB-only connection never does.
        let eligible: Vec<ConnId> = self
            .replicas
            .iter()
            .copied()
            .filter(|c| {
                self.clients.get(c).is_some_and(|cl| {
                    !cl.rdb_only
                        && cl.replica.as_ref().is_some_and(|r| {
                            r.state != ReplicaState::WaitBgsaveStart
                                && r.state != ReplicaState::RdbTransmitted
                        })
                })
            })
            .collect();
        let check = self.store.feed(&p, &eligible);
        for c in check {
            self.check_output_buffer(ctx, c, true);
        }
        for c in eligible {
            if self.streaming(c) {
                ctx.data_ready(c);
            }
        }
    }

    /// `checkClientOutputBufferLimits` + `closeClientOnOutputBufferLimitReached`. The hard
    /// limit closes at once; the soft limit only once the buffer has stayed over it for
    /// more than `soft_seconds` on the seconds clock. `async_close`: called from the write
    /// path ("scheduled to be closed ASAP") rather than from `clientsCron` ("closed").
    pub(super) fn check_output_buffer(
        &mut self,
        ctx: &mut Ctx,
        conn: ConnId,
        async_close: bool,
    ) -> bool {
        let Some(c) = self.clients.get(&conn) else {
            return false;
        };
        if c.replica.is_none() || c.rdb_only {
            return false;
        }
        let lim = ctx.config.effective_replica_limit();
        let used = self.store.used(conn);
        let (ut, now) = (ctx.unixtime(), ctx.now());
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
        let info = self.client_info_string(ctx, conn);
        let text = if async_close {
            format!(
                "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
            )
        } else {
            format!("Client {info} closed for overcoming of output buffer limits.")
        };
        ctx.log(Level::Warning, text);
        let which = if hard {
            format!("hard limit {} reached", lim.hard)
        } else {
            format!(
                "over the soft limit {} for more than {} s",
                lim.soft, lim.soft_seconds
            )
        };
        self.mark(
            ctx,
            MarkKind::OutputBufferCutOff,
            conn,
            format!("output buffer of {used} bytes: {which}"),
        );
        self.drop_client(ctx, conn, true);
        true
    }

    /// `clientsCron` at hz 10: visits `max(numclients/10, min(numclients, 5))` clients per
    /// call, so with few replicas each is checked every 100 ms (a soft limit can fire
    /// between writes).
    pub fn clients_cron(&mut self, ctx: &mut Ctx) {
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
            if !self.check_output_buffer(ctx, c, false) {
                self.clients_cron_cursor += 1;
            }
        }
    }
}
