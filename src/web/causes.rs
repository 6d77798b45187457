//! Why things happened, in the reader's language: the causes the core and the simulator attach
//! to timeline marks ("offset 72263453 is outside the backlog [104723049, 105802259]") are
//! English templates with numbers; here each known template is recognised and written again in
//! English or Chinese, with a readable size beside every raw byte count or offset.
//!
//! An unknown cause is shown as it is (a new template in the core is never hidden).

use super::format::bytes;
use super::url::Lang;

/// Splits `s` by `template`, whose `{}` stand for the values; `None` if it does not match.
fn fields<'a>(s: &'a str, template: &str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    let mut rest = s.strip_prefix(parts[0])?;
    let mut out = Vec::new();
    for (i, lit) in parts.iter().enumerate().skip(1) {
        let last = i == parts.len() - 1;
        let end = if last && lit.is_empty() {
            rest.len()
        } else if last {
            rest.strip_suffix(lit).map(|r| r.len())?
        } else {
            rest.find(lit)?
        };
        out.push(&rest[..end]);
        rest = &rest[end + lit.len()..];
    }
    rest.is_empty().then_some(out)
}

fn num(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

/// A byte count as "256 MB (268435456 bytes)".
fn sized(raw: &str, zh: bool) -> String {
    let b = bytes(num(raw).max(0) as u64);
    if zh {
        format!("{b}（{raw} 字节）")
    } else {
        format!("{b} ({raw} bytes)")
    }
}

/// The cause in `lang`, with readable sizes; unknown causes come back unchanged.
pub fn explain(cause: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    if let Some(head) = cause.strip_suffix("; dual-channel sync") {
        let h = explain(head, lang);
        return if zh {
            format!("{h}；改用双通道同步")
        } else {
            format!("{h}; dual-channel sync")
        };
    }
    if let Some(head) = cause.strip_suffix("; rdb-channel sync") {
        let h = explain(head, lang);
        return if zh {
            format!("{h}；改用 RDB 通道同步")
        } else {
            format!("{h}; rdb-channel sync")
        };
    }
    let t = |en: String, cn: String| if zh { cn } else { en };
    if let Some(f) = fields(cause, "offset {} is outside the backlog [{}, {}]") {
        let (off, first, end) = (num(f[0]), num(f[1]), num(f[2]));
        let (gap, held) = (
            bytes(first.saturating_sub(off).max(0) as u64),
            bytes((end - first).max(0) as u64),
        );
        return if off < first {
            t(
                format!("offset {} is outside the backlog [{}, {}]: {gap} older than the oldest byte it keeps (it holds {held})", f[0], f[1], f[2]),
                format!("偏移量 {} 不在积压缓冲区 [{}, {}] 内：比它保留的最旧字节还早 {gap}（它只保存 {held}）", f[0], f[1], f[2]),
            )
        } else {
            t(
                format!(
                    "offset {} is outside the backlog [{}, {}]: ahead of the master",
                    f[0], f[1], f[2]
                ),
                format!(
                    "偏移量 {} 不在积压缓冲区 [{}, {}] 内：超过了主节点的偏移量",
                    f[0], f[1], f[2]
                ),
            )
        };
    }
    if let Some(f) = fields(
        cause,
        "offset {} is inside the backlog [{}, {}]: {} bytes resent",
    ) {
        let n = sized(f[3], zh);
        return t(
            format!(
                "offset {} is inside the backlog [{}, {}]: {n} resent",
                f[0], f[1], f[2]
            ),
            format!(
                "偏移量 {} 在积压缓冲区 [{}, {}] 内：重发 {n}",
                f[0], f[1], f[2]
            ),
        );
    }
    if let Some(f) = fields(cause, "output buffer of {} bytes: hard limit {} reached") {
        let (used, hard) = (sized(f[0], zh), bytes(num(f[1]) as u64));
        return t(
            format!("output buffer of {used}: the hard limit {hard} was reached"),
            format!("输出缓冲区达到 {used}：超过硬限制 {hard}"),
        );
    }
    if let Some(f) = fields(
        cause,
        "output buffer of {} bytes: over the soft limit {} for more than {} s",
    ) {
        let (used, soft) = (sized(f[0], zh), bytes(num(f[1]) as u64));
        return t(
            format!(
                "output buffer of {used}: over the soft limit {soft} for more than {} s",
                f[2]
            ),
            format!(
                "输出缓冲区为 {used}：超过软限制 {soft} 持续 {} 秒以上",
                f[2]
            ),
        );
    }
    if let Some(f) = fields(cause, "offset {} asked but there is no backlog") {
        return t(
            cause.to_string(),
            format!("请求偏移量 {}，但主节点没有积压缓冲区", f[0]),
        );
    }
    if let Some(f) = fields(
        cause,
        "offset {} is beyond {} where the previous history ends",
    ) {
        return t(
            cause.to_string(),
            format!("偏移量 {} 超出了上一段历史的结尾 {}", f[0], f[1]),
        );
    }
    if let Some(f) = fields(cause, "replid mismatch: history {} was dropped with the backlog after repl-backlog-ttl {} s without replicas") {
        return t(
            cause.to_string(),
            format!("复制 ID 不匹配：历史 {} 已随积压缓冲区在无从节点 {} 秒（repl-backlog-ttl）后被释放", f[0], f[1]),
        );
    }
    if let Some(f) = fields(
        cause,
        "replid mismatch: the replica asked for history {}, this master knows {} and {}",
    ) {
        return t(
            cause.to_string(),
            format!(
                "复制 ID 不匹配：从节点请求的是历史 {}，主节点只认识 {} 和 {}",
                f[0], f[1], f[2]
            ),
        );
    }
    if let Some(f) = fields(cause, "the master continued from offset {}") {
        return t(
            cause.to_string(),
            format!("主节点从偏移量 {} 继续发送", f[0]),
        );
    }
    if let Some(f) = fields(cause, "RDB loaded, streaming from offset {}") {
        return t(
            cause.to_string(),
            format!("RDB 加载完成，从偏移量 {} 开始接收同步流", f[0]),
        );
    }
    if let Some(f) = fields(cause, "replica connection lost: {}") {
        return t(cause.to_string(), format!("与从节点的连接断开：{}", f[0]));
    }
    if let Some(f) = fields(cause, "no REPLCONF ACK for more than repl-timeout {} s") {
        return t(
            cause.to_string(),
            format!("超过 repl-timeout（{} 秒）没有收到 REPLCONF ACK", f[0]),
        );
    }
    if let Some(f) = fields(
        cause,
        "no handshake progress for more than repl-timeout {} s",
    ) {
        return t(
            cause.to_string(),
            format!("握手超过 repl-timeout（{} 秒）没有进展", f[0]),
        );
    }
    if let Some(f) = fields(cause, "no RDB bytes for more than repl-timeout {} s") {
        return t(
            cause.to_string(),
            format!("超过 repl-timeout（{} 秒）没有收到 RDB 数据", f[0]),
        );
    }
    if let Some(f) = fields(
        cause,
        "no data nor PING from the master for more than repl-timeout {} s",
    ) {
        return t(
            cause.to_string(),
            format!(
                "超过 repl-timeout（{} 秒）没有收到主节点的数据或 PING",
                f[0]
            ),
        );
    }
    if let Some(f) = fields(cause, "link cut for {} (fault)") {
        return t(cause.to_string(), format!("链路断开 {}（故障注入）", f[0]));
    }
    if let Some(f) = fields(cause, "master killed (fault); replica-{} promoted") {
        return t(
            cause.to_string(),
            format!("主节点被杀死（故障注入）；replica-{} 被提升为主节点", f[0]),
        );
    }
    if let Some(f) = fields(
        cause,
        "graceful restart (fault): RDB saved with repl-id {} and repl-offset {}, loaded at boot",
    ) {
        return t(
            cause.to_string(),
            format!(
                "正常重启（故障注入）：保存的 RDB 带有 repl-id {} 和 repl-offset {}，启动时加载",
                f[0], f[1]
            ),
        );
    }
    if let Some(f) = fields(
        cause,
        "replica process crashed and restarted (fault): the RDB of its last sync, repl-id {} and repl-offset {}, loaded at boot",
    ) {
        return t(
            cause.to_string(),
            format!(
                "从节点进程崩溃后重启（故障注入）：启动时加载上次同步留下的 RDB，repl-id {}，repl-offset {}",
                f[0], f[1]
            ),
        );
    }
    if let Some(f) = fields(
        cause,
        "REPLICAOF NO ONE: history {} stays valid up to offset {}",
    ) {
        return t(
            cause.to_string(),
            format!(
                "REPLICAOF NO ONE：历史 {} 在偏移量 {} 之前仍然有效",
                f[0], f[1]
            ),
        );
    }
    let fixed: &[(&str, &str)] = &[
        (
            "the replica has no cached master (PSYNC ? -1)",
            "从节点没有缓存的主节点信息（PSYNC ? -1）",
        ),
        (
            "the replica sent SYNC (no PSYNC support)",
            "从节点发送的是 SYNC（不支持 PSYNC）",
        ),
        (
            "diskless transfer stalled for more than repl-timeout",
            "无盘传输停滞超过 repl-timeout",
        ),
        ("partial resynchronization", "部分重同步"),
        ("connection with master lost", "与主节点的连接断开"),
        ("link restored", "链路恢复"),
        (
            "graceful restart (fault): no replication info to save",
            "正常重启（故障注入）：没有可保存的复制信息",
        ),
        (
            "replica process crashed and restarted (fault): RDB without replication info loaded at boot",
            "从节点进程崩溃后重启（故障注入）：启动时加载了不带复制信息的 RDB",
        ),
        (
            "replica process crashed and restarted (fault): no cached master",
            "从节点进程崩溃后重启（故障注入）：没有缓存的主节点信息",
        ),
    ];
    match fixed.iter().find(|(en, _)| *en == cause) {
        Some((_, cn)) if zh => cn.to_string(),
        _ => cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_into_their_values() {
        assert_eq!(
            fields(
                "offset 5 is outside the backlog [7, 9]",
                "offset {} is outside the backlog [{}, {}]"
            ),
            Some(vec!["5", "7", "9"])
        );
        assert_eq!(
            fields(
                "offset 5 is fine",
                "offset {} is outside the backlog [{}, {}]"
            ),
            None
        );
        assert_eq!(
            fields("link cut for 10s (fault)", "link cut for {} (fault)"),
            Some(vec!["10s"])
        );
    }

    #[test]
    fn causes_get_readable_sizes_in_both_languages() {
        let c = "offset 72263453 is outside the backlog [104723049, 105802259]";
        let en = explain(c, Lang::En);
        assert!(en.starts_with(c), "{en}");
        assert!(
            en.contains("31 MB older") && en.contains("holds 1 MB"),
            "{en}"
        );
        let zh = explain(c, Lang::Zh);
        assert!(
            zh.contains("不在积压缓冲区") && zh.contains("31 MB"),
            "{zh}"
        );
        let cut = "output buffer of 268452104 bytes: hard limit 268435456 reached";
        assert_eq!(
            explain(cut, Lang::En),
            "output buffer of 256 MB (268452104 bytes): the hard limit 256 MB was reached"
        );
        assert!(explain(cut, Lang::Zh).contains("硬限制 256 MB"));
        let dual = "the replica has no cached master (PSYNC ? -1); dual-channel sync";
        assert!(explain(dual, Lang::Zh).ends_with("改用双通道同步"));
        assert_eq!(explain("something new", Lang::Zh), "something new");
    }

    #[test]
    fn every_cause_the_simulator_produces_is_translated() {
        use crate::sim::{presets, Scenario, Simulation};
        let mut seen = std::collections::BTreeSet::new();
        for p in presets() {
            let s = Scenario::preset(&p.name).unwrap();
            let mut sim = Simulation::new(&s, 1);
            sim.run_until(s.duration);
            for m in sim.marks() {
                if seen.insert(m.cause.clone()) {
                    let zh = explain(&m.cause, Lang::Zh);
                    assert!(
                        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                        "preset {}: no Chinese for the cause {:?}",
                        p.name,
                        m.cause
                    );
                }
            }
        }
        assert!(seen.len() > 10, "the presets produce many causes: {seen:?}");
    }
}
