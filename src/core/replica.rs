//! The replica half: connecting, the handshake (each step waits for its reply), receiving and
//! loading the RDB, applying and relaying the stream, ACKs, timeouts, REPLICAOF, and the
//! Valkey-style dual-channel sync.

use std::collections::{BTreeMap, VecDeque};

use super::ids::ZERO_REPLID;
use super::instance::Instance;
use super::log::Level;
use super::payload::{push_merged, take_front, total_len, Payload};
use super::{ConnId, Output};
use crate::view::MarkKind;
use crate::wire::{encode_command, parse_request, take_line, Parsed, RequestLimits};

/// `server.repl_state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkState {
    #[default]
    None,
    Connect,
    Connecting,
    RecvPing,
    RecvAuth,
    RecvPort,
    RecvIp,
    RecvCapa,
    RecvPsync,
    Transfer,
    Connected,
}

impl LinkState {
    /// What ROLE prints.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::None => "none",
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
            _ => "handshake",
        }
    }

    fn in_handshake(self) -> bool {
        matches!(
            self,
            LinkState::RecvPing
                | LinkState::RecvAuth
                | LinkState::RecvPort
                | LinkState::RecvIp
                | LinkState::RecvCapa
                | LinkState::RecvPsync
        )
    }
}

/// `server.master`: the link once synchronised.
#[derive(Clone, Debug, Default)]
pub(crate) struct MasterClient {
    pub replid: String,
    pub reploff: i64,
    pub read_reploff: i64,
    pub last_interaction_ms: u64,
    pub pre_psync: bool,
    pub in_multi: bool,
    pub multi_buf: Vec<Payload>,
}

/// `server.cached_master`: what lets a replica ask for a partial resync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CachedMaster {
    pub replid: String,
    pub reploff: i64,
}

/// Reads `$<len>\r\n<body>` or `$EOF:<mark>\r\n<body><mark>` (spec 5.3), real or phantom.
#[derive(Clone, Debug, Default)]
pub(crate) struct BulkReader {
    pub inbuf: Vec<u8>,
    /// -1 before the header; 0 for EOF-marked transfers.
    pub size: i64,
    pub header_seen: bool,
    pub read: u64,
    pub mark: Option<Vec<u8>>,
    /// Real bytes held back because they might be the EOF mark.
    pub tail: Vec<u8>,
    pub delivered: u64,
}

pub(crate) enum BulkEvent {
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

impl BulkReader {
    pub fn new() -> Self {
        BulkReader {
            size: -1,
            ..Default::default()
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

/// The dual-channel side connection and the local buffer (Valkey 8, spec 8.2).
#[derive(Clone, Debug)]
pub(crate) struct Dual {
    pub rdb_conn: ConnId,
    pub rdb_state: DualRdbState,
    pub rdb_inbuf: Vec<u8>,
    pub bulk: BulkReader,
    pub endoff: i64,
    pub replid: String,
    pub main_state: DualMainState,
    pub main_inbuf: Vec<u8>,
    pub local: VecDeque<Payload>,
    pub local_bytes: u64,
    pub local_peak: u64,
    pub stopped: bool,
    pub rdb_done: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DualRdbState {
    Connecting,
    RecvAuth,
    RecvReplconf,
    RecvEndoff,
    Transfer,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DualMainState {
    WaitEndoff,
    RecvSetIdReply,
    RecvPsyncReply,
    Buffering,
}

/// Everything about our link to a master.
#[derive(Clone, Debug, Default)]
pub(crate) struct Link {
    pub master: Option<(String, u16)>,
    pub state: LinkState,
    pub conn: Option<ConnId>,
    pub out: BTreeMap<ConnId, VecDeque<Payload>>,
    pub inbuf: Vec<u8>,
    pub lastio_ms: u64,
    pub bulk: Option<BulkReader>,
    pub transfer_size_for_load: u64,
    pub eof: bool,
    pub loading: bool,
    pub closed_while_loading: bool,
    pub pending: VecDeque<Payload>,
    pub initial_replid: String,
    pub initial_offset: i64,
    pub mc: Option<MasterClient>,
    pub cached: Option<CachedMaster>,
    /// `repl_down_since` in run ms; `None` = 0 (never had a link, or reset by NO ONE).
    pub down_since_ms: Option<u64>,
    pub last_newline_s: u64,
    pub dual: Option<Dual>,
    /// Total bytes expected while loading (for views).
    pub load_started_ms: u64,
}

impl Link {
    pub fn is_connected(&self) -> bool {
        self.state == LinkState::Connected
    }

    pub fn owns(&self, conn: ConnId) -> bool {
        self.conn == Some(conn) || self.dual.as_ref().is_some_and(|d| d.rdb_conn == conn)
    }

    pub fn out_conn_matches(&self, conn: ConnId) -> bool {
        self.out.contains_key(&conn) || self.owns(conn)
    }

    pub fn take_out(&mut self, conn: ConnId, max: u64) -> Vec<Payload> {
        match self.out.get_mut(&conn) {
            Some(q) => take_front(q, max),
            None => Vec::new(),
        }
    }

    pub fn out_len(&self, conn: ConnId) -> u64 {
        self.out.get(&conn).map_or(0, total_len)
    }

    pub fn conns(&self) -> Vec<ConnId> {
        self.out.keys().copied().collect()
    }
}

impl Instance {
    fn send_to(&mut self, conn: ConnId, bytes: Vec<u8>) {
        push_merged(
            self.link.out.entry(conn).or_default(),
            Payload::Bytes(bytes),
        );
        self.data_ready(conn);
    }

    fn send_cmd(&mut self, conn: ConnId, args: &[&[u8]]) {
        self.send_to(conn, encode_command(args));
    }

    fn forget_link_conn(&mut self, conn: ConnId, emit_close: bool) {
        self.link.out.remove(&conn);
        if emit_close {
            self.emit(Output::Close { conn });
        }
    }

    /// `connectWithMaster`.
    pub(crate) fn connect_with_master(&mut self) {
        let Some((host, port)) = self.link.master.clone() else {
            return;
        };
        let conn = self.alloc_outbound();
        self.link.conn = Some(conn);
        self.link.state = LinkState::Connecting;
        self.link.lastio_ms = self.now;
        self.link.inbuf.clear();
        self.emit(Output::Connect { conn, host, port });
        self.log(Level::Notice, "MASTER <-> REPLICA sync started");
    }

    /// `cancelReplicationHandshake`. Returns whether something was in progress.
    pub(crate) fn cancel_handshake(&mut self, reconnect: bool) -> bool {
        let st = self.link.state;
        if st == LinkState::Transfer || st == LinkState::Connecting || st.in_handshake() {
            self.abort_transfer();
            self.link.state = LinkState::Connect;
        } else {
            return false;
        }
        if reconnect {
            if let Some((h, p)) = self.link.master.clone() {
                self.log(
                    Level::Notice,
                    format!("Reconnecting to MASTER {h}:{p} after failure"),
                );
                self.connect_with_master();
            }
        }
        true
    }

    /// Close the link socket(s) and drop any partial transfer.
    fn abort_transfer(&mut self) {
        if let Some(c) = self.link.conn.take() {
            self.forget_link_conn(c, true);
        }
        if let Some(d) = self.link.dual.take() {
            self.forget_link_conn(d.rdb_conn, true);
        }
        self.link.bulk = None;
        self.link.inbuf.clear();
        self.link.pending.clear();
        self.link.loading = false;
        self.link.closed_while_loading = false;
    }

    /// The handshake's `error:` path: close, state CONNECT, the next cron retries.
    fn handshake_error(&mut self) {
        self.abort_transfer();
        self.link.state = LinkState::Connect;
    }

    pub(crate) fn on_connected(&mut self, conn: ConnId) {
        if self.link.dual.as_ref().is_some_and(|d| d.rdb_conn == conn) {
            self.dual_rdb_connected();
            return;
        }
        if self.link.conn != Some(conn) || self.link.state != LinkState::Connecting {
            return;
        }
        self.log(
            Level::Notice,
            "Non blocking connect for SYNC fired the event.",
        );
        self.link.lastio_ms = self.now;
        self.send_cmd(conn, &[b"PING"]);
        self.link.state = LinkState::RecvPing;
    }

    pub(crate) fn on_connect_failed(&mut self, conn: ConnId, error: &str) {
        if !self.link.owns(conn) {
            return;
        }
        self.log(
            Level::Warning,
            format!("Error condition on socket for SYNC: {error}"),
        );
        self.handshake_error();
    }

    pub(crate) fn on_received(&mut self, conn: ConnId, p: Payload) {
        if self.clients.contains_key(&conn) {
            return; // client bytes come parsed, as Input::Command
        }
        if !self.link.owns(conn) {
            return;
        }
        self.stats.total_net_repl_input_bytes += p.len();
        self.link.lastio_ms = self.now;
        let now = self.now;
        if let Some(mc) = self.link.mc.as_mut() {
            mc.last_interaction_ms = now;
        }
        if self.link.dual.as_ref().is_some_and(|d| d.rdb_conn == conn) {
            self.dual_rdb_received(p);
            return;
        }
        if self.link.loading {
            if self.link.dual.is_some() {
                // Dual channel: the main channel keeps being read into the local buffer
                // while the RDB loads (that is the point of the design).
                self.dual_main_received(p);
            } else {
                push_merged(&mut self.link.pending, p);
            }
            return;
        }
        match self.link.state {
            LinkState::Transfer if self.link.dual.is_some() => self.dual_main_received(p),
            LinkState::Transfer => self.transfer_received(p),
            LinkState::Connected => self.stream_in(p),
            st if st.in_handshake() => match p {
                Payload::Bytes(b) => {
                    self.link.inbuf.extend_from_slice(&b);
                    self.process_handshake();
                }
                Payload::Phantom(_) => {
                    self.log(
                        Level::Warning,
                        "Bad protocol from MASTER during the handshake",
                    );
                    self.handshake_error();
                }
            },
            _ => {}
        }
    }

    fn process_handshake(&mut self) {
        let Some(conn) = self.link.conn else { return };
        while self.link.state.in_handshake() {
            let Some(line) = take_line(&mut self.link.inbuf) else {
                return;
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            match self.link.state {
                LinkState::RecvPing => {
                    if text.starts_with('+')
                        || text.starts_with("-NOAUTH")
                        || text.starts_with("-NOPERM")
                        || text.starts_with("-ERR operation not permitted")
                    {
                        self.log(
                            Level::Notice,
                            "Master replied to PING, replication can continue...",
                        );
                        self.send_handshake(conn);
                    } else {
                        self.log(
                            Level::Warning,
                            format!("Error reply to PING from master: '{text}'"),
                        );
                        self.handshake_error();
                        return;
                    }
                }
                LinkState::RecvAuth => {
                    if text.starts_with('-') {
                        self.log(Level::Warning, format!("Unable to AUTH to MASTER: {text}"));
                        self.handshake_error();
                        return;
                    }
                    self.link.state = LinkState::RecvPort;
                }
                LinkState::RecvPort => {
                    if text.starts_with('-') {
                        self.log(Level::Notice, format!("(Non critical) Master does not understand REPLCONF listening-port: {text}"));
                    }
                    self.link.state = if self.config.replica_announce_ip.is_some() {
                        LinkState::RecvIp
                    } else {
                        LinkState::RecvCapa
                    };
                }
                LinkState::RecvIp => {
                    if text.starts_with('-') {
                        self.log(Level::Notice, format!("(Non critical) Master does not understand REPLCONF ip-address: {text}"));
                    }
                    self.link.state = LinkState::RecvCapa;
                }
                LinkState::RecvCapa => {
                    if text.starts_with('-') {
                        self.log(
                            Level::Notice,
                            format!(
                                "(Non critical) Master does not understand REPLCONF capa: {text}"
                            ),
                        );
                    }
                    self.send_psync(conn);
                }
                LinkState::RecvPsync => {
                    if text.is_empty() {
                        continue; // keepalive while the master delays the fork
                    }
                    self.psync_reply(conn, &text);
                }
                _ => return,
            }
        }
    }

    /// PING answered: AUTH, listening-port, ip-address, capa go out back to back.
    fn send_handshake(&mut self, conn: ConnId) {
        if let Some(pass) = self.config.masterauth.clone() {
            match self.config.masteruser.clone() {
                Some(u) => self.send_cmd(conn, &[b"AUTH", u.as_bytes(), pass.as_bytes()]),
                None => self.send_cmd(conn, &[b"AUTH", pass.as_bytes()]),
            }
        }
        let port = if self.config.replica_announce_port != 0 {
            self.config.replica_announce_port
        } else {
            self.config.port
        };
        let ps = port.to_string();
        self.send_cmd(conn, &[b"REPLCONF", b"listening-port", ps.as_bytes()]);
        if let Some(ip) = self.config.replica_announce_ip.clone() {
            self.send_cmd(conn, &[b"REPLCONF", b"ip-address", ip.as_bytes()]);
        }
        if self.config.dual_channel_replication_enabled {
            self.send_cmd(
                conn,
                &[
                    b"REPLCONF",
                    b"capa",
                    b"eof",
                    b"capa",
                    b"psync2",
                    b"capa",
                    b"dual-channel",
                ],
            );
        } else {
            self.send_cmd(conn, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]);
        }
        self.link.state = if self.config.masterauth.is_some() {
            LinkState::RecvAuth
        } else {
            LinkState::RecvPort
        };
    }

    /// `slaveTryPartialResynchronization`, write half (spec 1.3).
    fn send_psync(&mut self, conn: ConnId) {
        let (id, off) = match self.link.cached.clone() {
            Some(c) => {
                let off = c.reploff + 1;
                self.log(
                    Level::Notice,
                    format!(
                        "Trying a partial resynchronization (request {}:{}).",
                        c.replid, off
                    ),
                );
                (c.replid, off)
            }
            None => {
                self.log(
                    Level::Notice,
                    "Partial resynchronization not possible (no cached master)",
                );
                ("?".to_string(), -1)
            }
        };
        let offs = off.to_string();
        self.send_cmd(conn, &[b"PSYNC", id.as_bytes(), offs.as_bytes()]);
        self.link.state = LinkState::RecvPsync;
    }

    /// `slaveTryPartialResynchronization`, read half.
    fn psync_reply(&mut self, conn: ConnId, text: &str) {
        if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
            let mut it = rest.split_whitespace();
            let id = it.next().unwrap_or("");
            let off = it.next().and_then(|o| o.parse::<i64>().ok());
            match off {
                Some(off) if id.len() == 40 => {
                    self.link.initial_replid = id.to_string();
                    self.link.initial_offset = off;
                    self.log(
                        Level::Notice,
                        format!("Full resync from master: {id}:{off}"),
                    );
                }
                _ => {
                    self.log(
                        Level::Warning,
                        "Master replied with wrong +FULLRESYNC syntax.",
                    );
                    self.link.initial_replid = String::new();
                    self.link.initial_offset = off.unwrap_or(-1);
                }
            }
            self.begin_transfer();
            return;
        }
        if let Some(rest) = text.strip_prefix("+CONTINUE") {
            self.log(
                Level::Notice,
                "Successful partial resynchronization with master.",
            );
            let newid = rest.trim().to_string();
            let Some(cached) = self.link.cached.take() else {
                self.handshake_error();
                return;
            };
            let mut replid = cached.replid.clone();
            if newid.len() == 40 && !newid.eq_ignore_ascii_case(&cached.replid) {
                // Our master was promoted: keep the old history valid via replid2.
                self.replid2 = cached.replid.clone();
                self.second_replid_offset = self.master_repl_offset + 1;
                self.replid = newid.clone();
                replid = newid.clone();
                self.log(
                    Level::Warning,
                    format!("Master replication ID changed to {newid}"),
                );
                self.disconnect_sub_replicas();
            }
            self.link.mc = Some(MasterClient {
                replid,
                reploff: cached.reploff,
                read_reploff: cached.reploff,
                last_interaction_ms: self.now,
                ..Default::default()
            });
            self.link.state = LinkState::Connected;
            self.link.down_since_ms = None;
            self.log(
                Level::Notice,
                "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
            );
            if !self.store.has_backlog() {
                let size = self.config.repl_backlog_size;
                self.store.create_backlog(size, self.master_repl_offset);
            }
            self.mark(
                MarkKind::PartialSyncAccepted,
                None,
                format!("the master continued from offset {}", cached.reploff + 1),
            );
            self.mark(MarkKind::LinkRestored, None, "partial resynchronization");
            let rest = std::mem::take(&mut self.link.inbuf);
            if !rest.is_empty() {
                self.stream_in(Payload::Bytes(rest));
            }
            return;
        }
        if text.starts_with("+DUALCHANNELSYNC") {
            self.begin_dual(conn);
            return;
        }
        if text.starts_with("-NOMASTERLINK") || text.starts_with("-LOADING") {
            self.log(
                Level::Notice,
                format!("Master is currently unable to PSYNC but should be in the future: {text}"),
            );
            self.handshake_error();
            return;
        }
        if text.starts_with("-ERR") {
            self.log(
                Level::Notice,
                format!("Master does not support PSYNC or is in error state (reply: {text})"),
            );
        } else {
            self.log(
                Level::Warning,
                format!("Unexpected reply to PSYNC from master: {text}"),
            );
        }
        self.log(Level::Notice, "Retrying with SYNC...");
        self.send_to(conn, b"SYNC\r\n".to_vec());
        self.link.initial_offset = -1;
        self.link.initial_replid = String::new();
        self.begin_transfer();
    }

    fn begin_transfer(&mut self) {
        self.link.state = LinkState::Transfer;
        let mut b = BulkReader::new();
        let rest = std::mem::take(&mut self.link.inbuf);
        self.link.bulk = Some(BulkReader::new());
        if !rest.is_empty() {
            let mut ev = Vec::new();
            b.feed(Payload::Bytes(rest), &mut ev);
            self.link.bulk = Some(b);
            self.bulk_events(ev);
        }
    }

    fn transfer_received(&mut self, p: Payload) {
        let Some(mut b) = self.link.bulk.take() else {
            return;
        };
        let mut ev = Vec::new();
        b.feed(p, &mut ev);
        self.link.bulk = Some(b);
        self.bulk_events(ev);
    }

    fn bulk_events(&mut self, ev: Vec<BulkEvent>) {
        for e in ev {
            match e {
                BulkEvent::Newline => {}
                BulkEvent::Header { eof, size } => {
                    self.link.eof = eof;
                    if eof {
                        self.log(Level::Notice, format!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {}", self.load_target()));
                    } else {
                        self.log(
                            Level::Notice,
                            format!(
                                "MASTER <-> REPLICA sync: receiving {size} bytes from master to {}",
                                self.load_target()
                            ),
                        );
                    }
                }
                BulkEvent::Data(p) => self.emit(Output::RdbData { payload: p }),
                BulkEvent::MasterError(e) => {
                    self.log(
                        Level::Warning,
                        format!("MASTER aborted replication with an error: {e}"),
                    );
                    self.cancel_handshake(true);
                    return;
                }
                BulkEvent::BadProtocol(x) => {
                    self.log(
                        Level::Warning,
                        format!("Bad protocol from MASTER, the first byte is not '$' (we received '{x}'), are you sure the host and port are right?"),
                    );
                    self.cancel_handshake(true);
                    return;
                }
                BulkEvent::Done { leftover } => {
                    for p in leftover {
                        push_merged(&mut self.link.pending, p);
                    }
                    let size = self.link.bulk.as_ref().map_or(0, |b| b.delivered);
                    let eof = self.link.eof;
                    self.start_load(size, eof);
                    return;
                }
            }
        }
    }

    /// `useDisklessLoad`: `swapdb` parses straight from the socket. (`on-empty-db` depends on
    /// the key count, which only the driver knows; the core words it as a disk load.)
    fn load_target(&self) -> &'static str {
        if self.config.repl_diskless_load == super::config::DisklessLoad::Swapdb {
            "parser"
        } else {
            "disk"
        }
    }

    /// What every load starts with (classic or dual channel): drop the cached master, the
    /// sub-replicas and our backlog (they belong to the old history), then flush and load.
    fn begin_load(&mut self, size: u64) {
        if self.link.cached.take().is_some() {
            self.log(Level::Notice, "Discarding previously cached master state.");
        }
        self.disconnect_sub_replicas();
        self.store.free_backlog();
        self.log(Level::Notice, "MASTER <-> REPLICA sync: Flushing old data");
        self.log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Loading DB in memory",
        );
        self.link.loading = true;
        self.link.load_started_ms = self.now;
        self.link.transfer_size_for_load = size;
        self.link.last_newline_s = self.unixtime();
    }

    /// RDB received: `replicationAttachToNewMaster`, flush, load (the driver does it).
    fn start_load(&mut self, size: u64, eof: bool) {
        self.begin_load(size);
        if let Some(c) = self.link.conn {
            // The load blocks the event loop: the master link is not read meanwhile.
            self.emit(Output::SetReadable {
                conn: c,
                readable: false,
            });
        }
        self.emit(Output::LoadRdb {
            size,
            eof_marked: eof,
        });
    }

    pub(crate) fn on_load_done(&mut self, ok: bool, error: &str, keys: u64) {
        if !self.link.loading {
            return;
        }
        self.link.loading = false;
        if let Some(c) = self.link.conn {
            self.emit(Output::SetReadable {
                conn: c,
                readable: true,
            });
        }
        if !ok {
            self.log(
                Level::Warning,
                format!("Failed trying to load the MASTER synchronization DB from disk: {error}"),
            );
            self.cancel_handshake(true);
            return;
        }
        self.log(Level::Notice, "Loading RDB produced by version 7.0.15");
        let age = self.now.saturating_sub(self.link.load_started_ms) / 1000;
        self.log(Level::Notice, format!("RDB age {age} seconds"));
        let mb = self.link.transfer_size_for_load as f64 / (1024.0 * 1024.0);
        self.log(
            Level::Notice,
            format!("RDB memory usage when created {mb:.2} Mb"),
        );
        self.log(
            Level::Notice,
            format!("Done loading RDB, keys loaded: {keys}, keys expired: 0."),
        );
        // replicationCreateMasterClient + adopt the master's history.
        let (replid, off) = match self.link.dual.as_ref() {
            Some(d) => (d.replid.clone(), d.endoff),
            None => (self.link.initial_replid.clone(), self.link.initial_offset),
        };
        self.link.mc = Some(MasterClient {
            replid: replid.clone(),
            reploff: off,
            read_reploff: off,
            last_interaction_ms: self.now,
            pre_psync: off < 0,
            ..Default::default()
        });
        if !replid.is_empty() {
            self.replid = replid;
        }
        self.master_repl_offset = off.max(0);
        self.replid2 = ZERO_REPLID.to_string();
        self.second_replid_offset = -1;
        if !self.store.has_backlog() {
            let size = self.config.repl_backlog_size;
            self.store.create_backlog(size, self.master_repl_offset);
        }
        self.link.state = LinkState::Connected;
        self.link.down_since_ms = None;
        self.link.bulk = None;
        self.log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Finished with success",
        );
        self.mark(
            MarkKind::FullSyncDone,
            None,
            format!("RDB loaded, streaming from offset {}", off + 1),
        );
        let dual = self.link.dual.take();
        if self.link.eof || dual.is_some() {
            // EOF-marked transfer: this ACK is what starts the master's stream.
            self.send_ack();
        }
        if let Some(mut d) = dual {
            self.forget_link_conn(d.rdb_conn, true);
            let n = d.local_bytes;
            if n > 0 {
                self.log(Level::Notice, format!("MASTER <-> REPLICA sync: Starting to stream replication buffer into the db ({n} bytes)."));
            }
            let local = std::mem::take(&mut d.local);
            for p in local {
                self.stream_in(p);
            }
            if d.stopped {
                if let Some(c) = self.link.conn {
                    self.emit(Output::SetReadable {
                        conn: c,
                        readable: true,
                    });
                }
            }
            let rest = std::mem::take(&mut d.main_inbuf);
            if !rest.is_empty() {
                self.stream_in(Payload::Bytes(rest));
            }
        }
        let pending = std::mem::take(&mut self.link.pending);
        for p in pending {
            if self.link.state == LinkState::Connected {
                self.stream_in(p);
            }
        }
        if self.link.closed_while_loading {
            self.link.closed_while_loading = false;
            self.master_link_lost(false);
        }
    }

    // ------------------------------------------------------------------ the stream

    /// Bytes of the replication stream from the master: apply whole commands, advance the
    /// offsets, relay the applied bytes (byte-identical) to our own backlog and sub-replicas.
    fn stream_in(&mut self, p: Payload) {
        match p {
            Payload::Phantom(n) => {
                if let Some(mc) = self.link.mc.as_mut() {
                    mc.read_reploff += n as i64;
                }
                self.commit_applied(Payload::Phantom(n), false, false);
            }
            Payload::Bytes(b) => {
                self.link.inbuf.extend_from_slice(&b);
                loop {
                    // The master's stream goes through the same request parser as any client,
                    // without the bulk-length limit (Redis exempts its CLIENT_MASTER).
                    let limits = RequestLimits {
                        from_master: true,
                        ..RequestLimits::default()
                    };
                    match parse_request(&self.link.inbuf, &limits) {
                        Ok(Some(parsed)) => {
                            let raw: Vec<u8> = self.link.inbuf.drain(..parsed.consumed()).collect();
                            let argv = match parsed {
                                Parsed::Command { args, .. } => args,
                                Parsed::Empty { .. } => Vec::new(),
                            };
                            self.apply_command(argv, raw);
                            if self.link.state != LinkState::Connected {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(e) => {
                            let text = e.reply_text();
                            let what = text.strip_prefix("Protocol error: ").unwrap_or(&text);
                            self.log(
                                Level::Warning,
                                format!(
                                    "Protocol error ({what}) from client: master. Closing the link."
                                ),
                            );
                            self.link.inbuf.clear();
                            self.master_link_lost(true);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn apply_command(&mut self, argv: Vec<Vec<u8>>, raw: Vec<u8>) {
        let len = raw.len() as i64;
        if let Some(mc) = self.link.mc.as_mut() {
            mc.read_reploff += len;
        }
        let name = argv
            .first()
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
            .unwrap_or_default();
        let is_getack = name == "replconf"
            && argv
                .get(1)
                .is_some_and(|a| a.eq_ignore_ascii_case(b"getack"));
        if is_getack {
            // The ACK carries the offset *before* this GETACK (applied after it executes).
            self.send_ack();
        } else if !argv.is_empty() {
            self.emit(Output::Apply { argv });
        }
        self.commit_applied(Payload::Bytes(raw), name == "multi", name == "exec");
    }

    /// Advance `reploff` (at EXEC for transactions) and relay the applied bytes.
    fn commit_applied(&mut self, p: Payload, is_multi: bool, is_exec: bool) {
        let Some(mc) = self.link.mc.as_mut() else {
            return;
        };
        if mc.in_multi || is_multi {
            mc.in_multi = true;
            mc.multi_buf.push(p);
            if !is_exec {
                return;
            }
            mc.in_multi = false;
            let batch = std::mem::take(&mut mc.multi_buf);
            for b in batch {
                self.commit_one(b);
            }
            return;
        }
        self.commit_one(p);
    }

    fn commit_one(&mut self, p: Payload) {
        if let Some(mc) = self.link.mc.as_mut() {
            mc.reploff += p.len() as i64;
        }
        self.feed_stream(p);
    }

    pub(crate) fn send_ack(&mut self) {
        let (Some(conn), Some(mc)) = (self.link.conn, self.link.mc.as_ref()) else {
            return;
        };
        if mc.pre_psync {
            return;
        }
        let off = mc.reploff.to_string();
        self.send_cmd(conn, &[b"REPLCONF", b"ACK", off.as_bytes()]);
    }

    /// The established link died: cache the master (unless a protocol error) and reconnect.
    fn master_link_lost(&mut self, protocol_error: bool) {
        self.log(Level::Warning, "Connection with master lost.");
        let mc = self.link.mc.take();
        if let Some(c) = self.link.conn.take() {
            self.forget_link_conn(c, true);
        }
        self.link.inbuf.clear();
        if let Some(mc) = mc {
            if !protocol_error {
                self.log(Level::Notice, "Caching the disconnected master state.");
                self.link.cached = Some(CachedMaster {
                    replid: mc.replid,
                    reploff: mc.reploff,
                });
            }
        }
        self.link.state = LinkState::Connect;
        self.link.down_since_ms = Some(self.now);
        self.mark(MarkKind::LinkCut, None, "connection with master lost");
        if let Some((h, p)) = self.link.master.clone() {
            self.log(Level::Notice, format!("Reconnecting to MASTER {h}:{p}"));
            self.connect_with_master();
        }
    }

    pub(crate) fn link_closed(&mut self, conn: ConnId, error: &str) {
        if self.link.dual.as_ref().is_some_and(|d| d.rdb_conn == conn) {
            if self.link.dual.as_ref().is_some_and(|d| d.rdb_done) {
                return;
            }
            self.log(
                Level::Warning,
                format!(
                    "I/O error trying to sync with MASTER: {}",
                    if error.is_empty() {
                        "connection lost"
                    } else {
                        error
                    }
                ),
            );
            self.cancel_handshake(true);
            return;
        }
        self.link.out.remove(&conn);
        match self.link.state {
            LinkState::Connected => {
                self.link.conn = Some(conn);
                self.master_link_lost(false);
            }
            LinkState::Transfer if self.link.loading => {
                // Not noticed until the load ends (nobody reads the socket meanwhile).
                self.link.closed_while_loading = true;
            }
            LinkState::Transfer => {
                let header = self.link.bulk.as_ref().is_some_and(|b| b.header_seen);
                let what = if error.is_empty() {
                    "connection lost".to_string()
                } else {
                    error.to_string()
                };
                if header {
                    self.log(
                        Level::Warning,
                        format!("I/O error trying to sync with MASTER: {what}"),
                    );
                } else {
                    // The line reader reports errno, which is 0 on a clean close: Redis then
                    // prints strerror(0), "Success" (observed in the COB full-sync loop).
                    let clean = error.is_empty()
                        || error.eq_ignore_ascii_case("connection lost")
                        || error.eq_ignore_ascii_case("eof");
                    let errno_text = if clean { "Success".to_string() } else { what };
                    self.log(
                        Level::Warning,
                        format!("I/O error reading bulk count from MASTER: {errno_text}"),
                    );
                }
                self.link.conn = None;
                self.cancel_handshake(true);
            }
            LinkState::Connecting => {
                self.link.conn = None;
                self.log(
                    Level::Warning,
                    format!("Error condition on socket for SYNC: {error}"),
                );
                self.handshake_error();
            }
            st if st.in_handshake() => {
                self.link.conn = None;
                if st == LinkState::RecvPsync {
                    self.log(
                        Level::Warning,
                        "Master did not reply to PSYNC, will try later",
                    );
                } else {
                    self.log(
                        Level::Warning,
                        "Master did not respond to command during SYNC handshake",
                    );
                }
                self.handshake_error();
            }
            _ => {}
        }
    }

    fn disconnect_sub_replicas(&mut self) {
        for c in self.replicas.clone() {
            self.drop_client(c, true);
        }
    }

    /// While loading, only the loading callback runs: a `\n` at most once per second keeps
    /// the master's `repl_ack_time` fresh.
    pub(crate) fn replica_loading_newline(&mut self) {
        let ut = self.unixtime();
        if ut > self.link.last_newline_s {
            self.link.last_newline_s = ut;
            if let Some(c) = self.link.conn {
                if !self.link.closed_while_loading {
                    self.send_to(c, b"\n".to_vec());
                }
            }
        }
    }

    /// The replica part of `replicationCron` (spec 5.5).
    pub(crate) fn replica_cron(&mut self) {
        if self.link.master.is_none() {
            return;
        }
        let ut = self.unixtime();
        let to = self.config.repl_timeout;
        let lastio = self.unixtime_of(self.link.lastio_ms);
        let st = self.link.state;
        if (st == LinkState::Connecting || st.in_handshake()) && ut.saturating_sub(lastio) > to {
            self.log(Level::Warning, "Timeout connecting to the MASTER...");
            self.mark(
                MarkKind::Timeout,
                None,
                format!("no handshake progress for more than repl-timeout {to} s"),
            );
            self.cancel_handshake(true);
        }
        if self.link.state == LinkState::Transfer && ut.saturating_sub(lastio) > to {
            self.log(Level::Warning, "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            self.mark(
                MarkKind::Timeout,
                None,
                format!("no RDB bytes for more than repl-timeout {to} s"),
            );
            self.cancel_handshake(true);
        }
        if self.link.state == LinkState::Connected {
            let li = self
                .link
                .mc
                .as_ref()
                .map_or(0, |m| self.unixtime_of(m.last_interaction_ms));
            if ut.saturating_sub(li) > to {
                self.log(
                    Level::Warning,
                    "MASTER timeout: no data nor PING received...",
                );
                self.mark(
                    MarkKind::Timeout,
                    None,
                    format!("no data nor PING from the master for more than repl-timeout {to} s"),
                );
                self.master_link_lost(false);
            }
        }
        if self.link.state == LinkState::Connect {
            if let Some((h, p)) = self.link.master.clone() {
                self.log(Level::Notice, format!("Connecting to MASTER {h}:{p}"));
                self.connect_with_master();
            }
        }
        if self.link.state == LinkState::Connected {
            self.send_ack();
        }
    }

    // ------------------------------------------------------------------ REPLICAOF

    pub(crate) fn cmd_replicaof(&mut self, conn: ConnId, args: &[String]) {
        if args.len() != 3 {
            self.reply_error(
                conn,
                &format!(
                    "ERR wrong number of arguments for '{}' command",
                    args[0].to_ascii_lowercase()
                ),
            );
            return;
        }
        if self.clients.get(&conn).is_some_and(|c| c.replica.is_some()) {
            self.reply_error(conn, "ERR Command is not valid when client is a replica.");
            return;
        }
        let info = self.client_info_string(conn);
        if args[1].eq_ignore_ascii_case("no") && args[2].eq_ignore_ascii_case("one") {
            if self.link.master.is_some() {
                self.replication_unset_master();
                self.log(
                    Level::Notice,
                    format!("MASTER MODE enabled (user request from '{info}')"),
                );
            }
            self.reply_str(conn, "+OK\r\n");
            return;
        }
        let Ok(port) = args[2].parse::<u16>() else {
            self.reply_error(conn, "ERR value is not an integer or out of range");
            return;
        };
        let host = args[1].clone();
        if self
            .link
            .master
            .as_ref()
            .is_some_and(|(h, p)| h.eq_ignore_ascii_case(&host) && *p == port)
        {
            self.log(Level::Notice, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            self.reply_str(conn, "+OK Already connected to specified master\r\n");
            return;
        }
        self.replication_set_master(&host, port);
        self.log(
            Level::Notice,
            format!("REPLICAOF {host}:{port} enabled (user request from '{info}')"),
        );
        self.reply_str(conn, "+OK\r\n");
    }

    /// Make this node a replica of `host:port` (what `REPLICAOF host port` does).
    pub fn replicaof(&mut self, now: u64, target: Option<(&str, u16)>) {
        self.handle(now, super::Input::Tick);
        match target {
            Some((h, p)) => {
                if self
                    .link
                    .master
                    .as_ref()
                    .is_some_and(|(mh, mp)| mh == h && *mp == p)
                {
                    return;
                }
                self.replication_set_master(h, p);
                self.log(Level::Notice, format!("REPLICAOF {h}:{p} enabled (user request from 'id=0 addr=driver cmd=replicaof')"));
            }
            None => {
                if self.link.master.is_some() {
                    self.replication_unset_master();
                    self.log(
                        Level::Notice,
                        "MASTER MODE enabled (user request from 'id=0 addr=driver cmd=replicaof')",
                    );
                }
            }
        }
        self.before_sleep();
    }

    /// `replicationSetMaster`.
    fn replication_set_master(&mut self, host: &str, port: u16) {
        let was_master = self.link.master.is_none();
        if self.link.mc.is_some() {
            // Free the current master client: it is cached, we may PSYNC the new master.
            self.log(Level::Warning, "Connection with master lost.");
            let mc = self.link.mc.take();
            if let Some(c) = self.link.conn.take() {
                self.forget_link_conn(c, true);
            }
            if let Some(mc) = mc {
                self.log(Level::Notice, "Caching the disconnected master state.");
                self.link.cached = Some(CachedMaster {
                    replid: mc.replid,
                    reploff: mc.reploff,
                });
            }
            self.link.down_since_ms = Some(self.now);
            self.link.state = LinkState::Connect;
        }
        self.link.master = Some((host.to_string(), port));
        self.cancel_handshake(false);
        if was_master {
            if self.link.cached.take().is_some() {
                self.log(Level::Notice, "Discarding previously cached master state.");
            }
            // replicationCacheMasterUsingMyself: our own history may be a prefix of theirs.
            self.log(Level::Notice, "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
            self.link.cached = Some(CachedMaster {
                replid: self.replid.clone(),
                reploff: self.master_repl_offset,
            });
            // WAIT is meaningless on a replica.
            for w in std::mem::take(&mut self.waiters) {
                self.reply_error(w.conn, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
            }
        }
        self.link.state = LinkState::Connect;
        self.log(Level::Notice, format!("Connecting to MASTER {host}:{port}"));
        self.connect_with_master();
    }

    /// `replicationUnsetMaster` (REPLICAOF NO ONE): promotion.
    fn replication_unset_master(&mut self) {
        if self.link.master.is_none() {
            return;
        }
        self.link.master = None; // the role char is 'M' from here on
        if let Some(mc) = self.link.mc.take() {
            self.log(Level::Warning, "Connection with master lost.");
            self.log(Level::Notice, "Caching the disconnected master state.");
            self.link.cached = Some(CachedMaster {
                replid: mc.replid,
                reploff: mc.reploff,
            });
            if let Some(c) = self.link.conn.take() {
                self.forget_link_conn(c, true);
            }
        }
        if self.link.cached.take().is_some() {
            self.log(Level::Notice, "Discarding previously cached master state.");
        }
        self.cancel_handshake(false);
        self.abort_transfer();
        self.shift_replid();
        self.disconnect_sub_replicas();
        self.slaveseldb = -1;
        self.repl_no_slaves_since_s = self.unixtime();
        self.link.down_since_ms = None;
        self.link.state = LinkState::None;
        let cause = format!(
            "REPLICAOF NO ONE: history {} stays valid up to offset {}",
            self.replid2, self.second_replid_offset
        );
        self.mark(MarkKind::Promotion, None, cause);
    }

    // ------------------------------------------------------------------ dual channel

    fn begin_dual(&mut self, _main: ConnId) {
        self.log(
            Level::Notice,
            "PSYNC is not possible, initialize RDB channel.",
        );
        let Some((host, port)) = self.link.master.clone() else {
            return;
        };
        let rdb_conn = self.alloc_outbound();
        self.link.state = LinkState::Transfer;
        self.link.dual = Some(Dual {
            rdb_conn,
            rdb_state: DualRdbState::Connecting,
            rdb_inbuf: Vec::new(),
            bulk: BulkReader::new(),
            endoff: -1,
            replid: String::new(),
            main_state: DualMainState::WaitEndoff,
            main_inbuf: std::mem::take(&mut self.link.inbuf),
            local: VecDeque::new(),
            local_bytes: 0,
            local_peak: 0,
            stopped: false,
            rdb_done: false,
        });
        self.emit(Output::Connect {
            conn: rdb_conn,
            host,
            port,
        });
    }

    fn dual_rdb_connected(&mut self) {
        let Some(d) = self.link.dual.as_ref() else {
            return;
        };
        let rc = d.rdb_conn;
        if let Some(pass) = self.config.masterauth.clone() {
            self.send_cmd(rc, &[b"AUTH", pass.as_bytes()]);
        }
        let port = self.config.port.to_string();
        self.send_cmd(
            rc,
            &[
                b"REPLCONF",
                b"capa",
                b"eof",
                b"rdb-only",
                b"1",
                b"rdb-channel",
                b"1",
                b"listening-port",
                port.as_bytes(),
            ],
        );
        let auth = self.config.masterauth.is_some();
        if let Some(d) = self.link.dual.as_mut() {
            d.rdb_state = if auth {
                DualRdbState::RecvAuth
            } else {
                DualRdbState::RecvReplconf
            };
        }
    }

    fn dual_fail(&mut self, why: &str) {
        self.log(Level::Warning, why.to_string());
        self.cancel_handshake(true);
    }

    fn dual_rdb_received(&mut self, p: Payload) {
        let Some(mut d) = self.link.dual.take() else {
            return;
        };
        if d.rdb_state == DualRdbState::Transfer {
            let mut ev = Vec::new();
            d.bulk.feed(p, &mut ev);
            self.link.dual = Some(d);
            self.dual_bulk_events(ev);
            return;
        }
        let Payload::Bytes(b) = p else {
            self.link.dual = Some(d);
            self.dual_fail("Bad protocol from MASTER on the RDB channel");
            return;
        };
        d.rdb_inbuf.extend_from_slice(&b);
        let rc = d.rdb_conn;
        loop {
            if d.rdb_state == DualRdbState::Transfer {
                let rest = std::mem::take(&mut d.rdb_inbuf);
                let mut ev = Vec::new();
                if !rest.is_empty() {
                    d.bulk.feed(Payload::Bytes(rest), &mut ev);
                }
                self.link.dual = Some(d);
                self.dual_bulk_events(ev);
                return;
            }
            let Some(line) = take_line(&mut d.rdb_inbuf) else {
                break;
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            match d.rdb_state {
                DualRdbState::RecvAuth => {
                    if text.starts_with('-') {
                        self.link.dual = Some(d);
                        self.dual_fail(&format!("Unable to AUTH to MASTER: {text}"));
                        return;
                    }
                    d.rdb_state = DualRdbState::RecvReplconf;
                }
                DualRdbState::RecvReplconf => {
                    if text.starts_with('-') {
                        self.link.dual = Some(d);
                        self.dual_fail(&format!(
                            "Master does not understand REPLCONF on the RDB channel: {text}"
                        ));
                        return;
                    }
                    push_merged(
                        self.link.out.entry(rc).or_default(),
                        Payload::Bytes(encode_command(&[b"SYNC"])),
                    );
                    self.data_ready(rc);
                    d.rdb_state = DualRdbState::RecvEndoff;
                }
                DualRdbState::RecvEndoff => {
                    if text.is_empty() {
                        continue;
                    }
                    let Some(rest) = text.strip_prefix("$ENDOFF:") else {
                        self.link.dual = Some(d);
                        self.dual_fail(&format!("Unexpected reply on the RDB channel: {text}"));
                        return;
                    };
                    let parts: Vec<&str> = rest.split_whitespace().collect();
                    let (Some(off), Some(id), Some(cid)) = (
                        parts.first().and_then(|s| s.parse::<i64>().ok()),
                        parts.get(1),
                        parts.get(3),
                    ) else {
                        self.link.dual = Some(d);
                        self.dual_fail(&format!("Bad $ENDOFF line from MASTER: {text}"));
                        return;
                    };
                    d.endoff = off;
                    d.replid = id.to_string();
                    d.rdb_state = DualRdbState::Transfer;
                    d.main_state = DualMainState::RecvSetIdReply;
                    let cid = cid.to_string();
                    self.log(Level::Notice, format!("Received the end offset {off} of the RDB from the master, replid {id}, client-id {cid}"));
                    if let Some(main) = self.link.conn {
                        self.send_cmd(main, &[b"REPLCONF", b"set-rdb-client-id", cid.as_bytes()]);
                    }
                }
                _ => {}
            }
        }
        self.link.dual = Some(d);
    }

    fn dual_bulk_events(&mut self, ev: Vec<BulkEvent>) {
        for e in ev {
            match e {
                BulkEvent::Newline => {}
                BulkEvent::Header { .. } => {
                    self.link.eof = true;
                    self.log(Level::Notice, format!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {}", self.load_target()));
                }
                BulkEvent::Data(p) => self.emit(Output::RdbData { payload: p }),
                BulkEvent::MasterError(e) => return self.dual_fail(&format!("MASTER aborted replication with an error: {e}")),
                BulkEvent::BadProtocol(x) => return self.dual_fail(&format!("Bad protocol from MASTER, the first byte is not '$' (we received '{x}'), are you sure the host and port are right?")),
                BulkEvent::Done { .. } => {
                    let size = self.link.dual.as_ref().map_or(0, |d| d.bulk.delivered);
                    if let Some(d) = self.link.dual.as_mut() {
                        d.rdb_done = true;
                        d.rdb_state = DualRdbState::Done;
                    }
                    self.start_load_dual(size);
                    return;
                }
            }
        }
    }

    fn start_load_dual(&mut self, size: u64) {
        self.begin_load(size);
        self.emit(Output::LoadRdb {
            size,
            eof_marked: true,
        });
    }

    /// Main channel during a dual-channel sync: the second PSYNC, then local buffering.
    fn dual_main_received(&mut self, p: Payload) {
        let Some(main) = self.link.conn else { return };
        let Some(mut d) = self.link.dual.take() else {
            return;
        };
        if d.main_state == DualMainState::Buffering {
            let n = p.len();
            push_merged(&mut d.local, p);
            d.local_bytes += n;
            d.local_peak = d.local_peak.max(d.local_bytes);
            let limit = self.config.client_output_buffer_limit_replica.hard;
            if limit != 0 && d.local_bytes >= limit && !d.stopped {
                d.stopped = true;
                self.log(
                    Level::Warning,
                    "Replication buffer limit reached, stopping buffering.",
                );
                self.emit(Output::SetReadable {
                    conn: main,
                    readable: false,
                });
            }
            self.link.dual = Some(d);
            return;
        }
        let Payload::Bytes(b) = p else {
            self.link.dual = Some(d);
            return self.dual_fail("Bad protocol from MASTER on the main channel");
        };
        d.main_inbuf.extend_from_slice(&b);
        loop {
            if d.main_state == DualMainState::Buffering {
                let rest = std::mem::take(&mut d.main_inbuf);
                self.link.dual = Some(d);
                if !rest.is_empty() {
                    self.dual_main_received(Payload::Bytes(rest));
                }
                return;
            }
            let Some(line) = take_line(&mut d.main_inbuf) else {
                break;
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            if text.is_empty() {
                continue;
            }
            match d.main_state {
                DualMainState::RecvSetIdReply => {
                    if text.starts_with('-') {
                        self.link.dual = Some(d);
                        return self.dual_fail(&format!(
                            "Master rejected REPLCONF set-rdb-client-id: {text}"
                        ));
                    }
                    let off = (d.endoff + 1).to_string();
                    self.log(Level::Notice, format!("Trying a partial resynchronization using main channel (request {}:{}).", d.replid, off));
                    let id = d.replid.clone();
                    self.send_cmd(main, &[b"PSYNC", id.as_bytes(), off.as_bytes()]);
                    d.main_state = DualMainState::RecvPsyncReply;
                }
                DualMainState::RecvPsyncReply => {
                    if text.starts_with("+CONTINUE") {
                        self.log(
                            Level::Notice,
                            "Successful partial resynchronization with master.",
                        );
                        d.main_state = DualMainState::Buffering;
                    } else {
                        self.link.dual = Some(d);
                        return self.dual_fail(&format!(
                            "Unexpected reply to PSYNC on the main channel: {text}"
                        ));
                    }
                }
                _ => {}
            }
        }
        self.link.dual = Some(d);
    }
}
