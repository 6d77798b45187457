//! The front door of every client command, in the order Redis's `processCommand` applies its
//! checks: the command's existence and arity, `protected` commands, authentication, MULTI's
//! `no_multi`, READONLY on a replica, MASTERDOWN (`stale`), LOADING (`loading`), then
//! queueing inside MULTI or running it. Each rule reads the command's flags in
//! [`commands::table`], not a list of names.

use super::commands::server::allow_protected;
use super::commands::{self, flags, lookup, CommandSpec, Handler, Lookup};
use super::engine::Engine;
use super::seam;
use super::types::{Ctx, Flow, Out};
use crate::core::{ConnId, Input};
use crate::wire::Reply;

const NOAUTH: &str = "NOAUTH Authentication required.";

/// A replica's `\n` keepalive (an empty inline line): the core notes it.
pub fn empty_line(e: &mut Engine, conn: u64) {
    seam::core_handle(
        e,
        Input::Command {
            conn: ConnId(conn),
            argv: Vec::new(),
        },
    );
}

/// `rejectCommand`: replies with the error and, inside MULTI, makes EXEC fail.
fn reject(e: &mut Engine, conn: u64, text: String) -> Flow {
    if let Some(c) = e.client_mut(conn) {
        if c.multi.is_some() {
            c.multi_error = true;
        }
    }
    e.queue_reply(conn, &Reply::err(text));
    Flow::Done
}

/// Runs one client command and queues its reply (`processCommand`, then `call`). The core's
/// outputs are drained before it returns.
pub fn execute(e: &mut Engine, conn: u64, argv: Vec<Vec<u8>>) -> Flow {
    if argv.is_empty() {
        return Flow::Done;
    }
    // An HTTP request sent to the Redis port (a browser tricked by a web page into a
    // cross-protocol attack): its first line starts with POST, a header line with Host:.
    // securityWarningCommand closes the connection before anything in it runs.
    if argv[0].eq_ignore_ascii_case(b"post") || argv[0].eq_ignore_ascii_case(b"host:") {
        e.security_warning();
        return Flow::Drop;
    }
    e.stats_mut().total_commands_processed += 1;
    // The turn's clock, as Redis uses its cached time for a client's `idle`.
    let now = e.turn_ms();
    let spec = match lookup(&argv) {
        Lookup::Found(spec) => spec,
        Lookup::Unknown => {
            touch(e, conn, now, "NULL");
            return reject(e, conn, commands::unknown_command_text(&argv));
        }
        Lookup::UnknownSubcommand(container) => {
            touch(e, conn, now, "NULL");
            let sub = String::from_utf8_lossy(commands::cstr(&argv[1], 128));
            let text = format!(
                "ERR unknown subcommand '{sub}'. Try {} HELP.",
                container.name.to_ascii_uppercase()
            );
            return reject(e, conn, text);
        }
    };
    let Some(client) = e.client_mut(conn) else {
        return Flow::Close;
    };
    client.last_ms = now;
    client.last_cmd = spec.fullname;
    let (authenticated, in_multi) = (client.authenticated, client.multi.is_some());
    let ctx0 = Ctx {
        conn: Some(conn),
        db: client.db,
    };
    if !spec.arity_ok(argv.len()) {
        let text = format!(
            "ERR wrong number of arguments for '{}' command",
            spec.fullname
        );
        return reject(e, conn, text);
    }
    if spec.has(flags::PROTECTED) && !allow_protected(e, &e.cfg().enable_debug_command, &ctx0) {
        return reject(e, conn, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.".into());
    }
    if !authenticated && !spec.has(flags::NO_AUTH) {
        return reject(e, conn, NOAUTH.into());
    }
    if in_multi && spec.has(flags::NO_MULTI) {
        return reject(
            e,
            conn,
            "ERR Command not allowed inside a transaction".into(),
        );
    }
    if let Some(text) = refusal(e, spec) {
        return reject(e, conn, text.into());
    }
    if in_multi && !matches!(spec.handler, Handler::Transaction) && spec.name != "quit" {
        if let Some(q) = e.client_mut(conn).and_then(|c| c.multi.as_mut()) {
            q.push(argv);
        }
        e.queue_reply(conn, &Reply::Simple("QUEUED".into()));
        return Flow::Done;
    }
    let mut ctx = ctx0;
    let flow = call(e, &mut ctx, spec, argv);
    if ctx.db != ctx0.db {
        if let Some(c) = e.client_mut(conn) {
            c.db = ctx.db;
        }
    }
    // Data commands never touch the core; admin ones (CONFIG SET of a core option) may
    // leave it outputs, drained here. The core's own commands were drained by core_handle.
    if spec.has(flags::ADMIN) {
        seam::pump(e);
    }
    flow
}

/// Notes the command as the client's last (CLIENT LIST `cmd`, `idle`).
fn touch(e: &mut Engine, conn: u64, now: u64, name: &'static str) {
    if let Some(c) = e.client_mut(conn) {
        c.last_ms = now;
        c.last_cmd = name;
    }
}

/// The checks that depend on the server's state rather than the client's: READONLY on a
/// read-only replica, MASTERDOWN while the link is down (`replica-serve-stale-data no`),
/// LOADING while an RDB loads. Also applied to each command EXEC runs.
fn refusal(e: &Engine, spec: &CommandSpec) -> Option<&'static str> {
    if spec.has(flags::WRITE) && e.is_replica() && e.replica_read_only() {
        return Some("READONLY You can't write against a read only replica.");
    }
    if !spec.has(flags::STALE) && e.refuses_stale_reads() {
        return Some(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
    }
    if !spec.has(flags::LOADING) && e.is_loading() {
        return Some("LOADING Redis is loading the dataset in memory");
    }
    None
}

/// Runs a command that passed the checks (`call`).
fn call(e: &mut Engine, ctx: &mut Ctx, spec: &CommandSpec, argv: Vec<Vec<u8>>) -> Flow {
    let conn = ctx.conn.unwrap_or(0);
    let out = match spec.handler {
        Handler::Run(run) => run(e, ctx, &argv),
        Handler::Core => {
            seam::core_handle(
                e,
                Input::Command {
                    conn: ConnId(conn),
                    argv,
                },
            );
            Out::Silent
        }
        Handler::Transaction => transaction(e, ctx, spec.name),
        // `lookup` resolves containers to their subcommands; named alone, the arity check
        // has already answered.
        Handler::Container(_) => Out::Silent,
    };
    match out {
        Out::R(r) => {
            e.queue_reply(conn, &r);
            Flow::Done
        }
        Out::Static(bytes) => {
            e.queue_raw(conn, bytes);
            Flow::Done
        }
        Out::Bulk(v) => {
            if let crate::rdb::Value::String(s) = v.as_ref() {
                e.queue_bulk(conn, s);
            }
            Flow::Done
        }
        Out::Silent => Flow::Done,
        Out::Flow(f) => f,
    }
}

/// MULTI, DISCARD and EXEC (`multi.c`).
fn transaction(e: &mut Engine, ctx: &mut Ctx, name: &str) -> Out {
    let conn = ctx.conn.unwrap_or(0);
    let Some(c) = e.client_mut(conn) else {
        return Out::Silent;
    };
    match name {
        "multi" => {
            if c.multi.is_some() {
                return Reply::err("ERR MULTI calls can not be nested").into();
            }
            c.multi = Some(Vec::new());
            c.multi_error = false;
            Reply::ok().into()
        }
        "discard" => match c.multi.take() {
            Some(_) => Reply::ok().into(),
            None => Reply::err("ERR DISCARD without MULTI").into(),
        },
        _ => exec(e, ctx),
    }
}

fn exec(e: &mut Engine, ctx: &mut Ctx) -> Out {
    let conn = ctx.conn.unwrap_or(0);
    let Some(c) = e.client_mut(conn) else {
        return Out::Silent;
    };
    let Some(queue) = c.multi.take() else {
        return Reply::err("ERR EXEC without MULTI").into();
    };
    if std::mem::take(&mut c.multi_error) {
        return Reply::err("EXECABORT Transaction discarded because of previous errors.").into();
    }
    // Writes inside are wrapped in MULTI ... EXEC in the stream (execCommand).
    let mark = e.propagation_mark();
    let mut replies = Vec::with_capacity(queue.len());
    for argv in queue {
        // Queued commands were looked up when queued; NO_MULTI and Core ones were refused.
        let Lookup::Found(spec) = lookup(&argv) else {
            continue;
        };
        if let Some(text) = refusal(e, spec) {
            replies.push(Reply::err(text));
            continue;
        }
        let reply = match spec.handler {
            Handler::Run(run) => match run(e, ctx, &argv) {
                Out::R(r) => r,
                Out::Static(bytes) => Reply::Raw(bytes.to_vec()),
                Out::Bulk(v) => match v.as_ref() {
                    crate::rdb::Value::String(s) => Reply::Bulk(s.clone()),
                    _ => Reply::Nil,
                },
                _ => Reply::ok(),
            },
            _ => Reply::err("ERR Command not allowed inside a transaction"),
        };
        replies.push(reply);
    }
    e.wrap_propagation_in_multi(mark);
    Reply::Array(replies).into()
}
