//! What a run produced: the Redis log, the trace (log lines and marks in order, hashed), the
//! timeline's marks and spans, the chart's samples, and the figures the summary reports.
//! Append-only, except that an open span gets its end.
//!
//! A recorder made with [`Recorder::counting`] keeps only what a summary and an outcome need
//! (counts, peaks, each replica's steps): runs of many seeds (`sim/spread.rs`) skip the log,
//! the trace, marks, spans and samples, which cost more than the replication itself.

use std::collections::VecDeque;

use super::rng::Fnv64;
use super::summary::{MasterSummary, ReplicaSummary, Step};
use crate::core::MarkKind;
use crate::view::{LogLine, Mark, Sample, Span, SpanKind};
use serde::Serialize;

/// One line of the run's trace: a log line or a timeline mark, in the order they happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    pub t_ms: u64,
    pub node: String,
    /// "log" or "mark".
    pub kind: &'static str,
    pub text: String,
}

/// The in-sync slack looks this far back (ms).
const IN_SYNC_WINDOW_MS: u64 = 2000;

#[derive(Clone, Debug)]
pub struct Recorder {
    /// Keep the log, the trace, marks, spans and samples (false: counts only).
    pictures: bool,
    log: Vec<LogLine>,
    trace: Vec<TraceEvent>,
    marks: Vec<Mark>,
    spans: Vec<Span>,
    samples: Vec<Sample>,
    hash: Fnv64,
    /// Each replica's open span (an index into `spans`).
    open_span: Vec<Option<usize>>,
    stats: Vec<ReplicaSummary>,
    master_stats: MasterSummary,
    /// (time, master offset) for the last few seconds: the "in sync" slack.
    offset_history: VecDeque<(u64, i64)>,
    /// Each replica's steps (0-based), in order.
    steps: Vec<Vec<(u64, Step)>>,
}

impl Recorder {
    /// Records everything.
    pub fn new(replicas: usize) -> Recorder {
        Recorder::with_pictures(replicas, true)
    }

    /// Records counts, peaks and steps only (for runs of many seeds).
    pub fn counting(replicas: usize) -> Recorder {
        Recorder::with_pictures(replicas, false)
    }

    fn with_pictures(replicas: usize, pictures: bool) -> Recorder {
        Recorder {
            pictures,
            log: Vec::new(),
            trace: Vec::new(),
            marks: Vec::new(),
            spans: Vec::new(),
            samples: Vec::new(),
            hash: Fnv64::default(),
            open_span: vec![None; replicas],
            stats: (1..=replicas)
                .map(|i| ReplicaSummary::new(&format!("replica-{i}")))
                .collect(),
            master_stats: MasterSummary {
                name: "master".into(),
                ..Default::default()
            },
            offset_history: VecDeque::new(),
            steps: vec![Vec::new(); replicas],
        }
    }

    /// Whether the log, the trace and the pictures are kept.
    pub fn keeps_pictures(&self) -> bool {
        self.pictures
    }

    // ------------------------------------------------------------------ the trace

    /// One trace line: into the hash and the event list.
    fn record(&mut self, t_ms: u64, node: &str, kind: &'static str, text: String) {
        self.hash.write(t_ms.to_string().as_bytes());
        self.hash.write(b"|");
        self.hash.write(node.as_bytes());
        self.hash.write(b"|");
        self.hash.write(kind.as_bytes());
        self.hash.write(b"|");
        self.hash.write(text.as_bytes());
        self.hash.write(b"\n");
        self.trace.push(TraceEvent {
            t_ms,
            node: node.to_string(),
            kind,
            text,
        });
    }

    /// A Redis log line of `node`: traced at `trace_t_ms`, shown at `now`.
    pub fn log_line(&mut self, trace_t_ms: u64, now: u64, node: &str, line: String) {
        if !self.pictures {
            return;
        }
        self.record(trace_t_ms, node, "log", line.clone());
        self.log.push(LogLine {
            t_ms: now,
            node: node.to_string(),
            line,
        });
    }

    /// A timeline mark by `node` (a node name, or "sim" for the simulator's own), about
    /// `replica` (0-based) or the master.
    pub fn mark(
        &mut self,
        now: u64,
        node: &str,
        replica: Option<usize>,
        kind: MarkKind,
        cause: String,
    ) {
        if !self.pictures {
            return;
        }
        self.record(now, node, "mark", format!("{kind:?}: {cause}"));
        self.marks.push(Mark {
            replica,
            kind,
            t_ms: now,
            cause,
        });
    }

    // ------------------------------------------------------------------ counts

    /// One more disconnect of `replica` (1-based node index) for `cause`.
    pub fn count_disconnect(&mut self, replica: usize, cause: &str) {
        if let Some(s) = self.stats.get_mut(replica.wrapping_sub(1)) {
            *s.disconnects.entry(cause.into()).or_default() += 1;
        }
    }

    /// What a core mark about `replica` (1-based) counts for the summary. Only the master's
    /// word counts for syncs (a dual-channel sync's RDB connection is not a second full sync:
    /// `main_link`).
    pub fn count_core_mark(
        &mut self,
        now: u64,
        replica: usize,
        kind: MarkKind,
        from_master: bool,
        main_link: bool,
    ) {
        let Some(st) = self.stats.get_mut(replica - 1) else {
            return;
        };
        let step = match kind {
            MarkKind::FullSyncStart if from_master && main_link => {
                st.full_syncs += 1;
                Some(Step::Full)
            }
            MarkKind::PartialSyncAccepted if from_master => {
                st.partial_syncs_accepted += 1;
                Some(Step::Partial)
            }
            MarkKind::PartialSyncRefused if from_master => {
                st.partial_syncs_refused += 1;
                None
            }
            MarkKind::OutputBufferCutOff if from_master => {
                *st.disconnects
                    .entry("output_buffer_limit".into())
                    .or_default() += 1;
                Some(Step::ObufCut)
            }
            MarkKind::Timeout => {
                *st.disconnects.entry("timeout".into()).or_default() += 1;
                Some(Step::Timeout)
            }
            MarkKind::FullSyncDone if !from_master => Some(Step::Loaded),
            _ => None,
        };
        if let Some(step) = step {
            self.steps[replica - 1].push((now, step));
        }
    }

    /// The master put `replica` (1-based) online.
    pub fn note_online(&mut self, now: u64, replica: usize) {
        if let Some(s) = self.steps.get_mut(replica.wrapping_sub(1)) {
            s.push((now, Step::Online));
        }
    }

    /// Each replica's steps so far (0-based), with their times.
    pub fn steps(&self) -> &[Vec<(u64, Step)>] {
        &self.steps
    }

    pub fn count_bgsave(&mut self) {
        self.master_stats.bgsaves += 1;
    }

    pub fn note_cow(&mut self, peak: u64) {
        self.master_stats.peak_cow_bytes = self.master_stats.peak_cow_bytes.max(peak);
    }

    pub fn note_backlog(&mut self, histlen: u64) {
        self.master_stats.peak_backlog_bytes = self.master_stats.peak_backlog_bytes.max(histlen);
    }

    /// `replica`'s (1-based) output buffer on the master now.
    pub fn note_obuf(&mut self, replica: usize, bytes: u64) {
        if let Some(s) = self.stats.get_mut(replica.wrapping_sub(1)) {
            s.peak_output_buffer_bytes = s.peak_output_buffer_bytes.max(bytes);
        }
    }

    /// The master's offset now (kept for the last two seconds).
    pub fn note_offset(&mut self, now: u64, offset: i64) {
        if self.offset_history.back().is_none_or(|(t, _)| *t != now) {
            self.offset_history.push_back((now, offset));
        }
        while self
            .offset_history
            .front()
            .is_some_and(|(t, _)| *t + IN_SYNC_WINDOW_MS < now)
        {
            self.offset_history.pop_front();
        }
    }

    /// Bytes a replica may trail the master and still count as in sync: what the master wrote
    /// in the last two seconds (in flight or in the next ACK), plus 64 KB.
    pub fn in_sync_slack(&self) -> i64 {
        let newest = self.offset_history.back().map_or(0, |x| x.1);
        let oldest = self.offset_history.front().map_or(0, |x| x.1);
        newest - oldest + 64 * 1024
    }

    /// The counts so far; the caller fills what only the nodes know (final offsets, in sync).
    pub fn summary_parts(&self) -> (Vec<ReplicaSummary>, MasterSummary) {
        (self.stats.clone(), self.master_stats.clone())
    }

    // ------------------------------------------------------------------ pictures

    pub fn sample(&mut self, s: Sample) {
        if self.pictures {
            self.samples.push(s);
        }
    }

    /// Each replica's lane is in `kinds[i]` now: open a new span where it changed.
    pub fn update_spans(&mut self, now: u64, kinds: &[SpanKind]) {
        if !self.pictures {
            return;
        }
        for (i, kind) in kinds.iter().enumerate() {
            if let Some(open) = self.open_span[i] {
                if self.spans[open].kind == *kind {
                    continue;
                }
                self.spans[open].end_ms = Some(now);
            }
            self.spans.push(Span {
                replica: i,
                kind: *kind,
                start_ms: now,
                end_ms: None,
            });
            self.open_span[i] = Some(self.spans.len() - 1);
        }
    }

    // ------------------------------------------------------------------ reading

    pub fn log(&self) -> &[LogLine] {
        &self.log
    }
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }
    pub fn events(&self) -> &[TraceEvent] {
        &self.trace
    }
    pub fn trace_hash(&self) -> u64 {
        self.hash.finish()
    }
}
