//! `replscope server`: a Redis-compatible server (RESP2/3, RDB v10) that replicates with real
//! Redis 7.0 in both directions, driven by the same replication core as the simulator.
//!
//! ```text
//! replscope server --port 6380 --replicaof 127.0.0.1 6379 --repl-diskless-sync yes
//! replscope server ./redis.conf --live-port 7000 --repl-bandwidth-limit 1mb
//! ```
//!
//! Every replication decision is the core's ([`crate::core::Instance`]): PSYNC, the backlog,
//! output-buffer limits, the handshake with our master, ACKs, timeouts, INFO replication,
//! ROLE, WAIT and their log lines. The server carries out its outputs with sockets, threads
//! and a real keyspace. BGSAVE "children" are threads writing a copy-on-write snapshot of the
//! keyspace ([`keyspace`]): writes go on while they run.
//!
//! Layers, each using only those below it (no cycles):
//!
//! ```text
//! mod.rs (start, run)   boots: config, RDB load, listeners, tasks
//! net, live             sockets: clients, our master link; the live feed
//! driver                Shared (the engine behind a mutex), timers, fork and loader threads
//! dispatch              processCommand: checks from the command flags, MULTI/EXEC
//! seam                  feed the core, drain its outputs (routing Apply to commands)
//! commands/             the command table and handlers by family; INFO
//! engine/               the one owner of the server's state (private fields)
//! types, config, log, glob, keyspace, rdbfile   plain data and pure functions
//! ```

pub mod commands;
pub mod config;
pub mod dispatch;
pub mod driver;
pub mod engine;
pub mod glob;
pub mod keyspace;
pub mod live;
pub mod log;
pub mod net;
pub mod rdbfile;
pub mod seam;
pub mod types;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::{config_from_args, ServerConfig};
use driver::Shared;
use engine::Engine;
use log::Logger;

/// A started server (for tests and the CLI).
pub struct RunningServer {
    pub port: u16,
    pub shared: Shared,
}

impl RunningServer {
    /// Asks the server to stop.
    pub fn stop(&self) {
        self.shared.stop();
    }
}

/// Starts listening and serving; returns once the socket is bound.
pub async fn start(cfg: ServerConfig) -> Result<RunningServer, String> {
    let log =
        Arc::new(Logger::new(&cfg.logfile).map_err(|e| format!("Can't open the log file: {e}"))?);
    let pid = std::process::id();
    log.log(0, 'C', '#', "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    log.log(0, 'C', '#', &format!("Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={pid}, just started (replscope {})", env!("CARGO_PKG_VERSION")));
    log.log(0, 'C', '#', "Configuration loaded");
    // `bind` may list several addresses (redis.conf: `bind 127.0.0.1 ::1`); the first one
    // decides the port when `--port 0` asks for any free one.
    let mut listeners = Vec::new();
    let mut port = cfg.port;
    for host in &cfg.bind {
        let l = TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|e| {
                format!("Warning: Could not create server TCP listening socket {host}:{port}: {e}")
            })?;
        port = l.local_addr().map_err(|e| e.to_string())?.port();
        listeners.push(l);
    }
    if listeners.is_empty() {
        return Err("no bind address".into());
    }
    let (live_bind, live_port, pidfile) =
        (cfg.live_bind.clone(), cfg.live_port, cfg.pidfile.clone());
    let mut engine = Engine::new(cfg, log, commands::apply_from_master)?;
    engine.notice(&format!("Running mode=standalone, port={port}."));
    engine.warning("Server initialized");
    let restored = engine
        .load_at_startup()
        .inspect_err(|e| engine.warning(e))?;
    engine.init_core(port, restored)?;
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{pid}\n")) {
            engine.warning(&format!("Failed to write PID file: {e}"));
        }
    }
    engine.notice("Ready to accept connections");
    let (shared, connect_requests) = Shared::new(engine);
    seam::pump(&mut shared.lock());
    for listener in listeners {
        net::spawn_listener(&shared, listener);
    }
    net::spawn_connector(&shared, connect_requests);
    driver::start_timers(&shared);
    if live_port != 0 {
        let lp = live::start_live(shared.clone(), &live_bind, live_port).await?;
        shared.lock().notice(&format!(
            "Live feed (HTTP/WebSocket, read-only) listening on {live_bind}:{lp}"
        ));
    }
    driver::after_batch(&shared);
    Ok(RunningServer { port, shared })
}

/// Runs a server from command-line arguments until SHUTDOWN or Ctrl-C. Returns the exit code.
pub fn run_blocking(args: &[String]) -> i32 {
    let cfg = match config_from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("can't start the runtime: {e}");
            return 1;
        }
    };
    rt.block_on(async move {
        let server = match start(cfg).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        tokio::select! {
            _ = server.shared.shutdown.notified() => {}
            _ = tokio::signal::ctrl_c() => {
                server.shared.lock().warning("Received SIGINT scheduling shutdown...");
            }
        }
        0
    })
}
