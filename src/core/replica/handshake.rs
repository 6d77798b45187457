//! The replica's handshake (`syncWithMaster`): PING, then AUTH, REPLCONF listening-port,
//! ip-address and capa back to back, each reply read in turn, then PSYNC
//! (`slaveTryPartialResynchronization`) and what its reply starts.
//!
//! Why it goes step by step: the master refuses `PSYNC` while replies to the client are still
//! queued ("SYNC and PSYNC are invalid with pending output", because from then on the
//! client's buffer holds the stream), so the replica must have read every earlier reply
//! first. Only the steps whose failure ends the attempt are errors (a bad PING reply, a
//! refused AUTH, a bad PSYNC reply); an older master that does not know a REPLCONF option
//! is told nothing it needs and the handshake goes on.

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::master::MasterSide;
use super::super::payload::Payload;
use super::super::status::MarkKind;
use super::super::version::FullSync;
use super::super::ConnId;
use super::stream::MasterClient;
use super::transfer::FullResync;
use super::{LinkState, ReplicaLink};
use crate::wire::take_line;

/// The reply a handshake step waits for (`REPL_STATE_RECEIVE_*_REPLY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Ping,
    Auth,
    Port,
    Ip,
    Capa,
    /// Valkey: `REPLCONF version <v>` (a Redis master answers `-ERR`, harmless).
    Version,
    Psync,
}

/// `REPL_STATE_RECEIVE_*`: the connection, the step, and reply bytes not yet read as lines.
#[derive(Clone, Debug)]
pub(super) struct Handshake {
    pub conn: ConnId,
    step: Step,
    pub inbuf: Vec<u8>,
}

impl Handshake {
    /// PING was sent.
    pub fn new(conn: ConnId) -> Handshake {
        Handshake {
            conn,
            step: Step::Ping,
            inbuf: Vec::new(),
        }
    }

    pub fn waits_for_psync_reply(&self) -> bool {
        self.step == Step::Psync
    }
}

impl ReplicaLink {
    fn set_step(&mut self, step: Step) {
        if let LinkState::Handshake(h) = &mut self.state {
            h.step = step;
        }
    }

    /// Read the replies that arrived, one line each, for as long as the handshake lasts.
    pub(super) fn process_handshake(&mut self, ctx: &mut Ctx, master: &mut MasterSide) {
        loop {
            let LinkState::Handshake(h) = &mut self.state else {
                return;
            };
            let Some(line) = take_line(&mut h.inbuf) else {
                return;
            };
            let (conn, step) = (h.conn, h.step);
            let text = String::from_utf8_lossy(&line).into_owned();
            match step {
                Step::Ping => {
                    // PING first proves the master is alive and speaking RESP before we send
                    // it anything that matters. An auth error still proves that: AUTH comes
                    // next.
                    if text.starts_with('+')
                        || text.starts_with("-NOAUTH")
                        || text.starts_with("-NOPERM")
                        || text.starts_with("-ERR operation not permitted")
                    {
                        let w = ctx.config.version.wording();
                        ctx.log_r(
                            Level::Notice,
                            format!(
                                "{} replied to PING, replication can continue...",
                                w.master_title
                            ),
                        );
                        self.send_handshake(ctx, conn);
                    } else {
                        ctx.log_r(
                            Level::Warning,
                            format!("Error reply to PING from master: '{text}'"),
                        );
                        self.handshake_error(ctx);
                        return;
                    }
                }
                Step::Auth => {
                    if text.starts_with('-') {
                        let m = ctx.config.version.wording().master_upper;
                        ctx.log_r(Level::Warning, format!("Unable to AUTH to {m}: {text}"));
                        self.handshake_error(ctx);
                        return;
                    }
                    self.set_step(Step::Port);
                }
                // Older masters do not know every REPLCONF option: not an error.
                Step::Port => {
                    if text.starts_with('-') {
                        ctx.log_r(Level::Notice, format!("(Non critical) Master does not understand REPLCONF listening-port: {text}"));
                    }
                    let next = if ctx.config.replica_announce_ip.is_some() {
                        Step::Ip
                    } else {
                        Step::Capa
                    };
                    self.set_step(next);
                }
                Step::Ip => {
                    if text.starts_with('-') {
                        ctx.log_r(Level::Notice, format!("(Non critical) Master does not understand REPLCONF ip-address: {text}"));
                    }
                    self.set_step(Step::Capa);
                }
                Step::Capa => {
                    if text.starts_with('-') {
                        ctx.log_r(
                            Level::Notice,
                            format!(
                                "(Non critical) Master does not understand REPLCONF capa: {text}"
                            ),
                        );
                    }
                    if ctx.config.version.sends_replconf_version() {
                        // Valkey's `syncWithPrimary` tells its version, so a 9.x primary
                        // can send it the newer RDB format.
                        let v = ctx.config.version.release().as_bytes();
                        self.out.send_cmd(ctx, conn, &[b"REPLCONF", b"version", v]);
                        self.set_step(Step::Version);
                    } else {
                        self.send_psync(ctx, conn);
                    }
                }
                Step::Version => {
                    if text.starts_with('-') {
                        ctx.log_r(
                            Level::Notice,
                            format!("(Non critical) Primary does not understand REPLCONF VERSION: {text}"),
                        );
                    }
                    self.send_psync(ctx, conn);
                }
                Step::Psync => {
                    if text.is_empty() {
                        continue; // keepalive while the master delays the fork
                    }
                    self.psync_reply(ctx, master, conn, &text);
                }
            }
        }
    }

    /// PING answered: AUTH, listening-port, ip-address and capa go out back to back (their
    /// replies are read in order). The master only sees the replica's ephemeral port, so
    /// `listening-port` (and `ip-address` behind NAT) is how it can name the replica in logs,
    /// INFO and ROLE, and how a failover tool can reach it.
    fn send_handshake(&mut self, ctx: &mut Ctx, conn: ConnId) {
        let cfg = &ctx.config;
        let auth = cfg
            .masterauth
            .clone()
            .map(|pass| (cfg.masteruser.clone(), pass));
        let port = if cfg.replica_announce_port != 0 {
            cfg.replica_announce_port
        } else {
            cfg.port
        }
        .to_string();
        let announce_ip = cfg.replica_announce_ip.clone();
        let full_sync = cfg.second_channel();
        match &auth {
            Some((Some(user), pass)) => {
                self.out
                    .send_cmd(ctx, conn, &[b"AUTH", user.as_bytes(), pass.as_bytes()])
            }
            Some((None, pass)) => self.out.send_cmd(ctx, conn, &[b"AUTH", pass.as_bytes()]),
            None => {}
        }
        self.out.send_cmd(
            ctx,
            conn,
            &[b"REPLCONF", b"listening-port", port.as_bytes()],
        );
        if let Some(ip) = announce_ip {
            self.out
                .send_cmd(ctx, conn, &[b"REPLCONF", b"ip-address", ip.as_bytes()]);
        }
        // EOF: we can take a diskless RDB; PSYNC2: we understand `+CONTINUE <replid>`; a
        // second channel for the RDB if enabled (`syncWithMaster`: `capa rdb-channel-repl` on
        // 8.2, `capa dual-channel` on Valkey).
        let mut capa: Vec<&[u8]> = vec![b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"];
        match full_sync {
            FullSync::Classic => {}
            FullSync::DualChannel => capa.extend([&b"capa"[..], b"dual-channel"]),
            FullSync::RdbChannel => capa.extend([&b"capa"[..], b"rdb-channel-repl"]),
        }
        self.out.send_cmd(ctx, conn, &capa);
        self.set_step(if auth.is_some() {
            Step::Auth
        } else {
            Step::Port
        });
    }

    /// `slaveTryPartialResynchronization`, write half: with a cached master, ask to continue
    /// from the first byte we lack; without one, `PSYNC ? -1` asks for a full sync (and
    /// learns the master's id and offset for next time).
    fn send_psync(&mut self, ctx: &mut Ctx, conn: ConnId) {
        let (id, off) = match &self.cached {
            Some(c) => {
                let off = c.reploff + 1;
                ctx.log_r(
                    Level::Notice,
                    format!(
                        "Trying a partial resynchronization (request {}:{}).",
                        c.replid, off
                    ),
                );
                (c.replid.clone(), off)
            }
            None => {
                ctx.log_r(
                    Level::Notice,
                    "Partial resynchronization not possible (no cached master)",
                );
                ("?".to_string(), -1)
            }
        };
        let offs = off.to_string();
        self.out
            .send_cmd(ctx, conn, &[b"PSYNC", id.as_bytes(), offs.as_bytes()]);
        self.set_step(Step::Psync);
    }

    /// Reply bytes after the PSYNC reply line (the start of the RDB or of the stream).
    pub(super) fn take_handshake_inbuf(&mut self) -> Vec<u8> {
        match &mut self.state {
            LinkState::Handshake(h) => std::mem::take(&mut h.inbuf),
            _ => Vec::new(),
        }
    }

    /// `slaveTryPartialResynchronization`, read half.
    fn psync_reply(&mut self, ctx: &mut Ctx, master: &mut MasterSide, conn: ConnId, text: &str) {
        if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
            let mut it = rest.split_whitespace();
            let id = it.next().unwrap_or("");
            let off = it.next().and_then(|o| o.parse::<i64>().ok());
            let resync = match off {
                Some(off) if id.len() == 40 => {
                    ctx.log_r(
                        Level::Notice,
                        format!("Full resync from master: {id}:{off}"),
                    );
                    FullResync {
                        replid: id.to_string(),
                        offset: off,
                    }
                }
                _ => {
                    ctx.log_r(
                        Level::Warning,
                        "Master replied with wrong +FULLRESYNC syntax.",
                    );
                    FullResync {
                        replid: String::new(),
                        offset: off.unwrap_or(-1),
                    }
                }
            };
            if ctx.config.version.discards_cached_master_at_fullresync() && self.cached.is_some() {
                // 6.2's `slaveTryPartialResynchronization` drops the cached master as soon as
                // the master answers +FULLRESYNC, so a full sync cut mid-transfer retries with
                // `PSYNC ? -1`. 7.0 keeps it until the new data is applied
                // (`replicationAttachToNewMaster`) and retries its old replid and offset.
                self.cached = None;
                ctx.log_r(Level::Notice, "Discarding previously cached master state.");
            }
            self.begin_transfer(ctx, master, conn, resync);
            return;
        }
        if let Some(rest) = text.strip_prefix("+CONTINUE") {
            self.continue_partial(ctx, master, conn, rest.trim());
            return;
        }
        if text.starts_with("+DUALCHANNELSYNC") {
            let inbuf = self.take_handshake_inbuf();
            self.begin_dual(ctx, conn, inbuf, None);
            return;
        }
        if let Some(cid) = text.strip_prefix("+RDBCHANNELSYNC") {
            // 8.2: the master's id for this connection, which the RDB channel names.
            let cid = cid.trim().parse::<u64>().unwrap_or(0);
            let inbuf = self.take_handshake_inbuf();
            self.begin_dual(ctx, conn, inbuf, Some(cid));
            return;
        }
        // A master that is itself a replica without a link, or that is loading, can serve us
        // later: keep the cached master and try again on the next cron.
        if text.starts_with("-NOMASTERLINK") || text.starts_with("-LOADING") {
            ctx.log_r(
                Level::Notice,
                format!("Master is currently unable to PSYNC but should be in the future: {text}"),
            );
            self.handshake_error(ctx);
            return;
        }
        if text.starts_with("-ERR") {
            ctx.log_r(
                Level::Notice,
                format!("Master does not support PSYNC or is in error state (reply: {text})"),
            );
        } else {
            ctx.log_r(
                Level::Warning,
                format!("Unexpected reply to PSYNC from master: {text}"),
            );
        }
        // A master without PSYNC: the old SYNC, with no id or offset to continue from later.
        ctx.log_r(Level::Notice, "Retrying with SYNC...");
        self.out.send(ctx, conn, b"SYNC\r\n".to_vec());
        let resync = FullResync {
            replid: String::new(),
            offset: -1,
        };
        self.begin_transfer(ctx, master, conn, resync);
    }

    /// `+CONTINUE [<replid>]`: the master continues from our cached offset. A new id means
    /// our master was itself promoted: our history up to now stays valid under the old id
    /// (`replid2`), and sub-replicas must reconnect to learn the new one.
    fn continue_partial(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        conn: ConnId,
        newid: &str,
    ) {
        ctx.log_r(
            Level::Notice,
            "Successful partial resynchronization with master.",
        );
        let Some(cached) = self.cached.take() else {
            self.handshake_error(ctx);
            return;
        };
        let mut replid = cached.replid.clone();
        if newid.len() == 40 && !newid.eq_ignore_ascii_case(&cached.replid) {
            ctx.hist
                .follow_new_id(cached.replid.clone(), newid.to_string(), master.offset());
            replid = newid.to_string();
            ctx.log_r(
                Level::Warning,
                format!("Master replication ID changed to {newid}"),
            );
            master.disconnect_replicas(ctx);
        }
        let rest = self.take_handshake_inbuf();
        self.state = LinkState::Online(MasterClient::new(
            conn,
            replid,
            cached.reploff,
            ctx.now(),
            false,
        ));
        self.down_since_ms = None;
        ctx.log_r(
            Level::Notice,
            "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
        );
        master.ensure_backlog();
        ctx.mark(
            MarkKind::PartialSyncAccepted,
            None,
            None,
            format!("the master continued from offset {}", cached.reploff + 1),
        );
        ctx.mark(
            MarkKind::LinkRestored,
            None,
            None,
            "partial resynchronization",
        );
        if !rest.is_empty() {
            self.stream_in(ctx, master, Payload::Bytes(rest));
        }
    }
}
