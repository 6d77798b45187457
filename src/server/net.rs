//! Sockets: the listener, one task per client connection, the 10 Hz cron, and the threads
//! that play the role of Redis's fork children.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::config::{args_to_conf_text, parse_conf_text, ServerConfig};
use super::engine::{Action, Engine, Flow};
use super::keyspace::Snapshot;
use super::log::Logger;
use super::persist::{write_snapshot, SaveOpts};
use crate::wire::{parse_request, Parsed, Reply, RequestLimits};

/// The engine shared by every task.
#[derive(Clone)]
pub struct Shared {
    pub engine: Arc<Mutex<Engine>>,
    pub shutdown: Arc<Notify>,
    /// The runtime, so threads (the BGSAVE "children", the loader) can start tasks.
    pub rt: tokio::runtime::Handle,
}

impl Shared {
    /// Locks the engine. A panic while holding the lock would poison it; we keep serving
    /// with the data as it is rather than stopping every connection.
    pub fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A started server (for tests and the CLI).
pub struct RunningServer {
    pub port: u16,
    pub shared: Shared,
}

impl RunningServer {
    /// Asks the server to stop.
    pub fn stop(&self) {
        self.shared.shutdown.notify_waiters();
        self.shared.shutdown.notify_one();
    }
}

/// Builds the configuration from redis-server style arguments.
pub fn config_from_args(args: &[String]) -> Result<ServerConfig, String> {
    let text = args_to_conf_text(args)?;
    let mut cfg = ServerConfig::default();
    for line in parse_conf_text(&text)? {
        match cfg.apply(&line.name, &line.values) {
            Ok(true) => {}
            Ok(false) => cfg.core_lines.push((line.name.clone(), line.values.join(" "))),
            Err(e) => {
                return Err(format!(
                    "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {}\n>>> '{} {}'\n{e}",
                    line.line_no,
                    line.name,
                    line.values.join(" ")
                ))
            }
        }
    }
    Ok(cfg)
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
    let mut cfg = cfg;
    cfg.port = port;
    let mut engine = Engine::new(cfg.clone(), log)?;
    engine.notice(&format!("Running mode=standalone, port={port}."));
    engine.warning("Server initialized");
    let restored = match engine.load_at_startup() {
        Ok(info) => info.and_then(|i| {
            let replid = i.aux_str("repl-id")?;
            let offset = i.aux_str("repl-offset")?.parse().ok()?;
            Some(crate::core::RestoredReplInfo { replid, offset })
        }),
        Err(e) => {
            engine.warning(&e);
            return Err(e);
        }
    };
    engine.init_core(port, restored)?;
    if !cfg.pidfile.is_empty() {
        if let Err(e) = std::fs::write(&cfg.pidfile, format!("{pid}\n")) {
            engine.warning(&format!("Failed to write PID file: {e}"));
        }
    }
    engine.notice("Ready to accept connections");
    let shared = Shared {
        engine: Arc::new(Mutex::new(engine)),
        shutdown: Arc::new(Notify::new()),
        rt: tokio::runtime::Handle::current(),
    };
    let sh = shared.clone();
    let listener = listeners.remove(0);
    tokio::spawn(async move { accept_loop(sh, listener).await });
    for listener in listeners.drain(..) {
        let sh = shared.clone();
        tokio::spawn(async move { accept_loop(sh, listener).await });
    }
    let sh = shared.clone();
    tokio::spawn(async move { cron_loop(sh).await });
    super::repl::start_core_drivers(&shared);
    if cfg.live_port != 0 {
        let lp = super::live::start_live(shared.clone(), &cfg.live_bind, cfg.live_port).await?;
        shared.lock().notice(&format!(
            "Live feed (HTTP/WebSocket, read-only) listening on {}:{lp}",
            cfg.live_bind
        ));
    }
    after_batch(&shared);
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

async fn accept_loop(sh: Shared, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = sh.shutdown.notified() => return,
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let sh = sh.clone();
                    tokio::spawn(async move { serve_client(sh, stream, peer.to_string()).await });
                }
                Err(e) => {
                    sh.lock().warning(&format!("Accepting client connection: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }
}

async fn cron_loop(sh: Shared) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = sh.shutdown.notified() => return,
            _ = tick.tick() => {}
        }
        let mut e = sh.lock();
        // activeExpireCycle: 512 of the 4096 shards per 100 ms tick (those holding keys with
        // a TTL), so every expired key goes within 0.8 s.
        e.active_expire(512);
        e.cron();
        drop(e);
        after_batch(&sh);
    }
}

/// Carries out work the engine queued (threads to start, propagation to hand over).
pub fn after_batch(sh: &Shared) {
    let actions = {
        let mut e = sh.lock();
        e.flush_propagation();
        std::mem::take(&mut e.actions)
    };
    for a in actions {
        match a {
            Action::Bgsave => start_user_bgsave(sh),
            Action::Shutdown => sh.shutdown.notify_waiters(),
            Action::Connect { conn, host, port } => {
                let sh = sh.clone();
                let rt = sh.rt.clone();
                rt.spawn(async move { super::repl::run_link(sh, conn, host, port).await });
            }
            Action::CoreBgsave(job) => super::repl::run_core_bgsave(sh, *job),
            Action::Load(data) => super::repl::run_load(sh, data),
        }
    }
}

/// BGSAVE from a user: snapshot now, then write on a thread.
pub fn start_user_bgsave(sh: &Shared) {
    let (snap, opts, pid, progress) = {
        let mut e = sh.lock();
        if e.save.child.is_some() {
            return;
        }
        let pid = e.save.next_child_pid;
        e.save.next_child_pid += 1;
        let snap = e.ks.snapshot();
        let progress = Arc::new(AtomicU64::new(0));
        e.save.child = Some(pid);
        e.save.child_started = Some(Instant::now());
        e.save.child_target = "disk".into();
        e.save.progress = Some((progress.clone(), snap.keys()));
        e.save.dirty_before_bgsave = e.save.dirty;
        e.save.total_forks += 1;
        e.notice(&format!("Background saving started by pid {pid}"));
        (snap, e.save_opts(true), pid, progress)
    };
    run_disk_bgsave(
        sh,
        None,
        pid,
        snap,
        opts,
        Arc::new(AtomicBool::new(false)),
        progress,
    );
}

/// A disk BGSAVE on a thread (the "fork child"): writes `dir/dbfilename` through a temp file.
/// `core_id` is set when the replication core asked for it (the core then logs and sends the
/// file to the waiting replicas).
pub fn run_disk_bgsave(
    sh: &Shared,
    core_id: Option<u64>,
    pid: u32,
    snap: Snapshot,
    opts: SaveOpts,
    kill: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
) {
    let path = sh.lock().rdb_path();
    let sh = sh.clone();
    std::thread::spawn(move || {
        let t0 = Instant::now();
        let tmp = path.with_file_name(format!("temp-{pid}.rdb"));
        let res = (|| -> std::io::Result<()> {
            let f = std::fs::File::create(&tmp)?;
            let sink = KillableWriter {
                inner: std::io::BufWriter::new(f),
                kill: kill.clone(),
            };
            let (w, _) = write_snapshot(&snap, sink, &opts, &progress)?;
            w.inner
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        let cow = snap.cow.get();
        let mut e = sh.lock();
        if kill.load(Ordering::Relaxed) {
            // Killed by the core: it already handled the child's death.
            drop(e);
            after_batch(&sh);
            return;
        }
        e.save.child = None;
        e.save.child_started = None;
        e.save.progress = None;
        e.save.last_bgsave_ok = res.is_ok();
        e.save.last_bgsave_secs = t0.elapsed().as_secs() as i64;
        e.save.last_cow_bytes = cow;
        if res.is_ok() {
            e.save.dirty = e.save.dirty.saturating_sub(e.save.dirty_before_bgsave);
            e.save.rdb_saves += 1;
            e.save.lastsave_unix = super::log::now_epoch_ms() / 1000;
        }
        if core_id.is_none() {
            let log = e.log.clone();
            let now = e.now_ms();
            match &res {
                Ok(()) => {
                    log.log_as(pid, now, 'C', '*', "DB saved on disk");
                    let mb = cow / (1024 * 1024);
                    log.log_as(
                        pid,
                        now,
                        'C',
                        '*',
                        &format!(
                            "Fork CoW for RDB: current {mb} MB, peak {mb} MB, average {mb} MB"
                        ),
                    );
                    e.notice("Background saving terminated with success");
                }
                Err(err) => {
                    log.log_as(
                        pid,
                        now,
                        'C',
                        '#',
                        &format!("Write error saving DB on disk: {err}"),
                    );
                    e.warning("Background saving error");
                }
            }
        }
        e.bgsave_finished(core_id, res.is_ok(), &path, cow);
        drop(e);
        after_batch(&sh);
    });
}

/// A writer that fails once its child is killed (SIGUSR1 in Redis).
struct KillableWriter<W> {
    inner: W,
    kill: Arc<AtomicBool>,
}

impl<W: std::io::Write> std::io::Write for KillableWriter<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.kill.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("child killed"));
        }
        self.inner.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

async fn serve_client(sh: Shared, stream: TcpStream, peer: String) {
    let _ = stream.set_nodelay(true);
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let notify = Arc::new(Notify::new());
    let id = sh.lock().add_client(peer, local, notify.clone());
    let (mut rd, mut wr) = stream.into_split();
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut reparse = false;
    'conn: loop {
        // 1. Send what is queued for us.
        let throttled = loop {
            let (out, close, pending) = {
                let mut e = sh.lock();
                let max = e.write_budget(id);
                let out = e.take_outgoing(id, max);
                e.charge_budget(id, out.len());
                (out, e.should_close(id), e.pending_outgoing(id))
            };
            if out.is_empty() {
                if close {
                    break 'conn;
                }
                // Bytes left but no budget: the bandwidth cap holds them back a moment.
                break pending > 0;
            }
            if wr.write_all(&out).await.is_err() {
                break 'conn;
            }
            sh.lock().stats.total_net_output_bytes += out.len() as u64;
        };
        // 2. Wait for input or for the engine to queue something.
        let n = if std::mem::take(&mut reparse) {
            0
        } else {
            tokio::select! {
                r = rd.read(&mut chunk) => match r {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(n) => n,
                },
                _ = notify.notified() => continue 'conn,
                _ = tokio::time::sleep(std::time::Duration::from_millis(5)), if throttled => continue 'conn,
                _ = sh.shutdown.notified() => break 'conn,
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        // 3. Parse and run every complete request, under one lock (pipelining).
        let mut sleep = None;
        {
            let mut e = sh.lock();
            e.stats.total_net_input_bytes += n as u64;
            let mut pos = 0;
            loop {
                let limits = RequestLimits {
                    max_bulk_len: e.cfg.proto_max_bulk_len as usize,
                    from_master: false,
                    unauthenticated: e.clients.get(&id).is_some_and(|c| !c.authenticated),
                };
                match parse_request(&buf[pos..], &limits) {
                    Ok(None) => break,
                    Ok(Some(Parsed::Empty { consumed, newline })) => {
                        pos += consumed;
                        if newline {
                            e.empty_line(id);
                        }
                    }
                    Ok(Some(Parsed::Command { args, consumed })) => {
                        pos += consumed;
                        match e.execute_client(id, args) {
                            Flow::Done => {}
                            Flow::Close => break,
                            Flow::Sleep(d) => {
                                sleep = Some(d);
                                break;
                            }
                        }
                    }
                    Err(perr) => {
                        // Redis replies, then closes the connection (setProtocolError).
                        let text = perr.reply_text();
                        let addr = e
                            .clients
                            .get(&id)
                            .map(|c| c.addr.clone())
                            .unwrap_or_default();
                        e.log.log(
                            e.now_ms(),
                            e.role_char(),
                            '.',
                            &format!("Protocol error ({text}) from client: addr={addr}"),
                        );
                        e.queue_reply(id, &Reply::err(format!("ERR {text}")));
                        if let Some(c) = e.clients.get_mut(&id) {
                            c.close_after_flush = true;
                        }
                        pos = buf.len();
                        break;
                    }
                }
                if e.should_close(id) {
                    break;
                }
            }
            buf.drain(..pos);
            e.flush_propagation();
            if let Some(d) = sleep {
                // DEBUG SLEEP blocks the whole server, as it does in Redis.
                match tokio::runtime::Handle::current().runtime_flavor() {
                    // One event-loop thread, as in Redis: sleeping it blocks everything.
                    tokio::runtime::RuntimeFlavor::CurrentThread => std::thread::sleep(d),
                    _ => tokio::task::block_in_place(|| std::thread::sleep(d)),
                }
            }
        }
        after_batch(&sh);
        // Requests pipelined after DEBUG SLEEP run on the next turn, after its reply is sent.
        reparse = sleep.is_some() && !buf.is_empty();
    }
    sh.lock().client_closed(id);
    after_batch(&sh);
}
