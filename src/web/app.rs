//! The Yew application (wasm32 only): wires the model to the page.
//!
//! The model lives in one `Rc<RefCell<Model>>` (cloning a simulation on every action would be
//! wasteful); every action mutates it and forces one re-render. Playing is a
//! `requestAnimationFrame` loop re-armed each frame that advances virtual time by
//! `dt × speed`; it stops when paused and while the tab is hidden.

use super::i18n::tr;
use super::live_view;
use super::model::{Action, Model, SPEEDS};
use super::panels;
use super::url::Lang;
use super::views::{
    buffers::BufferBars, chart::Chart, log::LogView, ring::BacklogRing, timeline::Timeline,
};
use crate::view::LogLine;
use crate::web::format::{clock, decimate};
use gloo_events::EventListener;
use gloo_render::{request_animation_frame, AnimationFrame};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Dispatches an action: mutate the model, then re-render once.
pub type Dispatch = Callback<Action>;

#[function_component(App)]
pub fn app() -> Html {
    let model = use_mut_ref(|| Model::from_query(&current_query()));
    let force = use_force_update();
    // One callback for the app's lifetime, so panels whose other props did not change can skip
    // re-rendering (a new callback each frame would make every props comparison fail).
    let dispatch: Dispatch = {
        let model = model.clone();
        let force = force.clone();
        (*use_memo((), move |_| {
            Callback::from(move |a: Action| {
                let is_tick = matches!(a, Action::Tick(_) | Action::LiveMessage(_));
                model.borrow_mut().apply(a);
                if !is_tick {
                    replace_url(&model.borrow().query());
                }
                force.force_update();
            })
        }))
        .clone()
    };

    // The animation loop, alive while playing.
    let playing = model.borrow().playing;
    {
        let dispatch = dispatch.clone();
        let model = model.clone();
        use_effect_with(playing, move |playing| {
            let alive = Rc::new(Cell::new(*playing));
            let handle: Rc<RefCell<Option<AnimationFrame>>> = Rc::new(RefCell::new(None));
            if *playing {
                arm(
                    handle.clone(),
                    alive.clone(),
                    Rc::new(Cell::new(None)),
                    dispatch,
                    model,
                );
            }
            move || {
                alive.set(false);
                handle.borrow_mut().take();
            }
        });
    }

    // The live feed's socket, reopened whenever its address changes and closed on drop.
    let live_url = model.borrow().live.as_ref().map(|l| l.url.clone());
    {
        let dispatch = dispatch.clone();
        use_effect_with(live_url, move |url| {
            let socket = url
                .as_deref()
                .and_then(|u| live_view::LiveSocket::open(u, dispatch));
            move || drop(socket)
        });
    }

    // Keyboard shortcuts and pausing in hidden tabs, installed once.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let document = gloo_utils_document();
            let d1 = dispatch.clone();
            let keys = EventListener::new(&document, "keydown", move |e| {
                if let Some(e) = e.dyn_ref::<KeyboardEvent>() {
                    if let Some(a) = shortcut(e) {
                        e.prevent_default();
                        d1.emit(a);
                    }
                }
            });
            let d2 = dispatch.clone();
            let doc2 = document.clone();
            let visibility = EventListener::new(&document, "visibilitychange", move |_| {
                d2.emit(Action::Hidden(doc2.hidden()));
            });
            move || {
                drop(keys);
                drop(visibility);
            }
        });
    }

    let m = model.borrow();
    let lang = m.st.lang;
    let now = m.now_ms();
    let end = m.end_ms();
    let frame = m.main.sim.frame();
    let names: Vec<String> = frame.replicas.iter().map(|r| r.name.clone()).collect();
    let seek = dispatch.reform(Action::Seek);
    let on_mark = dispatch.reform(|i| Action::SelectMark(Some(i)));
    let (soft, hard) = frame
        .replicas
        .first()
        .map(|r| (r.soft_limit, r.hard_limit))
        .unwrap_or((0, 0));

    let single = html! {
        <>
            <div class="grid">
                <section class="panel">
                    <BacklogRing master={frame.master.clone()} replicas={frame.replicas.clone()} {lang}/>
                </section>
                <section class="panel">
                    <BufferBars replicas={frame.replicas.clone()} now_ms={now} {lang}/>
                    { panels::faults(&m, &dispatch) }
                </section>
            </div>
            <section class="panel">
                <Timeline names={names.clone()} spans={m.main.sim.spans().to_vec()} marks={m.main.sim.marks().to_vec()}
                          now_ms={now} end_ms={end} {lang} on_seek={seek.clone()} on_mark={on_mark.clone()}/>
            </section>
        </>
    };
    let compared = m.cmp.as_ref().map(|c| {
        let cf = c.sim.frame();
        let (n, v) = &m.st.compare_change;
        let label_a = format!(" — A: {}", m.scenario.get(n).unwrap_or_default());
        let label_b = format!(" — B: {n} {v}");
        html! {
            <section class="panel compare" data-testid="compare">
                <h2>{ tr(lang, "Side by side") }<small>{ format!(" {}: {n} = {} → {v}", tr(lang, "Compared change"), m.scenario.get(n).unwrap_or_default()) }</small></h2>
                <div class="compare-grid">
                    <Timeline names={names.clone()} spans={m.main.sim.spans().to_vec()} marks={m.main.sim.marks().to_vec()}
                              now_ms={now} end_ms={end} {lang} on_seek={seek.clone()} label={label_a}/>
                    <Timeline names={cf.replicas.iter().map(|r| r.name.clone()).collect::<Vec<_>>()} spans={c.sim.spans().to_vec()}
                              marks={c.sim.marks().to_vec()} now_ms={now} end_ms={end} {lang} on_seek={seek.clone()} label={label_b.clone()}/>
                </div>
                <div class="grid">
                    <BacklogRing master={cf.master.clone()} replicas={cf.replicas.clone()} {lang} title={label_b}/>
                    <BufferBars replicas={cf.replicas.clone()} now_ms={now} {lang}/>
                </div>
            </section>
        }
    });

    html! {
        <main class={classes!("app", m.st.large.then_some("big"))} id="app-ready" lang={if lang == Lang::Zh {"zh-CN"} else {"en"}}
              data-playing={m.playing.to_string()} data-now={now.to_string()} data-speed={m.st.speed.to_string()}>
            <header class="top">
                <h1>{ "ReplScope" }</h1>
                <span class="tagline">{ tr(lang, "See how Redis replication works.") }</span>
                <span class="spacer"/>
                { live_view::live_form(&m, &dispatch) }
                { panels::language(&m, &dispatch) }
                <button type="button" aria-pressed={m.st.large.to_string()} onclick={dispatch.reform(|_| Action::ToggleLarge)} data-testid="large">{ tr(lang, "Large type") }</button>
                <button type="button" aria-pressed={m.st.compare.to_string()} onclick={dispatch.reform(|_| Action::ToggleCompare)} data-testid="compare-toggle">{ tr(lang, "Side by side") }</button>
                <button type="button" onclick={dispatch.reform(|_| Action::ToggleHelp)} aria-label={tr(lang, "Keyboard shortcuts")}>{ "?" }</button>
            </header>
            { panels::notices(&m) }
            { controls(&m, &dispatch) }
            <panels::PresetPanel preset={m.st.preset.clone()} seed={m.st.seed} {lang} dispatch={dispatch.clone()}/>
            { live_view::live_section(&m, &dispatch) }
            if m.cmp.is_some() { { for compared } } else { { single } }
            <div class="grid">
                <section class="panel">{ panels::why(&m, &dispatch) }{ panels::summary(&m) }</section>
                <section class="panel">
                    <Chart samples={decimate(m.main.sim.samples(), now, CHART_POINTS)} names={names.clone()} {soft} {hard} now_ms={now} end_ms={end} {lang}/>
                </section>
            </div>
            <div class="grid">
                <section class="panel">{ panels::info(&m, &dispatch) }</section>
                <section class="panel"><LogView lines={log_tail(m.main.sim.log(), now)} total={m.main.sim.log().partition_point(|l| l.t_ms <= now)} now_ms={now} {lang} on_jump={seek}/></section>
            </div>
            <panels::ParamsPanel values={panels::param_values(&m.scenario)} {lang} mode={m.st.change_mode}
                                 error={m.param_error.clone()} dispatch={dispatch.clone()}/>
            <panels::AdviserPanel {lang} scenario={m.scenario.clone()}/>
            { panels::help(&m, &dispatch) }
        </main>
    }
}

/// Most points per chart series: about one per two pixels of the chart's width.
const CHART_POINTS: usize = 450;
/// Most log lines drawn at once (the newest up to now).
const LOG_LINES: usize = 200;

/// The newest log lines up to `now`.
pub fn log_tail(log: &[LogLine], now: u64) -> Vec<LogLine> {
    let upto = log.partition_point(|l| l.t_ms <= now);
    log[upto.saturating_sub(LOG_LINES)..upto].to_vec()
}

/// Play/pause, steps, speed and the time scrubber.
fn controls(m: &Model, dispatch: &Dispatch) -> Html {
    let lang = m.st.lang;
    let now = m.now_ms();
    let end = m.end_ms();
    let speed_idx = SPEEDS
        .iter()
        .position(|s| (*s - m.st.speed).abs() < 1e-9)
        .unwrap_or(6);
    let on_scrub = dispatch.reform(|e: InputEvent| {
        let v = input_value(&e).parse::<u64>().unwrap_or(0);
        Action::Seek(v)
    });
    let on_speed = dispatch.reform(|e: InputEvent| {
        let i = input_value(&e)
            .parse::<usize>()
            .unwrap_or(6)
            .min(SPEEDS.len() - 1);
        Action::SetSpeed(SPEEDS[i])
    });
    html! {
        <nav class="controls" aria-label="playback">
            <button type="button" onclick={dispatch.reform(|_| Action::TogglePlay)} data-testid="play" aria-keyshortcuts="Space">
                { if m.playing { format!("❚❚ {}", tr(lang, "Pause")) } else { format!("▶ {}", tr(lang, "Play")) } }
            </button>
            <button type="button" onclick={dispatch.reform(|_| Action::StepBack)} data-testid="step-back" aria-keyshortcuts="ArrowLeft">{ format!("◀ {}", tr(lang, "Step back")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::StepNext)} data-testid="step" aria-keyshortcuts="ArrowRight">{ format!("{} ▶", tr(lang, "Next event")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::NextInteresting)} data-testid="next-interesting" aria-keyshortcuts="j">{ format!("{} ▶▶", tr(lang, "Next interesting event")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::Restart)} data-testid="restart">{ format!("↺ {}", tr(lang, "Restart")) }</button>
            <span class="clock" data-testid="clock">{ clock(now) }</span>
            <label class="sr-only" for="scrub">{ tr(lang, "Time") }</label>
            <input id="scrub" class="scrub" type="range" min="0" max={end.to_string()} step="100" value={now.to_string()}
                   oninput={on_scrub} data-testid="scrub" aria-label={tr(lang, "Time")}/>
            <label for="speed">{ tr(lang, "Speed") }</label>
            <input id="speed" type="range" min="0" max={(SPEEDS.len() - 1).to_string()} step="1" value={speed_idx.to_string()}
                   oninput={on_speed} data-testid="speed"/>
            <span data-testid="speed-label">{ format!("{}×", m.st.speed) }</span>
            if let Some(t) = m.nothing_before {
                <span class="status" role="status" data-testid="status">{ format!("{} {}", tr(lang, "Nothing more happens before"), clock(t)) }</span>
            }
        </nav>
    }
}

fn shortcut(e: &KeyboardEvent) -> Option<Action> {
    // Typing in a field is not a shortcut.
    if let Some(t) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    {
        if matches!(t.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
            return None;
        }
    }
    if e.ctrl_key() || e.meta_key() || e.alt_key() {
        return None;
    }
    Some(match e.key().as_str() {
        " " | "k" => Action::TogglePlay,
        "ArrowRight" | "n" => Action::StepNext,
        "ArrowLeft" | "p" => Action::StepBack,
        "j" => Action::NextInteresting,
        "+" | "=" | "]" => Action::Faster,
        "-" | "[" => Action::Slower,
        "?" => Action::ToggleHelp,
        "Escape" => Action::Pause,
        "b" => Action::ToggleLarge,
        "c" => Action::ToggleCompare,
        "Home" | "0" => Action::Restart,
        _ => return None,
    })
}

/// Re-arms `requestAnimationFrame` each frame while `alive`.
fn arm(
    handle: Rc<RefCell<Option<AnimationFrame>>>,
    alive: Rc<Cell<bool>>,
    last: Rc<Cell<Option<f64>>>,
    dispatch: Dispatch,
    model: Rc<RefCell<Model>>,
) {
    let h2 = handle.clone();
    let frame = request_animation_frame(move |ts| {
        if !alive.get() {
            return;
        }
        let dt = last.get().map(|l| ts - l).unwrap_or(16.0);
        last.set(Some(ts));
        dispatch.emit(Action::Tick(dt));
        // Keep the URL roughly current while playing, without flooding history.
        if (ts / 1000.0).floor() != ((ts - dt) / 1000.0).floor() {
            replace_url(&model.borrow().query());
        }
        arm(h2, alive, last, dispatch, model);
    });
    *handle.borrow_mut() = Some(frame);
}

pub fn input_value(e: &InputEvent) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

fn gloo_utils_document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

fn current_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Replaces (never pushes) the URL, so dragging a slider does not fill the back button.
fn replace_url(query: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ =
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("?{query}")));
    }
}

/// Entry point of the web build.
pub fn start() {
    console_error_panic_hook::set_once();
    yew::Renderer::<App>::new().render();
}

/// Renders the app into `host` (used by the in-browser component tests).
pub fn render_into(host: web_sys::Element) -> yew::AppHandle<App> {
    yew::Renderer::<App>::with_root(host).render()
}
