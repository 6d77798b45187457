//! WAIT (`waitCommand`): a client blocks until enough replicas acknowledged its writes, or
//! its timeout passes. The master asks for ACKs with `REPLCONF GETACK *` before it sleeps.

use super::super::ctx::Ctx;
use super::super::status::ReplicaState;
use super::super::ConnId;
use super::MasterSide;
use crate::wire::Reply;

/// A client blocked in WAIT.
#[derive(Clone, Debug)]
struct Waiter {
    conn: ConnId,
    numreplicas: u64,
    /// The offset the replicas must have acknowledged.
    woff: i64,
    deadline_ms: Option<u64>,
}

/// The clients blocked in WAIT, and whether a GETACK must go out (`get_ack_from_slaves`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Waits {
    waiters: Vec<Waiter>,
    getack_pending: bool,
}

impl Waits {
    /// A closed client no longer waits.
    pub fn forget(&mut self, conn: ConnId) {
        self.waiters.retain(|w| w.conn != conn);
    }
}

impl MasterSide {
    /// `WAIT numreplicas timeout`. A replica refuses it (`is_replica`).
    pub fn cmd_wait(&mut self, ctx: &mut Ctx, conn: ConnId, args: &[String], is_replica: bool) {
        if args.len() != 3 {
            self.reply_error(
                ctx,
                conn,
                "ERR wrong number of arguments for 'wait' command",
            );
            return;
        }
        if is_replica {
            self.reply_error(ctx, conn, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        let (Ok(num), Ok(timeout)) = (args[1].parse::<i64>(), args[2].parse::<i64>()) else {
            self.reply_error(ctx, conn, "ERR value is not an integer or out of range");
            return;
        };
        if timeout < 0 {
            self.reply_error(ctx, conn, "ERR timeout is negative");
            return;
        }
        // Redis waits for the client's `woff` (the offset after its previous command); the
        // core does not see the client's other commands, so it waits for everything
        // propagated so far, which is the same or slightly more.
        let woff = self.store.offset();
        let acked = self.acked_replicas(woff);
        if acked as i64 >= num {
            self.reply(ctx, conn, Reply::Int(acked as i64));
            return;
        }
        let deadline_ms = (timeout > 0).then(|| ctx.now() + timeout as u64);
        self.waits.waiters.push(Waiter {
            conn,
            numreplicas: num.max(0) as u64,
            woff,
            deadline_ms,
        });
        self.waits.getack_pending = true;
    }

    /// `replicationCountAcksByOffset`.
    fn acked_replicas(&self, woff: i64) -> u64 {
        self.replicas
            .iter()
            .filter(|c| {
                self.clients
                    .get(c)
                    .and_then(|c| c.replica.as_ref())
                    .is_some_and(|r| r.state == ReplicaState::Online && r.ack_off >= woff)
            })
            .count() as u64
    }

    /// Whether a GETACK must go into the stream now (once per batch of new waiters).
    pub fn take_getack_request(&mut self) -> bool {
        std::mem::take(&mut self.waits.getack_pending)
    }

    /// `processClientsWaitingReplicas`: answer the waiters now satisfied.
    pub fn process_waiters(&mut self, ctx: &mut Ctx) {
        self.answer_waiters(ctx, |w, acked| acked >= w.numreplicas);
    }

    /// Answer the waiters whose timeout passed with the count reached so far.
    pub fn expire_waiters(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        self.answer_waiters(ctx, |w, _| w.deadline_ms.is_some_and(|d| d <= now));
    }

    fn answer_waiters(&mut self, ctx: &mut Ctx, done: impl Fn(&Waiter, u64) -> bool) {
        let mut i = 0;
        while i < self.waits.waiters.len() {
            let w = self.waits.waiters[i].clone();
            let n = self.acked_replicas(w.woff);
            if done(&w, n) {
                self.waits.waiters.remove(i);
                self.reply(ctx, w.conn, Reply::Int(n as i64));
            } else {
                i += 1;
            }
        }
    }

    /// The earliest WAIT timeout, for the timer table.
    pub fn next_wait_deadline(&self) -> Option<u64> {
        self.waits
            .waiters
            .iter()
            .filter_map(|w| w.deadline_ms)
            .min()
    }

    /// The node became a replica: WAIT means nothing there (`disconnectAllBlockedClients`).
    pub fn unblock_waiters(&mut self, ctx: &mut Ctx) {
        for w in std::mem::take(&mut self.waits.waiters) {
            self.reply_error(ctx, w.conn, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
        }
    }
}
