//! Faults (from the scenario's schedule or given by hand) and parameter changes: what
//! happens to the world when a link is cut, a replica restarts, the master dies, or a
//! setting changes mid-run.

use super::{Ev, RdbFile, Simulation, PORT};
use crate::sim::models::duration_ms;
use crate::sim::scenario::{FaultAction, ScenarioError};
use crate::view::MarkKind;

impl Simulation {
    pub(super) fn on_fault(&mut self, index: usize, at: u64) {
        let Some(f) = self.scenario.faults.get(index).cloned() else {
            return;
        };
        let r = f.replica as usize;
        match f.action {
            FaultAction::CutLink => self.cut_link(r, f.for_ms),
            FaultAction::RestartReplica => self.restart(r, f.graceful),
            FaultAction::KillMaster => self.kill_master(r),
        }
        if let Some(every) = f.every {
            self.schedule(
                at + every,
                Ev::Fault {
                    index,
                    at: at + every,
                },
            );
        }
    }

    /// Cuts replica `replica`'s link (1-based) for `for_ms`: open connections break at once,
    /// new ones fail until the link is back.
    pub fn cut_link(&mut self, replica: usize, for_ms: u64) {
        if replica == 0 || replica >= self.nodes.len() {
            return;
        }
        let until = self.clock.now() + for_ms;
        self.net.cut(replica, until);
        self.rec.count_disconnect(replica, "link_cut");
        let what = crate::sim::units::format_duration_ms(for_ms);
        self.add_mark(
            Some(replica),
            MarkKind::LinkCut,
            format!("link cut for {what} (fault)"),
        );
        for sc in self.net.conns_on_link(replica) {
            self.break_conn(sc, "Connection reset by peer");
        }
        self.net.schedule_restore(&mut self.clock, replica, until);
    }

    /// Restarts replica `replica` (1-based): the process dies now (SIGKILL, nothing saved)
    /// and boots again after `replica.restart-time`, loading whatever RDB file its disk holds.
    pub fn restart_replica(&mut self, replica: usize) {
        self.restart(replica, false);
    }

    /// Restarts replica `replica` (1-based) cleanly: it saves an RDB carrying its replication
    /// ID and offset (what `SHUTDOWN` does with save points), is down for that save plus
    /// `replica.restart-time` plus loading the RDB at boot, then PSYNCs with what it saved.
    pub fn restart_replica_graceful(&mut self, replica: usize) {
        self.restart(replica, true);
    }

    fn restart(&mut self, replica: usize, graceful: bool) {
        if replica == 0 || replica >= self.nodes.len() || replica == self.master {
            return;
        }
        let Some(inst) = self.nodes[replica].inst.as_ref() else {
            return;
        };
        let s = &self.scenario;
        let mut down = s.replica.restart_time;
        if graceful {
            // rdbPopulateSaveInfo: the master link's replid/offset, else the cached master's.
            let repl = if inst.reploff() >= 0 {
                Some((inst.replid().to_string(), inst.reploff()))
            } else {
                inst.cached_master()
            };
            self.nodes[replica].disk_rdb = Some(RdbFile { repl });
            down += duration_ms(s.dataset.size, s.disk.write_speed);
        }
        // At boot `loadDataFromDisk` loads the RDB file, if there is one, before the replica
        // connects; its repl-id and repl-offset become a cached master
        // (`replicationCacheMasterUsingMyself`) so the replica can PSYNC. After a crash that
        // file is the one the last full sync through a temp file left (`repl-diskless-load
        // disabled` renames it to `dbfilename`): the replica asks to continue from where
        // that sync began, and the master's backlog decides.
        let file = self.nodes[replica].disk_rdb.clone();
        if file.is_some() {
            down += duration_ms(s.dataset.size, s.replica.load_speed);
        }
        let restored = file.as_ref().and_then(|f| f.repl.clone());
        let cause = match (graceful, &restored, file.is_some()) {
            (true, Some((id, off)), _) => format!(
                "graceful restart (fault): RDB saved with repl-id {id} and repl-offset {off}, loaded at boot"
            ),
            (true, None, _) => "graceful restart (fault): no replication info to save".to_string(),
            (false, Some((id, off)), _) => format!(
                "replica process crashed and restarted (fault): the RDB of its last sync, repl-id {id} and repl-offset {off}, loaded at boot"
            ),
            (false, None, true) => {
                "replica process crashed and restarted (fault): RDB without replication info loaded at boot".to_string()
            }
            (false, None, false) => {
                "replica process crashed and restarted (fault): no cached master".to_string()
            }
        };
        self.rec.count_disconnect(replica, "replica_restart");
        self.add_mark(Some(replica), MarkKind::ReplicaRestart, cause);
        self.kill_node(replica);
        self.nodes[replica].has_data = file.is_some();
        let at = self.clock.now() + down;
        self.schedule(
            at,
            Ev::RestartDone {
                node: replica,
                restored,
            },
        );
    }

    /// Kills the master and promotes replica `promote` (1-based); the others follow it.
    pub fn kill_master(&mut self, promote: usize) {
        if promote == 0 || promote >= self.nodes.len() || promote == self.master {
            return;
        }
        let old = self.master;
        for k in 1..self.nodes.len() {
            if k != promote && k != old && self.nodes[k].inst.is_some() {
                self.rec.count_disconnect(k, "master_killed");
            }
        }
        self.kill_node(old);
        self.fork = None;
        self.master = promote;
        self.add_mark(
            Some(promote),
            MarkKind::Promotion,
            format!("master killed (fault); replica-{promote} promoted"),
        );
        let now = self.clock.now();
        if let Some(inst) = self.nodes[promote].inst.as_mut() {
            inst.replicaof(now, None);
        }
        self.drain(promote);
        let ip = super::node_ip(promote);
        for k in 1..self.nodes.len() {
            if k == promote {
                continue;
            }
            if let Some(inst) = self.nodes[k].inst.as_mut() {
                inst.replicaof(now, Some((&ip, PORT)));
            }
            self.drain(k);
        }
    }

    /// Changes a scenario field or Redis config from now on. Redis configs go to every live
    /// node through the core's `CONFIG SET` rules; model fields apply from the next tick.
    pub fn set_param(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        let norm = key.trim().strip_prefix("redis.").unwrap_or(key.trim());
        if matches!(norm, "replicas" | "dataset.keys" | "version") {
            return Err(ScenarioError {
                line: None,
                field: Some(norm.to_string()),
                message: "cannot change during a run; start a new simulation".into(),
            });
        }
        let mut s = self.scenario.clone();
        s.set(key, value)?;
        let before = self.scenario.redis_pairs();
        let after = s.redis_pairs();
        self.scenario = s;
        let now = self.clock.now();
        for (name, v) in after.iter() {
            if before.iter().any(|(n, b)| n == name && b == v) {
                continue;
            }
            for k in 0..self.nodes.len() {
                if let Some(inst) = self.nodes[k].inst.as_mut() {
                    inst.handle_timeout(now);
                    if let Err(e) = inst.config_set(name, v) {
                        return Err(ScenarioError {
                            line: None,
                            field: Some(name.clone()),
                            message: e.to_string(),
                        });
                    }
                }
                self.drain(k);
            }
        }
        Ok(())
    }
}
