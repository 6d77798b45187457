//! The event loop: one master and N replicas (core `Instance`s) joined by simulated links,
//! with a fork child, disks, an RDB loader, a write workload and faults around them.
//!
//! Replication decisions (PSYNC acceptance, states, buffer limits, log lines) all come from the
//! core; this file only decides *when* things happen and how fast bytes move:
//!
//! * Virtual time in ms. One queue of events keyed by `(time, seq)` (a `BTreeMap`, so equal
//!   times run in insertion order and the run is deterministic), plus each node's own timer
//!   (`poll_timeout`: the core's 10 Hz cron).
//! * Bulk flows are aggregated per `tick` (default 100 ms): the workload feeds the master one
//!   `Phantom` chunk per tick, the fork child produces one chunk, each link moves `rate x dt`
//!   bytes. Small messages (handshake, replies) are sent as soon as the core has them.
//! * A link direction is a FIFO server: `free_at` is when it finishes sending what it already
//!   took; bytes arrive `latency` after they are sent. A receiver that does not read (a replica
//!   loading its RDB) stops the sender from taking bytes, so they stay in the core's output
//!   buffer, which is what Redis's limit measures (kernel socket buffers are not modelled).
//! * The fork child: `fork()` freezes the master (its inputs wait as `Ev::Deferred`), then the
//!   child writes the RDB at the disk's or the serialiser's speed and copy-on-write memory
//!   grows with the pages the writes touch (`models::CowModel`).
//! * Faults come from the scenario's schedule or from the public commands; the commands are
//!   recorded as the run's `path`, which lets `restore` tell whether a checkpoint belongs to
//!   the current history.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::models::{bytes_in_us, duration_ms, fork_ms, transfer_us, CowModel, RateCarry};
use super::rng::{Fnv64, SplitMix64};
use super::scenario::{FaultAction, Scenario, ScenarioError};
use super::summary::{MasterSummary, ReplicaSummary, Summary};
use crate::core::{
    BgsaveTarget, Config, ConnId, Input, Instance, InstanceParams, MarkEvent, Output, Payload,
    RestoredReplInfo,
};
use crate::view::{
    Frame, LogLine, Mark, MarkKind, RdbFileView, ReplicaView, Sample, Span, SpanKind,
};
use serde::Serialize;

/// Every node listens on this port; nodes differ by IP (`10.0.0.1` is the first master).
const PORT: u16 = 6379;
/// How often a [`Sample`] is recorded (virtual ms).
const SAMPLE_EVERY_MS: u64 = 250;
/// Run-time 0 is this wall-clock instant in log lines: 21 Nov 2026 10:00:00 UTC.
const EPOCH_MS: u64 = 1_795_219_200_000 + 10 * 3_600_000;

fn node_ip(node: usize) -> String {
    format!("10.0.0.{}", node + 1)
}

/// One line of the run's trace: a log line or a timeline mark, in the order they happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    pub t_ms: u64,
    pub node: String,
    /// "log" or "mark".
    pub kind: &'static str,
    pub text: String,
}

#[derive(Clone)]
struct Node {
    name: String,
    inst: Option<Instance>,
    /// Connections this node has stopped reading (`Output::SetReadable`).
    unreadable: BTreeSet<ConnId>,
    /// RDB load in progress: (size, start, end, generation).
    load: Option<(u64, u64, u64)>,
    /// Bumped at every restart so stale events for the old process are ignored.
    generation: u64,
    /// It holds a dataset (has loaded an RDB): `repl-diskless-load on-empty-db` then goes
    /// through the disk.
    has_data: bool,
    /// The process is inside `fork()` until then: it handles nothing (inputs wait).
    paused_until: u64,
}

/// One TCP connection: side 0 is the node that connected (a replica), side 1 the server.
#[derive(Clone)]
struct SimConn {
    /// The link that carries it: the connecting node's.
    link: usize,
    ends: [(usize, ConnId); 2],
    open: [bool; 2],
    /// Bytes towards the server, not yet a whole command.
    parse_buf: Vec<u8>,
    /// Payload that arrived while the receiving side was not reading, by receiving side.
    held: [VecDeque<Payload>; 2],
    pump_pending: [bool; 2],
}

#[derive(Clone, Default)]
struct LinkState {
    /// When each direction (0 = towards the server, 1 = towards the connecting node) has sent
    /// everything it took, in microseconds.
    free_at_us: [u64; 2],
    cut_until: Option<u64>,
}

/// A running fork child on the master.
#[derive(Clone)]
struct ChildJob {
    node: usize,
    id: u64,
    disk: bool,
    /// When fork() returns and the child starts writing.
    ready_ms: u64,
    total: u64,
    produced: u64,
    carry: RateCarry,
    cow: CowModel,
}

#[derive(Clone, Debug)]
enum Ev {
    Tick,
    Pump {
        sc: u64,
        from: usize,
    },
    Deliver {
        sc: u64,
        to: usize,
        payload: Vec<Payload>,
    },
    Accept {
        sc: u64,
    },
    Connected {
        sc: u64,
    },
    ConnectFailed {
        node: usize,
        gen: u64,
        conn: ConnId,
        error: String,
    },
    PeerClosed {
        sc: u64,
        to: usize,
    },
    LoadDone {
        node: usize,
        gen: u64,
    },
    Fault {
        index: usize,
        at: u64,
    },
    LinkRestored {
        link: usize,
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
}

#[derive(Clone, Default)]
struct History {
    log: Vec<LogLine>,
    trace: Vec<TraceEvent>,
    marks: Vec<Mark>,
    spans: Vec<Span>,
    samples: Vec<Sample>,
}

impl History {
    fn lens(&self) -> [usize; 5] {
        [
            self.log.len(),
            self.trace.len(),
            self.marks.len(),
            self.spans.len(),
            self.samples.len(),
        ]
    }
}

/// A saved moment of a run without its history (cheap to keep many of): see
/// [`Simulation::checkpoint`].
#[derive(Clone)]
pub struct Checkpoint {
    state: Box<Simulation>,
    lens: [usize; 5],
}

impl Checkpoint {
    /// Virtual time of the saved moment.
    pub fn t_ms(&self) -> u64 {
        self.state.now
    }
}

/// A running simulation. `Clone` so the web app can checkpoint and step back.
#[derive(Clone)]
pub struct Simulation {
    scenario: Scenario,
    /// The scenario as the run started (`scenario` follows `set_param`).
    scenario_at_start: Box<Scenario>,
    seed: u64,
    rng: SplitMix64,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    next_tick_ms: u64,
    nodes: Vec<Node>,
    /// Index of the node acting as master.
    master: usize,
    conns: BTreeMap<u64, SimConn>,
    by_end: BTreeMap<(usize, ConnId), (u64, usize)>,
    next_sc: u64,
    next_server_conn: u64,
    links: Vec<LinkState>,
    child: Option<ChildJob>,
    write_carry: f64,
    /// What the run produced so far (append-only, except the open spans' `end_ms`).
    hist: History,
    hash: Fnv64,
    open_span: Vec<Option<usize>>,
    /// Commands given during the run (`cut_link`, `set_param`, ...) with their times: two runs
    /// with the same scenario, seed and path have the same history.
    path: Vec<(u64, String)>,
    stats: Vec<ReplicaSummary>,
    master_stats: MasterSummary,
    /// (time, master offset) for the last few seconds: the "in sync" slack.
    offset_history: VecDeque<(u64, i64)>,
}

impl Simulation {
    /// Builds the nodes at time 0; replicas connect on their first cron.
    pub fn new(s: &Scenario, seed: u64) -> Simulation {
        let n = s.replicas.clamp(1, 8) as usize;
        let mut sim = Simulation {
            scenario: s.clone(),
            scenario_at_start: Box::new(s.clone()),
            seed,
            rng: SplitMix64::new(seed ^ 0x5eed_5eed_5eed_5eed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            next_tick_ms: 0,
            nodes: Vec::new(),
            master: 0,
            conns: BTreeMap::new(),
            by_end: BTreeMap::new(),
            next_sc: 1,
            next_server_conn: 1,
            links: vec![LinkState::default(); n + 1],
            child: None,
            write_carry: 0.0,
            hist: History::default(),
            hash: Fnv64::default(),
            open_span: vec![None; n],
            path: Vec::new(),
            stats: (1..=n)
                .map(|i| ReplicaSummary::new(&format!("replica-{i}")))
                .collect(),
            master_stats: MasterSummary {
                name: "master".into(),
                ..Default::default()
            },
            offset_history: VecDeque::new(),
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
                unreadable: BTreeSet::new(),
                load: None,
                generation: 0,
                has_data: false,
                paused_until: 0,
            });
            let replicaof = if node == 0 { None } else { Some(0) };
            sim.boot(node, replicaof, None);
        }
        for (i, f) in s.faults.iter().enumerate() {
            sim.schedule(f.at, Ev::Fault { index: i, at: f.at });
        }
        sim.schedule(0, Ev::Tick);
        sim.schedule(0, Ev::Sample);
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
        self.now
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
            let q = self.queue.first_key_value().map(|((t, _), _)| *t);
            let (node_t, node) = self.next_node_timeout();
            let next = match (q, node_t) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(u64::MAX),
            };
            if next > t_ms {
                break;
            }
            self.now = self.now.max(next);
            if q == Some(next) {
                if let Some((_, ev)) = self.queue.pop_first() {
                    self.handle_event(ev);
                }
            } else if let Some(k) = node {
                let now = self.now;
                if let Some(inst) = self.nodes[k].inst.as_mut() {
                    inst.handle_timeout(now);
                }
                self.drain(k);
            }
        }
        self.now = self.now.max(t_ms);
    }

    /// The time of the next thing that will happen.
    pub fn next_event_ms(&self) -> Option<u64> {
        let q = self.queue.first_key_value().map(|((t, _), _)| *t);
        match (q, self.next_node_timeout().0) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn log(&self) -> &[LogLine] {
        &self.hist.log
    }

    pub fn marks(&self) -> &[Mark] {
        &self.hist.marks
    }

    pub fn spans(&self) -> &[Span] {
        &self.hist.spans
    }

    pub fn samples(&self) -> &[Sample] {
        &self.hist.samples
    }

    /// Log lines and marks in the order they happened.
    pub fn events(&self) -> &[TraceEvent] {
        &self.hist.trace
    }

    /// FNV-1a over the trace: equal for equal runs, on every platform.
    pub fn trace_hash(&self) -> u64 {
        self.hash.finish()
    }

    /// Saves this moment without the history so far (logs, marks, spans, samples), so a
    /// step-back UI can keep many. Restore it with [`Simulation::restore`] into this run or a
    /// later moment of it; a plain `clone()` is the fully independent alternative.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            state: Box::new(self.clone_with_history(History::default())),
            lens: self.hist.lens(),
        }
    }

    /// Goes back to `cp`, keeping the history up to it. Works when `cp` was taken earlier in
    /// this same run (same scenario and seed, and every command given since was given after
    /// it); returns `false` and changes nothing otherwise (then rerun or use a clone).
    pub fn restore(&mut self, cp: &Checkpoint) -> bool {
        let st = &cp.state;
        let same_run = st.seed == self.seed
            && st.now <= self.now
            && self.path.len() >= st.path.len()
            && self.path[..st.path.len()] == st.path[..]
            && self.path[st.path.len()..].iter().all(|(t, _)| *t >= st.now)
            && cp.lens.iter().zip(self.hist.lens()).all(|(a, b)| *a <= b)
            && st.scenario_at_start == self.scenario_at_start;
        if !same_run {
            return false;
        }
        let mut hist = std::mem::take(&mut self.hist);
        hist.log.truncate(cp.lens[0]);
        hist.trace.truncate(cp.lens[1]);
        hist.marks.truncate(cp.lens[2]);
        hist.spans.truncate(cp.lens[3]);
        hist.samples.truncate(cp.lens[4]);
        // Spans open at the checkpoint may have been closed since.
        for i in st.open_span.iter().flatten() {
            if let Some(sp) = hist.spans.get_mut(*i) {
                sp.end_ms = None;
            }
        }
        *self = st.clone_with_history(hist);
        true
    }

    fn clone_with_history(&self, hist: History) -> Simulation {
        Simulation {
            scenario: self.scenario.clone(),
            scenario_at_start: self.scenario_at_start.clone(),
            seed: self.seed,
            rng: self.rng.clone(),
            now: self.now,
            seq: self.seq,
            queue: self.queue.clone(),
            next_tick_ms: self.next_tick_ms,
            nodes: self.nodes.clone(),
            master: self.master,
            conns: self.conns.clone(),
            by_end: self.by_end.clone(),
            next_sc: self.next_sc,
            next_server_conn: self.next_server_conn,
            links: self.links.clone(),
            child: self.child.clone(),
            write_carry: self.write_carry,
            hist,
            hash: self.hash.clone(),
            open_span: self.open_span.clone(),
            path: self.path.clone(),
            stats: self.stats.clone(),
            master_stats: self.master_stats.clone(),
            offset_history: self.offset_history.clone(),
        }
    }

    fn command(&mut self, what: String) {
        self.path.push((self.now, what));
    }

    /// `INFO replication` of a node (0 = the first master, 1.. = replicas); empty if it is down.
    pub fn info_replication(&self, node: usize) -> String {
        self.nodes
            .get(node)
            .and_then(|n| n.inst.as_ref())
            .map(|i| i.info_replication(self.now))
            .unwrap_or_default()
    }

    /// The picture at the current time.
    pub fn frame(&self) -> Frame {
        let mut master = self
            .nodes
            .get(self.master)
            .and_then(|n| n.inst.as_ref())
            .map(|i| i.master_view())
            .unwrap_or_default();
        if let Some(c) = &self.child {
            if let Some(b) = master.bgsave.as_mut() {
                b.progress = if c.total == 0 {
                    1.0
                } else {
                    c.produced as f64 / c.total as f64
                };
                b.written_bytes = c.produced;
                b.total_bytes = c.total;
            }
            master.cow_bytes = c.cow.current;
        }
        let s = &self.scenario;
        master.dataset_bytes = s.dataset.size;
        let ops = if self.master_inst().is_some() {
            self.rate_at(self.now)
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
        master.frozen_until_ms = (paused > self.now).then_some(paused);
        let mut replicas: Vec<ReplicaView> = (1..self.nodes.len())
            .map(|k| self.replica_view(k))
            .collect();
        for (i, v) in replicas.iter_mut().enumerate() {
            self.fill_stage_view(i + 1, v);
        }
        // The RDB file on the master's disk: growing while the child writes it, then read out
        // to each replica in `send_bulk` (the simulated RDB is as large as the dataset).
        master.rdb_file = match &self.child {
            Some(c) if c.disk => Some(RdbFileView {
                bytes: c.produced,
                total: c.total,
                writing: true,
            }),
            _ if replicas.iter().any(|r| r.master_side_state == "send_bulk") => Some(RdbFileView {
                bytes: s.dataset.size,
                total: s.dataset.size,
                writing: false,
            }),
            _ => None,
        };
        Frame {
            t_ms: self.now,
            master,
            replicas,
        }
    }

    /// Per-replica and master figures of the run so far.
    pub fn summary(&self) -> Summary {
        let master_off = self.master_inst().map_or(0, |m| m.master_repl_offset());
        let slack = self.in_sync_slack();
        let mut replicas = self.stats.clone();
        for (i, r) in replicas.iter_mut().enumerate() {
            let k = i + 1;
            let Some(inst) = self.nodes[k].inst.as_ref() else {
                r.final_offset = -1;
                r.in_sync_at_end = false;
                continue;
            };
            let off = if inst.reploff() >= 0 {
                inst.reploff()
            } else {
                inst.master_repl_offset()
            };
            r.final_offset = off;
            r.is_master = k == self.master;
            r.in_sync_at_end =
                k != self.master && inst.link_state() == "connected" && master_off - off <= slack;
        }
        let mut master = self.master_stats.clone();
        master.final_offset = master_off;
        Summary {
            until_ms: self.now,
            master,
            replicas,
        }
    }

    /// The scenario's `[check]` expectations that do not hold (yet): empty = all hold.
    pub fn check(&self) -> Vec<String> {
        super::summary::check_summary(&self.summary(), &self.scenario.check)
    }

    /// Cuts replica `replica`'s link (1-based) for `for_ms`: open connections break at once,
    /// new ones fail until the link is back.
    pub fn cut_link(&mut self, replica: usize, for_ms: u64) {
        self.command(format!("cut_link {replica} {for_ms}"));
        self.do_cut_link(replica, for_ms);
    }

    fn do_cut_link(&mut self, replica: usize, for_ms: u64) {
        if replica == 0 || replica >= self.nodes.len() {
            return;
        }
        let until = self.now + for_ms;
        let prev = self.links[replica].cut_until.unwrap_or(0);
        self.links[replica].cut_until = Some(until.max(prev));
        self.stat(replica, "link_cut");
        self.add_mark(
            Some(replica),
            MarkKind::LinkCut,
            format!(
                "link cut for {} (fault)",
                super::units::format_duration_ms(for_ms)
            ),
        );
        let scs: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.link == replica)
            .map(|(id, _)| *id)
            .collect();
        for sc in scs {
            self.break_conn(sc, "Connection reset by peer");
        }
        self.schedule(until, Ev::LinkRestored { link: replica });
    }

    /// Restarts replica `replica` (1-based): the process dies now and boots again after
    /// `replica.restart-time`, with no cached master.
    pub fn restart_replica(&mut self, replica: usize) {
        self.command(format!("restart_replica {replica}"));
        self.restart(replica, false);
    }

    /// Restarts replica `replica` (1-based) cleanly: it saves an RDB carrying its replication
    /// ID and offset (what `SHUTDOWN` does with save points), is down for that save plus
    /// `replica.restart-time` plus loading the RDB at boot, then PSYNCs with what it saved.
    pub fn restart_replica_graceful(&mut self, replica: usize) {
        self.command(format!("restart_replica_graceful {replica}"));
        self.restart(replica, true);
    }

    fn restart(&mut self, replica: usize, graceful: bool) {
        if replica == 0 || replica >= self.nodes.len() || replica == self.master {
            return;
        }
        let Some(inst) = self.nodes[replica].inst.as_ref() else {
            return;
        };
        // rdbPopulateSaveInfo: the master link's replid/offset, else the cached master's.
        let restored = if !graceful {
            None
        } else if inst.reploff() >= 0 {
            Some((inst.replid().to_string(), inst.reploff()))
        } else {
            inst.cached_master()
        };
        let s = &self.scenario;
        let mut down = s.replica.restart_time;
        let cause = if graceful {
            down += duration_ms(s.dataset.size, s.disk.write_speed)
                + duration_ms(s.dataset.size, s.replica.load_speed);
            match &restored {
                Some((id, off)) => format!(
                    "graceful restart (fault): RDB saved with repl-id {id} and repl-offset {off}, loaded at boot"
                ),
                None => "graceful restart (fault): no replication info to save".to_string(),
            }
        } else {
            "replica process crashed and restarted (fault): no cached master".to_string()
        };
        self.stat(replica, "replica_restart");
        self.add_mark(Some(replica), MarkKind::ReplicaRestart, cause);
        self.kill_node(replica);
        // A crashed replica comes back empty; a clean one reloads its RDB at boot.
        self.nodes[replica].has_data = graceful && restored.is_some();
        let at = self.now + down;
        self.schedule(
            at,
            Ev::RestartDone {
                node: replica,
                restored,
            },
        );
    }

    /// Kills the master and promotes replica `promote` (1-based); the others follow it.
    pub fn kill_master(&mut self, promote: usize) {
        self.command(format!("kill_master {promote}"));
        self.do_kill_master(promote);
    }

    fn do_kill_master(&mut self, promote: usize) {
        if promote == 0 || promote >= self.nodes.len() || promote == self.master {
            return;
        }
        let old = self.master;
        for k in 1..self.nodes.len() {
            if k != promote && k != old && self.nodes[k].inst.is_some() {
                self.stat(k, "master_killed");
            }
        }
        self.kill_node(old);
        self.child = None;
        self.master = promote;
        let now = self.now;
        self.add_mark(
            Some(promote),
            MarkKind::Promotion,
            format!("master killed (fault); replica-{promote} promoted"),
        );
        if let Some(inst) = self.nodes[promote].inst.as_mut() {
            inst.replicaof(now, None);
        }
        self.drain(promote);
        let ip = node_ip(promote);
        for k in 1..self.nodes.len() {
            if k == promote {
                continue;
            }
            if let Some(inst) = self.nodes[k].inst.as_mut() {
                inst.replicaof(now, Some((&ip, PORT)));
            }
            self.drain(k);
        }
    }

    /// Changes a scenario field or Redis config from now on. Redis configs go to every live
    /// node through the core's `CONFIG SET` rules; model fields apply from the next tick.
    pub fn set_param(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        let norm = key.trim().strip_prefix("redis.").unwrap_or(key.trim());
        if matches!(norm, "replicas" | "dataset.keys") {
            return Err(ScenarioError {
                line: None,
                field: Some(norm.to_string()),
                message: "cannot change during a run; start a new simulation".into(),
            });
        }
        let mut s = self.scenario.clone();
        s.set(key, value)?;
        self.command(format!("set_param {key}={value}"));
        let before = self.scenario.redis_pairs();
        let after = s.redis_pairs();
        self.scenario = s;
        let now = self.now;
        for (name, v) in after.iter() {
            if before.iter().any(|(n, b)| n == name && b == v) {
                continue;
            }
            for k in 0..self.nodes.len() {
                if let Some(inst) = self.nodes[k].inst.as_mut() {
                    inst.handle(now, Input::Tick);
                    if let Err(e) = inst.config_set(name, v) {
                        return Err(ScenarioError {
                            line: None,
                            field: Some(name.clone()),
                            message: e.to_string(),
                        });
                    }
                }
                self.drain(k);
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ nodes

    fn master_inst(&self) -> Option<&Instance> {
        self.nodes.get(self.master).and_then(|n| n.inst.as_ref())
    }

    fn boot(&mut self, node: usize, replica_of: Option<usize>, restored: Option<(String, i64)>) {
        let mut config = Config::default();
        for (name, v) in self.scenario.redis_pairs() {
            // Values come from our own validated scenario; the core's parser agreeing with it
            // is covered by tests, so a rejection here would be a bug, not bad input.
            let _ = config.load_pair(&name, &v);
        }
        config.port = PORT;
        config.replicaof = replica_of.map(|m| (node_ip(m), PORT));
        let seed = self.rng.next_u64();
        let params = InstanceParams {
            name: self.nodes[node].name.clone(),
            ip: node_ip(node),
            pid: 1000 + 1000 * node as u32 + (self.nodes[node].generation as u32) * 100,
            seed,
            epoch_ms: EPOCH_MS,
            start_ms: self.now,
            config,
            restored: restored.map(|(replid, offset)| RestoredReplInfo { replid, offset }),
        };
        self.nodes[node].inst = Some(Instance::new(params));
        self.nodes[node].unreadable.clear();
        self.nodes[node].load = None;
        self.drain(node);
    }

    fn kill_node(&mut self, node: usize) {
        let scs: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.ends[0].0 == node || c.ends[1].0 == node)
            .map(|(id, _)| *id)
            .collect();
        self.nodes[node].inst = None;
        self.nodes[node].generation += 1;
        self.nodes[node].load = None;
        self.nodes[node].unreadable.clear();
        for sc in scs {
            self.break_conn(sc, "Connection reset by peer");
        }
        if self.child.as_ref().is_some_and(|c| c.node == node) {
            self.child = None;
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

    // ------------------------------------------------------------------ events

    fn schedule(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((t.max(self.now), self.seq), ev);
    }

    fn handle_event(&mut self, ev: Ev) {
        match ev {
            Ev::Tick => self.on_tick(),
            Ev::Pump { sc, from } => {
                if let Some(c) = self.conns.get_mut(&sc) {
                    c.pump_pending[from] = false;
                }
                self.pump(sc, from);
            }
            Ev::Deliver { sc, to, payload } => self.deliver(sc, to, payload),
            Ev::Accept { sc } => {
                let Some(c) = self.conns.get(&sc) else { return };
                let (node, conn) = c.ends[1];
                let peer = format!("{}:{}", node_ip(c.ends[0].0), 40000 + (sc % 20000));
                self.input(node, Input::Accepted { conn, peer });
            }
            Ev::Connected { sc } => {
                let Some(c) = self.conns.get(&sc) else { return };
                let (node, conn) = c.ends[0];
                self.input(node, Input::Connected { conn });
            }
            Ev::ConnectFailed {
                node,
                gen,
                conn,
                error,
            } => {
                if self.nodes[node].generation == gen {
                    self.input(node, Input::ConnectFailed { conn, error });
                }
            }
            Ev::PeerClosed { sc, to } => {
                let Some(c) = self.conns.get_mut(&sc) else {
                    return;
                };
                if c.open[to] {
                    c.open[to] = false;
                    let (node, conn) = c.ends[to];
                    self.forget_if_closed(sc);
                    self.input(
                        node,
                        Input::Closed {
                            conn,
                            error: "connection lost".into(),
                        },
                    );
                }
            }
            Ev::LoadDone { node, gen } => {
                if self.nodes[node].generation == gen && self.nodes[node].load.is_some() {
                    self.nodes[node].load = None;
                    self.nodes[node].has_data = true;
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
            Ev::Resume { node } => {
                let scs: Vec<(u64, usize)> = self
                    .by_end
                    .iter()
                    .filter(|((n, _), _)| *n == node)
                    .map(|(_, v)| *v)
                    .collect();
                for (sc, side) in scs {
                    self.pump(sc, side);
                }
            }
            Ev::Sample => {
                self.observe();
                self.sample();
                let at = self.now + SAMPLE_EVERY_MS;
                self.schedule(at, Ev::Sample);
            }
            Ev::LinkRestored { link } => {
                if self.links[link].cut_until.is_some_and(|t| t <= self.now) {
                    self.links[link].cut_until = None;
                    self.add_mark(Some(link), MarkKind::LinkRestored, "link restored".into());
                }
            }
            Ev::RestartDone { node, restored } => {
                if self.nodes[node].inst.is_none() {
                    let m = self.master;
                    self.boot(node, Some(m), restored);
                }
            }
        }
    }

    fn on_fault(&mut self, index: usize, at: u64) {
        let Some(f) = self.scenario.faults.get(index).cloned() else {
            return;
        };
        let r = f.replica as usize;
        match f.action {
            FaultAction::CutLink => self.do_cut_link(r, f.for_ms),
            FaultAction::RestartReplica => self.restart(r, f.graceful),
            FaultAction::KillMaster => self.do_kill_master(r),
        }
        if let Some(every) = f.every {
            self.schedule(
                at + every,
                Ev::Fault {
                    index,
                    at: at + every,
                },
            );
        }
    }

    // ------------------------------------------------------------------ the tick

    fn on_tick(&mut self) {
        let dt = self.scenario.tick.max(1);
        let now = self.now;
        self.next_tick_ms = now + dt;
        self.schedule(now + dt, Ev::Tick);
        self.workload(dt);
        self.child_progress(dt);
        let scs: Vec<u64> = self.conns.keys().copied().collect();
        for sc in scs {
            self.pump(sc, 1);
            self.pump(sc, 0);
        }
        self.observe();
        self.update_spans();
    }

    /// Writes this tick: `rate x dt` (with seeded jitter), one Phantom chunk for the master.
    fn workload(&mut self, dt: u64) {
        let rate = self.rate_at(self.now);
        let j = self.scenario.workload.jitter.clamp(0.0, 1.0);
        let noise = 1.0 + j * (2.0 * self.rng.next_f64() - 1.0);
        let exact = rate * dt as f64 / 1000.0 * noise + self.write_carry;
        let n = exact.max(0.0) as u64;
        self.write_carry = exact - n as f64;
        if n == 0 {
            return;
        }
        if let Some(c) = self.child.as_mut() {
            if self.now >= c.ready_ms || c.disk {
                c.cow
                    .on_writes(n, self.scenario.dataset.size, self.scenario.fork.page_size);
                self.master_stats.peak_cow_bytes = self.master_stats.peak_cow_bytes.max(c.cow.peak);
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

    /// The write rate in force at `t`: a scheduled phase's, or the base rate.
    fn rate_at(&self, t: u64) -> f64 {
        for p in &self.scenario.workload.phases {
            if t < p.at {
                continue;
            }
            let into = match p.every {
                Some(e) => (t - p.at) % e,
                None => t - p.at,
            };
            if into < p.for_ms {
                return p.rate;
            }
        }
        self.scenario.workload.rate
    }

    /// The fork child writes its chunk of RDB: to disk at min(serialise, disk write), or into
    /// the replica sockets at the serialise speed, never more than one tick ahead of the
    /// slowest socket (Redis stops reading the pipe while a replica's buffer is full).
    fn child_progress(&mut self, dt: u64) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        if self.now < c.ready_ms {
            self.child = Some(c);
            return;
        }
        let s = &self.scenario;
        let node = c.node;
        if c.disk {
            let speed = s.fork.rdb_speed.min(s.disk.write_speed);
            c.produced = (c.produced + c.carry.take(speed, dt)).min(c.total);
            if c.produced >= c.total {
                let cow = c.cow.current;
                self.input(
                    node,
                    Input::BgsaveDone {
                        id: c.id,
                        ok: true,
                        rdb: Payload::Phantom(c.total),
                        cow_bytes: cow,
                    },
                );
                return;
            }
            self.child = Some(c);
        } else {
            let speed = s.fork.rdb_speed;
            let pipe_cap = speed.saturating_mul(s.tick) / 1000;
            let queued = self.nodes[node]
                .inst
                .as_ref()
                .map_or(0, |i| i.bgsave_backlog_bytes());
            let mut n = c.carry.take(speed, dt).min(c.total - c.produced);
            n = n.min(pipe_cap.saturating_sub(queued));
            if n > 0 {
                c.produced += n;
                let id = c.id;
                self.child = Some(c.clone());
                self.input(
                    node,
                    Input::BgsaveData {
                        id,
                        payload: Payload::Phantom(n),
                    },
                );
                // The core may have killed the child (last target dropped).
                match self.child.take() {
                    Some(cur) if cur.id == id => c = cur,
                    other => {
                        self.child = other;
                        return;
                    }
                }
            }
            let queued = self.nodes[node]
                .inst
                .as_ref()
                .map_or(0, |i| i.bgsave_backlog_bytes());
            if c.produced >= c.total && queued == 0 {
                let cow = c.cow.current;
                self.input(
                    node,
                    Input::BgsaveDone {
                        id: c.id,
                        ok: true,
                        rdb: Payload::Phantom(0),
                        cow_bytes: cow,
                    },
                );
                return;
            }
            self.child = Some(c);
        }
    }

    // ------------------------------------------------------------------ links

    /// Moves what `from`'s side of `sc` has queued, as far as the link allows before the next
    /// tick.
    fn pump(&mut self, sc: u64, from: usize) {
        let Some(c) = self.conns.get(&sc) else { return };
        if !c.open[0] || !c.open[1] {
            return;
        }
        let (node, conn) = c.ends[from];
        let (rnode, rconn) = c.ends[1 - from];
        let link = c.link;
        if self.nodes[rnode].unreadable.contains(&rconn) {
            return;
        }
        if self.links[link].cut_until.is_some() {
            return;
        }
        if self.now < self.nodes[node].paused_until {
            return;
        }
        let Some(inst) = self.nodes[node].inst.as_ref() else {
            return;
        };
        if inst.outgoing_len(conn) == 0 {
            return;
        }
        let rate = self.rate_for(sc, from);
        let (_, latency) = self.scenario.link_of(link - 1);
        let now_us = self.now * 1000;
        let start = now_us.max(self.links[link].free_at_us[from]);
        let horizon = self.next_tick_ms.max(self.now + 1) * 1000;
        if start >= horizon {
            return;
        }
        let allowed = bytes_in_us(rate, horizon - start).max(1);
        let now = self.now;
        let got = match self.nodes[node].inst.as_mut() {
            Some(i) => i.take_outgoing(now, conn, allowed),
            None => return,
        };
        let n: u64 = got.iter().map(Payload::len).sum();
        if n > 0 {
            let end = start + transfer_us(n, rate);
            self.links[link].free_at_us[from] = end;
            let arrive = end.div_ceil(1000) + latency;
            self.schedule(
                arrive,
                Ev::Deliver {
                    sc,
                    to: 1 - from,
                    payload: got,
                },
            );
        }
        self.drain(node);
    }

    /// The rate bytes leave `from`'s side: the link's bandwidth, lowered while the master reads
    /// the RDB file from disk (`send_bulk`) or the replica writes it to its disk (TRANSFER with
    /// `repl-diskless-load disabled`).
    fn rate_for(&self, sc: u64, from: usize) -> u64 {
        let Some(c) = self.conns.get(&sc) else {
            return 1;
        };
        let s = &self.scenario;
        let (bw, _) = s.link_of(c.link - 1);
        let mut rate = bw.max(1);
        if from == 1 {
            let (snode, sconn) = c.ends[1];
            let (rnode, _) = c.ends[0];
            if let Some(m) = self.nodes[snode].inst.as_ref() {
                let mut v = ReplicaView::default();
                m.fill_master_side(sconn, &mut v);
                if v.master_side_state == "send_bulk" {
                    rate = rate.min(s.disk.read_speed);
                }
            }
            if let Some(r) = self.nodes[rnode].inst.as_ref() {
                if r.link_state() == "sync" {
                    // The replica reads the RDB as fast as it can store it: into its temp file,
                    // or straight into memory with diskless load (parsing as it reads).
                    rate = rate.min(if self.diskless_load(rnode) {
                        s.replica.load_speed
                    } else {
                        s.disk.write_speed
                    });
                }
            }
        }
        rate.max(1)
    }

    /// Whether replica `node` loads from the socket (`repl-diskless-load`): always with
    /// `swapdb`, only while empty with `on-empty-db`.
    fn diskless_load(&self, node: usize) -> bool {
        match self.scenario.redis.repl_diskless_load {
            super::scenario::DisklessLoad::Disabled => false,
            super::scenario::DisklessLoad::Swapdb => true,
            super::scenario::DisklessLoad::OnEmptyDb => !self.nodes[node].has_data,
        }
    }

    fn deliver(&mut self, sc: u64, to: usize, payload: Vec<Payload>) {
        let Some(c) = self.conns.get_mut(&sc) else {
            return;
        };
        if !c.open[to] {
            return;
        }
        let (node, conn) = c.ends[to];
        if self.nodes[node].unreadable.contains(&conn) {
            c.held[to].extend(payload);
            return;
        }
        if to == 1 {
            // Towards a server: whole commands only (the core takes parsed argv).
            for p in payload {
                match p {
                    Payload::Bytes(b) => c.parse_buf.extend_from_slice(&b),
                    Payload::Phantom(_) => {}
                }
            }
            let mut cmds = Vec::new();
            let mut bad = None;
            loop {
                match crate::core::resp::parse_command(&c.parse_buf) {
                    Ok(Some((argv, used))) => {
                        c.parse_buf.drain(..used);
                        cmds.push(argv);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        bad = Some(e);
                        break;
                    }
                }
            }
            for argv in cmds {
                if !self.conns.get(&sc).is_some_and(|c| c.open[to]) {
                    return;
                }
                self.input(node, Input::Command { conn, argv });
            }
            if bad.is_some() {
                self.break_conn(sc, "Protocol error");
            }
        } else {
            for p in payload {
                if !self.conns.get(&sc).is_some_and(|c| c.open[to]) {
                    return;
                }
                self.input(node, Input::Received { conn, payload: p });
            }
        }
    }

    /// Both ends learn at once that the connection is gone (a reset, a crash, a cut).
    fn break_conn(&mut self, sc: u64, error: &str) {
        let Some(c) = self.conns.remove(&sc) else {
            return;
        };
        for side in 0..2 {
            self.by_end.remove(&c.ends[side]);
        }
        for side in 0..2 {
            if c.open[side] {
                let (node, conn) = c.ends[side];
                if self.nodes[node].inst.is_some() {
                    self.input(
                        node,
                        Input::Closed {
                            conn,
                            error: error.to_string(),
                        },
                    );
                }
            }
        }
    }

    fn forget_if_closed(&mut self, sc: u64) {
        if let Some(c) = self.conns.get(&sc) {
            if !c.open[0] && !c.open[1] {
                let ends = c.ends;
                self.conns.remove(&sc);
                for e in ends {
                    self.by_end.remove(&e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ core glue

    /// Feeds one input to a node and carries out what it asks.
    fn input(&mut self, node: usize, input: Input) {
        let now = self.now;
        if now < self.nodes[node].paused_until {
            let (at, gen) = (self.nodes[node].paused_until, self.nodes[node].generation);
            self.schedule(at, Ev::Deferred { node, gen, input });
            return;
        }
        match self.nodes[node].inst.as_mut() {
            Some(inst) => inst.handle(now, input),
            None => return,
        }
        self.drain(node);
    }

    fn drain(&mut self, node: usize) {
        loop {
            let out = match self.nodes[node].inst.as_mut() {
                Some(i) => i.poll_output(),
                None => return,
            };
            let Some(out) = out else { return };
            self.carry_out(node, out);
        }
    }

    fn carry_out(&mut self, node: usize, out: Output) {
        match out {
            Output::DataReady { conn } => {
                if let Some(&(sc, side)) = self.by_end.get(&(node, conn)) {
                    let c = self.conns.get_mut(&sc).map(|c| {
                        let was = c.pump_pending[side];
                        c.pump_pending[side] = true;
                        was
                    });
                    if c == Some(false) {
                        let now = self.now;
                        self.schedule(now, Ev::Pump { sc, from: side });
                    }
                }
            }
            Output::Close { conn } => {
                if let Some(&(sc, side)) = self.by_end.get(&(node, conn)) {
                    let latency = self
                        .conns
                        .get(&sc)
                        .map_or(0, |c| self.scenario.link_of(c.link - 1).1);
                    if let Some(c) = self.conns.get_mut(&sc) {
                        c.open[side] = false;
                    }
                    self.by_end.remove(&(node, conn));
                    let at = self.now + latency;
                    self.schedule(at, Ev::PeerClosed { sc, to: 1 - side });
                    self.forget_if_closed(sc);
                }
            }
            Output::Connect { conn, host, port } => self.connect(node, conn, &host, port),
            Output::SetReadable { conn, readable } => {
                if readable {
                    self.nodes[node].unreadable.remove(&conn);
                    if let Some(&(sc, side)) = self.by_end.get(&(node, conn)) {
                        let held: Vec<Payload> = self
                            .conns
                            .get_mut(&sc)
                            .map(|c| c.held[side].drain(..).collect())
                            .unwrap_or_default();
                        let now = self.now;
                        if !held.is_empty() {
                            self.schedule(
                                now,
                                Ev::Deliver {
                                    sc,
                                    to: side,
                                    payload: held,
                                },
                            );
                        }
                        self.schedule(now, Ev::Pump { sc, from: 1 - side });
                    }
                } else {
                    self.nodes[node].unreadable.insert(conn);
                }
            }
            Output::StartBgsave {
                id,
                target,
                child_pid: _,
                offset: _,
            } => {
                self.master_stats.bgsaves += 1;
                // fork() copies the page tables: the parent is frozen meanwhile (clients,
                // replicas and its cron wait), and the child starts when it returns.
                let (size, per_gb) = (self.scenario.dataset.size, self.scenario.fork.time_per_gb);
                let ready = self.now + fork_ms(size, per_gb);
                self.nodes[node].paused_until = ready;
                self.schedule(ready, Ev::Resume { node });
                let s = &self.scenario;
                self.child = Some(ChildJob {
                    node,
                    id,
                    disk: matches!(target, BgsaveTarget::Disk),
                    ready_ms: ready,
                    total: s.dataset.size,
                    produced: 0,
                    carry: RateCarry::default(),
                    cow: CowModel::default(),
                });
            }
            Output::KillBgsave { id } => {
                if self.child.as_ref().is_some_and(|c| c.id == id) {
                    self.child = None;
                }
            }
            Output::RdbData { payload: _ } => {}
            Output::LoadRdb {
                size,
                eof_marked: _,
            } => {
                // With diskless load the RDB was parsed while it arrived (the transfer ran at
                // most at load speed), so only the final step remains.
                let ms = if self.diskless_load(node) {
                    1
                } else {
                    duration_ms(size, self.scenario.replica.load_speed)
                };
                let gen = self.nodes[node].generation;
                self.nodes[node].load = Some((size, self.now, self.now + ms));
                let at = self.now + ms;
                self.schedule(at, Ev::LoadDone { node, gen });
            }
            Output::Apply { argv: _ } => {}
            Output::Log(entry) => {
                let name = self.nodes[node].name.clone();
                self.record(entry.t_ms.max(self.now), &name, "log", entry.line.clone());
                self.hist.log.push(LogLine {
                    t_ms: self.now,
                    node: name,
                    line: entry.line,
                });
            }
            Output::Mark(m) => self.core_mark(node, m),
        }
    }

    fn connect(&mut self, node: usize, conn: ConnId, host: &str, port: u16) {
        let target = (0..self.nodes.len()).find(|k| node_ip(*k) == host && port == PORT);
        let link = node;
        let (_, latency) = self.scenario.link_of(link.max(1) - 1);
        let gen = self.nodes[node].generation;
        let error = match target {
            _ if self.links[link].cut_until.is_some() => Some("No route to host"),
            None => Some("Name or service not known"),
            Some(t) if self.nodes[t].inst.is_none() => Some("Connection refused"),
            Some(_) => None,
        };
        if let Some(error) = error {
            let at = self.now + 2 * latency;
            self.schedule(
                at,
                Ev::ConnectFailed {
                    node,
                    gen,
                    conn,
                    error: error.into(),
                },
            );
            return;
        }
        let Some(t) = target else { return };
        let sc = self.next_sc;
        self.next_sc += 1;
        let server_conn = ConnId(self.next_server_conn);
        self.next_server_conn += 1;
        self.conns.insert(
            sc,
            SimConn {
                link,
                ends: [(node, conn), (t, server_conn)],
                open: [true, true],
                parse_buf: Vec::new(),
                held: [VecDeque::new(), VecDeque::new()],
                pump_pending: [false, false],
            },
        );
        self.by_end.insert((node, conn), (sc, 0));
        self.by_end.insert((t, server_conn), (sc, 1));
        let now = self.now;
        self.schedule(now + latency, Ev::Accept { sc });
        self.schedule(now + 2 * latency, Ev::Connected { sc });
    }

    // ------------------------------------------------------------------ observation

    /// Replica index (1-based node) a core mark concerns.
    fn core_mark(&mut self, node: usize, m: MarkEvent) {
        let replica = match m.conn {
            Some(conn) => self
                .by_end
                .get(&(node, conn))
                .and_then(|(sc, _)| self.conns.get(sc))
                .map(|c| c.ends[0].0)
                .or_else(|| {
                    m.peer.as_ref().and_then(|p| {
                        let ip = p.split(':').next().unwrap_or("");
                        (0..self.nodes.len()).find(|k| node_ip(*k) == ip)
                    })
                }),
            None if node != self.master => Some(node),
            None => None,
        };
        let from_master = node == self.master;
        // A dual-channel sync opens a second (RDB) connection that the master also counts as
        // a full sync; the summary counts logical replicas, so only the main link counts.
        let main_link = match m.conn {
            Some(conn) if from_master => self
                .by_end
                .get(&(node, conn))
                .and_then(|(sc, _)| self.conns.get(sc))
                .is_none_or(|c| {
                    let (rn, rc) = c.ends[0];
                    self.nodes[rn]
                        .inst
                        .as_ref()
                        .is_none_or(|i| i.master_conn().is_none_or(|mc| mc == rc))
                }),
            _ => true,
        };
        if let Some(r) = replica.filter(|r| *r > 0 && *r < self.nodes.len()) {
            let st = &mut self.stats[r - 1];
            match m.kind {
                MarkKind::FullSyncStart if from_master && main_link => st.full_syncs += 1,
                MarkKind::PartialSyncAccepted if from_master => st.partial_syncs_accepted += 1,
                MarkKind::PartialSyncRefused if from_master => st.partial_syncs_refused += 1,
                MarkKind::OutputBufferCutOff if from_master => {
                    *st.disconnects
                        .entry("output_buffer_limit".into())
                        .or_default() += 1
                }
                MarkKind::Timeout => *st.disconnects.entry("timeout".into()).or_default() += 1,
                _ => {}
            }
        }
        let name = self.nodes[node].name.clone();
        self.record(
            self.now,
            &name,
            "mark",
            format!("{:?}: {}", m.kind, m.cause),
        );
        self.hist.marks.push(Mark {
            replica: replica.filter(|r| *r > 0).map(|r| r - 1),
            kind: m.kind,
            t_ms: self.now,
            cause: m.cause,
        });
    }

    fn add_mark(&mut self, replica: Option<usize>, kind: MarkKind, cause: String) {
        let node = match replica {
            Some(r) => self
                .nodes
                .get(r)
                .map(|n| n.name.clone())
                .unwrap_or_default(),
            None => "sim".into(),
        };
        self.record(self.now, &node, "mark", format!("{kind:?}: {cause}"));
        self.hist.marks.push(Mark {
            replica: replica.filter(|r| *r > 0).map(|r| r - 1),
            kind,
            t_ms: self.now,
            cause,
        });
    }

    fn stat(&mut self, replica: usize, cause: &str) {
        if let Some(s) = self.stats.get_mut(replica.wrapping_sub(1)) {
            *s.disconnects.entry(cause.into()).or_default() += 1;
        }
    }

    fn record(&mut self, t_ms: u64, node: &str, kind: &'static str, text: String) {
        self.hash.write(t_ms.to_string().as_bytes());
        self.hash.write(b"|");
        self.hash.write(node.as_bytes());
        self.hash.write(b"|");
        self.hash.write(kind.as_bytes());
        self.hash.write(b"|");
        self.hash.write(text.as_bytes());
        self.hash.write(b"\n");
        self.hist.trace.push(TraceEvent {
            t_ms,
            node: node.to_string(),
            kind,
            text,
        });
    }

    /// Tracks peaks (buffers, backlog) and the recent master offsets. Cheap enough to run
    /// before every write chunk (the moment a buffer peaks is just before a cut-off).
    fn observe(&mut self) {
        let m = self.master;
        let Some(inst) = self.nodes[m].inst.as_ref() else {
            return;
        };
        self.master_stats.peak_backlog_bytes = self
            .master_stats
            .peak_backlog_bytes
            .max(inst.backlog_histlen());
        let off = inst.master_repl_offset();
        for c in self.conns.values() {
            let (snode, sconn) = c.ends[1];
            if snode != m {
                continue;
            }
            let mut v = ReplicaView::default();
            inst.fill_master_side(sconn, &mut v);
            if let Some(s) = self.stats.get_mut(c.ends[0].0.wrapping_sub(1)) {
                s.peak_output_buffer_bytes = s.peak_output_buffer_bytes.max(v.obuf_bytes);
            }
        }
        if self
            .offset_history
            .back()
            .is_none_or(|(t, _)| *t != self.now)
        {
            self.offset_history.push_back((self.now, off));
        }
        while self
            .offset_history
            .front()
            .is_some_and(|(t, _)| *t + 2000 < self.now)
        {
            self.offset_history.pop_front();
        }
    }

    /// Bytes a replica may trail the master and still count as in sync: what the master wrote
    /// in the last two seconds (in flight or in the next ACK), plus 64 KB.
    fn in_sync_slack(&self) -> i64 {
        let newest = self.offset_history.back().map_or(0, |x| x.1);
        let oldest = self.offset_history.front().map_or(0, |x| x.1);
        newest - oldest + 64 * 1024
    }

    fn sample(&mut self) {
        let m = self.master_inst();
        let backlog_histlen = m.map_or(0, |i| i.backlog_histlen());
        let master_repl_offset = m.map_or(0, |i| i.master_repl_offset());
        let obuf_bytes = (1..self.nodes.len())
            .map(|k| self.replica_view(k).obuf_bytes)
            .collect();
        self.hist.samples.push(Sample {
            t_ms: self.now,
            backlog_histlen,
            master_repl_offset,
            obuf_bytes,
        });
    }

    fn replica_view(&self, k: usize) -> ReplicaView {
        let Some(inst) = self.nodes[k].inst.as_ref() else {
            return ReplicaView {
                name: self.nodes[k].name.clone(),
                link_state: "none".into(),
                offset: -1,
                ..Default::default()
            };
        };
        let mut v = inst.replica_view();
        if let Some(conn) = inst.master_conn() {
            if let Some(&(sc, _)) = self.by_end.get(&(k, conn)) {
                if let Some(c) = self.conns.get(&sc) {
                    let (mnode, mconn) = c.ends[1];
                    if let Some(m) = self.nodes[mnode].inst.as_ref() {
                        m.fill_master_side(mconn, &mut v);
                    }
                }
            }
        }
        if let Some((size, start, end)) = self.nodes[k].load {
            let span = (end - start).max(1);
            let done = (self.now.saturating_sub(start)).min(span);
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
        v.link.cut_until_ms = self.links[k].cut_until;
        if self.nodes[k].inst.is_some() {
            v.rdb_to = if self.diskless_load(k) {
                "socket"
            } else {
                "disk"
            }
            .into();
        }
        let main = self.nodes[k].inst.as_ref().and_then(|i| i.master_conn());
        let on_link = || self.conns.iter().filter(move |(_, c)| c.link == k);
        let dual = on_link().any(|(_, c)| Some(c.ends[0].1) != main);
        for (sc, c) in on_link() {
            let (mnode, mconn) = c.ends[1];
            let Some(m) = self.nodes[mnode].inst.as_ref() else {
                continue;
            };
            let mut side = ReplicaView::default();
            m.fill_master_side(mconn, &mut side);
            let state = side.master_side_state.as_str();
            // A second connection on a replica's link is its dual-channel RDB channel.
            let rdb_channel = Some(c.ends[0].1) != main;
            if rdb_channel {
                v.rdb_channel_state = if state.is_empty() { "handshake" } else { state }.into();
            }
            let streaming_rdb = m
                .bgsave()
                .and_then(|(_, targets, _)| targets)
                .is_some_and(|t| t.contains(&mconn));
            let carries_rdb =
                rdb_channel || state == "send_bulk" || (state == "wait_bgsave" && streaming_rdb);
            if state == "send_bulk" {
                v.rdb_send_left_bytes = m.outgoing_len(mconn);
            }
            let rate = self.flow_rate(*sc, state);
            if carries_rdb {
                v.link.rdb_rate += rate;
            } else {
                v.link.stream_rate += rate;
            }
            // Bytes on the wire count as what the replica will take them for: RDB while it
            // is still receiving one on that connection.
            let receiving_rdb = rdb_channel || (!dual && v.link_state == "sync");
            let in_flight: u64 = self
                .queue
                .values()
                .filter_map(|ev| match ev {
                    Ev::Deliver {
                        sc: d,
                        to: 0,
                        payload,
                    } if d == sc => Some(payload.iter().map(Payload::len).sum::<u64>()),
                    _ => None,
                })
                .sum();
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
    fn flow_rate(&self, sc: u64, master_side_state: &str) -> u64 {
        let Some(c) = self.conns.get(&sc) else {
            return 0;
        };
        let (rnode, rconn) = c.ends[0];
        let (mnode, mconn) = c.ends[1];
        let blocked = !c.open[0]
            || !c.open[1]
            || self.links[c.link].cut_until.is_some()
            || self.nodes[rnode].unreadable.contains(&rconn)
            || self.now < self.nodes[mnode].paused_until;
        let Some(m) = self.nodes[mnode].inst.as_ref().filter(|_| !blocked) else {
            return 0;
        };
        if m.outgoing_len(mconn) > 0 {
            self.rate_for(sc, 1)
        } else if master_side_state == "online" {
            let writes = self.rate_at(self.now) * self.scenario.bytes_per_write() as f64;
            (writes as u64).min(self.rate_for(sc, 1))
        } else {
            0
        }
    }

    fn span_kind(&self, k: usize) -> SpanKind {
        let Some(inst) = self.nodes[k].inst.as_ref() else {
            return SpanKind::Disconnected;
        };
        if self.nodes[k].load.is_some() || inst.is_loading() {
            return SpanKind::Load;
        }
        match inst.link_state() {
            "connected" => SpanKind::Streaming,
            "handshake" => SpanKind::WaitBgsave,
            "sync" => {
                let v = self.replica_view(k);
                if v.master_side_state == "send_bulk" {
                    SpanKind::Transfer
                } else if self.child.is_some() {
                    SpanKind::Bgsave
                } else {
                    SpanKind::Transfer
                }
            }
            _ => SpanKind::Disconnected,
        }
    }

    fn update_spans(&mut self) {
        for k in 1..self.nodes.len() {
            let kind = if k == self.master {
                SpanKind::Streaming
            } else {
                self.span_kind(k)
            };
            let open = self.open_span[k - 1];
            if let Some(i) = open {
                if self.hist.spans[i].kind == kind {
                    continue;
                }
                self.hist.spans[i].end_ms = Some(self.now);
            }
            self.hist.spans.push(Span {
                replica: k - 1,
                kind,
                start_ms: self.now,
                end_ms: None,
            });
            self.open_span[k - 1] = Some(self.hist.spans.len() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_accepts_every_redis_setting_we_pass() {
        let mut s = Scenario::default();
        for (k, v) in [
            ("repl-diskless-load", "swapdb"),
            ("save", ""),
            ("replication-model", "6"),
            ("client-output-buffer-limit", "1gb 512mb 120"),
            ("dual-channel-replication-enabled", "yes"),
        ] {
            s.set(k, v).unwrap();
        }
        for scenario in [Scenario::default(), s] {
            let mut c = Config::default();
            for (name, v) in scenario.redis_pairs() {
                c.load_pair(&name, &v)
                    .unwrap_or_else(|e| panic!("{name} {v}: {e}"));
                assert!(c.get(&name).is_some(), "{name}");
            }
            assert_eq!(c.repl_backlog_size, scenario.redis.repl_backlog_size);
            assert_eq!(
                c.client_output_buffer_limit_replica.hard,
                scenario.redis.client_output_buffer_limit.hard
            );
        }
    }

    #[test]
    fn set_param_reaches_the_running_nodes() {
        let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(5_000);
        sim.set_param("repl-backlog-size", "8mb").unwrap();
        assert!(sim
            .info_replication(0)
            .contains("repl_backlog_size:8388608"));
        assert!(sim.set_param("replicas", "3").is_err());
        assert!(sim.set_param("repl-backlog-size", "lots").is_err());
        sim.set_param("workload.rate", "0").unwrap();
        sim.run_until(10_000);
        let a = sim.frame().master.master_repl_offset;
        sim.run_until(11_000);
        // No writes; only the PINGs of repl-ping-replica-period move the offset now.
        assert!(sim.frame().master.master_repl_offset - a <= 14);
    }

    #[test]
    fn fork_freezes_the_master_for_its_duration() {
        let mut s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        s.set("dataset.size", "64gb").unwrap();
        s.set("fork.time-per-gb", "20ms").unwrap(); // 1.28 s pause
        s.set("workload.rate", "10k").unwrap();
        let mut sim = Simulation::new(&s, 1);
        let mut t = 0;
        while !sim.log().iter().any(|l| l.line.contains("Starting BGSAVE")) {
            t += 10;
            sim.run_until(t);
        }
        let t0 = sim
            .log()
            .iter()
            .find(|l| l.line.contains("Starting BGSAVE"))
            .unwrap()
            .t_ms;
        let off0 = sim.frame().master.master_repl_offset;
        sim.run_until(t0 + 1_200);
        assert_eq!(
            sim.frame().master.master_repl_offset,
            off0,
            "no write lands while forking"
        );
        assert!(
            !sim.log().iter().any(|l| l.t_ms > t0 && l.node == "master"),
            "the parent logs nothing while frozen"
        );
        sim.run_until(t0 + 1_400);
        // The writes that waited are applied when fork() returns.
        assert!(sim.frame().master.master_repl_offset > off0 + 1_000_000);
    }

    #[test]
    fn run_until_processes_up_to_t_and_stops_there() {
        let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        let mut sim = Simulation::new(&s, 1);
        assert_eq!(sim.next_event_ms(), Some(0));
        sim.run_until(1_234);
        assert_eq!(sim.now_ms(), 1_234);
        let next = sim.next_event_ms().unwrap();
        assert!(next > 1_234, "everything at or before t ran");
        // Stepping event by event reaches the same state as one long run.
        let mut stepped = Simulation::new(&s, 1);
        while stepped.now_ms() < 5_000 {
            let t = stepped.next_event_ms().unwrap().min(5_000);
            stepped.run_until(t.max(stepped.now_ms() + 1).min(5_000));
        }
        sim.run_until(5_000);
        assert_eq!(stepped.trace_hash(), sim.trace_hash());
        // Going "back" is a no-op.
        sim.run_until(10);
        assert_eq!(sim.now_ms(), 5_000);
    }

    #[test]
    fn manual_faults_act_at_once() {
        let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(10_000);
        assert_eq!(sim.frame().replicas[0].link_state, "connected");
        sim.cut_link(1, 3_000);
        sim.run_until(10_500);
        assert_ne!(sim.frame().replicas[0].link_state, "connected");
        sim.run_until(20_000);
        assert_eq!(sim.frame().replicas[0].link_state, "connected");
        assert_eq!(sim.summary().replicas[0].partial_syncs_accepted, 1);
        sim.restart_replica(1);
        sim.run_until(20_100);
        assert_eq!(sim.frame().replicas[0].link_state, "none");
        sim.run_until(40_000);
        assert_eq!(sim.summary().replicas[0].full_syncs, 2);
        assert_eq!(sim.summary().replicas[0].disconnects["replica_restart"], 1);
    }

    #[test]
    fn kill_master_promotes_a_replica_and_the_others_follow() {
        let mut s = Scenario::preset("psync-no-reconnection-disk").unwrap();
        s.set("replicas", "3").unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(15_000);
        sim.kill_master(2);
        sim.run_until(40_000);
        assert!(sim.info_replication(2).contains("role:master"));
        for k in [1, 3] {
            let info = sim.info_replication(k);
            assert!(info.contains("master_host:10.0.0.3"), "{info}");
            assert!(info.contains("master_link_status:up"), "{info}");
        }
        // The followers continue the old history through replid2: partial resyncs.
        assert!(sim.marks().iter().any(|m| m.kind == MarkKind::Promotion));
        let sum = sim.summary();
        assert_eq!(sum.replicas[0].disconnects["master_killed"], 1);
    }
}
