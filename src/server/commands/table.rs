//! The command table, as Redis 7.0's `commands.def` (`src/commands.c` in 7.0): each command's
//! name, arity, flags and handler. Arity and flags are Redis 7.0.15's, copied entry by entry,
//! because the dispatcher decides from them what Redis's `processCommand` decides: whether a
//! command may run before AUTH (`no_auth`), inside MULTI (`no_multi`), on a replica that lost
//! its master with `replica-serve-stale-data no` (`stale`), while loading (`loading`), whether
//! it writes (`write`: refused on a read-only replica), and whether it needs
//! `enable-debug-command` (`protected`). Where ours differs from Redis's, the entry says why.

use std::sync::OnceLock;

use super::{connection, hashes, info, keys, lists, server, sets, strings, zsets};
use crate::server::engine::Engine;
use crate::server::types::{Args, Ctx, Out};

/// Command flags (`CMD_*` in server.h).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const NOSCRIPT: u32 = 1 << 4;
    pub const LOADING: u32 = 1 << 5;
    pub const STALE: u32 = 1 << 6;
    pub const FAST: u32 = 1 << 7;
    pub const NO_AUTH: u32 = 1 << 8;
    pub const NO_MULTI: u32 = 1 << 9;
    pub const PROTECTED: u32 = 1 << 10;
}
use flags::*;

/// A handler run by this server.
pub type HandlerFn = fn(&mut Engine, &mut Ctx, &Args) -> Out;

/// Who carries a command out.
#[derive(Clone, Copy)]
pub enum Handler {
    Run(HandlerFn),
    /// The replication core (`Input::Command`): it queues its own reply.
    Core,
    /// MULTI, EXEC, DISCARD: the dispatcher's, since they steer its queueing.
    Transaction,
    /// A container (CONFIG, CLIENT): `argv[1]` picks an entry of this table.
    Container(&'static [CommandSpec]),
}

pub struct CommandSpec {
    pub name: &'static str,
    /// `container|sub` for subcommands, as Redis's error texts and CLIENT LIST print it.
    pub fullname: &'static str,
    /// Redis's convention: `n` exactly n arguments (the name included), `-n` at least n.
    pub arity: i32,
    pub flags: u32,
    pub handler: Handler,
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let n = argc as i32;
        if self.arity > 0 {
            n == self.arity
        } else {
            n >= -self.arity
        }
    }
}

const fn cmd(name: &'static str, arity: i32, flags: u32, handler: Handler) -> CommandSpec {
    CommandSpec {
        name,
        fullname: name,
        arity,
        flags,
        handler,
    }
}

const fn sub(
    name: &'static str,
    fullname: &'static str,
    arity: i32,
    flags: u32,
    h: HandlerFn,
) -> CommandSpec {
    CommandSpec {
        name,
        fullname,
        arity,
        flags,
        handler: Handler::Run(h),
    }
}

const fn run(f: HandlerFn) -> Handler {
    Handler::Run(f)
}

static CONFIG: &[CommandSpec] = &[
    sub(
        "get",
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_get,
    ),
    sub(
        "set",
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_set,
    ),
    sub(
        "resetstat",
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_resetstat,
    ),
    sub(
        "rewrite",
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::config_rewrite,
    ),
    sub(
        "help",
        "config|help",
        2,
        LOADING | STALE,
        server::config_help,
    ),
];

static CLIENT: &[CommandSpec] = &[
    sub(
        "id",
        "client|id",
        2,
        NOSCRIPT | LOADING | STALE,
        server::client_id,
    ),
    sub(
        "setname",
        "client|setname",
        3,
        NOSCRIPT | LOADING | STALE,
        server::client_setname,
    ),
    sub(
        "getname",
        "client|getname",
        2,
        NOSCRIPT | LOADING | STALE,
        server::client_getname,
    ),
    sub(
        "list",
        "client|list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::client_list,
    ),
    sub(
        "info",
        "client|info",
        2,
        NOSCRIPT | LOADING | STALE,
        server::client_info,
    ),
    sub(
        "kill",
        "client|kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::client_kill,
    ),
    sub(
        "reply",
        "client|reply",
        3,
        NOSCRIPT | LOADING | STALE,
        server::client_ok,
    ),
    sub(
        "no-evict",
        "client|no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        server::client_ok,
    ),
    // 7.2's CLIENT SETINFO: redis-py and go-redis send it and ignore errors; accepted.
    sub(
        "setinfo",
        "client|setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        server::client_ok,
    ),
    sub(
        "help",
        "client|help",
        2,
        LOADING | STALE,
        server::client_help,
    ),
];

/// Every command this server knows.
static TABLE: &[CommandSpec] = &[
    // connection
    cmd("ping", -1, FAST, run(connection::ping)),
    cmd("echo", 2, LOADING | STALE | FAST, run(connection::echo)),
    cmd(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        run(connection::hello),
    ),
    cmd(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        run(connection::auth),
    ),
    cmd("select", 2, LOADING | STALE | FAST, run(connection::select)),
    cmd(
        "quit",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        run(connection::quit),
    ),
    cmd("client", -2, 0, Handler::Container(CLIENT)),
    // server
    cmd("time", 1, LOADING | STALE | FAST, run(connection::time)),
    cmd("command", -1, LOADING | STALE, run(connection::command)),
    cmd("config", -2, 0, Handler::Container(CONFIG)),
    cmd(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        run(server::debug),
    ),
    cmd("info", -1, LOADING | STALE, run(info::info)),
    cmd("bgsave", -1, ADMIN | NOSCRIPT, run(server::bgsave)),
    cmd("save", 1, ADMIN | NOSCRIPT | NO_MULTI, run(server::save)),
    cmd("lastsave", 1, LOADING | STALE | FAST, run(server::lastsave)),
    cmd(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI,
        run(server::shutdown),
    ),
    cmd("dbsize", 1, READONLY | FAST, run(keys::dbsize)),
    cmd("flushdb", -1, WRITE, run(keys::flushdb)),
    cmd("flushall", -1, WRITE, run(keys::flushall)),
    // replication: the core's. ROLE, REPLICAOF, WAIT and REPLCONF are NO_MULTI here though
    // not in Redis: the core answers them on the connection itself, so they cannot take
    // their place inside EXEC's reply array (Redis runs REPLICAOF there and answers WAIT at
    // once).
    cmd(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_MULTI,
        Handler::Core,
    ),
    cmd(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_MULTI,
        Handler::Core,
    ),
    cmd(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_MULTI,
        Handler::Core,
    ),
    cmd("sync", 1, ADMIN | NO_MULTI | NOSCRIPT, Handler::Core),
    cmd("psync", -3, ADMIN | NO_MULTI | NOSCRIPT, Handler::Core),
    cmd(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI,
        Handler::Core,
    ),
    cmd("wait", 3, NOSCRIPT | NO_MULTI, Handler::Core),
    // transactions
    cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        Handler::Transaction,
    ),
    cmd("exec", 1, NOSCRIPT | LOADING | STALE, Handler::Transaction),
    cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        Handler::Transaction,
    ),
    // strings
    cmd("get", 2, READONLY | FAST, run(strings::get)),
    cmd("set", -3, WRITE | DENYOOM, run(strings::set)),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, run(strings::setnx)),
    cmd("setex", 4, WRITE | DENYOOM, run(strings::setex)),
    cmd("psetex", 4, WRITE | DENYOOM, run(strings::psetex)),
    cmd("getset", 3, WRITE | DENYOOM | FAST, run(strings::getset)),
    cmd("getdel", 2, WRITE | FAST, run(strings::getdel)),
    cmd("incr", 2, WRITE | DENYOOM | FAST, run(strings::incr)),
    cmd("decr", 2, WRITE | DENYOOM | FAST, run(strings::decr)),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, run(strings::incrby)),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, run(strings::decrby)),
    cmd(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        run(strings::incrbyfloat),
    ),
    cmd("append", 3, WRITE | DENYOOM | FAST, run(strings::append)),
    cmd("strlen", 2, READONLY | FAST, run(strings::strlen)),
    cmd("mset", -3, WRITE | DENYOOM, run(strings::mset)),
    cmd("msetnx", -3, WRITE | DENYOOM, run(strings::msetnx)),
    cmd("mget", -2, READONLY | FAST, run(strings::mget)),
    cmd("setrange", 4, WRITE | DENYOOM, run(strings::setrange)),
    cmd("getrange", 4, READONLY, run(strings::getrange)),
    // keys
    cmd("del", -2, WRITE, run(keys::del)),
    cmd("unlink", -2, WRITE | FAST, run(keys::unlink)),
    cmd("exists", -2, READONLY | FAST, run(keys::exists)),
    cmd("expire", -3, WRITE | FAST, run(keys::expire)),
    cmd("pexpire", -3, WRITE | FAST, run(keys::pexpire)),
    cmd("expireat", -3, WRITE | FAST, run(keys::expireat)),
    cmd("pexpireat", -3, WRITE | FAST, run(keys::pexpireat)),
    cmd("persist", 2, WRITE | FAST, run(keys::persist)),
    cmd("ttl", 2, READONLY | FAST, run(keys::ttl)),
    cmd("pttl", 2, READONLY | FAST, run(keys::pttl)),
    cmd("type", 2, READONLY | FAST, run(keys::type_)),
    cmd("keys", 2, READONLY, run(keys::keys)),
    cmd("scan", -2, READONLY, run(keys::scan)),
    cmd("randomkey", 1, READONLY, run(keys::randomkey)),
    cmd("rename", 3, WRITE, run(keys::rename)),
    cmd("renamenx", 3, WRITE | FAST, run(keys::renamenx)),
    // lists
    cmd("lpush", -3, WRITE | DENYOOM | FAST, run(lists::lpush)),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, run(lists::rpush)),
    cmd("lpop", -2, WRITE | FAST, run(lists::lpop)),
    cmd("rpop", -2, WRITE | FAST, run(lists::rpop)),
    cmd("llen", 2, READONLY | FAST, run(lists::llen)),
    cmd("lrange", 4, READONLY, run(lists::lrange)),
    cmd("ltrim", 4, WRITE, run(lists::ltrim)),
    // hashes
    cmd("hset", -4, WRITE | DENYOOM | FAST, run(hashes::hset)),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, run(hashes::hmset)),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, run(hashes::hsetnx)),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, run(hashes::hincrby)),
    cmd("hdel", -3, WRITE | FAST, run(hashes::hdel)),
    cmd("hget", 3, READONLY | FAST, run(hashes::hget)),
    cmd("hexists", 3, READONLY | FAST, run(hashes::hexists)),
    cmd("hlen", 2, READONLY | FAST, run(hashes::hlen)),
    cmd("hgetall", 2, READONLY, run(hashes::hgetall)),
    // sets
    cmd("sadd", -3, WRITE | DENYOOM | FAST, run(sets::sadd)),
    cmd("srem", -3, WRITE | FAST, run(sets::srem)),
    cmd("spop", -2, WRITE | FAST, run(sets::spop)),
    cmd("smembers", 2, READONLY, run(sets::smembers)),
    cmd("scard", 2, READONLY | FAST, run(sets::scard)),
    cmd("sismember", 3, READONLY | FAST, run(sets::sismember)),
    // sorted sets
    cmd("zadd", -4, WRITE | DENYOOM | FAST, run(zsets::zadd)),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, run(zsets::zincrby)),
    cmd("zrem", -3, WRITE | FAST, run(zsets::zrem)),
    cmd("zpopmin", -2, WRITE | FAST, run(zsets::zpopmin)),
    cmd("zpopmax", -2, WRITE | FAST, run(zsets::zpopmax)),
    cmd("zscore", 3, READONLY | FAST, run(zsets::zscore)),
    cmd("zcard", 2, READONLY | FAST, run(zsets::zcard)),
    cmd("zrange", -4, READONLY, run(zsets::zrange)),
];

/// What a command name resolves to.
pub enum Lookup {
    Found(&'static CommandSpec),
    /// Not a command: `ERR unknown command ...`.
    Unknown,
    /// A container with an unknown subcommand: `ERR unknown subcommand ...`.
    UnknownSubcommand(&'static CommandSpec),
}

/// Longest command name in the table; longer names are unknown without a hash lookup.
const MAX_NAME: usize = 16;

/// The table by name length: a name is compared only with the few of its length, any case,
/// without hashing or lowercasing it first (this runs for every command).
fn index() -> &'static [Vec<&'static CommandSpec>] {
    static INDEX: OnceLock<Vec<Vec<&'static CommandSpec>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_len = vec![Vec::new(); MAX_NAME + 1];
        for c in TABLE {
            by_len[c.name.len()].push(c);
        }
        by_len
    })
}

/// Finds a top-level command by name, any case, without allocating.
pub fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    index()
        .get(name.len())?
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
        .copied()
}

/// Resolves `argv` to a command or subcommand, as `lookupCommand` does: a container named
/// alone is the container itself (its arity then reports the missing subcommand).
pub fn lookup(argv: &Args) -> Lookup {
    let Some(spec) = argv.first().and_then(|n| find(n)) else {
        return Lookup::Unknown;
    };
    let Handler::Container(subs) = spec.handler else {
        return Lookup::Found(spec);
    };
    let Some(name) = argv.get(1) else {
        return Lookup::Found(spec);
    };
    match subs
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    {
        Some(s) => Lookup::Found(s),
        None => Lookup::UnknownSubcommand(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_unique_and_short() {
        let mut seen = std::collections::BTreeSet::new();
        for c in TABLE {
            assert!(c.name.len() <= MAX_NAME, "{}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "{} twice", c.name);
            if let Handler::Container(subs) = c.handler {
                for s in subs {
                    assert_eq!(s.fullname, format!("{}|{}", c.name, s.name));
                }
            }
        }
    }

    #[test]
    fn lookup_any_case_and_subcommands() {
        let argv = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(matches!(lookup(&argv(&["GeT", "k"])), Lookup::Found(c) if c.name == "get"));
        assert!(matches!(lookup(&argv(&["nosuch"])), Lookup::Unknown));
        assert!(matches!(
            lookup(&argv(&[&"x".repeat(100)])),
            Lookup::Unknown
        ));
        assert!(
            matches!(lookup(&argv(&["CONFIG", "GET", "x"])), Lookup::Found(c) if c.fullname == "config|get")
        );
        assert!(matches!(lookup(&argv(&["config"])), Lookup::Found(c) if c.name == "config"));
        assert!(
            matches!(lookup(&argv(&["config", "nope"])), Lookup::UnknownSubcommand(c) if c.name == "config")
        );
    }

    #[test]
    fn flags_follow_redis_70() {
        // A few entries checked against commands.def, the ones the dispatcher's rules hinge on.
        let f = |n: &str| find(n.as_bytes()).expect(n);
        assert!(!f("ping").has(STALE) && !f("ping").has(LOADING));
        assert!(f("info").has(STALE) && f("info").has(LOADING));
        assert!(f("replicaof").has(STALE) && !f("replicaof").has(LOADING));
        assert!(f("debug").has(PROTECTED));
        assert!(f("auth").has(NO_AUTH) && f("hello").has(NO_AUTH) && f("quit").has(NO_AUTH));
        assert!(f("set").has(WRITE) && f("get").has(READONLY));
        assert!(f("sync").has(NO_MULTI) && f("save").has(NO_MULTI));
    }
}
