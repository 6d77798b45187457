//! The commands the core answers itself: PING, AUTH, REPLCONF, PSYNC/SYNC, REPLICAOF,
//! ROLE, INFO, WAIT and CONFIG GET/SET. The driver answers every other command (and should
//! queue those replies with [`super::Instance::queue_reply`]).

use super::config::ConfigError;
use super::ctx::Ctx;
use super::info;
use super::log::Level;
use super::master::MasterSide;
use super::replica::ReplicaLink;
use super::roles;
use super::status::LinkStatus;
use super::ConnId;
use crate::wire::Reply;

/// A command from client `conn`.
pub(super) fn on_command(
    ctx: &mut Ctx,
    master: &mut MasterSide,
    link: &mut Option<ReplicaLink>,
    conn: ConnId,
    argv: Vec<Vec<u8>>,
) {
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
    // With `requirepass`, a client must AUTH before anything else (the server's own
    // commands are the driver's to check; a replica authenticates with `masterauth`).
    if !master.is_authenticated(conn) && name != "auth" && name != "ping" {
        master.reply_error(ctx, conn, "NOAUTH Authentication required.");
        return;
    }
    let link_status = link.as_ref().map_or(LinkStatus::None, |l| l.status());
    match name.as_str() {
        "ping" => {
            if master.is_authenticated(conn) {
                master.reply(ctx, conn, Reply::Simple("PONG".into()));
            } else {
                master.reply_error(ctx, conn, "NOAUTH Authentication required.");
            }
        }
        "auth" => cmd_auth(ctx, master, conn, &args),
        "replconf" => master.cmd_replconf(ctx, conn, &args),
        "psync" => master.cmd_sync(ctx, conn, &args, true, link_status),
        "sync" => master.cmd_sync(ctx, conn, &args, false, link_status),
        "replicaof" | "slaveof" => cmd_replicaof(ctx, master, link, conn, &args),
        "role" => {
            let r = info::role_reply(info::role(master, link.as_ref()));
            master.reply(ctx, conn, r);
        }
        "info" => {
            let text = info::info_command(ctx, master, link.as_ref(), &args);
            master.reply(ctx, conn, Reply::bulk(text));
        }
        "wait" => master.cmd_wait(ctx, conn, &args, link.is_some()),
        "config" => cmd_config(ctx, master, conn, &args),
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

fn cmd_auth(ctx: &mut Ctx, master: &mut MasterSide, conn: ConnId, args: &[String]) {
    let pass = args.last().cloned().unwrap_or_default();
    match ctx.config.requirepass.clone() {
        None => master.reply_error(
            ctx,
            conn,
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ),
        Some(p) if args.len() >= 2 && p == pass => {
            master.authenticate(conn);
            master.reply_ok(ctx, conn);
        }
        Some(_) => master.reply_error(
            ctx,
            conn,
            "WRONGPASS invalid username-password pair or user is disabled.",
        ),
    }
}

fn cmd_config(ctx: &mut Ctx, master: &mut MasterSide, conn: ConnId, args: &[String]) {
    let sub = args
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match (sub.as_str(), args.len()) {
        ("get", n) if n >= 3 => {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for pat in &args[2..] {
                for (k, v) in ctx.config.get_matching(pat) {
                    if !pairs.iter().any(|(a, _)| *a == k) {
                        pairs.push((k, v));
                    }
                }
            }
            let items = pairs
                .into_iter()
                .flat_map(|(k, v)| [Reply::bulk(k), Reply::bulk(v)])
                .collect();
            master.reply(ctx, conn, Reply::Array(items));
        }
        ("set", n) if n >= 4 && n % 2 == 0 => {
            let err = args[2..]
                .chunks(2)
                .find_map(|kv| config_set(ctx, master, &kv[0], &kv[1]).err());
            match err {
                // The error's text carries its code (`ERR ...`).
                Some(e) => master.reply(ctx, conn, Reply::Error(e.to_string())),
                None => master.reply_ok(ctx, conn),
            }
        }
        _ => {
            let msg = format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CONFIG HELP.",
                args.get(1).cloned().unwrap_or_default()
            );
            master.reply_error(ctx, conn, &msg);
        }
    }
}

/// `CONFIG SET` with the side effects Redis applies (backlog resize, buffer model switch).
pub(super) fn config_set(
    ctx: &mut Ctx,
    master: &mut MasterSide,
    name: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let mut next = ctx.config.clone();
    next.set(name, value)?;
    master
        .apply_config(next.replication_model, next.repl_backlog_size)
        .map_err(|reason| ConfigError::BadValue {
            name: "replication-model".into(),
            reason,
        })?;
    ctx.config = next;
    Ok(())
}

/// `REPLICAOF host port` / `REPLICAOF NO ONE` (`replicaofCommand`).
fn cmd_replicaof(
    ctx: &mut Ctx,
    master: &mut MasterSide,
    link: &mut Option<ReplicaLink>,
    conn: ConnId,
    args: &[String],
) {
    if args.len() != 3 {
        let msg = format!(
            "ERR wrong number of arguments for '{}' command",
            args[0].to_ascii_lowercase()
        );
        return master.reply_error(ctx, conn, &msg);
    }
    if master.is_replica_client(conn) {
        return master.reply_error(
            ctx,
            conn,
            "ERR Command is not valid when client is a replica.",
        );
    }
    let info = master.client_info_string(ctx, conn);
    if args[1].eq_ignore_ascii_case("no") && args[2].eq_ignore_ascii_case("one") {
        if link.is_some() {
            roles::unset_master(ctx, master, link);
            ctx.log(
                Level::Notice,
                format!("MASTER MODE enabled (user request from '{info}')"),
            );
        }
        return master.reply_ok(ctx, conn);
    }
    let Ok(port) = args[2].parse::<u16>() else {
        return master.reply_error(ctx, conn, "ERR value is not an integer or out of range");
    };
    let host = &args[1];
    let same = link.as_ref().is_some_and(|l| {
        let (h, p) = l.master_addr();
        h.eq_ignore_ascii_case(host) && p == port
    });
    if same {
        ctx.log(Level::Notice, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        let r = Reply::Simple("OK Already connected to specified master".into());
        return master.reply(ctx, conn, r);
    }
    roles::set_master(ctx, master, link, host, port);
    ctx.log(
        Level::Notice,
        format!("REPLICAOF {host}:{port} enabled (user request from '{info}')"),
    );
    master.reply_ok(ctx, conn);
}
