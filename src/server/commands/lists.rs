//! List commands (`t_list.c`).

use super::aggregate::{agg, agg_mut, pop_count, range, reply};
use super::{err, parse_i64, NOT_INT};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

pub fn lpush(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(push(e, ctx, a, true))
}

pub fn rpush(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(push(e, ctx, a, false))
}

fn push(e: &mut Engine, ctx: &Ctx, a: &Args, front: bool) -> Result<Out, Out> {
    let n = agg_mut(e, ctx, &a[1], "list", true, |v| match v {
        Value::List(l) => {
            for x in &a[2..] {
                if front {
                    l.push_front(x.clone());
                } else {
                    l.push_back(x.clone());
                }
            }
            l.len() as i64
        }
        _ => 0,
    })?;
    e.prop(ctx, a);
    Ok(Reply::Int(n.unwrap_or(0)).into())
}

pub fn lpop(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(pop(e, ctx, a, true))
}

pub fn rpop(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(pop(e, ctx, a, false))
}

fn pop(e: &mut Engine, ctx: &Ctx, a: &Args, front: bool) -> Result<Out, Out> {
    let count = pop_count(a, 2)?;
    let popped = agg_mut(e, ctx, &a[1], "list", false, |v| match v {
        Value::List(l) => {
            let n = count.unwrap_or(1).min(l.len());
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                out.extend(if front { l.pop_front() } else { l.pop_back() });
            }
            out
        }
        _ => Vec::new(),
    })?;
    let Some(popped) = popped.filter(|p| !p.is_empty()) else {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::Nil
        }
        .into());
    };
    e.prop(ctx, a);
    Ok(match count {
        None => Reply::Bulk(popped.into_iter().next().unwrap_or_default()),
        Some(_) => Reply::Array(popped.into_iter().map(Reply::Bulk).collect()),
    }
    .into())
}

pub fn llen(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(agg(e, ctx, &a[1], "list").map(|v| {
        Reply::Int(match v.as_deref() {
            Some(Value::List(l)) => l.len() as i64,
            _ => 0,
        })
        .into()
    }))
}

pub fn lrange(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let (Some(s), Some(end)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
        return err(NOT_INT);
    };
    reply(agg(e, ctx, &a[1], "list").map(|v| {
        let items = match v.as_deref() {
            Some(Value::List(l)) => match range(l.len(), s, end) {
                Some((s, end)) => l.range(s..=end).cloned().map(Reply::Bulk).collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        Reply::Array(items).into()
    }))
}

pub fn ltrim(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let (Some(s), Some(end)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
        return err(NOT_INT);
    };
    let changed = agg_mut(e, ctx, &a[1], "list", false, |v| {
        if let Value::List(l) = v {
            match range(l.len(), s, end) {
                Some((s, end)) => {
                    l.truncate(end + 1);
                    l.drain(..s);
                }
                None => l.clear(),
            }
        }
    });
    match changed {
        Err(o) => o,
        Ok(changed) => {
            // A missing key changes nothing, so nothing is propagated (ltrimCommand).
            if changed.is_some() {
                e.prop(ctx, a);
            }
            Reply::ok().into()
        }
    }
}
