//! String commands (`t_string.c`), with the rewrites Redis applies before propagating
//! (relative expiry becomes `PXAT`, float increments become `SET ... KEEPTTL`).

use super::{err, lower, parse_f64, parse_i64, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE};
use crate::rdb::Value;
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::reply::format_double;
use crate::wire::Reply;

/// A string value and its expire time.
type StringWithTtl = (Vec<u8>, Option<i64>);

/// The string at `key`, `None` if missing, `WRONGTYPE` if another type.
fn get_string(e: &mut Engine, ctx: &Ctx, key: &[u8]) -> Result<Option<StringWithTtl>, Reply> {
    match e.lookup(ctx, key) {
        None => Ok(None),
        Some(entry) => match entry.value.as_ref() {
            Value::String(s) => Ok(Some((s.clone(), entry.expire_ms))),
            _ => Err(Reply::err(WRONGTYPE)),
        },
    }
}

pub fn get(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match e.lookup(ctx, &a[1]) {
        Some(entry) if matches!(entry.value.as_ref(), Value::String(_)) => {
            e.stats_mut().keyspace_hits += 1;
            Out::Bulk(entry.value)
        }
        Some(_) => err(WRONGTYPE),
        None => {
            e.stats_mut().keyspace_misses += 1;
            Reply::Nil.into()
        }
    }
}

pub fn set(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
    let mut expire: Option<(String, i64)> = None;
    let mut i = 3;
    while i < a.len() {
        let opt = lower(&a[i]);
        match opt.as_str() {
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            "get" => get = true,
            "keepttl" if expire.is_none() => keepttl = true,
            "ex" | "px" | "exat" | "pxat" if expire.is_none() && !keepttl && i + 1 < a.len() => {
                let Some(n) = parse_i64(&a[i + 1]) else {
                    return err(NOT_INT);
                };
                expire = Some((opt, n));
                i += 1;
            }
            _ => return err(SYNTAX),
        }
        i += 1;
    }
    let now = e.unix_ms();
    let abs = match &expire {
        None => None,
        Some((unit, n)) => {
            let ms = match unit.as_str() {
                "ex" => n.checked_mul(1000).and_then(|m| m.checked_add(now)),
                "px" => n.checked_add(now),
                "exat" => n.checked_mul(1000),
                _ => Some(*n),
            };
            match ms {
                Some(ms) if *n > 0 => Some(ms),
                _ => return err("ERR invalid expire time in 'set' command"),
            }
        }
    };
    let old = e.lookup(ctx, &a[1]);
    let old_str = match &old {
        Some(entry) => match entry.value.as_ref() {
            Value::String(s) => Some(s.clone()),
            _ if get => return err(WRONGTYPE),
            _ => None,
        },
        None => None,
    };
    let reply_old = || old_str.clone().map(Reply::Bulk).unwrap_or(Reply::Nil);
    if (nx && old.is_some()) || (xx && old.is_none()) {
        return if get { reply_old() } else { Reply::Nil }.into();
    }
    let exp = if keepttl {
        old.as_ref().and_then(|entry| entry.expire_ms)
    } else {
        abs
    };
    e.set_value(ctx.db, &a[1], Value::String(a[2].clone()), exp);
    match abs {
        // EX/PX/EXAT become an absolute PXAT in the stream, so a replica that applies it
        // later still expires the key at the same moment (setGenericCommand's rewrite).
        Some(ms) if !matches!(expire.as_ref().map(|x| x.0.as_str()), Some("pxat")) => {
            e.prop(
                ctx,
                &[
                    b"SET".to_vec(),
                    a[1].clone(),
                    a[2].clone(),
                    b"PXAT".to_vec(),
                    ms.to_string().into_bytes(),
                ],
            );
        }
        _ => e.prop(ctx, a),
    }
    if get {
        reply_old().into()
    } else {
        Out::Static(b"+OK\r\n")
    }
}

pub fn setnx(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    if e.lookup(ctx, &a[1]).is_some() {
        return Reply::Int(0).into();
    }
    e.set_value(ctx.db, &a[1], Value::String(a[2].clone()), None);
    e.prop(ctx, a);
    Reply::Int(1).into()
}

pub fn setex(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    set_with_ttl(e, ctx, a, "setex", 1000)
}

pub fn psetex(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    set_with_ttl(e, ctx, a, "psetex", 1)
}

/// SETEX / PSETEX: `unit_ms` milliseconds per unit of the TTL argument.
fn set_with_ttl(e: &mut Engine, ctx: &mut Ctx, a: &Args, name: &str, unit_ms: i64) -> Out {
    let Some(n) = parse_i64(&a[2]) else {
        return err(NOT_INT);
    };
    let abs = n
        .checked_mul(unit_ms)
        .filter(|&m| m > 0)
        .and_then(|m| m.checked_add(e.unix_ms()));
    let Some(abs) = abs else {
        return err(&format!("ERR invalid expire time in '{name}' command"));
    };
    e.set_value(ctx.db, &a[1], Value::String(a[3].clone()), Some(abs));
    // Propagated as SET k v PXAT <abs ms> (captures/stream_command_rewrites.txt).
    e.prop(
        ctx,
        &[
            b"SET".to_vec(),
            a[1].clone(),
            a[3].clone(),
            b"PXAT".to_vec(),
            abs.to_string().into_bytes(),
        ],
    );
    Reply::ok().into()
}

pub fn getset(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let old = match get_string(e, ctx, &a[1]) {
        Ok(v) => v,
        Err(r) => return r.into(),
    };
    e.set_value(ctx.db, &a[1], Value::String(a[2].clone()), None);
    e.prop(ctx, a);
    old.map(|(v, _)| Reply::Bulk(v))
        .unwrap_or(Reply::Nil)
        .into()
}

pub fn getdel(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let old = match get_string(e, ctx, &a[1]) {
        Ok(v) => v,
        Err(r) => return r.into(),
    };
    if old.is_some() {
        e.remove_key(ctx.db, &a[1]);
        e.prop(ctx, &[b"DEL".to_vec(), a[1].clone()]);
    }
    old.map(|(v, _)| Reply::Bulk(v))
        .unwrap_or(Reply::Nil)
        .into()
}

pub fn incr(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    incr_by(e, ctx, a, 1)
}

pub fn decr(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    incr_by(e, ctx, a, -1)
}

pub fn incrby(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match parse_i64(&a[2]) {
        Some(n) => incr_by(e, ctx, a, n),
        None => err(NOT_INT),
    }
}

pub fn decrby(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match parse_i64(&a[2]).map(|n| n.checked_neg()) {
        Some(Some(n)) => incr_by(e, ctx, a, n),
        Some(None) => err("ERR decrement would overflow"),
        None => err(NOT_INT),
    }
}

fn incr_by(e: &mut Engine, ctx: &mut Ctx, a: &Args, by: i64) -> Out {
    let (cur, exp) = match get_string(e, ctx, &a[1]) {
        Ok(Some((v, x))) => match parse_i64(&v) {
            Some(n) => (n, x),
            None => return err(NOT_INT),
        },
        Ok(None) => (0, None),
        Err(r) => return r.into(),
    };
    let Some(new) = cur.checked_add(by) else {
        return err("ERR increment or decrement would overflow");
    };
    e.set_value(
        ctx.db,
        &a[1],
        Value::String(new.to_string().into_bytes()),
        exp,
    );
    e.prop(ctx, a);
    Reply::Int(new).into()
}

pub fn incrbyfloat(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let Some(by) = parse_f64(&a[2]) else {
        return err(NOT_FLOAT);
    };
    let (cur, exp) = match get_string(e, ctx, &a[1]) {
        Ok(Some((v, x))) => match parse_f64(&v) {
            Some(n) => (n, x),
            None => return err(NOT_FLOAT),
        },
        Ok(None) => (0.0, None),
        Err(r) => return r.into(),
    };
    let new = cur + by;
    if !new.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let text = format_double(new).into_bytes();
    e.set_value(ctx.db, &a[1], Value::String(text.clone()), exp);
    // Propagated as SET k <result> KEEPTTL so replicas do not redo float math.
    e.prop(
        ctx,
        &[
            b"SET".to_vec(),
            a[1].clone(),
            text.clone(),
            b"KEEPTTL".to_vec(),
        ],
    );
    Reply::Bulk(text).into()
}

/// `checkStringLength`: a client (not our master) may not grow a string past
/// `proto-max-bulk-len` (512 MB by default), the largest it could have sent in one piece.
fn check_string_length(e: &Engine, ctx: &Ctx, size: u64, append: u64) -> Result<(), Out> {
    if ctx.from_master() {
        return Ok(());
    }
    match size.checked_add(append) {
        Some(total) if total <= e.cfg().proto_max_bulk_len => Ok(()),
        _ => Err(err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

pub fn append(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let (mut cur, exp) = match get_string(e, ctx, &a[1]) {
        Ok(Some(v)) => v,
        Ok(None) => (Vec::new(), None),
        Err(r) => return r.into(),
    };
    if let Err(o) = check_string_length(e, ctx, cur.len() as u64, a[2].len() as u64) {
        return o;
    }
    cur.extend_from_slice(&a[2]);
    let n = cur.len() as i64;
    e.set_value(ctx.db, &a[1], Value::String(cur), exp);
    e.prop(ctx, a);
    Reply::Int(n).into()
}

pub fn strlen(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    match get_string(e, ctx, &a[1]) {
        Ok(v) => Reply::Int(v.map(|(s, _)| s.len() as i64).unwrap_or(0)).into(),
        Err(r) => r.into(),
    }
}

pub fn mset(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    if a.len() % 2 == 0 {
        return err("ERR wrong number of arguments for 'mset' command");
    }
    for p in a[1..].chunks(2) {
        e.set_value(ctx.db, &p[0], Value::String(p[1].clone()), None);
    }
    e.prop(ctx, a);
    Reply::ok().into()
}

pub fn msetnx(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    if a.len() % 2 == 0 {
        return err("ERR wrong number of arguments for 'msetnx' command");
    }
    if a[1..].chunks(2).any(|p| e.lookup(ctx, &p[0]).is_some()) {
        return Reply::Int(0).into();
    }
    for p in a[1..].chunks(2) {
        e.set_value(ctx.db, &p[0], Value::String(p[1].clone()), None);
    }
    e.prop(ctx, a);
    Reply::Int(1).into()
}

pub fn mget(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let mut out = Vec::with_capacity(a.len() - 1);
    for k in &a[1..] {
        out.push(match get_string(e, ctx, k) {
            Ok(Some((v, _))) => Reply::Bulk(v),
            _ => Reply::Nil,
        });
    }
    Reply::Array(out).into()
}

pub fn getrange(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    let cur = match get_string(e, ctx, &a[1]) {
        Ok(v) => v.map(|(s, _)| s).unwrap_or_default(),
        Err(r) => return r.into(),
    };
    let (Some(s0), Some(e0)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
        return err(NOT_INT);
    };
    let len = cur.len() as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s0, e0) = (norm(s0), norm(e0).min(len - 1));
    if len == 0 || s0 > e0 {
        return Reply::bulk("").into();
    }
    Reply::Bulk(cur[s0 as usize..=e0 as usize].to_vec()).into()
}

pub fn setrange(e: &mut Engine, ctx: &mut Ctx, a: &Args) -> Out {
    // setrangeCommand's order: the offset, the type, an empty value, the size.
    let Some(off) = parse_i64(&a[2]) else {
        return err(NOT_INT);
    };
    if off < 0 {
        return err("ERR offset is out of range");
    }
    let (cur, exp) = match get_string(e, ctx, &a[1]) {
        Ok(Some(v)) => v,
        Ok(None) => (Vec::new(), None),
        Err(r) => return r.into(),
    };
    if a[3].is_empty() {
        return Reply::Int(cur.len() as i64).into();
    }
    if let Err(o) = check_string_length(e, ctx, off as u64, a[3].len() as u64) {
        return o;
    }
    let (off, end) = (off as usize, off as usize + a[3].len());
    let mut v = cur;
    if v.len() < end {
        v.resize(end, 0);
    }
    v[off..end].copy_from_slice(&a[3]);
    let n = v.len() as i64;
    e.set_value(ctx.db, &a[1], Value::String(v), exp);
    e.prop(ctx, a);
    Reply::Int(n).into()
}
