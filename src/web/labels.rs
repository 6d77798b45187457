//! The names of what the views draw (timeline spans and marks, tabs, help rows): glyph, css
//! class and English words in one place, so the translation test can check every one.

use crate::view::{MarkKind, SpanKind};

pub fn span_label(kind: SpanKind) -> (&'static str, &'static str, &'static str) {
    // (css class, letter, English name)
    match kind {
        SpanKind::WaitBgsave => ("wait", "W", "Waiting for BGSAVE"),
        SpanKind::Bgsave => ("bgsave", "F", "Fork / BGSAVE"),
        SpanKind::Transfer => ("transfer", "T", "Transfer"),
        SpanKind::Load => ("load", "L", "Load"),
        SpanKind::Streaming => ("stream", "S", "Streaming"),
        SpanKind::Disconnected => ("down", "D", "Disconnected"),
    }
}

pub fn mark_label(kind: MarkKind) -> (&'static str, &'static str, &'static str) {
    // (glyph, English name, css class)
    match kind {
        MarkKind::FullSyncStart => ("▲", "full sync", "fullsyncstart"),
        MarkKind::FullSyncDone => ("■", "full sync done", "fullsyncdone"),
        MarkKind::PartialSyncAccepted => ("●", "partial resync", "partialsyncaccepted"),
        MarkKind::PartialSyncRefused => ("○", "partial resync refused", "partialsyncrefused"),
        MarkKind::OutputBufferCutOff => ("✕", "output buffer cut-off", "outputbuffercutoff"),
        MarkKind::Timeout => ("⊘", "timeout", "timeout"),
        MarkKind::LinkCut => ("⚡", "link cut", "linkcut"),
        MarkKind::LinkRestored => ("↺", "link restored", "linkrestored"),
        MarkKind::ReplicaRestart => ("⟲", "Restart replica", "replicarestart"),
        MarkKind::Promotion => ("★", "promoted to master", "promotion"),
    }
}

pub const ALL_MARKS: [MarkKind; 10] = [
    MarkKind::FullSyncStart,
    MarkKind::FullSyncDone,
    MarkKind::PartialSyncAccepted,
    MarkKind::PartialSyncRefused,
    MarkKind::OutputBufferCutOff,
    MarkKind::Timeout,
    MarkKind::LinkCut,
    MarkKind::LinkRestored,
    MarkKind::ReplicaRestart,
    MarkKind::Promotion,
];

pub const ALL_SPANS: [SpanKind; 6] = [
    SpanKind::WaitBgsave,
    SpanKind::Bgsave,
    SpanKind::Transfer,
    SpanKind::Load,
    SpanKind::Streaming,
    SpanKind::Disconnected,
];

/// The keyboard sheet: (keys, what they do).
pub const HELP_ROWS: [(&str, &str); 16] = [
    ("→  ←", "in a lesson: next / previous step"),
    ("1 – 4", "in a lesson: answer the question"),
    ("l", "lessons and presets"),
    ("f", "presenter mode (b there blanks the stage)"),
    ("r", "in a lesson: replay the step"),
    ("Space", "play / pause"),
    ("→  n", "step to the next event"),
    ("←  p", "step back to the previous event"),
    ("j", "jump to the next interesting event"),
    ("−  +", "slower / faster"),
    ("Home", "restart"),
    ("b", "toggle large type"),
    ("c", "toggle side by side"),
    ("Tab  Enter", "reach a part of the stage and open it"),
    ("Esc", "close"),
    ("?", "this help"),
];

/// The knobs' names in words (English; `i18n::tr` translates). The Redis name stays beside
/// each (its tooltip and accessible name), as the learner will meet it in `redis.conf`.
pub const KNOB_LABELS: [(&str, &str); 22] = [
    ("repl-backlog-size", "backlog size"),
    ("repl-backlog-ttl", "backlog kept without replicas"),
    ("client-output-buffer-limit.hard", "buffer hard limit"),
    ("client-output-buffer-limit.soft", "buffer soft limit"),
    (
        "client-output-buffer-limit.soft-seconds",
        "time allowed over soft",
    ),
    ("repl-diskless-sync", "diskless sync"),
    (
        "dual-channel-replication-enabled",
        "dual channel (Valkey 8)",
    ),
    ("replication-model", "buffer model (6.x or 7.0)"),
    (
        "replica-full-sync-buffer-limit",
        "replica's own buffer limit (Redis 8.2)",
    ),
    ("workload.rate", "writes per second"),
    ("dataset.size", "dataset size"),
    ("link.bandwidth", "link bandwidth"),
    ("links.1.bandwidth", "replica-1's link"),
    ("links.2.bandwidth", "replica-2's link"),
    ("link.latency", "link latency"),
    ("disk.write-speed", "disk write speed"),
    ("disk.read-speed", "disk read speed"),
    ("fork.rdb-speed", "RDB writing speed"),
    ("replica.load-speed", "replica load speed"),
    ("replica.restart-time", "replica restart time"),
    ("repl-diskless-sync-delay", "diskless sync delay"),
    ("repl-timeout", "replication timeout"),
];

/// A knob's name in words, or its own name when it has none.
pub fn knob_label(name: &str) -> &'static str {
    KNOB_LABELS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, l)| l)
}
