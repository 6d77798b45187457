//! Becoming a replica or a master: the changes that cross the parts (the link comes or
//! goes, the history shifts, sub-replicas and WAIT clients are told).

use super::ctx::Ctx;
use super::log::Level;
use super::master::MasterSide;
use super::replica::{CachedMaster, ReplicaLink};
use super::status::MarkKind;

/// `replicationSetMaster`: follow `host:port` from now on.
pub(super) fn set_master(
    ctx: &mut Ctx,
    master: &mut MasterSide,
    link: &mut Option<ReplicaLink>,
    host: &str,
    port: u16,
) {
    match link.as_mut() {
        Some(l) => l.retarget(ctx, host, port),
        None => {
            ctx.out.set_role(true);
            // `replicationCacheMasterUsingMyself`: our own history may be a prefix of the
            // new master's (it was our replica), so PSYNC with it.
            ctx.log_r(Level::Notice, "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
            let cached = CachedMaster {
                replid: ctx.hist.replid().to_string(),
                reploff: master.offset(),
            };
            *link = Some(ReplicaLink::new(host.to_string(), port, Some(cached)));
            // WAIT means nothing on a replica.
            master.unblock_waiters(ctx);
        }
    }
    if let Some(l) = link.as_mut() {
        l.connect_now(ctx);
    }
}

/// `replicationUnsetMaster` (REPLICAOF NO ONE): promotion. Our history stays valid for the
/// old master's other replicas through `replid2` (`shiftReplicationId`), and our
/// sub-replicas reconnect to learn the new id.
pub(super) fn unset_master(ctx: &mut Ctx, master: &mut MasterSide, link: &mut Option<ReplicaLink>) {
    let Some(mut l) = link.take() else {
        return;
    };
    ctx.out.set_role(false); // the role char is 'M' from here on
    l.close_for_promotion(ctx);
    ctx.hist.shift(&mut ctx.rng, master.offset());
    let t = format!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        ctx.hist.replid2(),
        ctx.hist.second_replid_offset(),
        ctx.hist.replid()
    );
    ctx.log_r(Level::Warning, t);
    master.disconnect_replicas(ctx);
    master.became_master(ctx);
    let cause = format!(
        "REPLICAOF NO ONE: history {} stays valid up to offset {}",
        ctx.hist.replid2(),
        ctx.hist.second_replid_offset()
    );
    ctx.mark(MarkKind::Promotion, None, None, cause);
}
