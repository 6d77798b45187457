//! What each output of a node's core does in the simulated world (the core's [`Driver`]).

use super::{Ev, RdbFile, Simulation};
use crate::core::{BgsaveTarget, ConnId, Driver, Input, LogEntry, MarkEvent, Payload, RdbAux};
use crate::sim::fork::ForkChild;
use crate::sim::models::{duration_ms, fork_ms};

/// Node `node` of the world, as its core's driver.
pub(super) struct NodeDriver<'a> {
    pub sim: &'a mut Simulation,
    pub node: usize,
}

impl Driver for NodeDriver<'_> {
    fn data_ready(&mut self, conn: ConnId) {
        self.sim
            .net
            .data_ready(&mut self.sim.clock, (self.node, conn));
    }

    fn close(&mut self, conn: ConnId) {
        let sim = &mut *self.sim;
        let end = (self.node, conn);
        let Some((_, link, _)) = sim.net.conn_of(end) else {
            return;
        };
        let latency = sim.scenario.link_of(link - 1).1;
        sim.net.close(&mut sim.clock, end, latency);
        sim.nodes[self.node].requests.remove(&conn);
    }

    fn connect(&mut self, conn: ConnId, host: String, port: u16) {
        self.sim.connect(self.node, conn, &host, port);
    }

    fn set_readable(&mut self, conn: ConnId, readable: bool) {
        let sim = &mut *self.sim;
        sim.net
            .set_readable(&mut sim.clock, (self.node, conn), readable);
    }

    fn start_bgsave(&mut self, id: u64, target: BgsaveTarget, _child_pid: u32, _offset: i64) {
        let (sim, node) = (&mut *self.sim, self.node);
        sim.rec.count_bgsave();
        // fork() copies the page tables: the parent is frozen meanwhile (clients, replicas
        // and its cron wait), and the child starts when it returns.
        let (size, per_gb) = (sim.scenario.dataset.size, sim.scenario.fork.time_per_gb);
        let ready = sim.clock.now() + fork_ms(size, per_gb);
        sim.nodes[node].paused_until = ready;
        sim.schedule(ready, Ev::Resume { node });
        let disk = matches!(target, BgsaveTarget::Disk);
        if !disk {
            sim.rdb_ctime.socket_ms = ready;
        }
        let child = ForkChild::new(node, id, disk, ready, size);
        if !disk {
            let at = child.first_flush_ms(sim.scenario.fork.rdb_speed);
            sim.schedule(at, Ev::ChildFirstFlush { id });
        }
        sim.fork = Some(child);
    }

    fn kill_bgsave(&mut self, id: u64) {
        if self.sim.fork.as_ref().is_some_and(|c| c.id == id) {
            self.sim.fork = None;
        }
    }

    fn rdb_data(&mut self, _payload: Payload) {
        // The simulated RDB is only counted: the load's duration comes from its size. With
        // diskless load the parser reads the header from the first bytes.
        let Some(inst) = self.sim.nodes[self.node].inst.as_ref() else {
            return;
        };
        if inst.loads_from_socket() && inst.awaits_rdb_header() {
            let eof = inst
                .link_info()
                .and_then(|l| l.transfer)
                .is_some_and(|t| t.0 == 0);
            self.sim.rdb_header_read(self.node, eof);
        }
    }

    fn load_rdb(&mut self, size: u64, eof_marked: bool) {
        let (sim, node) = (&mut *self.sim, self.node);
        // With diskless load the RDB was parsed while it arrived (the transfer ran at most
        // at load speed), so little remains: but the first bytes came faster than the parser
        // takes them (the sockets' buffers fill before the loader's pace holds the link back),
        // and the parser still needs `size / load-speed` from the header on.
        let inst = sim.nodes[node].inst.as_ref();
        let from_socket = inst.is_some_and(|i| i.loads_from_socket());
        let now = sim.clock.now();
        let ms = if from_socket {
            let started = inst.and_then(|i| i.load_started_ms()).unwrap_or(now);
            let parsed_at = started + duration_ms(size, sim.scenario.replica.load_speed);
            parsed_at.saturating_sub(now).max(1)
        } else {
            // `readSyncBulkPayload` renames the temp file to `dbfilename` before it loads it.
            let repl = sim.nodes[node]
                .inst
                .as_ref()
                .and_then(|i| i.loading_rdb_repl_info());
            sim.nodes[node].disk_rdb = Some(RdbFile { repl });
            sim.rdb_header_read(node, eof_marked);
            duration_ms(size, sim.scenario.replica.load_speed)
        };
        let gen = sim.nodes[node].generation;
        sim.nodes[node].load = Some((size, now, now + ms));
        sim.schedule(now + ms, Ev::LoadDone { node, gen });
    }

    fn apply(&mut self, _argv: Vec<Vec<u8>>) {
        // The simulated dataset is a size, not keys: nothing to execute.
    }

    fn log(&mut self, entry: LogEntry) {
        let sim = &mut *self.sim;
        let now = sim.clock.now();
        if self.node == sim.master {
            // `replicaPutOnline` marks nothing but this line: the step `replscope compare`
            // reads from real logs too.
            if let Some(who) = entry
                .text
                .strip_prefix("Synchronization with replica ")
                .and_then(|r| r.strip_suffix(" succeeded"))
            {
                let ip = who.split(':').next().unwrap_or("");
                if let Some(k) = (0..sim.nodes.len()).find(|k| super::node_ip(*k) == ip) {
                    sim.rec.note_online(now, k);
                }
            }
        }
        if sim.rec.keeps_pictures() {
            let name = sim.nodes[self.node].name.clone();
            sim.rec
                .log_line(entry.t_ms.max(now), now, &name, entry.line);
        }
    }

    fn mark(&mut self, m: MarkEvent) {
        self.sim.core_mark(self.node, m);
    }
}

impl Simulation {
    /// Replica `node`'s loader has read the header of the RDB it loads (from a socket
    /// transfer if `eof`, else from the master's file): its aux fields, for the core to log.
    fn rdb_header_read(&mut self, node: usize, eof: bool) {
        let ctime_ms = if eof {
            self.rdb_ctime.socket_ms
        } else {
            self.rdb_ctime.file_ms
        };
        let aux = RdbAux {
            redis_ver: Some(self.scenario.version.release().into()),
            ctime_s: Some((self.epoch_ms + ctime_ms) / 1000),
            used_mem: Some(self.scenario.dataset.size),
        };
        let (now, gen) = (self.clock.now(), self.nodes[node].generation);
        let input = Input::RdbLoading { aux };
        self.schedule(now, Ev::Deferred { node, gen, input });
    }

    /// A mark a node's core made: which replica it concerns, and what it counts for.
    fn core_mark(&mut self, node: usize, m: MarkEvent) {
        // A master's mark names the replica by connection (or, when it is gone, by address).
        let replica = match m.conn {
            Some(conn) => self
                .net
                .conn_of((node, conn))
                .map(|(_, _, ends)| ends[0].0)
                .or_else(|| {
                    m.peer.as_ref().and_then(|p| {
                        let ip = p.split(':').next().unwrap_or("");
                        (0..self.nodes.len()).find(|k| super::node_ip(*k) == ip)
                    })
                }),
            None if node != self.master => Some(node),
            None => None,
        };
        let from_master = node == self.master;
        // A dual-channel sync opens a second (RDB) connection that the master also counts as
        // a full sync; the summary counts logical replicas, so only the main link counts.
        let main_link = match m.conn {
            Some(conn) if from_master => {
                self.net.conn_of((node, conn)).is_none_or(|(_, _, ends)| {
                    let (rn, rc) = ends[0];
                    self.nodes[rn]
                        .inst
                        .as_ref()
                        .is_none_or(|i| i.master_conn().is_none_or(|mc| mc == rc))
                })
            }
            _ => true,
        };
        let now = self.clock.now();
        if let Some(r) = replica.filter(|r| *r > 0 && *r < self.nodes.len()) {
            self.rec
                .count_core_mark(now, r, m.kind, from_master, main_link);
        }
        if !self.rec.keeps_pictures() {
            return;
        }
        let name = self.nodes[node].name.clone();
        let replica = replica.filter(|r| *r > 0).map(|r| r - 1);
        self.rec.mark(now, &name, replica, m.kind, m.cause);
    }
}
