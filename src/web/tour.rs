//! Following a lesson: which step is shown, where it starts and stops on the run, the answer
//! to its question or the outcome of its task, and leaving the script to play freely and
//! coming back. Pure (more of `impl Model`), unit-tested natively.
//!
//! A step is entered in one of two ways. *Entered* (Next, the table of contents, Replay): the
//! run goes to where the step starts and, for a plain step, plays to where it stops. *Arrived
//! at* (Prev, a deep link, coming back): a plain step shows its stopping moment at once; a
//! question is asked again unless it was answered; a task waits at its start. Either way the
//! run at a step's stop is the run of its scenario at that moment, whatever came before.

use super::lessons::{self, script::Cond, Lesson, Step};
use super::model::Model;
use super::run::{Edit, Run};
use std::collections::BTreeMap;

/// Moving through lessons.
#[derive(Clone, Debug, PartialEq)]
pub enum Nav {
    /// Lesson id and step (0-based), entered.
    Open(String, usize),
    Next,
    Prev,
    /// The current step again, from its start.
    Replay,
    /// Leave the lesson to play freely (the run stays as it is).
    Leave,
    /// Come back to the step left.
    Return,
    /// The learner's answer to the question (0-based choice).
    Answer(usize),
    /// Play a task's run with the learner's changes.
    Try,
}

/// Where the current step stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Playing towards the step's stop.
    Playing,
    /// Stopped where the step stops.
    Arrived,
    /// A question waits for an answer, at the step's start.
    Asking,
    /// Playing after the answer (or after "show me").
    Answering,
    /// The answer is shown.
    Revealed,
    /// A task waits for the learner's change, at the step's start.
    Task,
    Trying,
    Tried(Outcome),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// The first goal not met: the condition, when it was broken (an event that should not
    /// have happened), and what the part showed instead (a state).
    Failed {
        cond: Cond,
        at_ms: Option<u64>,
        shown: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Tour {
    pub lesson: &'static Lesson,
    /// 0-based.
    pub step: usize,
    /// Following the lesson (false: left for free play; the header offers to come back).
    pub on: bool,
    /// The learner changed the run on a step that did not ask for it (the card offers to go
    /// back to the step).
    pub off_script: bool,
    pub from_ms: u64,
    pub to_ms: u64,
    pub phase: Phase,
    /// A step that could not be played (a moment that never comes): shown, never hidden.
    pub error: Option<String>,
    /// Answers given, by lesson and step (`None`: "show me" without an answer).
    pub answers: BTreeMap<(&'static str, usize), Option<usize>>,
    /// The moments of the steps met so far, by lesson, step and seed.
    resolved: BTreeMap<(&'static str, usize, u64), (u64, u64)>,
    /// The scenario the main run was built for by the lesson, while nothing changed it.
    run_key: Option<(&'static str, &'static [&'static str])>,
}

impl Tour {
    pub fn new(lesson: &'static Lesson) -> Tour {
        Tour {
            lesson,
            step: 0,
            on: true,
            off_script: false,
            from_ms: 0,
            to_ms: 0,
            phase: Phase::Arrived,
            error: None,
            answers: BTreeMap::new(),
            resolved: BTreeMap::new(),
            run_key: None,
        }
    }

    pub fn current(&self) -> &'static Step {
        &self.lesson.steps[self.step]
    }

    /// The answer given to the current step's question, if any.
    pub fn answer(&self) -> Option<Option<usize>> {
        self.answers.get(&(self.lesson.id, self.step)).copied()
    }
}

impl Model {
    /// Shows step `i` of `lesson`: entered (`enter`) or arrived at (see the module doc).
    pub(super) fn open_step(&mut self, lesson: &'static Lesson, i: usize, enter: bool) {
        let Some(mut tour) = self.tour.take() else {
            return;
        };
        let step = &lesson.steps[i.min(lesson.steps.len() - 1)];
        let i = i.min(lesson.steps.len() - 1);
        tour.lesson = lesson;
        tour.step = i;
        tour.on = true;
        tour.off_script = false;
        tour.error = None;
        self.st.lesson = Some((lesson.id.to_string(), i));
        self.playing = false;
        self.stop_at = None;
        self.selected_mark = None;
        self.param_error = None;
        self.inspect = (!step.inspect.is_empty()).then(|| step.inspect.to_string());
        let key = (step.preset, step.set);
        match step.scenario() {
            Ok(s) => {
                let reuse = tour.run_key == Some(key) && self.main.edits().is_empty();
                if !reuse {
                    self.scenario = s;
                    self.main = Run::new(&self.scenario, self.st.seed);
                    tour.run_key = Some(key);
                }
            }
            Err(e) => {
                tour.error = Some(e);
                self.tour = Some(tour);
                return;
            }
        }
        self.st.preset = step.preset.to_string();
        self.st.params = step
            .set
            .iter()
            .map(|p| {
                let (n, v) = lessons::change(p);
                (n.to_string(), v.to_string())
            })
            .collect();
        let cache = (lesson.id, i, self.st.seed);
        let moments = match tour.resolved.get(&cache) {
            Some(m) => Ok(*m),
            None => lessons::resolve_step(lesson, i, &mut self.main),
        };
        let (from, to) = match moments {
            Ok(m) => m,
            Err(e) => {
                tour.error = Some(e);
                self.tour = Some(tour);
                self.rebuild_compare();
                return;
            }
        };
        tour.resolved.insert(cache, (from, to));
        tour.from_ms = from;
        tour.to_ms = to;
        let answered = tour.answers.contains_key(&(lesson.id, i));
        let (at, phase) = match (&step.question, &step.task) {
            (Some(_), _) if answered && !enter => (to, Phase::Revealed),
            (Some(_), _) => (from, Phase::Asking),
            (_, Some(_)) => (from, Phase::Task),
            _ if !enter || from >= to => (to, Phase::Arrived),
            _ => (from, Phase::Playing),
        };
        tour.phase = phase.clone();
        self.tour = Some(tour);
        self.main.seek(at);
        self.rebuild_compare();
        if phase == Phase::Playing {
            self.play_to(to);
        }
    }

    fn play_to(&mut self, stop: u64) {
        self.stop_at = Some(stop);
        self.playing = true;
    }

    pub(super) fn navigate(&mut self, nav: Nav) {
        self.contents_open = false;
        // Any move through the lesson leaves the handout for the lesson itself.
        self.st.handout = false;
        let Some(tour) = self.tour.as_ref() else {
            if let Nav::Open(id, i) = nav {
                if let Some(l) = lessons::lesson(&id) {
                    self.tour = Some(Tour::new(l));
                    self.open_step(l, i, true);
                }
            }
            return;
        };
        let (lesson, i, phase, on) = (tour.lesson, tour.step, tour.phase.clone(), tour.on);
        let key = (lesson.id, i);
        match nav {
            Nav::Open(id, k) => {
                if let Some(l) = lessons::lesson(&id) {
                    self.open_step(l, k, true);
                }
            }
            Nav::Next if !on => self.navigate(Nav::Return),
            Nav::Next => match phase {
                // Next while a step plays finishes it.
                Phase::Playing | Phase::Answering | Phase::Trying if self.stop_at.is_some() => {
                    let stop = self.stop_at.unwrap_or(0);
                    self.seek(stop);
                    self.step_progress();
                }
                // "Show me": play without an answer.
                Phase::Asking => {
                    self.answer_with(key, None);
                }
                _ => match (lesson.steps.get(i + 1), next_lesson(lesson, 1)) {
                    (Some(_), _) => self.open_step(lesson, i + 1, true),
                    (None, Some(l)) => self.open_step(l, 0, true),
                    (None, None) => {}
                },
            },
            Nav::Prev => match (i.checked_sub(1), next_lesson(lesson, -1)) {
                (Some(p), _) => self.open_step(lesson, p, false),
                (None, Some(l)) => self.open_step(l, l.steps.len() - 1, false),
                (None, None) => {}
            },
            Nav::Replay => self.open_step(lesson, i, true),
            Nav::Leave => {
                self.leave_lesson();
            }
            Nav::Return => self.open_step(lesson, i, false),
            Nav::Answer(k) => {
                if phase == Phase::Asking {
                    self.answer_with(key, Some(k));
                }
            }
            Nav::Try => {
                if matches!(phase, Phase::Task | Phase::Tried(_)) {
                    let (from, to) = self.tour.as_ref().map_or((0, 0), |t| (t.from_ms, t.to_ms));
                    // The learner's changes were made at the step's start: play from there.
                    self.seek(from);
                    if let Some(t) = self.tour.as_mut() {
                        t.phase = Phase::Trying;
                    }
                    self.play_to(to);
                }
            }
        }
    }

    fn answer_with(&mut self, key: (&'static str, usize), answer: Option<usize>) {
        let Some(tour) = self.tour.as_mut() else {
            return;
        };
        tour.answers.insert(key, answer);
        tour.phase = Phase::Answering;
        let (from, to) = (tour.from_ms, tour.to_ms);
        self.seek(from);
        self.play_to(to);
        if from >= to {
            self.step_progress();
        }
    }

    /// After the run moved while a step plays: stops at the step's end (and judges a task),
    /// or stops a task's try early once a goal is already missed.
    pub(super) fn step_progress(&mut self) {
        let Some(stop) = self.stop_at else {
            return;
        };
        let now = self.now_ms();
        let Some(tour) = self.tour.as_mut() else {
            return;
        };
        let trying = tour.phase == Phase::Trying;
        let missed = if trying {
            task_outcome(tour.current(), &self.main, tour.from_ms, now >= stop)
        } else {
            None
        };
        if now < stop && !matches!(missed, Some(Outcome::Failed { .. })) {
            return;
        }
        self.playing = false;
        self.stop_at = None;
        tour.phase = match &tour.phase {
            Phase::Playing => Phase::Arrived,
            Phase::Answering => Phase::Revealed,
            Phase::Trying => Phase::Tried(missed.unwrap_or(Outcome::Done)),
            other => other.clone(),
        };
    }

    /// On a lesson step, the learner's change to the run leaves the script (the card offers
    /// to come back); a step's own playing stops where it is.
    pub(super) fn leave_script(&mut self) {
        if let Some(t) = self.tour.as_mut().filter(|t| t.on) {
            t.off_script = true;
            self.stop_at = None;
            t.run_key = None;
        }
    }

    /// Leaves the lesson for free play (the run stays; the header offers to come back).
    pub(super) fn leave_lesson(&mut self) {
        if let Some(t) = self.tour.as_mut() {
            t.on = false;
            t.run_key = None;
        }
        self.stop_at = None;
    }

    /// A knob turned on a task: the change is made at the task's start. Returns whether the
    /// change was the task's (else it is the learner leaving the script).
    pub(super) fn task_change(&mut self, name: &str, value: &str) -> bool {
        let Some(t) = self.tour.as_ref().filter(|t| t.on && !t.off_script) else {
            return false;
        };
        if t.current().task.is_none() {
            return false;
        }
        let from = t.from_ms;
        self.playing = false;
        self.stop_at = None;
        self.seek(from);
        if let Err(e) = self.edit(Edit::Set(name.to_string(), value.to_string())) {
            self.param_error = Some(e);
        }
        if let Some(t) = self.tour.as_mut() {
            t.phase = Phase::Task;
            t.run_key = None;
        }
        true
    }

    /// Play pressed on a step that waits: a question plays without an answer ("show me"), a
    /// task is tried. Returns whether it was handled.
    pub(super) fn play_in_step(&mut self) -> bool {
        let waiting = self
            .tour
            .as_ref()
            .filter(|t| t.on && !t.off_script)
            .map(|t| t.phase.clone());
        match waiting {
            Some(Phase::Asking) => self.navigate(Nav::Next),
            Some(Phase::Task | Phase::Tried(_)) => self.navigate(Nav::Try),
            _ => return false,
        }
        true
    }
}

/// The lesson `delta` (±1) places from `lesson` in the list.
fn next_lesson(lesson: &Lesson, delta: isize) -> Option<&'static Lesson> {
    let i = lessons::LESSONS.iter().position(|l| l.id == lesson.id)?;
    lessons::LESSONS.get(i.checked_add_signed(delta)?)
}

/// Judges a task's run standing at `now`: `Some(Failed)` as soon as a goal is missed (an event
/// that must not happen did; at the end, anything unmet), `Some(Done)` at the end when all
/// are met, `None` while it is too early to say.
pub fn task_outcome(step: &Step, run: &Run, from: u64, at_end: bool) -> Option<Outcome> {
    let task = step.task.as_ref()?;
    for c in task.goal {
        let Ok(cond) = Cond::parse(c) else {
            continue;
        };
        let broken_now = matches!(cond, Cond::Never(_)) && !cond.holds(run, from);
        if !(broken_now || (at_end && !cond.holds(run, from))) {
            continue;
        }
        let at_ms = match &cond {
            Cond::Never(k) => run
                .sim
                .marks()
                .iter()
                .find(|m| m.kind == *k && m.t_ms > from)
                .map(|m| m.t_ms),
            _ => None,
        };
        let shown = match &cond {
            Cond::Ends(part, _) => lessons::script::state_of(
                &crate::web::stage::Stage::from_frame(&run.sim.frame()),
                part,
            ),
            _ => None,
        };
        return Some(Outcome::Failed { cond, at_ms, shown });
    }
    at_end.then_some(Outcome::Done)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::web::model::Action;
    use crate::web::url::ChangeMode;

    /// Plays until the step stops (each tick is 250 ms × the link's speed).
    fn play_out(m: &mut Model) {
        for _ in 0..10_000 {
            if !m.playing {
                return;
            }
            m.apply(Action::Tick(250.0));
        }
        panic!("the step never stopped");
    }

    fn phase(m: &Model) -> Phase {
        m.tour.as_ref().unwrap().phase.clone()
    }

    #[test]
    fn a_task_says_when_a_wrong_change_fails_and_a_right_one_holds() {
        let lesson = lessons::lesson("fixes").unwrap();
        let step = &lesson.steps[0];
        let task = step.task.as_ref().expect("the fixes start with a task");
        let mut m = Model::from_query("lesson=fixes&step=1&speed=1000");
        assert_eq!(phase(&m), Phase::Task);
        let from = m.tour.as_ref().unwrap().from_ms;
        assert_eq!(m.now_ms(), from, "a task waits at its start");
        // A backlog a little larger is not enough: the run says what happened, and when.
        m.apply(Action::SetParam("repl-backlog-size".into(), "2mb".into()));
        assert_eq!(m.now_ms(), from, "a task's change is made at its start");
        m.apply(Action::Lesson(Nav::Try));
        play_out(&mut m);
        let Phase::Tried(Outcome::Failed { at_ms, .. }) = phase(&m) else {
            panic!("2mb is not enough: {:?}", phase(&m));
        };
        assert!(at_ms.is_some_and(|t| t > from), "{at_ms:?}");
        // Undo, then the first known solution holds.
        m.apply(Action::Lesson(Nav::Replay));
        assert!(m.main.edits().is_empty(), "replay undoes the change");
        let (n, v) = lessons::change(task.solutions[0][0]);
        m.apply(Action::SetParam(n.into(), v.into()));
        m.apply(Action::Lesson(Nav::Try));
        play_out(&mut m);
        assert_eq!(phase(&m), Phase::Tried(Outcome::Done));
        assert!(
            m.tour_on(),
            "a task's change keeps the learner in the lesson"
        );
    }

    #[test]
    fn leaving_the_script_and_coming_back() {
        let lesson = lessons::lesson("backlog").unwrap();
        let mut m = Model::from_query("lesson=backlog&step=2&speed=1000");
        let stop = m.now_ms();
        assert_eq!(phase(&m), Phase::Arrived);
        // Touching the run leaves the script; the card offers the way back.
        m.apply(Action::Seek(1_000));
        assert!(m.tour.as_ref().unwrap().off_script);
        m.apply(Action::Lesson(Nav::Return));
        assert!(!m.tour.as_ref().unwrap().off_script);
        assert_eq!(m.now_ms(), stop, "back where the step stops");
        // A knob on a plain step forks the run from now (the default), off the script.
        assert_eq!(m.st.change_mode, ChangeMode::Fork);
        m.apply(Action::SetParam("repl-backlog-size".into(), "64mb".into()));
        assert_eq!(m.now_ms(), stop, "the clock is not reset");
        assert!(m.tour.as_ref().unwrap().off_script);
        // Free play: the link names the run, not the step; Next comes back.
        m.apply(Action::Lesson(Nav::Leave));
        assert!(!m.tour_on());
        assert!(m.query().contains("preset="), "{}", m.query());
        m.apply(Action::Lesson(Nav::Next));
        assert!(m.tour_on());
        assert!(
            m.query().starts_with("lesson=backlog&step=2"),
            "{}",
            m.query()
        );
        // Prev is a real step back: the previous step where it stops, as played natively.
        m.apply(Action::Lesson(Nav::Prev));
        let (run, _) = lessons::arrive(lesson, 0, 1).unwrap();
        assert_eq!(m.now_ms(), run.now_ms());
        assert_eq!(m.main.sim.frame(), run.sim.frame());
    }
}
