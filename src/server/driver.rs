//! The driver: the shared handle on the engine, and the work that runs beside the sockets:
//! the core's timers, the 10 Hz cron, the threads that play Redis's fork children (a BGSAVE
//! to disk or to replicas' sockets) and the thread that loads what our master sent.
//!
//! Everything that touches the engine locks it, does its work, releases it, then calls
//! [`after_batch`] to start what the engine asked for (threads, connections, shutdown).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify};

use super::engine::Engine;
use super::keyspace::SHARDS;
use super::rdbfile::{load_rdb, load_rdb_stream, write_snapshot};
use super::seam;
use super::types::{Action, BgsaveJob};
use crate::core::{ConnId, Input, Payload};

/// A connection the core asked for: (id, host, port).
pub type ConnectRequest = (ConnId, String, u16);

/// The engine shared by every task and thread.
#[derive(Clone)]
pub struct Shared {
    engine: Arc<Mutex<Engine>>,
    pub shutdown: Arc<Notify>,
    /// The runtime, so threads (the BGSAVE "children", the loader) can start tasks.
    pub rt: tokio::runtime::Handle,
    /// Connections the core asked for, opened by the socket layer (`net`).
    connect: mpsc::UnboundedSender<ConnectRequest>,
}

impl Shared {
    /// Wraps the engine; the receiver gets the connections the core asks for.
    pub fn new(engine: Engine) -> (Shared, mpsc::UnboundedReceiver<ConnectRequest>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let sh = Shared {
            engine: Arc::new(Mutex::new(engine)),
            shutdown: Arc::new(Notify::new()),
            rt: tokio::runtime::Handle::current(),
            connect: tx,
        };
        (sh, rx)
    }

    /// Locks the engine. A panic while holding the lock would poison it; we keep serving
    /// with the data as it is rather than stopping every connection.
    pub fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks every task to stop.
    pub fn stop(&self) {
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }
}

/// Starts the work the engine queued (threads, connections), handing pending writes to the
/// core first.
pub fn after_batch(sh: &Shared) {
    let actions = {
        let mut e = sh.lock();
        seam::flush_propagation(&mut e);
        e.take_actions()
    };
    run_actions(sh, actions);
}

/// Starts the work the engine asked for (taken with `Engine::take_actions` under the lock).
pub fn run_actions(sh: &Shared, actions: Vec<Action>) {
    for a in actions {
        match a {
            Action::Bgsave(job) => run_child(sh, *job),
            Action::Shutdown => sh.shutdown.notify_waiters(),
            Action::Connect { conn, host, port } => {
                if sh.connect.send((conn, host.clone(), port)).is_err() {
                    // The socket layer is gone (shutting down): the attempt fails.
                    let mut e = sh.lock();
                    e.forget_link(conn);
                    seam::core_handle(
                        &mut e,
                        Input::ConnectFailed {
                            conn,
                            error: "server shutting down".into(),
                        },
                    );
                }
            }
            Action::Load(data) => run_load(sh, data),
            Action::LoadStream { gen, chunks } => run_stream_load(sh, gen, chunks),
        }
    }
}

/// Runs the core's timers and the 10 Hz cron until shutdown.
pub fn start_timers(sh: &Shared) {
    let s = sh.clone();
    tokio::spawn(async move {
        loop {
            let wait = s.lock().core_wait_ms();
            tokio::select! {
                _ = s.shutdown.notified() => return,
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
            seam::core_timeout(&mut s.lock());
            after_batch(&s);
        }
    });
    let s = sh.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = s.shutdown.notified() => return,
                _ = tick.tick() => {}
            }
            {
                let mut e = s.lock();
                // activeExpireCycle: an eighth of the shards per 100 ms tick (those holding
                // keys with a TTL), so every expired key goes within 0.8 s.
                e.active_expire(SHARDS / 8);
                e.check_save_points();
            }
            after_batch(&s);
        }
    });
}

/// Starts a fork child on a thread: to disk through a temp file, or to the replicas' sockets
/// through the core.
fn run_child(sh: &Shared, job: BgsaveJob) {
    let sh = sh.clone();
    if job.disk {
        let path = sh.lock().rdb_path();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let tmp = path.with_file_name(format!("temp-{}.rdb", job.pid));
            let res = (|| -> std::io::Result<()> {
                let f = std::fs::File::create(&tmp)?;
                let sink = KillableWriter {
                    inner: std::io::BufWriter::new(f),
                    kill: job.kill.clone(),
                };
                let (w, _) = write_snapshot(&job.snap, sink, &job.opts, &job.progress)?;
                w.inner
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if res.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            let secs = t0.elapsed().as_secs() as i64;
            // For replicas, the file is read here rather than under the engine's lock: a
            // large RDB took the server's every connection a second to read and copy.
            let file = match (&res, job.core_id) {
                (Ok(()), Some(_)) => std::fs::read(&path).ok(),
                _ => None,
            };
            let cow = job.snap.cow.get();
            {
                let mut e = sh.lock();
                if e.disk_bgsave_done(job.core_id, job.pid, &res, file, secs, cow) {
                    seam::pump(&mut e);
                }
            }
            after_batch(&sh);
        });
        return;
    }
    std::thread::spawn(move || {
        let Some(id) = job.core_id else { return };
        let sink = SocketSink {
            sh: sh.clone(),
            id,
            buf: Vec::with_capacity(CHUNK),
            kill: job.kill.clone(),
        };
        let res = write_snapshot(&job.snap, sink, &job.opts, &job.progress);
        let cow = job.snap.cow.get();
        {
            let mut e = sh.lock();
            if e.socket_bgsave_done(id, res.is_ok(), cow) {
                seam::pump(&mut e);
            }
        }
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

/// Redis's RDB pipe reads 16 KiB at a time.
const CHUNK: usize = 16 * 1024;
/// Pause the child while a target still has this much RDB queued (Redis stops reading the
/// pipe until the slowest replica drains).
const MAX_QUEUED_RDB: u64 = 4 * CHUNK as u64;

/// The diskless "pipe": RDB bytes go to the core in chunks, paced by the slowest target.
struct SocketSink {
    sh: Shared,
    id: u64,
    buf: Vec<u8>,
    kill: Arc<AtomicBool>,
}

impl SocketSink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        loop {
            if self.kill.load(Ordering::Relaxed) {
                return Err(std::io::Error::other("killed by the master"));
            }
            if self.sh.lock().bgsave_backlog_bytes() < MAX_QUEUED_RDB {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let data = std::mem::take(&mut self.buf);
        seam::core_handle(
            &mut self.sh.lock(),
            Input::BgsaveData {
                id: self.id,
                payload: Payload::Bytes(data),
            },
        );
        after_batch(&self.sh);
        Ok(())
    }
}

impl std::io::Write for SocketSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.kill.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("killed by the master"));
        }
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Loads an RDB on a thread while it arrives from our master (diskless load), then reports
/// to the core once the transfer is whole. The old dataset is kept until the new one loaded.
fn run_stream_load(sh: &Shared, gen: u64, chunks: std::sync::mpsc::Receiver<Vec<u8>>) {
    let sh = sh.clone();
    std::thread::spawn(move || {
        let (databases, delay, now) = sh.lock().load_params();
        let res = {
            let mut more = || chunks.recv().ok();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                load_rdb_stream(&mut more, databases, delay, false, now)
            }))
            .unwrap_or_else(|_| {
                Err(crate::rdb::RdbError {
                    offset: 0,
                    what: "the loader failed unexpectedly".into(),
                })
            })
        };
        // Report only when the transfer is over (the core asked for the load, or a newer
        // transfer made this one void), as Redis ends `readSyncBulkPayload` after the EOF.
        while chunks.recv().is_ok() {}
        {
            let mut e = sh.lock();
            e.stream_load_done(gen, res);
            seam::pump(&mut e);
        }
        after_batch(&sh);
    });
}

/// Loads an RDB received from our master on a thread, then reports to the core. The old
/// dataset is kept until the new one loaded completely.
fn run_load(sh: &Shared, data: Vec<u8>) {
    let sh = sh.clone();
    std::thread::spawn(move || {
        let (databases, delay, now) = sh.lock().load_params();
        // The loader is fuzzed not to panic; if it ever did, the load still ends (as a
        // failure), so the server never stays `-LOADING` with the old data gone.
        let res = std::panic::catch_unwind(|| load_rdb(&data, databases, delay, false, now))
            .unwrap_or_else(|_| {
                Err(crate::rdb::RdbError {
                    offset: 0,
                    what: "the loader failed unexpectedly".into(),
                })
            });
        {
            let mut e = sh.lock();
            e.load_done(&data, res);
            seam::pump(&mut e);
        }
        after_batch(&sh);
    });
}
