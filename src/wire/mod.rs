//! RESP, the Redis wire protocol, as Redis 7.0.15 speaks it: the one implementation every
//! part of the crate uses (the core's replication link, the server, `replscope compare`'s
//! client, the simulator and the tests), on every target including wasm32.
//!
//! - [`request`]: the server-side request parser (multibulk and inline, with Redis's limits and
//!   exact `Protocol error` texts), and [`encode_command`] for what a client or a master sends.
//! - [`reply`]: replies as values, encoded for RESP2 or RESP3 (after `HELLO 3`).
//! - [`decode`]: the client side: reply lines and whole RESP2 replies read back into
//!   [`Reply`] values.
//!
//! All are pure functions over byte slices, so the native server, the sans-IO core, the tests
//! and any tool can use them without sockets.

pub mod decode;
pub mod reply;
pub mod request;

pub use decode::{parse_reply, take_line, ReplyError};
pub use reply::Reply;
pub use request::{encode_command, parse_request, Parsed, ProtocolError, RequestLimits};
