//! Numbers in lesson captions come from the run, not from the author's memory: a caption says
//! `{tank-1}` and the reader sees "91 MB", the buffer's size at that moment. So a caption
//! stays true when the simulator's timings move, and it can be checked against a native run.
//!
//! Placeholders (`N` is a replica's number):
//! `{time}`, `{rate}` (client writes, bytes/s), `{writes}` (SET/s), `{dataset}`, `{offset}`
//! (`master_repl_offset`), `{backlog}` (`repl-backlog-size`), `{backlog-time}` (how many
//! seconds of writes it holds), `{repl-buffer}`, `{cow}`, `{fork}` (the fork child's progress),
//! `{tank-N}`, `{soft-N}`, `{hard-N}`, `{soft-secs-N}`, `{offset-N}`, `{behind-N}`,
//! `{local-N}` (what a dual-channel replica buffers itself), `{loaded-N}`, `{link-N}` (the
//! link's bandwidth); from the sizing adviser's arithmetic for the scenario in force
//! (`sim::advise`): `{sync-secs}` (fork to loaded), `{sync-bytes}` (what piles up in the buffer
//! meanwhile), `{outage-bytes}` (what is written during the scenario's first link cut).
//! An unknown name is left as it is (the tests look for any left over).

use crate::sim::Scenario;
use crate::web::format::{bytes, clock, count, rate, secs};
use crate::web::sizing;
use crate::web::stage::Stage;

/// The value a placeholder stands for at this stage of a run of `scenario`, if it names one.
pub fn value(name: &str, s: &Stage, scenario: &Scenario) -> Option<String> {
    let m = &s.master;
    let replica = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| s.replicas.get(n.wrapping_sub(1)))
    };
    Some(match name {
        "time" => clock(s.t_ms),
        "rate" => rate(m.write_bytes_per_sec),
        "writes" => format!("{} SET/s", count(m.writes_per_sec)),
        "dataset" => bytes(m.dataset),
        "offset" => bytes(m.offset.max(0) as u64),
        "backlog" => bytes(m.backlog.as_ref().map_or(0, |b| b.size)),
        "backlog-time" => {
            let size = m.backlog.as_ref().map_or(0, |b| b.size);
            let per_sec = m.write_bytes_per_sec.max(1);
            secs(size.saturating_mul(1000) / per_sec)
        }
        "repl-buffer" => bytes(m.repl_buffer),
        "sync-secs" => secs((sizing::advice(scenario).full_sync_seconds * 1000.0) as u64),
        "sync-bytes" => bytes(sizing::advice(scenario).buffer_peak_bytes),
        "outage-bytes" => {
            let per_sec = sizing::advice(scenario).stream_bytes_per_sec;
            bytes((per_sec * sizing::outage_ms(scenario) as f64 / 1000.0) as u64)
        }
        "cow" => bytes(s.fork.as_ref().map_or(0, |f| f.cow)),
        "fork" => format!(
            "{}%",
            (s.fork.as_ref().map_or(0.0, |f| f.progress) * 100.0).round() as u64
        ),
        _ => {
            if let Some(r) = replica("tank-") {
                bytes(r.tank.bytes)
            } else if let Some(r) = replica("soft-secs-") {
                secs(r.tank.soft_seconds * 1000)
            } else if let Some(r) = replica("soft-") {
                bytes(r.tank.soft)
            } else if let Some(r) = replica("hard-") {
                bytes(r.tank.hard)
            } else if let Some(r) = replica("offset-") {
                bytes(r.offset.unwrap_or(0).max(0) as u64)
            } else if let Some(r) = replica("behind-") {
                bytes(r.behind.unwrap_or(0))
            } else if let Some(r) = replica("local-") {
                bytes(r.local_buffer)
            } else if let Some(r) = replica("loaded-") {
                bytes(r.loaded)
            } else if let Some(r) = replica("link-") {
                rate(r.link.bandwidth)
            } else {
                return None;
            }
        }
    })
}

/// `text` with every known `{name}` replaced by its value at this stage of a run of `scenario`.
pub fn fill(text: &str, s: &Stage, scenario: &Scenario) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match value(name, s, scenario) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::{Scenario, Simulation};

    #[test]
    fn placeholders_take_the_runs_numbers() {
        let s = Scenario::preset("disk-sync-loop").unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(100_000);
        let st = Stage::from_frame(&sim.frame());
        let text = fill(
            "{tank-1} of {hard-1} (soft {soft-1} for {soft-secs-1}); backlog {backlog}; {nope} {",
            &st,
            &s,
        );
        let tank = bytes(st.replicas[0].tank.bytes);
        assert_eq!(
            text,
            format!("{tank} of 256 MB (soft 64 MB for 60 s); backlog 1 MB; {{nope}} {{")
        );
    }
}
