//! Server processes for a staged run: free ports, a private directory per server, and a guard
//! that kills the process when dropped (normal end, error, panic). A Ctrl-C handler kills what
//! is still registered (the terminal's SIGINT usually reaches the children too, but a
//! `kill -INT` of the compare process alone would not).

use super::resp::Client;
use crate::core::version::{FullSync, Version, Wording};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Pids of the children alive now, for the Ctrl-C handler.
static LIVE_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Temp directories alive now, removed by the Ctrl-C handler too.
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Which server implementation is staged. Everything that differs between targets lives
/// here: its binary ([`Against::binary`]), how it is started ([`Against::leading_args`]), its
/// config dialect ([`Against::setting`]) and the words of its logs ([`Against::wording`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Against {
    /// `replscope server` (this crate's server, on the same core as the simulator).
    Replscope,
    /// A real Redis or Valkey server of that version (`.tools/servers/<version>/server`).
    Server(Version),
}

impl Against {
    /// `replscope`, a version name (`redis-6.2`, `valkey-9.1`, ...), or `redis` for 7.0.
    pub fn parse(s: &str) -> Result<Against, String> {
        match s {
            "replscope" => Ok(Against::Replscope),
            "redis" => Ok(Against::Server(Version::Redis70)),
            _ => Version::parse(s).map(Against::Server).map_err(|_| {
                let names: Vec<&str> = Version::ALL.iter().map(|v| v.name()).collect();
                format!(
                    "--against `{s}`: use replscope, {} (or redis for redis-7.0)",
                    names.join(", ")
                )
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Against::Replscope => "replscope",
            Against::Server(v) => v.name(),
        }
    }

    /// The real version staged, if any.
    pub fn version(self) -> Option<Version> {
        match self {
            Against::Replscope => None,
            Against::Server(v) => Some(v),
        }
    }

    /// The server binary to run.
    pub fn binary(self, exes: &super::Executables) -> Result<PathBuf, String> {
        self.located(exes).map(|(exe, _)| exe)
    }

    /// The server binary to run and what its `--version` says: `--server` if given, else
    /// `<servers dir>/<version>/server` (what `scripts/setup.sh test` installs), else for 7.0
    /// a `redis-server` on the PATH (the system package is 7.0.15). Its `--version` must be
    /// the release modelled.
    pub fn located(self, exes: &super::Executables) -> Result<(PathBuf, String), String> {
        let v = match self {
            Against::Replscope => {
                let said = format!("replscope {}", env!("CARGO_PKG_VERSION"));
                return Ok((exes.replscope.clone(), said));
            }
            Against::Server(v) => v,
        };
        let exe = if let Some(given) = &exes.server {
            given.clone()
        } else if let Some(p) = exes
            .servers_dir
            .as_ref()
            .map(|d| d.join(v.name()).join("server"))
            .filter(|p| p.exists())
        {
            p
        } else if v == Version::Redis70 {
            PathBuf::from("redis-server")
        } else {
            return Err(format!(
                "no {} server: .tools/servers/{}/server is missing (`scripts/setup.sh test` installs it; or give --server PATH or REPLSCOPE_SERVERS=DIR)",
                v.display_name(),
                v.name()
            ));
        };
        let out = Command::new(&exe)
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot run {} --version: {e}", exe.display()))?;
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !said.contains(&format!("v={} ", v.release())) {
            return Err(format!(
                "{} is not {} {} (its --version says `{said}`)",
                exe.display(),
                v.display_name(),
                v.release()
            ));
        }
        Ok((exe, said))
    }

    /// Arguments before the config (`replscope server ...`).
    fn leading_args(self) -> &'static [&'static str] {
        match self {
            Against::Replscope => &["server"],
            Against::Server(_) => &[],
        }
    }

    /// Whether it knows a setting every staged server gets. 6.2 has no
    /// `enable-debug-command` (7.0 added it; DEBUG was always allowed before).
    fn takes(self, name: &str) -> bool {
        !(name == "enable-debug-command" && self == Against::Server(Version::Redis62))
    }

    /// The words its log lines use (`replscope server` writes Redis 7.0's).
    pub fn wording(self) -> Wording {
        self.version().unwrap_or_default().wording()
    }

    /// A scenario setting `name value` in this target's config dialect: `Ok(Some)` to pass
    /// (under its name there), `Ok(None)` to leave out (the simulator's only, or the
    /// version's own behaviour is that value), `Err` when the version cannot do what the
    /// scenario asks. Checked with `CONFIG GET` on each real binary.
    pub fn setting(self, name: &str, value: &str) -> Result<Option<String>, String> {
        let v = match self {
            // Ours takes every name the simulator's scenario writes, less its own.
            Against::Replscope => {
                return Ok(match name {
                    "dual-channel-replication-enabled" | "replication-model" | "save" => None,
                    n => Some(n.to_string()),
                })
            }
            Against::Server(v) => v,
        };
        let lacks = |what: &str| {
            Err(format!(
                "{} has no `{name}`: {what}; the scenario's `{name} {value}` cannot be staged on it",
                v.display_name()
            ))
        };
        match name {
            // `save` is set by [`ServerProc`] for every server.
            "save" => Ok(None),
            // The simulator's switch between the 6.x and 7.0 buffers: the version decides.
            "replication-model" => {
                if value == v.buffers().as_config_str() {
                    Ok(None)
                } else {
                    lacks("its replication buffers are its own")
                }
            }
            // Valkey's dual channel (`dual-channel-replication-enabled`, config.c @8.1.8).
            "dual-channel-replication-enabled" => match v.second_channel() {
                FullSync::DualChannel => Ok(Some(name.to_string())),
                _ if value == "no" => Ok(None),
                _ => lacks("dual-channel replication is Valkey's"),
            },
            // 7.0 added it (config.c @7.0.0); 6.2 always waits `repl-diskless-sync-delay`,
            // which is what 0 (no maximum) means.
            "repl-diskless-sync-max-replicas" if v == Version::Redis62 => {
                if value == "0" {
                    Ok(None)
                } else {
                    lacks("6.2 starts a diskless fork only after repl-diskless-sync-delay")
                }
            }
            // Redis 8.2's (config.c @8.2.3; `repl-rdb-channel` is hidden but settable).
            "replica-full-sync-buffer-limit" | "repl-rdb-channel" => {
                if v.second_channel() == FullSync::RdbChannel {
                    Ok(Some(name.to_string()))
                } else if name == "repl-rdb-channel" && value == "no" {
                    Ok(None)
                } else {
                    lacks("the RDB channel is Redis 8.2's")
                }
            }
            n => Ok(Some(n.to_string())),
        }
    }
}

/// A port nobody listens on now: bind port 0 and let the OS choose.
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// A fresh directory under the system temp dir, removed by [`TempDir`]'s drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<TempDir, String> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "replscope-compare-{}-{}-{tag}",
            std::process::id(),
            n
        ));
        std::fs::create_dir_all(&p).map_err(|e| format!("create {}: {e}", p.display()))?;
        if let Ok(mut l) = LIVE_DIRS.lock() {
            l.push(p.clone());
        }
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("REPLSCOPE_COMPARE_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
        if let Ok(mut l) = LIVE_DIRS.lock() {
            l.retain(|d| d != &self.0);
        }
    }
}

/// A running server; killed (and reaped) on drop. It can be stopped and started again on
/// the same port, directory and log file (a replica restart).
pub struct ServerProc {
    child: Child,
    pub name: String,
    pub port: u16,
    pub log_path: PathBuf,
    pub dir: PathBuf,
    /// The command line, to start it again.
    exe: PathBuf,
    args: Vec<String>,
}

impl ServerProc {
    /// Starts `exe` (`redis-server`, or the replscope binary with `server` first) on `port`
    /// with its files in `dir`, and waits until it answers PING.
    pub fn start(
        against: Against,
        exe: &Path,
        name: &str,
        port: u16,
        dir: &Path,
        extra: &[(String, String)],
    ) -> Result<ServerProc, String> {
        let log_path = dir.join(format!("{name}.log"));
        let mut argv: Vec<String> = against
            .leading_args()
            .iter()
            .map(|a| a.to_string())
            .collect();
        let mut args: Vec<(String, String)> = vec![
            ("port".into(), port.to_string()),
            ("bind".into(), "127.0.0.1".into()),
            ("dir".into(), dir.display().to_string()),
            ("logfile".into(), log_path.display().to_string()),
            ("save".into(), String::new()),
            ("appendonly".into(), "no".into()),
            ("enable-debug-command".into(), "yes".into()),
            ("dbfilename".into(), format!("{name}.rdb")),
        ];
        args.retain(|(k, _)| against.takes(k));
        args.extend(extra.iter().cloned());
        for (k, v) in &args {
            argv.push(format!("--{k}"));
            // An empty value (save "") is passed as an empty argument, as a shell would.
            argv.extend(split_value(v));
        }
        let child = spawn(exe, &argv)?;
        let mut p = ServerProc {
            child,
            name: name.to_string(),
            port,
            log_path,
            dir: dir.to_path_buf(),
            exe: exe.to_path_buf(),
            args: argv,
        };
        p.wait_ready(Duration::from_secs(20))?;
        Ok(p)
    }

    /// A crash: SIGKILL, nothing saved.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        forget_pid(self.child.id());
    }

    /// A clean stop: `SHUTDOWN SAVE` (our servers run with `save ""`, so a plain SHUTDOWN
    /// would not save; a replica's RDB carries its replication ID and offset), then waits for
    /// the process to exit (killed after `within`).
    pub fn shutdown_save(&mut self, within: Duration) -> Result<(), String> {
        let mut c = self.client()?;
        // The reply, if any, is the connection closing.
        let _ = c.cmd(&["SHUTDOWN", "SAVE"]);
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                forget_pid(self.child.id());
                return Ok(());
            }
            if start.elapsed() > within {
                self.crash();
                return Err(format!(
                    "{} did not exit within {within:?} of SHUTDOWN SAVE",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts the stopped process again with the same command line (port, directory, log file
    /// appended to). Does not wait: a replica loading its RDB at boot answers `-LOADING`.
    pub fn start_again(&mut self) -> Result<(), String> {
        self.child = spawn(&self.exe, &self.args)?;
        Ok(())
    }

    fn wait_ready(&mut self, within: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
                return Err(format!(
                    "{} exited at start ({st}); its log:\n{}",
                    self.name,
                    log.lines().rev().take(10).collect::<Vec<_>>().join("\n")
                ));
            }
            if let Ok(mut c) = Client::connect(self.port, Duration::from_secs(2)) {
                if c.cmd(&["PING"]).is_ok() {
                    return Ok(());
                }
            }
            if start.elapsed() > within {
                return Err(format!(
                    "{} did not answer PING on port {} within {:?}",
                    self.name, self.port, within
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn client(&self) -> Result<Client, String> {
        Client::connect(self.port, Duration::from_secs(10))
            .map_err(|e| format!("connect to {} (port {}): {e}", self.name, self.port))
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn spawn(exe: &Path, args: &[String]) -> Result<Child, String> {
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if let Ok(mut l) = LIVE_PIDS.lock() {
        l.push(child.id());
    }
    Ok(child)
}

fn forget_pid(pid: u32) {
    if let Ok(mut l) = LIVE_PIDS.lock() {
        l.retain(|p| *p != pid);
    }
}

/// `client-output-buffer-limit` takes one argument with spaces: keep multiword values
/// together except where redis-server wants separate words (`replicaof host port`).
fn split_value(v: &str) -> Vec<String> {
    if v.is_empty() {
        return vec![String::new()];
    }
    v.split_whitespace().map(str::to_string).collect()
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.crash();
    }
}

/// Installs (once) a Ctrl-C handler that kills every registered server, removes the temp
/// directories and exits with 130.
pub fn install_ctrl_c_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::thread::spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                let pids = LIVE_PIDS.lock().map(|l| l.clone()).unwrap_or_default();
                for pid in pids {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
                let dirs = LIVE_DIRS.lock().map(|l| l.clone()).unwrap_or_default();
                for d in dirs {
                    let _ = std::fs::remove_dir_all(d);
                }
                eprintln!("interrupted: servers stopped");
                std::process::exit(130);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_version_and_redis_as_7_0() {
        assert_eq!(
            Against::parse("redis"),
            Ok(Against::Server(Version::Redis70))
        );
        for v in Version::ALL {
            assert_eq!(Against::parse(v.name()), Ok(Against::Server(v)));
        }
        let e = Against::parse("valkey").unwrap_err();
        assert!(e.contains("replscope") && e.contains("valkey-9.1"), "{e}");
    }

    #[test]
    fn each_version_takes_only_the_settings_it_has() {
        let on = |v| Against::Server(v);
        // Left out where the version's own behaviour is the value asked for.
        assert_eq!(
            on(Version::Redis62).setting("repl-diskless-sync-max-replicas", "0"),
            Ok(None)
        );
        assert!(on(Version::Redis62)
            .setting("repl-diskless-sync-max-replicas", "2")
            .is_err());
        assert_eq!(
            on(Version::Redis70).setting("dual-channel-replication-enabled", "no"),
            Ok(None)
        );
        assert!(on(Version::Redis82)
            .setting("dual-channel-replication-enabled", "yes")
            .is_err());
        assert_eq!(
            on(Version::Valkey91).setting("dual-channel-replication-enabled", "yes"),
            Ok(Some("dual-channel-replication-enabled".into()))
        );
        assert_eq!(
            on(Version::Redis82).setting("replica-full-sync-buffer-limit", "1mb"),
            Ok(Some("replica-full-sync-buffer-limit".into()))
        );
        assert!(on(Version::Valkey81)
            .setting("replica-full-sync-buffer-limit", "1mb")
            .is_err());
        // The buffer model is the version's.
        assert_eq!(
            on(Version::Redis62).setting("replication-model", "6"),
            Ok(None)
        );
        assert!(on(Version::Redis62)
            .setting("replication-model", "7")
            .is_err());
        assert!(!on(Version::Redis62).takes("enable-debug-command"));
        assert!(on(Version::Redis70).takes("enable-debug-command"));
    }
}
