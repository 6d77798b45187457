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
