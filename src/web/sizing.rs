//! The sizing exercise's figures: what the adviser (`sim::advise`, `replscope advise`) says the
//! current load needs, in one or two sentences in either language, with the arithmetic that
//! leads there. The learner then tries a value and sees it tested in the run.

use super::format::{bytes, rate, secs};
use super::url::Lang;
use crate::sim::advise::{advise, Advice, AdviseInput};
use crate::sim::scenario::FaultAction;
use crate::sim::Scenario;

/// The outage a partial resync must survive: the scenario's first link cut, else a minute
/// (the adviser's own default).
pub fn outage_ms(s: &Scenario) -> u64 {
    s.faults
        .iter()
        .find(|f| f.action == FaultAction::CutLink)
        .map_or(60_000, |f| f.for_ms)
}

pub fn advice(s: &Scenario) -> Advice {
    advise(&AdviseInput::from_scenario(s, outage_ms(s)))
}

/// "Stream 6.1 MB/s × 56 s from the fork to the end of the load = 340 MB: ..." in `lang`.
pub fn words(s: &Scenario, lang: Lang) -> String {
    let a = advice(s);
    let stream = rate(a.stream_bytes_per_sec as u64);
    let window = secs((a.full_sync_seconds * 1000.0) as u64);
    let peak = bytes(a.buffer_peak_bytes);
    let outage = secs(outage_ms(s));
    let obuf = format!(
        "client-output-buffer-limit replica {} {} {}",
        crate::sim::units::format_bytes(a.obuf_hard),
        crate::sim::units::format_bytes(a.obuf_soft),
        a.obuf_soft_seconds
    );
    let backlog = crate::sim::units::format_bytes(a.repl_backlog_size);
    match lang {
        Lang::En => format!(
            "Adviser: {stream} × {window} from the fork to the end of the load = {peak} in the buffer → {obuf}. {stream} × {outage} of outage → repl-backlog-size {backlog} (50% headroom on both)."
        ),
        Lang::Zh => format!(
            "容量规划助手：{stream} × 从 fork 到加载结束的 {window} = 缓冲区中 {peak} → {obuf}。{stream} × 断线 {outage} → repl-backlog-size {backlog}（两者都留了 50% 余量）。"
        ),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_incidents_figures_name_the_load_and_the_settings() {
        let s = Scenario::preset("disk-sync-loop").unwrap();
        assert_eq!(outage_ms(&s), 5_000);
        let a = advice(&s);
        // The buffer must hold more than the 256mb the incident had.
        assert!(a.obuf_hard > 256 << 20, "{a:?}");
        for lang in [Lang::En, Lang::Zh] {
            let w = words(&s, lang);
            assert!(w.contains("client-output-buffer-limit replica"), "{w}");
            assert!(w.contains(&bytes(a.buffer_peak_bytes)), "{w}");
            assert!(w.contains("repl-backlog-size"), "{w}");
        }
    }
}
