//! Sorted set commands (`t_zset.c`).

use super::aggregate::{agg, agg_mut, pop_count, range, reply};
use super::{err, parse_f64, parse_i64, NOT_FLOAT, NOT_INT, SYNTAX};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

fn by_score(x: &(Vec<u8>, f64), y: &(Vec<u8>, f64)) -> std::cmp::Ordering {
    x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0))
}

pub fn zadd(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    if a.len() % 2 != 0 {
        return err(SYNTAX);
    }
    let mut pairs = Vec::with_capacity((a.len() - 2) / 2);
    for p in a[2..].chunks(2) {
        let Some(score) = parse_f64(&p[0]) else {
            return err(NOT_FLOAT);
        };
        pairs.push((p[1].clone(), score));
    }
    let added = agg_mut(e, ctx, &a[1], "zset", true, |v| {
        let Value::ZSet(z) = v else { return 0 };
        let mut added = 0;
        for (m, score) in pairs {
            match z.iter_mut().find(|(x, _)| *x == m) {
                Some(slot) => slot.1 = score,
                None => {
                    z.push((m, score));
                    added += 1;
                }
            }
        }
        added
    });
    match added {
        Err(o) => o,
        Ok(added) => {
            e.prop(ctx, a);
            Reply::Int(added.unwrap_or(0)).into()
        }
    }
}

pub fn zincrby(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let Some(by) = parse_f64(&a[2]) else {
        return err(NOT_FLOAT);
    };
    // The new score is computed before anything is stored: `inf + -inf` is NaN, which
    // zsetAdd refuses, leaving the old score (a NaN stored would poison SAVE, the RDB, and
    // every replica).
    let new = agg_mut(e, ctx, &a[1], "zset", true, |v| {
        let Value::ZSet(z) = v else { return None };
        match z.iter_mut().find(|(m, _)| *m == a[3]) {
            Some(slot) => {
                let new = slot.1 + by;
                if new.is_nan() {
                    return None;
                }
                slot.1 = new;
                Some(new)
            }
            None => {
                z.push((a[3].clone(), by));
                Some(by)
            }
        }
    });
    match new {
        Err(o) => o,
        Ok(Some(Some(new))) => {
            e.prop(ctx, a);
            Reply::Double(new).into()
        }
        Ok(_) => err("ERR resulting score is not a number (NaN)"),
    }
}

pub fn zrem(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let n = agg_mut(e, ctx, &a[1], "zset", false, |v| match v {
        Value::ZSet(z) => {
            let before = z.len();
            z.retain(|(m, _)| !a[2..].contains(m));
            (before - z.len()) as i64
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

pub fn zpopmin(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(pop(e, ctx, a, true))
}

pub fn zpopmax(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    reply(pop(e, ctx, a, false))
}

fn pop(e: &mut Engine, ctx: &Ctx, a: &Args, min: bool) -> Result<Out, Out> {
    let count = pop_count(a, 2)?.unwrap_or(1);
    let popped = agg_mut(e, ctx, &a[1], "zset", false, |v| {
        let Value::ZSet(z) = v else { return Vec::new() };
        z.sort_by(by_score);
        let n = count.min(z.len());
        if min {
            z.drain(..n).collect()
        } else {
            let at = z.len() - n;
            z.drain(at..).rev().collect::<Vec<_>>()
        }
    })?;
    let popped = popped.unwrap_or_default();
    if !popped.is_empty() {
        e.prop(ctx, a);
    }
    let mut out = Vec::with_capacity(popped.len() * 2);
    for (m, sc) in popped {
        out.push(Reply::Bulk(m));
        out.push(Reply::Double(sc));
    }
    Ok(Reply::Array(out).into())
}

/// Runs `f` on the sorted set at `a[1]` (empty if missing).
fn read(e: &mut Engine, ctx: &Ctx, a: &Args, f: impl FnOnce(&[(Vec<u8>, f64)]) -> Out) -> Out {
    reply(agg(e, ctx, &a[1], "zset").map(|v| {
        let z: &[(Vec<u8>, f64)] = match v.as_deref() {
            Some(Value::ZSet(z)) => z,
            _ => &[],
        };
        f(z)
    }))
}

pub fn zscore(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |z| {
        z.iter()
            .find(|(m, _)| *m == a[2])
            .map(|(_, s)| Reply::Double(*s))
            .unwrap_or(Reply::Nil)
            .into()
    })
}

pub fn zcard(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |z| Reply::Int(z.len() as i64).into())
}

pub fn zrange(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    read(e, ctx, a, |z| {
        let (Some(s), Some(end)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
            return err(NOT_INT);
        };
        let withscores = a
            .get(4)
            .is_some_and(|o| o.eq_ignore_ascii_case(b"withscores"));
        if a.len() > 5 || (a.len() == 5 && !withscores) {
            return err(SYNTAX);
        }
        let mut sorted: Vec<&(Vec<u8>, f64)> = z.iter().collect();
        sorted.sort_by(|x, y| by_score(x, y));
        let mut out = Vec::new();
        if let Some((s, end)) = range(sorted.len(), s, end) {
            for (m, sc) in &sorted[s..=end] {
                out.push(Reply::Bulk(m.clone()));
                if withscores {
                    out.push(Reply::Double(*sc));
                }
            }
        }
        Reply::Array(out).into()
    })
}
