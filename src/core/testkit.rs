//! A tiny in-memory world for the core's tests (test builds only): instances wired by
//! zero-latency, infinite-bandwidth pipes, with an instant fake BGSAVE and an instant RDB
//! load. It is a [`Driver`] like the simulator, with no time cost for anything.
//!
//! `World::step` drains every instance's outputs, moves every queued byte, and repeats until
//! nothing moves; `World::advance_to` then moves virtual time timer by timer. A replica's
//! blocked read (while loading) and the fake child's duration are the only "slowness";
//! set `bgsave_ms` / `load_ms` to make them take time.

use std::collections::{BTreeMap, BTreeSet};

use super::driver::{Driver, RequestSplitter};
use super::{
    BgsaveTarget, ConnId, Input, Instance, InstanceParams, LogEntry, MarkEvent, Output, Payload,
};

/// Parsed client-side reply bytes collected for a test client connection.
pub type Replies = Vec<u8>;

/// A pending fake BGSAVE.
#[derive(Clone, Debug)]
struct PendingChild {
    node: usize,
    id: u64,
    socket: bool,
    done_at: u64,
    /// The dataset at fork time (what the RDB holds).
    snapshot: Dataset,
}

/// A toy keyspace: `SET key value` is all the tests write.
pub type Dataset = BTreeMap<Vec<u8>, Vec<u8>>;

/// Instances plus the pipes between them.
pub struct World {
    pub nodes: Vec<Instance>,
    pub now: u64,
    /// Lines logged by each node.
    pub logs: Vec<Vec<String>>,
    pub marks: Vec<Vec<super::MarkEvent>>,
    /// (node, conn) -> (peer node, peer conn)
    pipes: BTreeMap<(usize, ConnId), (usize, ConnId)>,
    /// Connections whose reader is paused (a loading replica).
    paused: BTreeSet<(usize, ConnId)>,
    /// Test clients: (node, conn) -> replies received.
    pub clients: BTreeMap<(usize, ConnId), Replies>,
    next_conn: u64,
    children: Vec<PendingChild>,
    loads: Vec<(usize, u64)>,
    /// Size of the fake RDB body.
    pub rdb_size: u64,
    pub bgsave_ms: u64,
    pub load_ms: u64,
    /// Links cut by the test: bytes are not moved and connects fail.
    pub down: BTreeSet<usize>,
    /// Node listening ports.
    ports: Vec<u16>,
    /// Applied commands per node.
    pub applied: Vec<Vec<Vec<Vec<u8>>>>,
    /// RDB bytes received per node (counted).
    pub rdb_received: Vec<u64>,
    /// Stop moving bytes towards a node (simulates a stalled reader) when set.
    pub stalled: BTreeSet<usize>,
    /// How long an outbound connect takes.
    pub connect_delay_ms: u64,
    connects: Vec<(u64, usize, ConnId, u16)>,
    /// Frozen nodes (`DEBUG SLEEP`): no timers, no input, no output.
    pub frozen: BTreeSet<usize>,
    /// Each node's keyspace.
    pub datasets: Vec<Dataset>,
    /// The last RDB each master produced.
    snapshots: BTreeMap<usize, Dataset>,
}

impl World {
    pub fn new() -> World {
        World {
            nodes: Vec::new(),
            now: 0,
            logs: Vec::new(),
            marks: Vec::new(),
            pipes: BTreeMap::new(),
            paused: BTreeSet::new(),
            clients: BTreeMap::new(),
            next_conn: 1,
            children: Vec::new(),
            loads: Vec::new(),
            rdb_size: 1000,
            bgsave_ms: 0,
            load_ms: 0,
            down: BTreeSet::new(),
            ports: Vec::new(),
            applied: Vec::new(),
            rdb_received: Vec::new(),
            stalled: BTreeSet::new(),
            frozen: BTreeSet::new(),
            connect_delay_ms: 0,
            connects: Vec::new(),
            datasets: Vec::new(),
            snapshots: BTreeMap::new(),
        }
    }

    /// Add a node listening on `port`; returns its index.
    pub fn add(&mut self, mut p: InstanceParams) -> usize {
        p.start_ms = self.now;
        self.ports.push(p.config.port);
        self.nodes.push(Instance::new(p));
        self.logs.push(Vec::new());
        self.marks.push(Vec::new());
        self.applied.push(Vec::new());
        self.rdb_received.push(0);
        self.datasets.push(Dataset::new());
        self.nodes.len() - 1
    }

    fn alloc(&mut self) -> ConnId {
        let c = ConnId(self.next_conn);
        self.next_conn += 1;
        c
    }

    /// Open a test client to `node`; returns its conn.
    pub fn client(&mut self, node: usize) -> ConnId {
        let c = self.alloc();
        self.clients.insert((node, c), Vec::new());
        let now = self.now;
        self.nodes[node].handle(
            now,
            Input::Accepted {
                conn: c,
                peer: format!("127.0.0.1:{}", 50000 + c.0),
            },
        );
        self.settle();
        c
    }

    /// Send a command from a test client and return the reply bytes it produced.
    pub fn command(&mut self, node: usize, conn: ConnId, args: &[&str]) -> String {
        let argv = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        let now = self.now;
        self.nodes[node].handle(now, Input::Command { conn, argv });
        self.settle();
        let r = self
            .clients
            .get_mut(&(node, conn))
            .map(std::mem::take)
            .unwrap_or_default();
        String::from_utf8_lossy(&r).into_owned()
    }

    /// `REPLICAOF` through a client.
    pub fn replicaof(&mut self, node: usize, master: usize) {
        let c = self.client(node);
        let port = self.ports[master].to_string();
        self.command(node, c, &["REPLICAOF", "127.0.0.1", &port]);
    }

    /// A write of `n` phantom bytes (or real bytes) on `node` in db `db`.
    pub fn write(&mut self, node: usize, db: u32, payload: Payload) {
        let now = self.now;
        self.nodes[node].handle(now, Input::Propagate { db, payload });
        self.settle();
    }

    /// `SET key value` on a master: updates its keyspace and propagates real bytes.
    pub fn set(&mut self, node: usize, key: &str, value: &[u8]) {
        self.datasets[node].insert(key.as_bytes().to_vec(), value.to_vec());
        let cmd = crate::wire::encode_command(&[&b"set"[..], key.as_bytes(), value]);
        self.write(node, 0, Payload::Bytes(cmd));
    }

    /// Which node `node` replicates from (by port), if any.
    pub fn master_of(&self, node: usize) -> Option<usize> {
        match self.nodes[node].role() {
            super::Role::Replica { port, .. } => self.ports.iter().position(|p| *p == port),
            super::Role::Master { .. } => None,
        }
    }

    /// Cut every pipe of `node` (both ends see `Closed`).
    pub fn kill_links(&mut self, node: usize) {
        let keys: Vec<_> = self
            .pipes
            .keys()
            .copied()
            .filter(|(n, _)| *n == node)
            .collect();
        for k in keys {
            if let Some((pn, pc)) = self.pipes.remove(&k) {
                self.pipes.remove(&(pn, pc));
                let now = self.now;
                self.nodes[k.0].handle(
                    now,
                    Input::Closed {
                        conn: k.1,
                        error: "connection lost".into(),
                    },
                );
                self.nodes[pn].handle(
                    now,
                    Input::Closed {
                        conn: pc,
                        error: "connection lost".into(),
                    },
                );
            }
        }
        self.settle();
    }

    /// Drain outputs and move bytes until quiescent.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                if self.frozen.contains(&i) {
                    continue;
                }
                while let Some(o) = self.nodes[i].poll_output() {
                    moved = true;
                    self.carry_out(i, o);
                }
            }
            // Move bytes on every pipe.
            let keys: Vec<(usize, ConnId)> = self.pipes.keys().copied().collect();
            for (n, c) in keys {
                let Some(&(pn, pc)) = self.pipes.get(&(n, c)) else {
                    continue;
                };
                if self.paused.contains(&(pn, pc))
                    || self.down.contains(&n)
                    || self.down.contains(&pn)
                    || self.stalled.contains(&pn)
                    || self.frozen.contains(&pn)
                    || self.frozen.contains(&n)
                {
                    continue;
                }
                if self.nodes[n].outgoing_len(c) == 0 {
                    continue;
                }
                let now = self.now;
                let chunks = self.nodes[n].take_outgoing(now, c, u64::MAX);
                for ch in chunks {
                    moved = true;
                    self.deliver(pn, pc, ch);
                }
            }
            // Test clients' replies.
            let ckeys: Vec<(usize, ConnId)> = self.clients.keys().copied().collect();
            for (n, c) in ckeys {
                if self.nodes[n].outgoing_len(c) > 0 {
                    let now = self.now;
                    for ch in self.nodes[n].take_outgoing(now, c, u64::MAX) {
                        moved = true;
                        if let Payload::Bytes(b) = ch {
                            if let Some(r) = self.clients.get_mut(&(n, c)) {
                                r.extend(b);
                            }
                        }
                    }
                }
            }
            // Instant children / loads.
            let now = self.now;
            let due: Vec<PendingChild> = self
                .children
                .iter()
                .filter(|c| c.done_at <= now)
                .cloned()
                .collect();
            self.children.retain(|c| c.done_at > now);
            for ch in due {
                moved = true;
                self.snapshots.insert(ch.node, ch.snapshot.clone());
                if ch.socket {
                    self.nodes[ch.node].handle(
                        now,
                        Input::BgsaveData {
                            id: ch.id,
                            payload: Payload::Phantom(self.rdb_size),
                        },
                    );
                }
                let rdb = if ch.socket {
                    Payload::Phantom(0)
                } else {
                    Payload::Phantom(self.rdb_size)
                };
                self.nodes[ch.node].handle(
                    now,
                    Input::BgsaveDone {
                        id: ch.id,
                        ok: true,
                        rdb,
                        cow_bytes: 0,
                    },
                );
            }
            let due: Vec<(u64, usize, ConnId, u16)> = self
                .connects
                .iter()
                .copied()
                .filter(|c| c.0 <= now && !self.frozen.contains(&c.1))
                .collect();
            self.connects
                .retain(|c| c.0 > now || self.frozen.contains(&c.1));
            for (_, n, c, p) in due {
                moved = true;
                self.finish_connect(n, c, p);
            }
            let due: Vec<usize> = self
                .loads
                .iter()
                .filter(|l| l.1 <= now)
                .map(|l| l.0)
                .collect();
            self.loads.retain(|l| l.1 > now);
            for n in due {
                moved = true;
                if let Some(m) = self.master_of(n) {
                    self.datasets[n] = self.snapshots.get(&m).cloned().unwrap_or_default();
                }
                self.nodes[n].handle(
                    now,
                    Input::LoadDone {
                        ok: true,
                        error: String::new(),
                        keys: 0,
                    },
                );
            }
            if !moved {
                return;
            }
        }
    }

    fn deliver(&mut self, node: usize, conn: ConnId, p: Payload) {
        let now = self.now;
        if conn.is_outbound() {
            self.nodes[node].handle(now, Input::Received { conn, payload: p });
        } else {
            // Master side: split real bytes into commands like a server would.
            let mut requests = RequestSplitter::default();
            requests.push(&p);
            while let Ok(Some(argv)) = requests.next_command() {
                self.nodes[node].handle(now, Input::Command { conn, argv });
            }
        }
    }

    fn finish_connect(&mut self, node: usize, conn: ConnId, port: u16) {
        let now = self.now;
        let target = self.ports.iter().position(|p| *p == port);
        match target {
            Some(t) if !self.down.contains(&t) && !self.down.contains(&node) => {
                let server_side = self.alloc();
                self.pipes.insert((node, conn), (t, server_side));
                self.pipes.insert((t, server_side), (node, conn));
                let peer = format!("127.0.0.1:{}", 40000 + server_side.0);
                self.nodes[t].handle(
                    now,
                    Input::Accepted {
                        conn: server_side,
                        peer,
                    },
                );
                self.nodes[node].handle(now, Input::Connected { conn });
            }
            _ => self.nodes[node].handle(
                now,
                Input::ConnectFailed {
                    conn,
                    error: "Connection refused".into(),
                },
            ),
        }
    }

    fn carry_out(&mut self, node: usize, o: Output) {
        o.dispatch(&mut NodeDriver { world: self, node });
    }

    /// Advance virtual time to `t`, running every timer on the way.
    pub fn advance_to(&mut self, t: u64) {
        let mut stuck = 0;
        loop {
            let mut next = t;
            for (i, n) in self.nodes.iter().enumerate() {
                if self.frozen.contains(&i) {
                    continue;
                }
                if let Some(d) = n.poll_timeout() {
                    next = next.min(d);
                }
            }
            for c in &self.children {
                next = next.min(c.done_at);
            }
            for l in &self.loads {
                next = next.min(l.1);
            }
            for c in &self.connects {
                if !self.frozen.contains(&c.1) {
                    next = next.min(c.0);
                }
            }
            next = next.max(self.now);
            // Guard against a timer that never moves (a bug would otherwise hang the test).
            stuck = if next == self.now { stuck + 1 } else { 0 };
            assert!(stuck < 10_000, "virtual time stuck at {next}");
            self.now = next;
            for i in 0..self.nodes.len() {
                if !self.frozen.contains(&i) {
                    self.nodes[i].handle_timeout(next);
                }
            }
            self.settle();
            if next >= t {
                break;
            }
        }
    }

    pub fn advance(&mut self, ms: u64) {
        let t = self.now + ms;
        self.advance_to(t);
    }

    /// Does `node`'s log contain a line with `needle`?
    pub fn logged(&self, node: usize, needle: &str) -> bool {
        self.logs[node].iter().any(|l| l.contains(needle))
    }

    pub fn count_logged(&self, node: usize, needle: &str) -> usize {
        self.logs[node]
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Queue of all log lines (debug helper).
    pub fn dump_logs(&self, node: usize) -> String {
        self.logs[node].join("\n")
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

/// What one node's outputs do in the world.
struct NodeDriver<'a> {
    world: &'a mut World,
    node: usize,
}

impl Driver for NodeDriver<'_> {
    fn data_ready(&mut self, _conn: ConnId) {
        // `settle` moves every queued byte anyway.
    }

    fn close(&mut self, conn: ConnId) {
        let (now, node) = (self.world.now, self.node);
        let w = &mut *self.world;
        w.paused.remove(&(node, conn));
        if let Some((pn, pc)) = w.pipes.remove(&(node, conn)) {
            w.pipes.remove(&(pn, pc));
            w.paused.remove(&(pn, pc));
            w.nodes[pn].handle(
                now,
                Input::Closed {
                    conn: pc,
                    error: "connection lost".into(),
                },
            );
        }
    }

    fn connect(&mut self, conn: ConnId, _host: String, port: u16) {
        let at = self.world.now + self.world.connect_delay_ms;
        self.world.connects.push((at, self.node, conn, port));
    }

    fn set_readable(&mut self, conn: ConnId, readable: bool) {
        if readable {
            self.world.paused.remove(&(self.node, conn));
        } else {
            self.world.paused.insert((self.node, conn));
        }
    }

    fn start_bgsave(&mut self, id: u64, target: BgsaveTarget, _child_pid: u32, _offset: i64) {
        let snapshot = self.world.datasets[self.node].clone();
        let done_at = self.world.now + self.world.bgsave_ms;
        self.world.children.push(PendingChild {
            node: self.node,
            id,
            socket: matches!(target, BgsaveTarget::Sockets(_)),
            done_at,
            snapshot,
        });
    }

    fn kill_bgsave(&mut self, id: u64) {
        let node = self.node;
        self.world
            .children
            .retain(|c| !(c.node == node && c.id == id));
    }

    fn rdb_data(&mut self, payload: Payload) {
        self.world.rdb_received[self.node] += payload.len();
    }

    fn load_rdb(&mut self, _size: u64, _eof_marked: bool) {
        let at = self.world.now + self.world.load_ms;
        self.world.loads.push((self.node, at));
    }

    fn apply(&mut self, argv: Vec<Vec<u8>>) {
        if argv.len() == 3 && argv[0].eq_ignore_ascii_case(b"set") {
            self.world.datasets[self.node].insert(argv[1].clone(), argv[2].clone());
        }
        self.world.applied[self.node].push(argv);
    }

    fn log(&mut self, entry: LogEntry) {
        self.world.logs[self.node].push(entry.line);
    }

    fn mark(&mut self, mark: MarkEvent) {
        self.world.marks[self.node].push(mark);
    }
}
