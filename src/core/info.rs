//! INFO replication, ROLE and the view snapshots (spec 6).

use super::instance::{Instance, ReplState};
use super::payload::Payload;
use super::replica::LinkState;
use super::resp::bulk;
use super::{ConnId, Role};
use crate::view::{BacklogView, BgsaveView, MasterView, ReplicaView};

impl Instance {
    /// `ROLE`.
    pub fn role(&self) -> Role {
        match &self.link.master {
            Some((h, p)) => Role::Replica {
                host: h.clone(),
                port: *p,
                state: self.link.state.role_name().to_string(),
                offset: self.link.mc.as_ref().map_or(-1, |m| m.reploff),
            },
            None => Role::Master {
                offset: self.master_repl_offset,
                replicas: self
                    .replicas
                    .iter()
                    .filter_map(|c| {
                        let cl = self.clients.get(c)?;
                        let r = cl.replica.as_ref()?;
                        if r.state != ReplState::Online {
                            return None; // ROLE lists only online replicas
                        }
                        let ip = self.replica_ip(*c);
                        Some((ip, cl.listening_port.unwrap_or(0), r.ack_off))
                    })
                    .collect(),
            },
        }
    }

    pub(crate) fn cmd_role(&mut self, conn: ConnId) {
        let r = match self.role() {
            Role::Master { offset, replicas } => {
                let mut v = format!(
                    "*3\r\n{}:{}\r\n*{}\r\n",
                    String::from_utf8_lossy(&bulk(b"master")),
                    offset,
                    replicas.len()
                )
                .into_bytes();
                for (ip, port, off) in replicas {
                    v.extend(b"*3\r\n");
                    v.extend(bulk(ip.as_bytes()));
                    v.extend(bulk(port.to_string().as_bytes()));
                    v.extend(bulk(off.to_string().as_bytes()));
                }
                v
            }
            Role::Replica {
                host,
                port,
                state,
                offset,
            } => {
                let mut v = b"*5\r\n".to_vec();
                v.extend(bulk(b"slave"));
                v.extend(bulk(host.as_bytes()));
                v.extend(format!(":{port}\r\n").into_bytes());
                v.extend(bulk(state.as_bytes()));
                v.extend(format!(":{offset}\r\n").into_bytes());
                v
            }
        };
        self.send_direct(conn, Payload::Bytes(r));
    }

    pub(crate) fn cmd_info(&mut self, conn: ConnId, args: &[String]) {
        let section = args
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_else(|| "default".into());
        let mut text = String::new();
        if matches!(
            section.as_str(),
            "replication" | "default" | "all" | "everything"
        ) {
            text.push_str(&self.info_replication(self.now));
        }
        if matches!(section.as_str(), "stats" | "default" | "all" | "everything") {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            text.push_str(&self.info_stats());
        }
        self.send_direct(conn, Payload::Bytes(bulk(text.as_bytes())));
    }

    fn replica_ip(&self, conn: ConnId) -> String {
        let Some(c) = self.clients.get(&conn) else {
            return String::new();
        };
        match &c.announced_ip {
            Some(ip) => ip.clone(),
            None => c
                .peer
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or_else(|| c.peer.clone()),
        }
    }

    /// The `# Stats` fields about replication.
    pub fn info_stats(&self) -> String {
        format!(
            "# Stats\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\n",
            self.stats.sync_full,
            self.stats.sync_partial_ok,
            self.stats.sync_partial_err,
            self.stats.total_net_repl_input_bytes,
            self.stats.total_net_repl_output_bytes
        )
    }

    /// `INFO replication`, exactly as 7.0.15 lays it out (CRLF line ends).
    pub fn info_replication(&self, now: u64) -> String {
        let now = now.max(self.now);
        let ut = (self.epoch_ms + now) / 1000;
        let mut s = String::from("# Replication\r\n");
        let mut line = |l: String| {
            s.push_str(&l);
            s.push_str("\r\n");
        };
        match &self.link.master {
            None => line("role:master".into()),
            Some((h, p)) => {
                line("role:slave".into());
                line(format!("master_host:{h}"));
                line(format!("master_port:{p}"));
                let up = self.link.state == LinkState::Connected;
                line(format!(
                    "master_link_status:{}",
                    if up { "up" } else { "down" }
                ));
                let last_io = match &self.link.mc {
                    Some(m) => ut.saturating_sub(self.unixtime_of(m.last_interaction_ms)) as i64,
                    None => -1,
                };
                line(format!("master_last_io_seconds_ago:{last_io}"));
                let transfer = self.link.state == LinkState::Transfer;
                line(format!("master_sync_in_progress:{}", transfer as u8));
                let (read, applied) = match (&self.link.mc, &self.link.cached) {
                    (Some(m), _) => (m.read_reploff, m.reploff),
                    (None, Some(c)) => (c.reploff, c.reploff),
                    (None, None) => (1, 1),
                };
                line(format!("slave_read_repl_offset:{read}"));
                line(format!("slave_repl_offset:{applied}"));
                if transfer {
                    let (total, readb) = self.sync_bytes();
                    line(format!("master_sync_total_bytes:{total}"));
                    line(format!("master_sync_read_bytes:{readb}"));
                    line(format!("master_sync_left_bytes:{}", total - readb as i64));
                    let perc = if total > 0 {
                        readb as f64 * 100.0 / total as f64
                    } else {
                        0.0
                    };
                    line(format!("master_sync_perc:{perc:.2}"));
                    line(format!(
                        "master_sync_last_io_seconds_ago:{}",
                        ut.saturating_sub(self.unixtime_of(self.link.lastio_ms))
                    ));
                }
                if !up {
                    let down = match self.link.down_since_ms {
                        Some(t) => ut.saturating_sub(self.unixtime_of(t)) as i64,
                        None => -1,
                    };
                    line(format!("master_link_down_since_seconds:{down}"));
                }
                line(format!("slave_priority:{}", self.config.replica_priority));
                line(format!(
                    "slave_read_only:{}",
                    self.config.replica_read_only as u8
                ));
                line(format!(
                    "replica_announced:{}",
                    self.config.replica_announced as u8
                ));
            }
        }
        line(format!("connected_slaves:{}", self.replicas.len()));
        if self.config.min_replicas_to_write > 0 && self.config.min_replicas_max_lag > 0 {
            let good = self
                .replicas
                .iter()
                .filter_map(|c| self.clients.get(c)?.replica.as_ref())
                .filter(|r| {
                    r.state == ReplState::Online
                        && ut.saturating_sub(r.ack_time_s) <= self.config.min_replicas_max_lag
                })
                .count();
            line(format!("min_slaves_good_slaves:{good}"));
        }
        let mut i = 0;
        for c in &self.replicas {
            let Some(cl) = self.clients.get(c) else {
                continue;
            };
            let Some(r) = cl.replica.as_ref() else {
                continue;
            };
            let st = r.state.info_name();
            if st.is_empty() {
                continue;
            }
            let lag = if r.state == ReplState::Online {
                ut.saturating_sub(r.ack_time_s)
            } else {
                0
            };
            line(format!(
                "slave{i}:ip={},port={},state={},offset={},lag={}",
                self.replica_ip(*c),
                cl.listening_port.unwrap_or(0),
                st,
                r.ack_off,
                lag
            ));
            i += 1;
        }
        line("master_failover_state:no-failover".into());
        line(format!("master_replid:{}", self.replid));
        line(format!("master_replid2:{}", self.replid2));
        line(format!("master_repl_offset:{}", self.master_repl_offset));
        line(format!("second_repl_offset:{}", self.second_replid_offset));
        let has = self.store.has_backlog();
        line(format!("repl_backlog_active:{}", has as u8));
        line(format!(
            "repl_backlog_size:{}",
            self.config.repl_backlog_size
        ));
        line(format!(
            "repl_backlog_first_byte_offset:{}",
            self.store.backlog_offset()
        ));
        line(format!("repl_backlog_histlen:{}", self.store.histlen()));
        s
    }

    /// (`master_sync_total_bytes`, `master_sync_read_bytes`) during a transfer.
    fn sync_bytes(&self) -> (i64, u64) {
        if let Some(d) = &self.link.dual {
            return (0, d.bulk.read);
        }
        match &self.link.bulk {
            Some(b) if b.header_seen => (b.size, b.read),
            Some(b) => (-1, b.read),
            None => (
                self.link.transfer_size_for_load as i64,
                self.link.transfer_size_for_load,
            ),
        }
    }

    /// The master picture (backlog ring, BGSAVE lane). `progress`/`cow_bytes` are the
    /// driver's to fill (it runs the child).
    pub fn master_view(&self) -> MasterView {
        MasterView {
            name: self.name.clone(),
            replid: self.replid.clone(),
            replid2: self.replid2.clone(),
            master_repl_offset: self.master_repl_offset,
            second_repl_offset: self.second_replid_offset,
            backlog: self.store.has_backlog().then(|| BacklogView {
                size: self.config.repl_backlog_size,
                first_byte_offset: self.store.backlog_offset(),
                histlen: self.store.histlen(),
            }),
            bgsave: self.child.as_ref().map(|c| BgsaveView {
                target: if c.socket_targets.is_some() {
                    "replicas sockets"
                } else {
                    "disk"
                }
                .to_string(),
                started_ms: c.started_ms,
                progress: 0.0,
                ..Default::default()
            }),
            cow_bytes: 0,
            repl_buffer_bytes: self.store.mem(),
            ..Default::default()
        }
    }

    /// This node seen as a replica (its side of the link). Master-side fields are left
    /// empty: fill them with the master's [`Instance::fill_master_side`].
    pub fn replica_view(&self) -> ReplicaView {
        let (total, read) = if self.link.state == LinkState::Transfer {
            self.sync_bytes()
        } else {
            (0, 0)
        };
        ReplicaView {
            name: self.name.clone(),
            link_state: self.link.state.role_name().to_string(),
            master_side_state: String::new(),
            offset: self.link.mc.as_ref().map_or(-1, |m| m.reploff),
            ack_offset: 0,
            obuf_bytes: 0,
            hard_limit: 0,
            soft_limit: 0,
            soft_seconds: 0,
            soft_limit_since_ms: None,
            sync_left_bytes: if self.link.state == LinkState::Transfer && !self.link.loading {
                total - read as i64
            } else {
                0
            },
            load_left_bytes: if self.link.loading {
                self.link.transfer_size_for_load
            } else {
                0
            },
            local_buffer_bytes: self.link.dual.as_ref().map_or(0, |d| d.local_bytes),
            sync_received_bytes: read,
            sync_total_bytes: total.max(0) as u64,
            ..Default::default()
        }
    }

    /// Fill the master-side fields of `v` from this master's client `conn`.
    pub fn fill_master_side(&self, conn: ConnId, v: &mut ReplicaView) {
        let lim = self.config.effective_replica_limit();
        v.hard_limit = lim.hard;
        v.soft_limit = lim.soft;
        v.soft_seconds = lim.soft_seconds;
        let Some(c) = self.clients.get(&conn) else {
            v.master_side_state = String::new();
            return;
        };
        if let Some(r) = c.replica.as_ref() {
            v.master_side_state = r.state.info_name().to_string();
            v.ack_offset = r.ack_off;
            v.obuf_bytes = self.store.used(conn);
            v.soft_limit_since_ms = r.soft_since_ms;
        }
    }

    /// Link state as ROLE names it (`none`, `connect`, ..., `connected`).
    pub fn link_state(&self) -> &'static str {
        self.link.state.role_name()
    }

    /// The replica's applied offset (`slave_repl_offset`), -1 without a master client.
    pub fn reploff(&self) -> i64 {
        self.link.mc.as_ref().map_or(-1, |m| m.reploff)
    }

    /// The connection to our master, if any.
    pub fn master_conn(&self) -> Option<ConnId> {
        self.link.conn
    }

    /// Whether a replica is loading an RDB right now.
    pub fn is_loading(&self) -> bool {
        self.link.loading
    }

    /// `(replid, reploff)` of the cached master, if this replica has one.
    pub fn cached_master(&self) -> Option<(String, i64)> {
        self.link
            .cached
            .as_ref()
            .map(|c| (c.replid.clone(), c.reploff))
    }

    /// Bytes buffered locally during a dual-channel sync.
    pub fn dual_local_buffer_bytes(&self) -> u64 {
        self.link.dual.as_ref().map_or(0, |d| d.local_bytes)
    }
}
