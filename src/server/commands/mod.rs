//! Commands: the [`table`] (name, arity, flags, handler) and the handlers, one file per family
//! as Redis groups them (`t_string.c`, `t_list.c`, ...). Handlers work on the [`Engine`]
//! through its methods and never feed the replication core: commands that are the core's are
//! marked [`table::Handler::Core`] and forwarded by the dispatcher, and outputs a handler
//! causes (a CONFIG SET of a core option) are drained by the dispatcher after it returns.
//!
//! Also here: running a command from our master's replication stream
//! ([`apply_from_master`]), which uses the same table and handlers without a client.

mod aggregate;
mod connection;
mod hashes;
mod info;
mod keys;
mod lists;
pub mod server;
mod sets;
mod strings;
pub mod table;
mod zsets;

pub use info::render_info;
pub use table::{flags, lookup, CommandSpec, Handler, Lookup};

use super::engine::Engine;
use super::types::{Args, Ctx, Out};
use crate::wire::Reply;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const SYNTAX: &str = "ERR syntax error";

fn err(s: &str) -> Out {
    Out::R(Reply::err(s))
}

/// Redis's `string2ll`: no leading '+', no spaces, at most 20 characters.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.starts_with('+') || s.is_empty() || s.len() > 20 {
        return None;
    }
    s.parse().ok()
}

/// A score or float argument (`getDoubleFromObject`): `inf`/`-inf` allowed, NaN refused.
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn bulk_array<I: IntoIterator<Item = Vec<u8>>>(it: I) -> Reply {
    Reply::Array(it.into_iter().map(Reply::Bulk).collect())
}

/// `%.*s` of a C string: at most `max` bytes, cut at a NUL.
pub fn cstr(b: &[u8], max: usize) -> &[u8] {
    let b = &b[..b.len().min(max)];
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

/// `ERR unknown command 'X', with args beginning with: 'a' 'b' ` as commandCheckExistence
/// formats it: the name cut at 128 bytes, the arguments while they total under 128, so a
/// megabyte of name gives a reply of a couple of hundred bytes.
pub fn unknown_command_text(argv: &Args) -> String {
    let mut args: Vec<u8> = Vec::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        args.push(b'\'');
        args.extend_from_slice(cstr(a, 128 - args.len() + 1));
        args.extend_from_slice(b"' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        String::from_utf8_lossy(cstr(&argv[0], 128)),
        String::from_utf8_lossy(&args)
    )
}

/// Applies a command from our master's replication stream: no reply, no checks, its own
/// selected database.
pub fn apply_from_master(e: &mut Engine, argv: &Args) {
    let Some(first) = argv.first() else { return };
    if first.eq_ignore_ascii_case(b"select") {
        if let Some(n) = argv.get(1).and_then(|a| parse_i64(a)) {
            if n >= 0 {
                e.set_master_db(n as usize);
            }
        }
        return;
    }
    // PING keeps the link alive; MULTI/EXEC from a master are applied as they come: the
    // stream already holds the transaction's effects in order, and we run one command at a
    // time anyway. REPLCONF GETACK is the core's.
    let spec = match lookup(argv) {
        Lookup::Found(s) if matches!(s.name, "ping" | "multi" | "exec" | "replconf") => return,
        Lookup::Found(s) if s.has(flags::WRITE) => s,
        _ => {
            e.warn_unsupported_from_master(&lower(first));
            return;
        }
    };
    if !spec.arity_ok(argv.len()) {
        // Redis rejects it like a client's command, and the error, which a master never
        // reads, is logged (afterErrorReply).
        e.warning(&format!(
            "== CRITICAL == This replica is sending an error to its master: 'wrong number of arguments for '{}' command' after processing the command '<unknown>'",
            spec.fullname
        ));
        return;
    }
    if let Handler::Run(run) = spec.handler {
        let mut ctx = Ctx {
            conn: None,
            db: e.master_db(),
        };
        let _ = run(e, &mut ctx, argv);
    }
}
