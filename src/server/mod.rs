//! `replscope server`: a Redis-compatible server (RESP2/3, RDB v10) that replicates with real
//! Redis 7.0 in both directions, driven by the same replication core as the simulator.
//!
//! Layout:
//! - [`config`]: redis.conf / `--name value` options, CONFIG GET/SET of server options.
//! - [`engine`]: the state one Redis main thread holds, behind one mutex.
//! - [`dispatch`], [`commands`], [`aggregates`], [`info`]: command execution.
//! - [`keyspace`]: databases in `Arc`'d shards (copy-on-write snapshots for BGSAVE).
//! - [`persist`]: RDB save/load with the test knobs.
//! - [`repl`]: the seam to the replication core.
//! - [`net`]: sockets: the listener, client connections, the cron.
//! - [`log`]: Redis-format log lines.
//! - [`live`]: the read-only HTTP/WebSocket feed of view frames for the web app.

pub mod aggregates;
pub mod commands;
pub mod config;
pub mod dispatch;
pub mod engine;
pub mod glob;
pub mod info;
pub mod keyspace;
pub mod live;
pub mod log;
pub mod net;
pub mod persist;
pub mod repl;

pub use config::ServerConfig;
pub use net::{run_blocking, start, RunningServer};
