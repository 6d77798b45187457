//! The caption under the stage: one or two sentences about the current moment, in English or
//! Chinese. The first names the latest event (a timeline mark a moment ago) and its cause; the
//! second says what the replica it concerns is doing now, with the numbers that matter
//! ("91 MB, 4.4 s over the 64 MB soft limit"). Pure: computed from the stage and the marks.

use super::causes::explain;
use super::format::{bytes, rate, secs};
use super::stage::{ForkPart, RdbPath, ReplicaPart, ReplicaState, Stage};
use super::url::Lang;
use crate::view::{Mark, MarkKind};

/// How long (virtual ms) an event stays the caption's subject.
const EVENT_MS: u64 = 3_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Caption {
    pub text: String,
    /// The stage part the caption is about (`replica-1`, `tank-1`, `fork`...), for a pointer.
    pub part: Option<String>,
}

pub fn caption(stage: &Stage, marks: &[Mark], lang: Lang) -> Caption {
    let zh = lang == Lang::Zh;
    let now = stage.t_ms;
    let recent = marks
        .iter()
        .rev()
        .find(|m| m.t_ms <= now && now - m.t_ms <= EVENT_MS);
    // The replica to talk about: the latest event's, else the first one not online.
    let focus = recent
        .and_then(|m| m.replica)
        .and_then(|i| stage.replicas.get(i))
        .or_else(|| {
            stage
                .replicas
                .iter()
                .find(|r| !matches!(r.state, ReplicaState::Online | ReplicaState::Promoted))
        })
        .or(stage.replicas.first());
    let mut text = String::new();
    if let Some(m) = recent {
        text.push_str(&event_sentence(m, stage, zh));
    }
    let mut part = None;
    if let Some(r) = focus {
        let (s, p) = state_sentence(r, stage, zh);
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&s);
        part = Some(p);
    }
    Caption { text, part }
}

fn name(stage: &Stage, m: &Mark) -> String {
    match m.replica.and_then(|i| stage.replicas.get(i)) {
        Some(r) => r.name.clone(),
        None => stage.master.name.clone(),
    }
}

fn event_sentence(m: &Mark, stage: &Stage, zh: bool) -> String {
    let who = name(stage, m);
    let why = explain(&m.cause, if zh { Lang::Zh } else { Lang::En });
    match (m.kind, zh) {
        (MarkKind::FullSyncStart, false) => format!("Full sync for {who}: {why}."),
        (MarkKind::FullSyncStart, true) => format!("{who} 开始全量同步：{why}。"),
        (MarkKind::FullSyncDone, false) => format!("{who} has loaded the RDB: {why}."),
        (MarkKind::FullSyncDone, true) => format!("{who} 已加载完 RDB：{why}。"),
        (MarkKind::PartialSyncAccepted, false) => {
            format!("{who} resumed with a partial resync (+CONTINUE): {why}.")
        }
        (MarkKind::PartialSyncAccepted, true) => {
            format!("{who} 以部分重同步继续（+CONTINUE）：{why}。")
        }
        (MarkKind::PartialSyncRefused, false) => format!("{who}'s PSYNC was refused: {why}."),
        (MarkKind::PartialSyncRefused, true) => format!("{who} 的 PSYNC 被拒绝：{why}。"),
        (MarkKind::OutputBufferCutOff, false) => format!("The master cut {who} off: {why}."),
        (MarkKind::OutputBufferCutOff, true) => format!("主节点断开了 {who}：{why}。"),
        (MarkKind::Timeout, false) => format!("Timeout on {who}: {why}."),
        (MarkKind::Timeout, true) => format!("{who} 超时：{why}。"),
        (MarkKind::LinkCut, false) => format!("{who}'s link went down: {why}."),
        (MarkKind::LinkCut, true) => format!("{who} 的链路断开：{why}。"),
        (MarkKind::LinkRestored, false) => format!("{who}'s link is back: {why}."),
        (MarkKind::LinkRestored, true) => format!("{who} 的链路恢复：{why}。"),
        (MarkKind::ReplicaRestart, false) => format!("{who} restarted: {why}."),
        (MarkKind::ReplicaRestart, true) => format!("{who} 重启：{why}。"),
        (MarkKind::Promotion, false) => format!("{who} became a master: {why}."),
        (MarkKind::Promotion, true) => format!("{who} 成为主节点：{why}。"),
    }
}

/// "91 MB, 4.4 s over the 64 MB soft limit" / "91 MB of the 256 MB hard limit".
fn buffer_words(r: &ReplicaPart, now: u64, zh: bool) -> String {
    let t = &r.tank;
    let b = bytes(t.bytes);
    match t.soft_since_ms {
        _ if t.hard > 0 && t.bytes >= t.hard => {
            if zh {
                format!("{b}，超过了 {} 的硬限制", bytes(t.hard))
            } else {
                format!("{b}, over the {} hard limit", bytes(t.hard))
            }
        }
        Some(since) if t.soft > 0 => {
            let over = secs(now.saturating_sub(since));
            if zh {
                format!(
                    "{b}，已超过 {} 软限制 {over}（允许 {} 秒）",
                    bytes(t.soft),
                    t.soft_seconds
                )
            } else {
                format!(
                    "{b}, {over} over the {} soft limit (of {} s allowed)",
                    bytes(t.soft),
                    t.soft_seconds
                )
            }
        }
        _ if t.hard > 0 => {
            if zh {
                format!("{b}（硬限制 {}）", bytes(t.hard))
            } else {
                format!("{b} of the {} hard limit", bytes(t.hard))
            }
        }
        _ => b,
    }
}

fn fork_words(f: &ForkPart, zh: bool) -> String {
    let pct = (f.progress * 100.0).round() as u64;
    let of = if f.total > 0 {
        bytes(f.total)
    } else {
        String::from("?")
    };
    match (f.to_disk, zh) {
        (true, false) => format!("Fork: the child writes the RDB to disk ({pct}% of {of})."),
        (true, true) => format!("fork：子进程正在把 RDB 写入磁盘（{of} 的 {pct}%）。"),
        (false, false) => format!(
            "Diskless: the fork child streams the RDB straight into the replica sockets ({pct}% of {of})."
        ),
        (false, true) => format!("无盘同步：fork 子进程把 RDB 直接写入从节点的套接字（{of} 的 {pct}%）。"),
    }
}

/// What replica `r` is doing now, and the part of the stage that shows it.
fn state_sentence(r: &ReplicaPart, stage: &Stage, zh: bool) -> (String, String) {
    let n = r.index + 1;
    let who = &r.name;
    let now = stage.t_ms;
    let buf = buffer_words(r, now, zh);
    let replica = format!("replica-{n}");
    let tank = format!("tank-{n}");
    match r.state {
        ReplicaState::Promoted => (
            if zh {
                format!("{who} 已被提升为新的主节点（REPLICAOF NO ONE）。")
            } else {
                format!("{who} was promoted (REPLICAOF NO ONE): it is the master now.")
            },
            "master".to_string(),
        ),
        ReplicaState::Down => (
            if zh {
                format!("{who} 没有运行（正在重启）。")
            } else {
                format!("{who} is not running (restarting).")
            },
            replica,
        ),
        ReplicaState::Connecting => {
            let off = r.offset.map(|o| bytes(o.max(0) as u64));
            let text = match (r.link.cut_until_ms, off, zh) {
                (Some(until), Some(o), false) => format!(
                    "{who}'s link is cut for {} more. It keeps its offset ({o} into the stream) to ask PSYNC for what it missed.",
                    secs(until.saturating_sub(now))
                ),
                (Some(until), Some(o), true) => format!(
                    "{who} 的链路还要断开 {}。它保留自己的偏移量（同步流中的 {o} 处），重连后用 PSYNC 请求缺失的部分。",
                    secs(until.saturating_sub(now))
                ),
                (Some(until), None, false) => {
                    format!("{who}'s link is cut for {} more.", secs(until.saturating_sub(now)))
                }
                (Some(until), None, true) => {
                    format!("{who} 的链路还要断开 {}。", secs(until.saturating_sub(now)))
                }
                (None, _, false) => format!("{who} is connecting to the master."),
                (None, _, true) => format!("{who} 正在连接主节点。"),
            };
            (text, format!("link-{n}"))
        }
        ReplicaState::Handshake => (
            if zh {
                format!("{who} 与主节点握手（PING、REPLCONF），然后发送 PSYNC。")
            } else {
                format!("{who} greets the master (PING, REPLCONF), then asks PSYNC.")
            },
            replica,
        ),
        ReplicaState::WaitingBgsave => {
            let head = match &stage.fork {
                Some(f) if f.forking => {
                    if zh {
                        "fork()：内核复制页表期间主节点被冻结，写入只能等待。".to_string()
                    } else {
                        "fork(): the master is frozen while the kernel copies its page tables; writes wait.".to_string()
                    }
                }
                Some(f) => fork_words(f, zh),
                None if zh => "主节点等待开始 BGSAVE。".to_string(),
                None => "The master waits to start a BGSAVE.".to_string(),
            };
            let tail = if zh {
                format!("从现在起每个写入也会进入 {who} 的缓冲区：{buf}。")
            } else {
                format!("Every write now also queues in {who}'s buffer: {buf}.")
            };
            (format!("{head} {tail}"), tank)
        }
        ReplicaState::Receiving => {
            let got = bytes(r.received);
            let total = bytes(r.receive_total);
            // No rate while the last bytes are on the wire: say nothing rather than "0 B/s".
            let (at, yi) = if r.link.rdb_rate > 0 {
                let speed = rate(r.link.rdb_rate);
                (format!(" at {speed}"), format!("以 {speed} "))
            } else {
                (String::new(), String::new())
            };
            let into = match (r.rdb_to_disk, zh) {
                (Some(true), false) => " into a temp file",
                (Some(true), true) => "，写入临时文件",
                (Some(false), false) => ", parsing it as it arrives",
                (Some(false), true) => "，边收边解析",
                (None, _) => "",
            };
            let text = match (r.link.rdb_path, zh) {
                (RdbPath::Channel, false) => format!(
                    "A second connection carries the RDB ({got} of {total}){into}, while the master streams new writes at once and {who} buffers them itself: {}.",
                    bytes(r.local_buffer)
                ),
                (RdbPath::Channel, true) => format!(
                    "RDB 走第二条连接（{got} / {total}）{into}；主节点立即发送新的写入，由 {who} 自己缓存：{}。",
                    bytes(r.local_buffer)
                ),
                (RdbPath::Fork, false) => format!(
                    "Diskless: the fork child streams the RDB into {who}'s socket{at} ({got} of {total}){into}. Writes queue in its buffer: {buf}."
                ),
                (RdbPath::Fork, true) => format!(
                    "无盘同步：fork 子进程{yi}把 RDB 直接写入 {who} 的套接字（{got} / {total}）{into}。写入在它的缓冲区中排队：{buf}。"
                ),
                (_, false) => format!(
                    "The master sends the RDB file from its disk to {who}{at} ({got} of {total}){into}. Its buffer keeps filling: {buf}."
                ),
                (_, true) => format!(
                    "主节点{yi}把磁盘上的 RDB 文件发送给 {who}（{got} / {total}）{into}。它的缓冲区继续增长：{buf}。"
                ),
            };
            let part = if r.link.rdb_path == RdbPath::Channel {
                format!("link-{n}")
            } else {
                tank
            };
            (text, part)
        }
        ReplicaState::Loading => {
            let pct = (r.loaded as f64 * 100.0 / r.load_total.max(1) as f64).round() as u64;
            let text = match (r.local_buffer > 0, zh) {
                (true, false) => format!(
                    "{who} loads the RDB ({pct}%) while it buffers the stream itself ({}); the master's buffer stays small: {buf}.",
                    bytes(r.local_buffer)
                ),
                (true, true) => format!(
                    "{who} 正在加载 RDB（{pct}%），同时自己缓存同步流（{}）；主节点上的缓冲区很小：{buf}。",
                    bytes(r.local_buffer)
                ),
                (false, false) => format!(
                    "{who} loads the RDB ({pct}%) and does not read its link meanwhile, so its buffer on the master grows: {buf}."
                ),
                (false, true) => format!(
                    "{who} 正在加载 RDB（{pct}%），期间不读取链路，所以主节点上它的缓冲区继续增长：{buf}。"
                ),
            };
            (text, tank)
        }
        ReplicaState::Online => {
            let behind = r.behind.unwrap_or(0);
            let text = match (behind, zh) {
                (0, false) => format!("{who} is online and in step with the master."),
                (0, true) => format!("{who} 在线，与主节点保持同步。"),
                (b, false) => format!(
                    "{who} is online: {} behind the master, streaming {}.",
                    bytes(b),
                    rate(r.link.stream_rate)
                ),
                (b, true) => format!(
                    "{who} 在线：落后主节点 {}，同步流 {}。",
                    bytes(b),
                    rate(r.link.stream_rate)
                ),
            };
            (text, replica)
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::{Scenario, Simulation};

    fn caption_at(preset: &str, t: u64, lang: Lang) -> Caption {
        let s = Scenario::preset(preset).expect("preset");
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(t);
        caption(&Stage::from_frame(&sim.frame()), sim.marks(), lang)
    }

    #[test]
    fn the_fork_caption_names_the_buffer_and_its_soft_limit_timer() {
        let c = caption_at("disk-sync-loop", 100_000, Lang::En);
        assert!(
            c.text.starts_with("Fork: the child writes the RDB to disk"),
            "{}",
            c.text
        );
        assert!(c.text.contains("replica-1's buffer"), "{}", c.text);
        assert!(c.text.contains("over the 64 MB soft limit"), "{}", c.text);
        assert_eq!(c.part.as_deref(), Some("tank-1"));
        let zh = caption_at("disk-sync-loop", 100_000, Lang::Zh);
        assert!(zh.text.contains("子进程正在把 RDB 写入磁盘"), "{}", zh.text);
    }

    #[test]
    fn events_are_narrated_with_their_cause() {
        // Find the first cut-off of disk-sync-loop and caption the moment just after it.
        let s = Scenario::preset("disk-sync-loop").unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(200_000);
        let cut = sim
            .marks()
            .iter()
            .find(|m| m.kind == MarkKind::OutputBufferCutOff)
            .expect("a cut-off")
            .t_ms;
        let c = caption_at("disk-sync-loop", cut, Lang::En);
        assert!(
            c.text.contains("The master cut replica-1 off"),
            "{}",
            c.text
        );
        assert!(c.text.contains("hard limit"), "{}", c.text);
    }

    #[test]
    fn every_replica_state_has_words_in_both_languages() {
        for (preset, t) in [
            ("disk-sync-loop", 0),
            ("disk-sync-loop", 120_000),
            ("disk-sync-loop", 55_000),
            ("diskless-fix", 100_000),
            ("dual-channel-fix", 100_000),
            ("backlog-sized", 35_000),
            ("backlog-sized", 80_000),
        ] {
            for lang in [Lang::En, Lang::Zh] {
                let c = caption_at(preset, t, lang);
                assert!(c.text.len() > 20, "{preset} at {t}: {c:?}");
                assert!(!c.text.contains("{"), "{preset} at {t}: {c:?}");
            }
        }
    }
}
