//! Receiving the RDB (`readSyncBulkPayload`) and loading it: the reader of `$<len>` and
//! `$EOF:<mark>` transfers (real bytes or counted), the load the driver carries out, and
//! what finishing it means (`replicationCreateMasterClient`, adopting the master's history).

use std::collections::VecDeque;

use super::super::config::DisklessLoad;
use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::master::MasterSide;
use super::super::payload::{push_merged, Payload};
use super::super::status::MarkKind;
use super::super::version::{FullSync, LoadFailedTail};
use super::super::{ConnId, Output, RdbAux};
use super::stream::MasterClient;
use super::{LinkState, ReplicaLink};
use crate::wire::take_line;

/// Where the stream continues after the RDB (`+FULLRESYNC <replid> <offset>`; an empty id
/// and -1 after the old SYNC).
#[derive(Clone, Debug)]
pub(super) struct FullResync {
    pub replid: String,
    pub offset: i64,
}

/// `REPL_STATE_TRANSFER`, reading the RDB from the main connection.
#[derive(Clone, Debug)]
pub(super) struct Receiving {
    pub conn: ConnId,
    pub rdb: BulkReader,
    pub resync: FullResync,
    /// `repl-diskless-load` chose the parser at the header (`useDisklessLoad`): the RDB loads
    /// as it arrives, the event loop blocked in `rdbLoadRio` reading the socket.
    pub parser: Option<ParserLoad>,
    /// Valkey 9.1: the bio thread has the whole RDB on disk; the main thread notices at its
    /// next `replicationCron` and loads then. What arrived after the RDB waits here.
    pub bio_done: Option<Vec<Payload>>,
}

/// A load straight from the socket.
#[derive(Clone, Debug)]
pub(super) struct ParserLoad {
    pub clock: LoadClock,
    /// `swapdb`: into a temporary db, swapped in once whole (the old data stays until then);
    /// `on-empty-db`: into the (empty) main db.
    pub swapdb: bool,
}

/// The clock of an RDB load (classic or dual channel).
#[derive(Clone, Debug)]
pub(super) struct LoadClock {
    /// Bytes of the RDB being loaded (with diskless load: received so far).
    pub size: u64,
    pub started_ms: u64,
    /// The loading keepalive goes at most once a second.
    pub last_newline_s: u64,
    /// The main connection closed meanwhile: noticed when the load ends (nobody reads it).
    pub main_closed: bool,
    /// The loader's aux lines are out (`Input::RdbLoading`).
    pub aux_logged: bool,
}

impl LoadClock {
    /// "Loading DB in memory": the load of `size` bytes starts now.
    fn start(ctx: &mut Ctx, size: u64) -> LoadClock {
        ctx.log_r(
            Level::Notice,
            "MASTER <-> REPLICA sync: Loading DB in memory",
        );
        if ctx.config.version.wording().slot_migration_log {
            ctx.log_r(
                Level::Notice,
                "Cleaning slot migration log in anticipation of a load operation.",
            );
        }
        LoadClock {
            size,
            started_ms: ctx.now(),
            last_newline_s: ctx.unixtime(),
            main_closed: false,
            aux_logged: false,
        }
    }
}

/// `REPL_STATE_TRANSFER`, loading the RDB (classic sync): the main connection is not read.
#[derive(Clone, Debug)]
pub(super) struct Loading {
    pub conn: ConnId,
    pub resync: FullResync,
    /// The transfer was EOF-marked (diskless): our first ACK starts the master's stream.
    pub eof: bool,
    /// It was parsed from the socket as it arrived: only the end of the load remains.
    pub from_socket: bool,
    /// ... into a temporary db (`swapdb`): swap it in at the end.
    pub swapdb: bool,
    /// (`master_sync_total_bytes`, `master_sync_read_bytes`) as the transfer ended.
    pub transfer: (i64, u64),
    /// Stream bytes that arrived after the RDB, applied once it is loaded.
    pub pending: VecDeque<Payload>,
    pub clock: LoadClock,
}

/// What the reader found in the bytes it was fed.
pub(super) enum BulkEvent {
    /// A keepalive `\n` before the header.
    Newline,
    Header {
        eof: bool,
        size: i64,
    },
    Data(Payload),
    /// Body complete; anything after it (stream bytes) is returned.
    Done {
        leftover: Vec<Payload>,
    },
    MasterError(String),
    BadProtocol(String),
}

/// Reads `$<len>\r\n<body>` or `$EOF:<mark>\r\n<body><mark>`, real or phantom (the header
/// and the mark are always real bytes, even in a simulation).
///
/// A disk sync knows the file's size before it sends it; a diskless one streams the RDB as
/// the child writes it, so nobody knows the size: the master frames it with a random 40-byte
/// mark instead, and the replica compares the last 40 bytes it received with it. Empty lines
/// before the header are the master's keepalives while the replica waits for its BGSAVE
/// (they refresh the replica's transfer timeout).
#[derive(Clone, Debug)]
pub(super) struct BulkReader {
    inbuf: Vec<u8>,
    /// -1 before the header; 0 for EOF-marked transfers.
    size: i64,
    header_seen: bool,
    read: u64,
    mark: Option<Vec<u8>>,
    /// Real bytes held back because they might be the EOF mark.
    tail: Vec<u8>,
    delivered: u64,
}

impl BulkReader {
    pub fn new() -> Self {
        BulkReader {
            inbuf: Vec::new(),
            size: -1,
            header_seen: false,
            read: 0,
            mark: None,
            tail: Vec::new(),
            delivered: 0,
        }
    }

    pub fn header_seen(&self) -> bool {
        self.header_seen
    }

    /// RDB body bytes handed on so far (the mark excluded).
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// (`master_sync_total_bytes`, `master_sync_read_bytes`): -1 before the header, 0 for
    /// an EOF-marked transfer whose size nobody knows in advance.
    pub fn progress(&self) -> (i64, u64) {
        if self.header_seen {
            (self.size, self.read)
        } else {
            (-1, self.read)
        }
    }

    pub fn feed(&mut self, p: Payload, ev: &mut Vec<BulkEvent>) {
        match p {
            Payload::Phantom(n) => {
                if !self.header_seen {
                    ev.push(BulkEvent::BadProtocol("?".into()));
                    return;
                }
                self.body(Payload::Phantom(n), ev);
            }
            Payload::Bytes(b) => {
                if self.header_seen {
                    self.body(Payload::Bytes(b), ev);
                    return;
                }
                self.inbuf.extend_from_slice(&b);
                while !self.header_seen {
                    let Some(line) = take_line(&mut self.inbuf) else {
                        return;
                    };
                    if line.is_empty() {
                        ev.push(BulkEvent::Newline);
                        continue;
                    }
                    let text = String::from_utf8_lossy(&line).into_owned();
                    if let Some(err) = text.strip_prefix('-') {
                        ev.push(BulkEvent::MasterError(err.to_string()));
                        return;
                    }
                    if !text.starts_with('$') {
                        ev.push(BulkEvent::BadProtocol(
                            text.chars().next().map(String::from).unwrap_or_default(),
                        ));
                        return;
                    }
                    // `$EOF:` counts only with the whole 40-character mark after it.
                    if let Some(m) = text.strip_prefix("$EOF:").filter(|m| m.len() >= 40) {
                        self.mark = Some(m.as_bytes()[..40].to_vec());
                        self.size = 0;
                        self.header_seen = true;
                        ev.push(BulkEvent::Header { eof: true, size: 0 });
                    } else {
                        match text[1..].parse::<i64>() {
                            Ok(n) if n >= 0 => {
                                self.size = n;
                                self.header_seen = true;
                                ev.push(BulkEvent::Header {
                                    eof: false,
                                    size: n,
                                });
                            }
                            _ => {
                                ev.push(BulkEvent::BadProtocol("$".into()));
                                return;
                            }
                        }
                    }
                }
                let rest = std::mem::take(&mut self.inbuf);
                if !rest.is_empty() {
                    self.body(Payload::Bytes(rest), ev);
                }
            }
        }
    }

    fn body(&mut self, p: Payload, ev: &mut Vec<BulkEvent>) {
        let len = p.len();
        if let Some(mark) = self.mark.clone() {
            // EOF-marked: keep the last 40 real bytes back and compare them with the mark
            // (the master sends nothing after it until our first ACK).
            self.read += len;
            match p {
                Payload::Phantom(n) => {
                    // Phantom bytes can't be the mark: release the held-back tail first.
                    if !self.tail.is_empty() {
                        let t = std::mem::take(&mut self.tail);
                        self.emit_data(Payload::Bytes(t), ev);
                    }
                    self.emit_data(Payload::Phantom(n), ev);
                }
                Payload::Bytes(b) => {
                    self.tail.extend_from_slice(&b);
                    if self.tail.len() > 40 {
                        let cut = self.tail.len() - 40;
                        let head: Vec<u8> = self.tail.drain(..cut).collect();
                        self.emit_data(Payload::Bytes(head), ev);
                    }
                    if self.tail == mark {
                        self.tail.clear();
                        ev.push(BulkEvent::Done {
                            leftover: Vec::new(),
                        });
                    }
                }
            }
            return;
        }
        let remaining = (self.size as u64).saturating_sub(self.read);
        let take = remaining.min(len);
        self.read += take;
        self.emit_data(p.slice(0, take), ev);
        if self.read >= self.size as u64 {
            let mut leftover = Vec::new();
            if len > take {
                leftover.push(p.slice(take, len - take));
            }
            ev.push(BulkEvent::Done { leftover });
        }
    }

    fn emit_data(&mut self, p: Payload, ev: &mut Vec<BulkEvent>) {
        if !p.is_empty() {
            self.delivered += p.len();
            ev.push(BulkEvent::Data(p));
        }
    }
}

impl ReplicaLink {
    /// The PSYNC reply started a full sync: read the RDB (the bytes after the reply line
    /// may already hold its start).
    pub(super) fn begin_transfer(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        conn: ConnId,
        resync: FullResync,
    ) {
        let rest = self.take_handshake_inbuf();
        self.state = LinkState::Receiving(Receiving {
            conn,
            rdb: BulkReader::new(),
            resync,
            parser: None,
            bio_done: None,
        });
        if !rest.is_empty() {
            self.transfer_received(ctx, master, Payload::Bytes(rest));
        }
    }

    pub(super) fn transfer_received(&mut self, ctx: &mut Ctx, master: &mut MasterSide, p: Payload) {
        let LinkState::Receiving(r) = &mut self.state else {
            return;
        };
        if let Some(after) = r.bio_done.as_mut() {
            // Bytes already on their way when reading stopped: the stream, for later.
            after.push(p);
            return;
        }
        let mut ev = Vec::new();
        r.rdb.feed(p, &mut ev);
        self.bulk_events(ctx, master, ev);
    }

    fn bulk_events(&mut self, ctx: &mut Ctx, master: &mut MasterSide, ev: Vec<BulkEvent>) {
        for e in ev {
            match e {
                BulkEvent::Newline => {}
                BulkEvent::Header { eof, size } => {
                    log_bulk_header(ctx, eof, size);
                    let from_socket = use_diskless_load(ctx);
                    if from_socket {
                        self.begin_parser_load(ctx, master);
                    }
                    ctx.emit(Output::RdbBegin { from_socket });
                }
                BulkEvent::Data(p) => {
                    if let LinkState::Receiving(Receiving {
                        parser: Some(pl), ..
                    }) = &mut self.state
                    {
                        pl.clock.size += p.len();
                    }
                    ctx.emit(Output::RdbData { payload: p })
                }
                BulkEvent::MasterError(e) => {
                    ctx.log_r(
                        Level::Warning,
                        format!("MASTER aborted replication with an error: {e}"),
                    );
                    self.cancel_handshake(ctx, true, None);
                    return;
                }
                BulkEvent::BadProtocol(x) => {
                    ctx.log_r(
                        Level::Warning,
                        format!("Bad protocol from MASTER, the first byte is not '$' (we received '{x}'), are you sure the host and port are right?"),
                    );
                    self.cancel_handshake(ctx, true, None);
                    return;
                }
                BulkEvent::Done { leftover } => {
                    let LinkState::Receiving(r) = &mut self.state else {
                        return;
                    };
                    if r.parser.is_none() && ctx.config.version.wording().bio_thread {
                        // Valkey 9.1 downloads a disk RDB in a bio thread that does not wake
                        // the main thread: it sees the download done at its next
                        // `replicationCron` (the captures: 0.1-0.75 s later). The socket is
                        // not read meanwhile.
                        ctx.log_r(Level::Notice, "Replica bio thread: Done downloading RDB");
                        r.bio_done = Some(leftover);
                        let conn = r.conn;
                        ctx.emit(Output::SetReadable {
                            conn,
                            readable: false,
                        });
                        return;
                    }
                    self.start_load(ctx, master, leftover);
                    return;
                }
            }
        }
    }

    /// `replicationCron` on Valkey 9.1: a download the bio thread finished is noticed now,
    /// and loaded.
    pub fn notice_bio_download(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        let LinkState::Receiving(r) = &mut self.state else {
            return;
        };
        if let Some(leftover) = r.bio_done.take() {
            self.start_load(ctx, master, leftover);
        }
    }

    /// `replicationAttachToNewMaster`: drop the cached master, the sub-replicas and our
    /// backlog. The new RDB replaces our history: a PSYNC with the cached master could only
    /// resume the old one, sub-replicas hold offsets of the old one, and the backlog's bytes
    /// belong to it.
    fn attach_to_new_master(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        if self.cached.take().is_some() {
            ctx.log_r(Level::Notice, "Discarding previously cached master state.");
        }
        master.disconnect_replicas(ctx);
        master.free_backlog();
    }

    /// What a load into the main db starts with (from disk, classic or dual channel, or
    /// `on-empty-db` from the socket): attach to the new master, flush, load.
    pub(super) fn begin_load(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        size: u64,
    ) -> LoadClock {
        self.attach_to_new_master(ctx, master);
        // Valkey 9.1 checks the RDB's header before it flushes (`readSyncBulkPayload`); 8.2
        // announces the load first and flushes inside it (checked, `*/full-sync-disk`).
        let w = ctx.config.version.wording();
        let flush = match w.bio_thread {
            true => "RDB signature and version check passed. Flushing old data",
            false => "MASTER <-> REPLICA sync: Flushing old data",
        };
        let clock = if w.flush_inside_load {
            let clock = LoadClock::start(ctx, size);
            ctx.log_r(Level::Notice, flush);
            clock
        } else {
            ctx.log_r(Level::Notice, flush);
            LoadClock::start(ctx, size)
        };
        ctx.keys = 0;
        clock
    }

    /// `readSyncBulkPayload` with `useDisklessLoad()`: the load starts with the transfer.
    /// `swapdb` loads into a temporary db and keeps everything (old data, cached master,
    /// sub-replicas, backlog) until the swap; `on-empty-db` flushes the main db first, as a
    /// disk load does.
    fn begin_parser_load(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        let pl = self.start_parser_load(ctx, master);
        if let LinkState::Receiving(r) = &mut self.state {
            r.parser = Some(pl);
        }
    }

    /// A load from the socket starts (the classic transfer's, or 8.2's RDB channel's).
    pub(super) fn start_parser_load(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
    ) -> ParserLoad {
        let swapdb = ctx.config.repl_diskless_load == DisklessLoad::Swapdb;
        let clock = if swapdb {
            LoadClock::start(ctx, 0)
        } else {
            self.begin_load(ctx, master, 0)
        };
        ParserLoad { clock, swapdb }
    }

    /// The loader read the RDB's header: its aux fields, as `rdbLoadRio` logs them.
    pub fn on_rdb_header(&mut self, ctx: &mut Ctx, aux: &RdbAux) {
        let Some(clock) = self.load_clock_mut() else {
            return;
        };
        if std::mem::replace(&mut clock.aux_logged, true) {
            return;
        }
        log_rdb_aux(ctx, aux);
    }

    /// The clock of the load in progress (from disk, from the socket, or dual channel).
    pub(super) fn load_clock_mut(&mut self) -> Option<&mut LoadClock> {
        match &mut self.state {
            LinkState::Loading(l) => Some(&mut l.clock),
            LinkState::Receiving(Receiving {
                parser: Some(p), ..
            }) => Some(&mut p.clock),
            LinkState::DualChannel(d) => d.load.as_mut().or(d.parser_clock.as_mut()),
            _ => None,
        }
    }

    /// [`ReplicaLink::load_clock_mut`], read only.
    fn load_clock(&self) -> Option<&LoadClock> {
        match &self.state {
            LinkState::Loading(l) => Some(&l.clock),
            LinkState::Receiving(r) => r.parser.as_ref().map(|p| &p.clock),
            LinkState::DualChannel(d) => d.load.as_ref().or(d.parser_clock.as_ref()),
            _ => None,
        }
    }

    /// A load runs whose aux lines are not out yet (the driver's loader has not read the
    /// RDB's header).
    pub fn awaits_rdb_header(&self) -> bool {
        self.load_clock().is_some_and(|c| !c.aux_logged)
    }

    /// When the load in progress started (ms): at the RDB's header for a load from the
    /// socket, when the RDB was complete otherwise.
    pub fn load_started_ms(&self) -> Option<u64> {
        self.load_clock().map(|c| c.started_ms)
    }

    /// Whether the RDB goes (or went) straight into the parser.
    pub fn loads_from_socket(&self) -> bool {
        match &self.state {
            LinkState::Receiving(r) => r.parser.is_some(),
            LinkState::Loading(l) => l.from_socket,
            LinkState::DualChannel(d) => d.loads_from_socket(),
            _ => false,
        }
    }

    /// A load from the socket failed (`readSyncBulkPayload`'s `loadingFailed`): try again at
    /// once, dropping what was half loaded.
    pub(super) fn parser_load_failed(
        &mut self,
        ctx: &mut Ctx,
        error: &str,
        closed: Option<ConnId>,
        swapdb: bool,
    ) {
        ctx.log_r(
            Level::Warning,
            format!("Failed trying to load the MASTER synchronization DB from socket: {error}"),
        );
        self.cancel_handshake(ctx, true, closed);
        if swapdb {
            ctx.log_r(
                Level::Notice,
                "MASTER <-> REPLICA sync: Discarding temporary DB in background",
            );
        } else {
            ctx.keys = 0;
        }
    }

    /// The RDB arrived whole: load it (from disk), or finish loading it (from the socket).
    /// The load blocks the event loop, so the master link is not read meanwhile and the
    /// master keeps buffering for us.
    fn start_load(&mut self, ctx: &mut Ctx, master: &mut MasterSide, leftover: Vec<Payload>) {
        let LinkState::Receiving(r) = &mut self.state else {
            return;
        };
        let (conn, size, eof, transfer) = (
            r.conn,
            r.rdb.delivered(),
            r.rdb.mark.is_some(),
            r.rdb.progress(),
        );
        let parsed = r.parser.take();
        let (from_socket, swapdb) = (parsed.is_some(), parsed.as_ref().is_some_and(|p| p.swapdb));
        let clock = match parsed {
            Some(p) => p.clock,
            None => {
                log_download_done(ctx);
                self.begin_load(ctx, master, size)
            }
        };
        let LinkState::Receiving(r) = std::mem::replace(&mut self.state, LinkState::Connect) else {
            return;
        };
        let mut pending = VecDeque::new();
        for p in leftover {
            push_merged(&mut pending, p);
        }
        self.state = LinkState::Loading(Loading {
            conn,
            resync: r.resync,
            eof,
            from_socket,
            swapdb,
            transfer,
            pending,
            clock,
        });
        ctx.emit(Output::SetReadable {
            conn,
            readable: false,
        });
        ctx.emit(Output::LoadRdb {
            size,
            eof_marked: eof,
        });
    }

    /// The driver finished the load requested by `Output::LoadRdb` (`readSyncBulkPayload`'s
    /// end: the load's log lines, `replicationCreateMasterClient`, the master's history made
    /// ours, then what waited: the ACK that starts a diskless stream, the dual channel's local
    /// buffer, the bytes that arrived meanwhile, a link that died meanwhile). One function so
    /// the order of those steps, which Redis fixes, reads top to bottom.
    pub fn on_load_done(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        ok: bool,
        error: &str,
        keys: u64,
    ) {
        if !self.is_loading() {
            return;
        }
        let main = self.main_conn();
        if let Some(c) = main {
            ctx.emit(Output::SetReadable {
                conn: c,
                readable: true,
            });
        }
        let (resync, clock, eof, from_socket, swapdb) = match &self.state {
            LinkState::Loading(l) => (
                l.resync.clone(),
                l.clock.clone(),
                l.eof,
                l.from_socket,
                l.swapdb,
            ),
            LinkState::DualChannel(d) => match &d.load {
                Some(clock) => (
                    d.resync(),
                    clock.clone(),
                    true,
                    d.loads_from_socket(),
                    d.swapdb(),
                ),
                None => return,
            },
            _ => return,
        };
        if !ok {
            if from_socket {
                self.parser_load_failed(ctx, error, None, swapdb);
                return;
            }
            // 7.0+ add errno (`: Invalid argument`), 6.2 nothing, Valkey `, check server logs.`.
            let tail = match ctx.config.version.wording().load_failed_tail {
                LoadFailedTail::Errno => format!(": {error}"),
                LoadFailedTail::Nothing => String::new(),
                LoadFailedTail::CheckLogs => ", check server logs.".to_string(),
            };
            ctx.log_r(
                Level::Warning,
                format!("Failed trying to load the MASTER synchronization DB from disk{tail}"),
            );
            self.cancel_handshake(ctx, true, None);
            return;
        }
        if !clock.aux_logged {
            // A driver that does not report the RDB's header: what the core knows.
            let aux = RdbAux {
                redis_ver: Some(ctx.config.version.release().into()),
                ctime_s: Some(ctx.clock.unixtime_of(clock.started_ms)),
                used_mem: Some(clock.size),
            };
            log_rdb_aux(ctx, &aux);
        }
        // `#` on 6.2; Valkey 9.1 adds its expired hash fields (`rdbLoad`).
        let w = ctx.config.version.wording();
        ctx.log_r(
            w.done_loading_level,
            format!(
                "Done loading RDB, keys loaded: {keys}, keys expired: 0{}.",
                w.done_loading_tail
            ),
        );
        ctx.keys = keys;
        if swapdb {
            // Only now does the new dataset replace ours: until the swap the old one (and
            // our history with it) stayed valid.
            self.attach_to_new_master(ctx, master);
            ctx.log_r(
                Level::Notice,
                "MASTER <-> REPLICA sync: Swapping active DB with loaded DB",
            );
            ctx.log_r(
                Level::Notice,
                "MASTER <-> REPLICA sync: Discarding old DB in background",
            );
        }
        if self.dual_loaded_before_psync(ctx, master) {
            return;
        }
        self.become_online(ctx, master, main, resync, eof, clock.main_closed);
    }

    /// The end of a full sync: `replicationCreateMasterClient`, and the master's history
    /// becomes ours (its id, and the offset its RDB stops at); then what waited.
    pub(super) fn become_online(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        main: Option<ConnId>,
        resync: FullResync,
        eof: bool,
        main_closed: bool,
    ) {
        let Some(conn) = main else {
            return;
        };
        let previous = std::mem::replace(
            &mut self.state,
            LinkState::Online(MasterClient::new(
                conn,
                resync.replid.clone(),
                resync.offset,
                ctx.now(),
                resync.offset < 0,
            )),
        );
        ctx.hist.adopt(&resync.replid);
        master.set_offset(resync.offset.max(0));
        master.ensure_backlog();
        self.down_since_ms = None;
        if matches!(&previous, LinkState::DualChannel(d) if d.kind() == FullSync::DualChannel) {
            // Logged as the buffered stream is applied, just below (same instant).
            ctx.log_r(
                Level::Notice,
                "Dual channel replication: Successfully streamed replication data into memory",
            );
        }
        ctx.log_r(
            Level::Notice,
            "MASTER <-> REPLICA sync: Finished with success",
        );
        ctx.mark(
            MarkKind::FullSyncDone,
            None,
            None,
            format!("RDB loaded, streaming from offset {}", resync.offset + 1),
        );
        if eof {
            // An EOF-marked transfer: this ACK is what starts the master's stream (it held the
            // stream back so that nothing followed the mark, see `diskless_transfer_done`).
            self.send_ack(ctx);
        }
        let pending = match previous {
            LinkState::Loading(l) => l.pending,
            LinkState::DualChannel(d) => {
                self.finish_dual(ctx, master, *d);
                VecDeque::new()
            }
            _ => VecDeque::new(),
        };
        for p in pending {
            if matches!(self.state, LinkState::Online(_)) {
                self.stream_in(ctx, master, p);
            }
        }
        if main_closed {
            self.master_link_lost(ctx, false);
        }
    }
}

/// `useDisklessLoad`: `swapdb` always parses straight from the socket, `on-empty-db` only
/// while the dataset has no keys (there is nothing to lose if the transfer fails halfway).
pub(in crate::core) fn use_diskless_load(ctx: &Ctx) -> bool {
    match ctx.config.repl_diskless_load {
        DisklessLoad::Disabled => false,
        DisklessLoad::OnEmptyDb => ctx.keys == 0,
        DisklessLoad::Swapdb => true,
    }
}

/// The RDB's `$<len>` / `$EOF:` header arrived: where it goes. Valkey 9.1 downloads a disk
/// RDB in a bio thread, which says so.
pub(super) fn log_bulk_header(ctx: &mut Ctx, eof: bool, size: i64) {
    let to = load_target(ctx);
    let w = ctx.config.version.wording();
    if w.bio_thread && to == "disk" {
        ctx.log_r(
            Level::Notice,
            "Replica main thread creating Bio thread to save RDB to disk",
        );
    }
    let text = if eof {
        format!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {to}")
    } else {
        format!("MASTER <-> REPLICA sync: receiving {size} bytes from master to {to}")
    };
    ctx.log_r(Level::Notice, w.transfer(to == "disk", text));
}

/// A disk RDB is in whole. Valkey 9.1: the bio thread finished the download; the main thread
/// notices and loads (`replicaReceiveRDBFromPrimaryToDisk`, binary; checked).
pub(super) fn log_download_done(ctx: &mut Ctx) {
    if ctx.config.version.wording().bio_thread {
        for line in [
            "Replica main thread detected RDB download completion in Bio thread",
            "Loading the RDB and finalizing primary-replica sync...",
        ] {
            ctx.log_r(Level::Notice, line);
        }
    }
}

/// Where the header's log line says the RDB goes.
pub(super) fn load_target(ctx: &Ctx) -> &'static str {
    if use_diskless_load(ctx) {
        "parser"
    } else {
        "disk"
    }
}

/// `rdbLoadRio`'s lines for the aux fields it reads at the start of a load, in the order
/// `rdbSaveInfoAuxFields` writes them. The age is `time(NULL) - ctime` in whole seconds.
fn log_rdb_aux(ctx: &mut Ctx, aux: &RdbAux) {
    if let Some(v) = &aux.redis_ver {
        let vendor = ctx.config.version.wording().loader_vendor;
        ctx.log_r(
            Level::Notice,
            format!("Loading RDB produced by {vendor}version {v}"),
        );
    }
    if let Some(ct) = aux.ctime_s {
        let age = ctx.unixtime().saturating_sub(ct);
        ctx.log_r(Level::Notice, format!("RDB age {age} seconds"));
    }
    if let Some(m) = aux.used_mem {
        let mb = m as f64 / (1024.0 * 1024.0);
        ctx.log_r(
            Level::Notice,
            format!("RDB memory usage when created {mb:.2} Mb"),
        );
    }
}
