//! The pictures of the world: the frame the web app draws, each replica's view, the
//! timeline's spans and the chart's samples. Built from the core's views
//! ([`crate::view::MasterView::of`], [`crate::view::ReplicaView::of_link`]) plus what only
//! the simulator knows (the fork child's progress, the RDB load's progress).

use super::Simulation;
use crate::core::{LinkStatus, ReplicaState};
use crate::view::{Frame, MasterView, ReplicaView, Sample, SpanKind};

impl Simulation {
    /// The picture at the current time.
    pub fn frame(&self) -> Frame {
        let mut master = self.master_inst().map(MasterView::of).unwrap_or_default();
        if let Some(c) = &self.fork {
            if let Some(b) = master.bgsave.as_mut() {
                b.progress = c.progress();
            }
            master.cow_bytes = c.cow_bytes();
        }
        let replicas = (1..self.nodes.len())
            .map(|k| self.replica_view(k))
            .collect();
        Frame {
            t_ms: self.clock.now(),
            master,
            replicas,
        }
    }

    /// Node `k` as a replica: its side of the link and its master's side of it.
    fn replica_view(&self, k: usize) -> ReplicaView {
        let Some(inst) = self.nodes[k].inst.as_ref() else {
            return ReplicaView {
                name: self.nodes[k].name.clone(),
                link_state: LinkStatus::None.as_redis_str().into(),
                offset: -1,
                ..Default::default()
            };
        };
        let mut v = ReplicaView::of_link(inst);
        if let Some(conn) = inst.master_conn() {
            if let Some((_, _, ends)) = self.net.conn_of((k, conn)) {
                let (mnode, mconn) = ends[1];
                if let Some(m) = self.nodes[mnode].inst.as_ref() {
                    v.fill_master_side(m, mconn);
                }
            }
        }
        if let Some((size, start, end)) = self.nodes[k].load {
            let span = (end - start).max(1);
            let done = (self.clock.now().saturating_sub(start)).min(span);
            v.load_left_bytes = size - (size as u128 * done as u128 / span as u128) as u64;
        }
        v
    }

    /// What node `k`'s timeline lane shows now.
    fn span_kind(&self, k: usize) -> SpanKind {
        let Some(inst) = self.nodes[k].inst.as_ref() else {
            return SpanKind::Disconnected;
        };
        if self.nodes[k].load.is_some() || inst.is_loading() {
            return SpanKind::Load;
        }
        match inst.link_status() {
            LinkStatus::Connected => SpanKind::Streaming,
            LinkStatus::Handshake => SpanKind::WaitBgsave,
            LinkStatus::Sync => {
                if self.master_side_state(k) == Some(ReplicaState::SendBulk) {
                    SpanKind::Transfer
                } else if self.fork.is_some() {
                    SpanKind::Bgsave
                } else {
                    SpanKind::Transfer
                }
            }
            LinkStatus::None | LinkStatus::Connect | LinkStatus::Connecting => {
                SpanKind::Disconnected
            }
        }
    }

    /// Replica `k`'s state on its master, if the master has it as a replica.
    fn master_side_state(&self, k: usize) -> Option<ReplicaState> {
        let conn = self.nodes[k].inst.as_ref()?.master_conn()?;
        let (_, _, ends) = self.net.conn_of((k, conn))?;
        let (mnode, mconn) = ends[1];
        let m = self.nodes[mnode].inst.as_ref()?;
        m.replica_state(mconn)
    }

    pub(super) fn update_spans(&mut self) {
        let kinds: Vec<SpanKind> = (1..self.nodes.len())
            .map(|k| {
                if k == self.master {
                    SpanKind::Streaming
                } else {
                    self.span_kind(k)
                }
            })
            .collect();
        self.rec.update_spans(self.clock.now(), &kinds);
    }

    pub(super) fn sample(&mut self) {
        let m = self.master_inst();
        let backlog_histlen = m.map_or(0, |i| i.backlog_histlen());
        let master_repl_offset = m.map_or(0, |i| i.master_repl_offset());
        let obuf_bytes = (1..self.nodes.len())
            .map(|k| self.replica_view(k).obuf_bytes)
            .collect();
        let s = Sample {
            t_ms: self.clock.now(),
            backlog_histlen,
            master_repl_offset,
            obuf_bytes,
        };
        self.rec.sample(s);
    }
}
