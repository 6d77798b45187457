//! A lane per replica: waiting for BGSAVE, fork/BGSAVE, transfer, load, streaming and
//! disconnected spans, with marks for full and partial syncs, cut-offs and faults. Each kind
//! has its own colour AND its own pattern/letter, so colour is never the only signal.
//! Clicking the lane seeks to that moment.

use crate::view::{Mark, Span};
use crate::web::causes::explain;
use crate::web::format::{clock, mark_rows};
use crate::web::i18n::tr;
use crate::web::labels::{mark_label, span_label, ALL_MARKS, ALL_SPANS};
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
    /// The mark explained in the "why" panel, drawn highlighted.
    #[prop_or_default]
    pub selected: Option<usize>,
}

const LEFT: f64 = 70.0;
const WIDTH: f64 = 900.0;
/// A lane: three rows of marks above a span bar.
const LANE: f64 = 58.0;
const BAR_TOP: f64 = 41.0;
const BAR_H: f64 = 15.0;
/// Marks closer than this (px) go to the other row.
const MARK_GAP: f64 = 13.0;

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
        let y = LANE * s.replica as f64 + BAR_TOP;
        html! {
            <g class={classes!("span", class)}>
                <title>{ format!("{} {}–{}", tr(lang, name), clock(s.start_ms), clock(stop)) }</title>
                <rect x={format!("{x0:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (x1 - x0).max(1.0))} height={BAR_H.to_string()}/>
                if x1 - x0 > 14.0 {
                    <text x={format!("{:.1}", x0 + 3.0)} y={format!("{:.1}", y + 12.0)} class="span-letter">{ letter }</text>
                }
            </g>
        }
    });
    // Marks of one kind on one lane at (almost) the same place are drawn once; their causes
    // are all in its tooltip. (A cut link is marked by the fault, the master and the replica.)
    let mut shown: Vec<(usize, &Mark, Vec<&Mark>)> = Vec::new();
    for (i, m) in p
        .marks
        .iter()
        .enumerate()
        .filter(|(_, m)| m.t_ms <= p.now_ms)
    {
        let same = shown.iter_mut().rev().take(8).find(|(_, k, _)| {
            k.kind == m.kind && k.replica == m.replica && x(m.t_ms) - x(k.t_ms) < MARK_GAP
        });
        match same {
            Some((_, _, extra)) => extra.push(m),
            None => shown.push((i, m, Vec::new())),
        }
    }
    let rows = mark_rows(
        &shown
            .iter()
            .map(|(_, m, _)| (m.replica.unwrap_or(0), x(m.t_ms)))
            .collect::<Vec<_>>(),
        MARK_GAP,
        3,
    );
    let marks = shown.iter().zip(rows).map(|((i, m, extra), (row, mx))| {
        let i = *i;
        let causes = std::iter::once(*m).chain(extra.iter().copied()).map(|k| explain(&k.cause, lang)).collect::<Vec<_>>().join("; ");
        let (glyph, name, class) = mark_label(m.kind);
        let lane = m.replica.unwrap_or(0);
        // Row 0 sits just above the bar, the others above it.
        let base = LANE * lane as f64 + BAR_TOP - 4.0 - 13.0 * row as f64;
        let on_mark = p.on_mark.clone();
        let onclick = Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_mark.emit(i)
        });
        let on_mark = p.on_mark.clone();
        let onkeydown = Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                e.stop_propagation();
                on_mark.emit(i)
            }
        });
        html! {
            <g class={classes!("mark", class, (p.selected == Some(i)).then_some("sel"))} data-kind={format!("{:?}", m.kind)} data-row={row.to_string()}
               tabindex="0" role="button" aria-label={format!("{} {}", clock(m.t_ms), tr(lang, name))} {onclick} {onkeydown}>
                <title>{ format!("{} {} — {causes}", clock(m.t_ms), tr(lang, name)) }</title>
                <rect x={format!("{:.1}", mx - 7.0)} y={format!("{:.1}", base - 12.0)} width="14" height="14"/>
                <text x={format!("{mx:.1}")} y={format!("{base:.1}")}>{ glyph }</text>
            </g>
        }
    });
    let lanes = p.names.iter().enumerate().map(|(i, n)| {
        let y = LANE * i as f64 + BAR_TOP + 12.0;
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
                    { for ALL_SPANS.iter().map(|k| {
                        let (class, letter, name) = span_label(*k);
                        html!{ <span class={classes!("key", class)}>{ format!("{letter} {}", tr(lang, name)) }</span> }
                    }) }
                    { for ALL_MARKS.iter().map(|k| {
                        let (glyph, name, _) = mark_label(*k);
                        html!{ <span>{ format!("{glyph} {}", tr(lang, name)) }</span> }
                    }) }
                </span>
            </figcaption>
        </figure>
    }
}
