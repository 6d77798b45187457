//! Sync events read from the real servers' log lines, in the wording of the version staged
//! ([`Wording`], the simulator's own source of those words). The simulator's side comes from
//! the steps it records from the same words ([`crate::sim::summary::Step`]), so the two
//! sequences are comparable item by item.
//!
//! The master's lines these read are worded alike in Redis 6.2, 7.0, 8.2 and Valkey 8.1, 9.1
//! (`tests/fixtures/versions/log-catalogue.md`); the replica's name the master `PRIMARY` on
//! Valkey. A full sync over a second connection reads as one sync, as the simulator counts it
//! (only the main link's decision): Redis 8.2's RDB channel asks for its own full resync,
//! logged `... (rdb-channel)`, which is left out; Valkey's dual channel logs none for its RDB
//! channel, and its main channel's PSYNC at the RDB's end offset is the `partial` that follows.

use crate::core::version::Wording;
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened to a replica, as its master (or, for `LoadDone`, the replica) logged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The master starts a full sync ("Full resync requested by replica", or a PSYNC refused:
    /// "Unable to partial resync ... for lack of backlog", "Partial resynchronization not
    /// accepted").
    FullSync,
    /// "Partial resynchronization request from ... accepted".
    PartialSync,
    /// "Synchronization with replica ... succeeded" (the master puts it online).
    Online,
    /// The replica's "MASTER <-> REPLICA sync: Finished with success" (load done).
    LoadDone,
    /// "... scheduled to be closed ASAP for overcoming of output buffer limits."
    ObufCut,
    /// "Disconnecting timedout replica".
    Timeout,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::FullSync => "full",
            EventKind::PartialSync => "partial",
            EventKind::Online => "online",
            EventKind::LoadDone => "loaded",
            EventKind::ObufCut => "obuf-cut",
            EventKind::Timeout => "timeout",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncEvent {
    /// Milliseconds since the start of the run.
    pub t_ms: u64,
    /// 0-based replica index.
    pub replica: usize,
    pub kind: EventKind,
    /// A PSYNC that was refused before this full sync.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub psync_refused: bool,
}

/// How to tell replicas apart in log lines.
pub struct Naming {
    /// `ip:port` as the master names a replica -> replica index.
    pub replica_addrs: BTreeMap<String, usize>,
    /// Log node name (file name or the simulator's node) of each replica -> index.
    pub replica_nodes: BTreeMap<String, usize>,
    /// Client `addr=` ports (the proxy's connections to the master) -> replica index.
    pub client_ports: BTreeMap<u16, usize>,
    pub replicas: usize,
}

/// Reads events from `(t_ms, node, message)` lines in time order, worded as `wording` says.
/// `node` is "master" or a replica's node name.
pub fn parse_events(
    lines: &[(u64, String, String)],
    naming: &Naming,
    wording: &Wording,
) -> Vec<SyncEvent> {
    let loaded = wording.sync(": Finished with success");
    let mut out = Vec::new();
    let mut asking: Option<usize> = None;
    // An output-buffer close whose replica is named by the next "Connection with replica".
    let mut pending_obuf: Option<u64> = None;
    let by_addr = |msg: &str| -> Option<usize> {
        naming
            .replica_addrs
            .iter()
            .find(|(a, _)| {
                // "Replica <addr> asks for synchronization", "... with replica <addr> ...".
                msg.contains(&format!("eplica {a} "))
                    || msg.ends_with(&format!("eplica {a}"))
                    || msg.contains(&format!("from {a} "))
                    || msg.ends_with(&format!(": {a}"))
            })
            .map(|(_, i)| *i)
    };
    let single = if naming.replicas == 1 { Some(0) } else { None };
    for (t, node, msg) in lines {
        let push = |out: &mut Vec<SyncEvent>, r: usize, kind, refused| {
            out.push(SyncEvent {
                t_ms: *t,
                replica: r,
                kind,
                psync_refused: refused,
            })
        };
        if node != "master" {
            if msg.contains(&loaded) {
                if let Some(r) = naming.replica_nodes.get(node) {
                    push(&mut out, *r, EventKind::LoadDone, false);
                }
            }
            continue;
        }
        if msg.contains("asks for synchronization") {
            asking = by_addr(msg).or(single);
        } else if msg.contains("Full resync requested by replica")
            && !msg.ends_with("(rdb-channel)")
        {
            if let Some(r) = by_addr(msg).or(asking) {
                push(&mut out, r, EventKind::FullSync, false);
            }
        } else if msg.contains("Unable to partial resync with replica")
            || msg.contains("Partial resynchronization not accepted")
        {
            if let Some(r) = by_addr(msg).or(asking) {
                push(&mut out, r, EventKind::FullSync, true);
            }
        } else if msg.contains("Partial resynchronization request from") && msg.contains("accepted")
        {
            if let Some(r) = by_addr(msg).or(asking) {
                push(&mut out, r, EventKind::PartialSync, false);
            }
        } else if msg.contains("Synchronization with replica") && msg.contains("succeeded") {
            if let Some(r) = by_addr(msg).or(single) {
                push(&mut out, r, EventKind::Online, false);
            }
        } else if msg.contains("for overcoming of output buffer limits") {
            let by_port = msg
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse::<u16>().ok())
                .and_then(|p| naming.client_ports.get(&p).copied());
            match by_port.or(single) {
                Some(r) => push(&mut out, r, EventKind::ObufCut, false),
                None => pending_obuf = Some(*t),
            }
        } else if msg.contains("Disconnecting timedout replica") {
            if let Some(r) = by_addr(msg).or(single) {
                push(&mut out, r, EventKind::Timeout, false);
            }
        } else if msg.contains("Connection with replica") && msg.contains("lost") {
            if let (Some(t0), Some(r)) = (pending_obuf.take(), by_addr(msg)) {
                out.push(SyncEvent {
                    t_ms: t0,
                    replica: r,
                    kind: EventKind::ObufCut,
                    psync_refused: false,
                });
            }
        }
    }
    out
}

/// The sequence compared between prediction and reality: the master's view (full, partial,
/// online, obuf-cut, timeout) of one replica, in order.
pub fn sequence(events: &[SyncEvent], replica: usize) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| e.replica == replica && e.kind != EventKind::LoadDone)
        .map(|e| e.kind.label())
        .collect()
}

/// Each full sync of `replica` and how it ended: ("ok", ms from the master's decision to the
/// replica's end of load) or ("cut", ms to the output-buffer/timeout cut-off). A sync still
/// running at the end of the run is left out.
pub fn full_sync_durations(events: &[SyncEvent], replica: usize) -> Vec<(&'static str, u64)> {
    let mine: Vec<&SyncEvent> = events.iter().filter(|e| e.replica == replica).collect();
    let mut out = Vec::new();
    for (i, e) in mine.iter().enumerate() {
        if e.kind != EventKind::FullSync {
            continue;
        }
        for (k, f) in mine[i + 1..].iter().enumerate() {
            match f.kind {
                // Valkey's dual channel: the main channel's PSYNC at the RDB's end offset is
                // part of this full sync, not a new one.
                EventKind::PartialSync if k == 0 => {}
                EventKind::LoadDone => {
                    out.push(("ok", f.t_ms - e.t_ms));
                    break;
                }
                EventKind::ObufCut | EventKind::Timeout => {
                    out.push(("cut", f.t_ms - e.t_ms));
                    break;
                }
                EventKind::FullSync | EventKind::PartialSync => break,
                EventKind::Online => {}
            }
        }
    }
    out
}

/// Parses a Redis log line `pid:R dd Mon yyyy hh:mm:ss.mmm L message` into (unix ms, message).
pub fn parse_log_line(line: &str) -> Option<(u64, String)> {
    let mut it = line.splitn(7, ' ');
    let pid_role = it.next()?;
    if !pid_role.contains(':') {
        return None;
    }
    let day: u64 = it.next()?.parse().ok()?;
    let mon = it.next()?;
    let year: i64 = it.next()?.parse().ok()?;
    let hms = it.next()?;
    let _level = it.next()?;
    let msg = it.next()?.to_string();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == mon)? as u64
        + 1;
    let (hms, ms) = hms.split_once('.')?;
    let mut p = hms.split(':');
    let h: u64 = p.next()?.parse().ok()?;
    let m: u64 = p.next()?.parse().ok()?;
    let s: u64 = p.next()?.parse().ok()?;
    let ms: u64 = ms.parse().ok()?;
    let days = days_from_civil(year, month, day)?;
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1000 + ms, msg))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u64, d: u64) -> Option<u64> {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u64::try_from(era * 146_097 + doe - 719_468).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis() -> Wording {
        crate::core::version::Version::Redis70.wording()
    }

    fn naming() -> Naming {
        Naming {
            replica_addrs: [("127.0.0.1:7001".to_string(), 0)].into_iter().collect(),
            replica_nodes: [("replica-1".to_string(), 0)].into_iter().collect(),
            client_ports: [(40001u16, 0usize)].into_iter().collect(),
            replicas: 1,
        }
    }

    #[test]
    fn parses_a_redis_log_line() {
        let (t, m) = parse_log_line(
            "1000:M 21 Nov 2026 10:00:00.112 * Replica 10.0.0.2:6379 asks for synchronization",
        )
        .unwrap();
        assert_eq!(m, "Replica 10.0.0.2:6379 asks for synchronization");
        assert_eq!(t, 1_795_255_200_112);
        assert!(parse_log_line("garbage").is_none());
    }

    #[test]
    fn a_refused_psync_names_its_replica_by_the_request_before_it() {
        let l = |t: u64, n: &str, m: &str| (t, n.to_string(), m.to_string());
        let mut two = naming();
        two.replica_addrs.insert("127.0.0.1:7002".into(), 1);
        two.replicas = 2;
        let lines = vec![
            l(0, "master", "Replica 127.0.0.1:7002 asks for synchronization"),
            l(0, "master", "Partial resynchronization not accepted: Requested offset for second ID was 9, but I can reply up to 5"),
        ];
        let ev = parse_events(&lines, &two, &redis());
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].replica, ev[0].kind), (1, EventKind::FullSync));
        assert!(ev[0].psync_refused);
    }

    #[test]
    fn reads_a_full_sync_loop() {
        let l = |t: u64, n: &str, m: &str| (t, n.to_string(), m.to_string());
        let lines = vec![
            l(0, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(1, "master", "Full resync requested by replica 127.0.0.1:7001"),
            l(5, "master", "Synchronization with replica 127.0.0.1:7001 succeeded"),
            l(9, "replica-1", "MASTER <-> REPLICA sync: Finished with success"),
            l(20, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(20, "master", "Unable to partial resync with replica 127.0.0.1:7001 for lack of backlog (Replica request was: 5)."),
            l(30, "master", "Client id=7 addr=127.0.0.1:40001 laddr=127.0.0.1:7000 fd=9 name= flags=S scheduled to be closed ASAP for overcoming of output buffer limits."),
            l(40, "master", "Partial resynchronization request from 127.0.0.1:7001 accepted. Sending 5 bytes of backlog starting from offset 1."),
        ];
        let ev = parse_events(&lines, &naming(), &redis());
        assert_eq!(
            sequence(&ev, 0),
            vec!["full", "online", "full", "obuf-cut", "partial"]
        );
        assert!(ev[3].psync_refused);
        assert_eq!(full_sync_durations(&ev, 0), vec![("ok", 8), ("cut", 10)]);
    }

    #[test]
    fn a_second_channel_sync_reads_as_the_simulator_counts_it() {
        use crate::core::version::Version;
        let l = |t: u64, n: &str, m: &str| (t, n.to_string(), m.to_string());
        // Redis 8.2's RDB channel: its own "(rdb-channel)" full resync is the same sync.
        let rdb_channel = vec![
            l(0, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(0, "master", "Full resync requested by replica 127.0.0.1:7001"),
            l(0, "master", "Replica 127.0.0.1:7001 is capable of rdb channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated rdb channel."),
            l(2, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(2, "master", "Full resync requested by replica 127.0.0.1:7001 (rdb-channel)"),
            l(50, "master", "Synchronization with replica 127.0.0.1:7001 succeeded"),
            l(60, "replica-1", "MASTER <-> REPLICA sync: Finished with success"),
        ];
        let ev = parse_events(&rdb_channel, &naming(), &Version::Redis82.wording());
        assert_eq!(sequence(&ev, 0), vec!["full", "online"]);
        assert_eq!(full_sync_durations(&ev, 0), vec![("ok", 60)]);
        // Valkey's dual channel: the main channel's PSYNC is accepted; the replica's lines
        // say PRIMARY.
        let dual = vec![
            l(0, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(0, "master", "Full resync requested by replica 127.0.0.1:7001"),
            l(2, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(3, "master", "Replica 127.0.0.1:7001 asks for synchronization"),
            l(3, "master", "Partial resynchronization request from 127.0.0.1:7001 accepted. Sending 0 bytes of backlog starting from offset 9."),
            l(70, "replica-1", "PRIMARY <-> REPLICA sync: Finished with success"),
            l(71, "master", "Synchronization with replica 127.0.0.1:7001 succeeded"),
        ];
        let ev = parse_events(&dual, &naming(), &Version::Valkey81.wording());
        assert_eq!(sequence(&ev, 0), vec!["full", "partial", "online"]);
        assert_eq!(full_sync_durations(&ev, 0), vec![("ok", 70)]);
        // Read with Redis's words, the Valkey replica's end of load is not seen.
        let ev = parse_events(&dual, &naming(), &Version::Redis70.wording());
        assert!(ev.iter().all(|e| e.kind != EventKind::LoadDone));
    }
}
