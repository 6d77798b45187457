//! Staging a scenario on real servers: calibrate the test knobs, start master, proxies and
//! replicas, drive the writes and the faults, measure, stop.

use super::events::{parse_events, parse_log_line, Naming, SyncEvent};
use super::procs::{free_port, Against, ServerProc, TempDir};
use super::proxy::Proxy;
use super::resp::{field, Client};
use crate::core::version::Wording;
use crate::sim::scenario::FaultAction;
use crate::sim::summary::{MasterSummary, ReplicaSummary, Summary};
use crate::sim::Scenario;
use crate::wire::encode_command;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the servers come from.
#[derive(Clone, Debug)]
pub struct Executables {
    /// The replscope binary (run as `<exe> server ...`).
    pub replscope: PathBuf,
    /// A real server's binary given by hand (`--server`): used for whichever version is
    /// staged (its `--version` is checked).
    pub server: Option<PathBuf>,
    /// Where `scripts/setup.sh test` installs the real versions: `<dir>/<version>/server`.
    pub servers_dir: Option<PathBuf>,
}

impl Executables {
    /// `replscope` and the real servers found as the tests find them: `$REPLSCOPE_SERVERS`,
    /// else the first `.tools/servers` in a folder above `replscope` (a checkout's
    /// `target/debug/replscope`) or above the current directory (another target dir).
    pub fn find(replscope: PathBuf, server: Option<PathBuf>) -> Executables {
        let servers_dir = std::env::var_os("REPLSCOPE_SERVERS")
            .map(PathBuf::from)
            .or_else(|| {
                let cwd = std::env::current_dir().ok();
                let starts = replscope
                    .parent()
                    .map(Path::to_path_buf)
                    .into_iter()
                    .chain(cwd);
                starts
                    .flat_map(|s| {
                        s.ancestors()
                            .map(|a| a.join(".tools/servers"))
                            .collect::<Vec<_>>()
                    })
                    .find(|d| d.is_dir())
            });
        Executables {
            replscope,
            server,
            servers_dir,
        }
    }
}

/// What calibration measured and chose (all per key, microseconds).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Calibration {
    /// BGSAVE cost per key the scenario asks for (`dataset.size / fork.rdb-speed / keys`).
    pub save_target_us: f64,
    /// `rdb-key-save-delay` chosen.
    pub rdb_key_save_delay: u64,
    /// BGSAVE cost per key measured with that delay.
    pub save_measured_us: f64,
    /// Every probe: (delay, measured cost per key).
    pub probes: Vec<(u64, f64)>,
    /// Load cost per key the scenario asks for (`dataset.size / replica.load-speed / keys`).
    pub load_target_us: f64,
    /// `key-load-delay` chosen (same sleep as the save delay, so the same curve).
    pub key_load_delay: u64,
    /// Fixed cost of a BGSAVE, ms (fork; the parent notices the child's exit on its cron).
    pub fixed_bgsave_ms: f64,
    /// Expected BGSAVE of the whole dataset with the chosen delay, ms.
    pub bgsave_expected_ms: f64,
    /// Bytes of the master's RDB (measured after DEBUG POPULATE).
    pub rdb_bytes: u64,
    /// Value size given to DEBUG POPULATE.
    pub populate_value_size: u64,
}

/// One staged run's raw results.
pub struct Staged {
    /// The scenario the simulator should predict: the input with the dataset size and the
    /// RDB/load speeds the staging actually achieved.
    pub scenario: Scenario,
    pub measured: Summary,
    pub events: Vec<SyncEvent>,
    pub calibration: Calibration,
    pub notes: Vec<String>,
    /// Polled (ms, backlog histlen, omem per replica).
    pub samples: Vec<(u64, u64, Vec<u64>)>,
}

#[derive(Default)]
struct Peaks {
    backlog: u64,
    obuf: Vec<u64>,
    /// (ms since start, backlog histlen, each replica's omem) at every poll.
    samples: Vec<(u64, u64, Vec<u64>)>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn io<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The staged servers: the master, a shaping proxy on each master-replica link, the
/// replicas. Dropping it stops them all, replicas first (fields drop in this order).
struct Staging {
    replicas: Vec<ServerProc>,
    /// Each replica's proxy to its master now.
    proxies: Vec<Proxy>,
    /// Proxies to a master that died (kill-master): kept for the ports they name in logs.
    retired_proxies: Vec<(usize, Proxy)>,
    master: ServerProc,
    /// The port of the master now (a promoted replica's after kill-master); the write load
    /// and the poller follow it.
    master_port: Arc<AtomicU16>,
    /// kill-master: (the promoted replica's index, ms of the promotion). From then on its log
    /// is the master's.
    promoted: Option<(usize, u64)>,
    replica_ports: Vec<u16>,
    /// When the replicas were started: the run's time 0.
    t0: Instant,
    t0_unix: u64,
}

/// What the run loop saw.
struct Run {
    end_ms: u64,
    /// Disconnects staged per replica, by the simulator's cause names (`link_cut`,
    /// `replica_restart`, `master_killed`).
    staged_disconnects: Vec<BTreeMap<&'static str, u64>>,
    peaks: Peaks,
    /// The master's offset at the end.
    master_offset: i64,
    /// Each replica's applied offset and link status at the end.
    replica_states: Vec<(i64, bool)>,
}

/// Stages `scenario` against `against` and measures it: start and calibrate the master,
/// start proxies and replicas, run the writes and the faults, read back the final state and
/// the logs.
pub fn stage(
    scenario: &Scenario,
    against: Against,
    exes: &Executables,
    progress: &dyn Fn(&str),
) -> Result<Staged, String> {
    let common = check_settings(scenario, against)?;
    let exe = &against.binary(exes)?;
    let tmp = TempDir::new(against.as_str())?;
    let master_port = free_port()?;
    progress(&format!(
        "starting the master ({}) on port {master_port}",
        against.as_str()
    ));
    let master = ServerProc::start(against, exe, "master", master_port, &tmp.0, &common)?;
    let mut mc = master.client()?;
    let (calibration, mut notes) = calibrate(&mut mc, &master, scenario, progress)?;
    let staged = scenario_as_staged(scenario, &calibration, &mut notes);
    let mut st = start_replicas(
        scenario,
        against,
        exe,
        &tmp,
        master,
        master_port,
        &common,
        &calibration,
    )?;
    progress(&format!(
        "running {} s of scenario `{}`",
        scenario.duration / 1000,
        scenario.name
    ));
    drop(mc);
    let run = run_schedule(scenario, &mut st)?;
    let (bgsaves, events, times) = read_logs(&st, scenario.replicas as usize, &against.wording());
    let measured = measured_summary(scenario, &run, bgsaves, &events);
    let staged = with_run_speeds(staged, &calibration, &times, &mut notes);
    Ok(Staged {
        scenario: staged,
        measured,
        events,
        calibration,
        notes,
        samples: run.peaks.samples,
    })
}

/// What [`stage`] refuses before it starts anything: faults it cannot stage, a version that
/// is not the target's, a setting the target lacks. The settings for every server, else.
pub(super) fn check_settings(
    scenario: &Scenario,
    against: Against,
) -> Result<Vec<(String, String)>, String> {
    check_stageable(scenario, against)?;
    server_settings(scenario, against)
}

/// The scenario's Redis settings for every server, in the target's dialect; an error names
/// a setting the target lacks.
fn server_settings(scenario: &Scenario, against: Against) -> Result<Vec<(String, String)>, String> {
    let mut common = Vec::new();
    for (k, v) in scenario.redis_pairs() {
        if let Some(name) = against.setting(&k, &v)? {
            common.push((name, v));
        }
    }
    // The RDB is then about as large as the dataset the scenario describes (DEBUG POPULATE
    // values compress to almost nothing otherwise).
    common.push(("rdbcompression".into(), "no".into()));
    Ok(common)
}

/// The scenario the simulator predicts: what the staging achieves (the real RDB's size, the
/// BGSAVE and load speeds calibration got), not what was asked for.
fn scenario_as_staged(scenario: &Scenario, cal: &Calibration, notes: &mut Vec<String>) -> Scenario {
    let mut staged = scenario.clone();
    staged.dataset.size = cal.rdb_bytes.max(1);
    let keys = scenario.dataset.keys.max(1) as f64;
    staged.fork.rdb_speed =
        (cal.rdb_bytes as f64 * 1000.0 / cal.bgsave_expected_ms.max(0.001)).max(1.0) as u64;
    if cal.key_load_delay > 0 {
        // Same sleep per key as the save path.
        let per_key = cost_at(&cal.probes, cal.key_load_delay);
        staged.replica.load_speed = (cal.rdb_bytes as f64 * 1e6 / (keys * per_key)).max(1.0) as u64;
        notes.push(format!(
            "key-load-delay {} (~{per_key:.0} us/key assumed from the save-delay curve)",
            cal.key_load_delay
        ));
    }
    staged
}

/// How long the run's BGSAVEs and loads took (ms), from the logs.
#[derive(Default)]
struct RunTimes {
    /// Each BGSAVE for sync that ended in success: the master's "started by pid" to its
    /// child's "DB saved on disk" (disk) or its "terminated with success" (diskless).
    bgsaves: Vec<u64>,
    /// Each replica load of a full sync: "Loading DB in memory" to "Finished with success".
    loads: Vec<u64>,
}

/// The lower median.
fn median(v: &[u64]) -> Option<u64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len().checked_sub(1)? / 2).copied()
}

/// The BGSAVE and load speeds the run itself showed, for the simulator. `rdb-key-save-delay`
/// and `key-load-delay` are sleeps per key whose cost follows the machine's load, so on a busy
/// machine calibration and run differ by up to 2x; the speeds are inputs of the scenario, not
/// something the model predicts. The load is taken from the run only where a delay set it
/// (else the server loads at its own speed, which the scenario's load speed stands for).
fn with_run_speeds(
    mut staged: Scenario,
    cal: &Calibration,
    times: &RunTimes,
    notes: &mut Vec<String>,
) -> Scenario {
    let bytes = cal.rdb_bytes as f64;
    let run_ms = median(&times.bgsaves);
    // A socket BGSAVE much slower than its calibrated child was paced by its replicas (link,
    // loader), which the simulator models itself; the child's own speed is then
    // calibration's, and it decides when the child's first 16 KB leave
    // (`fork::FIRST_FLUSH`), before or after a dual-channel replica's handshake replies.
    // Within 3x (the drift of a sleep per key on a busy machine) the child set the pace.
    let paced_by_replicas = staged.redis.repl_diskless_sync
        && run_ms.is_some_and(|ms| ms as f64 > 3.0 * cal.bgsave_expected_ms);
    if paced_by_replicas {
        notes.push(format!(
            "socket BGSAVEs paced by the replicas: the simulator gets the child's calibrated speed ({:.0} ms for the RDB); the run's took {} ms (median of {:?})",
            cal.bgsave_expected_ms,
            run_ms.unwrap_or(0),
            times.bgsaves
        ));
    } else if let Some(ms) = run_ms {
        staged.fork.rdb_speed = (bytes * 1000.0 / ms.max(1) as f64).max(1.0) as u64;
        notes.push(format!(
            "the simulator gets the run's own BGSAVE time: {ms} ms (median of {:?}; calibration expected {:.0} ms)",
            times.bgsaves, cal.bgsave_expected_ms
        ));
    }
    if cal.key_load_delay > 0 {
        if let Some(ms) = median(&times.loads) {
            staged.replica.load_speed = (bytes * 1000.0 / ms.max(1) as f64).max(1.0) as u64;
            notes.push(format!(
                "the simulator gets the run's own load time: {ms} ms (median of {:?})",
                times.loads
            ));
        }
    }
    staged
}

/// A proxy on each replica's link (its bandwidth and latency), then the replicas, each a
/// replica of the master through its proxy.
#[allow(clippy::too_many_arguments)]
fn start_replicas(
    scenario: &Scenario,
    against: Against,
    exe: &Path,
    tmp: &TempDir,
    master: ServerProc,
    master_port: u16,
    common: &[(String, String)],
    cal: &Calibration,
) -> Result<Staging, String> {
    let n = scenario.replicas as usize;
    let mut proxies = Vec::new();
    for i in 0..n {
        let (bw, lat) = scenario.link_of(i);
        let proxy = Proxy::start(master_port, bw, lat)?;
        // A link cut from time 0 is cut before its replica starts: a replica connects on its
        // first replicationCron, which runs as soon as the server is up.
        if scenario
            .faults
            .iter()
            .any(|f| f.action == FaultAction::CutLink && f.at == 0 && f.replica as usize == i + 1)
        {
            proxy.cut();
        }
        proxies.push(proxy);
    }
    let mut replica_cfg = common.to_vec();
    replica_cfg.push(("key-load-delay".into(), cal.key_load_delay.to_string()));
    let replica_ports = (0..n).map(|_| free_port()).collect::<Result<Vec<_>, _>>()?;
    let t0 = Instant::now();
    let t0_unix = unix_ms();
    let mut replicas = Vec::new();
    for (i, (proxy, port)) in proxies.iter().zip(&replica_ports).enumerate() {
        let mut cfg = replica_cfg.clone();
        cfg.push(("replicaof".into(), format!("127.0.0.1 {}", proxy.port)));
        let name = format!("replica-{}", i + 1);
        replicas.push(ServerProc::start(against, exe, &name, *port, &tmp.0, &cfg)?);
    }
    Ok(Staging {
        master,
        master_port: Arc::new(AtomicU16::new(master_port)),
        promoted: None,
        proxies,
        retired_proxies: Vec::new(),
        replicas,
        replica_ports,
        t0,
        t0_unix,
    })
}

/// One fault to stage, each repetition its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Planned {
    at: u64,
    /// 0-based replica (for kill-master: the one promoted).
    replica: usize,
    action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// Cut the replica's link for this many ms.
    Cut(u64),
    /// Stop the replica (graceful: SHUTDOWN SAVE; else SIGKILL), start it again after
    /// `replica.restart-time` on the same port and directory.
    Restart { graceful: bool },
    /// The replica's process starts again.
    Start,
    /// SIGKILL the master, `REPLICAOF NO ONE` on the replica, the others re-pointed to it.
    KillMaster,
}

/// The scenario's faults, each repetition its own, in time order.
fn scheduled_faults(scenario: &Scenario) -> Vec<Planned> {
    let mut plan = Vec::new();
    for f in &scenario.faults {
        let action = match f.action {
            FaultAction::CutLink => Action::Cut(f.for_ms),
            FaultAction::RestartReplica => Action::Restart {
                graceful: f.graceful,
            },
            FaultAction::KillMaster => Action::KillMaster,
        };
        let mut at = f.at;
        while at < scenario.duration {
            plan.push(Planned {
                at,
                replica: f.replica as usize - 1,
                action,
            });
            match f.every {
                Some(e) if e > 0 => at += e,
                _ => break,
            }
        }
    }
    plan.sort();
    plan
}

/// Runs the scenario's time: the write load and the poller on their threads, the link cuts
/// on this one; then the final state, taken with the writes still on (as the simulator's
/// summary is).
fn run_schedule(scenario: &Scenario, st: &mut Staging) -> Result<Run, String> {
    let n = st.replicas.len();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop, port, t0) = (
            scenario.clone(),
            stop.clone(),
            st.master_port.clone(),
            st.t0,
        );
        std::thread::spawn(move || write_load(&s, &port, t0, &stop))
    };
    let peaks = Arc::new(Mutex::new(Peaks {
        backlog: 0,
        obuf: vec![0; n],
        samples: Vec::new(),
    }));
    let proxy_ports: Arc<Mutex<Vec<Vec<u16>>>> = Arc::new(Mutex::new(vec![Vec::new(); n]));
    let poller = {
        let (stop, peaks, pp) = (stop.clone(), peaks.clone(), proxy_ports.clone());
        let (port, t0) = (st.master_port.clone(), st.t0);
        std::thread::spawn(move || poll(&port, t0, &stop, &peaks, &pp))
    };
    let result = faults_on_schedule(scenario, st, &proxy_ports, &stop);
    let final_state = result.and_then(|staged_disconnects| {
        let end_ms = st.t0.elapsed().as_millis() as u64;
        let (master_offset, replica_states) =
            final_offsets(st.master_port.load(Ordering::SeqCst), &st.replicas)?;
        Ok((staged_disconnects, end_ms, master_offset, replica_states))
    });
    stop.store(true, Ordering::SeqCst);
    let _ = writer.join();
    let _ = poller.join();
    let (staged_disconnects, end_ms, master_offset, replica_states) = final_state?;
    let peaks = std::mem::take(&mut *peaks.lock().map_err(|_| "poller poisoned".to_string())?);
    Ok(Run {
        end_ms,
        staged_disconnects,
        peaks,
        master_offset,
        replica_states,
    })
}

/// Stages the scenario's faults on time, until its duration; a server that dies unasked
/// stops the run. Returns the disconnects staged per replica, by cause.
fn faults_on_schedule(
    scenario: &Scenario,
    st: &mut Staging,
    proxy_ports: &Mutex<Vec<Vec<u16>>>,
    stop: &AtomicBool,
) -> Result<Vec<BTreeMap<&'static str, u64>>, String> {
    let mut plan = scheduled_faults(scenario);
    let mut restores: Vec<(u64, usize)> = Vec::new();
    let mut staged = vec![BTreeMap::new(); st.replicas.len()];
    // Replicas stopped by a restart fault (not checked for being alive).
    let mut down = vec![false; st.replicas.len()];
    loop {
        let now = st.t0.elapsed().as_millis() as u64;
        if let Ok(mut pp) = proxy_ports.lock() {
            for (i, p) in st.proxies.iter().enumerate() {
                pp[i] = p.upstream_ports();
            }
            for (i, p) in &st.retired_proxies {
                pp[*i].extend(p.upstream_ports());
            }
        }
        while plan.first().is_some_and(|p| p.at <= now) {
            let f = plan.remove(0);
            let i = f.replica;
            match f.action {
                Action::Cut(dur) => {
                    st.proxies[i].cut();
                    *staged[i].entry("link_cut").or_default() += 1;
                    restores.push((f.at + dur, i));
                }
                Action::Restart { graceful } => {
                    down[i] = true;
                    if graceful {
                        st.replicas[i].shutdown_save(Duration::from_secs(60))?;
                    } else {
                        st.replicas[i].crash();
                    }
                    *staged[i].entry("replica_restart").or_default() += 1;
                    // The simulator's down time counts from the fault; a graceful stop's
                    // save is part of it (the simulator adds its own estimate of it).
                    let back = if graceful {
                        st.t0.elapsed().as_millis() as u64 + scenario.replica.restart_time
                    } else {
                        f.at + scenario.replica.restart_time
                    };
                    plan.push(Planned {
                        at: back,
                        replica: i,
                        action: Action::Start,
                    });
                    plan.sort();
                }
                Action::Start => {
                    st.replicas[i].start_again()?;
                    down[i] = false;
                }
                Action::KillMaster => {
                    promote(scenario, st, i, now)?;
                    for (k, d) in staged.iter_mut().enumerate() {
                        if k != i {
                            *d.entry("master_killed").or_default() += 1;
                        }
                    }
                }
            }
        }
        restores.retain(|&(at, i)| {
            if at <= now {
                st.proxies[i].restore();
                false
            } else {
                true
            }
        });
        if now >= scenario.duration {
            return Ok(staged);
        }
        for (r, is_down) in st.replicas.iter_mut().zip(&down) {
            if !is_down && !r.alive() {
                stop.store(true, Ordering::SeqCst);
                return Err(format!("{} died during the run", r.name));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// kill-master: SIGKILL the master, `REPLICAOF NO ONE` on replica `promoted` (what a
/// failover does), and every other replica re-pointed at it with `REPLICAOF` through a new
/// proxy shaped as its own link.
fn promote(scenario: &Scenario, st: &mut Staging, promoted: usize, now: u64) -> Result<(), String> {
    st.master.crash();
    let new_port = st.replicas[promoted].port;
    st.replicas[promoted]
        .client()?
        .cmd(&["REPLICAOF", "NO", "ONE"])
        .map_err(io("REPLICAOF NO ONE"))?;
    st.master_port.store(new_port, Ordering::SeqCst);
    st.promoted = Some((promoted, now));
    for k in 0..st.replicas.len() {
        if k == promoted {
            continue;
        }
        let (bw, lat) = scenario.link_of(k);
        let proxy = Proxy::start(new_port, bw, lat)?;
        let port = proxy.port.to_string();
        let old = std::mem::replace(&mut st.proxies[k], proxy);
        st.retired_proxies.push((k, old));
        st.replicas[k]
            .client()?
            .cmd(&["REPLICAOF", "127.0.0.1", &port])
            .map_err(io("REPLICAOF"))?;
    }
    Ok(())
}

/// The master's offset, and each replica's applied offset and link status.
fn final_offsets(
    master_port: u16,
    replicas: &[ServerProc],
) -> Result<(i64, Vec<(i64, bool)>), String> {
    let minfo = Client::connect(master_port, Duration::from_secs(10))
        .and_then(|mut c| c.info("replication"))
        .map_err(io("INFO on the master"))?;
    let master_offset: i64 = field(&minfo, "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut states = Vec::new();
    for r in replicas {
        let info = r
            .client()
            .and_then(|mut c| c.info("replication").map_err(io("INFO on a replica")))?;
        let off: i64 = field(&info, "slave_repl_offset")
            .or_else(|| field(&info, "master_repl_offset"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let up = field(&info, "master_link_status") == Some("up");
        states.push((off, up));
    }
    Ok((master_offset, states))
}

/// The master's and each replica's log, timed from the replicas' start: the number of
/// BGSAVEs for sync, and the sync events.
fn read_logs(st: &Staging, n: usize, wording: &Wording) -> (u64, Vec<SyncEvent>, RunTimes) {
    let (load_start, load_done) = (
        wording.sync(": Loading DB in memory"),
        wording.sync(": Finished with success"),
    );
    let mut lines = Vec::new();
    let mut push_file = |path: &PathBuf, node: &str, master_from: Option<u64>| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for l in text.lines() {
            if let Some((t, msg)) = parse_log_line(l) {
                if t + 50 >= st.t0_unix {
                    let t = t.saturating_sub(st.t0_unix);
                    let node = match master_from {
                        Some(from) if t >= from => "master",
                        _ => node,
                    };
                    lines.push((t, node.to_string(), msg));
                }
            }
        }
    };
    push_file(&st.master.log_path, "master", None);
    for (i, r) in st.replicas.iter().enumerate() {
        // The promoted replica's lines are the master's from its promotion on.
        let from = st.promoted.filter(|p| p.0 == i).map(|p| p.1);
        push_file(&r.log_path, &r.name, from);
    }
    lines.sort_by_key(|l| l.0);
    let bgsaves = lines
        .iter()
        .filter(|(_, n, m)| n == "master" && m.starts_with("Starting BGSAVE for SYNC"))
        .count() as u64;
    // Each BGSAVE's time: rdbSaveBackground's / rdbSaveToSlavesSockets' "started by pid" to
    // the disk child's own "DB saved on disk" (the simulator adds the wait for the parent's
    // `checkChildrenDone`, which runs on its 100 ms `serverCron`), or for a diskless child to
    // backgroundSaveDoneHandler's "terminated with success".
    let mut times = RunTimes::default();
    let mut started: Option<u64> = None;
    let mut saved: Option<u64> = None;
    // Only BGSAVEs for a sync: a calibration BGSAVE that ended just before the run would
    // read as one that took 0 ms (its lines fall in the 50 ms before the run's start).
    let mut for_sync = false;
    let mut loading: std::collections::BTreeMap<&str, u64> = Default::default();
    for (t, node, m) in &lines {
        if node != "master" {
            if m.starts_with(&load_start) {
                loading.insert(node.as_str(), *t);
            } else if m.starts_with(&load_done) {
                if let Some(t0) = loading.remove(node.as_str()) {
                    times.loads.push(t - t0);
                }
            }
            continue;
        }
        if m.starts_with("Starting BGSAVE for SYNC") {
            for_sync = true;
        } else if m.starts_with("Background saving started by pid")
            || m.starts_with("Background RDB transfer started by pid")
        {
            started = std::mem::take(&mut for_sync).then_some(*t);
            saved = None;
        } else if m.starts_with("DB saved on disk") {
            saved = Some(*t);
        } else if m.starts_with("Background saving terminated with success")
            || m.starts_with("Background RDB transfer terminated with success")
        {
            if let Some(t0) = started.take() {
                times.bgsaves.push(saved.take().unwrap_or(*t) - t0);
            }
        } else if m.starts_with("Background saving terminated")
            || m.starts_with("Background RDB transfer terminated")
        {
            started = None;
            saved = None;
        }
    }
    let mut client_ports = std::collections::BTreeMap::new();
    let all_proxies = st.proxies.iter().enumerate();
    for (i, p) in all_proxies.chain(st.retired_proxies.iter().map(|(i, p)| (*i, p))) {
        for port in p.upstream_ports() {
            client_ports.insert(port, i);
        }
    }
    let naming = Naming {
        replica_addrs: st
            .replica_ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("127.0.0.1:{p}"), i))
            .collect(),
        replica_nodes: st
            .replicas
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect(),
        client_ports,
        replicas: n,
    };
    (bgsaves, parse_events(&lines, &naming, wording), times)
}

/// What happened, in the simulator's summary terms.
fn measured_summary(scenario: &Scenario, run: &Run, bgsaves: u64, events: &[SyncEvent]) -> Summary {
    let bytes_per_s = scenario.bytes_per_write() as f64 * scenario.workload.rate_at(run.end_ms);
    let mut measured = Summary {
        until_ms: run.end_ms,
        master: MasterSummary {
            name: "master".into(),
            peak_backlog_bytes: run.peaks.backlog,
            final_offset: run.master_offset,
            bgsaves,
            peak_cow_bytes: 0,
        },
        replicas: Vec::new(),
    };
    for i in 0..scenario.replicas as usize {
        let mut s = ReplicaSummary::new(&format!("replica-{}", i + 1));
        for e in events.iter().filter(|e| e.replica == i) {
            use super::events::EventKind as K;
            match e.kind {
                K::FullSync => {
                    s.full_syncs += 1;
                    if e.psync_refused {
                        s.partial_syncs_refused += 1;
                    }
                }
                K::PartialSync => s.partial_syncs_accepted += 1,
                K::ObufCut => {
                    *s.disconnects
                        .entry("output_buffer_limit".into())
                        .or_default() += 1
                }
                K::Timeout => *s.disconnects.entry("timeout".into()).or_default() += 1,
                K::Online | K::LoadDone => {}
            }
        }
        for (cause, n) in &run.staged_disconnects[i] {
            *s.disconnects.entry(cause.to_string()).or_default() += n;
        }
        s.peak_output_buffer_bytes = run.peaks.obuf[i];
        let (off, up) = run.replica_states[i];
        s.final_offset = off;
        // "In sync" as the simulator means it: link up and no further behind than what a
        // poll's round trip and the link carry (half a second of writes, plus 64 KiB).
        s.in_sync_at_end = up && run.master_offset - off <= (bytes_per_s * 0.5) as i64 + 65_536;
        measured.replicas.push(s);
    }
    measured
}

fn check_stageable(s: &Scenario, against: Against) -> Result<(), String> {
    if s.replicas == 0 {
        return Err("the scenario has no replica".into());
    }
    for f in &s.faults {
        if f.action == FaultAction::KillMaster && f.every.is_some() {
            return Err(format!(
                "fault at {} ms: kill-master happens once (no `every`)",
                f.at
            ));
        }
        if f.replica == 0 || f.replica > s.replicas {
            return Err(format!(
                "fault at {} ms names replica {}, the scenario has {}",
                f.at, f.replica, s.replicas
            ));
        }
    }
    match against.version() {
        Some(v) if v != s.version => Err(format!(
            "the scenario plays {} but the servers staged are {}",
            s.version.display_name(),
            v.display_name()
        )),
        Some(_) => Ok(()),
        None if s.redis.dual_channel_replication_enabled => Err(
            "dual-channel replication is Valkey's; replscope server cannot stage it (use --against valkey-8.1 or valkey-9.1)"
                .into(),
        ),
        None if s.redis.replication_model != 7 => Err(
            "replscope server stages the 7.0 replication model only (use --against redis-6.2)"
                .into(),
        ),
        None => Ok(()),
    }
}

/// Per-key cost at `delay`, interpolated between the calibration probes.
fn cost_at(probes: &[(u64, f64)], delay: u64) -> f64 {
    let mut p: Vec<(u64, f64)> = probes.to_vec();
    p.sort_by_key(|x| x.0);
    if let Some(x) = p.iter().find(|x| x.0 == delay) {
        return x.1;
    }
    for w in p.windows(2) {
        let ((d0, c0), (d1, c1)) = (w[0], w[1]);
        if delay > d0 && delay < d1 {
            return c0 + (c1 - c0) * (delay - d0) as f64 / (d1 - d0) as f64;
        }
    }
    match p.last() {
        Some(&(d, c)) if delay > d => c + (delay - d) as f64,
        _ => p.first().map_or(0.0, |x| x.1),
    }
}

/// Times one BGSAVE with `rdb-key-save-delay` = `delay`; returns its duration in µs.
fn time_bgsave(c: &mut Client, delay: u64) -> Result<f64, String> {
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", &delay.to_string()])
        .map_err(io("CONFIG SET rdb-key-save-delay"))?;
    // A BGSAVE may still be running when INFO said none was (seen once on 7.0.15 during
    // calibration, cause not found): wait for it and ask again rather than fail the run.
    let mut tries = 0;
    let start = loop {
        let start = Instant::now();
        match c.cmd(&["BGSAVE"]) {
            Ok(_) => break start,
            Err(e) if tries < 3 && e.to_string().contains("already in progress") => {
                tries += 1;
                wait_bgsave_end(c, start)?;
            }
            Err(e) => return Err(io("BGSAVE")(e)),
        }
    };
    wait_bgsave_end(c, start)?;
    Ok(start.elapsed().as_micros() as f64)
}

/// Polls until no BGSAVE runs (at most 120 s from `start`).
fn wait_bgsave_end(c: &mut Client, start: Instant) -> Result<(), String> {
    loop {
        let info = c.info("persistence").map_err(io("INFO persistence"))?;
        if field(&info, "rdb_bgsave_in_progress") == Some("0") {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            return Err("calibration BGSAVE did not finish within 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Fills the master and chooses `rdb-key-save-delay` / `key-load-delay`.
///
/// Each key's delay is a sleep call, whose real cost on a loaded Linux machine is far above
/// the nominal microseconds (timer slack, scheduling): ~130 µs for a delay of 1 here. So:
/// BGSAVE a part of the dataset with delays 0 and 1 and one guess, take the cost per key of
/// each, interpolate the delay that gives the scenario's cost per key, and measure that one
/// too. A BGSAVE also has a fixed cost (fork, and the parent noticing the child's exit on its
/// next 10 Hz cron), measured first with BGSAVEs of the empty dataset and taken out of the
/// per-key figures. The simulator is then given the measured cost, not the target.
fn calibrate(
    c: &mut Client,
    master: &ServerProc,
    s: &Scenario,
    progress: &dyn Fn(&str),
) -> Result<(Calibration, Vec<String>), String> {
    let keys = s.dataset.keys.max(1);
    let mut cal = Calibration {
        populate_value_size: (s.dataset.size / keys).saturating_sub(30).max(1),
        save_target_us: s.dataset.size as f64 * 1e6 / s.fork.rdb_speed.max(1) as f64 / keys as f64,
        load_target_us: s.dataset.size as f64 * 1e6
            / s.replica.load_speed.max(1) as f64
            / keys as f64,
        ..Default::default()
    };
    let mut notes = Vec::new();
    let probe_keys = (keys / 8).clamp(keys.min(2000), 8000);
    let pk = probe_keys as f64;
    let vs = cal.populate_value_size.to_string();
    // The fixed cost: a BGSAVE of an empty dataset (a median of three).
    let mut empties = [time_bgsave(c, 0)?, time_bgsave(c, 0)?, time_bgsave(c, 0)?];
    empties.sort_by(f64::total_cmp);
    let fixed_us = empties[1];
    c.cmd(&["DEBUG", "POPULATE", &probe_keys.to_string(), "key", &vs])
        .map_err(io("DEBUG POPULATE"))?;
    progress(&format!(
        "calibrating rdb-key-save-delay on {probe_keys} keys (target {:.0} us/key)",
        cal.save_target_us
    ));
    // Costs per key of the part, the fixed cost taken out.
    let per_key = |t: f64| ((t - fixed_us) / pk).max(0.01);
    let t0_part = time_bgsave(c, 0)?;
    let mut raw: Vec<(u64, f64)> = vec![(0, t0_part)];
    // Below ~40 µs/key no sleep is short enough: delay 0.
    let delay = if cal.save_target_us < 40.0 {
        0
    } else {
        let t1 = time_bgsave(c, 1)?;
        raw.push((1, t1));
        let (c0, c1) = (per_key(t0_part), per_key(t1));
        if cal.save_target_us <= c1 {
            if cal.save_target_us - c0 < c1 - cal.save_target_us {
                0
            } else {
                1
            }
        } else {
            let d2 = (1.0 + (cal.save_target_us - c1)).round() as u64;
            let t2 = time_bgsave(c, d2)?;
            raw.push((d2, t2));
            let mut slope = (t2 - t1) / pk / (d2 - 1).max(1) as f64;
            let (mut from_d, mut from_c) = (1u64, c1);
            if slope < 0.5 {
                // Flat: below the timer slack every short sleep costs about the same, and
                // noise can even make d2 look cheaper. A sleep of d µs costs at least d, so
                // probe at the target itself and interpolate from there instead of
                // extrapolating a flat slope to a huge delay.
                let dt = cal.save_target_us.round().max(d2 as f64 + 1.0) as u64;
                let tt = time_bgsave(c, dt)?;
                raw.push((dt, tt));
                slope = ((per_key(tt) - per_key(t2)) / (dt - d2) as f64).max(0.5);
                (from_d, from_c) = (dt, per_key(tt));
            }
            let slope = slope.max(0.05);
            let d3 = (from_d as f64 + (cal.save_target_us - from_c) / slope)
                .round()
                .max(1.0) as u64;
            if d3 != d2 {
                let t3 = time_bgsave(c, d3)?;
                raw.push((d3, t3));
            }
            d3
        }
    };
    // `key-load-delay` is the same sleep per key, so the load is set from the same curve:
    // probe it where the load needs a sleep even if the save does not.
    if cal.load_target_us >= 40.0 {
        if !raw.iter().any(|p| p.0 == 1) {
            raw.push((1, time_bgsave(c, 1)?));
        }
        let c1 = raw.iter().find(|p| p.0 == 1).map_or(0.0, |p| per_key(p.1));
        if cal.load_target_us > c1 * 1.15 && raw.iter().all(|p| p.0 <= 1) {
            let d = (1.0 + (cal.load_target_us - c1)).round() as u64;
            raw.push((d, time_bgsave(c, d)?));
        }
    }
    // The whole dataset; its delay-0 BGSAVE gives the RDB size and the fixed cost.
    c.cmd(&["DEBUG", "POPULATE", &keys.to_string(), "key", &vs])
        .map_err(io("DEBUG POPULATE"))?;
    // The keys the write load rotates over, so the RDB is the one the run will send.
    let wkeys = workload_keys(s);
    let value = vec![b'x'; s.workload.value_size as usize];
    let mut buf = Vec::new();
    for k in &wkeys {
        buf.extend_from_slice(&encode_command(&[
            &b"SET"[..],
            k.as_slice(),
            value.as_slice(),
        ]));
    }
    c.send_raw(&buf)
        .map_err(io("writing the workload's keys"))?;
    for _ in &wkeys {
        c.read_reply().map_err(io("writing the workload's keys"))?;
    }
    let keys = keys + wkeys.len() as u64;
    let t0_full = time_bgsave(c, 0)?;
    let rdb = master.dir.join(format!("{}.rdb", master.name));
    cal.rdb_bytes = std::fs::metadata(&rdb)
        .map_err(io("reading the calibration RDB's size"))?
        .len();
    let _ = std::fs::remove_file(&rdb);
    cal.fixed_bgsave_ms = fixed_us / 1000.0;
    cal.probes = raw.iter().map(|&(d, t)| (d, per_key(t))).collect();
    cal.rdb_key_save_delay = delay;
    cal.save_measured_us = cost_at(&cal.probes, delay);
    // The BGSAVE the run will do, timed on the whole dataset: the figure the simulator gets.
    cal.bgsave_expected_ms = if delay == 0 {
        t0_full
    } else {
        progress(&format!(
            "timing a BGSAVE of the whole dataset with rdb-key-save-delay {delay}"
        ));
        time_bgsave(c, delay)?
    } / 1000.0;
    // The load delay: the same sleep per key, so the same curve.
    let c1 = cal.probes.get(1).map_or(f64::MAX, |p| p.1);
    cal.key_load_delay = if cal.load_target_us < 40.0 || cal.probes.len() < 2 {
        0
    } else if cal.load_target_us <= c1 {
        1
    } else {
        let mut best = (1u64, f64::MAX);
        for d in 1..=10_000u64 {
            let err = (cost_at(&cal.probes, d) - cal.load_target_us).abs();
            if err < best.1 {
                best = (d, err);
            }
        }
        best.0
    };
    if cal.key_load_delay == 0 {
        notes.push(format!(
            "key-load-delay 0: the scenario's load ({:.1} us/key) is faster than any sleep per key; loading runs at the server's own speed",
            cal.load_target_us
        ));
    }
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", &delay.to_string()])
        .map_err(io("CONFIG SET rdb-key-save-delay"))?;
    notes.push(format!(
        "rdb-key-save-delay {delay}: {:.1} us/key measured for a target of {:.1} us/key, plus {:.0} ms per BGSAVE (fork, exit noticed by the cron); BGSAVE of {} keys ({} bytes): {:.0} ms measured (probes on {probe_keys} keys, delay->us/key: {})",
        cal.save_measured_us,
        cal.save_target_us,
        cal.fixed_bgsave_ms,
        keys,
        cal.rdb_bytes,
        cal.bgsave_expected_ms,
        cal.probes
            .iter()
            .map(|(d, c)| format!("{d}->{c:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok((cal, notes))
}

/// The paced SET loop: every 10 ms, send the SETs due so far as one pipeline. Keys are
/// `key_size` bytes, values `value_size` bytes, so each SET adds exactly the simulator's
/// `bytes_per_write` to the replication stream; 1000 keys in rotation keep the dataset size.
fn write_load(s: &Scenario, port: &AtomicU16, t0: Instant, stop: &AtomicBool) {
    let connect = || Client::connect(port.load(Ordering::SeqCst), Duration::from_secs(30));
    let Ok(mut c) = connect() else {
        return;
    };
    let keys = workload_keys(s);
    let value = vec![b'x'; s.workload.value_size as usize];
    let mut due = 0.0f64;
    let mut sent: u64 = 0;
    let mut last = 0u64;
    let mut buf = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let now = t0.elapsed().as_millis() as u64;
        // Integrate the rate ms by ms (phases switch on ms boundaries).
        let mut t = last;
        while t < now {
            let step = (now - t).min(10);
            due += s.workload.rate_at(t) * step as f64 / 1000.0;
            t += step;
        }
        last = now;
        let n = (due as u64).saturating_sub(sent);
        if n > 0 {
            buf.clear();
            for i in 0..n {
                let key = &keys[((sent + i) % keys.len() as u64) as usize];
                buf.extend_from_slice(&encode_command(&[
                    &b"SET"[..],
                    key.as_slice(),
                    value.as_slice(),
                ]));
            }
            let ok = c.send_raw(&buf).is_ok() && (0..n).all(|_| c.read_reply().is_ok());
            if !ok {
                // The master died (kill-master): what it did not answer is lost, as for a
                // real client; go on with the promoted replica once it is master.
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    if let Ok(n) = connect() {
                        c = n;
                        break;
                    }
                }
            }
            sent += n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The keys the write load rotates over: up to 1000 distinct keys of exactly `key_size` bytes.
fn workload_keys(s: &Scenario) -> Vec<Vec<u8>> {
    let ks = s.workload.key_size.max(1) as usize;
    let mut out: Vec<Vec<u8>> = (0..1000u64)
        .map(|i| {
            let k = format!("w{i:0>ks$}");
            k.as_bytes()[k.len() - ks..].to_vec()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Polls the master every `POLL_PERIOD`: backlog length, and each replica's output buffer
/// (CLIENT LIST `omem` of its proxy connection).
///
/// A peak is the largest value two polls in a row saw, so it reads low by up to two periods
/// of growth: at 100 ms (one poll) a 0.37 MB peak growing at 1.4 MB/s read anywhere from 0.29
/// to 0.39 MB from run to run (`compare-failover-lagging-promoted`); at 20 ms the error is
/// under 60 KB, and two small commands 50 times a second cost the master nothing it would
/// show. Two polls, not one: a fresh connection's kernel buffers take a `+CONTINUE`'s
/// backlog within a few ms, while `omem` still counts it; one poll in that moment read a
/// 0.06 MB peak as 0.3-0.9 MB (`compare-restart-crash`, `-cut-near-backlog-boundary`), a
/// moment shorter than the simulator's tick, which it does not resolve.
fn poll(
    port: &AtomicU16,
    t0: Instant,
    stop: &AtomicBool,
    peaks: &Mutex<Peaks>,
    proxy_ports: &Mutex<Vec<Vec<u16>>>,
) {
    let mut polled = port.load(Ordering::SeqCst);
    let Ok(mut c) = Client::connect(polled, Duration::from_secs(30)) else {
        return;
    };
    while !stop.load(Ordering::SeqCst) {
        // After kill-master, poll the promoted replica.
        if port.load(Ordering::SeqCst) != polled {
            polled = port.load(Ordering::SeqCst);
            match Client::connect(polled, Duration::from_secs(30)) {
                Ok(n) => c = n,
                Err(_) => return,
            }
        }
        let backlog = c
            .info("replication")
            .ok()
            .and_then(|i| field(&i, "repl_backlog_histlen").and_then(|v| v.parse::<u64>().ok()))
            .unwrap_or(0);
        let list = c.cmd_text(&["CLIENT", "LIST"]).unwrap_or_default();
        let pp = proxy_ports.lock().map(|p| p.clone()).unwrap_or_default();
        if let Ok(mut pk) = peaks.lock() {
            let mut now = vec![0u64; pk.obuf.len()];
            for line in list.lines() {
                let get = |name: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                };
                if !get("flags").is_some_and(|f| f.contains('S')) {
                    continue;
                }
                let omem: u64 = get("omem").and_then(|v| v.parse().ok()).unwrap_or(0);
                let cport: Option<u16> = get("addr")
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.parse().ok());
                let idx = cport
                    .and_then(|p| pp.iter().position(|ports| ports.contains(&p)))
                    .or(if pp.len() == 1 { Some(0) } else { None });
                if let Some(i) = idx {
                    if i < pk.obuf.len() {
                        now[i] = now[i].max(omem);
                    }
                }
            }
            // A peak counts what two polls in a row saw (held for a poll period or more).
            let (held_backlog, held) = match pk.samples.last() {
                Some((_, b, prev)) => (
                    backlog.min(*b),
                    now.iter()
                        .enumerate()
                        .map(|(i, v)| (*v).min(prev.get(i).copied().unwrap_or(0)))
                        .collect(),
                ),
                None => (0, vec![0; now.len()]),
            };
            pk.backlog = pk.backlog.max(held_backlog);
            for (p, h) in pk.obuf.iter_mut().zip(held) {
                *p = (*p).max(h);
            }
            pk.samples
                .push((t0.elapsed().as_millis() as u64, backlog, now));
        }
        std::thread::sleep(POLL_PERIOD);
    }
}

/// How often `poll` asks the master.
const POLL_PERIOD: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_interpolates_between_probes() {
        let p = vec![(0, 10.0), (1, 130.0), (21, 170.0)];
        assert_eq!(cost_at(&p, 1), 130.0);
        assert!((cost_at(&p, 11) - 150.0).abs() < 1e-9);
        assert!((cost_at(&p, 31) - 180.0).abs() < 1e-9);
    }

    #[test]
    fn rate_follows_phases() {
        let s = super::super::presets::scenario("compare-disk-sync-loop").unwrap();
        assert_eq!(s.workload.rate_at(1000), 10.0);
        assert_eq!(s.workload.rate_at(25_000), 1000.0);
    }

    #[test]
    fn refuses_faults_it_cannot_stage() {
        let mut s = crate::sim::Scenario::preset("failover-psync").unwrap();
        assert!(check_stageable(&s, Against::Replscope).is_ok());
        s.faults[0].every = Some(10_000);
        assert!(check_stageable(&s, Against::Replscope)
            .unwrap_err()
            .contains("kill-master"));
    }

    #[test]
    fn plans_restarts_and_repeats_in_time_order() {
        let s = crate::sim::Scenario::preset("replica-restart").unwrap();
        let plan = scheduled_faults(&s);
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[0].action, Action::Restart { graceful: false });
        assert_eq!(plan[1].action, Action::Restart { graceful: true });
        assert!(plan[0].at < plan[1].at);
    }
}
