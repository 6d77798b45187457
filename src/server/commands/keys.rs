//! Generic key commands (`db.c`, `expire.c`): delete, exist, expire, inspect, iterate,
//! rename, flush.

use super::{bulk_array, err, lower, parse_i64, NOT_INT, SYNTAX};
use crate::server::engine::Engine;
use crate::server::glob::glob_match;
use crate::server::keyspace::SHARDS;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

pub fn del(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    delete_keys(e, ctx, a, b"DEL")
}

pub fn unlink(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    delete_keys(e, ctx, a, b"UNLINK")
}

/// DEL / UNLINK: each key deleted is propagated on its own.
fn delete_keys(e: &mut Engine, ctx: &mut Ctx, a: &Args, cmd: &[u8]) -> Out {
    let mut n = 0;
    for k in &a[1..] {
        if e.lookup(ctx, k).is_some() && e.remove_key(ctx.db, k) {
            n += 1;
            e.prop(ctx, &[cmd.to_vec(), k.clone()]);
        }
    }
    Reply::Int(n).into()
}

pub fn exists(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let n = a[1..].iter().filter(|k| e.lookup(ctx, k).is_some()).count();
    Reply::Int(n as i64).into()
}

pub fn expire(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    expire_generic(e, ctx, a, "expire")
}

pub fn pexpire(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    expire_generic(e, ctx, a, "pexpire")
}

pub fn expireat(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    expire_generic(e, ctx, a, "expireat")
}

pub fn pexpireat(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    expire_generic(e, ctx, a, "pexpireat")
}

/// `expireGenericCommand`: every form is propagated as `PEXPIREAT` with the absolute time.
fn expire_generic(e: &mut Engine, ctx: &mut Ctx, a: &Args, name: &str) -> Out {
    let Some(n) = parse_i64(&a[2]) else {
        return err(NOT_INT);
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in &a[3..] {
        match lower(o).as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            other => return err(&format!("ERR Unsupported option {other}")),
        }
    }
    if nx && (xx || gt || lt) {
        return err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    let now = e.unix_ms();
    let abs = match name {
        "expire" => n.checked_mul(1000).and_then(|m| m.checked_add(now)),
        "pexpire" => n.checked_add(now),
        "expireat" => n.checked_mul(1000),
        _ => Some(n),
    };
    let Some(abs) = abs else {
        return err(&format!("ERR invalid expire time in '{name}' command"));
    };
    let Some(entry) = e.lookup(ctx, &a[1]) else {
        return Reply::Int(0).into();
    };
    let cur = entry.expire_ms;
    let allowed = (!nx || cur.is_none())
        && (!xx || cur.is_some())
        && (!gt || cur.is_some_and(|c| abs > c))
        && (!lt || cur.is_none_or(|c| abs < c));
    if !allowed {
        return Reply::Int(0).into();
    }
    if abs <= now && !ctx.from_master() && !e.is_replica() {
        // A time in the past deletes the key; the stream carries DEL.
        e.remove_key(ctx.db, &a[1]);
        e.prop(ctx, &[b"DEL".to_vec(), a[1].clone()]);
        return Reply::Int(1).into();
    }
    let (d, cow) = e.ks_mut().db_mut(ctx.db);
    d.set_expire(&a[1], Some(abs), cow);
    e.prop(
        ctx,
        &[
            b"PEXPIREAT".to_vec(),
            a[1].clone(),
            abs.to_string().into_bytes(),
        ],
    );
    Reply::Int(1).into()
}

pub fn persist(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match e.lookup(ctx, &a[1]) {
        Some(entry) if entry.expire_ms.is_some() => {
            let (d, cow) = e.ks_mut().db_mut(ctx.db);
            d.set_expire(&a[1], None, cow);
            e.prop(ctx, a);
            Reply::Int(1).into()
        }
        _ => Reply::Int(0).into(),
    }
}

pub fn ttl(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    ttl_generic(e, ctx, a, 1000)
}

pub fn pttl(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    ttl_generic(e, ctx, a, 1)
}

/// TTL / PTTL: -2 missing, -1 no expiry, else the time left in `unit_ms` units (rounded).
fn ttl_generic(e: &mut Engine, ctx: &mut Ctx, a: &Args, unit_ms: i64) -> Out {
    match e.lookup(ctx, &a[1]) {
        None => Reply::Int(-2).into(),
        Some(entry) => match entry.expire_ms {
            None => Reply::Int(-1).into(),
            Some(t) => {
                let ms = (t - e.unix_ms()).max(0);
                Reply::Int((ms + unit_ms / 2) / unit_ms).into()
            }
        },
    }
}

pub fn type_(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match e.lookup(ctx, &a[1]) {
        None => Reply::Simple("none".into()).into(),
        Some(entry) => Reply::Simple(entry.value.type_name().into()).into(),
    }
}

pub fn keys(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let now = e.unix_ms();
    let keys: Vec<Vec<u8>> = e
        .ks()
        .db(ctx.db)
        .iter()
        .filter(|(k, entry)| glob_match(&a[1], k) && entry.expire_ms.is_none_or(|t| t > now))
        .map(|(k, _)| k.to_vec())
        .collect();
    bulk_array(keys).into()
}

/// SCAN: the cursor is the next shard index, so every key present for the whole scan is
/// returned once.
pub fn scan(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let Some(cursor) = std::str::from_utf8(&a[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return err("ERR invalid cursor");
    };
    let (mut count, mut pattern, mut typ) = (10usize, None, None);
    let mut i = 2;
    while i < a.len() {
        let o = lower(&a[i]);
        if i + 1 >= a.len() {
            return err(SYNTAX);
        }
        match o.as_str() {
            "count" => match parse_i64(&a[i + 1]) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => return err(SYNTAX),
                None => return err(NOT_INT),
            },
            "match" => pattern = Some(a[i + 1].clone()),
            "type" => typ = Some(lower(&a[i + 1])),
            _ => return err(SYNTAX),
        }
        i += 2;
    }
    let mut shard = usize::try_from(cursor).unwrap_or(usize::MAX);
    let mut keys = Vec::new();
    while shard < SHARDS && keys.len() < count {
        for k in e.ks().db(ctx.db).shard_keys(shard) {
            if pattern.as_ref().is_some_and(|p| !glob_match(p, &k)) {
                continue;
            }
            match e.lookup(ctx, &k) {
                Some(entry) if typ.as_ref().is_none_or(|t| t == entry.value.type_name()) => {
                    keys.push(k)
                }
                _ => {}
            }
        }
        shard += 1;
    }
    let next = if shard >= SHARDS { 0 } else { shard };
    Reply::Array(vec![Reply::bulk(next.to_string()), bulk_array(keys)]).into()
}

pub fn randomkey(e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    let k = e.ks().db(ctx.db).iter().next().map(|(k, _)| k.to_vec());
    k.map(Reply::Bulk).unwrap_or(Reply::Nil).into()
}

pub fn dbsize(e: &mut Engine, ctx: &mut Ctx, _a: &Args) -> Out {
    Reply::Int(e.ks().db(ctx.db).len() as i64).into()
}

pub fn flushdb(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    flush(e, ctx, a, false)
}

pub fn flushall(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    flush(e, ctx, a, true)
}

fn flush(e: &mut Engine, ctx: &mut Ctx, a: &Args, all: bool) -> Out {
    if a.len() > 2 || (a.len() == 2 && !["sync", "async"].contains(&lower(&a[1]).as_str())) {
        return err(SYNTAX);
    }
    if all {
        e.ks_mut().flush_all();
    } else {
        e.ks_mut().dbs[ctx.db] = Default::default();
    }
    e.prop(ctx, a);
    Reply::ok().into()
}

pub fn rename(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    rename_generic(e, ctx, a, false)
}

pub fn renamenx(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    rename_generic(e, ctx, a, true)
}

fn rename_generic(e: &mut Engine, ctx: &mut Ctx, a: &Args, nx: bool) -> Out {
    let Some(entry) = e.lookup(ctx, &a[1]) else {
        return err("ERR no such key");
    };
    if nx && e.lookup(ctx, &a[2]).is_some() {
        return Reply::Int(0).into();
    }
    e.remove_key(ctx.db, &a[1]);
    let (d, cow) = e.ks_mut().db_mut(ctx.db);
    d.set(a[2].clone(), entry, cow);
    e.prop(ctx, a);
    if nx { Reply::Int(1) } else { Reply::ok() }.into()
}
