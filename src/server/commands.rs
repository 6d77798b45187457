//! Command execution: the data commands (strings, expiry, a few aggregate readers and writers
//! so replicated datasets can be inspected) and the dispatch rules Redis applies before
//! running any command (auth, arity, MULTI queueing, READONLY, LOADING).

use std::sync::Arc;

use super::engine::{Engine, Flow};
use super::glob::glob_match;
use super::keyspace::Entry;
use crate::rdb::Value;
use crate::wire::reply::format_double;
use crate::wire::Reply;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const SYNTAX: &str = "ERR syntax error";

/// A string value and its expire time.
type StringWithTtl = (Vec<u8>, Option<i64>);

/// Who runs a command: a client connection, or our master's replication stream.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub conn: Option<u64>,
    pub db: usize,
}

impl Ctx {
    pub fn from_master(&self) -> bool {
        self.conn.is_none()
    }
}

/// What a command produced.
pub enum Out {
    R(Reply),
    /// No reply (replication stream commands, REPLCONF ACK).
    Silent,
    Flow(Flow),
    /// Handled by the replication core (it queues its own reply).
    Core,
}

impl From<Reply> for Out {
    fn from(r: Reply) -> Out {
        Out::R(r)
    }
}

fn err(s: &str) -> Out {
    Out::R(Reply::err(s))
}

/// Arity (Redis convention: n exact, -n at least n) and whether the command writes.
pub fn command_spec(name: &str) -> Option<(i32, bool)> {
    Some(match name {
        "ping" => (-1, false),
        "echo" => (2, false),
        "hello" => (-1, false),
        "auth" => (-2, false),
        "select" => (2, false),
        "quit" => (-1, false),
        "time" => (1, false),
        "command" => (-1, false),
        "set" => (-3, true),
        "setnx" => (3, true),
        "setex" | "psetex" => (4, true),
        "getset" => (3, true),
        "getdel" => (2, true),
        "get" => (2, false),
        "del" | "unlink" => (-2, true),
        "exists" => (-2, false),
        "incr" | "decr" => (2, true),
        "incrby" | "decrby" | "incrbyfloat" => (3, true),
        "append" => (3, true),
        "strlen" => (2, false),
        "mset" => (-3, true),
        "mget" => (-2, false),
        "expire" | "pexpire" | "expireat" | "pexpireat" => (-3, true),
        "persist" => (2, true),
        "ttl" | "pttl" | "type" => (2, false),
        "keys" => (2, false),
        "scan" => (-2, false),
        "randomkey" => (1, false),
        "dbsize" => (1, false),
        "flushdb" | "flushall" => (-1, true),
        "lpush" | "rpush" => (-3, true),
        "lpop" | "rpop" => (-2, true),
        "llen" => (2, false),
        "lrange" => (4, false),
        "hset" => (-4, true),
        "hdel" => (-3, true),
        "hget" => (3, false),
        "hgetall" | "hlen" => (2, false),
        "sadd" | "srem" => (-3, true),
        "smembers" | "scard" => (2, false),
        "sismember" => (3, false),
        "zadd" => (-4, true),
        "hmset" => (-4, true),
        "hsetnx" => (4, true),
        "hincrby" => (4, true),
        "hexists" => (3, false),
        "setrange" => (4, true),
        "getrange" => (4, false),
        "rename" | "renamenx" => (3, true),
        "msetnx" => (-3, true),
        "spop" => (-2, true),
        "zpopmin" | "zpopmax" => (-2, true),
        "zincrby" => (4, true),
        "ltrim" => (4, true),
        "zrem" => (-3, true),
        "zscore" => (3, false),
        "zcard" => (2, false),
        "zrange" => (-4, false),
        "multi" | "exec" | "discard" => (1, false),
        "info" => (-1, false),
        "config" | "client" | "debug" => (-2, false),
        "role" => (1, false),
        "replicaof" | "slaveof" => (3, false),
        "sync" => (1, false),
        "psync" => (-3, false),
        "replconf" => (-1, false),
        "wait" => (3, false),
        "bgsave" => (-1, false),
        "save" | "lastsave" => (1, false),
        "shutdown" => (-1, false),
        _ => return None,
    })
}

/// `ERR unknown command 'X', with args beginning with: 'a' 'b' ` (args cut near 128 chars).
pub fn unknown_command_text(argv: &[Vec<u8>]) -> String {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let s = String::from_utf8_lossy(a);
        let room = 128usize.saturating_sub(args.len());
        let cut: String = s.chars().take(room).collect();
        args.push_str(&format!("'{cut}' "));
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {args}",
        String::from_utf8_lossy(&argv[0])
    )
}

pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    // Redis's string2ll: no leading '+', no spaces.
    if s.starts_with('+') || s.is_empty() || s.len() > 20 {
        return None;
    }
    s.parse().ok()
}

fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok().filter(|f| !f.is_nan()),
    }
}

fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

fn bulk_array<I: IntoIterator<Item = Vec<u8>>>(it: I) -> Reply {
    Reply::Array(it.into_iter().map(Reply::Bulk).collect())
}

impl Engine {
    /// Finds a live key. Expired keys: a master deletes them and propagates `DEL` (expiry is
    /// the master's decision, `expireIfNeeded`); a replica reports them missing to clients but
    /// keeps them until its master's `DEL`; the master stream sees them as they are.
    pub fn lookup(&mut self, ctx: &Ctx, key: &[u8]) -> Option<Entry> {
        let e = self.ks.db(ctx.db).get(key)?.clone();
        let expired = e.expire_ms.is_some_and(|t| t <= self.unix_ms());
        if !expired || ctx.from_master() {
            return Some(e);
        }
        if !self.core.is_replica() {
            self.expire_key(ctx.db, key);
        }
        None
    }

    /// Deletes an expired key and propagates `DEL`, as `deleteExpiredKeyAndPropagate` does.
    pub fn expire_key(&mut self, db: usize, key: &[u8]) {
        let (d, cow) = self.ks.db_mut(db);
        if d.remove(key, cow).is_some() {
            self.stats.expired_keys += 1;
            self.propagate(db, &[b"DEL".to_vec(), key.to_vec()]);
        }
    }

    /// Active expiry (`activeExpireCycle`), masters only: a slice of the shards per tick.
    pub fn active_expire(&mut self, shards_per_tick: usize) {
        if self.core.is_replica() || self.loading {
            return;
        }
        let now = self.unix_ms();
        let from = self.expire_cursor;
        for db in 0..self.ks.dbs.len() {
            for k in self.ks.db(db).expired_in_shards(from, shards_per_tick, now) {
                self.expire_key(db, &k);
            }
        }
        self.expire_cursor = (from + shards_per_tick) % super::keyspace::SHARDS;
    }

    fn get_string(&mut self, ctx: &Ctx, key: &[u8]) -> Result<Option<StringWithTtl>, Reply> {
        match self.lookup(ctx, key) {
            None => Ok(None),
            Some(e) => match e.value.as_ref() {
                Value::String(s) => Ok(Some((s.clone(), e.expire_ms))),
                _ => Err(Reply::err(WRONGTYPE)),
            },
        }
    }

    pub fn set_value(&mut self, db: usize, key: &[u8], value: Value, expire_ms: Option<i64>) {
        let (d, cow) = self.ks.db_mut(db);
        d.set(
            key.to_vec(),
            Entry {
                value: Arc::new(value),
                expire_ms,
            },
            cow,
        );
    }

    pub(super) fn remove_key(&mut self, db: usize, key: &[u8]) -> bool {
        let (d, cow) = self.ks.db_mut(db);
        d.remove(key, cow).is_some()
    }

    /// Propagates a write unless it came from our master (the core forwards that stream to
    /// sub-replicas itself).
    pub(super) fn prop(&mut self, ctx: &Ctx, argv: &[Vec<u8>]) {
        if ctx.from_master() {
            self.save.dirty += 1;
        } else {
            self.propagate(ctx.db, argv);
        }
    }

    /// Runs a data command. Returns `None` if `name` is not a data command.
    pub fn run_data_command(&mut self, ctx: &mut Ctx, name: &str, argv: &[Vec<u8>]) -> Option<Out> {
        let a = argv;
        Some(match name {
            "get" => match self.get_string(ctx, &a[1]) {
                Ok(Some((v, _))) => {
                    self.stats.keyspace_hits += 1;
                    Reply::Bulk(v).into()
                }
                Ok(None) => {
                    self.stats.keyspace_misses += 1;
                    Reply::Nil.into()
                }
                Err(e) => e.into(),
            },
            "set" => self.cmd_set(ctx, a),
            "setnx" => {
                if self.lookup(ctx, &a[1]).is_some() {
                    Reply::Int(0).into()
                } else {
                    self.set_value(ctx.db, &a[1], Value::String(a[2].clone()), None);
                    self.prop(ctx, a);
                    Reply::Int(1).into()
                }
            }
            "setex" | "psetex" => {
                let Some(n) = parse_i64(&a[2]) else {
                    return Some(err(NOT_INT));
                };
                let ms = if name == "setex" {
                    n.checked_mul(1000)
                } else {
                    Some(n)
                };
                let abs = ms
                    .filter(|&m| m > 0)
                    .and_then(|m| m.checked_add(self.unix_ms()));
                let Some(abs) = abs else {
                    return Some(err(&format!("ERR invalid expire time in '{name}' command")));
                };
                self.set_value(ctx.db, &a[1], Value::String(a[3].clone()), Some(abs));
                // Propagated as SET k v PXAT <abs ms> (captures/stream_command_rewrites.txt).
                self.prop(
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
            "getset" | "getdel" => {
                let old = match self.get_string(ctx, &a[1]) {
                    Ok(v) => v,
                    Err(e) => return Some(e.into()),
                };
                if name == "getset" {
                    self.set_value(ctx.db, &a[1], Value::String(a[2].clone()), None);
                    self.prop(ctx, a);
                } else if old.is_some() {
                    self.remove_key(ctx.db, &a[1]);
                    self.prop(ctx, &[b"DEL".to_vec(), a[1].clone()]);
                }
                old.map(|(v, _)| Reply::Bulk(v))
                    .unwrap_or(Reply::Nil)
                    .into()
            }
            "del" | "unlink" => {
                let mut n = 0;
                for k in &a[1..] {
                    if self.lookup(ctx, k).is_some() && self.remove_key(ctx.db, k) {
                        n += 1;
                        let cmd = if name == "del" {
                            b"DEL".to_vec()
                        } else {
                            b"UNLINK".to_vec()
                        };
                        self.prop(ctx, &[cmd, k.clone()]);
                    }
                }
                Reply::Int(n).into()
            }
            "exists" => {
                let mut n = 0;
                for k in &a[1..] {
                    if self.lookup(ctx, k).is_some() {
                        n += 1;
                    }
                }
                Reply::Int(n).into()
            }
            "incr" | "decr" | "incrby" | "decrby" => {
                let by = match name {
                    "incr" => 1,
                    "decr" => -1,
                    _ => match parse_i64(&a[2]) {
                        Some(n) if name == "incrby" => n,
                        Some(n) => match n.checked_neg() {
                            Some(m) => m,
                            None => return Some(err("ERR decrement would overflow")),
                        },
                        None => return Some(err(NOT_INT)),
                    },
                };
                let (cur, exp) = match self.get_string(ctx, &a[1]) {
                    Ok(Some((v, e))) => match parse_i64(&v) {
                        Some(n) => (n, e),
                        None => return Some(err(NOT_INT)),
                    },
                    Ok(None) => (0, None),
                    Err(e) => return Some(e.into()),
                };
                let Some(new) = cur.checked_add(by) else {
                    return Some(err("ERR increment or decrement would overflow"));
                };
                self.set_value(
                    ctx.db,
                    &a[1],
                    Value::String(new.to_string().into_bytes()),
                    exp,
                );
                self.prop(ctx, a);
                Reply::Int(new).into()
            }
            "incrbyfloat" => {
                let Some(by) = parse_f64(&a[2]) else {
                    return Some(err("ERR value is not a valid float"));
                };
                let (cur, exp) = match self.get_string(ctx, &a[1]) {
                    Ok(Some((v, e))) => match parse_f64(&v) {
                        Some(n) => (n, e),
                        None => return Some(err("ERR value is not a valid float")),
                    },
                    Ok(None) => (0.0, None),
                    Err(e) => return Some(e.into()),
                };
                let new = cur + by;
                if !new.is_finite() {
                    return Some(err("ERR increment would produce NaN or Infinity"));
                }
                let text = format_double(new).into_bytes();
                self.set_value(ctx.db, &a[1], Value::String(text.clone()), exp);
                // Propagated as SET k <result> KEEPTTL so replicas do not redo float math.
                self.prop(
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
            "append" => {
                let (mut cur, exp) = match self.get_string(ctx, &a[1]) {
                    Ok(Some(v)) => v,
                    Ok(None) => (Vec::new(), None),
                    Err(e) => return Some(e.into()),
                };
                cur.extend_from_slice(&a[2]);
                let n = cur.len() as i64;
                self.set_value(ctx.db, &a[1], Value::String(cur), exp);
                self.prop(ctx, a);
                Reply::Int(n).into()
            }
            "strlen" => match self.get_string(ctx, &a[1]) {
                Ok(v) => Reply::Int(v.map(|(s, _)| s.len() as i64).unwrap_or(0)).into(),
                Err(e) => e.into(),
            },
            "mset" => {
                if a.len() % 2 == 0 {
                    return Some(err("ERR wrong number of arguments for 'mset' command"));
                }
                for p in a[1..].chunks(2) {
                    self.set_value(ctx.db, &p[0], Value::String(p[1].clone()), None);
                }
                self.prop(ctx, a);
                Reply::ok().into()
            }
            "mget" => {
                let mut out = Vec::new();
                for k in &a[1..] {
                    out.push(match self.get_string(ctx, k) {
                        Ok(Some((v, _))) => Reply::Bulk(v),
                        _ => Reply::Nil,
                    });
                }
                Reply::Array(out).into()
            }
            "expire" | "pexpire" | "expireat" | "pexpireat" => self.cmd_expire(ctx, name, a),
            "persist" => match self.lookup(ctx, &a[1]) {
                Some(e) if e.expire_ms.is_some() => {
                    let (d, cow) = self.ks.db_mut(ctx.db);
                    d.set_expire(&a[1], None, cow);
                    self.prop(ctx, a);
                    Reply::Int(1).into()
                }
                _ => Reply::Int(0).into(),
            },
            "ttl" | "pttl" => match self.lookup(ctx, &a[1]) {
                None => Reply::Int(-2).into(),
                Some(e) => match e.expire_ms {
                    None => Reply::Int(-1).into(),
                    Some(t) => {
                        let ms = (t - self.unix_ms()).max(0);
                        Reply::Int(if name == "ttl" { (ms + 500) / 1000 } else { ms }).into()
                    }
                },
            },
            "type" => match self.lookup(ctx, &a[1]) {
                None => Reply::Simple("none".into()).into(),
                Some(e) => Reply::Simple(e.value.type_name().into()).into(),
            },
            "keys" => {
                let now = self.unix_ms();
                let keys: Vec<Vec<u8>> = self
                    .ks
                    .db(ctx.db)
                    .iter()
                    .filter(|(k, e)| glob_match(&a[1], k) && e.expire_ms.is_none_or(|t| t > now))
                    .map(|(k, _)| k.clone())
                    .collect();
                bulk_array(keys).into()
            }
            "scan" => self.cmd_scan(ctx, a),
            "randomkey" => {
                let k = self.ks.db(ctx.db).iter().next().map(|(k, _)| k.clone());
                k.map(Reply::Bulk).unwrap_or(Reply::Nil).into()
            }
            "dbsize" => Reply::Int(self.ks.db(ctx.db).len() as i64).into(),
            "flushdb" | "flushall" => {
                if a.len() > 2
                    || (a.len() == 2 && !["sync", "async"].contains(&lower(&a[1]).as_str()))
                {
                    return Some(err(SYNTAX));
                }
                if name == "flushdb" {
                    self.ks.dbs[ctx.db] = Default::default();
                } else {
                    self.ks.flush_all();
                }
                self.prop(ctx, a);
                Reply::ok().into()
            }
            "setrange" | "getrange" | "rename" | "renamenx" | "msetnx" => {
                self.cmd_more(ctx, name, a)
            }
            _ => return self.run_aggregate(ctx, name, a),
        })
    }

    /// Less common string and key commands.
    fn cmd_more(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Out {
        match name {
            "setrange" | "getrange" => {
                let (cur, exp) = match self.get_string(ctx, &a[1]) {
                    Ok(Some(v)) => v,
                    Ok(None) => (Vec::new(), None),
                    Err(e) => return e.into(),
                };
                if name == "getrange" {
                    let (Some(s0), Some(e0)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
                        return err(NOT_INT);
                    };
                    let len = cur.len() as i64;
                    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
                    let (s0, e0) = (norm(s0), norm(e0).min(len - 1));
                    if len == 0 || s0 > e0 {
                        return Reply::bulk("").into();
                    }
                    return Reply::Bulk(cur[s0 as usize..=e0 as usize].to_vec()).into();
                }
                let Some(off) = parse_i64(&a[2]).filter(|&o| o >= 0) else {
                    return err("ERR offset is out of range");
                };
                let off = off as usize;
                if off + a[3].len() > 512 * 1024 * 1024 {
                    return err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
                }
                if a[3].is_empty() {
                    return Reply::Int(cur.len() as i64).into();
                }
                let mut v = cur;
                if v.len() < off + a[3].len() {
                    v.resize(off + a[3].len(), 0);
                }
                v[off..off + a[3].len()].copy_from_slice(&a[3]);
                let n = v.len() as i64;
                self.set_value(ctx.db, &a[1], Value::String(v), exp);
                self.prop(ctx, a);
                Reply::Int(n).into()
            }
            "rename" | "renamenx" => {
                let Some(e) = self.lookup(ctx, &a[1]) else {
                    return err("ERR no such key");
                };
                if name == "renamenx" && self.lookup(ctx, &a[2]).is_some() {
                    return Reply::Int(0).into();
                }
                self.remove_key(ctx.db, &a[1]);
                let (d, cow) = self.ks.db_mut(ctx.db);
                d.set(a[2].clone(), e, cow);
                self.prop(ctx, a);
                if name == "rename" {
                    Reply::ok()
                } else {
                    Reply::Int(1)
                }
                .into()
            }
            "msetnx" => {
                if a.len() % 2 == 0 {
                    return err("ERR wrong number of arguments for 'msetnx' command");
                }
                let keys: Vec<Vec<u8>> = a[1..].chunks(2).map(|p| p[0].clone()).collect();
                if keys.iter().any(|k| self.lookup(ctx, k).is_some()) {
                    return Reply::Int(0).into();
                }
                for p in a[1..].chunks(2) {
                    self.set_value(ctx.db, &p[0], Value::String(p[1].clone()), None);
                }
                self.prop(ctx, a);
                Reply::Int(1).into()
            }
            _ => err(SYNTAX),
        }
    }

    fn cmd_set(&mut self, ctx: &Ctx, a: &[Vec<u8>]) -> Out {
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
                "ex" | "px" | "exat" | "pxat"
                    if expire.is_none() && !keepttl && i + 1 < a.len() =>
                {
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
        let now = self.unix_ms();
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
        let old = self.lookup(ctx, &a[1]);
        let old_str = match &old {
            Some(e) => match e.value.as_ref() {
                Value::String(s) => Some(s.clone()),
                _ if get => return err(WRONGTYPE),
                _ => None,
            },
            None => None,
        };
        let reply_old = || old_str.clone().map(Reply::Bulk).unwrap_or(Reply::Nil);
        if (nx && old.is_some()) || (xx && old.is_none()) {
            return if get {
                reply_old().into()
            } else {
                Reply::Nil.into()
            };
        }
        let exp = if keepttl {
            old.as_ref().and_then(|e| e.expire_ms)
        } else {
            abs
        };
        self.set_value(ctx.db, &a[1], Value::String(a[2].clone()), exp);
        match abs {
            // EX/PX/EXAT become an absolute PXAT in the stream, so a replica that applies it
            // later still expires the key at the same moment (setGenericCommand's rewrite).
            Some(ms) if !matches!(expire.as_ref().map(|e| e.0.as_str()), Some("pxat")) => {
                self.prop(
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
            _ => self.prop(ctx, a),
        }
        if get {
            reply_old().into()
        } else {
            Reply::ok().into()
        }
    }

    fn cmd_expire(&mut self, ctx: &Ctx, name: &str, a: &[Vec<u8>]) -> Out {
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
        let now = self.unix_ms();
        let abs = match name {
            "expire" => n.checked_mul(1000).and_then(|m| m.checked_add(now)),
            "pexpire" => n.checked_add(now),
            "expireat" => n.checked_mul(1000),
            _ => Some(n),
        };
        let Some(abs) = abs else {
            return err(&format!("ERR invalid expire time in '{name}' command"));
        };
        let Some(e) = self.lookup(ctx, &a[1]) else {
            return Reply::Int(0).into();
        };
        let cur = e.expire_ms;
        let allowed = (!nx || cur.is_none())
            && (!xx || cur.is_some())
            && (!gt || cur.is_some_and(|c| abs > c))
            && (!lt || cur.is_none_or(|c| abs < c));
        if !allowed {
            return Reply::Int(0).into();
        }
        if abs <= now && !ctx.from_master() && !self.core.is_replica() {
            // A time in the past deletes the key; the stream carries DEL.
            self.remove_key(ctx.db, &a[1]);
            self.prop(ctx, &[b"DEL".to_vec(), a[1].clone()]);
            return Reply::Int(1).into();
        }
        let (d, cow) = self.ks.db_mut(ctx.db);
        d.set_expire(&a[1], Some(abs), cow);
        self.prop(
            ctx,
            &[
                b"PEXPIREAT".to_vec(),
                a[1].clone(),
                abs.to_string().into_bytes(),
            ],
        );
        Reply::Int(1).into()
    }

    fn cmd_scan(&mut self, ctx: &Ctx, a: &[Vec<u8>]) -> Out {
        // Cursor = next shard index: every key present for the whole scan is returned once.
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
        let mut shard = cursor as usize;
        let mut keys = Vec::new();
        while shard < super::keyspace::SHARDS && keys.len() < count {
            for k in self.ks.db(ctx.db).shard_keys(shard) {
                if pattern.as_ref().is_some_and(|p| !glob_match(p, &k)) {
                    continue;
                }
                match self.lookup(ctx, &k) {
                    Some(e) if typ.as_ref().is_none_or(|t| t == e.value.type_name()) => {
                        keys.push(k)
                    }
                    _ => {}
                }
            }
            shard += 1;
        }
        let next = if shard >= super::keyspace::SHARDS {
            0
        } else {
            shard
        };
        Reply::Array(vec![Reply::bulk(next.to_string()), bulk_array(keys)]).into()
    }
}
