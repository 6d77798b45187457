//! A lane per replica: waiting for BGSAVE, fork/BGSAVE, transfer, load, streaming and
//! disconnected spans, with marks for full and partial syncs, cut-offs and faults. Each kind
//! has its own colour AND its own pattern/letter, so colour is never the only signal.
//! Clicking the lane seeks to that moment.

use crate::view::{Mark, MarkKind, Span, SpanKind};
use crate::web::format::clock;
use crate::web::i18n::tr;
use crate::web::url::Lang;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub names: Vec<String>,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    pub now_ms: u64,
    /// Right edge of the time axis.
    pub end_ms: u64,
    pub lang: Lang,
    pub on_seek: Callback<u64>,
    /// Called with the index of a clicked mark (for "why did this full sync happen?").
    #[prop_or_default]
    pub on_mark: Callback<usize>,
    #[prop_or_default]
    pub label: AttrValue,
}

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

pub fn mark_label(kind: MarkKind) -> (&'static str, &'static str) {
    // (glyph, English name)
    match kind {
        MarkKind::FullSyncStart => ("▲", "full sync"),
        MarkKind::FullSyncDone => ("■", "full sync"),
        MarkKind::PartialSyncAccepted => ("●", "partial resync"),
        MarkKind::PartialSyncRefused => ("○", "partial resync refused"),
        MarkKind::OutputBufferCutOff => ("✕", "output buffer cut-off"),
        MarkKind::Timeout => ("⌛", "timeout"),
        MarkKind::LinkCut => ("⚡", "link cut"),
        MarkKind::LinkRestored => ("↺", "link cut"),
        MarkKind::ReplicaRestart => ("⟲", "Restart replica"),
        MarkKind::Promotion => ("★", "master"),
    }
}

const LEFT: f64 = 70.0;
const WIDTH: f64 = 900.0;
const LANE: f64 = 30.0;

#[function_component(Timeline)]
pub fn timeline(p: &TimelineProps) -> Html {
    let lang = p.lang;
    let end = p.end_ms.max(p.now_ms).max(1000) as f64;
    let x = move |t: u64| LEFT + (t as f64 / end) * (WIDTH - LEFT);
    let height = 24.0 + LANE * p.names.len().max(1) as f64;
    let spans = p.spans.iter().filter(|s| s.start_ms <= p.now_ms).map(|s| {
        let (class, letter, name) = span_label(s.kind);
        let stop = s.end_ms.unwrap_or(p.now_ms).min(p.now_ms);
        let (x0, x1) = (x(s.start_ms), x(stop));
        let y = 6.0 + LANE * s.replica as f64;
        html! {
            <g class={classes!("span", class)}>
                <title>{ format!("{} {}–{}", tr(lang, name), clock(s.start_ms), clock(stop)) }</title>
                <rect x={format!("{x0:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (x1 - x0).max(1.0))} height={(LANE - 8.0).to_string()}/>
                if x1 - x0 > 14.0 {
                    <text x={format!("{:.1}", x0 + 3.0)} y={format!("{:.1}", y + 15.0)} class="span-letter">{ letter }</text>
                }
            </g>
        }
    });
    let marks = p.marks.iter().enumerate().filter(|(_, m)| m.t_ms <= p.now_ms).map(|(i, m)| {
        let (glyph, name) = mark_label(m.kind);
        let lane = m.replica.unwrap_or(0);
        let y = 6.0 + LANE * lane as f64 + 16.0;
        let on_mark = p.on_mark.clone();
        let onclick = Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_mark.emit(i)
        });
        html! {
            <text x={format!("{:.1}", x(m.t_ms))} y={format!("{y:.1}")} class={classes!("mark", format!("{:?}", m.kind).to_lowercase())}
                  data-kind={format!("{:?}", m.kind)} {onclick}>
                <title>{ format!("{} {} — {}", clock(m.t_ms), tr(lang, name), m.cause) }</title>
                { glyph }
            </text>
        }
    });
    let lanes = p.names.iter().enumerate().map(|(i, n)| {
        let y = 6.0 + LANE * i as f64 + 15.0;
        html! { <text x="4" y={format!("{y:.1}")} class="lane-name">{ n }</text> }
    });
    let ticks = (0..=5).map(|k| {
        let t = (end * k as f64 / 5.0) as u64;
        html! { <text x={format!("{:.1}", x(t))} y={format!("{:.1}", height - 2.0)} class="tick">{ clock(t) }</text> }
    });
    let on_seek = p.on_seek.clone();
    let end_u = end as u64;
    let onclick = Callback::from(move |e: MouseEvent| {
        // Map the click to time through the element's on-screen box (the SVG scales).
        let Some(target) = e.current_target() else {
            return;
        };
        use wasm_bindgen::JsCast;
        let Ok(el) = target.dyn_into::<web_sys::Element>() else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let sx = (e.client_x() as f64 - rect.left()) / rect.width() * WIDTH;
        let frac = ((sx - LEFT) / (WIDTH - LEFT)).clamp(0.0, 1.0);
        on_seek.emit((frac * end_u as f64) as u64);
    });
    html! {
        <figure class="timeline" data-testid="timeline">
            <svg viewBox={format!("0 0 {WIDTH} {height}")} role="img" aria-label={tr(lang, "Timeline")} {onclick}>
                { for lanes }
                { for spans }
                { for marks }
                <line x1={format!("{:.1}", x(p.now_ms))} x2={format!("{:.1}", x(p.now_ms))} y1="0" y2={format!("{:.1}", height - 12.0)} class="now"/>
                { for ticks }
            </svg>
            <figcaption>
                { tr(lang, "Timeline") }{ p.label.to_string() }
                <span class="legend">
                    { for [SpanKind::WaitBgsave, SpanKind::Bgsave, SpanKind::Transfer, SpanKind::Load, SpanKind::Streaming, SpanKind::Disconnected].iter().map(|k| {
                        let (class, letter, name) = span_label(*k);
                        html!{ <span class={classes!("key", class)}>{ format!("{letter} {}", tr(lang, name)) }</span> }
                    }) }
                    <span>{ "▲ " }{ tr(lang, "full sync") }</span>
                    <span>{ "● " }{ tr(lang, "partial resync") }</span>
                    <span>{ "✕ " }{ tr(lang, "output buffer cut-off") }</span>
                </span>
            </figcaption>
        </figure>
    }
}
