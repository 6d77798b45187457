//! The helpers every integration test shares: free ports, our server in-process or the
//! `replscope` binary, a real redis-server as a child process (127.0.0.1, free ports), the
//! conditions to await with a deadline, and (in `browser.rs`) a page in headless Chromium.
//!
//! A test file says `mod support;` and uses what it needs (`tests/common` is the old name of
//! this module and still works).
#![allow(dead_code)] // each test file uses a different subset

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use replscope::server::{config::ServerConfig, start, RunningServer};

/// True if a real redis-server is installed; tests that need one print why they skip.
pub fn have_real_redis(test: &str) -> bool {
    // redis-cli and redis-benchmark come with it (Debian: redis-server depends on redis-tools).
    let ok = which("redis-server").is_some() && which("redis-cli").is_some();
    if !ok {
        eprintln!("SKIP {test}: redis-server is not installed (apt-get install redis-server)");
    }
    ok
}

pub fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|f| f.exists())
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts our server in this process with `args` (redis-server style), logging to `dir/log`.
pub async fn start_ours(dir: &Path, args: &[&str]) -> RunningServer {
    std::fs::create_dir_all(dir).expect("test dir");
    let mut all: Vec<String> = vec![
        "--port".into(),
        "0".into(),
        "--dir".into(),
        dir.display().to_string(),
        "--logfile".into(),
        dir.join("ours.log").display().to_string(),
        "--save".into(),
        "".into(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    let cfg: ServerConfig = replscope::server::config_from_args(&all).expect("valid test config");
    start(cfg).await.expect("our server starts")
}

/// A real redis-server child process, killed on drop.
pub struct RealRedis {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl RealRedis {
    /// Starts a real redis-server on a free port. A port found free can be taken by a
    /// parallel test before redis binds it: then the process exits and we retry elsewhere.
    pub fn start(dir: &Path, extra: &[&str]) -> RealRedis {
        RealRedis::start_bin(Path::new("redis-server"), dir, extra)
    }

    /// As [`RealRedis::start`], with the server binary `bin` (another version's).
    pub fn start_bin(bin: &Path, dir: &Path, extra: &[&str]) -> RealRedis {
        std::fs::create_dir_all(dir).unwrap();
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(bin)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--dir", &dir.display().to_string()])
                .args(["--logfile", &dir.join("redis.log").display().to_string()])
                .args(["--daemonize", "no", "--appendonly", "no"])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let mut r = RealRedis {
                port,
                dir: dir.to_path_buf(),
                child,
            };
            let up = wait_blocking(Duration::from_secs(10), || {
                if matches!(r.child.try_wait(), Ok(Some(_))) {
                    return true; // exited: stop waiting, checked below
                }
                let reply = cli(port, &["ping"]);
                reply.trim() == "PONG" || reply.contains("NOAUTH")
            });
            if up.is_ok() && matches!(r.child.try_wait(), Ok(None)) {
                return r;
            }
            last_log = r.log();
        }
        panic!("real redis-server did not start: {last_log}");
    }

    /// A real redis-server in `dir` replicating from `master` (plus `extra` options).
    pub fn replica_of(dir: &Path, master: u16, extra: &[&str]) -> RealRedis {
        let port = master.to_string();
        let mut args = vec!["--replicaof", "127.0.0.1", &port];
        args.extend_from_slice(extra);
        RealRedis::start(dir, &args)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs redis-cli against a port and returns stdout.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One field of `INFO <section>`.
pub fn info_field(port: u16, section: &str, field: &str) -> Option<String> {
    let text = cli(port, &["info", section]);
    text.lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Polls `cond` until it holds or the deadline passes.
pub fn wait_blocking(limit: Duration, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let end = Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    while Instant::now() < end {
        if cond() {
            return Ok(());
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    Err(format!("condition not met within {limit:?}"))
}

/// Async version: polls on a blocking thread so the server keeps running.
pub async fn wait_for(limit: Duration, what: &str, cond: impl FnMut() -> bool + Send + 'static) {
    let r = tokio::task::spawn_blocking(move || wait_blocking(limit, cond))
        .await
        .expect("join");
    if let Err(e) = r {
        panic!("{what}: {e}");
    }
}

/// Every key of every db as `db|key|type|value` lines, sorted, for comparing two servers
/// (uses a plain synchronous connection: fast enough for thousands of keys).
pub fn dataset(port: u16) -> Vec<String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
    let mut c = client.get_connection().expect("connect for dataset");
    let mut out = Vec::new();
    for db in 0..16 {
        let _: () = redis::cmd("SELECT").arg(db).query(&mut c).expect("select");
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).expect("keys");
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(&mut c).expect("type");
            let v: String = match t.as_str() {
                "string" => {
                    let v: Vec<u8> = redis::cmd("GET").arg(&k).query(&mut c).expect("get");
                    String::from_utf8_lossy(&v).into_owned()
                }
                "list" => {
                    let v: Vec<String> = redis::cmd("LRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .query(&mut c)
                        .expect("lrange");
                    v.join(",")
                }
                "hash" => {
                    let v: Vec<String> = redis::cmd("HGETALL")
                        .arg(&k)
                        .query(&mut c)
                        .expect("hgetall");
                    let mut l: Vec<String> = v.chunks(2).map(|c| c.join("=")).collect();
                    l.sort();
                    l.join(",")
                }
                "set" => {
                    let mut v: Vec<String> = redis::cmd("SMEMBERS")
                        .arg(&k)
                        .query(&mut c)
                        .expect("smembers");
                    v.sort();
                    v.join(",")
                }
                "zset" => {
                    let v: Vec<String> = redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query(&mut c)
                        .expect("zrange");
                    v.join(",")
                }
                other => other.to_string(),
            };
            out.push(format!("{db}|{}|{t}|{v}", String::from_utf8_lossy(&k)));
        }
    }
    out.sort();
    out
}

/// What `replscope <args>` did: exit code, stdout, stderr.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `replscope` binary with `args` and captures what it printed.
pub fn run_replscope(args: &[&str]) -> Ran {
    let out = Command::new(env!("CARGO_BIN_EXE_replscope"))
        .args(args)
        .output()
        .expect("run replscope");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// How long a replication test waits for a condition.
pub const T: Duration = Duration::from_secs(30);

/// One field of `INFO <section>`, empty if absent.
pub fn field(port: u16, section: &str, f: &str) -> String {
    info_field(port, section, f).unwrap_or_default()
}

/// Waits until `replica` reports its master link up.
pub async fn await_link_up(replica: u16) {
    wait_for(T, "replica link up", move || {
        field(replica, "replication", "master_link_status") == "up"
    })
    .await;
}

/// Waits until `replica` reports the link up with the same offset as `master`.
pub async fn await_in_sync(master: u16, replica: u16) {
    wait_for(T, "replica in sync", move || {
        let up = field(replica, "replication", "master_link_status") == "up";
        let mo = field(master, "replication", "master_repl_offset");
        let ro = field(replica, "replication", "slave_repl_offset");
        up && !mo.is_empty() && mo == ro
    })
    .await;
}

/// Our server's log file (what [`start_ours`] writes into `dir`).
pub fn log_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("ours.log")).unwrap_or_default()
}

/// Our server in `dir` as a replica of `master` (plus `extra` options).
pub async fn start_ours_replica_of(dir: &Path, master: u16, extra: &[&str]) -> RunningServer {
    let port = master.to_string();
    let mut args = vec!["--replicaof", "127.0.0.1", &port];
    args.extend_from_slice(extra);
    start_ours(dir, &args).await
}

/// Options for a master whose BGSAVE is slowed down (`rdb-key-save-delay`), with DEBUG on, so
/// writes keep coming during a full sync.
pub fn slow_bgsave_args(diskless: bool, key_save_delay_us: u32) -> Vec<String> {
    let mode = if diskless { "yes" } else { "no" };
    [
        "--repl-diskless-sync",
        mode,
        "--repl-diskless-sync-delay",
        "0",
        "--rdb-key-save-delay",
        &key_save_delay_us.to_string(),
        "--enable-debug-command",
        "yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A client writing to `port` on its own thread until stopped; `write(conn, n)` does the
/// n-th write. [`Writer::stop`] returns how many writes were made.
pub struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl Writer {
    pub fn start(port: u16, write: fn(&mut redis::Connection, u64)) -> Writer {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            let mut c = client.get_connection().unwrap();
            let mut n = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                write(&mut c, n);
                n += 1;
            }
            n
        });
        Writer { stop, thread }
    }

    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("writer thread")
    }
}
