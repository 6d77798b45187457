//! Behaviour tests driving whole instances through the testkit.

use super::testkit::World;
use super::*;

fn params(name: &str, port: u16, seed: u64) -> InstanceParams {
    InstanceParams::new(name, port, seed)
}

fn master_replica(diskless: bool) -> (World, usize, usize) {
    let mut w = World::new();
    let mut pm = params("master", 7001, 1);
    pm.config.repl_diskless_sync = diskless;
    let mut pr = params("replica", 7002, 2);
    pr.config.repl_diskless_sync = diskless;
    let m = w.add(pm);
    let r = w.add(pr);
    (w, m, r)
}

#[test]
fn first_full_sync_disk() {
    let (mut w, m, r) = master_replica(false);
    w.replicaof(r, m);
    w.advance(100);
    assert_eq!(
        w.nodes[r].link_state(),
        "connected",
        "{}\n---\n{}",
        w.dump_logs(r),
        w.dump_logs(m)
    );
    assert!(w.logged(m, "Replication backlog created"));
    assert!(w.logged(m, "Starting BGSAVE for SYNC with target: disk"));
    assert!(w.logged(r, "MASTER <-> REPLICA sync: Finished with success"));
    assert_eq!(w.nodes[m].stats().sync_full, 1);
    assert_eq!(
        w.nodes[m].stats().sync_partial_err,
        1,
        "fresh replica PSYNCs with its own replid"
    );
    assert_eq!(w.nodes[r].replid(), w.nodes[m].replid());
}

// ---------------------------------------------------------------- replication-psync.tcl
//
// Redis's own test: a master under write load, a replica, and (except case 1) the replica
// killing its master link every 2 s, optionally sleeping `delay` seconds before it can
// reconnect. Each case runs with disk and with diskless sync. At the end the datasets must
// match and the sync counters must show the expected outcome.

struct PsyncCase {
    duration_s: u64,
    backlog: &'static str,
    ttl: &'static str,
    delay_s: u64,
    reconnect: bool,
}

fn run_psync_case(c: &PsyncCase, diskless: bool) -> (World, usize, usize) {
    let (mut w, m, r) = master_replica(diskless);
    // Reconnecting takes a while; Redis's test gets the same effect from its heavy load.
    w.connect_delay_ms = 500;
    let admin = w.client(m);
    for (k, v) in [
        ("repl-backlog-size", c.backlog),
        ("repl-backlog-ttl", c.ttl),
        ("repl-diskless-sync", if diskless { "yes" } else { "no" }),
        ("repl-diskless-sync-delay", "1"),
    ] {
        assert_eq!(w.command(m, admin, &["CONFIG", "SET", k, v]), "+OK\r\n");
    }
    w.replicaof(r, m);
    // wait_for_condition: the replica is connected
    for _ in 0..100 {
        if w.nodes[r].link_state() == "connected" {
            break;
        }
        w.advance(100);
    }
    assert_eq!(w.nodes[r].link_state(), "connected");
    let mut seq = 0u64;
    let mut j = 0u64;
    while j < c.duration_s * 10 {
        for _ in 0..10 {
            seq += 1;
            let val = vec![b'a' + (seq % 26) as u8; 1000 + (seq % 200) as usize];
            w.set(m, &format!("key:{}", seq % 1000), &val);
        }
        w.advance(100);
        if c.reconnect && j % 20 == 0 {
            w.kill_links(r);
            if c.delay_s > 0 {
                w.frozen.insert(r);
                for _ in 0..c.delay_s * 10 {
                    for _ in 0..5 {
                        seq += 1;
                        let val = vec![b'A' + (seq % 26) as u8; 500];
                        w.set(m, &format!("key:{}", seq % 1000), &val);
                    }
                    w.advance(100);
                }
                w.frozen.remove(&r);
                j += c.delay_s * 10;
            }
        }
        j += 1;
    }
    // Stop the load and let the replica catch up.
    for _ in 0..100 {
        w.advance(100);
        if w.nodes[r].link_state() == "connected"
            && w.nodes[r].reploff() == w.nodes[m].master_repl_offset()
        {
            break;
        }
    }
    assert_eq!(w.nodes[r].link_state(), "connected", "{}", w.dump_logs(r));
    assert_eq!(w.nodes[r].reploff(), w.nodes[m].master_repl_offset());
    assert_eq!(
        w.datasets[r], w.datasets[m],
        "the replica's dataset equals the master's"
    );
    assert!(!w.datasets[m].is_empty());
    (w, m, r)
}

fn psync_no_reconnection(diskless: bool) {
    let c = PsyncCase {
        duration_s: 6,
        backlog: "1000000",
        ttl: "3600",
        delay_s: 0,
        reconnect: false,
    };
    let (w, m, _) = run_psync_case(&c, diskless);
    let st = w.nodes[m].stats();
    assert_eq!(st.sync_full, 1);
    assert_eq!(st.sync_partial_ok, 0);
}

fn psync_ok(diskless: bool) {
    let c = PsyncCase {
        duration_s: 6,
        backlog: "100mb",
        ttl: "3600",
        delay_s: 0,
        reconnect: true,
    };
    let (w, m, r) = run_psync_case(&c, diskless);
    let st = w.nodes[m].stats();
    assert_eq!(st.sync_full, 1, "only the first sync is full");
    assert!(
        st.sync_partial_ok >= 3,
        "every reconnection continues: {st:?}"
    );
    assert!(w.logged(m, "accepted. Sending "));
    assert!(w.logged(r, "Successful partial resynchronization with master."));
    assert!(w.logged(r, "Caching the disconnected master state."));
}

fn psync_no_backlog(diskless: bool) {
    let c = PsyncCase {
        duration_s: 6,
        backlog: "100",
        ttl: "3600",
        delay_s: 0,
        reconnect: true,
    };
    let (w, m, _) = run_psync_case(&c, diskless);
    assert_eq!(
        w.nodes[m].config().repl_backlog_size,
        16384,
        "CONFIG SET clamps the backlog"
    );
    let st = w.nodes[m].stats();
    assert!(st.sync_partial_err >= 2, "{st:?}");
    assert!(st.sync_full >= 2, "{st:?}");
    assert!(w.logged(m, "for lack of backlog (Replica request was:"));
}

fn psync_ok_after_delay(diskless: bool) {
    let c = PsyncCase {
        duration_s: 3,
        backlog: "100mb",
        ttl: "3600",
        delay_s: 3,
        reconnect: true,
    };
    let (w, m, _) = run_psync_case(&c, diskless);
    let st = w.nodes[m].stats();
    assert!(st.sync_partial_ok > 0, "{st:?}");
    assert_eq!(st.sync_full, 1, "{st:?}");
}

fn psync_backlog_expired(diskless: bool) {
    let c = PsyncCase {
        duration_s: 3,
        backlog: "100mb",
        ttl: "1",
        delay_s: 3,
        reconnect: true,
    };
    let (w, m, _) = run_psync_case(&c, diskless);
    let st = w.nodes[m].stats();
    assert!(st.sync_partial_err >= 2, "{st:?}");
    assert!(st.sync_full >= 2, "{st:?}");
    assert!(w.logged(
        m,
        "Replication backlog freed after 1 seconds without connected replicas."
    ));
    assert!(w.logged(
        m,
        "Partial resynchronization not accepted: Replication ID mismatch"
    ));
}

#[test]
fn psync_case1_no_reconnection_disk() {
    psync_no_reconnection(false)
}
#[test]
fn psync_case1_no_reconnection_diskless() {
    psync_no_reconnection(true)
}
#[test]
fn psync_case2_ok_disk() {
    psync_ok(false)
}
#[test]
fn psync_case2_ok_diskless() {
    psync_ok(true)
}
#[test]
fn psync_case3_no_backlog_disk() {
    psync_no_backlog(false)
}
#[test]
fn psync_case3_no_backlog_diskless() {
    psync_no_backlog(true)
}
#[test]
fn psync_case4_ok_after_delay_disk() {
    psync_ok_after_delay(false)
}
#[test]
fn psync_case4_ok_after_delay_diskless() {
    psync_ok_after_delay(true)
}
#[test]
fn psync_case5_backlog_expired_disk() {
    psync_backlog_expired(false)
}
#[test]
fn psync_case5_backlog_expired_diskless() {
    psync_backlog_expired(true)
}
