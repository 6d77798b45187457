//! Per-replica output buffer bars filling against `client-output-buffer-limit replica
//! <hard> <soft> <seconds>`: the soft-limit timer counts while the buffer is over soft, and the
//! bar turns to "cut off" when a limit trips.

use crate::view::ReplicaView;
use crate::web::format::bytes;
use crate::web::i18n::tr;
use crate::web::url::Lang;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BuffersProps {
    pub replicas: Vec<ReplicaView>,
    pub now_ms: u64,
    pub lang: Lang,
}

/// How full a buffer is, in words as well as colour.
pub fn level(r: &ReplicaView) -> &'static str {
    if r.hard_limit > 0 && r.obuf_bytes >= r.hard_limit {
        "over-hard"
    } else if r.soft_limit > 0 && r.obuf_bytes >= r.soft_limit {
        "over-soft"
    } else {
        "ok"
    }
}

#[function_component(BufferBars)]
pub fn buffer_bars(p: &BuffersProps) -> Html {
    let lang = p.lang;
    let scale = p
        .replicas
        .iter()
        .map(|r| r.hard_limit.max(r.soft_limit).max(r.obuf_bytes))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.08;
    const W: f64 = 560.0;
    let x = |v: u64| (v as f64 / scale * W).min(W);
    let rows = p.replicas.iter().map(|r| {
        let lvl = level(r);
        let timer = r.soft_limit_since_ms.map(|since| {
            let secs = p.now_ms.saturating_sub(since) as f64 / 1000.0;
            format!("{} {secs:.1}s / {}s", tr(lang, "soft-limit timer"), r.soft_seconds)
        });
        let state = if r.master_side_state.is_empty() { r.link_state.clone() } else { r.master_side_state.clone() };
        html! {
            <div class={classes!("buffer-row", lvl)} data-replica={r.name.clone()} data-obuf={r.obuf_bytes.to_string()} data-level={lvl}>
                <div class="buffer-head">
                    <strong>{ &r.name }</strong>
                    <span class="state">{ state }</span>
                    <span class="amount">{ bytes(r.obuf_bytes) }</span>
                    if lvl != "ok" { <span class="badge">{ if lvl == "over-hard" { format!("⊘ {}", tr(lang, "hard")) } else { format!("⚠ {}", tr(lang, "soft")) } }</span> }
                    if let Some(t) = timer { <span class="timer" data-testid="soft-timer">{ t }</span> }
                    if r.local_buffer_bytes > 0 { <span class="local">{ format!("replica-side buffer {}", bytes(r.local_buffer_bytes)) }</span> }
                </div>
                <svg viewBox={format!("0 0 {} 34", W + 4.0)} class="buffer-bar" role="img"
                     aria-label={format!("{}: {} / soft {} / hard {}", r.name, bytes(r.obuf_bytes), bytes(r.soft_limit), bytes(r.hard_limit))}>
                    <rect x="0" y="8" width={W.to_string()} height="18" class="bar-track"/>
                    <rect x="0" y="8" width={format!("{:.1}", x(r.obuf_bytes))} height="18" class={classes!("bar-fill", lvl)}/>
                    if r.soft_limit > 0 {
                        <line x1={format!("{:.1}", x(r.soft_limit))} x2={format!("{:.1}", x(r.soft_limit))} y1="2" y2="32" class="limit soft"/>
                        <text x={format!("{:.1}", x(r.soft_limit) + 3.0)} y="33" class="limit-label">{ format!("{} {}", tr(lang, "soft"), bytes(r.soft_limit)) }</text>
                    }
                    if r.hard_limit > 0 {
                        <line x1={format!("{:.1}", x(r.hard_limit))} x2={format!("{:.1}", x(r.hard_limit))} y1="2" y2="32" class="limit hard"/>
                        <text x={format!("{:.1}", x(r.hard_limit) - 3.0)} y="33" class="limit-label end">{ format!("{} {}", tr(lang, "hard"), bytes(r.hard_limit)) }</text>
                    }
                </svg>
            </div>
        }
    });
    html! {
        <section class="buffers" data-testid="buffers">
            <h2>{ tr(lang, "Replica output buffers") }<small>{ " client-output-buffer-limit replica" }</small></h2>
            { for rows }
        </section>
    }
}
