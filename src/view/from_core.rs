//! Views built from the core's typed status ([`crate::core::status`]). The core knows
//! nothing of views: the dependency goes from here down to it.

use super::{BacklogView, BgsaveView, MasterView, ReplicaView};
use crate::core::{ConnId, Instance, LinkStatus};

impl MasterView {
    /// The master picture (backlog ring, BGSAVE lane). `bgsave.progress` and `cow_bytes`
    /// are the driver's to fill: it runs the child.
    pub fn of(inst: &Instance) -> MasterView {
        MasterView {
            name: inst.name().to_string(),
            replid: inst.replid().to_string(),
            replid2: inst.replid2().to_string(),
            master_repl_offset: inst.master_repl_offset(),
            second_repl_offset: inst.second_repl_offset(),
            backlog: inst.backlog().map(|b| BacklogView {
                size: b.size,
                first_byte_offset: b.first_byte_offset,
                histlen: b.histlen,
            }),
            bgsave: inst.bgsave_info().map(|b| BgsaveView {
                target: b.target.as_redis_str().to_string(),
                started_ms: b.started_ms,
                progress: 0.0,
                ..Default::default()
            }),
            cow_bytes: 0,
            repl_buffer_bytes: inst.repl_buffer_mem(),
            ..Default::default()
        }
    }
}

impl ReplicaView {
    /// Node `inst` seen as a replica (its side of the link). The master-side fields are
    /// left empty: fill them with [`ReplicaView::fill_master_side`].
    pub fn of_link(inst: &Instance) -> ReplicaView {
        let link = inst.link_info();
        let status = link.map_or(LinkStatus::None, |l| l.status);
        // (`master_sync_total_bytes`, `master_sync_read_bytes`) while the link is in `sync`.
        let transfer = link.and_then(|l| l.transfer);
        let sync_left_bytes = match link {
            Some(l) if l.loading.is_none() => transfer.map_or(0, |(t, r)| t - r as i64),
            _ => 0,
        };
        ReplicaView {
            name: inst.name().to_string(),
            link_state: status.as_redis_str().to_string(),
            master_side_state: String::new(),
            offset: inst.reploff(),
            ack_offset: 0,
            obuf_bytes: 0,
            hard_limit: 0,
            soft_limit: 0,
            soft_seconds: 0,
            soft_limit_since_ms: None,
            sync_left_bytes,
            load_left_bytes: link.and_then(|l| l.loading).unwrap_or(0),
            local_buffer_bytes: link.map_or(0, |l| l.local_buffer_bytes),
            sync_received_bytes: transfer.map_or(0, |(_, r)| r),
            // -1 before the `$<len>` header: unknown, as 0 is.
            sync_total_bytes: transfer.map_or(0, |(t, _)| t.max(0) as u64),
            ..Default::default()
        }
    }

    /// The master's side of replica client `conn` of `master`: its state, ACK, output
    /// buffer and the limits in force.
    pub fn fill_master_side(&mut self, master: &Instance, conn: ConnId) {
        let lim = master.config().effective_replica_limit();
        self.hard_limit = lim.hard;
        self.soft_limit = lim.soft;
        self.soft_seconds = lim.soft_seconds;
        match master.replica_client(conn) {
            Some(r) => {
                self.master_side_state = r.state.as_redis_str().to_string();
                self.ack_offset = r.ack_offset;
                self.obuf_bytes = r.obuf_bytes;
                self.soft_limit_since_ms = r.soft_limit_since_ms;
            }
            None => self.master_side_state = String::new(),
        }
    }
}
