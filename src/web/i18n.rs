//! English and Simplified Chinese. Views write their English text and ask [`tr`] for the
//! current language; a missing translation falls back to English (and the test below keeps
//! the table honest). Redis log lines, INFO fields and config names are never translated:
//! users compare them with their own logs.

use super::url::Lang;

/// (English, 简体中文)
const TABLE: &[(&str, &str)] = &[
    (
        "See how Redis replication works.",
        "看懂 Redis 主从复制的工作原理。",
    ),
    ("Play", "播放"),
    ("Pause", "暂停"),
    ("Step", "单步"),
    ("Step back", "后退一步"),
    ("Next event", "下一个事件"),
    ("Previous event", "上一个事件"),
    ("Next interesting event", "下一个关键事件"),
    ("Restart", "从头开始"),
    ("Speed", "速度"),
    ("Time", "时间"),
    ("Preset", "预设场景"),
    ("Presets", "预设场景"),
    ("Seed", "随机种子"),
    ("Parameters", "参数"),
    ("What to watch", "观察要点"),
    ("Expected outcome", "预期结果"),
    ("Replication backlog", "复制积压缓冲区"),
    ("Replica output buffers", "从节点输出缓冲区"),
    ("Timeline", "时间线"),
    ("Log", "日志"),
    ("Chart", "图表"),
    (
        "Buffers and backlog over time",
        "缓冲区与积压缓冲区随时间变化",
    ),
    ("Side by side", "并排对比"),
    ("Single run", "单次运行"),
    ("Compared change", "对比的改动"),
    ("soft", "软限制"),
    ("hard", "硬限制"),
    ("soft-limit timer", "软限制计时"),
    ("cut off", "被断开"),
    (
        "inside the backlog: partial resync possible",
        "在积压缓冲区内：可以部分重同步",
    ),
    (
        "outside the backlog: full sync needed",
        "已落出积压缓冲区：需要全量同步",
    ),
    ("no backlog", "没有积压缓冲区"),
    ("window", "窗口"),
    ("size", "大小"),
    ("master", "主节点"),
    ("replica", "从节点"),
    ("Cut link", "断开链路"),
    ("for", "持续"),
    ("Restart replica", "重启从节点"),
    ("When a parameter changes", "参数改变时"),
    ("restart from zero", "从零重新开始"),
    ("fork from now", "从当前时刻分叉"),
    (
        "Why did this full sync happen?",
        "为什么发生了这次全量同步？",
    ),
    ("Sizing adviser", "容量规划助手"),
    ("Recommended", "建议值"),
    ("Keyboard shortcuts", "键盘快捷键"),
    ("Close", "关闭"),
    ("Language", "语言"),
    ("Large type", "大字模式"),
    ("Share link", "分享链接"),
    (
        "Copy this link to open the app at this moment:",
        "复制此链接，可在同一时刻打开本应用：",
    ),
    (
        "Some values in the link were not valid and were replaced:",
        "链接中有些值无效，已替换为默认值：",
    ),
    ("Fork / BGSAVE", "fork / BGSAVE"),
    ("Transfer", "传输"),
    ("Load", "加载"),
    ("Streaming", "同步流"),
    ("Waiting for BGSAVE", "等待 BGSAVE"),
    ("Disconnected", "已断开"),
    ("full sync", "全量同步"),
    ("partial resync", "部分重同步"),
    ("partial resync refused", "部分重同步被拒绝"),
    ("output buffer cut-off", "输出缓冲区超限断开"),
    ("timeout", "超时"),
    ("link cut", "链路断开"),
    ("Summary", "汇总"),
    ("full syncs", "全量同步次数"),
    ("partial resyncs", "部分重同步次数"),
    ("disconnects", "断开次数"),
    ("peak output buffer", "输出缓冲区峰值"),
    ("in sync at end", "结束时已同步"),
    ("yes", "是"),
    ("no", "否"),
    (
        "Click a line to jump to that moment.",
        "点击一行日志可跳转到该时刻。",
    ),
    ("Write rate", "写入速率"),
    ("Value size", "值大小"),
    ("Dataset size", "数据集大小"),
    ("Link bandwidth", "链路带宽"),
    ("Disk speed", "磁盘速度"),
    ("Load speed", "加载速度"),
    ("Outage to survive", "需要容忍的断线时长"),
    ("Show the arithmetic", "显示计算过程"),
    ("play / pause", "播放 / 暂停"),
    ("step to the next event", "单步到下一个事件"),
    ("step back to the previous event", "后退到上一个事件"),
    ("jump to the next interesting event", "跳到下一个关键事件"),
    ("slower / faster", "减速 / 加速"),
    ("this help", "显示本帮助"),
    ("toggle large type", "切换大字模式"),
    ("toggle side by side", "切换并排对比"),
    ("Paused while the tab is hidden.", "标签页隐藏时自动暂停。"),
    ("events", "事件"),
    ("Nothing more happens before", "在此之前不再发生任何事件："),
    ("Live feed", "实时数据源"),
    ("Connect", "连接"),
    ("Disconnect", "断开"),
    ("connected", "已连接"),
    ("connecting…", "连接中…"),
    ("Live server", "实时服务器"),
    (
        "Simulation and live run on one time axis",
        "模拟与真实运行（同一时间轴）",
    ),
];

/// The text for `en` in `lang`.
pub fn tr(lang: Lang, en: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => TABLE
            .iter()
            .find(|(e, _)| *e == en)
            .map(|(_, zh)| *zh)
            .unwrap_or(en),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_translated_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (en, zh) in TABLE {
            assert!(seen.insert(*en), "duplicate entry {en}");
            assert!(!zh.is_empty() && zh != en, "no translation for {en}");
        }
    }

    #[test]
    fn lookup_and_fallback() {
        assert_eq!(tr(Lang::Zh, "Play"), "播放");
        assert_eq!(tr(Lang::En, "Play"), "Play");
        assert_eq!(tr(Lang::Zh, "repl-backlog-size"), "repl-backlog-size");
    }
}
