//! The replica applying its master's stream: whole commands go to the driver, the offsets
//! advance, the applied bytes are relayed byte-identical to our own backlog and
//! sub-replicas; ACKs; losing the link (the master client is cached for the next PSYNC).

use super::super::ctx::Ctx;
use super::super::log::Level;
use super::super::master::MasterSide;
use super::super::payload::Payload;
use super::super::status::MarkKind;
use super::super::{ConnId, Output};
use super::{CachedMaster, LinkState, ReplicaLink};
use crate::wire::{parse_request, Parsed, RequestLimits};

/// `server.master`: the link once synchronised.
#[derive(Clone, Debug)]
pub(super) struct MasterClient {
    pub conn: ConnId,
    pub replid: String,
    /// `reploff`: bytes of whole commands applied.
    pub reploff: i64,
    /// `read_reploff`: bytes read from the socket.
    pub read_reploff: i64,
    pub last_interaction_ms: u64,
    /// Synced with the old SYNC: never sends ACKs.
    pub pre_psync: bool,
    /// Inside MULTI: the offset moves at EXEC, with the whole transaction.
    in_multi: bool,
    multi_buf: Vec<Payload>,
    /// Stream bytes not yet a whole command.
    querybuf: Vec<u8>,
}

impl MasterClient {
    pub fn new(conn: ConnId, replid: String, reploff: i64, now: u64, pre_psync: bool) -> Self {
        MasterClient {
            conn,
            replid,
            reploff,
            read_reploff: reploff,
            last_interaction_ms: now,
            pre_psync,
            in_multi: false,
            multi_buf: Vec::new(),
            querybuf: Vec::new(),
        }
    }
}

impl ReplicaLink {
    /// Bytes of the replication stream from the master.
    pub(super) fn stream_in(&mut self, ctx: &mut Ctx, master: &mut MasterSide, p: Payload) {
        let LinkState::Online(mc) = &mut self.state else {
            return;
        };
        let b = match p {
            Payload::Phantom(n) => {
                // Counted bytes (the simulator's writes): nothing to execute.
                mc.read_reploff += n as i64;
                self.commit_applied(ctx, master, Payload::Phantom(n), false, false);
                return;
            }
            Payload::Bytes(b) => b,
        };
        mc.querybuf.extend_from_slice(&b);
        // The master's stream goes through the same request parser as any client, without
        // the bulk-length limit (Redis exempts its CLIENT_MASTER).
        let limits = RequestLimits {
            from_master: true,
            ..RequestLimits::default()
        };
        loop {
            let LinkState::Online(mc) = &mut self.state else {
                return;
            };
            match parse_request(&mc.querybuf, &limits) {
                Ok(Some(parsed)) => {
                    let raw: Vec<u8> = mc.querybuf.drain(..parsed.consumed()).collect();
                    let argv = match parsed {
                        Parsed::Command { args, .. } => args,
                        Parsed::Empty { .. } => Vec::new(),
                    };
                    self.apply_command(ctx, master, argv, raw);
                }
                Ok(None) => return,
                Err(e) => {
                    let text = e.reply_text();
                    let what = text.strip_prefix("Protocol error: ").unwrap_or(&text);
                    ctx.log_r(
                        Level::Warning,
                        format!("Protocol error ({what}) from client: master. Closing the link."),
                    );
                    mc.querybuf.clear();
                    // A protocol error means our copy may be corrupt: no cached master.
                    self.master_link_lost(ctx, true);
                    return;
                }
            }
        }
    }

    fn apply_command(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        argv: Vec<Vec<u8>>,
        raw: Vec<u8>,
    ) {
        if let LinkState::Online(mc) = &mut self.state {
            mc.read_reploff += raw.len() as i64;
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
            // The ACK carries the offset *before* this GETACK (it counts once executed).
            self.send_ack(ctx);
        } else if !argv.is_empty() {
            ctx.emit(Output::Apply { argv });
        }
        self.commit_applied(
            ctx,
            master,
            Payload::Bytes(raw),
            name == "multi",
            name == "exec",
        );
    }

    /// Advance `reploff` (at EXEC for a transaction: a replica never exposes half of one)
    /// and relay the applied bytes.
    fn commit_applied(
        &mut self,
        ctx: &mut Ctx,
        master: &mut MasterSide,
        p: Payload,
        is_multi: bool,
        is_exec: bool,
    ) {
        let LinkState::Online(mc) = &mut self.state else {
            return;
        };
        let batch = if mc.in_multi || is_multi {
            mc.in_multi = true;
            mc.multi_buf.push(p);
            if !is_exec {
                return;
            }
            mc.in_multi = false;
            std::mem::take(&mut mc.multi_buf)
        } else {
            vec![p]
        };
        for b in batch {
            if let LinkState::Online(mc) = &mut self.state {
                mc.reploff += b.len() as i64;
            }
            // `replicationFeedStreamFromMasterStream`: only applied bytes reach our backlog
            // and sub-replicas, unchanged, so the whole chain shares one offset space.
            master.feed_stream(ctx, b);
        }
    }

    /// `REPLCONF ACK <reploff>` (not from an old SYNC link: its master expects none).
    pub(super) fn send_ack(&mut self, ctx: &mut Ctx) {
        let LinkState::Online(mc) = &self.state else {
            return;
        };
        if mc.pre_psync {
            return;
        }
        let (conn, off) = (mc.conn, mc.reploff.to_string());
        self.out
            .send_cmd(ctx, conn, &[b"REPLCONF", b"ACK", off.as_bytes()]);
    }

    /// The live master client, taken out of the link (its connection stays queued).
    pub(super) fn take_master_client(&mut self) -> Option<MasterClient> {
        match std::mem::replace(&mut self.state, LinkState::Connect) {
            LinkState::Online(mc) => Some(mc),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// `replicationCacheMaster`: keep what a PSYNC needs to continue.
    pub(super) fn cache(&mut self, ctx: &mut Ctx, mc: MasterClient) {
        ctx.log_r(Level::Notice, "Caching the disconnected master state.");
        self.cached = Some(CachedMaster {
            replid: mc.replid,
            reploff: mc.reploff,
        });
    }

    /// The established link died: cache the master (unless the stream was corrupt) and
    /// reconnect at once.
    pub(super) fn master_link_lost(&mut self, ctx: &mut Ctx, protocol_error: bool) {
        ctx.log_r(
            ctx.config.version.wording().link_lost_level,
            "Connection with master lost.",
        );
        if let Some(mc) = self.take_master_client() {
            self.out.forget(ctx, mc.conn, true);
            if !protocol_error {
                self.cache(ctx, mc);
            }
        }
        self.down_since_ms = Some(ctx.now());
        ctx.mark(MarkKind::LinkCut, None, None, "connection with master lost");
        let (h, p) = self.master.clone();
        ctx.log_r(Level::Notice, format!("Reconnecting to MASTER {h}:{p}"));
        self.connect_with_master(ctx);
    }
}
