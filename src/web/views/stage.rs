//! The stage as SVG: master (writes in, backlog ring, shared buffer), fork child, disk, and per
//! replica an output-buffer tank, a link with bytes moving on it and the replica itself.
//!
//! Drawn from [`Stage`] only. Every part carries `data-part` (its stable id) and `data-state`,
//! is focusable and reacts to a click or Enter with `on_part(id)`; `highlight` outlines one part
//! (for a caption's or a lesson's pointer). Bytes on a link are dashes moving by CSS animation:
//! their spacing and speed follow the rate against the link's bandwidth, RDB bytes are long
//! purple dashes and stream bytes round blue dots, so colour is not the only difference.

use crate::core::version::Version;
use crate::web::format::{
    arc_path, bytes, count, coverage, polar, rate, ring_turns, secs, Coverage,
};
use crate::web::i18n::tr;
use crate::web::stage::{Level, RdbPath, ReplicaPart, ReplicaState, Stage};
use crate::web::url::Lang;
use crate::web::versions;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StageProps {
    pub stage: Stage,
    pub lang: Lang,
    /// The part to outline (a caption's or a lesson's pointer).
    #[prop_or_default]
    pub highlight: Option<String>,
    /// Called with a part's id when it is clicked or activated from the keyboard.
    #[prop_or_default]
    pub on_part: Callback<String>,
    /// The version the run plays, shown on the master and naming its second channel (a live
    /// feed's is not known).
    #[prop_or_default]
    pub version: Option<Version>,
}

/// The drawing's coordinate system.
const W: f64 = 1200.0;
const H: f64 = 450.0;
const MASTER_X: f64 = 150.0;
const MASTER_W: f64 = 280.0;
const TANK_X: f64 = 455.0;
const TANK_W: f64 = 200.0;
const LINK_X0: f64 = 672.0;
const LINK_X1: f64 = 866.0;
const REPLICA_X: f64 = 880.0;
const REPLICA_W: f64 = 312.0;
const TOP: f64 = 16.0;

fn n(v: f64) -> String {
    (v.round() as i64).to_string()
}

// One small function per SVG element kind, called from the many places the stage draws one:
// an html! element at each place costs the page hundreds of bytes of wasm, a call a few.

#[inline(never)]
fn tx(x: f64, y: f64, class: &'static str, body: impl Into<String>) -> Html {
    html! { <text x={n(x)} y={n(y)} {class}>{ body.into() }</text> }
}

#[inline(never)]
fn rc(x: f64, y: f64, w: f64, h: f64, rx: f64, class: &'static str) -> Html {
    html! { <rect x={n(x)} y={n(y)} width={n(w.max(0.0))} height={n(h)} rx={n(rx)} {class}/> }
}

#[inline(never)]
fn ln(x1: f64, y1: f64, x2: f64, y2: f64, class: &'static str) -> Html {
    html! { <line x1={n(x1)} y1={n(y1)} x2={n(x2)} y2={n(y2)} {class}/> }
}

/// Vertical centre and height of replica row `i` of `count`.
fn row(i: usize, count: usize) -> (f64, f64) {
    let avail = H - 2.0 * TOP;
    let h = (avail / count.max(1) as f64).min(140.0);
    let y0 = TOP + (avail - h * count as f64) / 2.0;
    (y0 + h * (i as f64 + 0.5), h)
}

#[function_component(StageView)]
pub fn stage_view(p: &StageProps) -> Html {
    let s = &p.stage;
    let lang = p.lang;
    let count = s.replicas.len();
    let part = |id: String, state: String, label: String, body: Html| {
        let on = p.on_part.clone();
        let id2 = id.clone();
        let onclick = Callback::from(move |_: MouseEvent| on.emit(id2.clone()));
        let on = p.on_part.clone();
        let id3 = id.clone();
        let onkeydown = Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                e.stop_propagation();
                on.emit(id3.clone());
            }
        });
        let hl = p.highlight.as_deref() == Some(id.as_str());
        html! {
            <g class={classes!("part", hl.then_some("hl"))} data-part={id} data-state={state} tabindex="0" role="button"
               aria-label={label} {onclick} {onkeydown}>
                { body }
            </g>
        }
    };

    let master = master_part(s, p.version, lang);
    let channel = p.version.map_or("RDB channel", versions::channel_name);
    let master_state = if s.master.frozen {
        "forking"
    } else {
        "serving"
    };
    let master_label = format!("{} — INFO", s.master.name);
    let mut parts = vec![
        part("master".into(), master_state.into(), master_label, master),
        part(
            "backlog".into(),
            s.backlog_state().into(),
            format!("{} (repl-backlog-size)", tr(lang, "backlog")),
            backlog_part(s, lang),
        ),
    ];
    if let Some((state, body)) = fork_part(s, lang) {
        parts.push(part(
            "fork".into(),
            state.into(),
            tr(lang, "fork child").into(),
            body,
        ));
    }
    if let Some((state, body)) = disk_part(s, lang) {
        parts.push(part(
            "disk".into(),
            state.into(),
            tr(lang, "master's disk").into(),
            body,
        ));
    }
    let paths = rdb_paths(s);
    for r in &s.replicas {
        let k = r.index + 1;
        let (y, h) = row(r.index, count);
        parts.push(part(
            format!("tank-{k}"),
            r.tank.level.id().into(),
            format!("{} {}", tr(lang, "output buffer"), r.name),
            tank(r, y, h, s.t_ms, lang),
        ));
        parts.push(part(
            format!("link-{k}"),
            r.link.state().into(),
            format!(
                "{} {}: {}",
                tr(lang, "link"),
                r.name,
                tr(lang, "click to cut it for 10 s")
            ),
            link(r, y, h < 70.0, s.t_ms, channel, lang),
        ));
        parts.push(part(
            format!("replica-{k}"),
            r.state.id().into(),
            format!("{} — INFO", r.name),
            replica(r, y, h, lang),
        ));
    }
    let writes = writes_in(s, lang, p.highlight.as_deref() == Some("writes"));
    html! {
        <svg class="stage" data-testid="stage" viewBox={format!("0 0 {W} {H}")} role="group"
             aria-label={tr(lang, "The system: master, fork child, disk, links and replicas")}
             preserveAspectRatio="xMidYMid meet">
            { writes }
            { paths }
            { for parts }
        </svg>
    }
}

/// Client writes arriving at the master, with their rate.
fn writes_in(s: &Stage, lang: Lang, hl: bool) -> Html {
    let m = &s.master;
    let y = 70.0;
    let flowing = m.write_bytes_per_sec > 0 && !m.frozen;
    let (text, ops) = if m.write_bytes_per_sec == 0 {
        (tr(lang, "writes").to_string(), String::new())
    } else {
        (
            rate(m.write_bytes_per_sec),
            format!("{} SET/s", count(m.writes_per_sec)),
        )
    };
    html! {
        <g class={classes!("writes", hl.then_some("hl"))} data-part="writes" data-state={if flowing {"flowing"} else {"waiting"}}>
            { tx(6.0, y - 14.0, "label", tr(lang, "client writes")) }
            <line x1="6" y1={n(y)} x2={n(MASTER_X - 6.0)} y2={n(y)} class={classes!("arrow", flowing.then_some("flow"), "f24")}/>
            <path d={format!("M {} {} l -10 -6 l 0 12 z", n(MASTER_X - 2.0), n(y))} class="arrowhead"/>
            { tx(6.0, y + 22.0, "small", text) }
            { tx(6.0, y + 40.0, "small", ops) }
            if m.frozen { { tx(6.0, y + 58.0, "small warn", tr(lang, "wait: fork()")) } }
        </g>
    }
}

fn master_part(s: &Stage, version: Option<Version>, lang: Lang) -> Html {
    let m = &s.master;
    let (x, y, h) = (MASTER_X, TOP, 230.0);
    let state = if m.frozen {
        tr(lang, "frozen in fork()")
    } else {
        tr(lang, "serving")
    };
    html! {
        <>
            { rc(x, y, MASTER_W, h, 10.0, "node master") }
            { tx(x + 14.0, y + 30.0, "title", m.name.clone()) }
            if let Some(v) = version {
                <text x={n(x + MASTER_W - 14.0)} y={n(y + 56.0)} class="small end" data-testid="stage-version" data-version={v.name()}>{ v.display_name() }</text>
            }
            <text x={n(x + MASTER_W - 14.0)} y={n(y + 30.0)} class={classes!("small", "end", m.frozen.then_some("warn"))}>{ state }</text>
            if m.dataset > 0 {
                { tx(x + 14.0, y + 56.0, "small", format!("{} {}", tr(lang, "dataset"), bytes(m.dataset))) }
            }
            <text x={n(x + 14.0)} y={n(y + 78.0)} class="small">{ format!("{} {}", tr(lang, "offset"), bytes(m.offset.max(0) as u64)) }<title>{ format!("master_repl_offset {}", m.offset) }</title></text>
            { tx(x + 130.0, y + 138.0, "small", tr(lang, "replication buffer")) }
            { tx(x + 130.0, y + 162.0, "value", bytes(m.repl_buffer)) }
            { tx(x + 130.0, y + 184.0, "small muted", tr(lang, "shared by the tanks →")) }
        </>
    }
}

/// The backlog as a small ring on the master: the window of history it keeps, and each
/// replica's offset marked ✓ inside it (a PSYNC would continue) or ✗ outside (a full sync).
fn backlog_part(s: &Stage, lang: Lang) -> Html {
    let m = &s.master;
    let (cx, cy, r) = (MASTER_X + 58.0, TOP + 150.0, 40.0);
    let Some(b) = m.backlog.as_ref().filter(|b| b.size > 0) else {
        return html! {
            <>
                { rc(cx - 50.0, cy - 50.0, 100.0, 100.0, 8.0, "hit") }
                { tx(cx, cy + 5.0, "small mid", tr(lang, "no backlog")) }
            </>
        };
    };
    let start = ring_turns(b.first_byte_offset, b.size);
    let span = (b.histlen as f64 / b.size as f64).min(1.0);
    let markers = s.replicas.iter().filter_map(|rp| {
        let o = rp.offset.filter(|_| rp.state != ReplicaState::Promoted)?;
        let inside = coverage(o, Some(b.first_byte_offset), m.offset) == Coverage::Inside;
        let (x, y) = polar(cx, cy, r - 17.0, ring_turns(o.max(0) + 1, b.size));
        let (glyph, class) = if inside {
            ("✓", "tick ok")
        } else {
            ("✗", "tick bad")
        };
        Some(
            html! { <text x={n(x)} y={n(y + 5.0)} class={classes!("mid", class)}>{ glyph }</text> },
        )
    });
    html! {
        <g class="mini-ring">
            <circle cx={n(cx)} cy={n(cy)} r={n(r)} class="ring-track"/>
            <path d={arc_path(cx, cy, r, start, span)} class="ring-window"/>
            { for markers }
            { tx(cx, cy + 5.0, "ring-center small", bytes(b.size)) }
            { tx(cx, cy + r + 20.0, "small mid", tr(lang, "backlog")) }
        </g>
    }
}

fn fork_part(s: &Stage, lang: Lang) -> Option<(&'static str, Html)> {
    let (x, y, w, h) = (MASTER_X, 258.0, MASTER_W, 88.0);
    let f = s.fork.as_ref()?;
    let state = match (f.forking, f.to_disk) {
        (true, _) => "forking",
        (false, true) => "writing-disk",
        (false, false) => "writing-sockets",
    };
    let what = if f.forking {
        tr(lang, "fork() in progress").to_string()
    } else if f.to_disk {
        tr(lang, "writes the RDB to disk ↓").to_string()
    } else {
        tr(lang, "streams the RDB to sockets →").to_string()
    };
    let bar = (w - 28.0) * f.progress;
    let detail = format!(
        "{}% · CoW {}",
        (f.progress * 100.0).round() as u64,
        bytes(f.cow)
    );
    Some((
        state,
        html! {
            <>
                { rc(x, y, w, h, 10.0, "node fork") }
                { tx(x + 14.0, y + 22.0, "label", tr(lang, "fork child (BGSAVE)")) }
                { tx(x + 14.0, y + 60.0, "small", detail) }
                { rc(x + 14.0, y + 31.0, w - 28.0, 12.0, 0.0, "bar-track") }
                { rc(x + 14.0, y + 31.0, bar, 12.0, 0.0, "bar-fill rdb") }
                { tx(x + 14.0, y + 80.0, "small", what) }
            </>
        },
    ))
}

fn disk_part(s: &Stage, lang: Lang) -> Option<(&'static str, Html)> {
    let d = s.disk.as_ref()?;
    let (x, y, w, h) = (MASTER_X, 352.0, MASTER_W, 82.0);
    let state = match &d.file {
        Some(f) if f.writing => "writing",
        Some(_) if d.sending_left > 0 => "sending",
        Some(_) => "stored",
        None => "idle",
    };
    let (fill, text) = match &d.file {
        Some(f) if f.writing => (
            f.bytes as f64 / f.total.max(1) as f64,
            format!("dump.rdb {} / {}", bytes(f.bytes), bytes(f.total)),
        ),
        Some(f) if d.sending_left > 0 => (
            d.sending_left as f64 / f.total.max(1) as f64,
            format!(
                "dump.rdb: {} {}",
                bytes(d.sending_left),
                tr(lang, "left to send")
            ),
        ),
        Some(f) => (1.0, format!("dump.rdb {}", bytes(f.total))),
        None => (0.0, tr(lang, "no RDB file in use").to_string()),
    };
    let bw = (w - 28.0) * fill.clamp(0.0, 1.0);
    Some((
        state,
        html! {
            <>
                <path d={format!("M {x0} {y1} L {x0} {y2} A {rx} 10 0 0 0 {x1} {y2} L {x1} {y1}", x0 = n(x), x1 = n(x + w), y1 = n(y + 10.0), y2 = n(y + h - 10.0), rx = n(w / 2.0))} class="node disk"/>
                <ellipse cx={n(x + w / 2.0)} cy={n(y + 10.0)} rx={n(w / 2.0)} ry="10" class="node disk top"/>
                { tx(x + 14.0, y + 38.0, "label", tr(lang, "master's disk")) }
                { rc(x + 14.0, y + 46.0, w - 28.0, 10.0, 0.0, "bar-track") }
                { rc(x + 14.0, y + 46.0, bw, 10.0, 0.0, "bar-fill rdb") }
                { tx(x + 14.0, y + 72.0, "small", text) }
            </>
        },
    ))
}

/// The RDB's route to each replica receiving one: from the disk (disk sync) or from the fork
/// child (diskless, dual channel), into the start of its link.
fn rdb_paths(s: &Stage) -> Html {
    let count = s.replicas.len();
    let routes = s.replicas.iter().filter(|r| r.link.rdb_path != RdbPath::None).map(|r| {
        let (y, _) = row(r.index, count);
        let (sx, sy) = match r.link.rdb_path {
            RdbPath::Disk => (MASTER_X + MASTER_W, 392.0),
            _ => (MASTER_X + MASTER_W, 299.0),
        };
        let ty = if r.link.rdb_path == RdbPath::Channel { y - 12.0 } else { y };
        let d = format!(
            "M {} {} C {} {} {} {} {} {}",
            n(sx), n(sy), n(sx + 90.0), n(sy), n(LINK_X0 - 90.0), n(ty), n(LINK_X0), n(ty)
        );
        html! { <path {d} class="route rdb flow f24" data-route={format!("rdb-{}", r.index + 1)}/> }
    });
    html! { <g class="routes">{ for routes }</g> }
}

fn tank(r: &ReplicaPart, y: f64, h: f64, now: u64, lang: Lang) -> Html {
    let t = &r.tank;
    let th = (h * 0.4).clamp(14.0, 48.0);
    let top = y - th / 2.0;
    let scale = (t.hard.max(t.soft) as f64 * 1.1)
        .max(t.bytes as f64)
        .max(1.0);
    let x = |v: u64| TANK_X + (v as f64 / scale * TANK_W).min(TANK_W);
    let glyph = match t.level {
        Level::OverHard => "⊘ ",
        Level::OverSoft => "⚠ ",
        _ => "",
    };
    let timer = t.soft_since_ms.map(|since| {
        format!(
            "◷ {} / {} s",
            secs(now.saturating_sub(since)),
            t.soft_seconds
        )
    });
    let compact = h < 70.0;
    html! {
        <>
            { ln(MASTER_X + MASTER_W, y.clamp(TOP + 100.0, TOP + 220.0), TANK_X, y, "feed") }
            { rc(TANK_X, top, TANK_W, th, 4.0, "tank") }
            <rect x={n(TANK_X)} y={n(top)} width={n(x(t.bytes) - TANK_X)} height={n(th)} rx="4" class={classes!("tank-fill", t.level.id())}/>
            if t.soft > 0 {
                <line x1={n(x(t.soft))} x2={n(x(t.soft))} y1={n(top - 3.0)} y2={n(top + th + 3.0)} class="limit soft"/>
            }
            if t.hard > 0 {
                <line x1={n(x(t.hard))} x2={n(x(t.hard))} y1={n(top - 3.0)} y2={n(top + th + 3.0)} class="limit hard"/>
            }
            { tx(TANK_X, top - 6.0, "label", format!("{glyph}{}", bytes(t.bytes))) }
            if let Some(tm) = timer {
                { tx(TANK_X + TANK_W, top - 6.0, "small end warn", tm) }
            }
            if !compact && (t.soft > 0 || t.hard > 0) {
                <text x={n(TANK_X)} y={n(top + th + 16.0)} class="tiny">
                    { format!("{} {} · {} {}", tr(lang, "soft"), bytes(t.soft), tr(lang, "hard"), bytes(t.hard)) }
                </text>
            }
        </>
    }
}

/// Dash spacing class and animation duration for bytes moving at `rate` on a link of
/// `bandwidth`: denser and faster as the rate nears the bandwidth.
fn flow_style(rate: u64, bandwidth: u64) -> (&'static str, String) {
    let frac = if bandwidth == 0 {
        0.3
    } else {
        (rate as f64 / bandwidth as f64).clamp(0.02, 1.0)
    };
    let (class, period) = if frac < 0.1 {
        ("f48", 48.0)
    } else if frac < 0.5 {
        ("f24", 24.0)
    } else {
        ("f12", 12.0)
    };
    let speed = 30.0 + 170.0 * frac;
    (
        class,
        format!(
            "animation-duration:{}ms",
            (period / speed * 1000.0).round() as u64
        ),
    )
}

fn link(
    r: &ReplicaPart,
    y: f64,
    compact: bool,
    now: u64,
    channel: &'static str,
    lang: Lang,
) -> Html {
    let l = &r.link;
    let mid = (LINK_X0 + LINK_X1) / 2.0;
    let base = ln(LINK_X0, y, LINK_X1, y, "wire");
    let hit = rc(LINK_X0, y - 18.0, LINK_X1 - LINK_X0, 36.0, 0.0, "hit");
    if let Some(until) = l.cut_until_ms {
        return html! {
            <>
                { hit }
                { ln(LINK_X0, y, mid - 22.0, y, "wire cut") }
                { ln(mid + 22.0, y, LINK_X1, y, "wire cut") }
                { tx(mid, y + 6.0, "glyph mid bad", "✂") }
                { tx(mid, y - 12.0, "small mid bad", format!("{} {}", tr(lang, "cut for"), secs(until.saturating_sub(now)))) }
            </>
        };
    }
    let rdb_y = if l.rdb_channel { y - 12.0 } else { y };
    let rdb = (l.rdb_rate > 0 || l.rdb_in_flight > 0).then(|| {
        let (class, style) = flow_style(l.rdb_rate.max(1), l.bandwidth);
        html! { <line x1={n(LINK_X0)} y1={n(rdb_y)} x2={n(LINK_X1)} y2={n(rdb_y)} class={classes!("bytes", "rdb", "flow", class)} {style}/> }
    });
    let stream = (l.stream_rate > 0 || l.stream_in_flight > 0).then(|| {
        let (class, style) = flow_style(l.stream_rate.max(1), l.bandwidth);
        html! { <line x1={n(LINK_X0)} y1={n(y)} x2={n(LINK_X1)} y2={n(y)} class={classes!("bytes", "stream", "flow", class)} {style}/> }
    });
    let mut what = Vec::new();
    if l.rdb_rate > 0 {
        what.push(format!("RDB {}", rate(l.rdb_rate)));
    }
    if l.stream_rate > 0 {
        what.push(format!("{} {}", tr(lang, "stream"), rate(l.stream_rate)));
    }
    html! {
        <>
            { hit }
            { base }
            if l.rdb_channel {
                { ln(LINK_X0, rdb_y, LINK_X1, rdb_y, "wire channel") }
                <text x={n(LINK_X1)} y={n(rdb_y - 5.0)} class="tiny end" data-testid="channel-name">{ tr(lang, channel) }</text>
            }
            { rdb }
            { stream }
            <path d={format!("M {} {} l -9 -5 l 0 10 z", n(LINK_X1 + 8.0), n(y))} class="arrowhead"/>
            if l.bandwidth > 0 {
                { tx(LINK_X0, rdb_y - 8.0, "tiny", format!("{} {}", rate(l.bandwidth), tr(lang, "link"))) }
            }
            if !what.is_empty() {
                { tx(mid, y + 20.0, if compact { "tiny mid" } else { "small mid" }, what.join(" · ")) }
            }
        </>
    }
}

fn replica(r: &ReplicaPart, y: f64, h: f64, lang: Lang) -> Html {
    let bh = (h - 10.0).min(118.0);
    let top = y - bh / 2.0;
    let (x, w) = (REPLICA_X, REPLICA_W);
    let glyph = match r.state {
        ReplicaState::Online => "✓ ",
        ReplicaState::Down => "✗ ",
        ReplicaState::Loading => "⟳ ",
        ReplicaState::Receiving => "⇣ ",
        ReplicaState::Connecting | ReplicaState::Handshake => "… ",
        ReplicaState::WaitingBgsave => "◷ ",
        ReplicaState::Promoted => "★ ",
    };
    // One detail line: progress of the RDB in, of the load, or where the replica stands.
    let (progress, detail) = match r.state {
        ReplicaState::Receiving => {
            let into = match r.rdb_to_disk {
                Some(true) => tr(lang, "→ temp file"),
                Some(false) => tr(lang, "parsed from the socket"),
                None => "",
            };
            (
                Some(r.received as f64 / r.receive_total.max(1) as f64),
                format!("{} / {} {into}", bytes(r.received), bytes(r.receive_total)),
            )
        }
        ReplicaState::Loading => (
            Some(r.loaded as f64 / r.load_total.max(1) as f64),
            format!(
                "{} {} / {}",
                tr(lang, "loaded"),
                bytes(r.loaded),
                bytes(r.load_total)
            ),
        ),
        ReplicaState::Online => (
            None,
            match r.behind {
                Some(0) | None => tr(lang, "in step with the master").to_string(),
                Some(b) => format!("{} {}", bytes(b), tr(lang, "behind the master")),
            },
        ),
        _ => (
            None,
            match (r.offset, r.offset_cached) {
                (Some(o), true) => format!(
                    "{} {}{}",
                    tr(lang, "keeps offset"),
                    bytes(o.max(0) as u64),
                    tr(lang, " (cached)")
                ),
                (Some(o), false) => format!("{} {}", tr(lang, "offset"), bytes(o.max(0) as u64)),
                (None, _) => tr(lang, "no offset yet").to_string(),
            },
        ),
    };
    let compact = bh < 60.0;
    let line1 = top + if compact { bh / 2.0 - 2.0 } else { 24.0 };
    let line2 = if compact { top + bh - 5.0 } else { top + 56.0 };
    // Roomy boxes also say where the replica stands and what it buffers itself.
    let mut extra = Vec::new();
    if bh >= 100.0 && progress.is_some() {
        if let Some(o) = r.offset {
            extra.push(format!(
                "{} {}{}",
                tr(lang, "offset"),
                bytes(o.max(0) as u64),
                if r.offset_cached {
                    tr(lang, " (cached)")
                } else {
                    ""
                }
            ));
        }
    }
    if r.local_buffer > 0 {
        extra.push(format!(
            "{} {}",
            tr(lang, "own buffer"),
            bytes(r.local_buffer)
        ));
    }
    let extra = (!compact).then(|| {
        extra
            .iter()
            .enumerate()
            .map(|(i, t)| tx(x + 12.0, line2 + 22.0 * (i + 1) as f64, "small", t))
            .collect::<Html>()
    });
    html! {
        <>
            <rect x={n(x)} y={n(top)} width={n(w)} height={n(bh)} rx="10" class={classes!("node", "replica", r.state.id())}/>
            <text x={n(x + 12.0)} y={n(line1)} class={if compact {"label"} else {"title"}}>{ &r.name }</text>
            { tx(x + w - 12.0, line1, "label end", format!("{glyph}{}", tr(lang, r.state.label()))) }
            if let Some(f) = progress.filter(|_| !compact) {
                { rc(x + 12.0, top + 32.0, w - 24.0, 8.0, 0.0, "bar-track") }
                { rc(x + 12.0, top + 32.0, (w - 24.0) * f.clamp(0.0, 1.0), 8.0, 0.0, "bar-fill rdb") }
            }
            { tx(x + 12.0, line2, "small", detail) }
            { extra }
            if r.offset.is_some() {
                <title>{ format!("slave_repl_offset {}{}", r.offset.unwrap_or(0), if r.offset_cached { " (cached master)" } else { "" }) }</title>
            }
        </>
    }
}
