//! REPLCONF on the master (`replconfCommand`): what a replica announces during its handshake
//! (listening port, address, capabilities, dual-channel roles) and its ACKs.

use super::super::ctx::Ctx;
use super::super::status::ReplicaState;
use super::super::ConnId;
use super::MasterSide;

impl MasterSide {
    pub fn cmd_replconf(&mut self, ctx: &mut Ctx, conn: ConnId, args: &[String]) {
        if args.len() % 2 == 0 {
            self.reply_error(ctx, conn, "ERR syntax error");
            return;
        }
        for pair in args[1..].chunks(2) {
            let (opt, val) = (pair[0].to_ascii_lowercase(), &pair[1]);
            let Some(c) = self.clients.get_mut(&conn) else {
                return;
            };
            match opt.as_str() {
                "listening-port" => match val.parse::<u16>() {
                    Ok(p) => c.listening_port = Some(p),
                    Err(_) => {
                        self.reply_error(ctx, conn, "ERR value is not an integer or out of range");
                        return;
                    }
                },
                "ip-address" => c.announced_ip = Some(val.clone()),
                "capa" => match val.to_ascii_lowercase().as_str() {
                    "eof" => c.capa_eof = true,
                    "psync2" => c.capa_psync2 = true,
                    "dual-channel" => c.capa_dual = true,
                    "rdb-channel-repl" => c.capa_rdb_channel = true,
                    _ => {} // unknown capabilities are ignored: newer replicas may send more
                },
                "ack" => {
                    // Never replied to: once streaming, the replica does not read replies on
                    // this link, and a reply would be taken for stream bytes.
                    let off = val.parse::<i64>().unwrap_or(0);
                    self.on_replica_ack(ctx, conn, off);
                    return;
                }
                // Only meaningful from a master, on the replica's side of the link.
                "getack" => return,
                "rdb-only" => c.rdb_only = val == "1",
                "rdb-channel" => c.rdb_channel = val == "1",
                "set-rdb-client-id" => {
                    if let Ok(id) = val.parse::<u64>() {
                        c.rdb_client_id = Some(id);
                    }
                }
                "rdb-filter-only" => {}
                "main-ch-client-id" => c.main_ch_client_id = val.parse::<u64>().ok(),
                // Valkey's primaries take the replica's version (to pick the RDB format it
                // can load); Redis answers `-ERR Unrecognized REPLCONF option: version`.
                "version" if ctx.config.version.sends_replconf_version() => {}
                _ => {
                    let msg = format!("ERR Unrecognized REPLCONF option: {}", pair[0]);
                    self.reply_error(ctx, conn, &msg);
                    return;
                }
            }
        }
        self.reply_ok(ctx, conn);
    }

    /// `REPLCONF ACK <offset>`: what the replica has applied, and a sign of life.
    fn on_replica_ack(&mut self, ctx: &mut Ctx, conn: ConnId, off: i64) {
        let (ut, now) = (ctx.unixtime(), ctx.now());
        let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) else {
            return;
        };
        r.ack_off = r.ack_off.max(off);
        let loaded = r.state == ReplicaState::BgTransfer;
        r.ack_time_s = ut;
        r.ack_time_ms = now;
        if loaded {
            // Valkey dual channel: the replica ACKs once it has loaded the RDB.
            self.replica_put_online(ctx, conn, false);
            return;
        }
        let Some(r) = self.clients.get_mut(&conn).and_then(|c| c.replica.as_mut()) else {
            return;
        };
        if r.start_stream_on_ack && r.state == ReplicaState::Online {
            // Diskless: the replica found the EOF mark; the accumulated stream may flow now.
            r.start_stream_on_ack = false;
            ctx.data_ready(conn);
        }
    }
}
