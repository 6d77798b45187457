//! The app's smaller panels: language, notices, presets, parameters, faults, "why did this
//! full sync happen?", summary, INFO, the sizing adviser and the shortcut sheet.

use super::app::Dispatch;
use super::causes::explain;
use super::i18n::tr;
use super::labels::HELP_ROWS;
use super::model::{presets, Action, Model};
use super::params;
use super::presets_zh::{param_help_zh, preset_zh};
use super::stage::{ReplicaState, Stage};
use super::url::{ChangeMode, Lang, Tab};
use crate::sim::{self, advise, ParamSpec};
use crate::web::format::{bytes, clock};
use wasm_bindgen::JsCast;
use yew::prelude::*;

pub(super) fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

fn change_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

pub fn language(m: &Model, d: &Dispatch) -> Html {
    let onchange = d.reform(|e: Event| {
        Action::SetLang(if select_value(&e) == "zh" {
            Lang::Zh
        } else {
            Lang::En
        })
    });
    html! {
        <label>{ tr(m.st.lang, "Language") }{ " " }
            <select {onchange} data-testid="lang">
                <option value="en" selected={m.st.lang == Lang::En}>{ "English" }</option>
                <option value="zh" selected={m.st.lang == Lang::Zh}>{ "简体中文" }</option>
            </select>
        </label>
    }
}

/// Problems found in the URL, named and shown as plain text.
pub fn notices(m: &Model) -> Html {
    if m.notices.is_empty() {
        return html! {};
    }
    html! {
        <div class="notices" role="alert" data-testid="notices">
            { tr(m.st.lang, "Some values in the link were not valid and were replaced:") }
            <ul>{ for m.notices.iter().map(|n| html!{ <li><code>{ &n.key }</code>{ ": " }{ &n.message }</li> }) }</ul>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct PresetProps {
    pub preset: String,
    pub seed: u64,
    pub lang: Lang,
    pub dispatch: Dispatch,
}

/// The preset's whole story (the "About this preset" tab), with the seed.
#[function_component(PresetPanel)]
pub fn preset_panel(p: &PresetProps) -> Html {
    let lang = p.lang;
    let d = &p.dispatch;
    let info = presets().iter().find(|i| i.name == p.preset).cloned();
    let on_seed = d.reform(|e: Event| Action::SetSeed(change_value(&e).parse().unwrap_or(1)));
    html! {
        <section class="preset" data-testid="preset">
            if let Some(i) = info {
                { preset_text(lang, i) }
            }
            <label>{ tr(lang, "Seed") }{ " " }<input type="number" min="0" value={p.seed.to_string()} onchange={on_seed} style="width:7em" data-testid="seed"/></label>
        </section>
    }
}

/// The preset in one line for the header: its chooser, its title and its expected outcome
/// (cut to one line; the whole text is in the "About this preset" tab).
pub fn preset_line(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let onchange = d.reform(|e: Event| Action::SetPreset(select_value(&e)));
    let info = presets().iter().find(|i| i.name == m.st.preset).cloned();
    let (title, expect) = match (info, preset_zh(&m.st.preset), lang) {
        (Some(_), Some((t, e, _)), Lang::Zh) => (t, e),
        (Some(i), _, _) => (i.title, i.expect),
        (None, _, _) => (String::new(), String::new()),
    };
    html! {
        <div class="preset-line" data-testid="preset-line">
            <select {onchange} data-testid="preset-select" aria-label={tr(lang, "Preset")}>
                { for presets().iter().map(|p| html!{ <option value={p.name.clone()} selected={p.name == m.st.preset}>{ &p.name }</option> }) }
            </select>
            <button type="button" class="link" onclick={d.reform(|_| Action::SetTab(Tab::About))} title={format!("{title}: {expect}")} data-testid="preset-more">
                <strong data-testid="preset-title">{ title }</strong>
                <span class="expect-line">{ expect }</span>
            </button>
        </div>
    }
}

/// The preset's title, expected outcome and explanation in the current language.
fn preset_text(lang: Lang, p: sim::PresetInfo) -> Html {
    let (title, expect, explanation) = match (lang, preset_zh(&p.name)) {
        (Lang::Zh, Some(zh)) => zh,
        _ => (p.title, p.expect, p.explanation),
    };
    html! {
        <>
            <h2 data-testid="preset-title">{ title }</h2>
            <p><strong>{ tr(lang, "Expected outcome") }{ ": " }</strong><span data-testid="expect">{ expect }</span></p>
            <p><strong>{ tr(lang, "What to watch") }{ ": " }</strong><span data-testid="explanation">{ explanation }</span></p>
        </>
    }
}

pub fn faults(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let n = m.main.sim.frame().replicas.len();
    html! {
        <div class="faults" data-testid="faults">
            { for (0..n).map(|i| html!{
                <span>
                    <button type="button" onclick={d.reform(move |_| Action::CutLink(i, 10_000))} data-testid={format!("cut-{i}")}>
                        { format!("⚡ {} r{} ({} 10 s)", tr(lang, "Cut link"), i + 1, tr(lang, "for")) }
                    </button>
                    <button type="button" onclick={d.reform(move |_| Action::RestartReplica(i))} data-testid={format!("restart-{i}")}>
                        { format!("⟲ {} r{}", tr(lang, "Restart replica"), i + 1) }
                    </button>
                </span>
            }) }
        </div>
    }
}

/// "Why did this full sync happen?": every full sync so far with its cause.
pub fn why(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let syncs = m.full_syncs();
    let selected = m
        .selected_mark
        .and_then(|i| m.main.sim.marks().get(i).cloned());
    html! {
        <div class="why-panel" data-testid="why">
            <h2>{ tr(lang, "Why did this full sync happen?") }</h2>
            if let Some(mk) = selected {
                <p class="why" data-testid="why-selected">
                    <strong>{ format!("{} ", clock(mk.t_ms)) }</strong>{ explain(&mk.cause, lang) }
                </p>
            }
            <ol class="why-list">
                { for syncs.iter().rev().take(8).map(|(i, t, cause)| {
                    let i = *i;
                    html!{ <li><button type="button" onclick={d.reform(move |_| Action::SelectMark(Some(i)))}>{ clock(*t) }</button>{ " " }{ explain(cause, lang) }</li> }
                }) }
            </ol>
        </div>
    }
}

pub fn summary(m: &Model) -> Html {
    let lang = m.st.lang;
    let s = m.main.sim.summary();
    html! {
        <div data-testid="summary">
            <h2>{ tr(lang, "Summary") }<small>{ format!(" {} {}", clock(s.until_ms), tr(lang, "Time")) }</small></h2>
            <div class="table-wrap"><table class="summary-table">
                <thead><tr>
                    <th>{ tr(lang, "replica") }</th><th>{ tr(lang, "full syncs") }</th><th>{ tr(lang, "partial resyncs") }</th>
                    <th>{ tr(lang, "disconnects") }</th><th>{ tr(lang, "peak output buffer") }</th><th>{ tr(lang, "in sync at end") }</th>
                </tr></thead>
                <tbody>
                { for s.replicas.iter().map(|r| {
                    let disc: u64 = r.disconnects.values().sum();
                    html!{ <tr data-replica={r.name.clone()} data-full-syncs={r.full_syncs.to_string()} data-partial-ok={r.partial_syncs_accepted.to_string()}
                        data-partial-refused={r.partial_syncs_refused.to_string()} data-disconnects={disc.to_string()}
                        data-in-sync={r.in_sync_at_end.to_string()} data-final-offset={r.final_offset.to_string()}>
                        <td>{ &r.name }</td><td>{ r.full_syncs }</td>
                        <td>{ format!("{} / {}", r.partial_syncs_accepted, r.partial_syncs_refused) }</td>
                        <td title={r.disconnects.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}>{ disc }</td>
                        <td>{ bytes(r.peak_output_buffer_bytes) }</td>
                        <td>{ if r.in_sync_at_end { tr(lang, "yes") } else { tr(lang, "no") } }</td>
                    </tr> }
                }) }
                </tbody>
            </table></div>
            <p><small>{ format!("{}: {} {}, {} {} ({}), BGSAVE {}", tr(lang, "master"), tr(lang, "peak backlog"), bytes(s.master.peak_backlog_bytes),
                tr(lang, "offset"), bytes(s.master.final_offset.max(0) as u64), s.master.final_offset, s.master.bgsaves) }</small></p>
        </div>
    }
}

/// INFO replication of any node.
pub fn info(m: &Model, d: &Dispatch) -> Html {
    let n = m.main.sim.frame().replicas.len();
    let node = m.info_node.min(n);
    let onchange = d.reform(|e: Event| Action::SelectNode(select_value(&e).parse().unwrap_or(0)));
    html! {
        <div data-testid="info">
            <h2>{ "INFO replication " }
                <select {onchange} data-testid="info-node">
                    <option value="0" selected={node == 0}>{ "master" }</option>
                    { for (1..=n).map(|i| html!{ <option value={i.to_string()} selected={node == i}>{ format!("replica {i}") }</option> }) }
                </select>
            </h2>
            <pre class="info">{ m.main.sim.info_replication(node) }</pre>
        </div>
    }
}

/// Every parameter's current text value, in `sim::params()` order: what the parameter panel and
/// the adviser depend on (so they re-render only when a value changes).
pub fn param_values(s: &sim::Scenario) -> Vec<(String, String)> {
    sim::params()
        .into_iter()
        .map(|p| (p.name.to_string(), s.get(p.name).unwrap_or_default()))
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct ParamsProps {
    pub values: Vec<(String, String)>,
    pub lang: Lang,
    pub mode: ChangeMode,
    pub error: Option<String>,
    pub dispatch: Dispatch,
}

/// One slider or choice per simulator parameter, built from `sim::params()`.
#[function_component(ParamsPanel)]
pub fn params_panel(p: &ParamsProps) -> Html {
    let lang = p.lang;
    let d = &p.dispatch;
    let mode = p.mode;
    let on_mode = d.reform(|e: Event| {
        Action::SetChangeMode(if select_value(&e) == "fork" {
            ChangeMode::Fork
        } else {
            ChangeMode::Restart
        })
    });
    html! {
        <section data-testid="parameters">
            <label>{ tr(lang, "When a parameter changes") }{ " " }
                <select onchange={on_mode} data-testid="change-mode">
                    <option value="restart" selected={mode == ChangeMode::Restart}>{ tr(lang, "restart from zero") }</option>
                    <option value="fork" selected={mode == ChangeMode::Fork}>{ tr(lang, "fork from now") }</option>
                </select>
            </label>
            if let Some(e) = &p.error { <p class="notices" role="alert" data-testid="param-error">{ e.clone() }</p> }
            <div class="params">
                { for sim::params().into_iter().zip(&p.values).filter(|(s, _)| s.unit != "text").map(|(s, (_, v))| param(d, s, v, lang)) }
            </div>
        </section>
    }
}

fn param(d: &Dispatch, p: ParamSpec, current: &str, lang: Lang) -> Html {
    let name = p.name;
    let current = current.to_string();
    let id = format!("param-{name}");
    let input = if !p.choices.is_empty() {
        let onchange =
            d.reform(move |e: Event| Action::SetParam(name.to_string(), select_value(&e)));
        html! {
            <select id={id.clone()} {onchange} data-param={name}>
                { for p.choices.iter().map(|c| html!{ <option value={c.to_string()} selected={*c == current}>{ c.to_string() }</option> }) }
            </select>
        }
    } else {
        let numeric = params::numeric(&p, &current).unwrap_or(p.default);
        let spec = p.clone();
        // Round values on a log scale where the range spans decades (`params::steps`).
        let steps = params::steps(&p);
        let pos = params::position(&steps, numeric);
        let last = steps.len() - 1;
        let st = steps.clone();
        let on_slide = d.reform(move |e: Event| {
            let i = change_value(&e).parse::<usize>().unwrap_or(0).min(last);
            Action::SetParam(name.to_string(), params::text(&spec, st[i]))
        });
        let on_text =
            d.reform(move |e: Event| Action::SetParam(name.to_string(), change_value(&e)));
        html! {
            <>
                <input type="range" min="0" max={last.to_string()} step="1" value={pos.to_string()} onchange={on_slide}
                       aria-label={name} aria-valuetext={current.clone()} data-param={name}/>
                <input type="text" id={id.clone()} value={current.clone()} onchange={on_text} data-param-text={name}/>
            </>
        }
    };
    html! {
        <div class="param">
            <label for={id}>{ name }<span class="help">{ format!(" ({})", p.unit) }</span></label>
            { input }
            <div class="help">{ match lang { Lang::Zh => param_help_zh(p.name).unwrap_or(p.help), Lang::En => p.help } }</div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct AdviserProps {
    pub scenario: sim::Scenario,
    pub lang: Lang,
}

/// The sizing adviser, fed from the current scenario.
#[function_component(AdviserPanel)]
pub fn adviser_panel(p: &AdviserProps) -> Html {
    let lang = p.lang;
    // The outage a partial resync should survive: one minute, the adviser's own default.
    let a = advise::advise(&advise::AdviseInput::from_scenario(&p.scenario, 60_000));
    html! {
        <details class="adviser" data-testid="adviser">
            <summary><h2 style="display:inline">{ tr(lang, "Sizing adviser") }</h2></summary>
            <p>{ tr(lang, "Recommended") }{ ":" }</p>
            <pre data-testid="advice">{ a.config_lines() }</pre>
            <details><summary>{ tr(lang, "Show the arithmetic") }</summary>
                <ol>{ for a.steps.iter().map(|s| html!{ <li>{ s.clone() }</li> }) }</ol>
                { for a.warnings.iter().map(|w| html!{ <p class="notices">{ w.clone() }</p> }) }
            </details>
        </details>
    }
}

pub fn help(m: &Model, d: &Dispatch) -> Html {
    if !m.help_open {
        return html! {};
    }
    let lang = m.st.lang;
    html! {
        <div class="backdrop" onclick={d.reform(|_| Action::ToggleHelp)}>
            <dialog class="help" open=true data-testid="help" aria-label={tr(lang, "Keyboard shortcuts")} aria-modal="true"
                    onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
                <h2>{ tr(lang, "Keyboard shortcuts") }</h2>
                <table>{ for HELP_ROWS.iter().map(|(k, what)| html!{ <tr><td><kbd>{ *k }</kbd></td><td>{ tr(lang, what) }</td></tr> }) }</table>
                <p><small>{ tr(lang, "Click a node for its INFO, a buffer for what it holds, a link to cut it for 10 s.") }</small></p>
                <p><small>{ tr(lang, "Paused while the tab is hidden.") }</small></p>
                <button type="button" onclick={d.reform(|_| Action::ToggleHelp)} autofocus=true>{ tr(lang, "Close") }</button>
            </dialog>
        </div>
    }
}

/// The details of the stage part last clicked, over the stage: a node's INFO replication, what
/// an output buffer holds and why it is limited, what the fork child and the disk do.
pub fn inspector(m: &Model, stage: &Stage, d: &Dispatch) -> Html {
    let Some(id) = m.inspect.as_deref() else {
        return html! {};
    };
    let lang = m.st.lang;
    let zh = lang == Lang::Zh;
    let replica = |prefix: &str| {
        id.strip_prefix(prefix)
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| stage.replicas.get(k.wrapping_sub(1)))
    };
    let (title, body) = if id == "master" {
        (
            format!("{} — INFO replication", stage.master.name),
            html! { <pre class="info">{ m.main.sim.info_replication(0) }</pre> },
        )
    } else if let Some(r) = replica("replica-") {
        (
            format!("{} — INFO replication", r.name),
            html! { <pre class="info">{ m.main.sim.info_replication(r.index + 1) }</pre> },
        )
    } else if let Some(r) = replica("tank-") {
        let t = &r.tank;
        let why = match (r.state, r.local_buffer > 0, zh) {
            (_, true, false) => "Second channel (Redis 8.2 RDB channel, Valkey dual channel): the master streams writes to the replica at once, and the replica buffers them itself until its load is done, so this buffer stays small.",
            (_, true, true) => "第二条连接（Redis 8.2 的 RDB 通道、Valkey 的双通道）：主节点立即把写入发给从节点，由从节点自己缓存到加载结束，所以这个缓冲区很小。",
            (ReplicaState::WaitingBgsave, _, false) => "It holds every write since the fork: the replica will need them after the RDB, which does not exist yet.",
            (ReplicaState::WaitingBgsave, _, true) => "它保存 fork 以来的每个写入：从节点在 RDB 之后需要它们，而 RDB 还没生成。",
            (ReplicaState::Receiving, _, false) => "It holds every write since the fork, until the whole RDB has been sent: the stream can only follow the file.",
            (ReplicaState::Receiving, _, true) => "它保存 fork 以来的每个写入，直到整个 RDB 发送完：同步流只能跟在文件后面。",
            (ReplicaState::Loading, _, false) => "The replica is loading the RDB and does not read its link, so nothing drains: every write piles up here.",
            (ReplicaState::Loading, _, true) => "从节点正在加载 RDB，不读取链路，缓冲区无法排空：每个写入都堆积在这里。",
            (_, _, false) => "It holds the writes the link has not carried yet; it drains as fast as the link allows.",
            (_, _, true) => "它保存链路还没发送的写入，以链路允许的速度排空。",
        };
        let limit = if zh {
            format!(
                "限制 client-output-buffer-limit replica {} {} {}：一旦超过 {}，或超过 {} 持续 {} 秒以上，主节点就断开这个从节点，它必须重新全量同步。这样可以防止一个慢从节点耗尽主节点的内存。",
                bytes(t.hard), bytes(t.soft), t.soft_seconds, bytes(t.hard), bytes(t.soft), t.soft_seconds
            )
        } else {
            format!(
                "Limit client-output-buffer-limit replica {} {} {}: over {} at once, or over {} for more than {} s, and the master closes the connection; the replica must then sync again. This keeps one slow replica from eating the master's memory.",
                bytes(t.hard), bytes(t.soft), t.soft_seconds, bytes(t.hard), bytes(t.soft), t.soft_seconds
            )
        };
        (
            format!(
                "{} — {} {}",
                r.name,
                tr(lang, "output buffer"),
                bytes(t.bytes)
            ),
            html! { <><p>{ why }</p><p>{ limit }</p></> },
        )
    } else if id == "fork" {
        let text = if zh {
            "BGSAVE 会 fork 一个子进程：它看到 fork 那一刻的数据集，并把它写成 RDB（写入磁盘，或无盘同步时直接写入从节点套接字）。父进程继续处理写入；每个被修改的内存页都要复制一份（写时复制）。"
        } else {
            "A BGSAVE forks a child: it sees the dataset as it was at the fork and writes it as an RDB (to disk, or with diskless sync straight into the replica sockets). The parent keeps serving writes; each page they touch is copied once (copy-on-write)."
        };
        (
            tr(lang, "fork child (BGSAVE)").to_string(),
            html! { <p>{ text }</p> },
        )
    } else if id == "disk" {
        let text = if zh {
            "磁盘同步（repl-diskless-sync no）：子进程先把整个 RDB 写入文件，写完后主节点才从磁盘读出它发送给从节点。从节点的缓冲区在整个过程中都在增长：这就是无盘同步更快的原因。"
        } else {
            "Disk sync (repl-diskless-sync no): the child writes the whole RDB to a file first, and only then does the master read it back to send it. The replica's buffer grows through both steps: this is what diskless sync saves."
        };
        (
            tr(lang, "master's disk").to_string(),
            html! { <p>{ text }</p> },
        )
    } else {
        return html! {};
    };
    html! {
        <aside class="inspector" data-testid="inspector" data-part={id.to_string()} aria-label={title.clone()}>
            <header>
                <strong>{ title }</strong>
                <button type="button" onclick={d.reform(|_| Action::CloseInspector)} aria-label={tr(lang, "Close")} data-testid="inspector-close">{ "✕" }</button>
            </header>
            { body }
        </aside>
    }
}
