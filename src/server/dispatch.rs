//! The front door of every command: authentication, arity, MULTI, READONLY and LOADING checks
//! (in the order `processCommand` applies them), then the connection and admin commands.
//! Data commands live in `commands.rs`, INFO in `info.rs`, replication in `repl.rs`.

use super::commands::{command_spec, parse_i64, unknown_command_text, Ctx, Out, SYNTAX};
use super::engine::{Action, Engine, Flow};
use super::glob::glob_match;
use crate::wire::Reply;

const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Commands that can run in a MULTI block without being queued.
fn multi_passthrough(name: &str) -> bool {
    matches!(name, "exec" | "discard" | "multi" | "quit" | "reset")
}

impl Engine {
    /// Runs one client command and queues its reply.
    pub fn execute(&mut self, conn: u64, argv: Vec<Vec<u8>>) -> Flow {
        let Some(first) = argv.first() else {
            return Flow::Done;
        };
        let name = lower(first);
        self.stats.total_commands_processed += 1;
        let now = self.now_ms();
        let Some(client) = self.clients.get_mut(&conn) else {
            return Flow::Close;
        };
        client.last_ms = now;
        client.last_cmd = name.clone();
        let authenticated = client.authenticated;
        let in_multi = client.multi.is_some();
        let db = client.db;

        let spec = command_spec(&name);
        // processCommand: unknown command and arity first, then auth.
        let reject = |this: &mut Engine, text: String| {
            if let Some(c) = this.clients.get_mut(&conn) {
                if c.multi.is_some() {
                    c.multi_error = true;
                }
            }
            this.queue_reply(conn, &Reply::err(text));
            Flow::Done
        };
        let Some((arity, is_write)) = spec else {
            return reject(self, unknown_command_text(&argv));
        };
        let n = argv.len() as i32;
        if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
            return reject(
                self,
                format!("ERR wrong number of arguments for '{name}' command"),
            );
        }
        if !authenticated && !matches!(name.as_str(), "auth" | "hello" | "quit") {
            return reject(self, NOAUTH.into());
        }
        if in_multi && !multi_passthrough(&name) {
            if matches!(
                name.as_str(),
                "sync" | "psync" | "wait" | "replicaof" | "slaveof"
            ) {
                return reject(
                    self,
                    "ERR Command not allowed inside a transaction".to_string(),
                );
            }
            if let Some(c) = self.clients.get_mut(&conn) {
                if let Some(q) = c.multi.as_mut() {
                    q.push(argv);
                }
            }
            self.queue_reply(conn, &Reply::Simple("QUEUED".into()));
            return Flow::Done;
        }
        if is_write && self.core.is_replica() && self.replica_read_only() {
            return reject(
                self,
                "READONLY You can't write against a read only replica.".into(),
            );
        }
        // replica-serve-stale-data no: only a few commands while the link is down.
        if self.core.is_replica()
            && !self.core.config().replica_serve_stale_data
            && self.core.link_state() != "connected"
            && !matches!(
                name.as_str(),
                "info"
                    | "ping"
                    | "auth"
                    | "hello"
                    | "role"
                    | "config"
                    | "client"
                    | "replconf"
                    | "replicaof"
                    | "slaveof"
                    | "quit"
                    | "shutdown"
                    | "debug"
            )
        {
            return reject(
                self,
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                    .into(),
            );
        }
        if self.loading
            && !matches!(
                name.as_str(),
                "info"
                    | "ping"
                    | "auth"
                    | "hello"
                    | "role"
                    | "config"
                    | "client"
                    | "replconf"
                    | "quit"
                    | "debug"
            )
        {
            return reject(
                self,
                "LOADING Redis is loading the dataset in memory".into(),
            );
        }
        let mut ctx = Ctx {
            conn: Some(conn),
            db,
        };
        let out = self.run(&mut ctx, &name, &argv);
        if let Some(c) = self.clients.get_mut(&conn) {
            c.db = ctx.db;
        }
        self.finish(conn, out)
    }

    fn finish(&mut self, conn: u64, out: Out) -> Flow {
        match out {
            Out::R(r) => {
                self.queue_reply(conn, &r);
                Flow::Done
            }
            Out::Silent | Out::Core => Flow::Done,
            Out::Flow(f) => f,
        }
    }

    /// Applies a command from our master's replication stream: no reply, no checks, its own
    /// selected database.
    pub fn apply_from_master(&mut self, argv: &[Vec<u8>]) {
        let Some(first) = argv.first() else { return };
        let name = lower(first);
        let mut ctx = Ctx {
            conn: None,
            db: self.master_db,
        };
        match name.as_str() {
            "select" => {
                if let Some(n) = argv.get(1).and_then(|a| parse_i64(a)) {
                    if n >= 0 && (n as usize) < self.ks.dbs.len() {
                        self.master_db = n as usize;
                    }
                }
            }
            // MULTI/EXEC from a master are applied as they come: the stream already holds the
            // transaction's effects in order, and we run one command at a time anyway.
            "ping" | "multi" | "exec" | "replconf" => {}
            _ => {
                if command_spec(&name).is_some_and(|(_, w)| w) {
                    let _ = self.run_data_command(&mut ctx, &name, argv);
                } else if self.unsupported_warned.insert(name.clone()) {
                    // Logged once per command name: the data now differs from the master's.
                    self.warning(&format!(
                        "Command '{name}' from the master stream is not supported by this server; ignored (the dataset now differs from the master's)"
                    ));
                }
            }
        }
    }

    fn run(&mut self, ctx: &mut Ctx, name: &str, a: &[Vec<u8>]) -> Out {
        let conn = ctx.conn.unwrap_or(0);
        match name {
            "ping" => match a.len() {
                1 => Reply::Simple("PONG".into()).into(),
                2 => Reply::Bulk(a[1].clone()).into(),
                _ => Reply::err("ERR wrong number of arguments for 'ping' command").into(),
            },
            "echo" => Reply::Bulk(a[1].clone()).into(),
            "quit" => {
                self.queue_reply(conn, &Reply::ok());
                if let Some(c) = self.clients.get_mut(&conn) {
                    c.close_after_flush = true;
                }
                Out::Flow(Flow::Close)
            }
            "time" => {
                let us = super::log::now_epoch_ms() * 1000;
                Reply::Array(vec![
                    Reply::bulk((us / 1_000_000).to_string()),
                    Reply::bulk((us % 1_000_000).to_string()),
                ])
                .into()
            }
            "command" => {
                // redis-cli asks COMMAND DOCS at start and falls back silently on an error.
                Reply::err("ERR COMMAND is not supported by this server").into()
            }
            "auth" => self.cmd_auth(conn, a),
            "hello" => self.cmd_hello(conn, a),
            "select" => match parse_i64(&a[1]) {
                None => Reply::err("ERR value is not an integer or out of range").into(),
                Some(n) if n < 0 || n as usize >= self.ks.dbs.len() => {
                    Reply::err("ERR DB index is out of range").into()
                }
                Some(n) => {
                    ctx.db = n as usize;
                    Reply::ok().into()
                }
            },
            "multi" => {
                if let Some(c) = self.clients.get_mut(&conn) {
                    if c.multi.is_some() {
                        return Reply::err("ERR MULTI calls can not be nested").into();
                    }
                    c.multi = Some(Vec::new());
                    c.multi_error = false;
                }
                Reply::ok().into()
            }
            "discard" => match self.clients.get_mut(&conn).and_then(|c| c.multi.take()) {
                Some(_) => Reply::ok().into(),
                None => Reply::err("ERR DISCARD without MULTI").into(),
            },
            "exec" => self.cmd_exec(ctx, conn),
            "config" => self.cmd_config(a),
            "client" => self.cmd_client(conn, a),
            "debug" => self.cmd_debug(ctx, conn, a),
            "info" => {
                let sections: Vec<String> = a[1..].iter().map(|x| lower(x)).collect();
                Reply::Verbatim("txt".into(), self.render_info(&sections).into_bytes()).into()
            }
            "bgsave" => {
                if self.save.child.is_some() {
                    return Reply::err("ERR Background save already in progress").into();
                }
                self.actions.push(Action::Bgsave);
                Reply::Simple("Background saving started".into()).into()
            }
            "save" => {
                if self.save.child.is_some() {
                    return Reply::err("ERR Background save already in progress").into();
                }
                match self.save_now() {
                    Ok(()) => Reply::ok().into(),
                    Err(e) => Reply::err(format!("ERR {e}")).into(),
                }
            }
            "lastsave" => Reply::Int(self.save.lastsave_unix as i64).into(),
            "shutdown" => {
                let opts: Vec<String> = a[1..].iter().map(|x| lower(x)).collect();
                let nosave = opts.iter().any(|o| o == "nosave");
                let save = opts.iter().any(|o| o == "save");
                if opts
                    .iter()
                    .any(|o| !["nosave", "save", "now", "force", "abort"].contains(&o.as_str()))
                    || (nosave && save)
                {
                    return Reply::err(SYNTAX).into();
                }
                self.warning("User requested shutdown...");
                // prepareForShutdown: a final snapshot when save points exist (or SAVE asked).
                if save || (!nosave && self.cfg_has_save_points()) {
                    self.notice("Saving the final RDB snapshot before exiting.");
                    if let Err(e) = self.save_now() {
                        self.warning(&format!("Error trying to save the DB, can't exit. ({e})"));
                        return Reply::err("ERR Errors trying to SHUTDOWN. Check logs.").into();
                    }
                }
                if !self.cfg.pidfile.is_empty() {
                    self.notice("Removing the pid file.");
                    let _ = std::fs::remove_file(&self.cfg.pidfile);
                }
                self.notice("Redis is now ready to exit, bye bye...");
                self.actions.push(Action::Shutdown);
                Out::Silent
            }
            "role" | "replicaof" | "slaveof" | "sync" | "psync" | "replconf" | "wait" => {
                self.run_replication_command(ctx, name, a)
            }
            _ => match self.run_data_command(ctx, name, a) {
                Some(o) => o,
                None => Reply::err(unknown_command_text(a)).into(),
            },
        }
    }

    fn cmd_auth(&mut self, conn: u64, a: &[Vec<u8>]) -> Out {
        let Some(pass) = self.requirepass() else {
            return Reply::err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?").into();
        };
        if a.len() > 3 {
            return Reply::err(SYNTAX).into();
        }
        // AUTH [username] password: only the "default" user exists.
        let user_ok = a.len() == 2 || lower(&a[1]) == "default";
        let given = a.last().cloned().unwrap_or_default();
        if user_ok && given == pass.as_bytes() {
            if let Some(c) = self.clients.get_mut(&conn) {
                c.authenticated = true;
            }
            self.auth_to_core(conn, a);
            Reply::ok().into()
        } else {
            Reply::err(WRONGPASS).into()
        }
    }

    fn cmd_hello(&mut self, conn: u64, a: &[Vec<u8>]) -> Out {
        let mut proto = None;
        let mut i = 1;
        if a.len() > 1 {
            match parse_i64(&a[1]) {
                Some(v) if v == 2 || v == 3 => proto = Some(v as u8),
                Some(_) => return Reply::err("NOPROTO unsupported protocol version").into(),
                None => {
                    return Reply::err("ERR Protocol version is not an integer or out of range")
                        .into()
                }
            }
            i = 2;
        }
        let mut auth: Option<(Vec<u8>, Vec<u8>)> = None;
        let mut setname = None;
        while i < a.len() {
            match lower(&a[i]).as_str() {
                "auth" if i + 2 < a.len() => {
                    auth = Some((a[i + 1].clone(), a[i + 2].clone()));
                    i += 3;
                }
                "setname" if i + 1 < a.len() => {
                    setname = Some(s(&a[i + 1]));
                    i += 2;
                }
                _ => {
                    return Reply::err(format!("ERR Syntax error in HELLO option '{}'", s(&a[i])))
                        .into()
                }
            }
        }
        if let Some((user, pass)) = auth {
            let ok = self
                .requirepass()
                .is_some_and(|p| p.as_bytes() == pass.as_slice())
                && lower(&user) == "default";
            if !ok {
                return Reply::err(WRONGPASS).into();
            }
            if let Some(c) = self.clients.get_mut(&conn) {
                c.authenticated = true;
            }
            self.auth_to_core(conn, &[b"AUTH".to_vec(), user, pass]);
        }
        let authed = self.clients.get(&conn).is_some_and(|c| c.authenticated);
        if !authed {
            return Reply::err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time").into();
        }
        let role = if self.core.is_replica() {
            "replica"
        } else {
            "master"
        };
        if let Some(c) = self.clients.get_mut(&conn) {
            if let Some(p) = proto {
                c.proto = p;
            }
            if let Some(n) = setname {
                c.name = n;
            }
        }
        let proto_now = self.clients.get(&conn).map(|c| c.proto).unwrap_or(2);
        Reply::Map(vec![
            (Reply::bulk("server"), Reply::bulk("redis")),
            (Reply::bulk("version"), Reply::bulk("7.0.15")),
            (Reply::bulk("proto"), Reply::Int(proto_now as i64)),
            (Reply::bulk("id"), Reply::Int(conn as i64)),
            (Reply::bulk("mode"), Reply::bulk("standalone")),
            (Reply::bulk("role"), Reply::bulk(role)),
            (Reply::bulk("modules"), Reply::Array(vec![])),
        ])
        .into()
    }

    fn cmd_exec(&mut self, ctx: &mut Ctx, conn: u64) -> Out {
        let Some(c) = self.clients.get_mut(&conn) else {
            return Out::Silent;
        };
        let Some(queue) = c.multi.take() else {
            return Reply::err("ERR EXEC without MULTI").into();
        };
        if std::mem::take(&mut c.multi_error) {
            return Reply::err("EXECABORT Transaction discarded because of previous errors.")
                .into();
        }
        // Writes inside are wrapped in MULTI ... EXEC in the stream (execCommand).
        let mark = self.pending_propagation.len();
        let mut replies = Vec::new();
        for argv in queue {
            let name = lower(&argv[0]);
            let is_write = command_spec(&name).is_some_and(|(_, w)| w);
            if is_write && self.core.is_replica() && self.replica_read_only() {
                replies.push(Reply::err(
                    "READONLY You can't write against a read only replica.",
                ));
                continue;
            }
            match self.run(ctx, &name, &argv) {
                Out::R(r) => replies.push(r),
                _ => replies.push(Reply::ok()),
            }
        }
        if self.pending_propagation.len() > mark {
            let db = self.pending_propagation[mark].0;
            self.pending_propagation
                .insert(mark, (db, crate::wire::encode_command(&["MULTI"])));
            self.pending_propagation
                .push((db, crate::wire::encode_command(&["EXEC"])));
        }
        Reply::Array(replies).into()
    }

    fn cmd_config(&mut self, a: &[Vec<u8>]) -> Out {
        let sub = lower(&a[1]);
        match sub.as_str() {
            "get" if a.len() >= 3 => {
                let mut pairs: Vec<(String, String)> = Vec::new();
                for pat in &a[2..] {
                    let pat = lower(pat);
                    for (k, v) in self.config_get_matching(&pat) {
                        if !pairs.iter().any(|(x, _)| *x == k) {
                            pairs.push((k, v));
                        }
                    }
                }
                Reply::Map(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
                        .collect(),
                )
                .into()
            }
            "set" if a.len() >= 4 && a.len() % 2 == 0 => {
                for p in a[2..].chunks(2) {
                    let (name, value) = (lower(&p[0]), s(&p[1]));
                    if let Err(e) = self.config_set(&name, &value) {
                        return Reply::err(e).into();
                    }
                }
                Reply::ok().into()
            }
            "resetstat" if a.len() == 2 => {
                self.stats = Default::default();
                Reply::ok().into()
            }
            "rewrite" if a.len() == 2 => {
                Reply::err("ERR The server is running without a config file").into()
            }
            "help" => Reply::Array(vec![Reply::Simple(
                "CONFIG GET <pattern> | CONFIG SET <name> <value> | CONFIG RESETSTAT".into(),
            )])
            .into(),
            "get" | "set" | "resetstat" | "rewrite" => Reply::err(format!(
                "ERR wrong number of arguments for 'config|{sub}' command"
            ))
            .into(),
            _ => Reply::err(format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                s(&a[1])
            ))
            .into(),
        }
    }

    /// CONFIG GET across server options and the replication core's.
    pub fn config_get_matching(&self, pat: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in super::config::SERVER_NAMES {
            if glob_match(pat.as_bytes(), name.as_bytes()) {
                if let Some(v) = self.config_get_one(name) {
                    out.push((name.to_string(), v));
                }
            }
        }
        for (k, v) in self.core_config_matching(pat) {
            if !out.iter().any(|(x, _)| *x == k) {
                out.push((k, v));
            }
        }
        out
    }

    pub fn config_set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let values: Vec<String> = vec![value.to_string()];
        let immutable = [
            "port",
            "bind",
            "dir",
            "dbfilename",
            "databases",
            "logfile",
            "live-port",
            "live-bind",
            "daemonize",
            "pidfile",
        ];
        if immutable.contains(&name) {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            ));
        }
        let mut cfg = self.cfg.clone();
        match cfg.apply(name, &values) {
            Ok(true) => {
                self.cfg = cfg;
                self.log.min_level.store(
                    super::log::loglevel_rank(&self.cfg.loglevel),
                    std::sync::atomic::Ordering::Relaxed,
                );
                Ok(())
            }
            Ok(false) => {
                self.core_config_set(name, value)?;
                self.cfg = cfg;
                Ok(())
            }
            Err(e) => Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
            )),
        }
    }

    fn cmd_client(&mut self, conn: u64, a: &[Vec<u8>]) -> Out {
        let sub = lower(&a[1]);
        match sub.as_str() {
            "id" => Reply::Int(conn as i64).into(),
            "setname" if a.len() == 3 => {
                if a[2].iter().any(|&b| b <= b' ' || b > b'~') {
                    return Reply::err(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    )
                    .into();
                }
                if let Some(c) = self.clients.get_mut(&conn) {
                    c.name = s(&a[2]);
                }
                Reply::ok().into()
            }
            "getname" => {
                let n = self
                    .clients
                    .get(&conn)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                if n.is_empty() {
                    Reply::Nil
                } else {
                    Reply::bulk(n)
                }
                .into()
            }
            // redis-py and go-redis send this and ignore errors; accept it.
            "setinfo" => Reply::ok().into(),
            "list" => {
                let mut text = String::new();
                for id in self.clients.keys().copied().collect::<Vec<_>>() {
                    text.push_str(&self.client_info_line(id));
                    text.push('\n');
                }
                Reply::Verbatim("txt".into(), text.into_bytes()).into()
            }
            "info" => Reply::Verbatim(
                "txt".into(),
                format!("{}\n", self.client_info_line(conn)).into_bytes(),
            )
            .into(),
            "kill" => self.cmd_client_kill(conn, a),
            "reply" | "no-evict" | "no-touch" => Reply::ok().into(),
            _ => Reply::err(format!(
                "ERR unknown subcommand '{}'. Try CLIENT HELP.",
                s(&a[1])
            ))
            .into(),
        }
    }

    /// One CLIENT LIST line in 7.0's field order.
    pub fn client_info_line(&self, id: u64) -> String {
        let Some(c) = self.clients.get(&id) else {
            return String::new();
        };
        let now = self.now_ms();
        let (flags, omem) = self.client_flags_and_omem(id);
        let cmd = if c.last_cmd == "NULL" {
            "NULL".to_string()
        } else {
            c.last_cmd.clone()
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            c.id,
            c.addr,
            c.laddr,
            c.id + 7,
            c.name,
            now.saturating_sub(c.created_ms) / 1000,
            now.saturating_sub(c.last_ms) / 1000,
            flags,
            c.db,
            c.multi.as_ref().map(|q| q.len() as i64).unwrap_or(-1),
            omem,
            omem + 20000,
            cmd,
            c.proto
        )
    }

    fn cmd_client_kill(&mut self, conn: u64, a: &[Vec<u8>]) -> Out {
        // Old form: CLIENT KILL addr:port
        if a.len() == 3 {
            let addr = s(&a[2]);
            let id = self.clients.values().find(|c| c.addr == addr).map(|c| c.id);
            return match id {
                Some(id) => {
                    self.kill_client(id);
                    Reply::ok().into()
                }
                None => Reply::err("ERR No such client").into(),
            };
        }
        if a.len() % 2 != 0 {
            return Reply::err(SYNTAX).into();
        }
        let mut filters = Vec::new();
        for p in a[2..].chunks(2) {
            filters.push((lower(&p[0]), s(&p[1])));
        }
        let mut skipme = true;
        let mut victims = Vec::new();
        let mut kill_master = false;
        for (k, v) in &filters {
            match k.as_str() {
                "id" | "addr" | "laddr" | "user" => {}
                "type" => {
                    if !["normal", "master", "replica", "slave", "pubsub"]
                        .contains(&v.to_ascii_lowercase().as_str())
                    {
                        return Reply::err(format!("ERR Unknown client type '{v}'")).into();
                    }
                    if v.eq_ignore_ascii_case("master") {
                        kill_master = true;
                    }
                }
                "skipme" => skipme = v.eq_ignore_ascii_case("yes"),
                _ => return Reply::err(SYNTAX).into(),
            }
        }
        for c in self.clients.values() {
            if skipme && c.id == conn {
                continue;
            }
            let ok = filters.iter().all(|(k, v)| match k.as_str() {
                "id" => v.parse::<u64>().ok() == Some(c.id),
                "addr" => c.addr == *v,
                "laddr" => c.laddr == *v,
                "user" => v == "default",
                "type" => match v.to_ascii_lowercase().as_str() {
                    "normal" => !self.is_replica_client(c.id),
                    "replica" | "slave" => self.is_replica_client(c.id),
                    _ => false,
                },
                _ => true,
            });
            if ok {
                victims.push(c.id);
            }
        }
        let mut n = victims.len() as i64;
        for id in victims {
            self.kill_client(id);
        }
        if kill_master && self.kill_master_link() {
            n += 1;
        }
        Reply::Int(n).into()
    }

    /// Closes a client connection (its task sees `killed` and drops the socket).
    pub fn kill_client(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.killed = true;
            c.notify.notify_one();
        }
    }

    fn cmd_debug(&mut self, ctx: &mut Ctx, conn: u64, a: &[Vec<u8>]) -> Out {
        let allowed = match self.cfg.enable_debug_command.as_str() {
            "yes" => true,
            "local" => self
                .clients
                .get(&conn)
                .is_some_and(|c| c.addr.starts_with("127.0.0.1:") || c.addr.starts_with("[::1]")),
            _ => false,
        };
        if !allowed {
            return Reply::err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.").into();
        }
        match lower(&a[1]).as_str() {
            "sleep" if a.len() == 3 => {
                let secs: f64 = s(&a[2]).parse().unwrap_or(0.0);
                self.queue_reply(conn, &Reply::ok());
                Out::Flow(Flow::Sleep(std::time::Duration::from_secs_f64(
                    secs.clamp(0.0, 3600.0),
                )))
            }
            "populate" if a.len() >= 3 => {
                let Some(count) = parse_i64(&a[2]).filter(|&n| n >= 0) else {
                    return Reply::err("ERR value is out of range, must be positive").into();
                };
                let prefix = a.get(3).cloned().unwrap_or_else(|| b"key".to_vec());
                let size = a
                    .get(4)
                    .and_then(|x| parse_i64(x))
                    .map(|n| n.max(0) as usize);
                // Like Redis: existing keys are kept, and nothing is propagated (a debug
                // command; replicas get these keys through a full sync).
                for i in 0..count {
                    let mut key = prefix.clone();
                    key.extend_from_slice(format!(":{i}").as_bytes());
                    if self.ks.db(ctx.db).get(&key).is_some() {
                        continue;
                    }
                    let mut val = format!("value:{i}").into_bytes();
                    if let Some(sz) = size {
                        val.resize(sz, 0);
                    }
                    self.set_value(ctx.db, &key, crate::rdb::Value::String(val), None);
                }
                Reply::ok().into()
            }
            "set-active-expire" => Reply::ok().into(),
            "help" => Reply::Array(vec![Reply::Simple(
                "DEBUG SLEEP <seconds> | DEBUG POPULATE <count> [<prefix>] [<size>]".into(),
            )])
            .into(),
            _ => Reply::err(format!(
                "ERR unknown subcommand '{}'. Try DEBUG HELP.",
                s(&a[1])
            ))
            .into(),
        }
    }
}
