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
pub const HELP_ROWS: [(&str, &str); 11] = [
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
