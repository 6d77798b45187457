//! The commands the core answers itself: PING, AUTH, REPLCONF, PSYNC/SYNC, REPLICAOF,
//! ROLE, INFO, WAIT and CONFIG GET/SET. The driver answers every other command (and should
//! queue those replies with [`Instance::queue_reply`]).

use super::instance::Instance;
use super::log::Level;
use super::ConnId;
use crate::wire::Reply;

impl Instance {
    pub(crate) fn on_command(&mut self, conn: ConnId, argv: Vec<Vec<u8>>) {
        let (ctx, master, _) = self.parts();
        if !master.touch(ctx, conn, None) {
            return;
        }
        if argv.is_empty() {
            // A bare newline: a loading replica's keepalive.
            master.newline_from(ctx, conn);
            return;
        }
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        master.touch(ctx, conn, Some(&name));
        let args: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !master.is_authenticated(conn) && name != "auth" && name != "ping" {
            master.reply_error(ctx, conn, "NOAUTH Authentication required.");
            return;
        }
        let link = self.link_status();
        let is_replica = self.is_replica();
        let (ctx, master, _) = self.parts();
        match name.as_str() {
            "ping" => {
                if master.is_authenticated(conn) {
                    master.reply(ctx, conn, Reply::Simple("PONG".into()));
                } else {
                    master.reply_error(ctx, conn, "NOAUTH Authentication required.");
                }
            }
            "auth" => self.cmd_auth(conn, &args),
            "replconf" => master.cmd_replconf(ctx, conn, &args),
            "psync" => master.cmd_sync(ctx, conn, &args, true, link),
            "sync" => master.cmd_sync(ctx, conn, &args, false, link),
            "replicaof" | "slaveof" => self.cmd_replicaof(conn, &args),
            "role" => {
                let r = super::info::role_reply(self);
                self.reply(conn, r);
            }
            "info" => {
                let r = Reply::bulk(super::info::info_command(self, &args));
                self.reply(conn, r);
            }
            "wait" => master.cmd_wait(ctx, conn, &args, is_replica),
            "config" => self.cmd_config(conn, &args),
            _ => {
                let rest: String = args.iter().skip(1).map(|a| format!("'{a}' ")).collect();
                let msg = format!(
                    "ERR unknown command '{}', with args beginning with: {rest}",
                    args[0]
                );
                master.reply_error(ctx, conn, &msg);
            }
        }
    }

    fn reply(&mut self, conn: ConnId, r: Reply) {
        let (ctx, master, _) = self.parts();
        master.reply(ctx, conn, r);
    }

    fn reply_error(&mut self, conn: ConnId, msg: &str) {
        self.reply(conn, Reply::Error(msg.to_string()));
    }

    fn cmd_auth(&mut self, conn: ConnId, args: &[String]) {
        let pass = args.last().cloned().unwrap_or_default();
        match self.config().requirepass.clone() {
            None => self.reply_error(
                conn,
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            Some(p) if args.len() >= 2 && p == pass => {
                let (ctx, master, _) = self.parts();
                master.authenticate(conn);
                master.reply_ok(ctx, conn);
            }
            Some(_) => self.reply_error(
                conn,
                "WRONGPASS invalid username-password pair or user is disabled.",
            ),
        }
    }

    fn cmd_config(&mut self, conn: ConnId, args: &[String]) {
        let sub = args
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        match (sub.as_str(), args.len()) {
            ("get", n) if n >= 3 => {
                let mut pairs: Vec<(String, String)> = Vec::new();
                for pat in &args[2..] {
                    for (k, v) in self.config().get_matching(pat) {
                        if !pairs.iter().any(|(a, _)| *a == k) {
                            pairs.push((k, v));
                        }
                    }
                }
                let items = pairs
                    .into_iter()
                    .flat_map(|(k, v)| [Reply::bulk(k), Reply::bulk(v)])
                    .collect();
                self.reply(conn, Reply::Array(items));
            }
            ("set", n) if n >= 4 && n % 2 == 0 => {
                let err = args[2..]
                    .chunks(2)
                    .find_map(|kv| self.config_set(&kv[0], &kv[1]).err());
                match err {
                    // The error's text carries its code (`ERR ...`).
                    Some(e) => self.reply(conn, Reply::Error(e.to_string())),
                    None => self.reply(conn, Reply::ok()),
                }
            }
            _ => self.reply_error(
                conn,
                &format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try CONFIG HELP.",
                    args.get(1).cloned().unwrap_or_default()
                ),
            ),
        }
    }

    /// `REPLICAOF host port` / `REPLICAOF NO ONE` (`replicaofCommand`).
    fn cmd_replicaof(&mut self, conn: ConnId, args: &[String]) {
        if args.len() != 3 {
            let msg = format!(
                "ERR wrong number of arguments for '{}' command",
                args[0].to_ascii_lowercase()
            );
            return self.reply_error(conn, &msg);
        }
        if self.master_side().is_replica_client(conn) {
            return self.reply_error(conn, "ERR Command is not valid when client is a replica.");
        }
        let info = self.client_info(conn);
        if args[1].eq_ignore_ascii_case("no") && args[2].eq_ignore_ascii_case("one") {
            if self.is_replica() {
                self.unset_master();
                let (ctx, _, _) = self.parts();
                ctx.log(
                    Level::Notice,
                    format!("MASTER MODE enabled (user request from '{info}')"),
                );
            }
            return self.reply(conn, Reply::ok());
        }
        let Ok(port) = args[2].parse::<u16>() else {
            return self.reply_error(conn, "ERR value is not an integer or out of range");
        };
        let host = args[1].clone();
        let same = self.link().is_some_and(|l| {
            l.master_addr().0.eq_ignore_ascii_case(&host) && l.master_addr().1 == port
        });
        if same {
            let (ctx, _, _) = self.parts();
            ctx.log(Level::Notice, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return self.reply(
                conn,
                Reply::Simple("OK Already connected to specified master".into()),
            );
        }
        self.set_master(&host, port);
        let (ctx, _, _) = self.parts();
        ctx.log(
            Level::Notice,
            format!("REPLICAOF {host}:{port} enabled (user request from '{info}')"),
        );
        self.reply(conn, Reply::ok());
    }
}
