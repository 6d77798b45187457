//! A full sync over a second connection, replica side: Valkey's dual channel and Redis 8.2's
//! RDB channel share this state machine and differ where marked ([`FullSync`]).
//!
//! Valkey 8's dual-channel full sync. The master answers PSYNC with
//! `+DUALCHANNELSYNC`; the replica opens a second connection that asks for the RDB alone
//! (`REPLCONF rdb-only 1 rdb-channel 1`, then `SYNC`) and learns its end offset
//! (`$ENDOFF:<offset> <replid> <dbid> <client-id>`); the main connection then PSYNCs at that
//! offset and the replica buffers the stream itself while the RDB arrives and loads. The
//! master's output buffer no longer holds the whole sync's writes: the replica's own
//! buffer, bounded by the replica's `client-output-buffer-limit replica` hard limit, does.
//!
//! Redis 8.2's RDB channel (`rdbchannel.c`/`replication.c` @8.2, read through its binary and
//! captures, `docs/versions.md` §2.4): the master answers `+RDBCHANNELSYNC <main-client-id>`;
//! the RDB connection sends `REPLCONF capa eof rdb-only 1 rdb-channel 1 main-ch-client-id
//! <id> listening-port <p>` and `PSYNC ? -1`, gets `+FULLRESYNC <replid> <offset>` and the RDB;
//! from the fork on the master pushes the stream on the main connection, which the replica
//! buffers up to `replica-full-sync-buffer-limit` (0 = its replica hard limit).

use std::collections::VecDeque;

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::master::MasterSide;
use super::super::payload::{push_merged, Payload};
use super::super::version::{FullSync, Version};
use super::super::{ConnId, Output};
use super::transfer::{
    use_diskless_load, BulkEvent, BulkReader, FullResync, LoadClock, ParserLoad,
};
use super::{LinkState, ReplicaLink};
use crate::wire::{encode_command, take_line};

/// `loading-process-events-interval-bytes` (2 MB, a hidden config of Redis and Valkey): a load
/// that blocks the main thread serves its other connections once per this many bytes parsed
/// (`rdbLoadProgressCallback` calls `processEventsWhileBlocked`). Valkey's dual channel
/// parses a diskless-load RDB on the main thread, so a main-connection handshake reply that
/// arrives after the RDB waits for the next such boundary (checked on Valkey 8.1.8 and
/// 9.1.2: with a fast fork child the PSYNC is accepted ~0.95 s into a 2.3 MB/s load, and the
/// master keeps that second of stream for the replica meanwhile).
const EVENTS_EVERY_BYTES: u64 = 2 * 1024 * 1024;

/// The RDB connection's step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RdbStep {
    Connecting,
    RecvAuth,
    RecvReplconf,
    RecvEndoff,
    Transfer,
    Done,
}

/// The main connection's step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MainStep {
    /// Until the RDB channel knows the end offset (lines here are keepalives).
    WaitEndoff,
    RecvSetIdReply,
    RecvPsyncReply,
    /// PSYNC accepted: the stream is buffered locally until the RDB is loaded.
    Buffering,
}

#[derive(Clone, Debug)]
pub(super) struct Dual {
    /// Valkey's dual channel or Redis 8.2's RDB channel.
    kind: FullSync,
    /// 8.2: the master's client id of our main connection (`+RDBCHANNELSYNC <id>`).
    main_cid: Option<u64>,
    pub main: ConnId,
    pub rdb_conn: ConnId,
    rdb_step: RdbStep,
    rdb_inbuf: Vec<u8>,
    pub bulk: BulkReader,
    endoff: i64,
    replid: String,
    main_step: MainStep,
    main_inbuf: Vec<u8>,
    local: VecDeque<Payload>,
    /// Valkey: handshake replies on the main connection that the main thread has not read
    /// yet because it is blocked parsing the RDB from the socket (see [`EVENTS_EVERY_BYTES`]).
    unread_main: VecDeque<Payload>,
    /// Valkey: the RDB was loaded before the main connection's PSYNC was accepted
    /// (`dualChannelSyncHandleRdbLoadCompletion` then waits in `REPL_DUAL_CHANNEL_RDB_LOADED`
    /// for `dualChannelSyncHandlePsync`).
    loaded_early: bool,
    pub local_bytes: u64,
    /// The local buffer hit its limit: the main connection is not read.
    stopped: bool,
    /// 8.2 with `repl-diskless-load` choosing the parser at the header: the RDB is parsed from
    /// the socket, `Some(swapdb)` (into a temporary db or not), for the rest of the sync.
    socket_load: Option<bool>,
    /// That load's clock while the RDB still arrives (then it moves to `load`).
    pub(super) parser_clock: Option<LoadClock>,
    /// Set once the RDB is complete and loading.
    pub load: Option<LoadClock>,
}

impl Dual {
    /// Valkey's dual channel or 8.2's RDB channel.
    pub fn kind(&self) -> FullSync {
        self.kind
    }

    /// The RDB goes (or went) straight into the parser.
    pub fn loads_from_socket(&self) -> bool {
        self.socket_load.is_some()
    }

    /// ... into a temporary db, swapped in at the end.
    pub fn swapdb(&self) -> bool {
        self.socket_load == Some(true)
    }

    /// Valkey's main thread is inside a socket load (from the RDB's header to the load's
    /// end), so the main connection is read only at [`EVENTS_EVERY_BYTES`] boundaries.
    fn main_thread_parsing(&self) -> bool {
        self.kind == FullSync::DualChannel
            && self.socket_load.is_some()
            && !self.loaded_early
            && (self.parser_clock.is_some() || self.load.is_some())
    }

    /// Loaded, waiting for the main connection's `+CONTINUE`: the main thread is free.
    pub fn loaded_early(&self) -> bool {
        self.loaded_early
    }

    pub fn rdb_done(&self) -> bool {
        self.rdb_step == RdbStep::Done
    }

    /// Where the stream continues after the RDB.
    pub fn resync(&self) -> FullResync {
        FullResync {
            replid: self.replid.clone(),
            offset: self.endoff,
        }
    }
}

impl ReplicaLink {
    fn dual(&mut self) -> Option<&mut Dual> {
        match &mut self.state {
            LinkState::DualChannel(d) => Some(d),
            _ => None,
        }
    }

    /// `+DUALCHANNELSYNC` (Valkey) or `+RDBCHANNELSYNC <main-client-id>` (8.2): open the
    /// RDB channel. `inbuf`: bytes after the reply line.
    pub(super) fn begin_dual(
        &mut self,
        ctx: &mut Ctx,
        main: ConnId,
        inbuf: Vec<u8>,
        main_cid: Option<u64>,
    ) {
        let (kind, text) = match main_cid {
            Some(_) => (
                FullSync::RdbChannel,
                "PSYNC is not possible, initialize RDB channel.",
            ),
            None => (
                FullSync::DualChannel,
                "Dual channel replication: PSYNC is not possible, initialize RDB channel.",
            ),
        };
        ctx.log_r(Level::Notice, text);
        let rdb_conn = ctx.alloc_outbound();
        // 8.2: the master pushes the stream on the main connection from its fork on, with no
        // second PSYNC: buffer whatever arrives there.
        let main_step = match kind {
            FullSync::RdbChannel => MainStep::Buffering,
            _ => MainStep::WaitEndoff,
        };
        self.state = LinkState::DualChannel(Box::new(Dual {
            kind,
            main_cid,
            main,
            rdb_conn,
            rdb_step: RdbStep::Connecting,
            rdb_inbuf: Vec::new(),
            bulk: BulkReader::new(),
            endoff: -1,
            replid: String::new(),
            main_step,
            main_inbuf: inbuf,
            local: VecDeque::new(),
            unread_main: VecDeque::new(),
            loaded_early: false,
            local_bytes: 0,
            stopped: false,
            socket_load: None,
            parser_clock: None,
            load: None,
        }));
        let (host, port) = self.master.clone();
        ctx.emit(Output::Connect {
            conn: rdb_conn,
            host,
            port,
        });
    }

    pub(super) fn dual_rdb_connected(&mut self, ctx: &mut Ctx) {
        let Some(d) = self.dual() else {
            return;
        };
        let (rc, main_cid) = (d.rdb_conn, d.main_cid.map(|c| c.to_string()));
        let pass = ctx.config.masterauth.clone();
        if let Some(pass) = &pass {
            self.out.send_cmd(ctx, rc, &[b"AUTH", pass.as_bytes()]);
        }
        let port = ctx.config.port.to_string();
        let mut cmd: Vec<&[u8]> = vec![b"REPLCONF", b"capa", b"eof", b"rdb-only", b"1"];
        cmd.extend([&b"rdb-channel"[..], b"1"]);
        // 8.2 names the main connection it belongs to.
        if let Some(cid) = &main_cid {
            cmd.extend([&b"main-ch-client-id"[..], cid.as_bytes()]);
        }
        cmd.extend([&b"listening-port"[..], port.as_bytes()]);
        self.out.send_cmd(ctx, rc, &cmd);
        if let Some(d) = self.dual() {
            d.rdb_step = if pass.is_some() {
                RdbStep::RecvAuth
            } else {
                RdbStep::RecvReplconf
            };
        }
    }

    fn dual_fail(&mut self, ctx: &mut Ctx, why: &str) {
        ctx.log_r(Level::Warning, why.to_string());
        self.cancel_handshake(ctx, true, None);
    }

    /// Bytes on the RDB channel: the handshake's replies, the end offset, then the RDB. One
    /// line-reading loop over the channel's steps, as the main handshake is.
    pub(super) fn dual_rdb_received(&mut self, ctx: &mut Ctx, master: &mut MasterSide, p: Payload) {
        let Some(d) = self.dual() else {
            return;
        };
        if d.rdb_step == RdbStep::Transfer {
            let mut ev = Vec::new();
            d.bulk.feed(p, &mut ev);
            self.dual_bulk_events(ctx, master, ev);
            return;
        }
        let Payload::Bytes(b) = p else {
            self.dual_fail(ctx, "Bad protocol from MASTER on the RDB channel");
            return;
        };
        d.rdb_inbuf.extend_from_slice(&b);
        loop {
            let Some(d) = self.dual() else {
                return;
            };
            if d.rdb_step == RdbStep::Transfer {
                let rest = std::mem::take(&mut d.rdb_inbuf);
                let mut ev = Vec::new();
                if !rest.is_empty() {
                    d.bulk.feed(Payload::Bytes(rest), &mut ev);
                }
                self.dual_bulk_events(ctx, master, ev);
                return;
            }
            let Some(line) = take_line(&mut d.rdb_inbuf) else {
                return;
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            let (rc, main) = (d.rdb_conn, d.main);
            match d.rdb_step {
                RdbStep::RecvAuth => {
                    if text.starts_with('-') {
                        self.dual_fail(ctx, &format!("Unable to AUTH to MASTER: {text}"));
                        return;
                    }
                    d.rdb_step = RdbStep::RecvReplconf;
                }
                RdbStep::RecvReplconf => {
                    if text.starts_with('-') {
                        let why = format!(
                            "Master does not understand REPLCONF on the RDB channel: {text}"
                        );
                        self.dual_fail(ctx, &why);
                        return;
                    }
                    d.rdb_step = RdbStep::RecvEndoff;
                    // Valkey asks with SYNC and learns the offset from `$ENDOFF`; 8.2 asks
                    // `PSYNC ? -1` and learns it from `+FULLRESYNC`.
                    let ask = match d.kind {
                        FullSync::RdbChannel => encode_command(&["PSYNC", "?", "-1"]),
                        _ => encode_command(&["SYNC"]),
                    };
                    self.out.send(ctx, rc, ask);
                }
                RdbStep::RecvEndoff => {
                    if text.is_empty() {
                        continue;
                    }
                    if d.kind == FullSync::RdbChannel {
                        let mut it = text
                            .strip_prefix("+FULLRESYNC")
                            .unwrap_or("")
                            .split_whitespace();
                        let (Some(id), Some(off)) =
                            (it.next(), it.next().and_then(|o| o.parse::<i64>().ok()))
                        else {
                            let why = format!("Unexpected reply on the RDB channel: {text}");
                            return self.dual_fail(ctx, &why);
                        };
                        d.endoff = off;
                        d.replid = id.to_string();
                        d.rdb_step = RdbStep::Transfer;
                        ctx.log_r(
                            Level::Notice,
                            "Starting to receive RDB and replication stream in parallel.",
                        );
                        continue;
                    }
                    let Some(rest) = text.strip_prefix("$ENDOFF:") else {
                        self.dual_fail(
                            ctx,
                            &format!("Unexpected reply on the RDB channel: {text}"),
                        );
                        return;
                    };
                    let parts: Vec<&str> = rest.split_whitespace().collect();
                    let (Some(off), Some(id), Some(cid)) = (
                        parts.first().and_then(|s| s.parse::<i64>().ok()),
                        parts.get(1),
                        parts.get(3),
                    ) else {
                        self.dual_fail(ctx, &format!("Bad $ENDOFF line from MASTER: {text}"));
                        return;
                    };
                    d.endoff = off;
                    d.replid = id.to_string();
                    // From here the RDB connection is read by `readSyncBulkPayload` while the
                    // main one finishes its handshake (both handlers are set at `$ENDOFF`):
                    // whichever arrives first is read first.
                    d.rdb_step = RdbStep::Transfer;
                    d.main_step = MainStep::RecvSetIdReply;
                    let cid = cid.to_string();
                    // The main channel tells the master which RDB connection is its twin,
                    // then PSYNCs at the end offset (see `dual_main_received`).
                    self.out.send_cmd(
                        ctx,
                        main,
                        &[b"REPLCONF", b"set-rdb-client-id", cid.as_bytes()],
                    );
                }
                RdbStep::Connecting | RdbStep::Transfer | RdbStep::Done => {}
            }
        }
    }

    fn dual_bulk_events(&mut self, ctx: &mut Ctx, master: &mut MasterSide, ev: Vec<BulkEvent>) {
        for e in ev {
            match e {
                BulkEvent::Newline => {}
                BulkEvent::Header { eof, size } => {
                    super::transfer::log_bulk_header(ctx, eof, size);
                    // Both read the RDB connection with `readSyncBulkPayload`, as a classic
                    // transfer (Valkey sets it as the RDB channel's read handler at
                    // `$ENDOFF`, replication.c @8.0.1): with `useDisklessLoad()` it loads while
                    // the RDB arrives (checked with swapdb on 8.2.3 and Valkey 8.1.8:
                    // "receiving streamed RDB ... to parser", then "Loading DB in memory").
                    let from_socket = use_diskless_load(ctx);
                    if from_socket {
                        let ParserLoad { clock, swapdb } = self.start_parser_load(ctx, master);
                        if let Some(d) = self.dual() {
                            d.socket_load = Some(swapdb);
                            d.parser_clock = Some(clock);
                        }
                    }
                    ctx.emit(Output::RdbBegin { from_socket });
                }
                BulkEvent::Data(p) => {
                    let mut events_due = false;
                    if let Some(clock) = self.dual().and_then(|d| d.parser_clock.as_mut()) {
                        let before = clock.size;
                        clock.size += p.len();
                        events_due = before / EVENTS_EVERY_BYTES < clock.size / EVENTS_EVERY_BYTES;
                    }
                    ctx.emit(Output::RdbData { payload: p });
                    if events_due {
                        self.read_unread_main(ctx, master);
                        if !matches!(self.state, LinkState::DualChannel(_)) {
                            return;
                        }
                    }
                }
                BulkEvent::MasterError(e) => {
                    return self.dual_fail(ctx, &format!("MASTER aborted replication with an error: {e}"))
                }
                BulkEvent::BadProtocol(x) => return self.dual_fail(ctx, &format!("Bad protocol from MASTER, the first byte is not '$' (we received '{x}'), are you sure the host and port are right?")),
                BulkEvent::Done { .. } => {
                    let Some(d) = self.dual() else {
                        return;
                    };
                    let size = d.bulk.delivered();
                    d.rdb_step = RdbStep::Done;
                    let parsed = d.parser_clock.take();
                    if d.kind == FullSync::RdbChannel {
                        // 8.2 is done with the RDB connection once the RDB is in.
                        let rc = d.rdb_conn;
                        self.out.forget(ctx, rc, true);
                    }
                    let clock = match parsed {
                        Some(clock) => clock,
                        None => {
                            // The dual channel's bio download is noticed at once (not modelled:
                            // its comparisons agree).
                            if ctx.config.version.wording().bio_thread {
                                ctx.log_r(Level::Notice, "Replica bio thread: Done downloading RDB");
                            }
                            super::transfer::log_download_done(ctx);
                            self.begin_load(ctx, master, size)
                        }
                    };
                    if let Some(d) = self.dual() {
                        d.load = Some(clock);
                    }
                    ctx.emit(Output::LoadRdb {
                        size,
                        eof_marked: true,
                    });
                    return;
                }
            }
        }
    }

    /// The main channel during a dual-channel sync: the second PSYNC, then local buffering.
    pub(super) fn dual_main_received(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        p: Payload,
    ) {
        let Some(d) = self.dual() else {
            return;
        };
        if d.main_step != MainStep::Buffering && d.main_thread_parsing() {
            // The main thread is inside the RDB parser: the reply (and whatever follows it)
            // waits in the socket. Once buffering, reads are not delayed: the kernel's socket
            // buffers hold a 2 MB interval's worth of a moderate stream, so the master does
            // not see the difference.
            push_merged(&mut d.unread_main, p);
            return;
        }
        self.dual_main_read(ctx, master, p);
    }

    /// What the main connection brought, read: handshake replies, or the stream to buffer.
    fn dual_main_read(&mut self, ctx: &mut Ctx, master: &mut MasterSide, p: Payload) {
        let limit = ctx.config.local_sync_buffer_limit();
        let Some(d) = self.dual() else {
            return;
        };
        let main = d.main;
        if d.main_step == MainStep::Buffering {
            let n = p.len();
            push_merged(&mut d.local, p);
            d.local_bytes += n;
            let local = d.local_bytes;
            self.local_buffer_peak = self.local_buffer_peak.max(local);
            let Some(d) = self.dual() else {
                return;
            };
            if limit != 0 && d.local_bytes >= limit && !d.stopped {
                // Stop reading: the stream waits in the master's buffer instead.
                d.stopped = true;
                // `bufferReplData` @valkey 8.0.1; 9.1 says how much and what follows.
                // 8.2 (note its trailing space) and 9.1 say how much and what follows.
                let text = match (d.kind, ctx.config.version) {
                    (FullSync::RdbChannel, _) => format!("Replication buffer limit has been reached ({limit} bytes), stopped buffering replication stream. Further accumulation may occur on master side. "),
                    (_, Version::Valkey81) => "Dual channel replication: Replication buffer limit reached, stopping buffering.".to_string(),
                    _ => format!("Dual channel replication: Replication buffer limit reached ({limit} bytes), stopping buffering. Further accumulation will occur on primary side."),
                };
                ctx.log_r(Level::Notice, text);
                ctx.emit(Output::SetReadable {
                    conn: main,
                    readable: false,
                });
            }
            return;
        }
        let Payload::Bytes(b) = p else {
            return self.dual_fail(ctx, "Bad protocol from MASTER on the main channel");
        };
        d.main_inbuf.extend_from_slice(&b);
        loop {
            let Some(d) = self.dual() else {
                return;
            };
            if d.main_step == MainStep::Buffering {
                let rest = std::mem::take(&mut d.main_inbuf);
                if !rest.is_empty() {
                    self.dual_main_received(ctx, master, Payload::Bytes(rest));
                }
                return;
            }
            let Some(line) = take_line(&mut d.main_inbuf) else {
                return;
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            if text.is_empty() {
                continue;
            }
            match d.main_step {
                MainStep::RecvSetIdReply => {
                    if text.starts_with('-') {
                        let why = format!("Master rejected REPLCONF set-rdb-client-id: {text}");
                        return self.dual_fail(ctx, &why);
                    }
                    let (id, off) = (d.replid.clone(), (d.endoff + 1).to_string());
                    d.main_step = MainStep::RecvPsyncReply;
                    ctx.log_r(Level::Notice, format!("Dual channel replication: Trying a partial resynchronization using main channel (request {id}:{off})."));
                    self.out
                        .send_cmd(ctx, main, &[b"PSYNC", id.as_bytes(), off.as_bytes()]);
                }
                MainStep::RecvPsyncReply => {
                    if text.starts_with("+CONTINUE") {
                        // `setupMainConnForPsync`: the suffix while the RDB connection is open.
                        let tail = if d.loaded_early {
                            "."
                        } else {
                            ", RDB load in background."
                        };
                        ctx.log_r(
                            Level::Notice,
                            format!("Dual channel replication: MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization{tail}"),
                        );
                        d.main_step = MainStep::Buffering;
                        if d.loaded_early {
                            // What follows `+CONTINUE` in `main_inbuf` is streamed in by
                            // `finish_dual`.
                            self.dual_psync_after_load(ctx, master);
                            return;
                        }
                    } else {
                        let why = format!("Unexpected reply to PSYNC on the main channel: {text}");
                        return self.dual_fail(ctx, &why);
                    }
                }
                MainStep::WaitEndoff | MainStep::Buffering => {}
            }
        }
    }

    /// `processEventsWhileBlocked` during a socket load: the main connection's handshake
    /// replies that waited are read now.
    fn read_unread_main(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        let Some(d) = self.dual() else {
            return;
        };
        let unread = std::mem::take(&mut d.unread_main);
        for p in unread {
            match &self.state {
                LinkState::DualChannel(_) => self.dual_main_read(ctx, master, p),
                // `+CONTINUE` completed a sync whose RDB was already loaded: the rest is
                // the stream.
                LinkState::Online(_) => self.stream_in(ctx, master, p),
                _ => return,
            }
        }
    }

    /// Valkey: the load ended before the main connection's PSYNC was accepted
    /// (`dualChannelSyncHandleRdbLoadCompletion`): the sync completes on `+CONTINUE`. The
    /// replies the blocked main thread had not read are read now, which may be that
    /// `+CONTINUE`. Returns whether the link waits.
    pub(super) fn dual_loaded_before_psync(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
    ) -> bool {
        let Some(d) = self.dual() else {
            return false;
        };
        if d.kind != FullSync::DualChannel || d.main_step == MainStep::Buffering {
            return false;
        }
        d.loaded_early = true;
        self.read_unread_main(ctx, master);
        true
    }

    /// `dualChannelSyncHandlePsync` with the RDB already loaded: the sync is done.
    fn dual_psync_after_load(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        let Some(d) = self.dual() else {
            return;
        };
        let (main, resync) = (Some(d.main), d.resync());
        let main_closed = d.load.as_ref().is_some_and(|l| l.main_closed);
        self.become_online(ctx, master, main, resync, true, main_closed);
    }

    /// The RDB is loaded (the link is `Online` now): close the RDB channel, apply what was
    /// buffered locally, read the main channel again.
    pub(super) fn finish_dual(&mut self, ctx: &mut Ctx, master: &mut MasterSide, mut d: Dual) {
        if d.kind != FullSync::RdbChannel {
            self.out.forget(ctx, d.rdb_conn, true); // 8.2 closed it when the RDB was in
        }
        let buffered = d.local_bytes;
        if d.kind == FullSync::RdbChannel {
            ctx.log_r(Level::Notice, format!("MASTER <-> REPLICA sync: Starting to stream replication buffer into the db ({buffered} bytes)."));
        }
        for p in std::mem::take(&mut d.local) {
            self.stream_in(ctx, master, p);
        }
        if d.stopped {
            ctx.emit(Output::SetReadable {
                conn: d.main,
                readable: true,
            });
        }
        let rest = std::mem::take(&mut d.main_inbuf);
        let total = buffered + rest.len() as u64;
        if !rest.is_empty() {
            self.stream_in(ctx, master, Payload::Bytes(rest));
        }
        if d.kind == FullSync::RdbChannel {
            // Ours counts what was buffered plus what already waited on the socket; 8.2 keeps
            // buffering until it has caught up, so its total can be larger.
            ctx.log_r(Level::Notice, format!("MASTER <-> REPLICA sync: Successfully streamed replication buffer into the db ({total} bytes in total)"));
        }
    }
}
