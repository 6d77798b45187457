//! Server commands: CONFIG, CLIENT, DEBUG, SAVE/BGSAVE/LASTSAVE, SHUTDOWN.

use super::{err, lower, parse_i64, text, SYNTAX};
use crate::rdb::Value;
use crate::server::config::{runtime_rule, RuntimeRule, SERVER_NAMES};
use crate::server::engine::Engine;
use crate::server::glob::glob_match_nocase;
use crate::server::types::{Action, Args, Ctx, Flow, Out};
use crate::wire::Reply;

// ---- CONFIG ---------------------------------------------------------------------------

pub fn config_get(e: &mut Engine, _ctx: &mut Ctx, a: &Args) -> Out {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pat in &a[2..] {
        for (k, v) in config_get_matching(e, &lower(pat)) {
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

/// CONFIG GET across server options and the replication core's.
fn config_get_matching(e: &Engine, pat: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in SERVER_NAMES {
        if glob_match_nocase(pat.as_bytes(), name.as_bytes()) {
            if let Some(v) = e.cfg().get(name) {
                out.push((name.to_string(), v));
            }
        }
    }
    for (k, v) in e.core_config_matching(pat) {
        if !out.iter().any(|(x, _)| *x == k) {
            out.push((k, v));
        }
    }
    out
}

pub fn config_set(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    if a.len() % 2 != 0 {
        return err("ERR wrong number of arguments for 'config|set' command");
    }
    let protected_ok = allow_protected(e, &e.cfg().enable_protected_configs, ctx);
    for p in a[2..].chunks(2) {
        if let Err(text) = config_set_one(e, &lower(&p[0]), &text(&p[1]), protected_ok) {
            return err(&text);
        }
    }
    Reply::ok().into()
}

/// `allowProtectedAction`: an `enable-*` switch that is `yes`, or `local` and the client is
/// on a loopback address (`islocalClient`).
pub fn allow_protected(e: &Engine, switch: &str, ctx: &Ctx) -> bool {
    match switch {
        "yes" => true,
        "local" => ctx
            .conn
            .and_then(|id| e.client(id))
            .is_some_and(|c| c.addr.starts_with("127.0.0.1:") || c.addr.starts_with("[::1]:")),
        _ => false,
    }
}

fn config_set_one(
    e: &mut Engine,
    name: &str,
    value: &str,
    protected_ok: bool,
) -> Result<(), String> {
    let refused = match runtime_rule(name) {
        RuntimeRule::Immutable => Some("can't set immutable config"),
        RuntimeRule::Protected if !protected_ok => Some("can't set protected config"),
        _ => None,
    };
    if let Some(why) = refused {
        return Err(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ));
    }
    let mut cfg = e.cfg().clone();
    match cfg.apply(name, &[value.to_string()]) {
        Ok(true) => {
            e.set_cfg(cfg);
            Ok(())
        }
        Ok(false) => {
            e.core_config_set(name, value)?;
            e.set_cfg(cfg);
            Ok(())
        }
        Err(why) => Err(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        )),
    }
}

pub fn config_resetstat(e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    *e.stats_mut() = Default::default();
    Reply::ok().into()
}

pub fn config_rewrite(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    err("ERR The server is running without a config file")
}

pub fn config_help(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::Array(vec![Reply::Simple(
        "CONFIG GET <pattern> | CONFIG SET <name> <value> | CONFIG RESETSTAT".into(),
    )])
    .into()
}

// ---- CLIENT ---------------------------------------------------------------------------

pub fn client_id(_e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::Int(ctx.conn.unwrap_or(0) as i64).into()
}

pub fn client_setname(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match set_client_name(e, ctx, &a[2]) {
        Ok(()) => Reply::ok().into(),
        Err(o) => o,
    }
}

/// `clientSetNameOrReply`: printable ASCII without spaces (CLIENT LIST is split on spaces
/// and lines, so a name must not forge fields or lines); empty removes the name.
pub fn set_client_name(e: &mut Engine, ctx: &Ctx, name: &[u8]) -> Result<(), Out> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    if let Some(c) = ctx.conn.and_then(|id| e.client_mut(id)) {
        c.name = text(name);
    }
    Ok(())
}

pub fn client_getname(e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    match ctx.conn.and_then(|id| e.client(id)) {
        Some(c) if !c.name.is_empty() => Reply::bulk(&c.name),
        _ => Reply::Nil,
    }
    .into()
}

pub fn client_list(e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    let mut text = String::new();
    for c in e.clients() {
        text.push_str(&client_info_line(e, c.id));
        text.push('\n');
    }
    Reply::Verbatim("txt".into(), text.into_bytes()).into()
}

pub fn client_info(e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    let line = client_info_line(e, ctx.conn.unwrap_or(0));
    Reply::Verbatim("txt".into(), format!("{line}\n").into_bytes()).into()
}

/// CLIENT REPLY / NO-EVICT / SETINFO: accepted, nothing changes.
pub fn client_ok(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::ok().into()
}

pub fn client_help(_e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::Array(vec![Reply::Simple(
        "CLIENT ID | SETNAME <name> | GETNAME | LIST | INFO | KILL <filter> <value> ...".into(),
    )])
    .into()
}

/// One CLIENT LIST line in 7.0's field order.
fn client_info_line(e: &Engine, id: u64) -> String {
    let Some(c) = e.client(id) else {
        return String::new();
    };
    let now = e.now_ms();
    let (flags, omem) = e.client_flags_and_omem(id);
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
        c.last_cmd,
        c.proto
    )
}

pub fn client_kill(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let conn = ctx.conn.unwrap_or(0);
    // Old form: CLIENT KILL addr:port
    if a.len() == 3 {
        let addr = text(&a[2]);
        let id = e.clients().find(|c| c.addr == addr).map(|c| c.id);
        return match id {
            Some(id) => {
                e.kill_client(id);
                Reply::ok().into()
            }
            None => err("ERR No such client"),
        };
    }
    if a.len() % 2 != 0 {
        return err(SYNTAX);
    }
    let mut filters = Vec::new();
    for p in a[2..].chunks(2) {
        filters.push((lower(&p[0]), text(&p[1])));
    }
    let mut skipme = true;
    let mut kill_master = false;
    for (k, v) in &filters {
        match k.as_str() {
            "id" | "addr" | "laddr" | "user" => {}
            "type" => {
                if !["normal", "master", "replica", "slave", "pubsub"]
                    .contains(&v.to_ascii_lowercase().as_str())
                {
                    return err(&format!("ERR Unknown client type '{v}'"));
                }
                if v.eq_ignore_ascii_case("master") {
                    kill_master = true;
                }
            }
            "skipme" => skipme = v.eq_ignore_ascii_case("yes"),
            _ => return err(SYNTAX),
        }
    }
    let victims: Vec<u64> = e
        .clients()
        .filter(|c| !(skipme && c.id == conn))
        .filter(|c| {
            filters.iter().all(|(k, v)| match k.as_str() {
                "id" => v.parse::<u64>().ok() == Some(c.id),
                "addr" => c.addr == *v,
                "laddr" => c.laddr == *v,
                "user" => v == "default",
                "type" => match v.to_ascii_lowercase().as_str() {
                    "normal" => !e.is_replica_client(c.id),
                    "replica" | "slave" => e.is_replica_client(c.id),
                    _ => false,
                },
                _ => true,
            })
        })
        .map(|c| c.id)
        .collect();
    let mut n = victims.len() as i64;
    for id in victims {
        e.kill_client(id);
    }
    if kill_master && e.kill_master_link() {
        n += 1;
    }
    Reply::Int(n).into()
}

// ---- DEBUG ----------------------------------------------------------------------------

pub fn debug(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match lower(&a[1]).as_str() {
        "sleep" if a.len() == 3 => {
            // strtod, then a nanosleep that returns at once for what is not a positive
            // time (NaN, negative, infinite); capped at an hour.
            let secs: f64 = text(&a[2]).trim().parse().unwrap_or(0.0);
            let secs = if secs.is_finite() && secs > 0.0 {
                secs.min(3600.0)
            } else {
                0.0
            };
            e.queue_reply(ctx.conn.unwrap_or(0), &Reply::ok());
            Out::Flow(Flow::Sleep(std::time::Duration::from_secs_f64(secs)))
        }
        "populate" if (3..=5).contains(&a.len()) => {
            let positive = |x: &[u8]| parse_i64(x).filter(|&n| n >= 0);
            let Some(count) = positive(&a[2]) else {
                return err("ERR value is out of range, must be positive");
            };
            let prefix = a.get(3).cloned().unwrap_or_else(|| b"key".to_vec());
            let size = match a.get(4).map(|x| positive(x)) {
                None => None,
                Some(None) => return err("ERR value is out of range, must be positive"),
                // Redis would allocate whatever it is told, and die; a value is a string,
                // so the string cap applies.
                Some(Some(n)) if n as u64 > e.cfg().proto_max_bulk_len => {
                    return err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
                }
                Some(Some(n)) => Some(n as usize),
            };
            // Like Redis: existing keys are kept, and nothing is propagated (a debug
            // command; replicas get these keys through a full sync).
            for i in 0..count {
                let mut key = prefix.clone();
                key.extend_from_slice(format!(":{i}").as_bytes());
                if e.ks().db(ctx.db).get(&key).is_some() {
                    continue;
                }
                let mut val = format!("value:{i}").into_bytes();
                if let Some(sz) = size {
                    val.resize(sz, 0);
                }
                e.set_value(ctx.db, &key, Value::String(val), None);
            }
            Reply::ok().into()
        }
        "set-active-expire" => Reply::ok().into(),
        "help" => Reply::Array(vec![Reply::Simple(
            "DEBUG SLEEP <seconds> | DEBUG POPULATE <count> [<prefix>] [<size>]".into(),
        )])
        .into(),
        _ => err(&format!(
            "ERR unknown subcommand '{}'. Try DEBUG HELP.",
            text(&a[1])
        )),
    }
}

// ---- persistence and shutdown -----------------------------------------------------------

pub fn bgsave(e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    if !e.start_user_bgsave() {
        return err("ERR Background save already in progress");
    }
    Reply::Simple("Background saving started".into()).into()
}

pub fn save(e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    if e.save_state().child.is_some() {
        return err("ERR Background save already in progress");
    }
    match e.save_now() {
        Ok(()) => Reply::ok().into(),
        Err(why) => err(&format!("ERR {why}")),
    }
}

pub fn lastsave(e: &mut Engine, _ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::Int(e.save_state().lastsave_unix as i64).into()
}

pub fn shutdown(e: &mut Engine, _ctx: &mut Ctx, a: &Args) -> Out {
    let opts: Vec<String> = a[1..].iter().map(|x| lower(x)).collect();
    let nosave = opts.iter().any(|o| o == "nosave");
    let save = opts.iter().any(|o| o == "save");
    if opts
        .iter()
        .any(|o| !["nosave", "save", "now", "force", "abort"].contains(&o.as_str()))
        || (nosave && save)
    {
        return err(SYNTAX);
    }
    e.warning("User requested shutdown...");
    // prepareForShutdown: a final snapshot when save points exist (or SAVE asked).
    if save || (!nosave && e.has_save_points()) {
        e.notice("Saving the final RDB snapshot before exiting.");
        if let Err(why) = e.save_now() {
            e.warning(&format!("Error trying to save the DB, can't exit. ({why})"));
            return err("ERR Errors trying to SHUTDOWN. Check logs.");
        }
    }
    if !e.cfg().pidfile.is_empty() {
        e.notice("Removing the pid file.");
        let _ = std::fs::remove_file(&e.cfg().pidfile);
    }
    e.notice("Redis is now ready to exit, bye bye...");
    e.push_action(Action::Shutdown);
    Out::Silent
}
