//! The Yew application (wasm32 only): wires the model to the page.
//!
//! Layout, for a projector: a header (title, preset in one line, language, large type, side by
//! side, help), the transport controls, the stage (the system as a picture), the caption, then
//! a row of tabs whose panel (timeline, buffers, chart, log, INFO, why, summary, parameters,
//! about, side by side, live) is one click away. Only the open panel is drawn.
//!
//! The model lives in one `Rc<RefCell<Model>>` (cloning a simulation on every action would be
//! wasteful); every action mutates it and forces one re-render. Playing is a
//! `requestAnimationFrame` loop re-armed each frame that advances virtual time by
//! `dt × speed` (within a time budget per frame); it stops when paused and while the tab is
//! hidden.

use super::caption::caption;
use super::deck;
use super::handout::Handout;
use super::i18n::tr;
use super::live_view;
use super::model::{Action, Model, SPEEDS};
use super::panels;
use super::stage::Stage;
use super::tour::Nav;
use super::url::{Lang, Tab};
use super::views::{
    buffers::BufferBars, chart::Chart, log::LogView, ring::BacklogRing, spread::SpreadPanel,
    stage::StageView, timeline::Timeline,
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
    let model = use_mut_ref(|| {
        let mut m = Model::from_query(&current_query());
        m.clock = performance_now;
        m
    });
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
    // The socket's address carries the password (`token=`); the page's link never does.
    let live_url = model.borrow().live_socket_url();
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
        let model = model.clone();
        use_effect_with((), move |_| {
            let document = gloo_utils_document();
            let d1 = dispatch.clone();
            let model = model.clone();
            let keys = EventListener::new(&document, "keydown", move |e| {
                if let Some(e) = e.dyn_ref::<KeyboardEvent>() {
                    let action = shortcut(e, &model.borrow());
                    if let Some(a) = action {
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
    if m.st.handout {
        if let Some(t) = m.tour.as_ref() {
            return html! { <Handout lesson={t.lesson} seed={m.st.seed} {lang} dispatch={dispatch.clone()}/> };
        }
    }
    let now = m.now_ms();
    let frame = m.main.sim.frame();
    let stage = Stage::from_frame(&frame);
    let cap = caption(&stage, m.main.sim.marks(), lang);
    let on_part = dispatch.reform(Action::Part);
    // In a lesson the stage points at the step's part; in free play at what the caption says.
    let highlight = match m.tour.as_ref().filter(|t| t.on) {
        Some(t) => Some(t.current().point.to_string()),
        None => cap.part.clone(),
    };
    let b = m.cmp.as_ref().map(|c| {
        let s = Stage::from_frame(&c.sim.frame());
        let bc = caption(&s, c.sim.marks(), lang);
        (s, bc)
    });
    let present = m.st.present;
    let stage_view = if m.blank {
        html! { <div class="blank" data-testid="blank" aria-label={tr(lang, "The stage is blanked (b)")}/> }
    } else {
        html! { <StageView stage={stage.clone()} {lang} highlight={highlight} {on_part} version={Some(m.scenario.version)}/> }
    };

    html! {
        <main class={classes!("app", (m.st.large || present).then_some("big"), present.then_some("present"), m.playing.then_some("playing"))} id="app-ready"
              lang={if lang == Lang::Zh {"zh-CN"} else {"en"}}
              data-playing={m.playing.to_string()} data-now={now.to_string()} data-speed={m.st.speed.to_string()}>
            <header class="top">
                <h1>{ "ReplScope" }</h1>
                if m.tour_on() {
                    { deck::lesson_line(&m, &dispatch) }
                } else {
                    { deck::lessons_button(&m, &dispatch) }
                    { panels::preset_line(&m, &dispatch) }
                    { super::version_view::selector(&m, &dispatch) }
                }
                <span class="spacer"/>
                { panels::language(&m, &dispatch) }
                // Following a lesson, "Present" is the large view: the header keeps room for
                // the lesson's title.
                if !present && !m.tour_on() {
                    <button type="button" aria-pressed={m.st.large.to_string()} onclick={dispatch.reform(|_| Action::ToggleLarge)} data-testid="large">{ tr(lang, "Large type") }</button>
                }
                if !present {
                    <button type="button" aria-pressed={m.st.compare.to_string()} onclick={dispatch.reform(|_| Action::ToggleCompare)} data-testid="compare-toggle" aria-keyshortcuts="c">{ tr(lang, "Side by side") }</button>
                }
                <button type="button" aria-pressed={present.to_string()} onclick={dispatch.reform(|_| Action::TogglePresent)} data-testid="present" aria-keyshortcuts="f" title={tr(lang, "Presenter mode: large type, arrows walk the lesson, b blanks the stage")}>{ tr(lang, "Present") }</button>
                if m.tour.is_some() && !present {
                    <a class="button" href={format!("?{}&handout=1", super::url::lesson_query(&m.st))} target="_blank" data-testid="handout-link">{ tr(lang, "Handout") }</a>
                }
                <button type="button" onclick={dispatch.reform(|_| Action::ToggleHelp)} aria-label={tr(lang, "Keyboard shortcuts")} data-testid="help-button" aria-keyshortcuts="?">{ "?" }</button>
            </header>
            { panels::notices(&m) }
            { controls(&m, &dispatch) }
            <section class="stage-wrap" data-testid="stage-wrap">
                { stage_view }
                { deck::log_ticker(&m) }
                { panels::inspector(&m, &stage, &dispatch) }
            </section>
            { deck::deck(&m, &stage, &cap, b.as_ref(), &dispatch) }
            if !present {
                { tabs(&m, &dispatch) }
                <section class="tab-panel" role="tabpanel" data-testid="tab-panel" data-tab={m.st.tab.code()}>
                    { tab_panel(&m, &dispatch) }
                </section>
            }
            { panels::help(&m, &dispatch) }
            { deck::contents(&m, &dispatch) }
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

fn tabs(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let shown = Tab::ALL
        .iter()
        .copied()
        .filter(|t| *t != Tab::Compare || m.st.compare);
    html! {
        <nav class="tabs" role="tablist" aria-label={tr(lang, "Views")} data-testid="tabs">
            { for shown.map(|t| {
                let on = m.st.tab == t;
                html! {
                    <button type="button" role="tab" aria-selected={on.to_string()} class={classes!(on.then_some("on"))}
                            data-tab={t.code()} onclick={d.reform(move |_| Action::SetTab(t))}>{ tr(lang, t.label()) }</button>
                }
            }) }
        </nav>
    }
}

fn tab_panel(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let now = m.now_ms();
    let end = m.end_ms();
    let sim = &m.main.sim;
    let names = || -> Vec<String> {
        sim.frame()
            .replicas
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    let seek = d.reform(Action::Seek);
    match m.st.tab {
        Tab::Timeline => html! {
            <Timeline names={names()} spans={sim.spans().to_vec()} marks={sim.marks().to_vec()} now_ms={now} end_ms={end} {lang}
                      on_seek={seek} on_mark={d.reform(|i| Action::SelectMark(Some(i)))} selected={m.selected_mark}/>
        },
        Tab::Buffers => {
            let f = sim.frame();
            html! {
                <div class="grid">
                    <BacklogRing master={f.master.clone()} replicas={f.replicas.clone()} {lang}/>
                    <div>
                        <BufferBars replicas={f.replicas.clone()} now_ms={now} {lang}/>
                        { panels::faults(m, d) }
                    </div>
                </div>
            }
        }
        Tab::Chart => {
            let f = sim.frame();
            let (soft, hard) = f
                .replicas
                .first()
                .map(|r| (r.soft_limit, r.hard_limit))
                .unwrap_or((0, 0));
            html! { <Chart samples={decimate(sim.samples(), now, CHART_POINTS)} names={names()} {soft} {hard} now_ms={now} end_ms={end} {lang}/> }
        }
        Tab::Log => html! {
            <LogView lines={log_tail(sim.log(), now)} total={sim.log().partition_point(|l| l.t_ms <= now)} now_ms={now} {lang} on_jump={seek}/>
        },
        Tab::Info => panels::info(m, d),
        Tab::Why => panels::why(m, d),
        Tab::Summary => panels::summary(m),
        Tab::Seeds => html! {
            <SpreadPanel scenario={m.scenario.clone()} seed={m.st.seed} {lang} on_seed={d.reform(Action::SetSeed)}/>
        },
        Tab::Parameters => html! {
            <>
                <panels::ParamsPanel values={panels::param_values(&m.scenario)} {lang} mode={m.st.change_mode}
                                     error={m.param_error.clone()} dispatch={d.clone()}/>
                <panels::AdviserPanel {lang} scenario={m.scenario.clone()}/>
            </>
        },
        Tab::About => {
            html! { <panels::PresetPanel preset={m.st.preset.clone()} seed={m.st.seed} {lang} dispatch={d.clone()}/> }
        }
        Tab::Compare => compare(m, d),
        Tab::Live => live_view::live_tab(m, d),
    }
}

/// The same scenario with one change, on the same clock: both timelines, and B's stage.
fn compare(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let Some(c) = m.cmp.as_ref() else {
        return html! { <p>{ tr(lang, "Press “Side by side” to compare with one change.") }</p> };
    };
    let (now, end) = (m.now_ms(), m.end_ms());
    let seek = d.reform(Action::Seek);
    let names: Vec<String> = m
        .main
        .sim
        .frame()
        .replicas
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let (label_a, label_b) = deck::ab_labels(m);
    html! {
        <section class="compare" data-testid="compare">
            { deck::compare_chooser(m, d) }
            <figure class="compare-stage" data-testid="stage-b" data-side="B">
                <figcaption data-testid="label-b">{ label_b.clone() }</figcaption>
                <StageView stage={Stage::from_frame(&c.sim.frame())} {lang} version={Some(c.sim.scenario().version)}/>
            </figure>
            <Timeline names={names.clone()} spans={m.main.sim.spans().to_vec()} marks={m.main.sim.marks().to_vec()}
                      now_ms={now} end_ms={end} {lang} on_seek={seek.clone()} label={format!(" — {label_a}")}/>
            <Timeline {names} spans={c.sim.spans().to_vec()} marks={c.sim.marks().to_vec()}
                      now_ms={now} end_ms={end} {lang} on_seek={seek} label={format!(" — {label_b}")}/>
        </section>
    }
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
        <nav class="controls" aria-label={tr(lang, "Playback")}>
            <button type="button" class="primary" onclick={dispatch.reform(|_| Action::TogglePlay)} data-testid="play" aria-keyshortcuts="Space">
                { if m.playing { format!("❚❚ {}", tr(lang, "Pause")) } else { format!("▶ {}", tr(lang, "Play")) } }
            </button>
            <button type="button" onclick={dispatch.reform(|_| Action::StepBack)} data-testid="step-back" aria-keyshortcuts="ArrowLeft" title={tr(lang, "Step back")}>{ format!("◀ {}", tr(lang, "Back")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::StepNext)} data-testid="step" aria-keyshortcuts="ArrowRight" title={tr(lang, "Next event")}>{ format!("{} ▶", tr(lang, "Next")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::NextInteresting)} data-testid="next-interesting" aria-keyshortcuts="j" title={tr(lang, "Next interesting event")}>{ format!("{} ▶▶", tr(lang, "Next key event")) }</button>
            <button type="button" onclick={dispatch.reform(|_| Action::Restart)} data-testid="restart" aria-keyshortcuts="Home" title={tr(lang, "Restart")}>{ "↺" }</button>
            <span class="clock" data-testid="clock">{ clock(now) }</span>
            <input id="scrub" class="scrub" type="range" min="0" max={end.to_string()} step="100" value={now.to_string()}
                   oninput={on_scrub} data-testid="scrub" aria-label={tr(lang, "Time")} aria-valuetext={clock(now)}/>
            <span class="clock end">{ clock(end) }</span>
            <label class="speed">{ tr(lang, "Speed") }
                <input type="range" min="0" max={(SPEEDS.len() - 1).to_string()} step="1" value={speed_idx.to_string()}
                       oninput={on_speed} data-testid="speed" aria-label={tr(lang, "Speed")}/>
                <span data-testid="speed-label">{ format!("{}×", m.st.speed) }</span>
            </label>
            if let Some(t) = m.nothing_before {
                <span class="status" role="status" data-testid="status">{ format!("{} {}", tr(lang, "Nothing more happens before"), clock(t)) }</span>
            }
        </nav>
    }
}

fn shortcut(e: &KeyboardEvent, m: &Model) -> Option<Action> {
    // Typing in a field is not a shortcut.
    if let Some(t) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    {
        if matches!(t.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
            return None;
        }
        // Enter and Space on a focused button or stage part are that control's own.
        if matches!(e.key().as_str(), " " | "Enter")
            && (t.tag_name() == "BUTTON" || t.get_attribute("role").as_deref() == Some("button"))
        {
            return None;
        }
    }
    if e.ctrl_key() || e.meta_key() || e.alt_key() {
        return None;
    }
    let key = e.key();
    // Following a lesson, the arrows walk its steps and digits answer its question; in the
    // teacher's view `b` blanks the stage. `n` and `p` still step through events.
    if m.tour_on() {
        match key.as_str() {
            "ArrowRight" | "PageDown" => return Some(Action::Lesson(Nav::Next)),
            "ArrowLeft" | "PageUp" => return Some(Action::Lesson(Nav::Prev)),
            "r" => return Some(Action::Lesson(Nav::Replay)),
            "1" | "2" | "3" | "4" => {
                let i = key.parse::<usize>().unwrap_or(1) - 1;
                return Some(Action::Lesson(Nav::Answer(i)));
            }
            _ => {}
        }
    }
    if m.st.present && key == "b" {
        return Some(Action::ToggleBlank);
    }
    Some(match key.as_str() {
        " " | "k" => Action::TogglePlay,
        "ArrowRight" | "n" => Action::StepNext,
        "ArrowLeft" | "p" => Action::StepBack,
        "j" => Action::NextInteresting,
        "+" | "=" | "]" => Action::Faster,
        "-" | "[" => Action::Slower,
        "?" => Action::ToggleHelp,
        "Escape" => Action::CloseInspector,
        "b" => Action::ToggleLarge,
        "l" => Action::ToggleContents,
        "f" => Action::TogglePresent,
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
        let t0 = performance_now();
        dispatch.emit(Action::Tick(dt));
        // What this frame cost us (simulation and render), for the frame-time measurement.
        if let Some(main) = gloo_utils_document().get_element_by_id("app-ready") {
            let _ = main.set_attribute("data-frame-ms", &format!("{:.2}", performance_now() - t0));
        }
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

fn performance_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
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
    // The same wasm runs in the "How often?" workers (`spread_workers.rs`), which have no
    // window to mount the app in: there it only answers `spread_seeds`.
    if web_sys::window().is_none() {
        return;
    }
    yew::Renderer::<App>::new().render();
}

/// Renders the app into `host` (used by the in-browser component tests).
pub fn render_into(host: web_sys::Element) -> yew::AppHandle<App> {
    yew::Renderer::<App>::with_root(host).render()
}
