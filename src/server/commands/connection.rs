//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, and TIME and COMMAND.

use super::server::set_client_name;
use super::{err, lower, parse_i64, text, SYNTAX};
use crate::server::engine::Engine;
use crate::server::log::now_epoch_ms;
use crate::server::types::{Args, Ctx, Flow, Out};
use crate::wire::Reply;

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

pub fn ping(_e: &mut Engine, _ctx: &mut Ctx, a: &Args) -> Out {
    match a.len() {
        1 => Reply::Simple("PONG".into()).into(),
        2 => Reply::Bulk(a[1].clone()).into(),
        _ => err("ERR wrong number of arguments for 'ping' command"),
    }
}

pub fn echo(_e: &mut Engine, _ctx: &mut Ctx, a: &Args) -> Out {
    Reply::Bulk(a[1].clone()).into()
}

pub fn quit(e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    let conn = ctx.conn.unwrap_or(0);
    e.queue_reply(conn, &Reply::ok());
    e.close_after_reply(conn);
    Out::Flow(Flow::Close)
}

pub fn time(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    let us = now_epoch_ms() * 1000;
    Reply::Array(vec![
        Reply::bulk((us / 1_000_000).to_string()),
        Reply::bulk((us % 1_000_000).to_string()),
    ])
    .into()
}

pub fn command(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    // redis-cli asks COMMAND DOCS at start and falls back silently on an error.
    err("ERR COMMAND is not supported by this server")
}

pub fn select(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match parse_i64(&a[1]) {
        None => err("ERR value is not an integer or out of range"),
        Some(n) if n < 0 || n as usize >= e.databases() => err("ERR DB index is out of range"),
        Some(n) => {
            ctx.db = n as usize;
            Reply::ok().into()
        }
    }
}

pub fn auth(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let Some(pass) = e.cfg().requirepass.clone() else {
        return err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    };
    if a.len() > 3 {
        return err(SYNTAX);
    }
    // AUTH [username] password: only the "default" user exists.
    let user_ok = a.len() == 2 || lower(&a[1]) == "default";
    let given = a.last().map(|p| p.as_slice()).unwrap_or_default();
    if user_ok && given == pass.as_bytes() {
        if let Some(c) = ctx.conn.and_then(|id| e.client_mut(id)) {
            c.authenticated = true;
        }
        Reply::ok().into()
    } else {
        err(WRONGPASS)
    }
}

pub fn hello(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let conn = ctx.conn.unwrap_or(0);
    let mut proto = None;
    let mut i = 1;
    if a.len() > 1 {
        match parse_i64(&a[1]) {
            Some(v) if v == 2 || v == 3 => proto = Some(v as u8),
            Some(_) => return err("NOPROTO unsupported protocol version"),
            None => return err("ERR Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    // Options take effect in order, as helloCommand applies them: AUTH authenticates and
    // SETNAME names the client (validated as CLIENT SETNAME) before the NOAUTH check.
    while i < a.len() {
        match lower(&a[i]).as_str() {
            "auth" if i + 2 < a.len() => {
                let ok = e
                    .cfg()
                    .requirepass
                    .as_ref()
                    .is_some_and(|p| p.as_bytes() == a[i + 2].as_slice())
                    && lower(&a[i + 1]) == "default";
                if !ok {
                    return err(WRONGPASS);
                }
                if let Some(c) = e.client_mut(conn) {
                    c.authenticated = true;
                }
                i += 3;
            }
            "setname" if i + 1 < a.len() => {
                if let Err(o) = set_client_name(e, ctx, &a[i + 1]) {
                    return o;
                }
                i += 2;
            }
            _ => {
                return err(&format!(
                    "ERR Syntax error in HELLO option '{}'",
                    text(&a[i])
                ))
            }
        }
    }
    if !e.client(conn).is_some_and(|c| c.authenticated) {
        return err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    let role = if e.is_replica() { "replica" } else { "master" };
    let Some(c) = e.client_mut(conn) else {
        return Out::Silent;
    };
    if let Some(p) = proto {
        c.proto = p;
    }
    let proto_now = c.proto;
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
