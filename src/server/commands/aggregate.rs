//! What lists, hashes, sets and sorted sets share: typed access to an aggregate, in place.
//!
//! Values are changed in place (`Arc::make_mut`): a value is copied only while a BGSAVE
//! snapshot still shares it (copy-on-write), never on every command. Hashes, sets and sorted
//! sets are small vectors searched linearly: fine for teaching datasets, slow for aggregates
//! with hundreds of thousands of members (a known limit).

use std::collections::VecDeque;
use std::sync::Arc;

use super::{err, parse_i64, WRONGTYPE};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};

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
pub fn range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(len - 1));
    (len > 0 && s <= e && s < len).then_some((s as usize, e as usize))
}

/// The optional count argument of the POP commands.
pub fn pop_count(a: &Args, at: usize) -> Result<Option<usize>, Out> {
    match a.get(at) {
        None => Ok(None),
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Ok(Some(n as usize)),
            _ => Err(err("ERR value is out of range, must be positive")),
        },
    }
}

/// Reads an aggregate of type `want` without copying it.
pub fn agg(e: &mut Engine, ctx: &Ctx, key: &[u8], want: &str) -> Result<Option<Arc<Value>>, Out> {
    match e.lookup(ctx, key) {
        None => Ok(None),
        Some(entry) if entry.value.type_name() == want => Ok(Some(entry.value)),
        Some(_) => Err(err(WRONGTYPE)),
    }
}

/// Changes an aggregate in place. A missing key is created empty when `create`, else `f`
/// is not called (`Ok(None)`). An aggregate left empty is deleted, as Redis does.
pub fn agg_mut<R>(
    e: &mut Engine,
    ctx: &Ctx,
    key: &[u8],
    want: &str,
    create: bool,
    f: impl FnOnce(&mut Value) -> R,
) -> Result<Option<R>, Out> {
    match e
        .lookup(ctx, key)
        .map(|entry| entry.value.type_name() == want)
    {
        Some(false) => return Err(err(WRONGTYPE)),
        Some(true) => {}
        None if !create => return Ok(None),
        None => e.set_value(ctx.db, key, empty_of(want), None),
    }
    let (d, cow) = e.ks_mut().db_mut(ctx.db);
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

/// Runs a handler body that short-circuits with `?` on an error reply.
pub fn reply(r: Result<Out, Out>) -> Out {
    r.unwrap_or_else(|o| o)
}
