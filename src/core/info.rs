//! `INFO replication`, `INFO stats` and `ROLE`, laid out exactly as Redis 7.0.15 prints them,
//! from the parts' status.

use super::ctx::{Ctx, Stats};
use super::master::MasterSide;
use super::replica::ReplicaLink;
use super::status::{LinkStatus, ReplicaState};
use super::version::FullSync;
use super::Role;
use crate::wire::Reply;

/// `ROLE`.
pub(super) fn role(master: &MasterSide, link: Option<&ReplicaLink>) -> Role {
    match link {
        Some(link) => {
            let (host, port) = link.master_addr();
            Role::Replica {
                host: host.to_string(),
                port,
                state: link.status().as_redis_str().to_string(),
                offset: link.reploff(),
            }
        }
        None => Role::Master {
            offset: master.offset(),
            // ROLE lists online replicas only.
            replicas: master
                .replica_rows()
                .into_iter()
                .filter(|r| r.4 == ReplicaState::Online)
                .map(|(ip, port, ack, _, _, _)| (ip, port, ack))
                .collect(),
        },
    }
}

/// The `ROLE` reply.
pub(super) fn role_reply(role: Role) -> Reply {
    match role {
        Role::Master { offset, replicas } => Reply::Array(vec![
            Reply::bulk("master"),
            Reply::Int(offset),
            Reply::Array(
                replicas
                    .into_iter()
                    .map(|(ip, port, off)| {
                        Reply::Array(vec![
                            Reply::bulk(ip),
                            Reply::bulk(port.to_string()),
                            Reply::bulk(off.to_string()),
                        ])
                    })
                    .collect(),
            ),
        ]),
        Role::Replica {
            host,
            port,
            state,
            offset,
        } => Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(host),
            Reply::Int(port as i64),
            Reply::bulk(state),
            Reply::Int(offset),
        ]),
    }
}

/// `INFO [section]`: replication and stats are the sections the core knows.
pub(super) fn info_command(
    ctx: &Ctx,
    master: &MasterSide,
    link: Option<&ReplicaLink>,
    args: &[String],
) -> String {
    let section = args
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_else(|| "default".into());
    let mut text = String::new();
    if matches!(
        section.as_str(),
        "replication" | "default" | "all" | "everything"
    ) {
        text.push_str(&info_replication(ctx, master, link, ctx.now()));
    }
    if matches!(section.as_str(), "stats" | "default" | "all" | "everything") {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        text.push_str(&info_stats(&ctx.stats));
    }
    text
}

/// The `# Stats` fields about replication.
pub(super) fn info_stats(s: &Stats) -> String {
    format!(
        "# Stats\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\n",
        s.sync_full,
        s.sync_partial_ok,
        s.sync_partial_err,
        s.total_net_repl_input_bytes,
        s.total_net_repl_output_bytes
    )
}

/// `INFO replication` at `now`, exactly as 7.0.15 lays it out (CRLF line ends). One
/// function because it is one layout, read top to bottom like Redis's `genRedisInfoString`.
pub(super) fn info_replication(
    ctx: &Ctx,
    master: &MasterSide,
    link: Option<&ReplicaLink>,
    now: u64,
) -> String {
    let ut = ctx.clock.unixtime_of(now.max(ctx.now()));
    let cfg = &ctx.config;
    let mut s = String::from("# Replication\r\n");
    let mut line = |l: String| {
        s.push_str(&l);
        s.push_str("\r\n");
    };
    match link {
        None => line("role:master".into()),
        Some(link) => {
            let (h, p) = link.master_addr();
            line("role:slave".into());
            line(format!("master_host:{h}"));
            line(format!("master_port:{p}"));
            let up = link.status() == LinkStatus::Connected;
            line(format!(
                "master_link_status:{}",
                if up { "up" } else { "down" }
            ));
            line(format!(
                "master_last_io_seconds_ago:{}",
                link.last_io_seconds_ago(ctx, ut)
            ));
            let info = link.info();
            line(format!(
                "master_sync_in_progress:{}",
                (info.status == LinkStatus::Sync) as u8
            ));
            let (read, applied) = link.read_and_applied_offsets();
            line(format!("slave_read_repl_offset:{read}"));
            line(format!("slave_repl_offset:{applied}"));
            // The replica-side buffer of a second-channel sync (checked, `*/full-sync-*/
            // info-replica-*.txt`): 8.2 and Valkey name it differently.
            let (size, peak) = (info.local_buffer_bytes, link.local_buffer_peak);
            match cfg.version.second_channel() {
                FullSync::RdbChannel => {
                    line(format!("replica_full_sync_buffer_size:{size}"));
                    line(format!("replica_full_sync_buffer_peak:{peak}"));
                }
                FullSync::DualChannel => {
                    line(format!("replicas_repl_buffer_size:{size}"));
                    line(format!("replicas_repl_buffer_peak:{peak}"));
                }
                FullSync::Classic => {}
            }
            if let Some((total, readb)) = info.transfer {
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
                    link.transfer_last_io_seconds_ago(ctx, ut)
                ));
            }
            if !up {
                let down = match link.down_since_ms() {
                    Some(t) => ut.saturating_sub(ctx.clock.unixtime_of(t)) as i64,
                    None => -1,
                };
                line(format!("master_link_down_since_seconds:{down}"));
            }
            line(format!("slave_priority:{}", cfg.replica_priority));
            line(format!("slave_read_only:{}", cfg.replica_read_only as u8));
            line(format!("replica_announced:{}", cfg.replica_announced as u8));
        }
    }
    let rows = master.replica_rows();
    line(format!("connected_slaves:{}", rows.len()));
    if cfg.min_replicas_to_write > 0 && cfg.min_replicas_max_lag > 0 {
        let good = rows
            .iter()
            .filter(|r| {
                r.4 == ReplicaState::Online && ut.saturating_sub(r.3) <= cfg.min_replicas_max_lag
            })
            .count();
        line(format!("min_slaves_good_slaves:{good}"));
    }
    // A finished dual-channel RDB connection is not listed.
    let listed = rows.iter().filter(|r| !r.4.as_redis_str().is_empty());
    // Valkey appends the connection's type to each line.
    let typed = cfg.version.second_channel() == FullSync::DualChannel;
    for (i, (ip, port, ack, ack_time, state, kind)) in listed.enumerate() {
        let lag = if *state == ReplicaState::Online {
            ut.saturating_sub(*ack_time)
        } else {
            0
        };
        let kind = if typed {
            format!(",type={kind}")
        } else {
            String::new()
        };
        line(format!(
            "slave{i}:ip={ip},port={port},state={},offset={ack},lag={lag}{kind}",
            state.as_redis_str()
        ));
    }
    if typed {
        line(format!(
            "replicas_waiting_psync:{}",
            master.replicas_waiting_psync()
        ));
    }
    line("master_failover_state:no-failover".into());
    line(format!("master_replid:{}", ctx.hist.replid()));
    line(format!("master_replid2:{}", ctx.hist.replid2()));
    line(format!("master_repl_offset:{}", master.offset()));
    line(format!(
        "second_repl_offset:{}",
        ctx.hist.second_replid_offset()
    ));
    let backlog = master.backlog();
    line(format!("repl_backlog_active:{}", backlog.is_some() as u8));
    line(format!("repl_backlog_size:{}", cfg.repl_backlog_size));
    line(format!(
        "repl_backlog_first_byte_offset:{}",
        backlog.map_or(0, |b| b.first_byte_offset)
    ));
    line(format!(
        "repl_backlog_histlen:{}",
        backlog.map_or(0, |b| b.histlen)
    ));
    s
}
