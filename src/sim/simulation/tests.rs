//! Behaviour of the world as a whole: settings reach the nodes, fork freezes the parent,
//! time runs as asked, faults act at once.

use super::*;
use crate::core::Config;

#[test]
fn the_core_accepts_every_redis_setting_we_pass() {
    let mut s = Scenario::default();
    for (k, v) in [
        ("repl-diskless-load", "swapdb"),
        ("save", ""),
        ("replication-model", "6"),
        ("client-output-buffer-limit", "1gb 512mb 120"),
        ("dual-channel-replication-enabled", "yes"),
    ] {
        s.set(k, v).unwrap();
    }
    for scenario in [Scenario::default(), s] {
        let mut c = Config::default();
        for (name, v) in scenario.redis_pairs() {
            c.load_pair(&name, &v)
                .unwrap_or_else(|e| panic!("{name} {v}: {e}"));
            assert!(c.get(&name).is_some(), "{name}");
        }
        assert_eq!(c.repl_backlog_size, scenario.redis.repl_backlog_size);
        assert_eq!(
            c.client_output_buffer_limit_replica.hard,
            scenario.redis.client_output_buffer_limit.hard
        );
    }
}

#[test]
fn set_param_reaches_the_running_nodes() {
    let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(5_000);
    sim.set_param("repl-backlog-size", "8mb").unwrap();
    assert!(sim
        .info_replication(0)
        .contains("repl_backlog_size:8388608"));
    assert!(sim.set_param("replicas", "3").is_err());
    assert!(sim.set_param("repl-backlog-size", "lots").is_err());
    sim.set_param("workload.rate", "0").unwrap();
    sim.run_until(10_000);
    let a = sim.frame().master.master_repl_offset;
    sim.run_until(11_000);
    // No writes; only the PINGs of repl-ping-replica-period move the offset now.
    assert!(sim.frame().master.master_repl_offset - a <= 14);
}

#[test]
fn fork_freezes_the_master_for_its_duration() {
    let mut s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    s.set("dataset.size", "64gb").unwrap();
    s.set("fork.time-per-gb", "20ms").unwrap(); // 1.28 s pause
    s.set("workload.rate", "10k").unwrap();
    let mut sim = Simulation::new(&s, 1);
    let mut t = 0;
    while !sim.log().iter().any(|l| l.line.contains("Starting BGSAVE")) {
        t += 10;
        sim.run_until(t);
    }
    let t0 = sim
        .log()
        .iter()
        .find(|l| l.line.contains("Starting BGSAVE"))
        .unwrap()
        .t_ms;
    let off0 = sim.frame().master.master_repl_offset;
    sim.run_until(t0 + 1_200);
    assert_eq!(
        sim.frame().master.master_repl_offset,
        off0,
        "no write lands while forking"
    );
    assert!(
        !sim.log().iter().any(|l| l.t_ms > t0 && l.node == "master"),
        "the parent logs nothing while frozen"
    );
    sim.run_until(t0 + 1_400);
    // The writes that waited are applied when fork() returns.
    assert!(sim.frame().master.master_repl_offset > off0 + 1_000_000);
}

#[test]
fn run_until_processes_up_to_t_and_stops_there() {
    let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    let mut sim = Simulation::new(&s, 1);
    assert_eq!(sim.next_event_ms(), Some(0));
    sim.run_until(1_234);
    assert_eq!(sim.now_ms(), 1_234);
    let next = sim.next_event_ms().unwrap();
    assert!(next > 1_234, "everything at or before t ran");
    // Stepping event by event reaches the same state as one long run.
    let mut stepped = Simulation::new(&s, 1);
    while stepped.now_ms() < 5_000 {
        let t = stepped.next_event_ms().unwrap().min(5_000);
        stepped.run_until(t.max(stepped.now_ms() + 1).min(5_000));
    }
    sim.run_until(5_000);
    assert_eq!(stepped.trace_hash(), sim.trace_hash());
    // Going "back" is a no-op.
    sim.run_until(10);
    assert_eq!(sim.now_ms(), 5_000);
}

#[test]
fn manual_faults_act_at_once() {
    let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(10_000);
    assert_eq!(sim.frame().replicas[0].link_state, "connected");
    sim.cut_link(1, 3_000);
    sim.run_until(10_500);
    assert_ne!(sim.frame().replicas[0].link_state, "connected");
    sim.run_until(20_000);
    assert_eq!(sim.frame().replicas[0].link_state, "connected");
    assert_eq!(sim.summary().replicas[0].partial_syncs_accepted, 1);
    sim.restart_replica(1);
    sim.run_until(20_100);
    assert_eq!(sim.frame().replicas[0].link_state, "none");
    sim.run_until(40_000);
    assert_eq!(sim.summary().replicas[0].full_syncs, 2);
    assert_eq!(sim.summary().replicas[0].disconnects["replica_restart"], 1);
}

#[test]
fn kill_master_promotes_a_replica_and_the_others_follow() {
    let mut s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    s.set("replicas", "3").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(15_000);
    sim.kill_master(2);
    sim.run_until(40_000);
    assert!(sim.info_replication(2).contains("role:master"));
    for k in [1, 3] {
        let info = sim.info_replication(k);
        assert!(info.contains("master_host:10.0.0.3"), "{info}");
        assert!(info.contains("master_link_status:up"), "{info}");
    }
    // The followers continue the old history through replid2: partial resyncs.
    assert!(sim.marks().iter().any(|m| m.kind == MarkKind::Promotion));
    let sum = sim.summary();
    assert_eq!(sum.replicas[0].disconnects["master_killed"], 1);
}

/// A replica blocked loading its RDB does not read its socket, but its kernel and the
/// master's keep taking the stream (net::RECV_BUFFER, net::SEND_BUFFER): the master's output
/// buffer grows only by what does not fit there, as real Redis's `omem` does.
#[test]
fn a_loading_replica_s_socket_buffers_take_the_stream_first() {
    let mut s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    s.set("replica.load-speed", "8mb").unwrap(); // 64 MB: an 8 s load
    s.set("workload.rate", "5k").unwrap(); // ~0.65 MB/s of stream
    s.set("workload.jitter", "0").unwrap();
    let mut sim = Simulation::new(&s, 1);
    let mut t = 0;
    while sim.frame().replicas[0].load_left_bytes == 0 {
        t += 10;
        sim.run_until(t);
        assert!(t < 30_000, "the load never started");
    }
    // What the replica has not read when it stops reading: the master's output buffer and
    // what is on the wire; from then on it reads nothing until the load ends.
    let f = sim.frame();
    let unread0 = f.replicas[0].obuf_bytes + f.replicas[0].link.stream_in_flight;
    let off0 = f.master.master_repl_offset;
    let kernel = net::SEND_BUFFER + net::RECV_BUFFER;
    let mut filled = false;
    while sim.frame().replicas[0].load_left_bytes > 0 {
        t = sim.now_ms() + 100;
        sim.run_until(t);
        let f = sim.frame();
        if f.replicas[0].load_left_bytes == 0 {
            break;
        }
        let unread = unread0 + (f.master.master_repl_offset - off0) as u64;
        let obuf = f.replicas[0].obuf_bytes;
        let expected = unread.saturating_sub(kernel);
        // One 16 KB block (the master counts whole blocks), and one 50 ms tick of writes
        // (~33 KB) not pumped yet.
        let slack = 16 * 1024 + 40_000;
        assert!(
            obuf + slack >= expected && obuf <= expected + slack,
            "at {t} ms: {unread} bytes not read by the replica, output buffer {obuf} (expected ~{expected})"
        );
        filled |= unread > kernel + 1_000_000;
    }
    assert!(filled, "the load ended before the kernel buffers were full");
    // Nothing is lost: the replica catches up once it reads again.
    sim.run_until(sim.now_ms() + 5_000);
    assert!(sim.summary().replicas[0].in_sync_at_end);
}
