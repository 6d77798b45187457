//! Lists, hashes, sets and sorted sets: enough to inspect any dataset a 7.0 master sends, to
//! apply the writes it streams, and to run redis-benchmark's default tests.
//!
//! Values are changed in place (`Arc::make_mut`): a value is copied only while a BGSAVE
//! snapshot still shares it (copy-on-write), never on every command. Hashes, sets and sorted
//! sets are small vectors searched linearly: fine for teaching datasets, slow for aggregates
//! with hundreds of thousands of members (a known limit).

use std::collections::VecDeque;
use std::sync::Arc;

use super::commands::{parse_i64, Ctx, Out, NOT_INT, SYNTAX, WRONGTYPE};
use super::engine::Engine;
use crate::rdb::Value;
use crate::wire::Reply;

fn err(s: &str) -> Out {
    Out::R(Reply::err(s))
}

fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok().filter(|f| !f.is_nan()),
    }
}

fn empty_of(kind: &str) -> Value {
    match kind {
        "list" => Value::List(VecDeque::new()),
        "hash" => Value::Hash(Vec::new()),
        "set" => Value::Set(Vec::new()),
        _ => Value::ZSet(Vec::new()),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::List(x) => x.is_empty(),
        Value::Hash(x) => x.is_empty(),
        Value::Set(x) => x.is_empty(),
        Value::ZSet(x) => x.is_empty(),
        _ => false,
    }
}

/// Start and end (inclusive) of a Redis range over `len` items, or `None` if empty.
fn range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(len - 1));
    (len > 0 && s <= e && s < len).then_some((s as usize, e as usize))
}

fn pop_count(a: &[Vec<u8>], at: usize) -> Result<Option<usize>, Out> {
    match a.get(at) {
        None => Ok(None),
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Ok(Some(n as usize)),
            _ => Err(err("ERR value is out of range, must be positive")),
        },
    }
}

impl Engine {
    /// Reads an aggregate without copying it.
    fn agg(&mut self, ctx: &Ctx, key: &[u8], want: &str) -> Result<Option<Arc<Value>>, Out> {
        match self.lookup(ctx, key) {
            None => Ok(None),
            Some(e) if e.value.type_name() == want => Ok(Some(e.value)),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    /// Changes an aggregate in place. A missing key is created empty when `create`, else `f`
    /// is not called (`Ok(None)`). An aggregate left empty is deleted, as Redis does.
    fn agg_mut<R>(
        &mut self,
        ctx: &Ctx,
        key: &[u8],
        want: &str,
        create: bool,
        f: impl FnOnce(&mut Value) -> R,
    ) -> Result<Option<R>, Out> {
        match self.lookup(ctx, key).map(|e| e.value.type_name() == want) {
            Some(false) => return Err(err(WRONGTYPE)),
            Some(true) => {}
            None if !create => return Ok(None),
            None => self.set_value(ctx.db, key, empty_of(want), None),
        }
        let (d, cow) = self.ks.db_mut(ctx.db);
        let Some(entry) = d.get_mut(key, cow) else {
            return Ok(None);
        };
        let v = Arc::make_mut(&mut entry.value);
        let r = f(v);
        if is_empty(v) {
            d.remove(key, cow);
        }
        Ok(Some(r))
    }

    /// Runs an aggregate command; `None` if `name` is not one.
    pub fn run_aggregate(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Option<Out> {
        let r = match name {
            "lpush" | "rpush" | "lpop" | "rpop" | "llen" | "lrange" | "ltrim" => {
                self.list_cmd(ctx, name, a)
            }
            "hset" | "hmset" | "hsetnx" | "hincrby" | "hdel" | "hget" | "hgetall" | "hlen"
            | "hexists" => self.hash_cmd(ctx, name, a),
            "sadd" | "srem" | "smembers" | "scard" | "sismember" | "spop" => {
                self.set_cmd(ctx, name, a)
            }
            "zadd" | "zrem" | "zscore" | "zcard" | "zrange" | "zincrby" | "zpopmin" | "zpopmax" => {
                self.zset_cmd(ctx, name, a)
            }
            _ => return None,
        };
        Some(r.unwrap_or_else(|o| o))
    }

    fn list_cmd(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Result<Out, Out> {
        let key = &a[1];
        match name {
            "lpush" | "rpush" => {
                let n = self.agg_mut(ctx, key, "list", true, |v| match v {
                    Value::List(l) => {
                        for x in &a[2..] {
                            if name == "lpush" {
                                l.push_front(x.clone());
                            } else {
                                l.push_back(x.clone());
                            }
                        }
                        l.len() as i64
                    }
                    _ => 0,
                })?;
                self.prop(ctx, a);
                Ok(Reply::Int(n.unwrap_or(0)).into())
            }
            "lpop" | "rpop" => {
                let count = pop_count(a, 2)?;
                let popped = self.agg_mut(ctx, key, "list", false, |v| match v {
                    Value::List(l) => {
                        let n = count.unwrap_or(1).min(l.len());
                        let mut out = Vec::with_capacity(n);
                        for _ in 0..n {
                            let x = if name == "lpop" {
                                l.pop_front()
                            } else {
                                l.pop_back()
                            };
                            out.extend(x);
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
                self.prop(ctx, a);
                Ok(match count {
                    None => Reply::Bulk(popped.into_iter().next().unwrap_or_default()),
                    Some(_) => Reply::Array(popped.into_iter().map(Reply::Bulk).collect()),
                }
                .into())
            }
            "llen" => Ok(Reply::Int(match self.agg(ctx, key, "list")?.as_deref() {
                Some(Value::List(l)) => l.len() as i64,
                _ => 0,
            })
            .into()),
            "lrange" => {
                let (Some(s), Some(e)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
                    return Err(err(NOT_INT));
                };
                let v = self.agg(ctx, key, "list")?;
                let items = match v.as_deref() {
                    Some(Value::List(l)) => match range(l.len(), s, e) {
                        Some((s, e)) => l.range(s..=e).cloned().map(Reply::Bulk).collect(),
                        None => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                Ok(Reply::Array(items).into())
            }
            _ => {
                let (Some(s), Some(e)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
                    return Err(err(NOT_INT));
                };
                let changed = self.agg_mut(ctx, key, "list", false, |v| {
                    if let Value::List(l) = v {
                        match range(l.len(), s, e) {
                            Some((s, e)) => {
                                l.truncate(e + 1);
                                l.drain(..s);
                            }
                            None => l.clear(),
                        }
                    }
                })?;
                // A missing key changes nothing, so nothing is propagated (ltrimCommand).
                if changed.is_some() {
                    self.prop(ctx, a);
                }
                Ok(Reply::ok().into())
            }
        }
    }

    fn hash_cmd(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Result<Out, Out> {
        let key = &a[1];
        match name {
            "hset" | "hmset" => {
                if a.len() % 2 != 0 {
                    return Err(err(&format!(
                        "ERR wrong number of arguments for '{name}' command"
                    )));
                }
                let added = self.agg_mut(ctx, key, "hash", true, |v| {
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
                self.prop(ctx, a);
                Ok(if name == "hset" {
                    Reply::Int(added.unwrap_or(0))
                } else {
                    Reply::ok()
                }
                .into())
            }
            "hsetnx" => {
                let set = self.agg_mut(ctx, key, "hash", true, |v| match v {
                    Value::Hash(h) if !h.iter().any(|(f, _)| *f == a[2]) => {
                        h.push((a[2].clone(), a[3].clone()));
                        true
                    }
                    _ => false,
                })?;
                if set == Some(true) {
                    self.prop(ctx, a);
                }
                Ok(Reply::Int((set == Some(true)) as i64).into())
            }
            "hincrby" => {
                let Some(by) = parse_i64(&a[3]) else {
                    return Err(err(NOT_INT));
                };
                let r = self.agg_mut(ctx, key, "hash", true, |v| {
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
                })?;
                match r {
                    Some(Ok(n)) => {
                        self.prop(ctx, a);
                        Ok(Reply::Int(n).into())
                    }
                    Some(Err(e)) => Err(err(e)),
                    None => Err(err(NOT_INT)),
                }
            }
            "hdel" => {
                let n = self.agg_mut(ctx, key, "hash", false, |v| match v {
                    Value::Hash(h) => {
                        let before = h.len();
                        h.retain(|(f, _)| !a[2..].contains(f));
                        (before - h.len()) as i64
                    }
                    _ => 0,
                })?;
                let n = n.unwrap_or(0);
                if n > 0 {
                    self.prop(ctx, a);
                }
                Ok(Reply::Int(n).into())
            }
            _ => {
                let v = self.agg(ctx, key, "hash")?;
                let h: &[(Vec<u8>, Vec<u8>)] = match v.as_deref() {
                    Some(Value::Hash(h)) => h,
                    _ => &[],
                };
                Ok(match name {
                    "hget" => h
                        .iter()
                        .find(|(f, _)| *f == a[2])
                        .map(|(_, x)| Reply::Bulk(x.clone()))
                        .unwrap_or(Reply::Nil),
                    "hexists" => Reply::Int(h.iter().any(|(f, _)| *f == a[2]) as i64),
                    "hlen" => Reply::Int(h.len() as i64),
                    _ => Reply::Map(
                        h.iter()
                            .map(|(f, x)| (Reply::Bulk(f.clone()), Reply::Bulk(x.clone())))
                            .collect(),
                    ),
                }
                .into())
            }
        }
    }

    fn set_cmd(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Result<Out, Out> {
        let key = &a[1];
        match name {
            "sadd" | "srem" => {
                let n = self.agg_mut(ctx, key, "set", name == "sadd", |v| {
                    let Value::Set(s) = v else { return 0 };
                    let mut n = 0;
                    for m in &a[2..] {
                        if name == "sadd" && !s.contains(m) {
                            s.push(m.clone());
                            n += 1;
                        } else if name == "srem" {
                            if let Some(i) = s.iter().position(|x| x == m) {
                                s.swap_remove(i);
                                n += 1;
                            }
                        }
                    }
                    n
                })?;
                let n = n.unwrap_or(0);
                if n > 0 {
                    self.prop(ctx, a);
                }
                Ok(Reply::Int(n).into())
            }
            "spop" => {
                let count = pop_count(a, 2)?;
                let popped = self.agg_mut(ctx, key, "set", false, |v| match v {
                    Value::Set(s) => {
                        let n = count.unwrap_or(1).min(s.len());
                        s.split_off(s.len() - n)
                    }
                    _ => Vec::new(),
                })?;
                let popped = popped.unwrap_or_default();
                // The stream carries SREM with the members actually removed (spopCommand).
                for m in &popped {
                    self.prop(ctx, &[b"SREM".to_vec(), key.clone(), m.clone()]);
                }
                Ok(match count {
                    None => popped
                        .into_iter()
                        .next()
                        .map(Reply::Bulk)
                        .unwrap_or(Reply::Nil),
                    Some(_) => Reply::Set(popped.into_iter().map(Reply::Bulk).collect()),
                }
                .into())
            }
            _ => {
                let v = self.agg(ctx, key, "set")?;
                let s: &[Vec<u8>] = match v.as_deref() {
                    Some(Value::Set(s)) => s,
                    _ => &[],
                };
                Ok(match name {
                    "scard" => Reply::Int(s.len() as i64),
                    "sismember" => Reply::Int(s.contains(&a[2]) as i64),
                    _ => Reply::Set(s.iter().cloned().map(Reply::Bulk).collect()),
                }
                .into())
            }
        }
    }

    fn zset_cmd(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Result<Out, Out> {
        let key = &a[1];
        match name {
            "zadd" => {
                if a.len() % 2 != 0 {
                    return Err(err(SYNTAX));
                }
                let mut pairs = Vec::new();
                for p in a[2..].chunks(2) {
                    let score =
                        parse_f64(&p[0]).ok_or_else(|| err("ERR value is not a valid float"))?;
                    pairs.push((p[1].clone(), score));
                }
                let added = self.agg_mut(ctx, key, "zset", true, |v| {
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
                })?;
                self.prop(ctx, a);
                Ok(Reply::Int(added.unwrap_or(0)).into())
            }
            "zincrby" => {
                let by = parse_f64(&a[2]).ok_or_else(|| err("ERR value is not a valid float"))?;
                let new = self.agg_mut(ctx, key, "zset", true, |v| {
                    let Value::ZSet(z) = v else { return f64::NAN };
                    match z.iter_mut().find(|(m, _)| *m == a[3]) {
                        Some(slot) => {
                            slot.1 += by;
                            slot.1
                        }
                        None => {
                            z.push((a[3].clone(), by));
                            by
                        }
                    }
                })?;
                let new = new.unwrap_or(f64::NAN);
                if new.is_nan() {
                    return Err(err("ERR resulting score is not a number (NaN)"));
                }
                self.prop(ctx, a);
                Ok(Reply::Double(new).into())
            }
            "zrem" => {
                let n = self.agg_mut(ctx, key, "zset", false, |v| match v {
                    Value::ZSet(z) => {
                        let before = z.len();
                        z.retain(|(m, _)| !a[2..].contains(m));
                        (before - z.len()) as i64
                    }
                    _ => 0,
                })?;
                let n = n.unwrap_or(0);
                if n > 0 {
                    self.prop(ctx, a);
                }
                Ok(Reply::Int(n).into())
            }
            "zpopmin" | "zpopmax" => {
                let count = pop_count(a, 2)?.unwrap_or(1);
                let popped = self.agg_mut(ctx, key, "zset", false, |v| {
                    let Value::ZSet(z) = v else { return Vec::new() };
                    z.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
                    let n = count.min(z.len());
                    if name == "zpopmin" {
                        z.drain(..n).collect()
                    } else {
                        let at = z.len() - n;
                        z.drain(at..).rev().collect::<Vec<_>>()
                    }
                })?;
                let popped = popped.unwrap_or_default();
                if !popped.is_empty() {
                    self.prop(ctx, a);
                }
                let mut out = Vec::new();
                for (m, sc) in popped {
                    out.push(Reply::Bulk(m));
                    out.push(Reply::Double(sc));
                }
                Ok(Reply::Array(out).into())
            }
            _ => {
                let v = self.agg(ctx, key, "zset")?;
                let z: &[(Vec<u8>, f64)] = match v.as_deref() {
                    Some(Value::ZSet(z)) => z,
                    _ => &[],
                };
                Ok(match name {
                    "zscore" => z
                        .iter()
                        .find(|(m, _)| *m == a[2])
                        .map(|(_, s)| Reply::Double(*s))
                        .unwrap_or(Reply::Nil),
                    "zcard" => Reply::Int(z.len() as i64),
                    _ => {
                        let (Some(s), Some(e)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
                            return Err(err(NOT_INT));
                        };
                        let withscores = a
                            .get(4)
                            .is_some_and(|o| o.eq_ignore_ascii_case(b"withscores"));
                        if a.len() > 5 || (a.len() == 5 && !withscores) {
                            return Err(err(SYNTAX));
                        }
                        let mut sorted: Vec<&(Vec<u8>, f64)> = z.iter().collect();
                        sorted.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
                        let mut out = Vec::new();
                        if let Some((s, e)) = range(sorted.len(), s, e) {
                            for (m, sc) in &sorted[s..=e] {
                                out.push(Reply::Bulk(m.clone()));
                                if withscores {
                                    out.push(Reply::Double(*sc));
                                }
                            }
                        }
                        Reply::Array(out)
                    }
                }
                .into())
            }
        }
    }
}
