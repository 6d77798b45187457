//! `replscope server`: a Redis-compatible server (RESP2/3, RDB v10) that replicates with real
//! Redis 7.0 in both directions, driven by the same replication core as the simulator.
//!
//! ```text
//! replscope server --port 6380 --replicaof 127.0.0.1 6379 --repl-diskless-sync yes
//! replscope server ./redis.conf --live-port 7000 --repl-bandwidth-limit 1mb
//! ```
//!
//! How it is put together:
//! - One [`engine::Engine`] behind a mutex holds what Redis's main thread holds (keyspace,
//!   clients, config, stats) plus the replication core ([`crate::core::Instance`]). Commands
//!   run one at a time under the lock, like Redis's event loop.
//! - Every replication decision is the core's: PSYNC, the backlog, output-buffer limits, the
//!   handshake with our master, ACKs, timeouts, INFO replication, ROLE, WAIT and their log
//!   lines. [`repl`] only carries out its outputs with sockets, threads and the keyspace.
//! - BGSAVE "children" are threads writing a copy-on-write snapshot of the keyspace
//!   ([`keyspace`]): writes go on while they run, and the shards they copy are reported.
//!
//! Layout:
//! - [`config`]: redis.conf / `--name value` options, CONFIG GET/SET of server options.
//! - [`engine`]: the state one Redis main thread holds, behind one mutex.
//! - [`dispatch`], [`commands`], [`aggregates`], [`info`]: command execution.
//! - [`keyspace`]: databases in `Arc`'d shards (copy-on-write snapshots for BGSAVE).
//! - [`persist`]: RDB save/load with the test knobs.
//! - [`repl`]: the seam to the replication core (its driving loop, the master link, BGSAVE
//!   for replicas, loading what our master sends).
//! - [`net`]: sockets: the listener, client connections, the cron, disk BGSAVE threads.
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
