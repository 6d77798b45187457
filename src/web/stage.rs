//! The stage: the system drawn as a picture (the master with its writes, backlog and shared
//! buffer; the fork child; the master's disk with the RDB file; one link, output buffer and
//! replica per replica), computed from a [`Frame`] as plain data.
//!
//! Pure and target-independent, so the browser tests compute the same states natively from a
//! native run and compare them with what the page draws. Every part has a stable id
//! ([`Stage::parts`]) that the SVG carries as `data-part`, with its state as `data-state`: a
//! caption, a lesson or a test can point at "tank-1" or "link-2" by name.
//!
//! A frame from a live server lacks what only the simulator knows (link rates, load progress):
//! those parts then draw in their plain form rather than not at all.

use super::format::{coverage, Coverage};
use crate::view::{BacklogView, Frame, MasterView, RdbFileView, ReplicaView};

/// What a replica is doing, as the stage labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// The process is not running (crashed, restarting).
    Down,
    /// Trying to open its connection to the master.
    Connecting,
    /// PING, AUTH, REPLCONF, then PSYNC.
    Handshake,
    /// A full sync was granted; the RDB is not flowing yet (fork, BGSAVE to disk, diskless delay).
    WaitingBgsave,
    /// RDB bytes arrive (into a temp file, or parsed from the socket).
    Receiving,
    /// Loading the received RDB; the link is not read meanwhile.
    Loading,
    /// Streaming: every write reaches it.
    Online,
    /// Promoted (`REPLICAOF NO ONE`): it is the master now.
    Promoted,
}

impl ReplicaState {
    /// The `data-state` value.
    pub fn id(self) -> &'static str {
        match self {
            ReplicaState::Down => "down",
            ReplicaState::Connecting => "connecting",
            ReplicaState::Handshake => "handshake",
            ReplicaState::WaitingBgsave => "waiting-bgsave",
            ReplicaState::Receiving => "receiving",
            ReplicaState::Loading => "loading",
            ReplicaState::Online => "online",
            ReplicaState::Promoted => "promoted",
        }
    }

    /// The words on the replica's box (English; `i18n::tr` translates).
    pub fn label(self) -> &'static str {
        match self {
            ReplicaState::Down => "down",
            ReplicaState::Connecting => "connecting",
            ReplicaState::Handshake => "handshake",
            ReplicaState::WaitingBgsave => "waiting for BGSAVE",
            ReplicaState::Receiving => "receiving the RDB",
            ReplicaState::Loading => "loading the RDB",
            ReplicaState::Online => "online",
            ReplicaState::Promoted => "now the master",
        }
    }
}

/// Where the RDB moving on a link comes from: the three full-sync paths look different.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RdbPath {
    /// No RDB on this link now.
    None,
    /// Disk sync: the master reads the file it wrote (`send_bulk`).
    Disk,
    /// Diskless sync: the fork child writes straight into the replica's socket.
    Fork,
    /// Dual channel: the fork child writes into a second connection; the main one streams.
    Channel,
}

/// How full an output buffer is against `client-output-buffer-limit replica`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Empty,
    Ok,
    OverSoft,
    OverHard,
}

impl Level {
    pub fn id(self) -> &'static str {
        match self {
            Level::Empty => "empty",
            Level::Ok => "ok",
            Level::OverSoft => "over-soft",
            Level::OverHard => "over-hard",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub t_ms: u64,
    pub master: MasterPart,
    /// The fork child, while a BGSAVE runs.
    pub fork: Option<ForkPart>,
    /// The master's disk: drawn when syncs go through it (`repl-diskless-sync no`) or a file
    /// is on it.
    pub disk: Option<DiskPart>,
    pub replicas: Vec<ReplicaPart>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MasterPart {
    pub name: String,
    /// Inside `fork()`: handles nothing, writes wait.
    pub frozen: bool,
    pub dataset: u64,
    pub writes_per_sec: f64,
    pub write_bytes_per_sec: u64,
    pub offset: i64,
    /// The shared replication buffer (backlog plus what lagging replicas pin).
    pub repl_buffer: u64,
    pub backlog: Option<BacklogView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForkPart {
    /// Writing a file (disk sync) rather than replica sockets.
    pub to_disk: bool,
    /// Still inside `fork()`: the child has not started.
    pub forking: bool,
    pub written: u64,
    /// RDB size when known (0 = unknown).
    pub total: u64,
    pub progress: f64,
    pub cow: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DiskPart {
    pub file: Option<RdbFileView>,
    /// RDB bytes still to read out to replicas in `send_bulk` (the file "drains").
    pub sending_left: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaPart {
    /// 0-based, as the simulator's replicas are listed.
    pub index: usize,
    pub name: String,
    pub state: ReplicaState,
    /// Its replication offset, if it has one (its own, or its cached master's while down).
    pub offset: Option<i64>,
    pub offset_cached: bool,
    /// Bytes behind the master, when both offsets are known.
    pub behind: Option<u64>,
    /// The RDB goes into a temp file (`Some(true)`), or is parsed from the socket.
    pub rdb_to_disk: Option<bool>,
    /// RDB bytes received, of the total when known.
    pub received: u64,
    pub receive_total: u64,
    /// RDB bytes loaded, of the total.
    pub loaded: u64,
    pub load_total: u64,
    /// Dual channel: writes the replica buffers itself until its load is done.
    pub local_buffer: u64,
    pub tank: TankPart,
    pub link: LinkPart,
}

/// The master's output buffer for one replica.
#[derive(Clone, Debug, PartialEq)]
pub struct TankPart {
    pub bytes: u64,
    pub soft: u64,
    pub hard: u64,
    pub soft_seconds: u64,
    /// The soft-limit timer started then (the buffer has been over soft since).
    pub soft_since_ms: Option<u64>,
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkPart {
    pub cut_until_ms: Option<u64>,
    pub bandwidth: u64,
    pub latency_ms: u64,
    pub rdb_rate: u64,
    pub stream_rate: u64,
    pub rdb_in_flight: u64,
    pub stream_in_flight: u64,
    pub rdb_path: RdbPath,
    /// A dual-channel RDB connection exists beside the main one.
    pub rdb_channel: bool,
}

impl LinkPart {
    /// The `data-state` value: "cut", "rdb" (RDB bytes moving), "stream" or "idle".
    pub fn state(&self) -> &'static str {
        if self.cut_until_ms.is_some() {
            "cut"
        } else if self.rdb_rate > 0 || self.rdb_in_flight > 0 {
            "rdb"
        } else if self.stream_rate > 0 || self.stream_in_flight > 0 {
            "stream"
        } else {
            "idle"
        }
    }
}

impl Stage {
    pub fn from_frame(f: &Frame) -> Stage {
        let m = &f.master;
        let frozen = m.frozen_until_ms.is_some_and(|t| t > f.t_ms);
        let fork = m.bgsave.as_ref().map(|b| ForkPart {
            to_disk: b.target == "disk",
            forking: frozen,
            written: b.written_bytes,
            total: b.total_bytes,
            progress: b.progress.clamp(0.0, 1.0),
            cow: m.cow_bytes,
        });
        let replicas: Vec<ReplicaPart> = f
            .replicas
            .iter()
            .enumerate()
            .map(|(i, r)| replica_part(i, r, m))
            .collect();
        let disk_sync = m.sync_target == "disk" || fork.as_ref().is_some_and(|f| f.to_disk);
        let disk = (disk_sync || m.rdb_file.is_some()).then(|| DiskPart {
            file: m.rdb_file.clone(),
            sending_left: f
                .replicas
                .iter()
                .map(|r| r.rdb_send_left_bytes)
                .max()
                .unwrap_or(0),
        });
        Stage {
            t_ms: f.t_ms,
            master: MasterPart {
                name: if m.name.is_empty() {
                    "master".into()
                } else {
                    m.name.clone()
                },
                frozen,
                dataset: m.dataset_bytes,
                writes_per_sec: m.write_ops_per_sec,
                write_bytes_per_sec: m.write_bytes_per_sec,
                offset: m.master_repl_offset,
                repl_buffer: m.repl_buffer_bytes,
                backlog: m.backlog.clone(),
            },
            fork,
            disk,
            replicas,
        }
    }

    /// Every part's id and state, in drawing order: what the SVG carries as `data-part` and
    /// `data-state`.
    pub fn parts(&self) -> Vec<(String, String)> {
        let flowing = self.master.write_bytes_per_sec > 0 && !self.master.frozen;
        let mut v = vec![
            (
                "writes".to_string(),
                if flowing { "flowing" } else { "waiting" }.to_string(),
            ),
            (
                "master".to_string(),
                if self.master.frozen {
                    "forking"
                } else {
                    "serving"
                }
                .to_string(),
            ),
        ];
        v.push(("backlog".to_string(), self.backlog_state().to_string()));
        if let Some(f) = &self.fork {
            let s = match (f.forking, f.to_disk) {
                (true, _) => "forking",
                (false, true) => "writing-disk",
                (false, false) => "writing-sockets",
            };
            v.push(("fork".into(), s.into()));
        }
        if let Some(d) = &self.disk {
            let s = match &d.file {
                Some(f) if f.writing => "writing",
                Some(_) if d.sending_left > 0 => "sending",
                Some(_) => "stored",
                None => "idle",
            };
            v.push(("disk".into(), s.into()));
        }
        for r in &self.replicas {
            let n = r.index + 1;
            v.push((format!("tank-{n}"), r.tank.level.id().into()));
            v.push((format!("link-{n}"), r.link.state().into()));
            v.push((format!("replica-{n}"), r.state.id().into()));
        }
        v
    }

    /// The backlog's `data-state`: "none" (no backlog), "empty" (no replica has an offset to
    /// resume from), "inside" (every replica's offset is still in the window: a PSYNC now
    /// would continue) or "outside" (some replica's is not: it would need a full sync).
    pub fn backlog_state(&self) -> &'static str {
        let Some(b) = self.master.backlog.as_ref().filter(|b| b.size > 0) else {
            return "none";
        };
        let mut any = false;
        for r in &self.replicas {
            if let Some(o) = r.offset.filter(|_| r.state != ReplicaState::Promoted) {
                any = true;
                if coverage(o, Some(b.first_byte_offset), self.master.offset) != Coverage::Inside {
                    return "outside";
                }
            }
        }
        if any {
            "inside"
        } else {
            "empty"
        }
    }
}

/// The states a part can show, by part id (`tank-2` has a tank's), or `None` for no such part.
pub fn states_of(part: &str) -> Option<&'static [&'static str]> {
    let numbered = |prefix: &str| {
        part.strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=8).contains(&n))
    };
    Some(match part {
        "writes" => &["flowing", "waiting"],
        "master" => &["serving", "forking"],
        "backlog" => &["none", "empty", "inside", "outside"],
        "fork" => &["forking", "writing-disk", "writing-sockets"],
        "disk" => &["writing", "sending", "stored", "idle"],
        _ if numbered("tank-") => &["empty", "ok", "over-soft", "over-hard"],
        _ if numbered("link-") => &["cut", "rdb", "stream", "idle"],
        _ if numbered("replica-") => &[
            "down",
            "connecting",
            "handshake",
            "waiting-bgsave",
            "receiving",
            "loading",
            "online",
            "promoted",
        ],
        _ => return None,
    })
}

fn replica_part(index: usize, r: &ReplicaView, m: &MasterView) -> ReplicaPart {
    let rdb_channel = !r.rdb_channel_state.is_empty();
    let rdb_moving = r.link.rdb_rate > 0 || r.link.rdb_in_flight > 0;
    // After a failover the promoted replica is the frame's master.
    let state = if !m.name.is_empty() && r.name == m.name {
        ReplicaState::Promoted
    } else {
        replica_state(r, rdb_moving)
    };
    let rdb_path = if !rdb_moving {
        RdbPath::None
    } else if rdb_channel {
        RdbPath::Channel
    } else if r.master_side_state == "send_bulk" || m.sync_target == "disk" {
        // A disk sync's file may still be on the wire after the master has sent its last byte.
        RdbPath::Disk
    } else {
        RdbPath::Fork
    };
    let offset = (r.offset >= 0).then_some(r.offset).or_else(|| {
        // A live server's master only knows what the replica ACKed.
        (r.link_state.is_empty() && r.ack_offset > 0).then_some(r.ack_offset)
    });
    let behind = match (state, offset) {
        (ReplicaState::Online, Some(o)) => {
            Some(m.master_repl_offset.saturating_sub(o).max(0) as u64)
        }
        _ => None,
    };
    let level = if r.hard_limit > 0 && r.obuf_bytes >= r.hard_limit {
        Level::OverHard
    } else if r.soft_limit > 0 && r.obuf_bytes >= r.soft_limit {
        Level::OverSoft
    } else if r.obuf_bytes > 0 {
        Level::Ok
    } else {
        Level::Empty
    };
    // An EOF-marked (diskless) RDB announces no size: the master's dataset is the best guess.
    let receive_total = if r.sync_total_bytes > 0 {
        r.sync_total_bytes
    } else {
        m.bgsave
            .as_ref()
            .map(|b| b.total_bytes)
            .filter(|t| *t > 0)
            .unwrap_or(m.dataset_bytes)
    };
    ReplicaPart {
        index,
        name: r.name.clone(),
        state,
        offset,
        offset_cached: r.offset_cached,
        behind,
        rdb_to_disk: match r.rdb_to.as_str() {
            "disk" => Some(true),
            "socket" => Some(false),
            _ => None,
        },
        received: r.sync_received_bytes,
        receive_total,
        loaded: r.load_total_bytes.saturating_sub(r.load_left_bytes),
        load_total: r.load_total_bytes,
        local_buffer: r.local_buffer_bytes,
        tank: TankPart {
            bytes: r.obuf_bytes,
            soft: r.soft_limit,
            hard: r.hard_limit,
            soft_seconds: r.soft_seconds,
            soft_since_ms: r.soft_limit_since_ms,
            level,
        },
        link: LinkPart {
            cut_until_ms: r.link.cut_until_ms,
            bandwidth: r.link.bandwidth,
            latency_ms: r.link.latency_ms,
            rdb_rate: r.link.rdb_rate,
            stream_rate: r.link.stream_rate,
            rdb_in_flight: r.link.rdb_in_flight,
            stream_in_flight: r.link.stream_in_flight,
            rdb_path,
            rdb_channel,
        },
    }
}

/// The replica's state from both sides of its link: the replica's ROLE state, and the
/// master's INFO state for it (a live feed knows only the latter).
fn replica_state(r: &ReplicaView, rdb_moving: bool) -> ReplicaState {
    let master_side = r.master_side_state.as_str();
    if r.load_left_bytes > 0 {
        return ReplicaState::Loading;
    }
    match r.link_state.as_str() {
        "connected" => ReplicaState::Online,
        "connect" | "connecting" => ReplicaState::Connecting,
        "handshake" if master_side == "wait_bgsave" => ReplicaState::WaitingBgsave,
        "handshake" => ReplicaState::Handshake,
        "sync" => {
            if master_side == "send_bulk" || rdb_moving || r.sync_received_bytes > 0 {
                ReplicaState::Receiving
            } else {
                ReplicaState::WaitingBgsave
            }
        }
        "none" => ReplicaState::Down,
        // A live feed: only the master's side is known.
        _ => match master_side {
            "wait_bgsave" => ReplicaState::WaitingBgsave,
            "send_bulk" => ReplicaState::Receiving,
            "online" => ReplicaState::Online,
            _ => ReplicaState::Connecting,
        },
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::{Scenario, Simulation};

    fn stage_at(preset: &str, t: u64) -> Stage {
        let s = Scenario::preset(preset).expect("preset");
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(t);
        Stage::from_frame(&sim.frame())
    }

    fn state(stage: &Stage, part: &str) -> Option<String> {
        stage
            .parts()
            .into_iter()
            .find(|(p, _)| p == part)
            .map(|(_, s)| s)
    }

    #[test]
    fn disk_sync_writes_a_file_then_sends_it_while_the_buffer_fills() {
        // disk-sync-loop: the link is cut at 80 s; the second full sync forks at ~86 s.
        let st = stage_at("disk-sync-loop", 100_000);
        assert_eq!(state(&st, "fork").as_deref(), Some("writing-disk"));
        assert_eq!(state(&st, "disk").as_deref(), Some("writing"));
        assert_eq!(state(&st, "replica-1").as_deref(), Some("waiting-bgsave"));
        assert_eq!(state(&st, "link-1").as_deref(), Some("idle"));
        assert_eq!(state(&st, "tank-1").as_deref(), Some("over-soft"));
        let st = stage_at("disk-sync-loop", 120_000);
        assert!(st.fork.is_none());
        assert_eq!(state(&st, "disk").as_deref(), Some("sending"));
        assert_eq!(state(&st, "replica-1").as_deref(), Some("receiving"));
        let r = &st.replicas[0];
        assert_eq!(r.link.rdb_path, RdbPath::Disk);
        assert_eq!(r.rdb_to_disk, Some(true));
        assert!(r.received > 0 && r.received < r.receive_total);
        // Through the loop the replica keeps its old offset (its cached master's).
        assert!(r.offset_cached && r.offset.is_some());
    }

    #[test]
    fn diskless_sync_streams_from_the_fork_child() {
        let st = stage_at("diskless-fix", 100_000);
        assert_eq!(state(&st, "fork").as_deref(), Some("writing-sockets"));
        assert_eq!(state(&st, "replica-1").as_deref(), Some("receiving"));
        assert_eq!(st.replicas[0].link.rdb_path, RdbPath::Fork);
        assert!(st.disk.is_none(), "diskless: the disk is not on the path");
        let st = stage_at("diskless-fix", 200_000);
        assert_eq!(state(&st, "replica-1").as_deref(), Some("online"));
        assert_eq!(state(&st, "link-1").as_deref(), Some("stream"));
        assert!(st.replicas[0].behind.is_some());
    }

    #[test]
    fn dual_channel_sends_the_rdb_on_its_own_connection() {
        let st = stage_at("dual-channel-fix", 100_000);
        let r = &st.replicas[0];
        assert!(r.link.rdb_channel);
        assert_eq!(r.link.rdb_path, RdbPath::Channel);
        assert!(
            r.tank.bytes < r.local_buffer / 10,
            "the replica buffers the stream itself, not the master: {} vs {}",
            r.tank.bytes,
            r.local_buffer
        );
    }

    #[test]
    fn a_cut_link_is_drawn_cut_and_the_replica_keeps_its_offset() {
        let st = stage_at("backlog-sized", 35_000);
        assert_eq!(state(&st, "link-1").as_deref(), Some("cut"));
        assert_eq!(state(&st, "replica-1").as_deref(), Some("connecting"));
        assert!(st.replicas[0].offset_cached);
        assert!(st.replicas[0].offset.is_some_and(|o| o > 0));
    }

    #[test]
    fn a_live_frame_without_the_stage_fields_still_draws() {
        let f: Frame = serde_json::from_str(
            r#"{"t_ms":5,"master":{"name":"m","replid":"a","replid2":"0","master_repl_offset":900,
            "second_repl_offset":-1,"backlog":null,"bgsave":null,"cow_bytes":0,"repl_buffer_bytes":0},
            "replicas":[{"name":"127.0.0.1:7002","link_state":"","master_side_state":"online","offset":800,
            "ack_offset":800,"obuf_bytes":0,"hard_limit":10,"soft_limit":5,"soft_seconds":60,
            "soft_limit_since_ms":null,"sync_left_bytes":0,"load_left_bytes":0,"local_buffer_bytes":0}]}"#,
        )
        .expect("an old-style frame parses");
        let st = Stage::from_frame(&f);
        assert_eq!(st.replicas[0].state, ReplicaState::Online);
        assert_eq!(st.replicas[0].behind, Some(100));
        assert_eq!(st.replicas[0].link.state(), "idle");
        assert!(st.disk.is_none() && st.fork.is_none());
    }
}
