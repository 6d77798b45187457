//! "How often?": the current scenario (with the person's changes) over N seeds, counted.
//!
//! One seed shows one possibility; where an outcome hangs on phases (each server's 1 s cron
//! starts at a different moment), this view runs N seeds from the one on screen
//! ([`SpreadJob`]) in web workers beside the page ([`SpreadWorkers`], chunks handed to
//! whichever is idle), or where workers cannot start, on the page in slices between timer ticks;
//! either way the page keeps answering, with a progress bar and a Cancel. It shows each outcome
//! as a bar with its count in words, the spread of the full syncs' durations, where the run on
//! screen falls, and where the runs ran. The job, the workers and the result are this
//! component's own state: leaving the tab or Cancel ends the job and the workers, a new
//! scenario or seed clears them.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use yew::prelude::*;

use crate::sim::summary::Step;
use crate::sim::{Scenario, Spread};
use crate::web::format::secs;
use crate::web::i18n::tr;
use crate::web::spread_run::{
    chunk_size, outcome_of_first_seed, percent, recipe, sequence_words, SpreadJob, DEFAULT_RUNS,
    RUN_COUNTS,
};
use crate::web::spread_workers::{self, Answer, SpreadWorkers};
use crate::web::url::Lang;

/// Wall time one slice may run seeds before letting the page draw and take clicks.
const SLICE_MS: f64 = 30.0;
/// The workers' answers are drawn at most this often (and the last at once): drawing each of
/// them took a tenth of the CPU time the workers had.
const DRAW_MS: f64 = 100.0;
/// Outcomes drawn as bars; the rest are summed in one line.
const SHOWN: usize = 6;
/// Shapes telling the outcomes apart without colour.
const SYMBOLS: [&str; SHOWN] = ["●", "▲", "■", "◆", "★", "✚"];

#[derive(Properties, PartialEq)]
pub struct SpreadProps {
    pub scenario: Scenario,
    /// The seed of the run on screen: the first of the range.
    pub seed: u64,
    pub lang: Lang,
    /// Load a seed on the stage (an example of an outcome).
    pub on_seed: Callback<u64>,
}

/// What the panel holds between renders.
#[derive(Default)]
struct State {
    /// The scenario and seed the job or result belongs to.
    key: Option<(Scenario, u64)>,
    job: Option<SpreadJob>,
    /// Where the job runs (or the finished one ran).
    ran: Ran,
    /// The page's next slice, when the job runs on the page.
    timer: Option<Timeout>,
    /// The workers, kept between runs until Cancel, a change of scenario during a run, or
    /// leaving the tab.
    workers: Option<SpreadWorkers>,
    /// Workers failed once: this panel runs its seeds on the page from then on.
    no_workers: bool,
    /// The job's scenario as the workers are sent it (`spread_run::recipe`).
    recipe: String,
    started_ms: f64,
    /// When an answer was last drawn.
    drawn_ms: f64,
    result: Option<Finished>,
}

#[derive(Clone, Copy, Default, PartialEq)]
enum Ran {
    Workers(usize),
    /// On the page: web workers cannot start or answer here.
    #[default]
    NoWorkers,
    /// On the page: the scenario has a change the workers are not sent.
    NotSent,
}

struct Finished {
    spread: Spread,
    first_seed: u64,
    wall_ms: f64,
}

impl State {
    /// Ends the job. Workers still running its chunks are terminated (an answer must never
    /// reach a later job); idle ones are kept for the next.
    fn cancel(&mut self) {
        if self.job.take().is_some() {
            self.workers = None;
        }
        self.timer = None;
    }

    /// Keeps the finished job's counts.
    fn finish(&mut self) {
        if let Some(job) = self.job.take() {
            self.result = Some(Finished {
                first_seed: job.seeds().start,
                spread: job.into_spread(),
                wall_ms: now_ms() - self.started_ms,
            });
        }
        self.timer = None;
    }

    /// Hands worker `i` its next chunk, if any seeds are left.
    fn feed(&mut self, i: usize) -> Result<(), String> {
        let (Some(job), Some(workers)) = (self.job.as_mut(), self.workers.as_ref()) else {
            return Ok(());
        };
        match job.hand_out(chunk_size(job.progress().1, workers.count())) {
            Some(seeds) => workers.ask(i, &self.recipe, seeds),
            None => Ok(()),
        }
    }
}

/// Starts `job`: in workers when its scenario can be sent to them and they did not fail
/// before (or fail to start now), else on the page.
fn run(state: &Rc<RefCell<State>>, force: &UseForceUpdateHandle, job: SpreadJob) {
    let mut st = state.borrow_mut();
    st.cancel();
    let sent = recipe(job.scenario());
    st.job = Some(job);
    st.result = None;
    st.started_ms = now_ms();
    let Some(sent) = sent else {
        return on_page(&mut st, state, force, Ran::NotSent);
    };
    st.recipe = sent;
    start_workers(&mut st, state, force);
    let Some(n) = st.workers.as_ref().map(SpreadWorkers::count) else {
        return on_page(&mut st, state, force, Ran::NoWorkers);
    };
    st.ran = Ran::Workers(n);
    for i in 0..n {
        if let Err(e) = st.feed(i) {
            return fall_back(&mut st, state, force, &e);
        }
    }
}

/// Starts the workers, unless they run already or failed before (the panel starts them when
/// it opens, so that a run does not wait for them to load the wasm).
fn start_workers(st: &mut State, state: &Rc<RefCell<State>>, force: &UseForceUpdateHandle) {
    if st.no_workers || st.workers.is_some() {
        return;
    }
    let on_answer = {
        let (state, force) = (state.clone(), force.clone());
        Rc::new(move |i, answer| on_answer(&state, &force, i, answer))
    };
    match SpreadWorkers::start(spread_workers::wanted(), on_answer) {
        Ok(w) => st.workers = Some(w),
        Err(e) => fall_back(st, state, force, &e),
    }
}

/// Worker `i` answered: count its chunk and give it the next, or finish.
fn on_answer(state: &Rc<RefCell<State>>, force: &UseForceUpdateHandle, i: usize, answer: Answer) {
    let mut st = state.borrow_mut();
    let next = match (answer, st.job.as_mut()) {
        (Err(e), _) => Err(e),
        (Ok(part), Some(job)) => {
            job.add(part);
            if job.done() {
                st.finish();
                Ok(())
            } else {
                st.feed(i)
            }
        }
        // The answer of a job cancelled meanwhile.
        (Ok(_), None) => Ok(()),
    };
    if let Err(e) = next {
        fall_back(&mut st, state, force, &e);
    }
    let now = now_ms();
    if st.job.is_none() || st.timer.is_some() || now - st.drawn_ms >= DRAW_MS {
        st.drawn_ms = now;
        drop(st);
        force.force_update();
    }
}

/// Workers cannot be used here: say why in the console, stop them, and run the job (if one
/// runs) again from its start on the page (what the workers counted is dropped: each seed counts
/// once), as every later job of this panel.
fn fall_back(st: &mut State, state: &Rc<RefCell<State>>, force: &UseForceUpdateHandle, why: &str) {
    web_sys::console::warn_1(&format!("How often?: running the seeds on the page: {why}").into());
    st.no_workers = true;
    st.workers = None;
    if let Some(job) = st.job.as_ref().map(SpreadJob::restarted) {
        st.job = Some(job);
        on_page(st, state, force, Ran::NoWorkers);
    }
}

/// Runs the job on the page, a slice per timer tick.
fn on_page(st: &mut State, state: &Rc<RefCell<State>>, force: &UseForceUpdateHandle, why: Ran) {
    st.ran = why;
    st.timer = Some(next_slice(state.clone(), force.clone()));
}

#[function_component(SpreadPanel)]
pub fn spread_panel(p: &SpreadProps) -> Html {
    let lang = p.lang;
    let runs = use_state(|| DEFAULT_RUNS);
    let state = use_mut_ref(State::default);
    let force = use_force_update();
    {
        // Opening the tab starts the workers; leaving it stops the job and the workers (their
        // callbacks and the timer hold the state alive otherwise).
        let (state, force) = (state.clone(), force.clone());
        use_effect_with((), move |_| {
            start_workers(&mut state.borrow_mut(), &state, &force);
            move || {
                let mut st = state.borrow_mut();
                st.cancel();
                st.workers = None;
            }
        });
    }
    // Counts of another scenario or seed would mislead: drop them.
    let key = (p.scenario.clone(), p.seed);
    if state.borrow().key.as_ref() != Some(&key) {
        let mut st = state.borrow_mut();
        st.cancel();
        st.result = None;
        st.key = Some(key);
    }

    let on_run = {
        let (state, force, scenario, seed, runs) = (
            state.clone(),
            force.clone(),
            p.scenario.clone(),
            p.seed,
            *runs,
        );
        Callback::from(move |_| {
            run(&state, &force, SpreadJob::new(&scenario, seed, runs));
            force.force_update();
        })
    };
    let on_cancel = {
        let (state, force) = (state.clone(), force.clone());
        Callback::from(move |_| {
            state.borrow_mut().cancel();
            force.force_update();
        })
    };

    let st = state.borrow();
    let running = st.job.as_ref().map(|j| j.progress());
    let status = match (&running, &st.result) {
        (Some(_), _) => "running",
        (None, Some(_)) => "done",
        _ => "idle",
    };
    let choose = RUN_COUNTS.iter().map(|&n| {
        let on = *runs == n;
        let runs = runs.clone();
        html! {
            <button type="button" aria-pressed={on.to_string()} class={classes!(on.then_some("on"))}
                    data-runs={n.to_string()} onclick={Callback::from(move |_| runs.set(n))}
                    disabled={running.is_some()}>{ n }</button>
        }
    });
    let run_label = tr(lang, "Run {n} seeds").replace("{n}", &runs.to_string());
    html! {
        <section class="spread" data-testid="spread" data-state={status}
                 data-ran={match st.ran { Ran::Workers(n) => format!("workers-{n}"), _ => "page".into() }}
                 data-wall-ms={st.result.as_ref().map(|r| format!("{:.0}", r.wall_ms)).unwrap_or_default()}>
            <div class="spread-controls">
                <h2>{ tr(lang, "How often does each outcome happen?") }</h2>
                <span role="group" class="spread-count" aria-label={tr(lang, "Number of runs")}>
                    { tr(lang, "Runs") }{ " " }{ for choose }
                </span>
                if let Some((done, of)) = running {
                    <progress max={of.to_string()} value={done.to_string()} data-testid="spread-progress"
                              aria-label={tr(lang, "Runs done")}/>
                    <span class="spread-done" data-testid="spread-done" aria-live="polite">{ format!("{done} / {of}") }</span>
                    <button type="button" onclick={on_cancel} data-testid="spread-cancel">{ format!("■ {}", tr(lang, "Cancel")) }</button>
                } else {
                    <button type="button" class="primary" onclick={on_run} data-testid="spread-run">{ format!("▶ {run_label}") }</button>
                }
            </div>
            <p class="spread-why">{ tr(lang, "Why runs differ: each server's 1-second cron starts at a different moment in each run (the seed sets it) and the writes jitter; near a limit, such as the backlog's size, that moment decides whether PSYNC is accepted.") }</p>
            if let Some(r) = &st.result {
                { result(&r.spread, r.first_seed, Some(r.wall_ms), st.ran, lang, &p.on_seed) }
            } else if let Some(job) = st.job.as_ref().filter(|j| j.spread().runs > 0) {
                // The counts so far, growing as the seeds run.
                { result(job.spread(), job.seeds().start, None, st.ran, lang, &p.on_seed) }
            } else if running.is_none() {
                <p class="muted">{ tr(lang, "Press Run: the scenario on screen, with your changes, is run once per seed from the seed on screen on, and every outcome counted.") }</p>
            }
        </section>
    }
}

/// On the page: runs one slice of the job on the next timer tick, then sets the next slice.
fn next_slice(state: Rc<RefCell<State>>, force: UseForceUpdateHandle) -> Timeout {
    Timeout::new(0, move || {
        let t0 = now_ms();
        let mut st = state.borrow_mut();
        let Some(job) = st.job.as_mut() else {
            return;
        };
        if job.step(&mut || now_ms() - t0 > SLICE_MS) {
            st.finish();
        } else {
            st.timer = Some(next_slice(state.clone(), force.clone()));
        }
        drop(st);
        force.force_update();
    })
}

/// The counts of `s` (seeds `first_seed..`); `wall_ms` once all have run, `None` while running;
/// `ran`: where they run.
fn result(
    s: &Spread,
    first_seed: u64,
    wall_ms: Option<f64>,
    ran: Ran,
    lang: Lang,
    on_seed: &Callback<u64>,
) -> Html {
    let total = s.runs;
    let this = outcome_of_first_seed(s, first_seed);
    let last_seed = first_seed + total.saturating_sub(1);
    let of_runs = |n: u64| {
        tr(lang, "{n} of {total} runs")
            .replace("{n}", &n.to_string())
            .replace("{total}", &total.to_string())
    };
    let rows = s.outcomes.iter().take(SHOWN).enumerate().map(|(i, o)| {
        let pct = percent(o.runs, total);
        let is_this = this == Some(i);
        let seqs: Vec<String> = o
            .outcome
            .replicas
            .iter()
            .map(|rep| {
                let end = if rep.in_sync_at_end {
                    tr(lang, "in sync")
                } else {
                    tr(lang, "not in sync")
                };
                format!(
                    "{}: {} → {end}",
                    rep.name,
                    sequence_words(&rep.sequence, &|st| step_word(lang, st), tr(lang, "no sync"))
                )
            })
            .collect();
        let codes: Vec<String> = o
            .outcome
            .replicas
            .iter()
            .map(|rep| crate::sim::spread::render_sequence(&rep.sequence))
            .collect();
        let example = o.seeds.iter().copied().find(|x| *x != first_seed);
        html! {
            <li class={classes!("spread-outcome", format!("o{i}"), is_this.then_some("this"))} data-testid="spread-outcome"
                data-runs={o.runs.to_string()} data-sequence={codes.join("; ")}>
                <span class="sym" aria-hidden="true">{ SYMBOLS[i] }</span>
                <span class="spread-bar" role="img" aria-label={format!("{pct}%")}><span style={format!("width: {pct}%")}/></span>
                <span class="spread-count-text"><strong>{ of_runs(o.runs) }</strong>{ format!(" ({pct}%)") }</span>
                <span class="spread-seq">{ seqs.join("; ") }</span>
                if is_this {
                    <span class="spread-this" data-testid="spread-this">
                        { format!("◀ {}", tr(lang, "the run on screen (seed {seed}) is one of these {n}")
                            .replace("{seed}", &first_seed.to_string()).replace("{n}", &o.runs.to_string())) }
                    </span>
                } else if let Some(seed) = example {
                    <button type="button" class="spread-load" onclick={on_seed.reform(move |_| seed)}
                            title={tr(lang, "Load this seed on the stage")}>
                        { tr(lang, "Show seed {seed}").replace("{seed}", &seed.to_string()) }
                    </button>
                }
            </li>
        }
    });
    let rest: u64 = s.outcomes.iter().skip(SHOWN).map(|o| o.runs).sum();
    let events = s.events.iter().filter(|e| e.runs > 0).map(|e| {
        html! {
            <li data-testid="spread-event" data-replica={e.replica.clone()} data-event={e.event.clone()} data-runs={e.runs.to_string()}>
                { format!("{}: ", e.replica) }<strong>{ event_word(lang, &e.event) }</strong>{ format!(" — {}", of_runs(e.runs)) }
            </li>
        }
    });
    let durations = s.durations.iter().map(|d| {
        let ended = match d.ended {
            Step::Loaded => tr(lang, "loaded"),
            Step::ObufCut => tr(lang, "cut off (output buffer)"),
            _ => tr(lang, "timed out"),
        };
        html! {
            <tr>
                <td>{ format!("{} #{}", d.replica, d.full_sync) }</td>
                <td>{ ended }</td>
                <td>{ secs(d.min()) }</td><td>{ secs(d.median()) }</td><td>{ secs(d.max()) }</td>
                <td>{ d.ms.len() }</td>
            </tr>
        }
    });
    html! {
        <div class="spread-result" data-testid={if wall_ms.is_some() {"spread-result"} else {"spread-partial"}} data-runs={total.to_string()}>
            <p class="muted" data-testid="spread-summary">{
                match wall_ms {
                    Some(wall) => tr(lang, "{total} runs, seeds {a}–{b}, {dur} each, counted in {wall}.")
                        .replace("{wall}", &secs(wall as u64)),
                    None => tr(lang, "So far {total} runs, seeds {a}–{b}, {dur} each…").to_string(),
                }
                .replace("{total}", &total.to_string())
                .replace("{a}", &first_seed.to_string())
                .replace("{b}", &last_seed.to_string())
                .replace("{dur}", &secs(s.until_ms))
            }{ " " }<span data-testid="spread-ran">{
                match ran {
                    Ran::Workers(n) => tr(lang, "Counted in {n} web workers, beside the page.").replace("{n}", &n.to_string()),
                    Ran::NoWorkers => tr(lang, "Counted on the page (web workers unavailable).").to_string(),
                    Ran::NotSent => tr(lang, "Counted on the page (a change the web workers are not sent).").to_string(),
                }
            }</span></p>
            <ol class="spread-outcomes">
                { for rows }
                if rest > 0 {
                    <li class="muted">{ tr(lang, "{n} in {k} other outcomes")
                        .replace("{n}", &of_runs(rest))
                        .replace("{k}", &(s.outcomes.len() - SHOWN).to_string()) }</li>
                }
            </ol>
            <div class="spread-details">
                <ul class="spread-events">{ for events }</ul>
                if !s.durations.is_empty() {
                    <table class="summary-table spread-durations">
                        <caption>{ tr(lang, "How long each full sync took") }</caption>
                        <thead><tr>
                            <th>{ tr(lang, "Full sync") }</th><th>{ tr(lang, "Ended") }</th>
                            <th>{ tr(lang, "shortest") }</th><th>{ tr(lang, "median") }</th><th>{ tr(lang, "longest") }</th>
                            <th>{ tr(lang, "Runs") }</th>
                        </tr></thead>
                        <tbody>{ for durations }</tbody>
                    </table>
                }
            </div>
        </div>
    }
}

/// A step of an outcome's sequence in words.
fn step_word(lang: Lang, s: Step) -> &'static str {
    match s {
        Step::Full => tr(lang, "full sync"),
        Step::Partial => tr(lang, "PSYNC accepted"),
        Step::Online => tr(lang, "online"),
        Step::ObufCut => tr(lang, "cut off (output buffer)"),
        Step::Timeout => tr(lang, "timed out"),
        Step::Loaded => tr(lang, "loaded"),
    }
}

/// An event counted by `Spread::events` in words.
fn event_word(lang: Lang, event: &str) -> &'static str {
    match event {
        "full sync" => tr(lang, "full sync"),
        "partial resync accepted" => tr(lang, "PSYNC accepted"),
        "partial resync refused" => tr(lang, "PSYNC refused"),
        "output-buffer cut-off" => tr(lang, "cut off (output buffer)"),
        "timeout" => tr(lang, "timed out"),
        "in sync at end" => tr(lang, "in sync at the end"),
        _ => tr(lang, "other"),
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
