//! [`Simulation`]: the world of one run, one master and N replicas (core [`Instance`]s), and
//! its event loop. A checkpoint is a clone: everything here is plain data, the history
//! included.
//!
//! The world owns its components, each owning its own state:
//!
//! * [`Net`] (`sim/net.rs`): connections, links, bandwidth, latency, cuts;
//! * [`ForkChild`] (`sim/fork.rs`): the running BGSAVE child, its pace and copy-on-write;
//! * [`Recorder`] (`sim/recorder.rs`): log, trace hash, marks, spans, samples, summary figures;
//! * the nodes: each an [`Instance`] (or none while down) and what the simulator keeps for
//!   it (its RDB load, its `fork()` pause, its boot generation).
//!
//! Replication decisions (PSYNC acceptance, states, buffer limits, log lines) all come from
//! the core; the world only decides *when* things happen and how fast bytes move:
//!
//! * Virtual time in ms. Events wait in agendas keyed by `(time, seq)` (the world's and the
//!   network's, one shared sequence), so equal times run in the order they were scheduled
//!   and the run is deterministic; each node's own timer (`poll_timeout`: the core's crons)
//!   runs after the events of its millisecond.
//! * Bulk flows are aggregated per `tick` (default 100 ms): the workload feeds the master one
//!   `Phantom` chunk per tick (in pieces, see `workload`), the fork child produces one chunk,
//!   each link moves `rate x dt` bytes. Small messages (handshake, replies) go as soon as the
//!   core has them.
//! * Faults come from the scenario's schedule or from the public commands (`faults.rs`).
//!
//! The rest of the world's code: `driver.rs` (what each core output does here), `frame.rs`
//! (the pictures: frame, replica views, spans), `faults.rs` (faults and parameter changes).
//! This file is long because the event loop and the glue between the components are one
//! story: when an event runs, which component it touches, what the node does with it.

mod driver;
mod faults;
mod frame;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::agenda::{Agenda, SimClock};
use super::fork::{ForkChild, ForkStep};
use super::models::bytes_in_us;
use super::net::{self, Net, NetEvent};
use super::recorder::{Recorder, TraceEvent};
use super::rng::SplitMix64;
use super::scenario::Scenario;
use super::summary::{Outcome, ReplicaOutcome, Step, Summary};
use crate::core::{
    Config, ConnId, CronPhase, Input, Instance, InstanceParams, LinkStatus, Payload, ReplicaState,
    RequestSplitter, RestoredReplInfo,
};
use crate::view::{LogLine, Mark, MarkKind, Sample, Span};

/// Every node listens on this port; nodes differ by IP (`10.0.0.1` is the first master).
const PORT: u16 = 6379;
/// How often a [`Sample`] is recorded (virtual ms).
const SAMPLE_EVERY_MS: u64 = 250;
/// Run-time 0 is this wall-clock second in log lines: 21 Nov 2026 10:00:00 UTC (plus a seeded
/// fraction of a second, see `Simulation::new`).
const EPOCH_MS: u64 = 1_795_219_200_000 + 10 * 3_600_000;

fn node_ip(node: usize) -> String {
    format!("10.0.0.{}", node + 1)
}

/// One node of the world.
#[derive(Clone)]
struct Node {
    name: String,
    /// The process; `None` while it is down (killed, restarting).
    inst: Option<Instance>,
    /// RDB load in progress: (size, start, end).
    load: Option<(u64, u64, u64)>,
    /// Bumped at every restart so stale events for the old process are ignored.
    generation: u64,
    /// It holds a dataset (has loaded an RDB): `repl-diskless-load on-empty-db` then goes
    /// through the disk.
    has_data: bool,
    /// The RDB file on its disk (`dbfilename`), if any, with the `(repl-id, repl-offset)` it
    /// carries: the last full sync loaded through a temp file, or a clean shutdown's save.
    /// A process that boots loads it (`loadDataFromDisk`) and, as a replica, turns it into a
    /// cached master (`replicationCacheMasterUsingMyself`), crash or not.
    disk_rdb: Option<RdbFile>,
    /// The process is inside `fork()` until then: it handles nothing (inputs wait).
    paused_until: u64,
    /// Bytes its server connections received that are not yet whole commands.
    requests: BTreeMap<ConnId, RequestSplitter>,
}

/// An RDB file on a node's disk: the `repl-id` and `repl-offset` aux fields it carries (none
/// when the node that saved it had no replication info).
#[derive(Clone, Debug)]
struct RdbFile {
    repl: Option<(String, i64)>,
}

/// The world's own timed events (the network keeps its own, see [`Net`]).
#[derive(Clone, Debug)]
enum Ev {
    Tick,
    LoadDone {
        node: usize,
        gen: u64,
    },
    Fault {
        index: usize,
        at: u64,
    },
    RestartDone {
        node: usize,
        restored: Option<(String, i64)>,
    },
    Sample,
    /// An input that arrived while the node was paused by `fork()`.
    Deferred {
        node: usize,
        gen: u64,
        input: Input,
    },
    /// `fork()` returned: move what the node queued meanwhile.
    Resume {
        node: usize,
    },
    /// BGSAVE `id`'s socket child writes for the first time (`fork::FIRST_FLUSH`), which
    /// can fall between ticks.
    ChildFirstFlush {
        id: u64,
    },
}

/// A running simulation. `Clone`: a clone is a checkpoint (the web app keeps clones to step
/// back), and continues identically.
#[derive(Clone)]
pub struct Simulation {
    /// The scenario in force (it follows `set_param`).
    scenario: Scenario,
    seed: u64,
    rng: SplitMix64,
    /// Wall-clock ms at run time 0 (every node shares the wall clock).
    epoch_ms: u64,
    clock: SimClock,
    agenda: Agenda<Ev>,
    next_tick_ms: u64,
    nodes: Vec<Node>,
    /// Index of the node acting as master.
    master: usize,
    net: Net,
    fork: Option<ForkChild>,
    /// The fraction of a write the last tick's rate left over.
    write_carry: f64,
    /// When the RDBs replicas load were written (the fork child's start, the `ctime` aux
    /// field their loader ages them by).
    rdb_ctime: RdbCtime,
    rec: Recorder,
}

/// The `ctime` of the master's latest RDB file and of its latest socket transfer.
#[derive(Clone, Copy, Debug, Default)]
struct RdbCtime {
    file_ms: u64,
    socket_ms: u64,
}

impl Simulation {
    /// Builds the nodes at time 0; replicas connect on their first cron.
    pub fn new(s: &Scenario, seed: u64) -> Simulation {
        Simulation::with_recorder(s, seed, Recorder::new)
    }

    /// The same run, recording only what [`Simulation::summary`] and
    /// [`Simulation::outcome`] need: no log, trace, marks, spans or samples (their getters
    /// return nothing). For runs of many seeds (`sim::spread`); the run itself is identical.
    pub fn counting(s: &Scenario, seed: u64) -> Simulation {
        Simulation::with_recorder(s, seed, Recorder::counting)
    }

    fn with_recorder(s: &Scenario, seed: u64, recorder: fn(usize) -> Recorder) -> Simulation {
        let n = s.replicas.clamp(1, 8) as usize;
        let mut rng = SplitMix64::new(seed ^ 0x5eed_5eed_5eed_5eed);
        // Where the run starts within a wall-clock second: Redis's timers compare whole
        // seconds of `server.unixtime` (`repl-timeout`, `repl-diskless-sync-delay`, the
        // soft-limit timer), so which side of a second boundary an event falls on moves
        // them by up to a second, as it does on real servers.
        let epoch_ms = EPOCH_MS + rng.next_u64() % 1000;
        let mut sim = Simulation {
            scenario: s.clone(),
            seed,
            rng,
            epoch_ms,
            clock: SimClock::default(),
            agenda: Agenda::default(),
            next_tick_ms: 0,
            nodes: Vec::new(),
            master: 0,
            net: Net::new(n + 1),
            fork: None,
            write_carry: 0.0,
            rdb_ctime: RdbCtime::default(),
            rec: recorder(n),
        };
        for node in 0..=n {
            let name = if node == 0 {
                "master".to_string()
            } else {
                format!("replica-{node}")
            };
            sim.nodes.push(Node {
                name,
                inst: None,
                load: None,
                generation: 0,
                has_data: false,
                disk_rdb: None,
                paused_until: 0,
                requests: BTreeMap::new(),
            });
            let replicaof = if node == 0 { None } else { Some(0) };
            sim.boot(node, replicaof, None);
        }
        for (i, f) in s.faults.iter().enumerate() {
            sim.schedule(f.at, Ev::Fault { index: i, at: f.at });
        }
        sim.schedule(0, Ev::Tick);
        if sim.rec.keeps_pictures() {
            sim.schedule(0, Ev::Sample);
        }
        sim
    }

    // ------------------------------------------------------------------ public API

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now()
    }

    /// Node names by index: 0 = `master` (the first master), then `replica-1`...
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// Index of the node acting as master now (changes after `kill_master`).
    pub fn master_node(&self) -> usize {
        self.master
    }

    /// Whether node `node` is running (not killed, not restarting).
    pub fn is_up(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(|n| n.inst.is_some())
    }

    /// Processes every event with time `<= t_ms`, then sets the clock to `t_ms`.
    pub fn run_until(&mut self, t_ms: u64) {
        loop {
            let queued = self.next_queued();
            let (node_t, node) = self.next_node_timeout();
            let next = match (queued.map(|q| q.0), node_t) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(u64::MAX),
            };
            if next > t_ms {
                break;
            }
            self.clock.advance_to(next);
            match queued {
                // Queued events of a millisecond run before the nodes' timers of it.
                Some((t, from_net)) if t == next => {
                    if from_net {
                        if let Some(ev) = self.net.handle_timeout(self.clock.now()) {
                            self.on_net_event(ev);
                        }
                    } else if let Some(ev) = self.agenda.pop() {
                        self.handle_event(ev);
                    }
                }
                _ => {
                    if let Some(k) = node {
                        let now = self.clock.now();
                        if let Some(inst) = self.nodes[k].inst.as_mut() {
                            inst.handle_timeout(now);
                        }
                        self.drain(k);
                    }
                }
            }
        }
        self.clock.advance_to(t_ms);
    }

    /// The time of the next thing that will happen.
    pub fn next_event_ms(&self) -> Option<u64> {
        match (self.next_queued().map(|q| q.0), self.next_node_timeout().0) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn log(&self) -> &[LogLine] {
        self.rec.log()
    }

    pub fn marks(&self) -> &[Mark] {
        self.rec.marks()
    }

    pub fn spans(&self) -> &[Span] {
        self.rec.spans()
    }

    pub fn samples(&self) -> &[Sample] {
        self.rec.samples()
    }

    /// Log lines and marks in the order they happened.
    pub fn events(&self) -> &[TraceEvent] {
        self.rec.events()
    }

    /// FNV-1a over the trace: equal for equal runs, on every platform.
    pub fn trace_hash(&self) -> u64 {
        self.rec.trace_hash()
    }

    /// `INFO replication` of a node (0 = the first master, 1.. = replicas); empty if it is down.
    pub fn info_replication(&self, node: usize) -> String {
        self.nodes
            .get(node)
            .and_then(|n| n.inst.as_ref())
            .map(|i| i.info_replication(self.clock.now()))
            .unwrap_or_default()
    }

    /// Per-replica and master figures of the run so far.
    pub fn summary(&self) -> Summary {
        let master_off = self.master_inst().map_or(0, |m| m.master_repl_offset());
        let slack = self.rec.in_sync_slack();
        let (mut replicas, mut master) = self.rec.summary_parts();
        for (i, r) in replicas.iter_mut().enumerate() {
            let k = i + 1;
            let Some(inst) = self.nodes[k].inst.as_ref() else {
                r.final_offset = -1;
                r.in_sync_at_end = false;
                continue;
            };
            // As `replscope compare` reads a real replica: INFO's `slave_repl_offset` (so a
            // 6.2 replica mid full sync, its cached master dropped, ends at 1).
            let off = inst
                .info_applied_offset()
                .unwrap_or_else(|| inst.master_repl_offset());
            r.final_offset = off;
            r.is_master = k == self.master;
            r.in_sync_at_end = k != self.master
                && inst.link_status() == LinkStatus::Connected
                && master_off - off <= slack;
        }
        master.final_offset = master_off;
        Summary {
            until_ms: self.clock.now(),
            master,
            replicas,
        }
    }

    /// Each replica's sequence of sync kinds and cut-offs so far, and whether it is in sync.
    pub fn outcome(&self) -> Outcome {
        let summary = self.summary();
        let replicas = summary
            .replicas
            .iter()
            .zip(self.rec.steps())
            .map(|(r, steps)| ReplicaOutcome {
                name: r.name.clone(),
                sequence: steps
                    .iter()
                    .map(|(_, s)| *s)
                    .filter(|s| *s != Step::Loaded)
                    .collect(),
                in_sync_at_end: r.in_sync_at_end,
            })
            .collect();
        Outcome { replicas }
    }

    /// Each replica's steps so far (0-based) with their times, `Loaded` included.
    pub fn steps(&self) -> &[Vec<(u64, Step)>] {
        self.rec.steps()
    }

    /// The scenario's `[check]` expectations that do not hold (yet): empty = all hold.
    pub fn check(&self) -> Vec<String> {
        super::summary::check_summary(&self.summary(), &self.scenario.check)
    }

    // ------------------------------------------------------------------ nodes

    fn master_inst(&self) -> Option<&Instance> {
        self.nodes.get(self.master).and_then(|n| n.inst.as_ref())
    }

    fn boot(&mut self, node: usize, replica_of: Option<usize>, restored: Option<(String, i64)>) {
        let mut config = Config::default();
        // The version first: it sets the defaults the scenario's own values then override.
        let _ = config.load_pair("version", self.scenario.version.name());
        for (name, v) in self.scenario.redis_pairs() {
            // Values come from our own validated scenario; the core's parser agreeing with it
            // is covered by tests, so a rejection here would be a bug, not bad input.
            let _ = config.load_pair(&name, &v);
        }
        config.port = PORT;
        config.replicaof = replica_of.map(|m| (node_ip(m), PORT));
        let seed = self.rng.next_u64();
        // Each process has its own cron grid, set by when it started: its replicationCron
        // (connects, timeouts, the diskless delay) falls anywhere in the second, so a replica
        // reconnects 0-1 s after a link returns (`connectWithMaster` from `replicationCron`).
        let phase = CronPhase {
            offset_ms: self.rng.next_u64() % 1000,
        };
        let params = InstanceParams {
            name: self.nodes[node].name.clone(),
            ip: node_ip(node),
            pid: 1000 + 1000 * node as u32 + (self.nodes[node].generation as u32) * 100,
            seed,
            epoch_ms: self.epoch_ms,
            start_ms: self.clock.now(),
            config,
            restored: restored.map(|(replid, offset)| RestoredReplInfo { replid, offset }),
        };
        let mut inst = Instance::with_cron_phase(params, phase);
        // What it holds at boot (`repl-diskless-load on-empty-db` asks): the first master its
        // dataset, a replica what its RDB held (none after a crash).
        let holds_data = replica_of.is_none() || self.nodes[node].has_data;
        inst.set_key_count(if holds_data {
            self.scenario.dataset.keys
        } else {
            0
        });
        self.nodes[node].inst = Some(inst);
        self.net.forget_node(node);
        self.nodes[node].load = None;
        self.drain(node);
    }

    fn kill_node(&mut self, node: usize) {
        let scs = self.net.conns_of_node(node);
        let n = &mut self.nodes[node];
        n.inst = None;
        n.generation += 1;
        n.load = None;
        n.requests.clear();
        self.net.forget_node(node);
        for sc in scs {
            self.break_conn(sc, "Connection reset by peer");
        }
        if self.fork.as_ref().is_some_and(|c| c.node == node) {
            self.fork = None;
        }
    }

    fn next_node_timeout(&self) -> (Option<u64>, Option<usize>) {
        let mut best: (Option<u64>, Option<usize>) = (None, None);
        for (k, n) in self.nodes.iter().enumerate() {
            if let Some(t) = n.inst.as_ref().and_then(|i| i.poll_timeout()) {
                let t = t.max(n.paused_until);
                if best.0.is_none_or(|b| t < b) {
                    best = (Some(t), Some(k));
                }
            }
        }
        best
    }

    /// Feeds one input to a node and carries out what it asks (an input to a node inside
    /// `fork()` waits until it returns).
    fn input(&mut self, node: usize, input: Input) {
        let now = self.clock.now();
        let n = &mut self.nodes[node];
        if now < n.paused_until {
            let (at, gen) = (n.paused_until, n.generation);
            self.schedule(at, Ev::Deferred { node, gen, input });
            return;
        }
        let Some(inst) = n.inst.as_mut() else {
            return;
        };
        if let Input::Closed { conn, .. } = &input {
            n.requests.remove(conn);
        }
        inst.handle(now, input);
        self.drain(node);
    }

    /// Carries out everything node `node` asked for (see `driver.rs`).
    fn drain(&mut self, node: usize) {
        loop {
            let out = match self.nodes[node].inst.as_mut() {
                Some(i) => i.poll_output(),
                None => return,
            };
            let Some(out) = out else { return };
            out.dispatch(&mut driver::NodeDriver { sim: self, node });
        }
    }

    // ------------------------------------------------------------------ events

    fn schedule(&mut self, t: u64, ev: Ev) {
        self.agenda.schedule(&mut self.clock, t, ev);
    }

    /// The earliest queued event: its time, and whether the network holds it.
    fn next_queued(&self) -> Option<(u64, bool)> {
        match (self.agenda.peek(), self.net.poll_timeout()) {
            (Some(a), Some(n)) => Some(if n < a { (n.0, true) } else { (a.0, false) }),
            (Some(a), None) => Some((a.0, false)),
            (None, Some(n)) => Some((n.0, true)),
            (None, None) => None,
        }
    }

    fn handle_event(&mut self, ev: Ev) {
        match ev {
            Ev::Tick => self.on_tick(),
            Ev::LoadDone { node, gen } => {
                let n = &mut self.nodes[node];
                if n.generation == gen && n.load.is_some() {
                    n.load = None;
                    n.has_data = true;
                    let keys = self.scenario.dataset.keys;
                    self.input(
                        node,
                        Input::LoadDone {
                            ok: true,
                            error: String::new(),
                            keys,
                        },
                    );
                }
            }
            Ev::Fault { index, at } => self.on_fault(index, at),
            Ev::Deferred { node, gen, input } => {
                if self.nodes[node].generation == gen {
                    self.input(node, input);
                }
            }
            Ev::ChildFirstFlush { id } => {
                if let Some(node) = self.fork.as_ref().filter(|c| c.id == id).map(|c| c.node) {
                    self.child_progress(0);
                    for (sc, side) in self.net.ends_of_node(node) {
                        self.pump(sc, side);
                    }
                }
            }
            Ev::Resume { node } => {
                for (sc, side) in self.net.ends_of_node(node) {
                    self.pump(sc, side);
                }
            }
            Ev::Sample => {
                self.observe();
                self.sample();
                let at = self.clock.now() + SAMPLE_EVERY_MS;
                self.schedule(at, Ev::Sample);
            }
            Ev::RestartDone { node, restored } => {
                if self.nodes[node].inst.is_none() {
                    let m = self.master;
                    self.boot(node, Some(m), restored);
                }
            }
        }
    }

    fn on_net_event(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Writable { sc, from } => self.pump(sc, from),
            NetEvent::Delivered { sc, to, payload } => self.deliver(sc, to, payload),
            NetEvent::Accepted { sc, end, client } => {
                let peer = format!("{}:{}", node_ip(client), 40000 + (sc % 20000));
                self.input(end.0, Input::Accepted { conn: end.1, peer });
            }
            NetEvent::Connected { end } => self.input(end.0, Input::Connected { conn: end.1 }),
            NetEvent::ConnectFailed { end, gen, error } => {
                if self.nodes[end.0].generation == gen {
                    self.input(end.0, Input::ConnectFailed { conn: end.1, error });
                }
            }
            NetEvent::Closed { end, error } => {
                self.input(end.0, Input::Closed { conn: end.1, error })
            }
            NetEvent::LinkRestored { link } => {
                self.add_mark(Some(link), MarkKind::LinkRestored, "link restored".into())
            }
        }
    }

    // ------------------------------------------------------------------ the tick

    fn on_tick(&mut self) {
        let dt = self.scenario.tick.max(1);
        let now = self.clock.now();
        self.next_tick_ms = now + dt;
        self.schedule(now + dt, Ev::Tick);
        self.workload(dt);
        self.child_progress(dt);
        for sc in self.net.conn_ids() {
            self.pump(sc, 1);
            self.pump(sc, 0);
        }
        self.observe();
        if self.rec.keeps_pictures() {
            self.update_spans();
        }
    }

    /// Writes this tick: `rate x dt` (with seeded jitter), as Phantom stream bytes.
    fn workload(&mut self, dt: u64) {
        let now = self.clock.now();
        let rate = self.scenario.workload.rate_at(now);
        let j = self.scenario.workload.jitter.clamp(0.0, 1.0);
        let noise = 1.0 + j * (2.0 * self.rng.next_f64() - 1.0);
        let exact = rate * dt as f64 / 1000.0 * noise + self.write_carry;
        let n = exact.max(0.0) as u64;
        self.write_carry = exact - n as f64;
        if n == 0 {
            return;
        }
        if let Some(c) = self.fork.as_mut() {
            let (size, page) = (self.scenario.dataset.size, self.scenario.fork.page_size);
            if let Some(peak) = c.on_writes(now, n, size, page) {
                self.rec.note_cow(peak);
            }
        }
        let mut bytes = n * self.scenario.bytes_per_write();
        let m = self.master;
        // Redis feeds the stream one command at a time, so each call appends at most a block or
        // two and trims up to 64 (`incrementalTrimReplicationBacklog`). One huge chunk would
        // append hundreds of blocks against one 64-block trim and the backlog would never
        // shrink back; pieces of 32 blocks keep the core's trimming in step.
        let block = (16 * 1024u64).max(self.scenario.redis.repl_backlog_size / 16);
        let piece = 32 * block;
        while bytes > 0 && self.nodes[m].inst.is_some() {
            let n = bytes.min(piece);
            bytes -= n;
            self.observe();
            self.input(
                m,
                Input::Propagate {
                    db: 0,
                    payload: Payload::Phantom(n),
                },
            );
        }
    }

    /// The fork child writes its chunk of RDB: to disk at min(serialise, disk write), or into
    /// the replica sockets at the serialise speed, never more than one tick ahead of the
    /// slowest socket.
    fn child_progress(&mut self, dt: u64) {
        let Some(mut c) = self.fork.take() else {
            return;
        };
        if self.clock.now() < c.ready_ms {
            self.fork = Some(c);
            return;
        }
        let s = &self.scenario;
        let node = c.node;
        let done = |c: &ForkChild, rdb: u64| Input::BgsaveDone {
            id: c.id,
            ok: true,
            rdb: Payload::Phantom(rdb),
            cow_bytes: c.cow_bytes(),
        };
        if c.disk {
            let speed = s.fork.rdb_speed.min(s.disk.write_speed);
            if c.write_disk(speed, dt) {
                self.rdb_ctime.file_ms = c.ready_ms;
                let input = done(&c, c.total());
                self.input(node, input);
                return;
            }
            self.fork = Some(c);
            return;
        }
        let speed = s.fork.rdb_speed;
        let pipe_cap = speed.saturating_mul(s.tick) / 1000;
        let queued = |sim: &Simulation| {
            sim.nodes[node]
                .inst
                .as_ref()
                .map_or(0, |i| i.bgsave_backlog_bytes())
        };
        let now = self.clock.now();
        if let ForkStep::Data(n) = c.write_sockets(speed, now, pipe_cap, queued(self)) {
            let id = c.id;
            self.fork = Some(c.clone());
            let payload = Payload::Phantom(n);
            self.input(node, Input::BgsaveData { id, payload });
            // The core may have killed the child (last target dropped).
            match self.fork.take() {
                Some(cur) if cur.id == id => c = cur,
                other => {
                    self.fork = other;
                    return;
                }
            }
        }
        if c.written() && queued(self) == 0 {
            let input = done(&c, 0);
            self.input(node, input);
            return;
        }
        self.fork = Some(c);
    }

    // ------------------------------------------------------------------ links

    /// Moves what side `from` of `sc` has queued, as far as its link allows before the next
    /// tick.
    fn pump(&mut self, sc: u64, from: usize) {
        let now = self.clock.now();
        let Some(w) = self.net.window(sc, from, now) else {
            return;
        };
        let (node, conn) = w.sender;
        if now < self.nodes[node].paused_until {
            return;
        }
        let Some(inst) = self.nodes[node].inst.as_ref() else {
            return;
        };
        if inst.outgoing_len(conn) == 0 {
            return;
        }
        let rate = self.rate_for(sc, from);
        let (bandwidth, latency) = self.scenario.link_of(w.link - 1);
        // What the connection sends before the next tick, plus what the sender's kernel
        // queues ahead of the wire (net::SEND_BUFFER), less what it has queued there already.
        let horizon = self.next_tick_ms.max(now + 1) * 1000;
        let queued = bytes_in_us(rate, w.conn_free_us.saturating_sub(now * 1000));
        let budget = bytes_in_us(rate, horizon - now * 1000) + net::SEND_BUFFER;
        let allowed = budget.saturating_sub(queued).min(w.room);
        if allowed == 0 {
            return;
        }
        let got = match self.nodes[node].inst.as_mut() {
            Some(i) => i.take_outgoing(now, conn, allowed),
            None => return,
        };
        if got.iter().any(|p| !p.is_empty()) {
            self.net
                .transmit(&mut self.clock, sc, from, &w, rate, bandwidth, latency, got);
        }
        self.drain(node);
    }

    /// The rate bytes leave side `from` of `sc`: the link's bandwidth, lowered while the
    /// master reads the RDB file from disk (`send_bulk`) or the replica writes it to its disk
    /// (receiving with `repl-diskless-load disabled`).
    fn rate_for(&self, sc: u64, from: usize) -> u64 {
        let Some((link, ends)) = self.net.conn(sc) else {
            return 1;
        };
        let s = &self.scenario;
        let mut rate = s.link_of(link - 1).0.max(1);
        if from == 1 {
            let ((rnode, rconn), (snode, sconn)) = (ends[0], ends[1]);
            let sending_file = self.nodes[snode]
                .inst
                .as_ref()
                .and_then(|m| m.replica_state(sconn))
                == Some(ReplicaState::SendBulk);
            if sending_file {
                rate = rate.min(s.disk.read_speed);
            }
            // Only the connection the RDB comes on: a second channel's main connection
            // carries the stream, which the replica buffers in memory meanwhile.
            let receiving = self.nodes[rnode]
                .inst
                .as_ref()
                .is_some_and(|r| r.rdb_conn() == Some(rconn));
            if receiving {
                // The replica reads the RDB as fast as it can store it: into its temp file,
                // or straight into memory with diskless load (parsing as it reads).
                let from_socket = self.nodes[rnode]
                    .inst
                    .as_ref()
                    .is_some_and(|r| r.loads_from_socket());
                rate = rate.min(if from_socket {
                    s.replica.load_speed
                } else {
                    s.disk.write_speed
                });
            }
        }
        rate.max(1)
    }

    /// Bytes reached side `to` of `sc`. Towards a server they are cut into whole commands
    /// (the core takes parsed argv); towards the connecting replica they go as they are.
    fn deliver(&mut self, sc: u64, to: usize, payload: Vec<Payload>) {
        let Some((_, ends)) = self.net.conn(sc) else {
            return;
        };
        let (node, conn) = ends[to];
        if to == 0 {
            for p in payload {
                if !self.net.is_open(sc, to) {
                    return;
                }
                self.input(node, Input::Received { conn, payload: p });
            }
            return;
        }
        let requests = self.nodes[node].requests.entry(conn).or_default();
        for p in &payload {
            requests.push(p);
        }
        let mut cmds = Vec::new();
        let bad = loop {
            match requests.next_command() {
                Ok(Some(argv)) => cmds.push(argv),
                Ok(None) => break false,
                Err(_) => break true,
            }
        };
        for argv in cmds {
            if !self.net.is_open(sc, to) {
                return;
            }
            self.input(node, Input::Command { conn, argv });
        }
        if bad {
            self.break_conn(sc, "Protocol error");
        }
    }

    /// Node `node` opens `conn` to `host:port`.
    fn connect(&mut self, node: usize, conn: ConnId, host: &str, port: u16) {
        let target = match (0..self.nodes.len()).find(|k| node_ip(*k) == host && port == PORT) {
            None => Err("Name or service not known"),
            Some(t) if self.nodes[t].inst.is_none() => Err("Connection refused"),
            Some(t) => Ok(t),
        };
        let link = node;
        let (_, latency) = self.scenario.link_of(link.max(1) - 1);
        let gen = self.nodes[node].generation;
        self.net
            .connect(&mut self.clock, (node, conn), target, link, latency, gen);
    }

    /// Both ends learn at once that the connection is gone (a reset, a crash, a cut).
    fn break_conn(&mut self, sc: u64, error: &str) {
        for (node, conn) in self.net.break_conn(sc) {
            if self.nodes[node].inst.is_some() {
                let error = error.to_string();
                self.input(node, Input::Closed { conn, error });
            }
        }
    }

    // ------------------------------------------------------------------ observation

    /// A mark the simulator makes itself (faults, links).
    fn add_mark(&mut self, replica: Option<usize>, kind: MarkKind, cause: String) {
        let node = match replica {
            Some(r) => self
                .nodes
                .get(r)
                .map(|n| n.name.clone())
                .unwrap_or_default(),
            None => "sim".into(),
        };
        let now = self.clock.now();
        let replica = replica.filter(|r| *r > 0).map(|r| r - 1);
        self.rec.mark(now, &node, replica, kind, cause);
    }

    /// Tracks peaks (buffers, backlog) and the recent master offsets. Cheap enough to run
    /// before every write chunk (the moment a buffer peaks is just before a cut-off).
    fn observe(&mut self) {
        let m = self.master;
        let Some(inst) = self.nodes[m].inst.as_ref() else {
            return;
        };
        self.rec.note_backlog(inst.backlog_histlen());
        for (client, (snode, sconn)) in self.net.server_ends() {
            if snode == m {
                let obuf = inst.replica_obuf_bytes(sconn).unwrap_or(0);
                self.rec.note_obuf(client, obuf);
            }
        }
        self.rec
            .note_offset(self.clock.now(), inst.master_repl_offset());
    }
}
