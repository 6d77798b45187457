//! "How often?": the current scenario (with the person's changes) over N seeds, counted.
//!
//! One seed shows one possibility; where an outcome hangs on phases (each server's 1 s cron
//! starts at a different moment), this view runs N seeds from the one on screen in slices
//! between timer ticks ([`SpreadJob`]: the page keeps answering, with a progress bar and a
//! Cancel) and shows each outcome as a bar with its count in words, the spread of the full
//! syncs' durations, and where the run on screen falls. The job and its result are this
//! component's own state: leaving the tab cancels it, a new scenario or seed clears it.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use yew::prelude::*;

use crate::sim::summary::Step;
use crate::sim::{Scenario, Spread};
use crate::web::format::secs;
use crate::web::i18n::tr;
use crate::web::spread_run::{
    outcome_of_first_seed, percent, sequence_words, SpreadJob, DEFAULT_RUNS, RUN_COUNTS,
};
use crate::web::url::Lang;

/// Wall time one slice may run seeds before letting the page draw and take clicks.
const SLICE_MS: f64 = 30.0;
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
    timer: Option<Timeout>,
    started_ms: f64,
    result: Option<Finished>,
}

struct Finished {
    spread: Spread,
    first_seed: u64,
    wall_ms: f64,
}

impl State {
    fn cancel(&mut self) {
        self.job = None;
        self.timer = None;
    }
}

#[function_component(SpreadPanel)]
pub fn spread_panel(p: &SpreadProps) -> Html {
    let lang = p.lang;
    let runs = use_state(|| DEFAULT_RUNS);
    let state = use_mut_ref(State::default);
    let force = use_force_update();
    {
        // Leaving the tab stops the job (its timer holds the state alive otherwise).
        let state = state.clone();
        use_effect_with((), move |_| move || state.borrow_mut().cancel());
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
            {
                let mut st = state.borrow_mut();
                st.cancel();
                st.result = None;
                st.job = Some(SpreadJob::new(&scenario, seed, runs));
                st.started_ms = now_ms();
            }
            schedule(state.clone(), force.clone());
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
                { result(&r.spread, r.first_seed, Some(r.wall_ms), lang, &p.on_seed) }
            } else if let Some(job) = st.job.as_ref().filter(|j| j.spread().runs > 0) {
                // The counts so far, growing as the seeds run.
                { result(job.spread(), job.seeds().start, None, lang, &p.on_seed) }
            } else if running.is_none() {
                <p class="muted">{ tr(lang, "Press Run: the scenario on screen, with your changes, is run once per seed from the seed on screen on, and every outcome counted.") }</p>
            }
        </section>
    }
}

/// Runs one slice of the job on the next timer tick, and the next slice after it.
fn schedule(state: Rc<RefCell<State>>, force: UseForceUpdateHandle) {
    let again = state.clone();
    let timer = Timeout::new(0, move || {
        let t0 = now_ms();
        let done = {
            let mut st = again.borrow_mut();
            let Some(job) = st.job.as_mut() else {
                return;
            };
            if job.step(&mut || now_ms() - t0 > SLICE_MS) {
                let job = st.job.take().expect("the job just stepped");
                let first_seed = job.seeds().start;
                st.result = Some(Finished {
                    spread: job.into_spread(),
                    first_seed,
                    wall_ms: now_ms() - st.started_ms,
                });
                st.timer = None;
                true
            } else {
                false
            }
        };
        if !done {
            schedule(again.clone(), force.clone());
        }
        force.force_update();
    });
    state.borrow_mut().timer = Some(timer);
}

/// The counts of `s` (seeds `first_seed..`); `wall_ms` once all have run, `None` while running.
fn result(
    s: &Spread,
    first_seed: u64,
    wall_ms: Option<f64>,
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
            }</p>
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
