//! What sits around the stage for a lesson (wasm only; the rules are `tour.rs`'s): the lesson
//! line in the header (the lesson, its step, Prev and Next), the deck under the stage (the
//! step's text with its question or task, the narration, and the knobs that matter), the log
//! lines over the stage, and the table of contents. In free play the deck holds the caption
//! (A and B in side by side) and the preset's knobs.

use super::app::Dispatch;
use super::caption::Caption;
use super::i18n::tr;
use super::lessons::{self, fill::fill, script::mark_name, Step, GROUPS, LESSONS};
use super::model::{Action, Model};
use super::params;
use super::sizing;
use super::stage::Stage;
use super::tour::{Nav, Outcome, Phase};
use super::url::Lang;
use super::versions;
use crate::sim::{self, ParamSpec};
use crate::web::format::clock;
use crate::web::lessons::script::Cond;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The lesson in the header: the table of contents, the lesson's title, the step and its
/// Prev/Next, and leaving for free play.
pub fn lesson_line(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let Some(t) = m.tour.as_ref().filter(|t| t.on) else {
        return html! {};
    };
    let n = t.lesson.steps.len();
    html! {
        <div class="lesson-line" data-testid="lesson-line">
            <button type="button" onclick={d.reform(|_| Action::ToggleContents)} data-testid="contents-button" aria-keyshortcuts="l">{ format!("☰ {}", tr(lang, "Lessons")) }</button>
            <strong class="lesson-title" title={t.lesson.summary.get(lang)}>{ t.lesson.title.get(lang) }</strong>
            <button type="button" onclick={d.reform(|_| Action::Lesson(Nav::Prev))} data-testid="prev" aria-keyshortcuts="ArrowLeft" title={tr(lang, "Previous step")}>{ "◀" }</button>
            <span class="step-count" data-testid="step-count">{ format!("{} / {n}", t.step + 1) }</span>
            <button type="button" class="primary" onclick={d.reform(|_| Action::Lesson(Nav::Next))} data-testid="next" aria-keyshortcuts="ArrowRight" title={tr(lang, "Next step")}>{ format!("{} ▶", tr(lang, "Next")) }</button>
            <button type="button" onclick={d.reform(|_| Action::Lesson(Nav::Leave))} data-testid="leave" title={tr(lang, "Leave the lesson and play freely")}>{ tr(lang, "Free play") }</button>
        </div>
    }
}

/// The way back to a lesson left for free play, and the table of contents, for the header.
pub fn lessons_button(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let back = m.tour.as_ref().filter(|t| !t.on).map(|t| {
        html! {
            <button type="button" onclick={d.reform(|_| Action::Lesson(Nav::Return))} data-testid="return">
                { back_label(lang, t.step + 1) }
            </button>
        }
    });
    html! {
        <>
            <button type="button" onclick={d.reform(|_| Action::ToggleContents)} data-testid="contents-button" aria-keyshortcuts="l">{ format!("☰ {}", tr(lang, "Lessons")) }</button>
            { back }
        </>
    }
}

/// "↩ Back to step 3" / "↩ 回到第 3 步".
fn back_label(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("↩ Back to step {n}"),
        Lang::Zh => format!("↩ 回到第 {n} 步"),
    }
}

/// Under the stage: the lesson's card or the caption, and the knobs beside it.
pub fn deck(
    m: &Model,
    stage: &Stage,
    cap: &Caption,
    b: Option<&(Stage, Caption)>,
    d: &Dispatch,
) -> Html {
    let knobs = knobs(m, d);
    let left = match m.tour.as_ref().filter(|t| t.on) {
        Some(_) => card(m, stage, cap, d),
        None => captions(m, cap, b),
    };
    html! {
        <section class="deck" data-testid="deck">
            { left }
            { knobs }
        </section>
    }
}

fn narration(cap: &Caption, prefix: &str, testid: &'static str, class: &'static str) -> Html {
    html! {
        <p class={classes!("caption", class)} data-testid={testid} data-part={cap.part.clone().unwrap_or_default()} aria-live="polite">
            if !prefix.is_empty() { <strong class="ab">{ prefix.to_string() }</strong>{ " " } }
            { cap.text.clone() }
        </p>
    }
}

/// Free play: the caption; in side by side A's and B's, each labelled with what differs.
fn captions(m: &Model, cap: &Caption, b: Option<&(Stage, Caption)>) -> Html {
    match b {
        Some((_, bcap)) => {
            let (la, lb) = ab_labels(m);
            html! {
                <div class="card">
                    { narration(cap, &la, "caption", "") }
                    { narration(bcap, &lb, "caption-b", "") }
                </div>
            }
        }
        None => html! { <div class="card">{ narration(cap, "", "caption", "") }</div> },
    }
}

/// "A · repl-diskless-sync no" and "B · repl-diskless-sync yes": what differs, on both sides.
pub fn ab_labels(m: &Model) -> (String, String) {
    let changes = m.compare_changes();
    let now = m.main.sim.scenario();
    let a: Vec<String> = changes
        .iter()
        .map(|(n, _)| versions::change_label(n, &params::value(now, n).unwrap_or_default()))
        .collect();
    let b: Vec<String> = changes
        .iter()
        .map(|(n, v)| versions::change_label(n, v))
        .collect();
    (
        format!("A · {}", a.join(", ")),
        format!("B · {}", b.join(", ")),
    )
}

fn card(m: &Model, stage: &Stage, cap: &Caption, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let Some(t) = m.tour.as_ref() else {
        return html! {};
    };
    let step = t.current();
    let phase = match &t.phase {
        Phase::Playing => "playing",
        Phase::Arrived => "arrived",
        Phase::Asking => "asking",
        Phase::Answering => "answering",
        Phase::Revealed => "revealed",
        Phase::Task => "task",
        Phase::Trying => "trying",
        Phase::Tried(_) => "tried",
    };
    let arrived =
        matches!(t.phase, Phase::Arrived | Phase::Revealed | Phase::Tried(_)) && !t.off_script;
    let body = if let Some(e) = &t.error {
        html! { <p class="notices" role="alert" data-testid="lesson-error">{ e.clone() }</p> }
    } else {
        html! {
            <>
                { question(m, step, stage, d) }
                { task(m, step, stage, d) }
            </>
        }
    };
    let off = t.off_script.then(|| {
        html! {
            <p class="off-script" data-testid="off-script">
                { tr(lang, "You changed the run: you are exploring on your own.") }{ " " }
                <button type="button" onclick={d.reform(|_| Action::Lesson(Nav::Return))} data-testid="return">{ back_label(lang, t.step + 1) }</button>
            </p>
        }
    });
    html! {
        <div class="card lesson" data-testid="lesson" data-lesson={t.lesson.id} data-step={(t.step + 1).to_string()}
             data-phase={phase} data-arrived={arrived.to_string()} data-point={step.point}>
            <p class="step-text">
                <strong data-testid="step-title">{ step.title.get(lang) }</strong>{ " " }
                <span data-testid="lesson-text">{ fill(step.caption.get(lang), stage, m.main.sim.scenario()) }</span>
            </p>
            { body }
            { off }
            { narration(cap, "", "caption", "narration") }
        </div>
    }
}

fn question(m: &Model, step: &Step, stage: &Stage, d: &Dispatch) -> Html {
    let (Some(q), Some(t)) = (&step.question, m.tour.as_ref()) else {
        return html! {};
    };
    let lang = m.st.lang;
    let revealed = t.phase == Phase::Revealed;
    let given = t.answer().flatten();
    let choices = q.choices.iter().enumerate().map(|(i, c)| {
        let class = classes!(
            "choice",
            (given == Some(i)).then_some("chosen"),
            (revealed && i == q.answer).then_some("right"),
            (revealed && given == Some(i) && i != q.answer).then_some("wrong")
        );
        let mark = match (revealed, i == q.answer, given == Some(i)) {
            (true, true, _) => "✓ ",
            (true, false, true) => "✗ ",
            _ => "",
        };
        html! {
            <button type="button" {class} data-choice={(i + 1).to_string()} disabled={t.phase != Phase::Asking}
                    onclick={d.reform(move |_| Action::Lesson(Nav::Answer(i)))} aria-keyshortcuts={(i + 1).to_string()}>
                { format!("{mark}{} {}", i + 1, fill(c.get(lang), stage, m.main.sim.scenario())) }
            </button>
        }
    });
    let verdict = revealed.then(|| {
        let head = match given {
            Some(g) if g == q.answer => tr(lang, "Right.").to_string(),
            Some(_) => format!("{} {}.", tr(lang, "Not quite: the answer is"), q.answer + 1),
            None => format!("{} {}.", tr(lang, "The answer is"), q.answer + 1),
        };
        html! { <p class="why" data-testid="why-answer" data-right={(q.answer + 1).to_string()}><strong>{ head }</strong>{ " " }{ fill(q.why.get(lang), stage, m.main.sim.scenario()) }</p> }
    });
    html! {
        <div class="question" data-testid="question" data-given={given.map(|g| (g + 1).to_string()).unwrap_or_default()}>
            <p class="ask"><strong>{ fill(q.ask.get(lang), stage, m.main.sim.scenario()) }</strong>
                if t.phase == Phase::Asking { <small>{ format!(" {}", tr(lang, "Choose, then watch:")) }</small> }
            </p>
            <div class="choices">{ for choices }</div>
            { verdict }
        </div>
    }
}

fn task(m: &Model, step: &Step, stage: &Stage, d: &Dispatch) -> Html {
    let (Some(task), Some(t)) = (&step.task, m.tour.as_ref()) else {
        return html! {};
    };
    let lang = m.st.lang;
    let zh = lang == Lang::Zh;
    let changes: Vec<String> = m
        .main
        .edits()
        .iter()
        .filter_map(|(_, e)| match e {
            super::run::Edit::Set(n, v) => Some(format!("{n} {v}")),
            _ => None,
        })
        .collect();
    let outcome = match &t.phase {
        Phase::Tried(Outcome::Done) => html! {
            <p class="done" data-testid="task-outcome" data-outcome="done">{ format!("✓ {}", fill(task.done.get(lang), stage, m.main.sim.scenario())) }</p>
        },
        Phase::Tried(Outcome::Failed { cond, at_ms, shown }) => {
            let why = match (cond, at_ms, shown) {
                (Cond::Never(k), Some(at), _) if zh => {
                    format!("{} 发生了 {}。", clock(*at), mark_name(*k))
                }
                (Cond::Never(k), Some(at), _) => {
                    format!("a {} happened at {}.", mark_name(*k), clock(*at))
                }
                (Cond::Ends(p, _), _, Some(s)) if zh => format!("{p} 最后是 {s}。"),
                (Cond::Ends(p, _), _, Some(s)) => format!("{p} ended {s}."),
                (c, _, _) => format!("{}.", c.describe(zh)),
            };
            html! { <p class="fail" data-testid="task-outcome" data-outcome="failed">{ format!("✗ {} {why}", tr(lang, "Not yet:")) }</p> }
        }
        _ => html! {},
    };
    let advice = step.advise.then(|| {
        html! { <p class="advice" data-testid="advice-line">{ sizing::words(m.main.sim.scenario(), lang) }</p> }
    });
    html! {
        <div class="task" data-testid="task">
            { advice }
            <p>
                <button type="button" class="primary" onclick={d.reform(|_| Action::Lesson(Nav::Try))} data-testid="try"
                        disabled={t.phase == Phase::Trying}>{ format!("▶ {}", tr(lang, "Try it")) }</button>
                { " " }
                <span class="changes" data-testid="changes">
                    { if changes.is_empty() { tr(lang, "No change yet: turn a knob.").to_string() } else { format!("{} {}", tr(lang, "Your change:"), changes.join(", ")) } }
                </span>
                { " " }
                if !changes.is_empty() {
                    <button type="button" onclick={d.reform(|_| Action::Lesson(Nav::Replay))} data-testid="reset">{ format!("↺ {}", tr(lang, "Undo")) }</button>
                }
            </p>
            { outcome }
        </div>
    }
}

/// The knobs that matter for this step or preset: a slider through round values (sizes on a
/// log scale in Redis units), a switch for yes/no, a list for the rest. A change forks the run
/// from now unless the Parameters tab says otherwise.
fn knobs(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let names: &[&str] = match m.tour.as_ref().filter(|t| t.on) {
        Some(t) => t.current().knobs,
        None => lessons::guide(&m.st.preset).map_or(&[], |g| g.knobs),
    };
    if names.is_empty() {
        return html! {};
    }
    let all = sim::params();
    let scenario = m.main.sim.scenario();
    let task = m
        .tour
        .as_ref()
        .is_some_and(|t| t.on && t.current().task.is_some());
    html! {
        <div class={classes!("knobs", task.then_some("task"))} data-testid="knobs" role="group" aria-label={tr(lang, "What matters here")}>
            { for names.iter().filter_map(|n| {
                let spec = params::spec(n, &all)?;
                let value = params::value(scenario, n)?;
                Some(knob(d, n, spec, value, lang))
            }) }
        </div>
    }
}

fn knob(d: &Dispatch, name: &str, p: ParamSpec, value: String, lang: Lang) -> Html {
    let owned = name.to_string();
    let label = match super::labels::knob_label(name) {
        "" => name.to_string(),
        l => tr(lang, l).to_string(),
    };
    let control = if p.unit == "bool" {
        let on = value == "yes";
        let n = owned.clone();
        let next = if on { "no" } else { "yes" };
        html! {
            <button type="button" role="switch" aria-checked={on.to_string()} class={classes!("switch", on.then_some("on"))}
                    onclick={d.reform(move |_| Action::SetParam(n.clone(), next.to_string()))} data-knob-control={owned.clone()}
                    aria-label={format!("{label} ({name})")}>
                { if on { "● yes" } else { "○ no" } }
            </button>
        }
    } else if !p.choices.is_empty() {
        let n = owned.clone();
        let onchange = d.reform(move |e: Event| Action::SetParam(n.clone(), target_value(&e)));
        html! {
            <select {onchange} data-knob-control={owned.clone()} aria-label={format!("{label} ({name})")}>
                { for p.choices.iter().map(|c| html!{ <option value={c.to_string()} selected={*c == value}>{ c.to_string() }</option> }) }
            </select>
        }
    } else {
        let steps = params::steps(&p);
        let pos = params::numeric(&p, &value).map_or(0, |v| params::position(&steps, v));
        let n = owned.clone();
        let spec = p.clone();
        let st = steps.clone();
        let onchange = d.reform(move |e: Event| {
            let i = target_value(&e)
                .parse::<usize>()
                .unwrap_or(0)
                .min(st.len() - 1);
            Action::SetParam(n.clone(), params::text(&spec, st[i]))
        });
        html! {
            <input type="range" min="0" max={(steps.len() - 1).to_string()} step="1" value={pos.to_string()} {onchange}
                   data-knob-control={owned.clone()} aria-label={format!("{label} ({name})")} aria-valuetext={value.clone()}/>
        }
    };
    html! {
        <div class="knob" data-knob={owned.clone()} title={name.to_string()}>
            <span class="knob-head"><span class="knob-name">{ label }</span><output class="knob-value" data-testid="knob-value">{ value }</output></span>
            { control }
        </div>
    }
}

fn target_value(e: &Event) -> String {
    let Some(t) = e.target() else {
        return String::new();
    };
    if let Some(i) = t.dyn_ref::<web_sys::HtmlInputElement>() {
        return i.value();
    }
    t.dyn_ref::<web_sys::HtmlSelectElement>()
        .map(|s| s.value())
        .unwrap_or_default()
}

/// The newest log lines over the stage, as they happen (a step with `log = true`).
pub fn log_ticker(m: &Model) -> Html {
    let show = m.tour.as_ref().is_some_and(|t| t.on && t.current().log);
    if !show {
        return html! {};
    }
    let now = m.now_ms();
    let log = m.main.sim.log();
    let upto = log.partition_point(|l| l.t_ms <= now);
    let lines = &log[upto.saturating_sub(3)..upto];
    html! {
        <ol class="ticker" data-testid="ticker" aria-label={tr(m.st.lang, "Log")}>
            { for lines.iter().map(|l| {
                // "1000:M 21 Nov 2026 10:01:25.112 * text": keep the time and the words.
                let short = l.line.splitn(5, ' ').collect::<Vec<_>>();
                let text = if short.len() == 5 { format!("{} {}", short[3], short[4]) } else { l.line.clone() };
                html!{ <li class={classes!(l.line.contains(" # ").then_some("warn"))}><span class="node">{ &l.node }</span>{ " " }{ text }</li> }
            }) }
        </ol>
    }
}

/// The table of contents: every lesson and its steps, then the presets in their groups.
pub fn contents(m: &Model, d: &Dispatch) -> Html {
    if !m.contents_open {
        return html! {};
    }
    let lang = m.st.lang;
    let here = m.tour.as_ref().map(|t| (t.lesson.id, t.step));
    html! {
        <div class="backdrop" onclick={d.reform(|_| Action::ToggleContents)}>
            <dialog class="help contents" open=true data-testid="contents" aria-label={tr(lang, "Lessons")} aria-modal="true"
                    onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
                <h2>{ tr(lang, "Lessons") }</h2>
                <ol class="toc">
                    { for LESSONS.iter().map(|l| html! {
                        <li data-lesson={l.id}>
                            <strong>{ l.title.get(lang) }</strong>
                            <small>{ format!(" — {}", l.summary.get(lang)) }</small>
                            <ol class="toc-steps">
                                { for l.steps.iter().enumerate().map(|(i, s)| {
                                    let id = l.id.to_string();
                                    let current = here == Some((l.id, i));
                                    html!{ <li><button type="button" class={classes!("link", current.then_some("current"))} data-step={(i + 1).to_string()}
                                        aria-current={current.then_some("step")}
                                        onclick={d.reform(move |_| Action::Lesson(Nav::Open(id.clone(), i)))}>{ s.title.get(lang) }</button></li> }
                                }) }
                            </ol>
                        </li>
                    }) }
                </ol>
                <h2>{ tr(lang, "Presets: play freely") }</h2>
                { for GROUPS.iter().map(|g| html! {
                    <p class="toc-presets"><strong>{ g.title.get(lang) }{ ": " }</strong>
                        { for g.presets.iter().map(|p| {
                            let name = p.name.to_string();
                            html!{ <button type="button" class="link" data-preset={p.name} onclick={d.reform(move |_| Action::SetPreset(name.clone()))}>{ p.name }</button> }
                        }) }
                    </p>
                }) }
                <button type="button" onclick={d.reform(|_| Action::ToggleContents)} autofocus=true>{ tr(lang, "Close") }</button>
            </dialog>
        </div>
    }
}

/// Side by side's chooser: what B changes (the preset's own comparison unless the learner picks
/// another), any parameter and value, with no URL editing.
pub fn compare_chooser(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let changes = m.compare_changes();
    let first = changes.first().cloned().unwrap_or_default();
    let name = NodeRef::default();
    let value = NodeRef::default();
    let apply = {
        let (name, value) = (name.clone(), value.clone());
        d.reform(move |_: MouseEvent| {
            let n = name
                .cast::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
                .unwrap_or_default();
            let v = value
                .cast::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            Action::SetCompare(vec![(n, v.trim().to_string())])
        })
    };
    let own = lessons::guide(&m.st.preset).map(|g| g.compare.join(", "));
    html! {
        <div class="compare-chooser" data-testid="compare-chooser">
            <strong>{ tr(lang, "B changes") }{ ": " }</strong>
            <select ref={name} data-testid="compare-name" aria-label={tr(lang, "Parameter")}>
                { for sim::params().into_iter().filter(|p| p.unit != "text").map(|p| html! {
                    <option value={p.name} selected={p.name == first.0}>{ p.name }</option>
                }) }
            </select>
            { " = " }
            <input type="text" ref={value} value={first.1.clone()} size="8" data-testid="compare-value" aria-label={tr(lang, "Value")}/>
            { " " }
            <button type="button" onclick={apply} data-testid="compare-apply">{ tr(lang, "Compare") }</button>
            { " " }
            { super::version_view::compare_chooser(m, d) }
            if let Some(own) = own.filter(|_| !m.st.compare_change.is_empty()) {
                { " " }
                <button type="button" class="link" onclick={d.reform(|_| Action::SetCompare(Vec::new()))} data-testid="compare-own">
                    { format!("{} ({own})", tr(lang, "The preset's own comparison")) }
                </button>
            }
        </div>
    }
}
