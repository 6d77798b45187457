//! Every lesson run on the simulator: what its captions say must be what the run shows.

use super::script::{state_of, Cond, Event, Moment};
use super::*;
use crate::sim::{self, ParamSpec};
use crate::web::params as knobs;
use crate::web::stage::{states_of, Stage};

fn all_steps() -> impl Iterator<Item = (&'static Lesson, usize, &'static Step)> {
    LESSONS
        .iter()
        .flat_map(|l| l.steps.iter().enumerate().map(move |(i, s)| (l, i, s)))
}

fn check_event(e: &Event, at: &str) {
    if let Event::State(part, state) = e {
        let states = states_of(part).unwrap_or_else(|| panic!("{at}: no stage part {part}"));
        assert!(
            states.contains(&state.as_str()),
            "{at}: {part} has no state {state} (it has {states:?})"
        );
    }
}

/// The step's sentences (its title may be a Redis word, like `PSYNC ? -1`).
fn sentences(step: &Step) -> Vec<Text> {
    let mut v = vec![step.caption];
    if let Some(q) = &step.question {
        v.extend([q.ask, q.why]);
        v.extend(q.choices.iter().copied());
    }
    if let Some(t) = &step.task {
        v.push(t.done);
    }
    v
}

#[test]
fn every_step_is_well_formed() {
    let params: Vec<ParamSpec> = sim::params();
    for (l, i, step) in all_steps() {
        let at = format!("lesson {} step {}", l.id, i + 1);
        let scenario = step.scenario().unwrap_or_else(|e| panic!("{at}: {e}"));
        for m in [l.from_of(i), step.to] {
            let m = Moment::parse(m).unwrap_or_else(|e| panic!("{at}: {e}"));
            if let Some(e) = m.event() {
                check_event(e, &at);
            }
        }
        let states =
            states_of(step.point).unwrap_or_else(|| panic!("{at}: no part {}", step.point));
        assert!(
            states.contains(&step.shows),
            "{at}: {} never shows {}",
            step.point,
            step.shows
        );
        if !step.inspect.is_empty() {
            assert!(
                states_of(step.inspect).is_some(),
                "{at}: no part {}",
                step.inspect
            );
        }
        assert!(!step.knobs.is_empty(), "{at}: name the knobs that matter");
        for k in step.knobs {
            assert!(
                !crate::web::labels::knob_label(k).is_empty(),
                "{at}: {k} has no words"
            );
            assert!(
                knobs::spec(k, &params).is_some() && knobs::value(&scenario, k).is_some(),
                "{at}: {k} is not a knob"
            );
        }
        let conds = step
            .question
            .iter()
            .flat_map(|q| q.proof.iter())
            .chain(step.task.iter().flat_map(|t| t.goal.iter()));
        for c in conds {
            if let Cond::Ends(p, s) = Cond::parse(c).unwrap_or_else(|e| panic!("{at}: {e}")) {
                check_event(&Event::State(p, s), &at);
            }
        }
        for t in sentences(step) {
            for (lang, text) in [("en", t.en), ("zh", t.zh)] {
                assert!(
                    text.len() <= 420,
                    "{at} ({lang}): too long for the caption: {text}"
                );
            }
            assert!(
                t.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{at}: the Chinese text has no Chinese: {}",
                t.zh
            );
        }
    }
    for g in GROUPS {
        for p in g.presets {
            let s = Scenario::preset(p.name).unwrap();
            for k in p.knobs {
                assert!(
                    knobs::spec(k, &params).is_some() && knobs::value(&s, k).is_some(),
                    "{}: {k}",
                    p.name
                );
            }
            let mut b = s.clone();
            for c in p.compare {
                let (n, v) = change(c);
                b.set(n, v)
                    .unwrap_or_else(|e| panic!("{}: compare {c}: {e}", p.name));
            }
            assert_ne!(b, s, "{}: the comparison changes nothing", p.name);
        }
    }
    assert_eq!(
        GROUPS.iter().map(|g| g.presets.len()).sum::<usize>(),
        sim::presets().len(),
        "every preset is in one group"
    );
}

/// The heart of it: each step played as written on the simulator stops where the part it
/// points at shows what the step says, its captions fill in completely in both languages,
/// each question's answer is what the run does, and each task is needed and can be done.
#[test]
fn every_step_shows_what_it_says_on_the_simulator() {
    let mut failures = Vec::new();
    for (l, i, step) in all_steps() {
        let at = format!("lesson {} step {} ({})", l.id, i + 1, step.title.en);
        let (run, from) = match arrive(l, i, 1) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{at}: {e}"));
                continue;
            }
        };
        let to = run.now_ms();
        if to < from {
            failures.push(format!("{at}: stops at {to} before it starts at {from}"));
        }
        if to - from > 6 * 60 * 1000 {
            failures.push(format!(
                "{at}: plays {} ms, too long for one step",
                to - from
            ));
        }
        let stage = Stage::from_frame(&run.sim.frame());
        let shown = state_of(&stage, step.point);
        if shown.as_deref() != Some(step.shows) {
            failures.push(format!(
                "{at}: at {to} ms {} shows {shown:?}, not {}",
                step.point, step.shows
            ));
        }
        for t in sentences(step).into_iter().chain([step.title]) {
            for text in [t.en, t.zh] {
                let filled = fill::fill(text, &stage, run.sim.scenario());
                if filled.contains('{') {
                    failures.push(format!("{at}: a placeholder is left: {filled}"));
                }
            }
        }
        if let Some(q) = &step.question {
            for c in q.proof {
                if !Cond::parse(c).unwrap().holds(&run, from) {
                    failures.push(format!("{at}: the answer's proof `{c}` does not hold"));
                }
            }
        }
        if let Some(task) = &step.task {
            // Without a change the goal is not met (or the task would teach nothing)...
            let mut plain = Run::new(&step.scenario().unwrap(), 1);
            plain.seek(to);
            let met = |r: &Run| {
                task.goal
                    .iter()
                    .all(|c| Cond::parse(c).unwrap().holds(r, from))
            };
            if met(&plain) {
                failures.push(format!("{at}: the goal is met without any change"));
            }
            // ...and every solution meets it.
            for sol in task.solutions {
                let mut r = Run::new(&step.scenario().unwrap(), 1);
                r.seek(from);
                for pair in *sol {
                    let (n, v) = change(pair);
                    r.edit(Edit::Set(n.into(), v.into())).unwrap();
                }
                r.seek(to);
                if !met(&r) {
                    failures.push(format!("{at}: the solution {sol:?} does not meet the goal"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_question_has_one_answer_the_other_choices_contradict() {
    // Wrong choices must be wrong in the run: the proof must fail on at least one variant the
    // question contrasts with (the same step's scenario before its moment passes).
    for (l, i, step) in all_steps() {
        if let Some(q) = &step.question {
            let (run, from) = arrive(l, i, 1).unwrap();
            // Just after the start nothing has been proven yet.
            let mut early = Run::new(&step.scenario().unwrap(), 1);
            early.seek(from);
            let proven_early = q
                .proof
                .iter()
                .all(|c| Cond::parse(c).unwrap().holds(&early, from));
            assert!(
                !proven_early || run.now_ms() == from,
                "lesson {} step {}: the answer is visible before the step plays",
                l.id,
                i + 1
            );
        }
    }
}

/// The step on newer versions says the replica holds the writes and the master's buffer stays
/// small: both hold on the native run, with the replica's share far larger.
#[test]
fn the_newer_versions_step_shows_the_replica_paying() {
    let (l, i, _) = all_steps()
        .find(|(_, _, s)| s.title.en == "Newer versions: the replica pays")
        .expect("the step");
    let (run, _) = arrive(l, i, 1).unwrap();
    assert_eq!(
        run.sim.scenario().version,
        crate::core::version::Version::Redis82
    );
    let r = &Stage::from_frame(&run.sim.frame()).replicas[0];
    assert!(
        r.local_buffer > 32 << 20 && r.tank.bytes < 1 << 20,
        "replica holds {} B, master's buffer {} B",
        r.local_buffer,
        r.tank.bytes
    );
    assert!(r.local_buffer < r.tank.hard, "under the replica's limit");
}
