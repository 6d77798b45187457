//! RESP, the Redis wire protocol, as Redis 7.0.15 speaks it.
//!
//! - [`request`]: the server-side request parser (multibulk and inline, with Redis's limits and
//!   exact `Protocol error` texts).
//! - [`reply`]: replies as values, encoded for RESP2 or RESP3 (after `HELLO 3`).
//!
//! Both are pure functions over byte slices, so the native server, the tests and any tool can
//! use them without sockets.

pub mod reply;
pub mod request;

pub use reply::Reply;
pub use request::{encode_command, parse_request, Parsed, ProtocolError, RequestLimits};
