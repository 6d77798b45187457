//! The master part of `replicationCron` (1 Hz): PINGs into the stream, keepalives to replicas
//! waiting for their RDB, replica timeouts, the backlog TTL, deferred forks.

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::payload::Payload;
use super::super::status::{MarkKind, ReplicaState};
use super::MasterSide;
use crate::wire::encode_command;

impl MasterSide {
    /// `is_replica`: this node relays its own master's stream (and its PINGs) instead of
    /// making its own.
    pub fn master_cron(&mut self, ctx: &mut Ctx, is_replica: bool) {
        let ut = ctx.unixtime();
        // A PING every `repl-ping-replica-period` cron calls, through the stream (it moves
        // the offset): replicas use it to detect a dead master (their `repl-timeout`).
        if self.repl_cron_loops % ctx.config.repl_ping_replica_period.max(1) == 0
            && !self.replicas.is_empty()
            && !is_replica
        {
            self.feed_from_master(ctx, Payload::Bytes(encode_command(&["ping"])));
        }
        self.send_keepalives(ctx);
        self.drop_timed_out_replicas(ctx, ut);
        if !is_replica {
            self.expire_backlog(ctx, ut);
        }
        self.start_pending_fork(ctx);
        self.repl_cron_loops += 1;
    }

    /// A `\n` outside the stream to replicas waiting for their RDB (before the fork, or while
    /// a disk child writes the file): their handshake read would time out otherwise. It
    /// moves no offset.
    fn send_keepalives(&mut self, ctx: &mut Ctx) {
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
            if st == Some(ReplicaState::WaitBgsaveStart)
                || (st == Some(ReplicaState::WaitBgsaveEnd) && disk_child)
            {
                self.send_direct(ctx, c, Payload::Bytes(b"\n".to_vec()));
            }
        }
    }

    /// An online replica silent for `repl-timeout` (no ACK, no newline) is gone; so is a
    /// diskless transfer that made no progress for that long (a slow one that keeps moving
    /// is never cut). Old `SYNC` replicas send no ACKs and are never timed out.
    fn drop_timed_out_replicas(&mut self, ctx: &mut Ctx, ut: u64) {
        let socket_child = self
            .child
            .as_ref()
            .is_some_and(|c| c.socket_targets.is_some());
        let timeout = ctx.config.repl_timeout;
        for c in self.replicas.clone() {
            let Some(cl) = self.clients.get(&c) else {
                continue;
            };
            let Some(r) = cl.replica.as_ref() else {
                continue;
            };
            let name = self.replica_name(c);
            if r.state == ReplicaState::Online
                && !r.pre_psync
                && ut.saturating_sub(r.ack_time_s) > timeout
            {
                ctx.log(
                    Level::Warning,
                    format!("Disconnecting timedout replica (streaming sync): {name}"),
                );
                self.mark(
                    ctx,
                    MarkKind::Timeout,
                    c,
                    format!("no REPLCONF ACK for more than repl-timeout {timeout} s"),
                );
                self.drop_client(ctx, c, true);
            } else if r.state == ReplicaState::WaitBgsaveEnd
                && socket_child
                && cl
                    .last_partial_write_s
                    .is_some_and(|s| ut.saturating_sub(s) > timeout)
            {
                ctx.log(
                    Level::Warning,
                    format!("Disconnecting timedout replica (full sync): {name}"),
                );
                self.mark(
                    ctx,
                    MarkKind::Timeout,
                    c,
                    "diskless transfer stalled for more than repl-timeout",
                );
                self.drop_client(ctx, c, true);
            }
        }
    }

    /// `repl-backlog-ttl`: a master alone for that long frees its backlog, and with it its
    /// history (a new replid), so a later PSYNC against the old one must fail. A replica
    /// never does: it may be promoted and need its backlog then.
    fn expire_backlog(&mut self, ctx: &mut Ctx, ut: u64) {
        let ttl = ctx.config.repl_backlog_ttl;
        if !self.replicas.is_empty() || ttl == 0 || !self.store.has_backlog() {
            return;
        }
        if ut.saturating_sub(self.repl_no_slaves_since_s) > ttl {
            // Remember the abandoned history so a later refusal can say why.
            self.expired_replids.push(ctx.hist.replid().to_string());
            ctx.hist.change_and_clear(&mut ctx.rng);
            self.store.free_backlog();
            ctx.log(
                Level::Notice,
                format!(
                    "Replication backlog freed after {ttl} seconds without connected replicas."
                ),
            );
        }
    }
}
