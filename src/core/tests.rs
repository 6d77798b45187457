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
        w.nodes[r].link_status(),
        LinkStatus::Connected,
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
    run_psync_case_with(c, diskless, BufferModel::V7)
}

fn run_psync_case_with(c: &PsyncCase, diskless: bool, model: BufferModel) -> (World, usize, usize) {
    let (mut w, m, r) = master_replica(diskless);
    w.nodes[m]
        .config_set(
            "replication-model",
            if model == BufferModel::V6 { "6" } else { "7" },
        )
        .expect("model");
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
        if w.nodes[r].link_status() == LinkStatus::Connected {
            break;
        }
        w.advance(100);
    }
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected);
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
        if w.nodes[r].link_status() == LinkStatus::Connected
            && w.nodes[r].reploff() == w.nodes[m].master_repl_offset()
        {
            break;
        }
    }
    assert_eq!(
        w.nodes[r].link_status(),
        LinkStatus::Connected,
        "{}",
        w.dump_logs(r)
    );
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
    assert!(
        w.marks[m]
            .iter()
            .any(|mk| mk.kind == crate::view::MarkKind::PartialSyncRefused
                && mk
                    .cause
                    .contains("dropped with the backlog after repl-backlog-ttl 1 s")),
        "the refusal names the expired backlog"
    );
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

// ---------------------------------------------------------------- a raw driver for byte-level tests

/// One instance driven by hand: the test plays the peers.
struct Raw {
    inst: Instance,
    now: u64,
    outs: Vec<Output>,
    next_conn: u64,
}

impl Raw {
    fn new(cfg: impl FnOnce(&mut Config)) -> Raw {
        let mut p = params("master", 7001, 11);
        cfg(&mut p.config);
        Raw {
            inst: Instance::new(p),
            now: 0,
            outs: Vec::new(),
            next_conn: 100,
        }
    }
    fn drain(&mut self) {
        while let Some(o) = self.inst.poll_output() {
            self.outs.push(o);
        }
    }
    fn input(&mut self, i: Input) {
        let reap = matches!(i, Input::BgsaveDone { .. });
        self.inst.handle(self.now, i);
        self.drain();
        if reap {
            // A disk child is reaped by the next `serverCron`.
            self.reap();
        }
    }
    /// Run the timers up to the next `serverCron`, which reaps an exited disk child.
    fn reap(&mut self) {
        if let Some(t) = self.inst.poll_timeout() {
            if t > self.now && t - self.now <= 100 {
                self.tick_to(t);
            }
        }
    }
    fn accept(&mut self) -> ConnId {
        let c = ConnId(self.next_conn);
        self.next_conn += 1;
        self.input(Input::Accepted {
            conn: c,
            peer: format!("10.0.0.{}:5{}", c.0, c.0),
        });
        c
    }
    fn cmd(&mut self, conn: ConnId, args: &[&str]) {
        let argv = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.input(Input::Command { conn, argv });
    }
    /// Take everything queued for `conn`, phantoms rendered as `<P:n>`.
    fn take(&mut self, conn: ConnId) -> String {
        let chunks = self.inst.take_outgoing(self.now, conn, u64::MAX);
        self.drain();
        render(&chunks)
    }
    fn tick_to(&mut self, t: u64) {
        self.now = t;
        self.inst.handle_timeout(t);
        self.drain();
    }
    fn logs(&self) -> Vec<String> {
        self.outs
            .iter()
            .filter_map(|o| {
                if let Output::Log(l) = o {
                    Some(l.text.clone())
                } else {
                    None
                }
            })
            .collect()
    }
    fn logged(&self, needle: &str) -> bool {
        self.logs().iter().any(|l| l.contains(needle))
    }
    fn bgsaves(&self) -> Vec<(u64, BgsaveTarget, i64)> {
        self.outs
            .iter()
            .filter_map(|o| {
                if let Output::StartBgsave {
                    id, target, offset, ..
                } = o
                {
                    Some((*id, target.clone(), *offset))
                } else {
                    None
                }
            })
            .collect()
    }
    /// A replica that says it listens on `port` and supports eof/psync2 (or not).
    fn replica_client(&mut self, port: u16, eof: bool) -> ConnId {
        let c = self.accept();
        let ps = port.to_string();
        self.cmd(c, &["REPLCONF", "listening-port", &ps]);
        if eof {
            self.cmd(c, &["REPLCONF", "capa", "eof", "capa", "psync2"]);
        } else {
            self.cmd(c, &["REPLCONF", "capa", "psync2"]);
        }
        assert_eq!(self.take(c), "+OK\r\n+OK\r\n");
        c
    }
    fn write(&mut self, db: u32, p: Payload) {
        self.input(Input::Propagate { db, payload: p });
    }
}

fn render(chunks: &[Payload]) -> String {
    let mut s = String::new();
    for c in chunks {
        match c {
            Payload::Bytes(b) => s.push_str(&String::from_utf8_lossy(b)),
            Payload::Phantom(n) => s.push_str(&format!("<P:{n}>")),
        }
    }
    s
}

/// A master that already has a backlog with `n` bytes of history (one synced replica left).
fn master_with_history(n: u64) -> (Raw, ConnId) {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync = false;
    });
    // Past the boot cron: the child's reaping cron then runs no `replicationCron` (no PING).
    r.tick_to(1);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    r.input(Input::BgsaveDone {
        id,
        ok: true,
        rdb: Payload::Phantom(100),
        cow_bytes: 0,
    });
    let _ = r.take(a);
    r.write(0, Payload::Phantom(n - 23));
    (r, a)
}

#[test]
fn backlog_creation_by_first_replica_changes_replid() {
    let mut r = Raw::new(|c| c.repl_diskless_sync = false);
    let before = r.inst.replid().to_string();
    r.write(0, Payload::Phantom(100));
    assert_eq!(r.inst.master_repl_offset(), 0, "no backlog: offsets frozen");
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let after = r.inst.replid().to_string();
    assert_ne!(before, after);
    assert_eq!(r.inst.replid2(), ids::ZERO_REPLID);
    assert!(r.logged(&format!(
        "Replication backlog created, my new replication IDs are '{after}' and '{}'",
        ids::ZERO_REPLID
    )));
    assert!(r.logged("Full resync requested by replica 10.0.0.100:7002"));
    assert_eq!(
        r.inst.stats().sync_partial_err,
        0,
        "PSYNC ? is not a partial failure"
    );
    assert_eq!(r.inst.stats().sync_full, 1);
    assert!(r.inst.has_backlog());
    assert_eq!(r.inst.backlog_first_byte_offset(), 1);
}

#[test]
fn psync_acceptance_window_and_replies() {
    let (mut r, _a) = master_with_history(1000);
    let id = r.inst.replid().to_string();
    let mro = r.inst.master_repl_offset();
    assert_eq!(mro, 1000);
    // Exactly the next byte: accepted, 0 bytes.
    let b = r.replica_client(7003, true);
    r.cmd(b, &["PSYNC", &id, &(mro + 1).to_string()]);
    assert_eq!(r.take(b), format!("+CONTINUE {id}\r\n"));
    assert!(r.logged(&format!("Partial resynchronization request from 10.0.0.101:7003 accepted. Sending 0 bytes of backlog starting from offset {}.", mro + 1)));
    // From offset 1: the whole history.
    let c = r.replica_client(7004, false);
    r.cmd(c, &["PSYNC", &id, "1"]);
    let got = r.take(c);
    assert!(
        got.starts_with(&format!("+CONTINUE {id}\r\n")) || got.starts_with("+CONTINUE"),
        "{got}"
    );
    assert!(r.logged("Sending 1000 bytes of backlog starting from offset 1."));
    assert_eq!(r.inst.stats().sync_partial_ok, 2);
    // One past the next byte: refused, with the warning.
    let d = r.replica_client(7005, true);
    r.cmd(d, &["PSYNC", &id, &(mro + 2).to_string()]);
    assert!(r.logged(&format!("Unable to partial resync with replica 10.0.0.103:7005 for lack of backlog (Replica request was: {}).", mro + 2)));
    assert!(r.logged("Warning: replica 10.0.0.103:7005 tried to PSYNC with an offset that is greater than the master replication offset."));
    // Below the window.
    let e = r.replica_client(7006, true);
    r.cmd(e, &["PSYNC", &id, "0"]);
    assert!(r.logged("for lack of backlog (Replica request was: 0)."));
    assert_eq!(r.inst.stats().sync_partial_err, 2);
    // A wrong offset.
    let f = r.replica_client(7007, true);
    r.cmd(f, &["PSYNC", &id, "abc"]);
    assert!(r.logged("Replica 10.0.0.105:7007 asks for synchronization but with a wrong offset"));
    assert!(r.take(f).starts_with("-ERR"));
}

#[test]
fn continue_without_psync2_capa_has_no_id() {
    let (mut r, _a) = master_with_history(100);
    let id = r.inst.replid().to_string();
    let c = r.accept();
    r.cmd(c, &["PSYNC", &id, "50"]);
    assert_eq!(
        r.take(c),
        "+CONTINUE\r\n<P:51>",
        "51 = 100 - 50 + 1 bytes follow"
    );
}

#[test]
fn psync_with_pending_output_is_rejected() {
    let mut r = Raw::new(|_| {});
    let c = r.accept();
    r.cmd(c, &["REPLCONF", "listening-port", "7002"]);
    r.cmd(c, &["PSYNC", "?", "-1"]); // pipelined: +OK not read yet
    assert_eq!(
        r.take(c),
        "+OK\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n"
    );
    assert_eq!(r.inst.stats().sync_full, 0);
}

#[test]
fn replid_mismatch_and_second_id_offset_logs() {
    let (mut r, _a) = master_with_history(500);
    // Promote-like history shift: become replica of nobody is a no-op, so shift directly
    // through REPLICAOF to a dead master and back.
    let admin = r.accept();
    r.cmd(admin, &["REPLICAOF", "127.0.0.1", "9999"]);
    r.cmd(admin, &["REPLICAOF", "NO", "ONE"]);
    let old = r.inst.replid2().to_string();
    assert_eq!(r.inst.second_repl_offset(), 501);
    assert!(r.logged(&format!("Setting secondary replication ID to {old}, valid up to offset: 501. New replication ID is {}", r.inst.replid())));
    assert!(r.logged("MASTER MODE enabled (user request from 'id="));
    let b = r.replica_client(7003, true);
    r.cmd(b, &["PSYNC", &old, "600"]);
    assert!(r.logged("Partial resynchronization not accepted: Requested offset for second ID was 600, but I can reply up to 501"));
    let c = r.replica_client(7004, true);
    r.cmd(
        c,
        &["PSYNC", "0123456789012345678901234567890123456789", "1"],
    );
    assert!(r.logged(&format!(
        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '0123456789012345678901234567890123456789', my replication IDs are '{}' and '{}')",
        r.inst.replid(),
        old
    )));
    let d = r.replica_client(7005, true);
    r.cmd(d, &["PSYNC", &old, "501"]);
    assert!(
        r.take(d).starts_with("+CONTINUE"),
        "old history accepted through replid2 up to its end"
    );
}

#[test]
fn promotion_lets_other_replicas_continue() {
    let mut w = World::new();
    let m = w.add(params("master", 7001, 1));
    let r1 = w.add(params("r1", 7002, 2));
    let r2 = w.add(params("r2", 7003, 3));
    w.replicaof(r1, m);
    w.replicaof(r2, m);
    w.advance(7000);
    for i in 0..20 {
        w.set(m, &format!("k{i}"), b"v");
    }
    w.advance(1000);
    let old = w.nodes[m].replid().to_string();
    let c = w.client(r1);
    assert_eq!(w.command(r1, c, &["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(w.nodes[r1].replid2(), old);
    w.replicaof(r2, r1);
    w.advance(1000);
    assert_eq!(w.nodes[r2].link_status(), LinkStatus::Connected);
    assert_eq!(
        w.nodes[r1].stats().sync_partial_ok,
        1,
        "{}",
        w.dump_logs(r1)
    );
    assert!(w.logged(
        r2,
        &format!("Master replication ID changed to {}", w.nodes[r1].replid())
    ));
    assert_eq!(w.nodes[r2].replid2(), old);
    assert!(w.logged(r1, "Connection with master lost."));
    // The promoted node logs with role M from the moment it stopped being a replica.
    assert!(w.logs[r1]
        .iter()
        .any(|l| l.contains(":M ") && l.contains("Setting secondary replication ID")));
    // A replica re-pointed at its old master right after promotion needs a full sync.
    let promoted_id = w.nodes[r1].replid().to_string();
    w.replicaof(r1, m);
    w.advance(7000);
    assert!(w.logged(
        r1,
        &format!("Trying a partial resynchronization (request {promoted_id}:")
    ));
    assert!(w.logged(m, &format!("Replica asked for '{promoted_id}'")));
    assert_eq!(w.nodes[r1].link_status(), LinkStatus::Connected);
    assert!(w.nodes[m].stats().sync_full >= 3);
}

#[test]
fn configured_replica_sends_psync_question_mark() {
    let mut w = World::new();
    let m = w.add(params("master", 7001, 1));
    let mut p = params("replica", 7002, 2);
    p.config.replicaof = Some(("127.0.0.1".into(), 7001));
    let r = w.add(p);
    w.advance(7000);
    assert!(w.logged(r, "Connecting to MASTER 127.0.0.1:7001"));
    assert!(w.logged(
        r,
        "Partial resynchronization not possible (no cached master)"
    ));
    assert!(w.logged(m, "Full resync requested by replica 127.0.0.1:7002"));
    assert_eq!(w.nodes[m].stats().sync_partial_err, 0);
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected);
}

#[test]
fn restarted_replica_with_repl_info_can_psync() {
    let mut w = World::new();
    let m = w.add(params("master", 7001, 1));
    let r = w.add(params("replica", 7002, 2));
    w.replicaof(r, m);
    w.advance(7000);
    w.set(m, "a", b"1");
    w.advance(1000);
    let (id, off) = (
        w.nodes[r].replid().to_string(),
        w.nodes[r].master_repl_offset(),
    );
    // "Restart": a new instance booted with the RDB's repl-id/repl-offset.
    w.kill_links(r);
    let mut p = params("replica", 7002, 99);
    p.config.replicaof = Some(("127.0.0.1".into(), 7001));
    p.restored = Some(RestoredReplInfo {
        replid: id.clone(),
        offset: off,
    });
    w.nodes[r] = Instance::new(p);
    w.advance(2000);
    assert!(w.logged(
        r,
        &format!(
            "Trying a partial resynchronization (request {id}:{}).",
            off + 1
        )
    ));
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected);
    assert_eq!(w.nodes[m].stats().sync_full, 1, "no second full sync");
    assert_eq!(w.datasets[r], w.datasets[m]);
}

// ---------------------------------------------------------------- output buffer limits

#[test]
fn hard_limit_cuts_replica_during_slow_disk_bgsave_and_the_loop_restarts() {
    let (mut w, m, r) = master_replica(false);
    w.bgsave_ms = 10_000;
    let admin = w.client(m);
    w.command(
        m,
        admin,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 2mb 1mb 3",
        ],
    );
    w.command(m, admin, &["CONFIG", "SET", "save", ""]);
    w.replicaof(r, m);
    let self_id = w.nodes[r].replid().to_string();
    for _ in 0..40 {
        w.write(m, 0, Payload::Phantom(100_000));
        w.advance(100);
    }
    let line = w.logs[m]
        .iter()
        .find(|l| l.contains("for overcoming of output buffer limits."))
        .cloned()
        .unwrap_or_else(|| panic!("{}", w.dump_logs(m)));
    assert!(line.contains("# Client id="), "{line}");
    assert!(line.contains("flags=S"), "{line}");
    assert!(line.contains("cmd=psync"), "{line}");
    assert!(line.contains("addr=127.0.0.1:"), "{line}");
    assert!(
        line.contains("scheduled to be closed ASAP"),
        "cut from the write path: {line}"
    );
    let omem: u64 = line
        .split("omem=")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(omem >= 2 * 1024 * 1024, "omem {omem}");
    assert!(w.logged(m, "Connection with replica 127.0.0.1:7002 lost."));
    assert!(
        w.logged(m, "Background saving terminated by signal 10"),
        "no save points: the useless child is killed"
    );
    assert!(w.logged(r, "I/O error reading bulk count from MASTER: Success"));
    assert!(w.logged(r, "Reconnecting to MASTER 127.0.0.1:7001 after failure"));
    // The stale self-synthesised cached master is re-sent every time.
    assert!(
        w.count_logged(
            r,
            &format!("Trying a partial resynchronization (request {self_id}:1).")
        ) >= 2
    );
    assert!(w.marks[m]
        .iter()
        .any(|mk| mk.kind == crate::view::MarkKind::OutputBufferCutOff));
}

#[test]
fn useless_child_survives_with_save_points() {
    let (mut w, m, r) = master_replica(false);
    w.bgsave_ms = 10_000;
    w.replicaof(r, m);
    w.advance(200);
    w.kill_links(r);
    w.down.insert(m);
    w.advance(200);
    assert!(!w.logged(m, "terminated by signal"), "{}", w.dump_logs(m));
}

#[test]
fn diskless_last_replica_dropped_kills_child() {
    let mut r = Raw::new(|c| c.repl_diskless_sync_delay = 0);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    assert_eq!(r.bgsaves().len(), 1);
    r.input(Input::Closed {
        conn: a,
        error: String::new(),
    });
    assert!(r.logged("Diskless rdb transfer, last replica dropped, killing fork child."));
    assert!(r
        .outs
        .iter()
        .any(|o| matches!(o, Output::KillBgsave { .. })));
}

/// A master with one online replica whose link the test does not drain.
fn stalled_online_replica(cfg: impl FnOnce(&mut Config)) -> (Raw, ConnId) {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync = false;
        cfg(c);
    });
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    r.input(Input::BgsaveDone {
        id,
        ok: true,
        rdb: Payload::Phantom(100),
        cow_bytes: 0,
    });
    let got = r.take(a);
    assert!(got.contains("$100\r\n<P:100>"), "{got}");
    assert_eq!(r.inst.replica_clients()[0].state, ReplicaState::Online);
    (r, a)
}

#[test]
fn soft_limit_needs_strictly_more_than_soft_seconds() {
    let (mut r, a) = stalled_online_replica(|c| {
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 1 << 20,
            soft_seconds: 3,
        };
        c.repl_timeout = 1000;
    });
    r.tick_to(950);
    r.write(0, Payload::Phantom(2 << 20)); // over soft at t=0.95 (unixtime second S)
    let since = r.inst.replica_clients()[0].soft_limit_since_ms;
    assert_eq!(since, Some(950), "the write path's check starts the timer");
    r.tick_to(3950);
    assert_eq!(r.inst.replica_clients().len(), 1, "3 s over soft: not yet");
    r.tick_to(4000); // unixtime S+4: elapsed 4 > 3
    assert!(r.inst.replica_clients().is_empty(), "{:?}", r.logs());
    assert!(
        r.logged("closed for overcoming of output buffer limits."),
        "clientsCron closes (not ASAP)"
    );
    let _ = a;
}

#[test]
fn soft_timer_resets_when_seen_below_soft() {
    let (mut r, a) = stalled_online_replica(|c| {
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 1 << 20,
            soft_seconds: 3,
        };
        c.repl_timeout = 1000;
    });
    r.write(0, Payload::Phantom(2 << 20));
    r.tick_to(100);
    assert!(r.inst.replica_clients()[0].soft_limit_since_ms.is_some());
    r.tick_to(2000);
    let _ = r.take(a); // the replica drains
    r.tick_to(2100);
    assert_eq!(
        r.inst.replica_clients()[0].soft_limit_since_ms,
        None,
        "a check below soft resets the timer"
    );
    r.write(0, Payload::Phantom(2 << 20));
    r.tick_to(5500);
    assert_eq!(
        r.inst.replica_clients().len(),
        1,
        "the timer restarted at 2.1 s"
    );
}

#[test]
fn v7_hard_limit_floored_at_backlog_size_v6_not() {
    for (model, survives) in [(BufferModel::V7, true), (BufferModel::V6, false)] {
        let (mut r, _a) = stalled_online_replica(|c| {
            c.replication_model = model;
            c.client_output_buffer_limit_replica = BufferLimit {
                hard: 100 * 1024,
                soft: 0,
                soft_seconds: 0,
            };
        });
        for _ in 0..30 {
            r.write(0, Payload::Phantom(20_000));
        }
        r.tick_to(200);
        assert_eq!(
            r.inst.replica_clients().len() == 1,
            survives,
            "{model:?}: {:?}",
            r.logs()
        );
    }
}

#[test]
fn v7_shares_one_buffer_v6_copies() {
    let mut mems = Vec::new();
    for model in [BufferModel::V7, BufferModel::V6] {
        let mut r = Raw::new(|c| {
            c.repl_diskless_sync = false;
            c.replication_model = model;
        });
        let a = r.replica_client(7002, true);
        let b = r.replica_client(7003, true);
        r.cmd(a, &["PSYNC", "?", "-1"]);
        r.cmd(b, &["PSYNC", "?", "-1"]);
        assert!(
            r.logged("Waiting for end of BGSAVE for SYNC"),
            "b joins a's disk BGSAVE"
        );
        for _ in 0..100 {
            r.write(0, Payload::Phantom(50_000));
        }
        let infos = r.inst.replica_clients();
        assert_eq!(infos[0].obuf_bytes, infos[1].obuf_bytes);
        assert!(infos[0].pending_bytes >= 5_000_000);
        mems.push((r.inst.repl_buffer_mem(), infos[0].obuf_bytes));
    }
    let (v7_mem, v7_used) = mems[0];
    let (v6_mem, v6_used) = mems[1];
    assert!(
        v7_mem < v7_used + 2 * 1024 * 1024,
        "7.0: one copy ({v7_mem} vs {v7_used})"
    );
    assert!(
        v6_mem >= 2 * v6_used,
        "6.x: a copy per replica ({v6_mem} vs {v6_used})"
    );
}

#[test]
fn v7_omem_counts_whole_blocks_like_redis() {
    let (mut r, a) = stalled_online_replica(|c| {
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
    });
    let _ = r.take(a);
    r.write(0, Payload::Phantom(10)); // SELECT + 10 bytes in one 20440-byte block
    let used = r.inst.replica_clients()[0].obuf_bytes;
    assert_eq!(
        used,
        20440 + 64,
        "whole tail capacity plus one block overhead"
    );
}

#[test]
fn lagging_replica_pins_backlog_past_its_size() {
    let (mut r, a) = stalled_online_replica(|c| {
        c.repl_backlog_size = 1 << 20;
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
    });
    for _ in 0..60 {
        r.write(0, Payload::Phantom(100_000));
    }
    let h = r.inst.backlog_histlen();
    assert!(h > 5_000_000, "pinned: {h}");
    let _ = r.take(a);
    let h1 = r.inst.backlog_histlen();
    assert!(
        h1 < h,
        "releasing the blocks trims at once, at most 64 blocks per call: {h1}"
    );
    let _ = r.take(a);
    r.write(0, Payload::Phantom(100_000)); // the next new block trims the rest
    let _ = r.take(a);
    let h2 = r.inst.backlog_histlen();
    assert!(
        ((1 << 20)..(1 << 20) + 100_000).contains(&h2),
        "trimmed back near the size: {h2}"
    );
    assert_eq!(
        r.inst.backlog_first_byte_offset(),
        r.inst.master_repl_offset() - h2 as i64 + 1
    );
}

/// Issue 12 (and the server's "540 MB held with repl-backlog-size 1mb"): when the replica that
/// pinned old blocks leaves, `beforeSleep` trims them away even if no write ever comes again.
#[test]
fn blocks_a_departed_replica_pinned_are_trimmed_without_new_writes() {
    let (mut r, a) = stalled_online_replica(|c| {
        c.repl_backlog_size = 1 << 20;
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
    });
    for _ in 0..200 {
        r.write(0, Payload::Phantom(100_000));
    }
    assert!(r.inst.backlog_histlen() > 19_000_000, "pinned");
    let mem_pinned = r.inst.repl_buffer_mem();
    r.input(Input::Closed {
        conn: a,
        error: "connection lost".into(),
    });
    let h = r.inst.backlog_histlen();
    assert!(
        ((1 << 20)..(1 << 20) + 100_000).contains(&h),
        "trimmed back to the size with no write after the replica left: {h}"
    );
    assert!(r.inst.repl_buffer_mem() < mem_pinned / 10);
    assert_eq!(
        r.inst.backlog_first_byte_offset(),
        r.inst.master_repl_offset() - h as i64 + 1
    );
}

#[test]
fn phantom_256mb_buffer_costs_nothing() {
    let (mut r, _a) = stalled_online_replica(|c| {
        c.client_output_buffer_limit_replica = BufferLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
    });
    for _ in 0..256 {
        r.write(0, Payload::Phantom(1 << 20));
    }
    let info = &r.inst.replica_clients()[0];
    assert!(info.pending_bytes >= 256 << 20);
    assert!(
        r.inst.repl_buffer_mem() >= 256 << 20,
        "accounted, not allocated"
    );
}

// ---------------------------------------------------------------- full sync, master side

#[test]
fn diskless_delay_keepalives_then_eof_framing_and_stream_after_ack() {
    let mut r = Raw::new(|c| c.repl_diskless_sync_delay = 5);
    // After the boot's first cron (at 1 ms), before the second (at 1 s).
    r.tick_to(950);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    assert!(r.logged("Delay next BGSAVE for diskless SYNC"));
    let mut early = String::new();
    for t in 1..=4 {
        r.tick_to(t * 1000 + 150);
        early.push_str(&r.take(a));
    }
    assert_eq!(
        early, "\n\n\n\n",
        "one keepalive per replicationCron while waiting"
    );
    assert!(r.bgsaves().is_empty());
    // Idle 5 s by `server.unixtime`, whole seconds, at the cron at 5 s.
    r.tick_to(5150);
    let bg = r.bgsaves();
    assert_eq!(bg.len(), 1, "forks once idle >= repl-diskless-sync-delay");
    assert!(matches!(bg[0].1, BgsaveTarget::Sockets(ref v) if v == &vec![a]));
    assert!(r.logged("Starting BGSAVE for SYNC with target: replicas sockets"));
    let head = r.take(a);
    let id = r.inst.replid().to_string();
    let off = bg[0].2;
    // The cron writes its keepalive before it forks: `\n+FULLRESYNC` in one segment, and
    // `$EOF:<mark>` only with the child's first write, as captured
    // (`fullsync_eof_mode_with_sync_delay.log`: 3 ms later, glued to the RDB's first bytes).
    assert_eq!(head, format!("\n+FULLRESYNC {id} {off}\r\n"));
    r.input(Input::BgsaveData {
        id: bg[0].0,
        payload: Payload::Phantom(5000),
    });
    let first = r.take(a);
    let mark = first
        .strip_prefix("$EOF:")
        .map(|s| s[..40].to_string())
        .unwrap_or_default();
    assert_eq!(
        first,
        format!("$EOF:{mark}\r\n<P:5000>"),
        "header glued to the data"
    );
    r.write(3, Payload::Phantom(7));
    r.input(Input::BgsaveDone {
        id: bg[0].0,
        ok: true,
        rdb: Payload::Phantom(0),
        cow_bytes: 3 << 20,
    });
    assert!(r.logged("Diskless rdb transfer, done reading from pipe, 1 replicas still up."));
    assert!(r.logs().iter().any(|l| l == "Streamed RDB transfer with replica 10.0.0.100:7002 succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming"));
    assert!(r.outs.iter().any(|o| matches!(o, Output::Log(l) if l.role == 'C' && l.text == "Fork CoW for RDB: current 3 MB, peak 3 MB, average 3 MB")));
    // As the real master logs it: the child's CoW report, then the parent's EOF on the pipe.
    let logs = r.logs();
    let at = |needle: &str| logs.iter().position(|l| l.contains(needle)).expect(needle);
    assert!(
        at("Fork CoW for RDB") < at("done reading from pipe"),
        "{logs:?}"
    );
    assert_eq!(r.take(a), mark, "nothing glued after the mark");
    r.write(3, Payload::Phantom(7));
    assert_eq!(r.take(a), "", "no stream before the first ACK");
    r.cmd(a, &["REPLCONF", "ACK", &off.to_string()]);
    let stream = r.take(a);
    // Both writes (one during the transfer, one after) were buffered since the fork.
    assert_eq!(
        stream, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n<P:14>",
        "SELECT forced after the full sync setup"
    );
    assert_eq!(r.inst.replica_clients()[0].ack_offset, off);
}

#[test]
fn disk_framing_keepalives_and_stream_glued_after_file() {
    let mut r = Raw::new(|c| c.repl_diskless_sync = false);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    assert!(r.logged("Starting BGSAVE for SYNC with target: disk"));
    assert!(r.logged("Background saving started by pid"));
    let id = r.inst.replid().to_string();
    assert_eq!(r.take(a), format!("+FULLRESYNC {id} 0\r\n"));
    r.write(
        0,
        Payload::bytes(crate::wire::encode_command(&["set", "k", "v"])),
    );
    r.tick_to(1000);
    r.tick_to(2000);
    // The boot's first cron (1 ms), then those at 1 s and 2 s.
    assert_eq!(r.take(a), "\n\n\n", "keepalives while a disk child runs");
    let bg = r.bgsaves()[0].0;
    r.input(Input::BgsaveDone {
        id: bg,
        ok: true,
        rdb: Payload::Phantom(64626),
        cow_bytes: 0,
    });
    assert!(r.logged("Background saving terminated with success"));
    assert_eq!(r.inst.replica_clients()[0].state, ReplicaState::SendBulk);
    let got = r.take(a);
    assert!(
        got.starts_with("$64626\r\n<P:64626>*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset"),
        "{got:?}"
    );
    assert!(r.logged("Synchronization with replica 10.0.0.100:7002 succeeded"));
    assert_eq!(r.inst.replica_clients()[0].state, ReplicaState::Online);
}

#[test]
fn max_replicas_starts_the_fork_early() {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync_delay = 5;
        c.repl_diskless_sync_max_replicas = 2;
    });
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    r.tick_to(1000);
    assert!(r.bgsaves().is_empty());
    let b = r.replica_client(7003, true);
    r.cmd(b, &["PSYNC", "?", "-1"]);
    r.tick_to(2000);
    let bg = r.bgsaves();
    assert_eq!(bg.len(), 1);
    assert!(
        matches!(bg[0].1, BgsaveTarget::Sockets(ref v) if v.len() == 2),
        "one fork serves the batch"
    );
}

#[test]
fn one_replica_without_eof_pushes_the_batch_to_disk() {
    let mut r = Raw::new(|c| c.repl_diskless_sync_delay = 1);
    let a = r.replica_client(7002, true);
    let b = r.replica_client(7003, false);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    r.cmd(b, &["PSYNC", "?", "-1"]);
    r.tick_to(2000);
    assert_eq!(r.bgsaves()[0].1, BgsaveTarget::Disk);
}

#[test]
fn join_rules_for_running_bgsaves() {
    // Disk child, compatible capabilities: join with the first replica's offset.
    let mut r = Raw::new(|c| c.repl_diskless_sync = false);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let first = r.take(a);
    r.write(0, Payload::Phantom(50));
    let b = r.replica_client(7003, true);
    r.cmd(b, &["PSYNC", "?", "-1"]);
    assert!(r.logged("Waiting for end of BGSAVE for SYNC"));
    assert_eq!(
        r.take(b),
        first,
        "the same +FULLRESYNC offset as the replica it joined"
    );
    let infos = r.inst.replica_clients();
    assert_eq!(
        infos[0].pending_bytes, 73,
        "SELECT + 50 bytes accumulated since the fork"
    );
    assert_eq!(
        infos[1].pending_bytes, 73,
        "the joiner shares the first replica's buffer position"
    );
    // Missing a capability the first one has: wait for the next BGSAVE.
    let c = r.replica_client(7004, false);
    r.cmd(c, &["PSYNC", "?", "-1"]);
    assert!(r.logged(
        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"
    ));
    let bg = r.bgsaves()[0].0;
    r.input(Input::BgsaveDone {
        id: bg,
        ok: true,
        rdb: Payload::Phantom(10),
        cow_bytes: 0,
    });
    assert_eq!(
        r.bgsaves().len(),
        2,
        "the next BGSAVE starts as soon as the child exits"
    );
    // Socket child running: nobody joins.
    let mut r = Raw::new(|c| c.repl_diskless_sync_delay = 0);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let b = r.replica_client(7003, true);
    r.cmd(b, &["PSYNC", "?", "-1"]);
    assert!(r.logged("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC"));
}

#[test]
fn bgsave_failure_closes_waiting_replicas() {
    let mut r = Raw::new(|c| c.repl_diskless_sync = false);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let bg = r.bgsaves()[0].0;
    r.input(Input::BgsaveDone {
        id: bg,
        ok: false,
        rdb: Payload::Phantom(0),
        cow_bytes: 0,
    });
    assert!(r.logged("Background saving error"));
    assert!(r.logged("SYNC failed. BGSAVE child returned an error"));
    assert!(r.inst.replica_clients().is_empty());
    assert!(r
        .outs
        .iter()
        .any(|o| matches!(o, Output::Close { conn } if *conn == a)));
}

#[test]
fn ping_every_period_and_select_rules() {
    let (mut w, m, r) = master_replica(false);
    w.replicaof(r, m);
    w.advance(500);
    let o1 = w.nodes[m].master_repl_offset();
    w.advance(30_000);
    let o2 = w.nodes[m].master_repl_offset();
    assert_eq!(o2 - o1, 3 * 14, "a 14-byte ping every 10 s");
    for db in [0u32, 2, 2, 0] {
        w.write(
            m,
            db,
            Payload::bytes(crate::wire::encode_command(&["set", "k", "v"])),
        );
    }
    w.advance(100);
    let names: Vec<String> = w.applied[r]
        .iter()
        .map(|a| String::from_utf8_lossy(&a[0]).to_string())
        .filter(|n| n != "ping")
        .collect();
    assert_eq!(
        names,
        ["SELECT", "set", "SELECT", "set", "set", "SELECT", "set"]
    );
    assert_eq!(w.nodes[r].reploff(), w.nodes[m].master_repl_offset());
}

#[test]
fn wait_getack_and_ack_offset_excludes_getack() {
    let (mut w, m, r) = master_replica(false);
    w.replicaof(r, m);
    w.advance(500);
    w.set(m, "a", b"1");
    let c = w.client(m);
    let before = w.nodes[m].master_repl_offset();
    let reply = w.command(m, c, &["WAIT", "1", "0"]);
    assert_eq!(reply, ":1\r\n");
    assert_eq!(
        w.nodes[m].master_repl_offset(),
        before + 37,
        "GETACK went through the stream"
    );
    assert_eq!(
        w.nodes[m].replica_clients()[0].ack_offset,
        before,
        "ACK carries the offset before GETACK"
    );
    w.advance(1000);
    assert_eq!(
        w.nodes[m].replica_clients()[0].ack_offset,
        before + 37,
        "the periodic ACK includes it"
    );
    // More replicas than exist: times out with the count.
    w.command(m, c, &["WAIT", "2", "500"]);
    w.advance(400);
    assert_eq!(w.clients.get(&(m, c)).cloned().unwrap_or_default(), b"");
    w.advance(200);
    assert_eq!(
        String::from_utf8_lossy(w.clients.get(&(m, c)).map(|v| v.as_slice()).unwrap_or(b"")),
        ":1\r\n"
    );
    let rc = w.client(r);
    assert!(w
        .command(r, rc, &["WAIT", "1", "0"])
        .starts_with("-ERR WAIT cannot be used with replica instances."));
}

// ---------------------------------------------------------------- replica side

#[test]
fn handshake_sends_each_step_after_its_reply_with_auth() {
    let mut p = params("replica", 7002, 5);
    p.config.masterauth = Some("pw".into());
    p.config.replicaof = Some(("10.0.0.1".into(), 6379));
    let mut r = Instance::new(p);
    let mut outs = Vec::new();
    let run = |r: &mut Instance, now: u64, i: Option<Input>, outs: &mut Vec<Output>| {
        match i {
            Some(i) => r.handle(now, i),
            None => r.handle_timeout(now),
        }
        while let Some(o) = r.poll_output() {
            outs.push(o);
        }
    };
    assert_eq!(r.link_status(), LinkStatus::Connect);
    run(&mut r, 1000, None, &mut outs);
    let conn = outs
        .iter()
        .find_map(|o| {
            if let Output::Connect { conn, host, port } = o {
                assert_eq!((host.as_str(), *port), ("10.0.0.1", 6379));
                Some(*conn)
            } else {
                None
            }
        })
        .expect("connects from cron");
    assert!(conn.is_outbound());
    assert_eq!(r.link_status(), LinkStatus::Connecting);
    run(&mut r, 1001, Some(Input::Connected { conn }), &mut outs);
    assert_eq!(
        render(&r.take_outgoing(1001, conn, u64::MAX)),
        "*1\r\n$4\r\nPING\r\n"
    );
    assert_eq!(r.link_status(), LinkStatus::Handshake);
    run(
        &mut r,
        1002,
        Some(Input::Received {
            conn,
            payload: Payload::bytes(b"+PONG\r\n".to_vec()),
        }),
        &mut outs,
    );
    assert_eq!(
        render(&r.take_outgoing(1002, conn, u64::MAX)),
        "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7002\r\n*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n"
    );
    run(
        &mut r,
        1003,
        Some(Input::Received {
            conn,
            payload: Payload::bytes(b"+OK\r\n+OK\r\n".to_vec()),
        }),
        &mut outs,
    );
    assert_eq!(
        r.take_outgoing(1003, conn, u64::MAX),
        vec![],
        "PSYNC waits for the capa reply"
    );
    run(
        &mut r,
        1004,
        Some(Input::Received {
            conn,
            payload: Payload::bytes(b"-ERR unknown\r\n".to_vec()),
        }),
        &mut outs,
    );
    assert_eq!(
        render(&r.take_outgoing(1004, conn, u64::MAX)),
        "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"
    );
    let texts: Vec<String> = outs
        .iter()
        .filter_map(|o| {
            if let Output::Log(l) = o {
                Some(l.text.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(
        texts.contains(
            &"(Non critical) Master does not understand REPLCONF capa: -ERR unknown".to_string()
        ),
        "{texts:?}"
    );
    // Keepalives, then the full resync and a `$len` body glued to the stream.
    let id = "53e9681e340bac5c8f92a8c162590c0c10a0487b";
    let reply = format!("\n\n+FULLRESYNC {id} 82\r\n\n$10\r\n");
    run(
        &mut r,
        1005,
        Some(Input::Received {
            conn,
            payload: Payload::bytes(reply.into_bytes()),
        }),
        &mut outs,
    );
    assert_eq!(r.link_status(), LinkStatus::Sync);
    let info = r.info_replication(1005);
    assert!(info.contains("master_sync_in_progress:1\r\nslave_read_repl_offset:1\r\nslave_repl_offset:1\r\nmaster_sync_total_bytes:10\r\nmaster_sync_read_bytes:0\r\nmaster_sync_left_bytes:10\r\nmaster_sync_perc:0.00\r\n"), "{info}");
    let mut tail = b"0123456789".to_vec();
    tail.extend(crate::wire::encode_command(&["ping"]));
    run(
        &mut r,
        1006,
        Some(Input::Received {
            conn,
            payload: Payload::bytes(tail),
        }),
        &mut outs,
    );
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::LoadRdb {
            size: 10,
            eof_marked: false
        }
    )));
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::SetReadable {
            readable: false,
            ..
        }
    )));
    run(
        &mut r,
        1500,
        Some(Input::LoadDone {
            ok: true,
            error: String::new(),
            keys: 3,
        }),
        &mut outs,
    );
    assert_eq!(r.link_status(), LinkStatus::Connected);
    assert_eq!(
        r.reploff(),
        82 + 14,
        "the glued ping was applied after the load"
    );
    assert_eq!(r.replid(), id);
    assert_eq!(
        r.take_outgoing(1500, conn, u64::MAX),
        vec![],
        "$len transfer: no immediate ACK"
    );
    run(&mut r, 2100, None, &mut outs);
    assert_eq!(
        render(&r.take_outgoing(2100, conn, u64::MAX)),
        "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n96\r\n",
        "ACK from the 1 Hz cron"
    );
    assert!(r.info_replication(2000).contains("master_link_status:up"));
}

#[test]
fn noauth_master_transcript() {
    let mut w = World::new();
    let mut pm = params("master", 7001, 1);
    pm.config.requirepass = Some("secret".into());
    let m = w.add(pm);
    let r = w.add(params("replica", 7002, 2));
    w.replicaof(r, m);
    w.advance(500);
    for line in [
        "Master replied to PING, replication can continue...",
        "(Non critical) Master does not understand REPLCONF listening-port: -NOAUTH Authentication required.",
        "(Non critical) Master does not understand REPLCONF capa: -NOAUTH Authentication required.",
        "Unexpected reply to PSYNC from master: -NOAUTH Authentication required.",
        "Retrying with SYNC...",
        "MASTER aborted replication with an error: NOAUTH Authentication required.",
        "Reconnecting to MASTER 127.0.0.1:7001 after failure",
    ] {
        assert!(w.logged(r, line), "missing {line:?}\n{}", w.dump_logs(r));
    }
}

#[test]
fn replica_master_timeout_then_connecting_timeout_then_partial_resync() {
    let (mut w, m, r) = master_replica(false);
    let c = w.client(r);
    w.command(r, c, &["CONFIG", "SET", "repl-timeout", "3"]);
    let cm = w.client(m);
    w.command(m, cm, &["CONFIG", "SET", "repl-timeout", "100"]);
    w.replicaof(r, m);
    w.advance(1000);
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected);
    w.frozen.insert(m); // SIGSTOP the master
    w.advance(8500);
    assert!(
        w.logged(r, "MASTER timeout: no data nor PING received..."),
        "{}",
        w.dump_logs(r)
    );
    assert!(w.logged(r, "Caching the disconnected master state."));
    assert!(
        w.logged(r, "Timeout connecting to the MASTER..."),
        "{}",
        w.dump_logs(r)
    );
    let info = w.nodes[r].info_replication(w.now);
    assert!(info.contains("master_link_status:down"));
    assert!(info.contains("master_link_down_since_seconds:"));
    w.frozen.remove(&m); // SIGCONT
    w.advance(5000);
    assert_eq!(
        w.nodes[r].link_status(),
        LinkStatus::Connected,
        "{}",
        w.dump_logs(r)
    );
    assert!(w.nodes[m].stats().sync_partial_ok >= 1);
}

#[test]
fn master_drops_replica_without_acks() {
    let (mut w, m, r) = master_replica(false);
    let cm = w.client(m);
    w.command(m, cm, &["CONFIG", "SET", "repl-timeout", "3"]);
    let cr = w.client(r);
    w.command(r, cr, &["CONFIG", "SET", "repl-timeout", "100"]);
    w.replicaof(r, m);
    w.advance(1000);
    w.frozen.insert(r);
    w.advance(6000);
    assert!(
        w.logged(
            m,
            "Disconnecting timedout replica (streaming sync): 127.0.0.1:7002"
        ),
        "{}",
        w.dump_logs(m)
    );
    assert!(w.logged(m, "Connection with replica 127.0.0.1:7002 lost."));
}

#[test]
fn handshake_error_retries_on_next_cron_transfer_error_retries_at_once() {
    let mut w = World::new();
    let m = w.add(params("master", 7001, 1));
    let mut p = params("replica", 7002, 2);
    p.config.replicaof = Some(("127.0.0.1".into(), 7001));
    let r = w.add(p);
    w.down.insert(m);
    w.advance(2500);
    // Crons at 0.1 s, 1.1 s, 2.1 s: one connect attempt each.
    assert_eq!(
        w.count_logged(r, "Connecting to MASTER 127.0.0.1:7001"),
        3,
        "{}",
        w.dump_logs(r)
    );
    assert_eq!(
        w.count_logged(r, "Error condition on socket for SYNC: Connection refused"),
        3
    );
    w.down.remove(&m);
    w.bgsave_ms = 3000;
    let cm = w.client(m);
    w.command(m, cm, &["CONFIG", "SET", "repl-diskless-sync", "no"]);
    w.advance(1000);
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Sync);
    let t = w.now;
    w.kill_links(r);
    assert!(w.logged(r, "I/O error reading bulk count from MASTER: Success"));
    let i = w.logs[r]
        .iter()
        .position(|l| l.contains("Reconnecting to MASTER 127.0.0.1:7001 after failure"))
        .expect("reconnect");
    let stamp = |l: &str| l.split(' ').nth(4).unwrap_or("").to_string();
    assert!(w.logs[r][i + 1].contains("MASTER <-> REPLICA sync started"));
    assert_eq!(
        stamp(&w.logs[r][i + 1]),
        stamp(&w.logs[r][i]),
        "reconnected in the same instant"
    );
    assert_eq!(w.now, t);
}

#[test]
fn role_and_info_formats() {
    let (mut w, m, r) = master_replica(false);
    w.replicaof(r, m);
    w.advance(1500);
    assert_eq!(
        w.nodes[m].role(),
        Role::Master {
            offset: w.nodes[m].master_repl_offset(),
            replicas: vec![("127.0.0.1".into(), 7002, w.nodes[m].master_repl_offset())]
        }
    );
    let c = w.client(m);
    let role = w.command(m, c, &["ROLE"]);
    let off = w.nodes[m].master_repl_offset();
    assert_eq!(role, format!("*3\r\n$6\r\nmaster\r\n:{off}\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n7002\r\n${}\r\n{off}\r\n", off.to_string().len()));
    let rc = w.client(r);
    let role = w.command(r, rc, &["ROLE"]);
    assert_eq!(
        role,
        format!("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:7001\r\n$9\r\nconnected\r\n:{off}\r\n")
    );
    let info = w.nodes[m].info_replication(w.now);
    let expect = format!(
        "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7002,state=online,offset={off},lag=0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:{off}\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:1\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:1\r\nrepl_backlog_histlen:{off}\r\n",
        w.nodes[m].replid()
    );
    assert_eq!(info, expect);
    let info = w.command(m, c, &["INFO", "replication"]);
    assert!(info.starts_with('$') && info.contains("role:master"));
    let rinfo = w.nodes[r].info_replication(w.now);
    assert!(rinfo.starts_with("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:"));
    assert!(rinfo.contains(&format!("slave_read_repl_offset:{off}\r\nslave_repl_offset:{off}\r\nslave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n")));
    // A fresh replica that never had a link: down since -1.
    let mut p = params("x", 7009, 9);
    p.config.replicaof = Some(("127.0.0.1".into(), 1));
    let x = Instance::new(p);
    let xi = x.info_replication(0);
    assert!(xi.contains("master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:1\r\nslave_repl_offset:1\r\nmaster_link_down_since_seconds:-1\r\n"), "{xi}");
    assert_eq!(
        x.role(),
        Role::Replica {
            host: "127.0.0.1".into(),
            port: 1,
            state: "connect".into(),
            offset: -1
        }
    );
}

#[test]
fn config_get_set_through_commands() {
    let mut r = Raw::new(|_| {});
    let c = r.accept();
    r.cmd(c, &["CONFIG", "SET", "repl-backlog-size", "100"]);
    r.cmd(c, &["CONFIG", "GET", "repl-backlog-size"]);
    assert_eq!(
        r.take(c),
        "+OK\r\n*2\r\n$17\r\nrepl-backlog-size\r\n$5\r\n16384\r\n"
    );
    r.cmd(c, &["CONFIG", "SET", "repl-timeout", "abc"]);
    assert_eq!(r.take(c), "-ERR CONFIG SET failed (possibly related to argument 'repl-timeout') - argument couldn't be parsed into an integer\r\n");
    r.cmd(c, &["CONFIG", "SET", "replication-model", "6"]);
    assert_eq!(r.take(c), "+OK\r\n");
    assert_eq!(r.inst.config().replication_model, BufferModel::V6);
}

// ---------------------------------------------------------------- transfer + load, dual channel

#[test]
fn classic_sync_master_buffer_grows_while_replica_loads() {
    let (mut w, m, r) = master_replica(false);
    w.load_ms = 3000;
    w.replicaof(r, m);
    w.advance(200);
    assert!(w.nodes[r].is_loading());
    for _ in 0..20 {
        w.write(m, 0, Payload::Phantom(10_000));
        w.advance(100);
    }
    let pend = w.nodes[m].replica_clients()[0].pending_bytes;
    assert!(
        pend >= 200_000,
        "the replica does not read while loading: {pend}"
    );
    w.advance(2000);
    assert_eq!(w.nodes[r].reploff(), w.nodes[m].master_repl_offset());
}

#[test]
fn dual_channel_buffers_on_the_replica_while_loading() {
    let mut w = World::new();
    let mut pm = params("master", 7001, 1);
    pm.config.dual_channel_replication_enabled = true;
    pm.config.version = crate::core::version::Version::Valkey81;
    pm.config.repl_diskless_sync_delay = 0;
    let mut pr = params("replica", 7002, 2);
    pr.config.dual_channel_replication_enabled = true;
    pr.config.version = crate::core::version::Version::Valkey81;
    let m = w.add(pm);
    let r = w.add(pr);
    w.load_ms = 3000;
    w.set(m, "before", b"x");
    w.replicaof(r, m);
    w.advance(200);
    assert!(w.logged(m, "is capable of dual channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated RDB channel."), "{}", w.dump_logs(m));
    assert!(w.logged(m, "Sending to replica"));
    assert!(w.nodes[r].is_loading(), "{}", w.dump_logs(r));
    for i in 0..20 {
        w.set(m, &format!("k{i}"), &[b'v'; 10_000]);
        w.advance(100);
    }
    let local = w.nodes[r].dual_local_buffer_bytes();
    assert!(
        local >= 200_000,
        "the replica buffers the stream locally: {local}"
    );
    let infos = w.nodes[m].replica_clients();
    let main = infos
        .iter()
        .find(|i| i.state == ReplicaState::BgTransfer)
        .expect("main channel streaming while the replica loads (Valkey's bg_transfer)");
    assert_eq!(main.pending_bytes, 0, "the master's buffer stays empty");
    w.advance(3000);
    assert_eq!(
        w.nodes[r].link_status(),
        LinkStatus::Connected,
        "{}",
        w.dump_logs(r)
    );
    assert_eq!(w.nodes[r].reploff(), w.nodes[m].master_repl_offset());
    assert_eq!(w.datasets[r], w.datasets[m]);
    assert!(w.logged(
        r,
        "Dual channel replication: Successfully streamed replication data into memory"
    ));
}

#[test]
fn dual_channel_local_limit_stops_reading() {
    let mut w = World::new();
    let mut pm = params("master", 7001, 1);
    pm.config.dual_channel_replication_enabled = true;
    pm.config.version = crate::core::version::Version::Valkey81;
    pm.config.repl_diskless_sync_delay = 0;
    let mut pr = params("replica", 7002, 2);
    pr.config.dual_channel_replication_enabled = true;
    pr.config.version = crate::core::version::Version::Valkey81;
    pr.config.client_output_buffer_limit_replica = BufferLimit {
        hard: 100_000,
        soft: 0,
        soft_seconds: 0,
    };
    let m = w.add(pm);
    let r = w.add(pr);
    w.load_ms = 3000;
    w.replicaof(r, m);
    w.advance(200);
    for i in 0..20 {
        w.set(m, &format!("k{i}"), &[b'v'; 10_000]);
        w.advance(100);
    }
    assert!(w.logged(r, "Replication buffer limit reached, stopping buffering."));
    let pend = w.nodes[m]
        .replica_clients()
        .iter()
        .map(|i| i.pending_bytes)
        .max()
        .unwrap_or(0);
    assert!(pend > 50_000, "pressure moves back to the master: {pend}");
    w.advance(3000);
    assert_eq!(w.datasets[r], w.datasets[m]);
}

// ---------------------------------------------------------------- robustness

#[cfg(not(target_arch = "wasm32"))]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "PSYNC",
        "SYNC",
        "REPLCONF",
        "ACK",
        "GETACK",
        "capa",
        "eof",
        "psync2",
        "listening-port",
        "REPLICAOF",
        "NO",
        "ONE",
        "127.0.0.1",
        "7001",
        "ROLE",
        "INFO",
        "WAIT",
        "CONFIG",
        "SET",
        "GET",
        "repl-backlog-size",
        "client-output-buffer-limit",
        "?",
        "-1",
        "0",
        "1",
        "99999999999999999999",
        "-5",
        "",
        "rdb-only",
        "set-rdb-client-id",
        "PING",
        "AUTH",
        "x",
    ];
    const LINK: &[&str] = &[
        "+PONG\r\n",
        "+OK\r\n",
        "-ERR x\r\n",
        "\n",
        "+FULLRESYNC 53e9681e340bac5c8f92a8c162590c0c10a0487b 5\r\n",
        "+CONTINUE\r\n",
        "+CONTINUE 53e9681e340bac5c8f92a8c162590c0c10a0487b\r\n",
        "$3\r\nabc",
        "$EOF:",
        "*1\r\n$4\r\nping\r\n",
        "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n",
        "*2\r\n$5\r\nMULTI",
        "$-7\r\n",
        "*x\r\n",
        "+DUALCHANNELSYNC\r\n",
        "$ENDOFF:5 53e9681e340bac5c8f92a8c162590c0c10a0487b 0 7\r\n",
    ];

    #[derive(Clone, Debug)]
    enum Act {
        Cmd(u8, Vec<u8>),
        Link(Vec<u8>),
        Phantom(u16),
        Close(u8),
        Accept,
        Write(u8, u16),
        Done(u8, bool),
        Load(bool),
        Wait(u16),
        Connect(bool),
        Replicaof(bool),
    }

    fn act() -> impl Strategy<Value = Act> {
        prop_oneof![
            (
                0u8..4,
                proptest::collection::vec(0u8..WORDS.len() as u8, 0..5)
            )
                .prop_map(|(c, w)| Act::Cmd(c, w)),
            proptest::collection::vec(0u8..LINK.len() as u8, 1..4).prop_map(Act::Link),
            any::<u16>().prop_map(Act::Phantom),
            (0u8..5).prop_map(Act::Close),
            Just(Act::Accept),
            (0u8..16, any::<u16>()).prop_map(|(d, n)| Act::Write(d, n)),
            (0u8..4, any::<bool>()).prop_map(|(i, ok)| Act::Done(i, ok)),
            any::<bool>().prop_map(Act::Load),
            (0u16..5000).prop_map(Act::Wait),
            any::<bool>().prop_map(Act::Connect),
            any::<bool>().prop_map(Act::Replicaof),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Whatever arrives, in whatever order, the core never panics and keeps its offsets
        /// coherent.
        #[test]
        fn core_never_panics(acts in proptest::collection::vec(act(), 1..80), v6 in any::<bool>()) {
            let mut p = params("n", 7001, 3);
            p.config.repl_diskless_sync_delay = 0;
            if v6 { p.config.replication_model = BufferModel::V6; }
            let mut inst = Instance::new(p);
            let mut now = 0u64;
            let mut conns = vec![ConnId(1)];
            inst.handle(now, Input::Accepted { conn: ConnId(1), peer: "1.2.3.4:5".into() });
            for a in acts {
                let link = inst.master_conn();
                let input = match a {
                    // `None`: only time passes (`handle_timeout`).
                    Act::Cmd(c, w) => Some(Input::Command {
                        conn: conns[c as usize % conns.len()],
                        argv: w.iter().map(|i| WORDS[*i as usize].as_bytes().to_vec()).collect(),
                    }),
                    Act::Link(parts) => link.map(|conn| Input::Received { conn, payload: Payload::Bytes(parts.iter().flat_map(|i| LINK[*i as usize].bytes()).collect()) }),
                    Act::Phantom(n) => link.map(|conn| Input::Received { conn, payload: Payload::Phantom(n as u64) }),
                    Act::Close(i) => Some(Input::Closed { conn: if i == 4 { link.unwrap_or(ConnId(0)) } else { conns[i as usize % conns.len()] }, error: "x".into() }),
                    Act::Accept => {
                        let c = ConnId(conns.len() as u64 + 1);
                        conns.push(c);
                        Some(Input::Accepted { conn: c, peer: "1.2.3.4:6".into() })
                    }
                    Act::Write(db, n) => Some(Input::Propagate { db: db as u32, payload: Payload::Phantom(n as u64) }),
                    Act::Done(i, ok) => Some(Input::BgsaveDone { id: i as u64, ok, rdb: Payload::Phantom(10), cow_bytes: 0 }),
                    Act::Load(ok) => Some(Input::LoadDone { ok, error: "bad".into(), keys: 1 }),
                    Act::Wait(ms) => { now += ms as u64; None }
                    Act::Replicaof(on) => Some(Input::Command {
                        conn: conns[0],
                        argv: if on { vec![b"REPLICAOF".to_vec(), b"10.0.0.9".to_vec(), b"7001".to_vec()] } else { vec![b"REPLICAOF".to_vec(), b"NO".to_vec(), b"ONE".to_vec()] },
                    }),
                    Act::Connect(ok) => match link {
                        Some(conn) if ok => Some(Input::Connected { conn }),
                        Some(conn) => Some(Input::ConnectFailed { conn, error: "refused".into() }),
                        None => None,
                    },
                };
                match input {
                    Some(input) => inst.handle(now, input),
                    None => inst.handle_timeout(now),
                }
                while inst.poll_output().is_some() {}
                for c in inst.conns_with_output() {
                    let _ = inst.take_outgoing(now, c, 1000);
                }
                while inst.poll_output().is_some() {}
                let _ = inst.info_replication(now);
                let _ = crate::view::MasterView::of(&inst);
                let _ = crate::view::ReplicaView::of_link(&inst);
                if inst.has_backlog() {
                    prop_assert_eq!(inst.backlog_first_byte_offset(), inst.master_repl_offset() - inst.backlog_histlen() as i64 + 1);
                }
            }
        }
    }
}

#[test]
fn inline_sync_gets_the_bulk_without_fullresync_and_is_never_timed_out() {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync = false;
        c.repl_timeout = 2;
    });
    r.tick_to(1);
    let a = r.accept();
    r.cmd(a, &["SYNC"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    r.input(Input::BgsaveDone {
        id,
        ok: true,
        rdb: Payload::Phantom(9),
        cow_bytes: 0,
    });
    assert_eq!(r.take(a), "$9\r\n<P:9>", "no +FULLRESYNC line for SYNC");
    r.tick_to(10_000);
    assert_eq!(
        r.inst.replica_clients().len(),
        1,
        "PRE_PSYNC replicas are not timed out"
    );
    assert_eq!(r.inst.stats().sync_full, 1);
}

#[test]
fn psync_ok_and_no_backlog_with_the_6x_model() {
    for diskless in [false, true] {
        let c = PsyncCase {
            duration_s: 6,
            backlog: "100mb",
            ttl: "3600",
            delay_s: 0,
            reconnect: true,
        };
        let (w, m, _) = run_psync_case_with(&c, diskless, BufferModel::V6);
        assert!(w.nodes[m].stats().sync_partial_ok >= 3);
        let c = PsyncCase {
            duration_s: 6,
            backlog: "100",
            ttl: "3600",
            delay_s: 0,
            reconnect: true,
        };
        let (w, m, _) = run_psync_case_with(&c, diskless, BufferModel::V6);
        assert!(w.nodes[m].stats().sync_partial_err >= 2);
        assert_eq!(
            w.nodes[m].backlog_histlen(),
            16384,
            "the 6.x ring never exceeds its size"
        );
    }
}

#[test]
fn chained_replicas_share_one_offset_space() {
    let mut w = World::new();
    let m = w.add(params("master", 7001, 1));
    let r1 = w.add(params("r1", 7002, 2));
    let r2 = w.add(params("r2", 7003, 3));
    w.replicaof(r1, m);
    w.advance(6000);
    w.replicaof(r2, r1);
    w.advance(6000);
    assert_eq!(
        w.nodes[r2].link_status(),
        LinkStatus::Connected,
        "{}",
        w.dump_logs(r2)
    );
    for i in 0..50 {
        w.set(m, &format!("k{i}"), b"value");
    }
    w.advance(11_000); // includes a master PING, relayed by r1
    let off = w.nodes[m].master_repl_offset();
    assert_eq!(w.nodes[r1].master_repl_offset(), off);
    assert_eq!(w.nodes[r2].reploff(), off);
    assert_eq!(
        w.nodes[r2].replid(),
        w.nodes[m].replid(),
        "one history along the chain"
    );
    assert_eq!(w.datasets[r2], w.datasets[m]);
    let r1_pings = w.nodes[r1].master_repl_offset();
    w.advance(100);
    assert_eq!(
        w.nodes[r1].master_repl_offset(),
        r1_pings,
        "an intermediate replica generates no PINGs"
    );
    // A full sync on r1 drops r2 (its backlog is gone too).
    let c = w.client(m);
    w.command(m, c, &["CONFIG", "SET", "repl-backlog-size", "16384"]);
    w.down.insert(r1);
    w.kill_links(r1);
    for i in 0..100 {
        w.set(m, &format!("big{i}"), &[b'x'; 2000]);
    }
    w.down.remove(&r1);
    w.advance(8000);
    assert!(w.logged(r1, "MASTER <-> REPLICA sync: Flushing old data"));
    assert!(
        w.logged(r1, "Connection with replica 127.0.0.1:7003 lost."),
        "{}",
        w.dump_logs(r1)
    );
    w.advance(8000);
    assert_eq!(w.datasets[r2], w.datasets[m]);
}

// ---------------------------------------------------------------- repl-diskless-load

/// The messages of Redis-format log lines, numbers masked (`keys loaded: <n>`), from the one
/// containing `from` to the one containing `to`.
fn load_sequence<'a>(lines: impl Iterator<Item = &'a str>, from: &str, to: &str) -> Vec<String> {
    let mask = |m: &str| {
        m.split(' ')
            .map(|w| {
                if w.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    "<n>"
                } else {
                    w
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let msgs: Vec<String> = lines
        .filter_map(|l| l.splitn(7, ' ').nth(6).map(mask))
        .collect();
    let start = msgs.iter().position(|m| m.contains(from)).expect(from);
    let end = msgs[start..].iter().position(|m| m.contains(to)).expect(to);
    msgs[start..=start + end].to_vec()
}

/// A master and a replica (diskless master) whose replica loads with `mode`; the replica was
/// a master first, as in the capture (REPLICAOF synthesises a cached master).
fn diskless_load_world(mode: &str) -> (World, usize, usize) {
    let (mut w, m, r) = master_replica(true);
    let c = w.client(r);
    assert_eq!(
        w.command(r, c, &["CONFIG", "SET", "repl-diskless-load", mode]),
        "+OK\r\n"
    );
    let mc = w.client(m);
    w.command(m, mc, &["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    w.rdb_size = 100_000;
    (w, m, r)
}

#[test]
fn swapdb_loads_from_the_socket_and_swaps_as_the_real_replica_logs() {
    let (mut w, m, r) = diskless_load_world("swapdb");
    w.set(m, "k", b"v");
    w.replicaof(r, m);
    w.advance(3000);
    assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected);
    let ours = load_sequence(
        w.logs[r].iter().map(String::as_str),
        "receiving streamed RDB",
        "Finished with success",
    );
    let real = load_sequence(
        include_str!("../../tests/fixtures/versions/redis-7.0/diskless-load-swapdb/replica.log")
            .lines(),
        "receiving streamed RDB",
        "Finished with success",
    );
    assert_eq!(ours, real);
    assert!(!w.logged(r, "Flushing old data"), "swapdb flushes nothing");
}

#[test]
fn on_empty_db_parses_only_into_an_empty_dataset() {
    let (mut w, m, r) = diskless_load_world("on-empty-db");
    w.replicaof(r, m);
    w.advance(3000);
    let first = load_sequence(
        w.logs[r].iter().map(String::as_str),
        "receiving streamed RDB",
        "Finished with success",
    );
    assert_eq!(
        first,
        [
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser",
            "Discarding previously cached master state.",
            "MASTER <-> REPLICA sync: Flushing old data",
            "MASTER <-> REPLICA sync: Loading DB in memory",
            "Loading RDB produced by version <n>",
            "RDB age <n> seconds",
            "RDB memory usage when created <n> Mb",
            "Done loading RDB, keys loaded: <n> keys expired: <n>",
            "MASTER <-> REPLICA sync: Finished with success",
        ]
    );
    // The load reported keys: the next full sync goes through the disk.
    w.nodes[r].set_key_count(5);
    let c = w.client(m);
    w.command(m, c, &["CONFIG", "SET", "repl-backlog-size", "16384"]);
    w.down.insert(r);
    w.kill_links(r);
    for i in 0..20 {
        w.set(m, &format!("big{i}"), &[b'x'; 2000]);
    }
    w.down.remove(&r);
    w.advance(3000);
    assert_eq!(
        w.count_logged(r, "with EOF to disk"),
        1,
        "{}",
        w.dump_logs(r)
    );
}

#[test]
fn rdb_aux_lines_open_the_load_and_age_the_rdb_from_its_ctime() {
    let (mut w, m, r) = master_replica(false);
    w.load_ms = 5_000;
    w.replicaof(r, m);
    w.advance(1_000);
    assert!(w.nodes[r].is_loading(), "{}", w.dump_logs(r));
    assert!(w.nodes[r].awaits_rdb_header());
    // The loader read the header: an RDB written 10.5 s ago (Redis compares whole seconds).
    let now_s = (InstanceParams::new("x", 1, 1).epoch_ms + w.now) / 1000;
    w.nodes[r].handle(
        w.now,
        Input::RdbLoading {
            aux: RdbAux {
                redis_ver: Some("7.0.15".into()),
                ctime_s: Some(now_s - 10),
                used_mem: Some(12_813_000),
            },
        },
    );
    w.settle();
    assert!(!w.nodes[r].awaits_rdb_header());
    let seq = load_sequence(
        w.logs[r].iter().map(String::as_str),
        "Loading DB in memory",
        "RDB memory usage",
    );
    assert_eq!(
        seq,
        [
            "MASTER <-> REPLICA sync: Loading DB in memory",
            "Loading RDB produced by version <n>",
            "RDB age <n> seconds",
            "RDB memory usage when created <n> Mb",
        ]
    );
    assert!(w.logged(r, "RDB age 10 seconds"));
    assert!(w.logged(r, "RDB memory usage when created 12.22 Mb"));
    assert!(!w.logged(r, "Done loading RDB"), "at the start of the load");
    w.advance(6_000);
    assert_eq!(w.count_logged(r, "Loading RDB produced by version"), 1);
    assert!(w.logged(r, "MASTER <-> REPLICA sync: Finished with success"));
}

#[test]
fn a_swapdb_load_cut_off_mid_transfer_discards_the_temporary_db() {
    let mut r = Raw::new(|c| {
        c.repl_diskless_load = DisklessLoad::Swapdb;
        c.replicaof = Some(("10.0.0.1".into(), 6379));
    });
    r.tick_to(100);
    let conn = r
        .outs
        .iter()
        .find_map(|o| match o {
            Output::Connect { conn, .. } => Some(*conn),
            _ => None,
        })
        .expect("connects");
    r.input(Input::Connected { conn });
    let reply = |r: &mut Raw, s: &str| {
        r.input(Input::Received {
            conn,
            payload: Payload::Bytes(s.as_bytes().to_vec()),
        })
    };
    reply(&mut r, "+PONG\r\n");
    reply(&mut r, "+OK\r\n");
    reply(&mut r, "+OK\r\n");
    let id = "a".repeat(40);
    reply(
        &mut r,
        &format!("+FULLRESYNC {id} 100\r\n$EOF:{}\r\n", "m".repeat(40)),
    );
    r.input(Input::Received {
        conn,
        payload: Payload::Phantom(5000),
    });
    assert!(r.inst.loads_from_socket() && r.inst.is_loading());
    r.input(Input::Closed {
        conn,
        error: "Connection reset by peer".into(),
    });
    let logs = r.logs();
    let tail: Vec<&str> = logs
        .iter()
        .skip_while(|l| !l.contains("Loading DB in memory"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "MASTER <-> REPLICA sync: Loading DB in memory",
            "Failed trying to load the MASTER synchronization DB from socket: Connection reset by peer",
            "Reconnecting to MASTER 10.0.0.1:6379 after failure",
            "MASTER <-> REPLICA sync started",
            "MASTER <-> REPLICA sync: Discarding temporary DB in background",
        ],
        "{logs:?}"
    );
    assert!(!r.inst.is_loading());
}

#[test]
fn min_replicas_to_write_counts_fresh_acks() {
    let (mut w, m, r) = master_replica(false);
    let c = w.client(m);
    w.command(m, c, &["CONFIG", "SET", "min-replicas-to-write", "1"]);
    w.command(m, c, &["CONFIG", "SET", "min-replicas-max-lag", "2"]);
    assert!(!w.nodes[m].min_replicas_ok(), "no replica yet");
    w.replicaof(r, m);
    w.advance(1500);
    assert!(w.nodes[m].min_replicas_ok());
    assert!(w.nodes[m]
        .info_replication(w.now)
        .contains("min_slaves_good_slaves:1\r\n"));
    w.frozen.insert(r);
    w.advance(4000);
    assert!(!w.nodes[m].min_replicas_ok(), "ACKs older than the max lag");
    assert!(w.nodes[m].client_info(ConnId(999)).is_empty());
}

// ---------------------------------------------------------------- replaying real captures

/// One line of a capture log: `  0.002 C->M b'...'` (Python bytes literal; a middle elided as
/// `...<N bytes>...` becomes a phantom of N bytes).
fn parse_capture(text: &str) -> Vec<(u64, String, Vec<Payload>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let mut it = line.splitn(3, ' ');
        let (Some(t), Some(dir), Some(lit)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let t_ms = (t.parse::<f64>().unwrap_or(0.0) * 1000.0).round() as u64;
        let body = lit
            .trim()
            .strip_prefix("b'")
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or("");
        let mut parts = Vec::new();
        let mut cur = Vec::new();
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if body[i..].starts_with("...<") {
                let end = body[i..].find(">...").map(|e| i + e).unwrap_or(b.len());
                let n: u64 = body[i + 4..end]
                    .trim_end_matches(" bytes")
                    .parse()
                    .unwrap_or(0);
                parts.push(Payload::Bytes(std::mem::take(&mut cur)));
                parts.push(Payload::Phantom(n));
                i = end + 4;
                continue;
            }
            if b[i] == b'\\' && i + 1 < b.len() {
                match b[i + 1] {
                    b'r' => cur.push(b'\r'),
                    b'n' => cur.push(b'\n'),
                    b't' => cur.push(b'\t'),
                    b'\\' => cur.push(b'\\'),
                    b'\'' => cur.push(b'\''),
                    b'x' => {
                        let h = u8::from_str_radix(&body[i + 2..i + 4], 16).unwrap_or(0);
                        cur.push(h);
                        i += 2;
                    }
                    o => cur.push(o),
                }
                i += 2;
            } else {
                cur.push(b[i]);
                i += 1;
            }
        }
        parts.push(Payload::Bytes(cur));
        parts.retain(|p| !p.is_empty());
        out.push((t_ms, dir.to_string(), parts));
    }
    out
}

/// Feed the master's side of a capture into our replica and collect what it sends back.
fn replay_as_replica(log: &str, port: u16, master_dir: &str) -> Vec<(u64, String)> {
    let mut p = params("replica", port, 4);
    p.config.replicaof = Some(("127.0.0.1".into(), 7001));
    p.start_ms = 0;
    let mut inst = Instance::new(p);
    let mut sent = Vec::new();
    let mut conn = None;
    let pump = |inst: &mut Instance,
                now: u64,
                conn: &mut Option<ConnId>,
                sent: &mut Vec<(u64, String)>| {
        loop {
            let mut any = false;
            while let Some(o) = inst.poll_output() {
                any = true;
                match o {
                    Output::Connect { conn: c, .. } => {
                        *conn = Some(c);
                        inst.handle(now, Input::Connected { conn: c });
                    }
                    Output::LoadRdb { .. } => inst.handle(
                        now,
                        Input::LoadDone {
                            ok: true,
                            error: String::new(),
                            keys: 1,
                        },
                    ),
                    _ => {}
                }
            }
            if let Some(c) = *conn {
                let got = inst.take_outgoing(now, c, u64::MAX);
                if !got.is_empty() {
                    any = true;
                    sent.push((now, render(&got)));
                }
            }
            if !any {
                break;
            }
        }
    };
    // The replica connects on its first cron (at 0.1 s); the capture's clock starts there.
    let base = 100;
    inst.handle_timeout(base);
    pump(&mut inst, base, &mut conn, &mut sent);
    for (t, dir, parts) in parse_capture(log) {
        let now = base + t;
        inst.handle_timeout(now);
        pump(&mut inst, now, &mut conn, &mut sent);
        if dir == master_dir {
            for p in parts {
                if let Some(c) = conn {
                    inst.handle(
                        now,
                        Input::Received {
                            conn: c,
                            payload: p,
                        },
                    );
                }
                pump(&mut inst, now, &mut conn, &mut sent);
            }
        }
    }
    let end = base + 10_000;
    inst.handle_timeout(end);
    pump(&mut inst, end, &mut conn, &mut sent);
    sent
}

fn ack(off: i64) -> String {
    String::from_utf8_lossy(&crate::wire::encode_command(&[
        "REPLCONF",
        "ACK",
        &off.to_string(),
    ]))
    .into_owned()
}

#[test]
fn replay_real_master_len_mode_capture() {
    let log = include_str!("../../tests/fixtures/real_replica_vs_fake_master_len_mode.log");
    // The capture's master is a fake answering a *real* replica: we replay the master's bytes
    // and expect what the real replica sent.
    let sent = replay_as_replica(log, 7104, "M->R");
    let msgs: Vec<&str> = sent.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(msgs[0], "*1\r\n$4\r\nPING\r\n");
    assert_eq!(
        msgs[1],
        "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7104\r\n*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n",
        "pipelined like the real replica"
    );
    assert_eq!(msgs[2], "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
    // `$len` transfer: the first ACK comes from the cron, not at once.
    let load_t = 100 + 3080;
    let first_ack = sent
        .iter()
        .find(|(_, s)| s.contains("ACK"))
        .expect("an ACK");
    assert_eq!(first_ack.1, ack(1000));
    assert!(first_ack.0 > load_t, "{:?}", first_ack);
    // GETACK answers carry the offset before the GETACK, immediately.
    for (t, off) in [(6048u64, 1070i64), (6952, 1160)] {
        assert!(
            sent.iter().any(|(st, s)| *st == 100 + t && *s == ack(off)),
            "ACK {off} at {t}: {sent:?}"
        );
    }
    assert_eq!(
        sent.last().map(|(_, s)| s.clone()),
        Some(ack(1197)),
        "the periodic ACK includes the GETACKs"
    );
}

#[test]
fn replay_real_master_eof_mode_capture() {
    let log = include_str!("../../tests/fixtures/fullsync_eof_mode.log");
    let sent = replay_as_replica(log, 7199, "M->C");
    let msgs: Vec<&str> = sent.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(msgs[2], "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
    // EOF-marked transfer: ACK 456 right after the load, in the same millisecond.
    assert!(
        sent.iter().any(|(t, s)| *t == 100 + 7 && *s == ack(456)),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|(t, s)| *t == 100 + 2885 && *s == ack(539)),
        "GETACK answer: {sent:?}"
    );
    assert_eq!(
        sent.last().map(|(_, s)| s.clone()),
        Some(ack(623)),
        "after the 14-byte ping"
    );
}

#[test]
fn stalled_diskless_transfer_times_out() {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync_delay = 0;
        c.repl_timeout = 5;
    });
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    r.input(Input::BgsaveData {
        id,
        payload: Payload::Phantom(1 << 20),
    });
    let _ = r.inst.take_outgoing(0, a, 1000); // a partial write
    assert!(
        r.inst.bgsave_backlog_bytes() > 1_000_000,
        "the child should be throttled"
    );
    r.tick_to(5_500);
    assert_eq!(
        r.inst.replica_clients().len(),
        1,
        "5 s is not more than repl-timeout 5"
    );
    r.tick_to(7_000);
    assert!(
        r.logged("Disconnecting timedout replica (full sync): 10.0.0.100:7002"),
        "{:?}",
        r.logs()
    );
    assert!(r.logged("Diskless rdb transfer, last replica dropped, killing fork child."));
}

/// Issue 12: a diskless transfer slower than `repl-timeout` that keeps moving is never cut
/// (Redis restamps `repl_last_partial_write` on every partial write).
#[test]
fn slow_diskless_transfer_that_keeps_moving_is_not_timed_out() {
    let mut r = Raw::new(|c| {
        c.repl_diskless_sync_delay = 0;
        c.repl_timeout = 5;
    });
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    r.input(Input::BgsaveData {
        id,
        payload: Payload::Phantom(32 << 20),
    });
    // 2 MB/s for 16 s: a partial write every 100 ms, the queue never empty.
    for step in 1..=160u64 {
        r.now = step * 100;
        let _ = r.inst.take_outgoing(r.now, a, 200_000);
        r.tick_to(step * 100);
    }
    assert!(
        !r.logged("Disconnecting timedout replica"),
        "{:?}",
        r.logs()
    );
    assert_eq!(r.inst.replica_clients().len(), 1);
    assert!(r.inst.bgsave_backlog_bytes() > 0, "still sending");
}

#[cfg(not(target_arch = "wasm32"))]
mod convergence {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        Writes(u8, u16),
        Kill(u8),
        Freeze(u8, u16),
        Advance(u16),
        Backlog(bool),
        Diskless(bool),
        Model(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (1u8..20, 1u16..3000).prop_map(|(n, sz)| Step::Writes(n, sz)),
            2 => (1u8..3).prop_map(Step::Kill),
            1 => (1u8..3, 100u16..4000).prop_map(|(r, ms)| Step::Freeze(r, ms)),
            3 => (10u16..3000).prop_map(Step::Advance),
            1 => any::<bool>().prop_map(Step::Backlog),
            1 => any::<bool>().prop_map(Step::Diskless),
            1 => any::<bool>().prop_map(Step::Model),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever faults happen, once they stop every replica converges to the master's
        /// dataset and offset (through partial or full resyncs), with no manual help.
        #[test]
        fn replicas_converge_after_any_fault_schedule(steps in proptest::collection::vec(step(), 1..40)) {
            let mut w = World::new();
            w.connect_delay_ms = 50;
            let m = w.add(params("master", 7001, 1));
            let r1 = w.add(params("r1", 7002, 2));
            let r2 = w.add(params("r2", 7003, 3));
            let admin = w.client(m);
            w.command(m, admin, &["CONFIG", "SET", "repl-diskless-sync-delay", "1"]);
            w.replicaof(r1, m);
            w.replicaof(r2, m);
            let mut seq = 0u32;
            for s in steps {
                match s {
                    Step::Writes(n, sz) => {
                        for _ in 0..n {
                            seq += 1;
                            w.set(m, &format!("k{}", seq % 97), &vec![b'a' + (seq % 26) as u8; sz as usize]);
                        }
                    }
                    Step::Kill(r) => w.kill_links(r as usize),
                    Step::Freeze(r, ms) => {
                        w.frozen.insert(r as usize);
                        w.advance(ms as u64);
                        w.frozen.remove(&(r as usize));
                    }
                    Step::Advance(ms) => w.advance(ms as u64),
                    Step::Backlog(big) => {
                        w.command(m, admin, &["CONFIG", "SET", "repl-backlog-size", if big { "10mb" } else { "16384" }]);
                    }
                    Step::Diskless(on) => {
                        w.command(m, admin, &["CONFIG", "SET", "repl-diskless-sync", if on { "yes" } else { "no" }]);
                    }
                    Step::Model(v6) => {
                        // Only allowed without replicas: the error reply is fine too.
                        w.command(m, admin, &["CONFIG", "SET", "replication-model", if v6 { "6" } else { "7" }]);
                    }
                }
            }
            w.advance(20_000);
            for r in [r1, r2] {
                prop_assert_eq!(w.nodes[r].link_status(), LinkStatus::Connected, "{}", w.dump_logs(r));
                prop_assert_eq!(w.nodes[r].reploff(), w.nodes[m].master_repl_offset());
                prop_assert_eq!(&w.datasets[r], &w.datasets[m]);
            }
        }
    }
}

#[test]
fn client_info_field_layout_matches_redis() {
    // The observed 7.0.15 line's field names, in order.
    let observed = "id=24 addr=127.0.0.1:58716 laddr=127.0.0.1:7001 fd=8 name= age=4 idle=4 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=103 omem=2111912 tot-mem=2113712 events=r cmd=psync user=default redir=-1 resp=2";
    let names = |s: &str| {
        s.split(' ')
            .map(|f| f.split('=').next().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let (mut r, a) = stalled_online_replica(|_| {});
    r.tick_to(4200);
    let ours = r.inst.client_info(a);
    assert_eq!(names(&ours), names(observed), "{ours}");
    assert!(
        ours.contains("flags=S") && ours.contains("age=4 idle=4") && ours.contains("cmd=psync"),
        "{ours}"
    );
    let (mut r6, a6) = stalled_online_replica(|c| c.replication_model = BufferModel::V6);
    r6.tick_to(100);
    let ours6 = r6.inst.client_info(a6);
    assert!(
        !ours6.contains("ssub=") && !ours6.contains("resp="),
        "6.2 layout: {ours6}"
    );
}

#[test]
fn keyless_stream_commands_have_redis_sizes() {
    // Offsets count these bytes: PING every repl-ping-replica-period, SELECT before the first
    // write to a db, REPLCONF GETACK for WAIT (captures: 14, 23 and 37 bytes).
    assert_eq!(crate::wire::encode_command(&["ping"]).len(), 14);
    assert_eq!(crate::wire::encode_command(&["SELECT", "0"]).len(), 23);
    assert_eq!(
        crate::wire::encode_command(&["REPLCONF", "GETACK", "*"]).len(),
        37
    );
}

/// `checkChildrenDone` runs in `serverCron` (hz 10): a disk child that has written its RDB is
/// reaped, and its file sent, at the master's next 100 ms cron, not the moment it exits.
#[test]
fn a_disk_child_is_reaped_at_the_next_server_cron() {
    let mut r = Raw::new(|c| c.repl_diskless_sync = false);
    r.tick_to(1);
    let a = r.replica_client(7002, true);
    r.cmd(a, &["PSYNC", "?", "-1"]);
    let (id, _, _) = r.bgsaves()[0].clone();
    assert!(r.take(a).starts_with("+FULLRESYNC"));
    r.now = 150;
    r.inst.handle(
        150,
        Input::BgsaveDone {
            id,
            ok: true,
            rdb: Payload::Phantom(9),
            cow_bytes: 0,
        },
    );
    r.drain();
    assert_eq!(
        r.take(a),
        "",
        "nothing sent before the cron reaps the child"
    );
    assert!(!r.logged("Background saving terminated with success"));
    assert_eq!(r.inst.poll_timeout(), Some(200), "the next serverCron");
    r.tick_to(199);
    assert_eq!(r.take(a), "");
    r.tick_to(200);
    assert!(r.logged("Background saving terminated with success"));
    assert_eq!(r.take(a), "$9\r\n<P:9>");
}
