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
    // The "How often?" view (views/spread.rs).
    ("How often?", "多常发生？"),
    ("How often does each outcome happen?", "每种结果多常发生？"),
    ("Number of runs", "运行次数"),
    ("Runs", "次数"),
    ("Run {n} seeds", "运行 {n} 个种子"),
    ("Runs done", "已完成的运行"),
    ("Cancel", "取消"),
    ("Why runs differ: each server's 1-second cron starts at a different moment in each run (the seed sets it) and the writes jitter; near a limit, such as the backlog's size, that moment decides whether PSYNC is accepted.", "为什么每次运行不同：每台服务器每秒一次的 cron 在每次运行中从不同时刻开始（由种子决定），写入也有抖动；接近某个上限（例如积压缓冲区大小）时，这个时刻决定 PSYNC 是否被接受。"),
    ("Press Run: the scenario on screen, with your changes, is run once per seed from the seed on screen on, and every outcome counted.", "按“运行”：从当前种子起，对屏幕上的场景（含你的改动）每个种子运行一次，并统计每种结果。"),
    ("{n} of {total} runs", "{total} 次中 {n} 次"),
    ("in sync", "已同步"),
    ("not in sync", "未同步"),
    ("no sync", "没有同步"),
    ("the run on screen (seed {seed}) is one of these {n}", "屏幕上的运行（种子 {seed}）是这 {n} 次之一"),
    ("Load this seed on the stage", "在舞台上加载这个种子"),
    ("Show seed {seed}", "查看种子 {seed}"),
    ("{total} runs, seeds {a}–{b}, {dur} each, counted in {wall}.", "共 {total} 次运行，种子 {a}–{b}，每次 {dur}，统计用时 {wall}。"),
    ("{n} in {k} other outcomes", "其余 {k} 种结果：{n}"),
    ("So far {total} runs, seeds {a}–{b}, {dur} each…", "目前已运行 {total} 次，种子 {a}–{b}，每次 {dur}……"),
    ("Counted in {n} web workers, beside the page.", "在 {n} 个 Web Worker 中统计，不占用页面。"),
    ("Counted on the page (web workers unavailable).", "在页面上统计（Web Worker 不可用）。"),
    ("Counted on the page (a change the web workers are not sent).", "在页面上统计（有一项改动不会发送给 Web Worker）。"),
    ("How long each full sync took", "每次全量同步用了多久"),
    ("Full sync", "全量同步"),
    ("Ended", "结束方式"),
    ("shortest", "最短"),
    ("median", "中位数"),
    ("longest", "最长"),
    ("cut off (output buffer)", "因输出缓冲区被断开"),
    ("timed out", "超时"),
    ("PSYNC accepted", "PSYNC 被接受"),
    ("PSYNC refused", "PSYNC 被拒绝"),
    ("in sync at the end", "结束时已同步"),
    ("other", "其他"),
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
    (" (cached)", "（缓存）"),
    ("Back", "后退"),
    (
        "Click a node for its INFO, a buffer for what it holds, a link to cut it for 10 s.",
        "点击节点查看 INFO，点击缓冲区查看其中保存了什么，点击链路可将其断开 10 秒。",
    ),
    (
        "Live feed of a replscope server",
        "replscope server 的实时数据源",
    ),
    ("Next", "下一步"),
    ("Next key event", "下一个关键事件"),
    ("Playback", "播放控制"),
    (
        "Press “Side by side” to compare with one change.",
        "按“并排对比”，可以与只改一处的同一场景对比。",
    ),
    ("RDB channel", "RDB 通道"),
    ("dual channel", "双通道"),
    ("replica's own buffer limit (Redis 8.2)", "从节点自身缓冲上限（Redis 8.2）"),
    ("Version", "版本"),
    ("B runs on", "B 运行于"),
    ("Redis 8.2 opens its RDB channel only for a diskless sync: compare with repl-diskless-sync=yes too", "Redis 8.2 只在无盘同步时打开 RDB 通道：再加上 repl-diskless-sync=yes 来比较"),
    ("The system", "系统"),
    (
        "The system: master, fork child, disk, links and replicas",
        "系统：主节点、fork 子进程、磁盘、链路和从节点",
    ),
    ("Views", "视图"),
    ("backlog", "积压缓冲区"),
    ("behind the master", "落后于主节点"),
    ("click to cut it for 10 s", "点击将其断开 10 秒"),
    ("client writes", "客户端写入"),
    ("cut for", "断开，剩余"),
    ("dataset", "数据集"),
    ("fork child", "fork 子进程"),
    ("fork child (BGSAVE)", "fork 子进程（BGSAVE）"),
    ("fork() in progress", "正在 fork()"),
    ("frozen in fork()", "fork() 中被冻结"),
    ("in step with the master", "与主节点同步"),
    ("keeps offset", "保留偏移量"),
    ("left to send", "待发送"),
    ("link", "链路"),
    ("loaded", "已加载"),
    ("master's disk", "主节点磁盘"),
    ("no RDB file in use", "没有使用中的 RDB 文件"),
    ("no offset yet", "还没有偏移量"),
    ("offset", "偏移量"),
    ("output buffer", "输出缓冲区"),
    ("own buffer", "自有缓冲区"),
    ("parsed from the socket", "从套接字边收边解析"),
    ("peak backlog", "积压缓冲区峰值"),
    ("replication buffer", "复制缓冲区"),
    ("serving", "服务中"),
    ("shared by the tanks →", "由各缓冲区共享 →"),
    ("stream", "同步流"),
    ("streams the RDB to sockets →", "把 RDB 写入套接字 →"),
    ("wait: fork()", "等待：fork()"),
    ("writes", "写入"),
    ("writes the RDB to disk ↓", "把 RDB 写入磁盘 ↓"),
    ("→ temp file", "→ 临时文件"),
    ("Backlog & buffers", "积压与缓冲区"),
    ("Why?", "为什么？"),
    ("About this preset", "关于此场景"),
    ("Live", "实时"),
    ("down", "未运行"),
    ("connecting", "连接中"),
    ("handshake", "握手"),
    ("waiting for BGSAVE", "等待 BGSAVE"),
    ("receiving the RDB", "接收 RDB"),
    ("loading the RDB", "加载 RDB"),
    ("online", "在线"),
    ("full sync done", "全量同步完成"),
    ("link restored", "链路恢复"),
    ("promoted to master", "提升为主节点"),
    ("restart", "从头开始"),
    (
        "reach a part of the stage and open it",
        "选中舞台上的部件并打开它",
    ),
    ("close", "关闭"),
    // lessons, knobs, side by side, presenter mode, handout, live password
    ("B changes", "B 的改动"),
    ("Back to the lesson", "回到课程"),
    ("Choose, then watch:", "先选择，再观看："),
    ("Compare", "比较"),
    ("Free play", "自由探索"),
    ("Handout", "讲义"),
    ("Leave the lesson and play freely", "离开课程，自由探索"),
    ("Lessons", "课程"),
    ("Next step", "下一步"),
    ("No change yet: turn a knob.", "还没有改动：调一个旋钮。"),
    ("Not quite: the answer is", "不完全对：答案是"),
    ("Not yet:", "还没有："),
    ("Parameter", "参数"),
    ("Password (requirepass)", "密码（requirepass）"),
    ("Present", "演示"),
    (
        "Presenter mode: large type, arrows walk the lesson, b blanks the stage",
        "演示模式：大字体，方向键切换步骤，b 键遮住舞台",
    ),
    ("Presets: play freely", "预设场景：自由探索"),
    ("Previous step", "上一步"),
    ("Print", "打印"),
    ("Right.", "答对了。"),
    ("The answer is", "答案是"),
    ("The preset's own comparison", "预设场景自带的比较"),
    ("The stage is blanked (b)", "舞台已遮住（b）"),
    ("Try it", "试一试"),
    ("Undo", "撤销"),
    ("Value", "值"),
    ("What matters here", "这里要紧的参数"),
    (
        "You changed the run: you are exploring on your own.",
        "你改动了运行：现在是自由探索。",
    ),
    ("Your change:", "你的改动："),
    (
        "backlog kept without replicas",
        "无从节点时积压缓冲区保留时间",
    ),
    ("backlog size", "积压缓冲区大小"),
    ("buffer hard limit", "缓冲区硬限制"),
    ("buffer model (6.x or 7.0)", "缓冲区模型（6.x 或 7.0）"),
    ("buffer soft limit", "缓冲区软限制"),
    ("dataset size", "数据集大小"),
    ("disk read speed", "磁盘读取速度"),
    ("disk write speed", "磁盘写入速度"),
    ("diskless sync", "无盘同步"),
    ("diskless sync delay", "无盘同步延迟"),
    ("dual channel (Valkey 8)", "双通道（Valkey 8）"),
    ("link bandwidth", "链路带宽"),
    ("link latency", "链路延迟"),
    ("now the master", "现在是主节点"),
    ("replication timeout", "复制超时"),
    ("replica load speed", "从节点加载速度"),
    ("replica restart time", "从节点重启时间"),
    ("replica-1's link", "replica-1 的链路"),
    ("replica-2's link", "replica-2 的链路"),
    ("time allowed over soft", "允许超过软限制的时间"),
    ("writes per second", "每秒写入数"),
    ("RDB writing speed", "RDB 写入速度"),
    (
        "in a lesson: next / previous step",
        "课程中：下一步 / 上一步",
    ),
    ("in a lesson: answer the question", "课程中：回答问题"),
    ("lessons and presets", "课程与预设场景"),
    (
        "presenter mode (b there blanks the stage)",
        "演示模式（其中 b 键遮住舞台）",
    ),
    ("in a lesson: replay the step", "课程中：重放这一步"),
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

    /// Every literal the views pass to `tr`, and the labels they pass indirectly, has its
    /// Chinese: English and Chinese are kept in step by this test, not by memory.
    #[test]
    fn every_string_the_page_shows_is_in_the_table() {
        let sources = [
            include_str!("app.rs"),
            include_str!("deck.rs"),
            include_str!("handout.rs"),
            include_str!("panels.rs"),
            include_str!("live_view.rs"),
            include_str!("views/buffers.rs"),
            include_str!("views/chart.rs"),
            include_str!("views/log.rs"),
            include_str!("views/ring.rs"),
            include_str!("views/spread.rs"),
            include_str!("views/stage.rs"),
            include_str!("views/timeline.rs"),
            include_str!("version_view.rs"),
        ];
        let mut missing = Vec::new();
        for src in sources {
            for (i, _) in src.match_indices("tr(lang, \"") {
                let rest = &src[i + "tr(lang, \"".len()..];
                let lit = &rest[..rest.find('"').unwrap_or(0)];
                if !TABLE.iter().any(|(en, _)| *en == lit) {
                    missing.push(lit.to_string());
                }
            }
        }
        // Labels passed through a variable: tab names, span and mark names, help rows, states.
        use super::super::labels::{
            mark_label, span_label, ALL_MARKS, ALL_SPANS, HELP_ROWS, KNOB_LABELS,
        };
        use super::super::stage::ReplicaState as R;
        let indirect = ALL_MARKS
            .iter()
            .map(|k| mark_label(*k).1)
            .chain(ALL_SPANS.iter().map(|k| span_label(*k).2))
            .chain(super::super::url::Tab::ALL.iter().map(|t| t.label()))
            .chain(HELP_ROWS.iter().map(|r| r.1))
            .chain(KNOB_LABELS.iter().map(|r| r.1))
            .chain(
                crate::core::version::Version::ALL
                    .iter()
                    .map(|v| super::super::versions::channel_name(*v)),
            )
            .chain(
                [
                    R::Down,
                    R::Connecting,
                    R::Handshake,
                    R::WaitingBgsave,
                    R::Receiving,
                    R::Loading,
                    R::Online,
                    R::Promoted,
                ]
                .iter()
                .map(|s| s.label()),
            );
        for lit in indirect {
            if lit != "INFO" && !TABLE.iter().any(|(en, _)| *en == lit) {
                missing.push(lit.to_string());
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "not in the translation table: {missing:?}"
        );
    }

    #[test]
    fn lookup_and_fallback() {
        assert_eq!(tr(Lang::Zh, "Play"), "播放");
        assert_eq!(tr(Lang::En, "Play"), "Play");
        assert_eq!(tr(Lang::Zh, "repl-backlog-size"), "repl-backlog-size");
    }
}
