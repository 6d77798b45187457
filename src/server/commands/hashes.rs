//! Hash commands (`t_hash.c`).

use super::aggregate::{agg, agg_mut, reply};
use super::{err, parse_i64, NOT_INT};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

pub fn hset(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(set_fields(e, ctx, a, "hset"))
}

pub fn hmset(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(set_fields(e, ctx, a, "hmset"))
}

fn set_fields(e: &mut Engine, ctx: &Ctx, a: &Args, name: &str) -> Result<Out, Out> {
    if a.len() % 2 != 0 {
        return Err(err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    let added = agg_mut(e, ctx, &a[1], "hash", true, |v| {
        let mut added = 0;
        if let Value::Hash(h) = v {
            for p in a[2..].chunks(2) {
                match h.iter_mut().find(|(f, _)| *f == p[0]) {
                    Some(slot) => slot.1 = p[1].clone(),
                    None => {
                        h.push((p[0].clone(), p[1].clone()));
                        added += 1;
                    }
                }
            }
        }
        added
    })?;
    e.prop(ctx, a);
    Ok(if name == "hset" {
        Reply::Int(added.unwrap_or(0))
    } else {
        Reply::ok()
    }
    .into())
}

pub fn hsetnx(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let set = agg_mut(e, ctx, &a[1], "hash", true, |v| match v {
        Value::Hash(h) if !h.iter().any(|(f, _)| *f == a[2]) => {
            h.push((a[2].clone(), a[3].clone()));
            true
        }
        _ => false,
    });
    match set {
        Err(o) => o,
        Ok(set) => {
            if set == Some(true) {
                e.prop(ctx, a);
            }
            Reply::Int((set == Some(true)) as i64).into()
        }
    }
}

pub fn hincrby(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let Some(by) = parse_i64(&a[3]) else {
        return err(NOT_INT);
    };
    let r = agg_mut(e, ctx, &a[1], "hash", true, |v| {
        let Value::Hash(h) = v else {
            return Err("ERR hash value is not an integer");
        };
        let pos = h.iter().position(|(f, _)| *f == a[2]);
        let cur = match pos {
            Some(i) => parse_i64(&h[i].1).ok_or("ERR hash value is not an integer")?,
            None => 0,
        };
        let new = cur
            .checked_add(by)
            .ok_or("ERR increment or decrement would overflow")?;
        let text = new.to_string().into_bytes();
        match pos {
            Some(i) => h[i].1 = text,
            None => h.push((a[2].clone(), text)),
        }
        Ok(new)
    });
    match r {
        Err(o) => o,
        Ok(Some(Ok(n))) => {
            e.prop(ctx, a);
            Reply::Int(n).into()
        }
        Ok(Some(Err(text))) => err(text),
        Ok(None) => err(NOT_INT),
    }
}

pub fn hdel(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let n = agg_mut(e, ctx, &a[1], "hash", false, |v| match v {
        Value::Hash(h) => {
            let before = h.len();
            h.retain(|(f, _)| !a[2..].contains(f));
            (before - h.len()) as i64
        }
        _ => 0,
    });
    match n {
        Err(o) => o,
        Ok(n) => {
            let n = n.unwrap_or(0);
            if n > 0 {
                e.prop(ctx, a);
            }
            Reply::Int(n).into()
        }
    }
}

/// Runs `f` on the hash at `a[1]` (empty if missing).
fn read(
    e: &mut Engine,
    ctx: &Ctx,
    a: &Args,
    f: impl FnOnce(&[(Vec<u8>, Vec<u8>)]) -> Reply,
) -> Out {
    reply(agg(e, ctx, &a[1], "hash").map(|v| {
        let h: &[(Vec<u8>, Vec<u8>)] = match v.as_deref() {
            Some(Value::Hash(h)) => h,
            _ => &[],
        };
        f(h).into()
    }))
}

pub fn hget(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |h| {
        h.iter()
            .find(|(f, _)| *f == a[2])
            .map(|(_, x)| Reply::Bulk(x.clone()))
            .unwrap_or(Reply::Nil)
    })
}

pub fn hexists(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |h| {
        Reply::Int(h.iter().any(|(f, _)| *f == a[2]) as i64)
    })
}

pub fn hlen(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |h| Reply::Int(h.len() as i64))
}

pub fn hgetall(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |h| {
        Reply::Map(
            h.iter()
                .map(|(f, x)| (Reply::Bulk(f.clone()), Reply::Bulk(x.clone())))
                .collect(),
        )
    })
}
