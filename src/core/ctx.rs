//! What every part of an [`Instance`](super::Instance) reads and writes: who the node is, its
//! configuration, its clock, its replication history, the queue of outputs for the driver,
//! its random source and its counters.
//!
//! [`Ctx`] is not an owner of its own: it groups these owners so that the master side and the
//! replica link, which own their own state, can be handed `&mut Ctx` next to themselves
//! (the borrow splits at the `Instance`). Each owner in it keeps its fields private.

use std::collections::{BTreeSet, VecDeque};

use super::config::Config;
use super::ids::{SplitMix64, ZERO_REPLID};
use super::log::{format_log_line, Level};
use super::status::MarkKind;
use super::{ConnId, LogEntry, MarkEvent, Output};

/// INFO stats counters (`# Stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub total_net_repl_output_bytes: u64,
    pub total_net_repl_input_bytes: u64,
}

/// Who the node is: fixed at boot.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub name: String,
    pub ip: String,
    pub pid: u32,
    /// Run time at which the node booted.
    pub start_ms: u64,
}

/// The core's only clock: the driver stamps every call with `now`; the core never reads one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    now: u64,
    /// Wall-clock milliseconds since the Unix epoch at run time 0.
    epoch_ms: u64,
}

impl Clock {
    pub fn new(epoch_ms: u64, now: u64) -> Clock {
        Clock { now, epoch_ms }
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    /// Time never goes backwards for the core: a late stamp counts as "now".
    pub fn advance_to(&mut self, t: u64) {
        self.now = self.now.max(t);
    }

    /// `server.unixtime`: the seconds clock most replication timers use. Redis compares
    /// whole seconds, so a 60 s timeout fires between 60 and 61 s after the event.
    pub fn unixtime(&self) -> u64 {
        self.unixtime_of(self.now)
    }

    pub fn unixtime_of(&self, t_ms: u64) -> u64 {
        (self.epoch_ms + t_ms) / 1000
    }

    /// Wall-clock milliseconds now (log line dates).
    pub fn wall_ms(&self) -> u64 {
        self.epoch_ms + self.now
    }
}

/// The node's place in replication history (`server.replid`, `replid2`,
/// `second_replid_offset`). The offset itself, `master_repl_offset`, is the stream store's.
#[derive(Clone, Debug)]
pub(crate) struct ReplHistory {
    replid: String,
    replid2: String,
    /// `replid2` is valid for PSYNC offsets up to this one; -1 when cleared.
    second_replid_offset: i64,
}

impl ReplHistory {
    /// A fresh history, as every process starts (`changeReplicationId` +
    /// `clearReplicationId2` in `initServer`).
    pub fn new(rng: &mut SplitMix64) -> ReplHistory {
        ReplHistory {
            replid: rng.hex40(),
            replid2: ZERO_REPLID.to_string(),
            second_replid_offset: -1,
        }
    }

    pub fn replid(&self) -> &str {
        &self.replid
    }

    pub fn replid2(&self) -> &str {
        &self.replid2
    }

    pub fn second_replid_offset(&self) -> i64 {
        self.second_replid_offset
    }

    /// `changeReplicationId` + `clearReplicationId2`: a history nobody else can share (the
    /// first replica creates the backlog; the backlog TTL frees it).
    pub fn change_and_clear(&mut self, rng: &mut SplitMix64) {
        self.replid = rng.hex40();
        self.clear_second();
    }

    /// `clearReplicationId2`.
    pub fn clear_second(&mut self) {
        self.replid2 = ZERO_REPLID.to_string();
        self.second_replid_offset = -1;
    }

    /// `shiftReplicationId` (promotion): the old history stays valid through `replid2` up to
    /// `offset + 1`, so the other replicas of the old master can PSYNC with us.
    pub fn shift(&mut self, rng: &mut SplitMix64, offset: i64) {
        self.replid2 = std::mem::replace(&mut self.replid, rng.hex40());
        self.second_replid_offset = offset + 1;
    }

    /// `+CONTINUE <newid>` with a new id: our master was promoted. Our history up to `offset`
    /// (its old id) stays valid through `replid2`.
    pub fn follow_new_id(&mut self, old: String, new: String, offset: i64) {
        self.replid2 = old;
        self.second_replid_offset = offset + 1;
        self.replid = new;
    }

    /// After a full sync: the master's history is ours (an empty id, from a master without
    /// PSYNC, keeps our own).
    pub fn adopt(&mut self, replid: &str) {
        if !replid.is_empty() {
            self.replid = replid.to_string();
        }
        self.clear_second();
    }

    /// An RDB with `repl-id` loaded at boot by a replica: that is where it resumes.
    pub fn restore_as_replica(&mut self, replid: String) {
        self.replid = replid;
    }

    /// An RDB with `repl-id`/`repl-offset` loaded at boot by a master: its old history stays
    /// valid through `replid2`, so its replicas can PSYNC after the restart.
    pub fn restore_as_master(&mut self, replid: String, offset: i64) {
        self.replid2 = replid;
        self.second_replid_offset = offset + 1;
    }
}

/// The queue of outputs for the driver, and what stamps them.
#[derive(Clone, Debug)]
pub(crate) struct Outputs {
    queue: VecDeque<Output>,
    /// Connections with an `Output::DataReady` not yet taken by the driver (one per batch).
    ready: BTreeSet<ConnId>,
    /// `M` or `S`, as log lines mark the node's role.
    role: char,
    /// The next id for a connection the core opens.
    next_outbound: u64,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs {
            queue: VecDeque::new(),
            ready: BTreeSet::new(),
            role: 'M',
            next_outbound: 1,
        }
    }

    pub fn pop(&mut self) -> Option<Output> {
        let o = self.queue.pop_front();
        if self.queue.is_empty() {
            self.ready.clear();
        }
        o
    }

    pub fn set_role(&mut self, replica: bool) {
        self.role = if replica { 'S' } else { 'M' };
    }
}

/// See the module comment.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub node: Node,
    pub config: Config,
    pub clock: Clock,
    pub hist: ReplHistory,
    pub rng: SplitMix64,
    pub stats: Stats,
    pub out: Outputs,
    /// `dbTotalServerKeyCount()` as the driver last told us (its keyspace is its own): a
    /// load reports its keys, `Instance::set_key_count` the rest. `repl-diskless-load
    /// on-empty-db` parses from the socket only while it is 0.
    pub keys: u64,
}

impl Ctx {
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    pub fn unixtime(&self) -> u64 {
        self.clock.unixtime()
    }

    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        let (role, pid) = (self.out.role, self.node.pid);
        self.log_as(level, role, pid, text);
    }

    /// A replica-side line in this version's words: Valkey renamed its replicas' "master" to
    /// "primary" wholesale (valkey 8.0, `replication.c`), so every such line changes alike
    /// (checked row by row in `tests/fixtures/versions/log-catalogue.md`).
    pub fn log_r(&mut self, level: Level, text: impl Into<String>) {
        let text = self.config.version.wording().replica_words(text.into());
        self.log(level, text);
    }

    /// A line as another process writes it (the fork child: role `C`, its own pid).
    pub fn log_as(&mut self, level: Level, role: char, pid: u32, text: impl Into<String>) {
        let text = text.into();
        let line = format_log_line(pid, role, self.clock.wall_ms(), level, &text);
        self.emit(Output::Log(LogEntry {
            t_ms: self.now(),
            level,
            role,
            pid,
            text,
            line,
        }));
    }

    /// A timeline mark. `conn`/`peer`: the replica it concerns, seen from its master.
    pub fn mark(
        &mut self,
        kind: MarkKind,
        conn: Option<ConnId>,
        peer: Option<String>,
        cause: impl Into<String>,
    ) {
        let t_ms = self.now();
        self.emit(Output::Mark(MarkEvent {
            t_ms,
            kind,
            conn,
            peer,
            cause: cause.into(),
        }));
    }

    pub fn emit(&mut self, o: Output) {
        self.out.queue.push_back(o);
    }

    /// Tell the driver `conn` has bytes to take (once until it drains the queue).
    pub fn data_ready(&mut self, conn: ConnId) {
        if self.out.ready.insert(conn) {
            self.emit(Output::DataReady { conn });
        }
    }

    /// An id for a connection the core opens (top bit set, see [`ConnId::is_outbound`]).
    pub fn alloc_outbound(&mut self) -> ConnId {
        let c = ConnId(ConnId::OUTBOUND_BIT | self.out.next_outbound);
        self.out.next_outbound += 1;
        c
    }
}
