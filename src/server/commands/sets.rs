//! Set commands (`t_set.c`).

use super::aggregate::{agg, agg_mut, pop_count, reply};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

pub fn sadd(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    change_members(e, ctx, a, true)
}

pub fn srem(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    change_members(e, ctx, a, false)
}

/// SADD (`add`) / SREM: the reply counts members actually added or removed.
fn change_members(e: &mut Engine, ctx: &mut Ctx, a: &Args, add: bool) -> Out {
    let n = agg_mut(e, ctx, &a[1], "set", add, |v| {
        let Value::Set(s) = v else { return 0 };
        let mut n = 0;
        for m in &a[2..] {
            if add && !s.contains(m) {
                s.push(m.clone());
                n += 1;
            } else if !add {
                if let Some(i) = s.iter().position(|x| x == m) {
                    s.swap_remove(i);
                    n += 1;
                }
            }
        }
        n
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

pub fn spop(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let count = match pop_count(a, 2) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let popped = match agg_mut(e, ctx, &a[1], "set", false, |v| match v {
        Value::Set(s) => {
            let n = count.unwrap_or(1).min(s.len());
            s.split_off(s.len() - n)
        }
        _ => Vec::new(),
    }) {
        Ok(p) => p.unwrap_or_default(),
        Err(o) => return o,
    };
    // The stream carries SREM with the members actually removed (spopCommand).
    for m in &popped {
        e.prop(ctx, &[b"SREM".to_vec(), a[1].clone(), m.clone()]);
    }
    match count {
        None => popped
            .into_iter()
            .next()
            .map(Reply::Bulk)
            .unwrap_or(Reply::Nil),
        Some(_) => Reply::Set(popped.into_iter().map(Reply::Bulk).collect()),
    }
    .into()
}

/// Runs `f` on the set at `a[1]` (empty if missing).
fn read(e: &mut Engine, ctx: &Ctx, a: &Args, f: impl FnOnce(&[Vec<u8>]) -> Reply) -> Out {
    reply(agg(e, ctx, &a[1], "set").map(|v| {
        let s: &[Vec<u8>] = match v.as_deref() {
            Some(Value::Set(s)) => s,
            _ => &[],
        };
        f(s).into()
    }))
}

pub fn smembers(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |s| {
        Reply::Set(s.iter().cloned().map(Reply::Bulk).collect())
    })
}

pub fn scard(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |s| Reply::Int(s.len() as i64))
}

pub fn sismember(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |s| Reply::Int(s.contains(&a[2]) as i64))
}
