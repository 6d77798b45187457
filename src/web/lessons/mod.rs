//! Lessons: an ordered path through replication, each lesson a sequence of steps over a real
//! run, and the guide to the presets (their groups, knobs and comparisons).
//!
//! The texts are data a teacher edits (`src/web/lessons/*.toml`, English and Chinese side by
//! side; see the README there); `build.rs` turns them into the statics below. A step names its
//! scenario (a preset plus changes), the moments it starts and stops at ([`script`]), a caption
//! with placeholders filled from the stage ([`fill`]), the stage part to look at and the state
//! that part shows then, up to four knobs, and optionally a question to predict or a task.
//! Everything here is pure: the unit tests at the end run every lesson on the simulator.

pub mod fill;
pub mod script;

use super::run::{Edit, Run};
use super::url::Lang;
use crate::sim::Scenario;
use script::Moment;

/// A text in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Lesson {
    /// The URL's `lesson=` value.
    pub id: &'static str,
    pub title: Text,
    pub summary: Text,
    pub steps: &'static [Step],
}

#[derive(Debug, PartialEq)]
pub struct Step {
    pub title: Text,
    /// The scenario: a preset plus `name=value` changes.
    pub preset: &'static str,
    pub set: &'static [&'static str],
    /// Where the step starts ([`script::Moment`]); empty: where the previous step stopped when
    /// it ran the same scenario, else at the start.
    pub from: &'static str,
    /// Where it stops.
    pub to: &'static str,
    pub caption: Text,
    /// The stage part to look at (`tank-1`, `link-1`, `fork`, `backlog`...), outlined.
    pub point: &'static str,
    /// The state that part shows when the step has played (`over-soft`, `online`...): what the
    /// caption relies on, checked against the simulator by the tests.
    pub shows: &'static str,
    /// The parameters that matter here (at most four), beside the stage.
    pub knobs: &'static [&'static str],
    /// Show the newest log lines over the stage, as they happen.
    pub log: bool,
    /// A part whose details open with the step (`master` for its INFO), or empty.
    pub inspect: &'static str,
    /// Show the sizing adviser's figures for the step's load.
    pub advise: bool,
    pub question: Option<Question>,
    pub task: Option<Task>,
}

/// "Predict, then play": asked at `from`, answered by playing to `to`.
#[derive(Debug, PartialEq)]
pub struct Question {
    pub ask: Text,
    pub choices: &'static [Text],
    /// 0-based index of the right choice.
    pub answer: usize,
    pub why: Text,
    /// Conditions ([`script::Cond`]) that hold in the run exactly when the answer is right.
    pub proof: &'static [&'static str],
}

/// "Make it survive": the learner turns knobs at `from`, then plays to `to`. The step's
/// `shows` is what its point shows when played with the first solution.
#[derive(Debug, PartialEq)]
pub struct Task {
    /// Conditions the run must meet between `from` and `to`.
    pub goal: &'static [&'static str],
    /// Changes known to reach the goal (each a list of `name=value`), checked by the tests.
    pub solutions: &'static [&'static [&'static str]],
    /// Said when the goal is reached.
    pub done: Text,
}

/// What the preset list shows for one preset: its 1–4 knobs and its side-by-side change.
#[derive(Debug, PartialEq)]
pub struct PresetGuide {
    pub name: &'static str,
    pub knobs: &'static [&'static str],
    /// B's changes (`name=value`) in side by side.
    pub compare: &'static [&'static str],
}

#[derive(Debug, PartialEq)]
pub struct Group {
    pub title: Text,
    pub presets: &'static [PresetGuide],
}

include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// The lesson with this id.
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id)
}

/// The guide entry of a preset.
pub fn guide(preset: &str) -> Option<&'static PresetGuide> {
    GROUPS
        .iter()
        .flat_map(|g| g.presets.iter())
        .find(|p| p.name == preset)
}

/// Splits `name=value`.
pub fn change(pair: &str) -> (&str, &str) {
    pair.split_once('=').unwrap_or((pair, ""))
}

impl Step {
    /// The step's scenario: its preset with its changes.
    pub fn scenario(&self) -> Result<Scenario, String> {
        let mut s = Scenario::preset(self.preset)
            .ok_or_else(|| format!("no preset named {}", self.preset))?;
        for pair in self.set {
            let (n, v) = change(pair);
            s.set(n, v).map_err(|e| format!("{pair}: {e}"))?;
        }
        Ok(s)
    }

    /// Runs the same scenario as `other` (so it can go on from where `other` stopped).
    pub fn same_run(&self, other: &Step) -> bool {
        self.preset == other.preset && self.set == other.set
    }
}

impl Lesson {
    /// Where step `i` starts when entered in order: its own `from`, or the previous step's
    /// `to` when both run the same scenario, or the start.
    pub fn from_of(&self, i: usize) -> &'static str {
        let s = &self.steps[i];
        if !s.from.is_empty() {
            return s.from;
        }
        match i.checked_sub(1).map(|p| &self.steps[p]) {
            Some(prev) if prev.same_run(s) => script::PREVIOUS,
            _ => "start",
        }
    }
}

/// Where step `i` of `lesson` starts and stops, found on `run` (a run of the step's scenario
/// with nothing changed by hand): the steps before it that go on from one another are
/// resolved first, in order. The run is left wherever the search took it.
pub fn resolve_step(lesson: &Lesson, i: usize, run: &mut Run) -> Result<(u64, u64), String> {
    let mut first = i;
    while lesson.from_of(first) == script::PREVIOUS {
        first -= 1;
    }
    let mut from = 0;
    let mut to = 0;
    for k in first..=i {
        let at = |e: String| format!("lesson {}, step {}: {e}", lesson.id, k + 1);
        from = if k == first {
            let m = Moment::parse(lesson.from_of(k)).map_err(at)?;
            script::resolve(run, 0, &m).map_err(at)?
        } else {
            to
        };
        let m = Moment::parse(lesson.steps[k].to).map_err(at)?;
        to = script::resolve(run, from, &m).map_err(at)?;
    }
    Ok((from, to))
}

/// Step `i` played as written, natively: the run standing where the step stops (with the
/// first solution applied at its start, for a task), and where it started.
pub fn arrive(lesson: &Lesson, i: usize, seed: u64) -> Result<(Run, u64), String> {
    let step = &lesson.steps[i];
    let mut run = Run::new(&step.scenario()?, seed);
    let (from, to) = resolve_step(lesson, i, &mut run)?;
    if let Some(task) = &step.task {
        run.seek(from);
        for pair in task.solutions.first().copied().unwrap_or_default() {
            let (n, v) = change(pair);
            run.edit(Edit::Set(n.to_string(), v.to_string()))
                .map_err(|e| format!("{pair}: {e}"))?;
        }
    }
    run.seek(to);
    Ok((run, from))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
