//! The replication backlog as a ring: the window `[repl_backlog_first_byte_offset,
//! master_repl_offset]` moving round it as writes arrive, and each replica's offset marked
//! inside the window (a PSYNC could continue) or outside it (a full sync is needed).

use crate::view::{MasterView, ReplicaView};
use crate::web::format::{arc_path, bytes, coverage, polar, ring_turns, Coverage};
use crate::web::i18n::tr;
use crate::web::url::Lang;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RingProps {
    pub master: MasterView,
    pub replicas: Vec<ReplicaView>,
    pub lang: Lang,
    #[prop_or_default]
    pub title: AttrValue,
}

const C: f64 = 200.0;
const R: f64 = 120.0;

#[function_component(BacklogRing)]
pub fn backlog_ring(p: &RingProps) -> Html {
    let lang = p.lang;
    let m = &p.master;
    let Some(b) = m.backlog.as_ref().filter(|b| b.size > 0) else {
        return html! {
            <figure class="ring" data-testid="ring" data-backlog="none">
                <svg viewBox="0 0 400 400" role="img" aria-label={tr(lang, "no backlog")}>
                    <circle cx={C.to_string()} cy={C.to_string()} r={R.to_string()} class="ring-empty"/>
                    <text x={C.to_string()} y={C.to_string()} class="ring-center">{ tr(lang, "no backlog") }</text>
                </svg>
                <figcaption>{ tr(lang, "Replication backlog") }{ p.title.to_string() }</figcaption>
            </figure>
        };
    };
    let first = b.first_byte_offset;
    let start = ring_turns(first, b.size);
    let span = b.histlen as f64 / b.size as f64;
    let window = arc_path(C, C, R, start, span.min(1.0));
    // 7.0: replicas that lag pin old blocks, so histlen can exceed the configured size; draw the
    // excess as an outer arc so the growth is visible rather than clipped.
    let grown = (span > 1.0).then(|| arc_path(C, C, R + 16.0, start, (span - 1.0).min(1.0)));
    let head = ring_turns(m.master_repl_offset.max(first), b.size);
    let (hx, hy) = polar(C, C, R + 22.0, head);
    let (hx0, hy0) = polar(C, C, R - 22.0, head);

    // A replica with no offset at all (never synced) has nothing to mark. Through an outage the
    // replica keeps its offset (its cached master's), so it stays marked where it stopped.
    let markers = p.replicas.iter().enumerate().filter(|(_, r)| r.offset >= 0 || r.ack_offset > 0).map(|(i, r)| {
        // A live server's master only knows what the replica ACKed; the simulator knows both.
        let offset = if r.offset >= 0 { r.offset } else { r.ack_offset };
        let cov = coverage(offset, Some(first), m.master_repl_offset);
        let pos = ring_turns(offset.max(0) + 1, b.size);
        let radius = R - 34.0 - 14.0 * (i % 5) as f64;
        let (x, y) = polar(C, C, radius, pos);
        let (lx, ly) = polar(C, C, radius - 14.0, pos);
        let (class, glyph, label) = match cov {
            Coverage::Inside => ("marker inside", "✓", tr(lang, "inside the backlog: partial resync possible")),
            _ => ("marker outside", "✗", tr(lang, "outside the backlog: full sync needed")),
        };
        html! {
            <g class={class} data-replica={r.name.clone()} data-offset={offset.to_string()} data-coverage={if cov == Coverage::Inside {"inside"} else {"outside"}}>
                <title>{ format!("{}: offset {} ({}) — {}", r.name, offset, bytes(offset.max(0) as u64), label) }</title>
                <line x1={format!("{:.1}", polar(C, C, R, pos).0)} y1={format!("{:.1}", polar(C, C, R, pos).1)}
                      x2={format!("{x:.1}")} y2={format!("{y:.1}")} class="marker-stem"/>
                <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="7"/>
                <text x={format!("{x:.1}")} y={format!("{:.1}", y + 4.0)} class="marker-glyph">{ glyph }</text>
                <text x={format!("{lx:.1}")} y={format!("{:.1}", ly + 4.0)} class="marker-label">{ short_name(&r.name, i) }</text>
            </g>
        }
    });

    html! {
        <figure class="ring" data-testid="ring" data-backlog="active" data-histlen={b.histlen.to_string()}
                data-first={first.to_string()} data-size={b.size.to_string()}>
            <svg viewBox="0 0 400 400" role="img" aria-label={tr(lang, "Replication backlog")}>
                <circle cx={C.to_string()} cy={C.to_string()} r={R.to_string()} class="ring-track"/>
                <path d={window} class="ring-window"/>
                if let Some(g) = grown { <path d={g} class="ring-grown"/> }
                <line x1={format!("{hx0:.1}")} y1={format!("{hy0:.1}")} x2={format!("{hx:.1}")} y2={format!("{hy:.1}")} class="ring-head"/>
                { for markers }
                <text x={C.to_string()} y={(C - 30.0).to_string()} class="ring-center small">{ "repl-backlog-size" }</text>
                <text x={C.to_string()} y={(C - 10.0).to_string()} class="ring-center">{ bytes(b.size) }</text>
                <text x={C.to_string()} y={(C + 14.0).to_string()} class="ring-center small">
                    { format!("histlen {}", bytes(b.histlen)) }
                </text>
                <text x={C.to_string()} y={(C + 32.0).to_string()} class="ring-center small">
                    { format!("{} – {}", bytes(first.max(0) as u64), bytes(m.master_repl_offset.max(0) as u64)) }
                    <title>{ format!("repl_backlog_first_byte_offset {first}, master_repl_offset {}", m.master_repl_offset) }</title>
                </text>
            </svg>
            <figcaption>
                { tr(lang, "Replication backlog") }{ p.title.to_string() }
                <span class="legend"><span class="key window"/>{ tr(lang, "window") }
                if span > 1.0 { <span class="key grown"/>{ format!("+{}", bytes(b.histlen - b.size)) } }
                <span>{ " ✓ " }{ tr(lang, "inside the backlog: partial resync possible") }</span>
                <span>{ " ✗ " }{ tr(lang, "outside the backlog: full sync needed") }</span></span>
            </figcaption>
        </figure>
    }
}

/// `r1`, `r2`, ...: short labels that fit on the ring.
pub fn short_name(name: &str, i: usize) -> String {
    if name.chars().count() <= 4 {
        name.to_string()
    } else {
        format!("r{}", i + 1)
    }
}
