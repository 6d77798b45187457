//! Our server as a replica while its master is busy: a full sync of a dataset of tens of MB
//! while a client keeps writing a few MB/s, from our own server and from a real redis-server.
//! The replica must come online and end with exactly the master's data (issue 12: our
//! master took time quadratic in the RDB's size to cut it into socket-sized parts, under the
//! server's lock, so its replica took minutes to come online, or never did).

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

/// Keys and value size of the dataset: about 60 MB of RDB.
const KEYS: u64 = 6_000;
const VALUE: usize = 10_000;

/// Writes about `mb_per_s` MB/s to `port` on its own thread (pipelines of SETs of 1 KB
/// values over 2000 keys, and an INCR that counts them: a write lost or applied twice shows)
/// until stopped.
struct SteadyWriter {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl SteadyWriter {
    fn start(port: u16, mb_per_s: u64) -> SteadyWriter {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            let mut c = client.get_connection().unwrap();
            let value = vec![b'w'; 1000];
            // A batch every 2 ms: writes arrive at almost any moment, also the one the
            // master's cron forks for a diskless sync (writes handed to the core after a
            // timer ran were once in the RDB and in the stream after it).
            let per_batch = (mb_per_s * 1000 / 500).max(1);
            let start = Instant::now();
            let mut n = 0u64;
            let mut batch = 0u32;
            while !flag.load(Ordering::Relaxed) {
                let mut p = redis::pipe();
                for _ in 0..per_batch {
                    p.cmd("SET")
                        .arg(format!("w:{}", n % 2000))
                        .arg(&value)
                        .ignore();
                    p.cmd("INCR").arg("counter").ignore();
                    n += 1;
                }
                let _: () = p.query(&mut c).expect("writes");
                batch += 1;
                let due = start + Duration::from_millis(2) * batch;
                if let Some(d) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
            }
            n
        });
        SteadyWriter { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("writer thread")
    }
}

/// With `master` loaded and written to, starts our replica of it; it must come online
/// while the writes go on, then hold exactly the master's data.
async fn our_replica_syncs_under_writes(dir: &std::path::Path, master: u16, what: &str) {
    let writer = SteadyWriter::start(master, 3);
    // Writes are flowing before the sync starts.
    wait_for(T, "the writer's first writes", move || {
        cli(master, &["get", "counter"])
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            > 0
    })
    .await;
    let ours = start_ours_replica_of(dir, master, &[]).await;
    let r = ours.port;
    let t0 = Instant::now();
    wait_for(
        Duration::from_secs(120),
        "our replica online under writes",
        move || field(r, "replication", "master_link_status") == "up",
    )
    .await;
    eprintln!("{what}: online after {:?}", t0.elapsed());
    // Still up (not cut off and resyncing) while the writes go on a little longer.
    let offset = |p: u16| {
        field(p, "replication", "slave_repl_offset")
            .parse::<u64>()
            .unwrap_or(0)
    };
    let before = offset(r);
    wait_for(T, "the replica applying the ongoing writes", move || {
        offset(r) > before + 1_000_000
    })
    .await;
    let writes = writer.stop();
    assert!(writes > 0);
    await_in_sync(master, r).await;
    let log = log_of(dir);
    assert_eq!(
        log.matches("MASTER <-> REPLICA sync: Finished with success")
            .count(),
        1,
        "{what}: one full sync, never cut off and repeated:\n{log}"
    );
    assert_eq!(
        (
            cli(master, &["get", "counter"]).trim().to_string(),
            cli(r, &["get", "counter"]).trim().to_string()
        ),
        (writes.to_string(), writes.to_string()),
        "{what}: writes counted on the master and on the replica\n{log}"
    );
    assert_eq!(cli(r, &["dbsize"]).trim(), cli(master, &["dbsize"]).trim());
    assert!(dataset(r) == dataset(master), "{what}: the data differs");
    ours.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_replicates_from_ours_under_continuous_writes() {
    let dir = tempfile::tempdir().unwrap();
    // A bandwidth limit makes the master take small parts of the RDB at a time, as a slow
    // link does: the case where taking them cost a copy of the rest of the file each time.
    let master = start_ours(
        &dir.path().join("master"),
        &[
            "--enable-debug-command",
            "yes",
            "--repl-bandwidth-limit",
            "40mb",
        ],
    )
    .await;
    let m = master.port;
    let (k, v) = (KEYS.to_string(), VALUE.to_string());
    assert_eq!(cli(m, &["debug", "populate", &k, "key", &v]).trim(), "OK");
    our_replica_syncs_under_writes(&dir.path().join("replica"), m, "ours of ours").await;
    master.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ours_replicates_from_a_real_master_under_continuous_writes() {
    if !have_real_redis("ours_replicates_from_a_real_master_under_continuous_writes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let real = RealRedis::start(&dir.path().join("real"), &["--enable-debug-command", "yes"]);
    let m = real.port;
    let (k, v) = (KEYS.to_string(), VALUE.to_string());
    assert_eq!(cli(m, &["debug", "populate", &k, "key", &v]).trim(), "OK");
    our_replica_syncs_under_writes(&dir.path().join("replica"), m, "ours of redis 7.0").await;
}
