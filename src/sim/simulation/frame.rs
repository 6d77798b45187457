//! The pictures of the world: the frame the web app draws, each replica's view, the
//! timeline's spans and the chart's samples. Built from the core's views
//! ([`crate::view::MasterView::of`], [`crate::view::ReplicaView::of_link`]) plus what only
//! the simulator knows (the fork child's progress, the RDB load's progress, and for the web
//! app's stage: the write rate, the RDB file on disk, what each link carries and how fast).

use super::Simulation;
use crate::core::{BgsaveTarget, LinkStatus, ReplicaState};
use crate::view::{Frame, MasterView, RdbFileView, ReplicaView, Sample, SpanKind};

impl Simulation {
    /// The picture at the current time.
    pub fn frame(&self) -> Frame {
        let mut master = self.master_inst().map(MasterView::of).unwrap_or_default();
        if let Some(c) = &self.fork {
            if let Some(b) = master.bgsave.as_mut() {
                b.progress = c.progress();
                b.written_bytes = c.produced();
                b.total_bytes = c.total();
            }
            master.cow_bytes = c.cow_bytes();
        }
        let s = &self.scenario;
        let now = self.clock.now();
        master.dataset_bytes = s.dataset.size;
        let ops = if self.master_inst().is_some() {
            s.workload.rate_at(now)
        } else {
            0.0
        };
        master.write_ops_per_sec = ops;
        master.write_bytes_per_sec = (ops * s.bytes_per_write() as f64) as u64;
        master.sync_target = if s.redis.repl_diskless_sync {
            "socket"
        } else {
            "disk"
        }
        .into();
        master.dual_channel = s.redis.dual_channel_replication_enabled;
        let paused = self.nodes.get(self.master).map_or(0, |n| n.paused_until);
        master.frozen_until_ms = (paused > now).then_some(paused);
        // The RDB file on the master's disk: growing while the child writes it, then read out
        // to each replica in `send_bulk` (the simulated RDB is as large as the dataset).
        let sending_file = || {
            (1..self.nodes.len()).any(|k| self.master_side_state(k) == Some(ReplicaState::SendBulk))
        };
        master.rdb_file = match &self.fork {
            Some(c) if c.disk => Some(RdbFileView {
                bytes: c.produced(),
                total: c.total(),
                writing: true,
            }),
            _ if sending_file() => Some(RdbFileView {
                bytes: s.dataset.size,
                total: s.dataset.size,
                writing: false,
            }),
            _ => None,
        };
        let replicas = (1..self.nodes.len())
            .map(|k| {
                let mut v = self.replica_view(k);
                self.fill_stage_view(k, &mut v);
                v
            })
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
            v.load_total_bytes = size;
        }
        if v.offset < 0 {
            // Through an outage the replica keeps its offset in the cached master
            // (`replicationCacheMaster`) and asks PSYNC for the byte after it on reconnect.
            if let Some((_, off)) = inst.cached_master() {
                v.offset = off;
                v.offset_cached = true;
            }
        }
        v
    }

    /// The stage's view of replica node `k`'s link and of the RDB moving to it (what
    /// `frame()` adds to `replica_view`; read-only, kept out of the per-tick paths).
    fn fill_stage_view(&self, k: usize, v: &mut ReplicaView) {
        let (bandwidth, latency_ms) = self.scenario.link_of(k - 1);
        v.link.bandwidth = bandwidth;
        v.link.latency_ms = latency_ms;
        v.link.cut_until_ms = self.net.cut_until(k);
        let inst = self.nodes[k].inst.as_ref();
        if let Some(i) = inst {
            // While a load runs, what its header decided; else what a sync starting now would do.
            let socket = if i.is_loading() {
                i.loads_from_socket()
            } else {
                i.would_load_from_socket()
            };
            v.rdb_to = if socket { "socket" } else { "disk" }.into();
        }
        let main = inst.and_then(|i| i.master_conn());
        let syncing = inst.is_some_and(|i| i.link_status() == LinkStatus::Sync);
        let on_link: Vec<_> = self
            .net
            .conns_on_link(k)
            .into_iter()
            .filter_map(|sc| self.net.conn(sc).map(|(_, ends)| (sc, ends)))
            .collect();
        // A second connection on a replica's link is its dual-channel RDB channel.
        let dual = on_link.iter().any(|(_, ends)| Some(ends[0].1) != main);
        for (sc, ends) in on_link {
            let (mnode, mconn) = ends[1];
            let Some(m) = self.nodes[mnode].inst.as_ref() else {
                continue;
            };
            let state = m.replica_state(mconn);
            let rdb_channel = Some(ends[0].1) != main;
            if rdb_channel {
                v.rdb_channel_state = match state {
                    None | Some(ReplicaState::RdbTransmitted) => "handshake",
                    Some(st) => st.as_redis_str(),
                }
                .into();
            }
            let streaming_rdb = m.bgsave_info().is_some_and(
                |b| matches!(b.target, BgsaveTarget::Sockets(t) if t.contains(&mconn)),
            );
            let waiting_bgsave = matches!(
                state,
                Some(ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd)
            );
            let carries_rdb = rdb_channel
                || state == Some(ReplicaState::SendBulk)
                || (waiting_bgsave && streaming_rdb);
            if state == Some(ReplicaState::SendBulk) {
                v.rdb_send_left_bytes = m.outgoing_len(mconn);
            }
            let rate = self.flow_rate(sc, state);
            if carries_rdb {
                v.link.rdb_rate += rate;
            } else {
                v.link.stream_rate += rate;
            }
            // Bytes on the wire count as what the replica will take them for: RDB while it
            // is still receiving one on that connection.
            let receiving_rdb = rdb_channel || (!dual && syncing);
            let in_flight = self.net.in_flight(sc, 0);
            if receiving_rdb {
                v.link.rdb_in_flight += in_flight;
            } else {
                v.link.stream_in_flight += in_flight;
            }
        }
    }

    /// Bytes per second leaving the master on connection `sc` now: the link's rate (as the
    /// disks allow) while the master has bytes queued for it, the write rate while it streams
    /// and keeps up, nothing while the link is cut, the master is inside fork() or the
    /// replica does not read (loading).
    fn flow_rate(&self, sc: u64, state: Option<ReplicaState>) -> u64 {
        let now = self.clock.now();
        // `window` is what the pump asks: both ends open, the replica reading, the link up.
        let Some(w) = self.net.window(sc, 1, now) else {
            return 0;
        };
        let (mnode, mconn) = w.sender;
        if now < self.nodes[mnode].paused_until {
            return 0;
        }
        let Some(m) = self.nodes[mnode].inst.as_ref() else {
            return 0;
        };
        if m.outgoing_len(mconn) > 0 {
            self.rate_for(sc, 1)
        } else if state == Some(ReplicaState::Online) {
            let writes =
                self.scenario.workload.rate_at(now) * self.scenario.bytes_per_write() as f64;
            (writes as u64).min(self.rate_for(sc, 1))
        } else {
            0
        }
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
