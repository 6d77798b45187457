//! INFO, with 7.0.15's section names and field names. The replication section (and the
//! replication counters in stats) come from the replication core.

use super::lower;
use crate::server::engine::Engine;
use crate::server::log::now_epoch_ms;
use crate::server::types::{Args, Ctx, Out};
use crate::wire::Reply;

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
];

pub fn info(e: &mut Engine, _ctx: &mut Ctx, a: &Args) -> Out {
    let sections: Vec<String> = a[1..].iter().map(|x| lower(x)).collect();
    Reply::Verbatim("txt".into(), render_info(e, &sections).into_bytes()).into()
}

/// The INFO text for the asked sections (all the default ones when none or `all`).
pub fn render_info(e: &Engine, asked: &[String]) -> String {
    let wanted: Vec<&str> = if asked.is_empty()
        || asked
            .iter()
            .any(|s| s == "default" || s == "all" || s == "everything")
    {
        DEFAULT_SECTIONS.to_vec()
    } else {
        DEFAULT_SECTIONS
            .iter()
            .copied()
            .filter(|s| asked.iter().any(|a| a == s))
            .collect()
    };
    let mut out = Vec::new();
    for s in wanted {
        let body = match s {
            "server" => info_server(e),
            "clients" => info_clients(e),
            "memory" => info_memory(e),
            "persistence" => info_persistence(e),
            "stats" => info_stats(e),
            "replication" => e.info_replication(),
            "cpu" => "used_cpu_sys:0.000000\r\nused_cpu_user:0.000000\r\n".to_string(),
            _ => info_keyspace(e),
        };
        let title = match s {
            "cpu" => "CPU".to_string(),
            other => {
                let mut c = other.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        };
        out.push(format!("# {title}\r\n{body}"));
    }
    out.join("\r\n")
}

fn info_server(e: &Engine) -> String {
    let up = e.uptime_secs();
    format!(
        "redis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmultiplexing_api:tokio\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nexecutable:replscope\r\nconfig_file:\r\nreplscope:{}\r\n",
        std::env::consts::OS,
        std::process::id(),
        e.run_id(),
        e.cfg().port,
        now_epoch_ms() * 1000,
        up,
        up / 86400,
        env!("CARGO_PKG_VERSION"),
    )
}

fn info_clients(e: &Engine) -> String {
    let replicas = e.clients().filter(|c| e.is_replica_client(c.id)).count();
    format!(
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
        e.client_count() - replicas,
        e.cfg().maxclients
    )
}

fn info_memory(e: &Engine) -> String {
    let used = e.used_memory();
    let total = e.repl_buffer_bytes();
    // getMemoryOverheadData: replicas and the backlog share one buffer; what passes the
    // backlog's size while replicas exist is counted as theirs.
    let size = e.repl_backlog_size();
    let (backlog, replicas) = if e.replica_count() > 0 && total > size {
        (size, total - size)
    } else {
        (total, 0)
    };
    format!(
        "used_memory:{used}\r\nused_memory_human:{:.2}M\r\nused_memory_dataset:{}\r\nmem_replication_backlog:{backlog}\r\nmem_total_replication_buffers:{total}\r\nmem_clients_slaves:{replicas}\r\nmem_fragmentation_ratio:1.00\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n",
        used as f64 / 1048576.0,
        used.saturating_sub(900_000),
    )
}

fn info_persistence(e: &Engine) -> String {
    let in_progress = e.save_state().child.is_some();
    let cur_secs = e
        .save_state()
        .child_started
        .map(|t| t.elapsed().as_secs() as i64)
        .unwrap_or(-1);
    let cow = e.ks().cow.get();
    format!(
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{cow}\r\ncurrent_cow_size:{cow}\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{cur_secs}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_last_write_status:ok\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        e.is_loading() as u8,
        e.save_state().progress.as_ref().map(|(p, _)| p.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0),
        e.save_state().progress.as_ref().map(|(_, t)| *t).unwrap_or(0),
        e.save_state().dirty,
        in_progress as u8,
        e.save_state().lastsave_unix,
        if e.save_state().last_bgsave_ok { "ok" } else { "err" },
        e.save_state().last_bgsave_secs,
        e.save_state().rdb_saves,
        e.save_state().last_cow_bytes,
    )
}

fn info_stats(e: &Engine) -> String {
    let s = e.stats();
    let (full, pok, perr, rout, rin) = e.repl_stats();
    format!(
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:{rin}\r\ntotal_net_repl_output_bytes:{rout}\r\nrejected_connections:{}\r\nsync_full:{full}\r\nsync_partial_ok:{pok}\r\nsync_partial_err:{perr}\r\nexpired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\nlatest_fork_usec:0\r\ntotal_forks:{}\r\n",
        s.total_connections_received,
        s.total_commands_processed,
        s.total_net_input_bytes,
        s.total_net_output_bytes,
        s.rejected_connections,
        s.expired_keys,
        s.keyspace_hits,
        s.keyspace_misses,
        e.save_state().total_forks,
    )
}

fn info_keyspace(e: &Engine) -> String {
    let mut out = String::new();
    for (i, d) in e.ks().dbs.iter().enumerate() {
        if !d.is_empty() {
            out.push_str(&format!(
                "db{i}:keys={},expires={},avg_ttl=0\r\n",
                d.len(),
                d.expires()
            ));
        }
    }
    out
}
