//! The app's state and every action a person can take, independent of the DOM, so the rules
//! (what a parameter change does, what "step back" means) are unit-tested natively. Following
//! a lesson is in [`super::tour`].

use super::lessons::{self, GROUPS};
use super::live::{check_feed_url, socket_url, split_token, LiveFeed};
use super::run::{is_interesting, Edit, Run};
use super::tour::{Nav, Tour};
use super::url::{self, ChangeMode, Lang, Notice, Tab, UrlState, Validate};
use crate::sim::{self, Scenario};
use crate::view::MarkKind;

/// The preset a link falls back to: the first of the gentlest group.
pub const DEFAULT_PRESET: &str = "backlog-sized";
/// How far "next event" looks ahead before giving up and staying put (virtual time).
const STEP_LIMIT_MS: u64 = 600_000;
/// Most wall-clock time one animation frame may spend running the simulator, so a click is
/// handled by the next frame even at 1000× (the run then goes slower than asked, not jerkier).
pub const FRAME_BUDGET_MS: f64 = 10.0;
pub const SPEEDS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
];

/// Checks URL values against the simulator's presets and parameters, and the lessons.
pub struct SimValidator;

impl Validate for SimValidator {
    fn preset_exists(&self, name: &str) -> bool {
        Scenario::preset(name).is_some()
    }
    fn check_param(&self, name: &str, value: &str) -> Result<(), String> {
        let mut s = Scenario::preset("disk-sync-loop").unwrap_or_default();
        s.set(name, value).map_err(|e| e.to_string())
    }
    fn lesson_steps(&self, id: &str) -> Option<usize> {
        lessons::lesson(id).map(|l| l.steps.len())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A frame of `dt` real milliseconds passed while playing.
    Tick(f64),
    TogglePlay,
    Pause,
    Seek(u64),
    StepNext,
    StepBack,
    NextInteresting,
    Restart,
    SetSpeed(f64),
    Faster,
    Slower,
    SetPreset(String),
    SetSeed(u64),
    SetParam(String, String),
    /// Run the scenario again from the start on another version (`redis-8.2`), with that
    /// version's defaults for every setting the preset does not give.
    SetVersion(String),
    SetLang(Lang),
    ToggleLarge,
    ToggleCompare,
    /// What B changes in side by side (`name`, `value`); empty: the preset's own comparison.
    SetCompare(Vec<(String, String)>),
    SetChangeMode(ChangeMode),
    CutLink(usize, u64),
    RestartReplica(usize),
    SelectNode(usize),
    SelectMark(Option<usize>),
    ToggleHelp,
    /// The tab was hidden (true) or shown again.
    Hidden(bool),
    /// Connect to a server's live feed (`ws://host:port/`, a `token=` in it is taken out and
    /// kept as the password), or disconnect with `None`.
    Live(Option<String>),
    /// A message from the live feed.
    LiveMessage(String),
    /// The live feed's socket opened (true) or closed/failed (false, with a reason).
    LiveStatus(bool, Option<String>),
    SetTab(Tab),
    /// A part of the stage was clicked (`master`, `replica-2`, `tank-1`, `link-1`, `fork`...).
    Part(String),
    CloseInspector,
    /// Moving through a lesson.
    Lesson(Nav),
    /// The table of contents (lessons and presets).
    ToggleContents,
    /// The teacher's view.
    TogglePresent,
    /// Blanks the stage (teacher's view).
    ToggleBlank,
}

impl Action {
    /// Whether the action changes the run or its moment: on a lesson step that did not ask for
    /// it, the learner leaves the script (and can come back).
    fn leaves_script(&self) -> bool {
        matches!(
            self,
            Action::Seek(_)
                | Action::StepNext
                | Action::StepBack
                | Action::NextInteresting
                | Action::Restart
                | Action::SetSeed(_)
                | Action::CutLink(..)
                | Action::RestartReplica(_)
                | Action::SelectMark(Some(_))
        )
    }
}

pub struct Model {
    pub st: UrlState,
    /// The scenario the run started from (the preset and the `p.` changes); changes made
    /// during the run are the run's edits (`main.sim.scenario()` has the values in force).
    pub scenario: Scenario,
    pub main: Run,
    /// The side-by-side run B: the same scenario with [`Model::compare_changes`] applied, and
    /// the same edits at the same times.
    pub cmp: Option<Run>,
    pub playing: bool,
    /// Playing stops here (a lesson step's moment).
    pub stop_at: Option<u64>,
    pub paused_by_hidden: bool,
    pub notices: Vec<Notice>,
    /// An error from the last parameter change, shown next to the parameters.
    pub param_error: Option<String>,
    pub info_node: usize,
    pub selected_mark: Option<usize>,
    pub help_open: bool,
    pub contents_open: bool,
    /// The stage is hidden (teacher's view, `b`).
    pub blank: bool,
    /// Set when a step found nothing to stop at before this time; cleared by the next action.
    pub nothing_before: Option<u64>,
    /// What a real server's live feed has shown so far.
    pub live: Option<LiveFeed>,
    /// The live feed's password: in memory only, never in the page's link.
    pub live_token: Option<String>,
    /// The stage part whose details are open (its INFO, what a tank holds...).
    pub inspect: Option<String>,
    /// The lesson being followed, or left for free play (`tour.on` false).
    pub tour: Option<Tour>,
    /// Milliseconds from a monotonic clock (`performance.now()` in the page), to keep each
    /// frame's simulation within [`FRAME_BUDGET_MS`]; a constant clock means no budget.
    pub clock: fn() -> f64,
}

/// Keys that make a link about a run rather than the first lesson.
const RUN_KEYS: [&str; 8] = [
    "preset=", "live=", "t=", "view=", "p.", "e=", "cmp=", "lesson=",
];

impl Model {
    /// Builds the model from a URL query string, naming whatever in it was not valid. A link
    /// that names no run (the bare address) opens the first lesson.
    pub fn from_query(query: &str) -> Model {
        let (mut st, mut notices) = url::parse(query, DEFAULT_PRESET, &SimValidator);
        let names_a_run = query
            .trim_start_matches('?')
            .split('&')
            .any(|kv| RUN_KEYS.iter().any(|k| kv.starts_with(k)));
        if !names_a_run {
            st.lesson = lessons::LESSONS.first().map(|l| (l.id.to_string(), 0));
        }
        let scenario = match build_scenario(&st.preset, &st.params) {
            Ok(s) => s,
            Err(e) => {
                notices.push(Notice {
                    key: "p.*".into(),
                    message: e,
                });
                st.params.clear();
                Scenario::preset(DEFAULT_PRESET).unwrap_or_default()
            }
        };
        let mut m = Model {
            main: Run::new(&scenario, st.seed),
            cmp: None,
            scenario,
            st,
            playing: false,
            stop_at: None,
            paused_by_hidden: false,
            notices,
            param_error: None,
            info_node: 0,
            selected_mark: None,
            help_open: false,
            contents_open: false,
            blank: false,
            nothing_before: None,
            live: None,
            live_token: None,
            inspect: None,
            tour: None,
            clock: || 0.0,
        };
        m.live = m.st.live.as_deref().map(LiveFeed::new);
        // A link to a comparison or a live feed opens on it unless it names another panel.
        if m.st.tab == Tab::Timeline && !query.contains("tab=") {
            if m.st.compare {
                m.st.tab = Tab::Compare;
            } else if m.live.is_some() {
                m.st.tab = Tab::Live;
            }
        }
        if let Some((id, step)) = m.st.lesson.clone() {
            if let Some(lesson) = lessons::lesson(&id) {
                m.tour = Some(Tour::new(lesson));
                m.open_step(lesson, step, false);
                return m;
            }
        }
        if m.st.handout {
            m.notices.push(Notice {
                key: "handout".into(),
                message: "a handout needs a lesson (lesson=<id>); showing the app".into(),
            });
            m.st.handout = false;
        }
        // Changes the link says were made during the run, at their moments.
        for (t, e) in std::mem::take(&mut m.st.edits) {
            m.main.seek(t);
            if let Err(err) = m.main.edit(e.clone()) {
                m.notices.push(Notice {
                    key: "e".into(),
                    message: format!("{}: {err}", url::edit_text(t, &e)),
                });
            }
        }
        m.rebuild_compare();
        let t = m.st.t_ms;
        m.seek(t);
        m
    }

    /// The link that reopens this moment: the lesson step while following a lesson, else the
    /// whole run (preset, changes, moment).
    pub fn query(&self) -> String {
        if self.tour_on() {
            return url::lesson_query(&self.st);
        }
        let mut st = self.st.clone();
        st.t_ms = self.main.now_ms();
        st.edits = self.main.edits().to_vec();
        st.lesson = None;
        st.handout = false;
        url::to_query(&st)
    }

    pub fn now_ms(&self) -> u64 {
        self.main.now_ms()
    }

    /// Following a lesson (not left for free play).
    pub fn tour_on(&self) -> bool {
        self.tour.as_ref().is_some_and(|t| t.on)
    }

    /// Right edge of the time axes and where playing stops: the scenario's duration, or now
    /// when a link or a step went past it.
    pub fn end_ms(&self) -> u64 {
        self.scenario.duration.max(self.now_ms()).max(1000)
    }

    pub(super) fn seek(&mut self, t: u64) {
        self.main.seek(t);
        if let Some(c) = self.cmp.as_mut() {
            c.seek(t);
        }
    }

    /// What B changes in side by side: the link's, or the preset's own comparison.
    pub fn compare_changes(&self) -> Vec<(String, String)> {
        if !self.st.compare_change.is_empty() {
            return self.st.compare_change.clone();
        }
        lessons::guide(&self.st.preset)
            .map(|g| {
                g.compare
                    .iter()
                    .map(|c| {
                        let (n, v) = lessons::change(c);
                        (n.to_string(), v.to_string())
                    })
                    .collect()
            })
            .unwrap_or_else(|| vec![("repl-diskless-sync".into(), "yes".into())])
    }

    pub(super) fn rebuild_compare(&mut self) {
        self.cmp = None;
        if !self.st.compare {
            return;
        }
        let mut other = self.scenario.clone();
        for (name, value) in self.compare_changes() {
            if let Err(e) = other.set(&name, &value) {
                self.param_error = Some(format!("B: {name}={value}: {e}"));
                return;
            }
        }
        let mut run = Run::new(&other, self.st.seed);
        // B goes through the same changes at the same moments as A.
        for (t, e) in self.main.edits() {
            run.seek(*t);
            let _ = run.edit(e.clone());
        }
        run.seek(self.main.now_ms());
        self.cmp = Some(run);
    }

    /// A change made now, in A and in B.
    pub(super) fn edit(&mut self, e: Edit) -> Result<(), String> {
        self.main.edit(e.clone())?;
        let now = self.now_ms();
        if let Some(c) = self.cmp.as_mut() {
            c.seek(now);
            let _ = c.edit(e);
        }
        Ok(())
    }

    pub(super) fn restart_with(&mut self, scenario: Scenario) {
        self.scenario = scenario;
        self.main = Run::new(&self.scenario, self.st.seed);
        self.selected_mark = None;
        self.stop_at = None;
        self.rebuild_compare();
    }

    pub fn apply(&mut self, action: Action) {
        if !matches!(
            action,
            Action::Tick(_) | Action::LiveMessage(_) | Action::LiveStatus(..)
        ) {
            self.nothing_before = None;
        }
        if action.leaves_script() {
            self.leave_script();
        }
        match action {
            Action::Tick(dt) => self.tick(dt),
            Action::TogglePlay => {
                if !self.playing && self.stop_at.is_none() {
                    // A question or a task waiting: Play means "show me" or "try it".
                    if self.play_in_step() {
                        return;
                    }
                    // Playing on past a lesson step's stop is playing freely.
                    self.leave_script();
                }
                self.playing = !self.playing;
                self.paused_by_hidden = false;
                if self.playing && self.now_ms() >= self.scenario.duration {
                    // Play at the end starts the run again.
                    self.seek(0);
                }
            }
            Action::Pause => self.playing = false,
            Action::Seek(t) => self.seek(t.min(url::MAX_T_MS)),
            Action::StepNext => {
                self.playing = false;
                if !self.main.step_to_next_line(STEP_LIMIT_MS) {
                    self.nothing_before = Some(self.now_ms() + STEP_LIMIT_MS);
                }
                let t = self.now_ms();
                if let Some(c) = self.cmp.as_mut() {
                    c.seek(t);
                }
            }
            Action::StepBack => {
                self.playing = false;
                let t = self.main.previous_line_ms().unwrap_or(0);
                self.seek(t);
            }
            Action::NextInteresting => {
                self.playing = false;
                if !self.main.step_to_next_mark(STEP_LIMIT_MS) {
                    self.nothing_before = Some(self.now_ms() + STEP_LIMIT_MS);
                }
                let t = self.now_ms();
                if let Some(c) = self.cmp.as_mut() {
                    c.seek(t);
                }
                // Select the mark we stopped at, so its explanation shows.
                self.selected_mark = self
                    .main
                    .sim
                    .marks()
                    .iter()
                    .position(|m| m.t_ms == t && is_interesting(m.kind));
            }
            Action::Restart => {
                self.seek(0);
                self.selected_mark = None;
            }
            Action::SetSpeed(s) => {
                if s.is_finite() {
                    self.st.speed = s.clamp(url::MIN_SPEED, url::MAX_SPEED)
                }
            }
            Action::Faster => self.st.speed = next_speed(self.st.speed, true),
            Action::Slower => self.st.speed = next_speed(self.st.speed, false),
            Action::SetPreset(name) => match Scenario::preset(&name) {
                Some(s) => {
                    self.leave_lesson();
                    self.st.preset = name;
                    self.st.params.clear();
                    self.st.compare_change.clear();
                    self.param_error = None;
                    self.restart_with(s);
                }
                None => self.param_error = Some(format!("no preset named {name}")),
            },
            Action::SetSeed(seed) => {
                self.st.seed = seed;
                let s = self.scenario.clone();
                self.restart_with(s);
            }
            Action::SetParam(name, value) => self.set_param(name, value),
            Action::SetVersion(name) => {
                // A version is a different server: its run starts over, whatever the fork mode.
                let mode = std::mem::replace(&mut self.st.change_mode, ChangeMode::Restart);
                self.set_param("version".into(), name);
                self.st.change_mode = mode;
            }
            Action::SetLang(l) => self.st.lang = l,
            Action::ToggleLarge => self.st.large = !self.st.large,
            Action::ToggleCompare => {
                self.st.compare = !self.st.compare;
                if self.st.compare {
                    self.st.tab = Tab::Compare;
                } else if self.st.tab == Tab::Compare {
                    self.st.tab = Tab::Timeline;
                }
                self.rebuild_compare();
            }
            Action::SetCompare(changes) => {
                self.st.compare_change = changes;
                self.param_error = None;
                self.rebuild_compare();
            }
            Action::SetChangeMode(m) => self.st.change_mode = m,
            // The simulator numbers nodes (0 = master, 1 = replica-1); the page numbers replicas.
            Action::CutLink(i, ms) => {
                let _ = self.edit(Edit::Cut(i + 1, ms));
            }
            Action::RestartReplica(i) => {
                let _ = self.edit(Edit::Restart(i + 1));
            }
            Action::SelectNode(i) => self.info_node = i,
            Action::SelectMark(m) => {
                self.selected_mark = m;
                if let Some(t) = m.and_then(|i| self.main.sim.marks().get(i)).map(|m| m.t_ms) {
                    self.playing = false;
                    self.seek(t);
                }
            }
            Action::ToggleHelp => self.help_open = !self.help_open,
            Action::Hidden(true) => {
                if self.playing {
                    self.playing = false;
                    self.paused_by_hidden = true;
                }
            }
            Action::Hidden(false) => {
                if self.paused_by_hidden {
                    self.playing = true;
                    self.paused_by_hidden = false;
                }
            }
            Action::Live(None) => {
                self.st.live = None;
                self.live = None;
                self.live_token = None;
            }
            Action::Live(Some(url)) => {
                let (url, token) = split_token(url.trim());
                match check_feed_url(&url) {
                    Ok(()) => {
                        self.live = Some(LiveFeed::new(&url));
                        self.st.live = Some(url);
                        self.live_token = token;
                        self.st.tab = Tab::Live;
                    }
                    Err(e) => self.param_error = Some(e),
                }
            }
            Action::LiveMessage(text) => {
                if let Some(l) = self.live.as_mut() {
                    if let Err(e) = l.ingest(&text) {
                        l.error = Some(e);
                    }
                }
            }
            Action::LiveStatus(up, reason) => {
                if let Some(l) = self.live.as_mut() {
                    l.connected = up;
                    if reason.is_some() {
                        l.error = reason;
                    }
                }
            }
            Action::SetTab(t) => self.st.tab = t,
            Action::Part(id) => match id
                .strip_prefix("link-")
                .and_then(|k| k.parse::<usize>().ok())
            {
                // Clicking a link cuts it (the simulator numbers nodes as the page numbers replicas).
                Some(k) if k >= 1 => self.apply(Action::CutLink(k - 1, 10_000)),
                _ => {
                    self.inspect = if self.inspect.as_deref() == Some(id.as_str()) {
                        None
                    } else {
                        Some(id)
                    };
                }
            },
            Action::CloseInspector => {
                self.inspect = None;
                self.help_open = false;
                self.contents_open = false;
            }
            Action::Lesson(nav) => self.navigate(nav),
            Action::ToggleContents => self.contents_open = !self.contents_open,
            Action::TogglePresent => {
                self.st.present = !self.st.present;
                self.blank = false;
            }
            Action::ToggleBlank => self.blank = !self.blank,
        }
    }

    /// The address the live feed's socket opens (with the password, if one was given).
    pub fn live_socket_url(&self) -> Option<String> {
        let l = self.live.as_ref()?;
        Some(socket_url(&l.url, self.live_token.as_deref()))
    }

    fn tick(&mut self, dt: f64) {
        if !self.playing {
            return;
        }
        let step = (dt.clamp(0.0, 250.0) * self.st.speed).round() as u64;
        let end = self.scenario.duration.max(1000);
        let stop = self.stop_at.unwrap_or(end);
        let t = (self.now_ms() + step.max(1)).min(stop.max(self.now_ms()));
        let clock = self.clock;
        let deadline = clock() + FRAME_BUDGET_MS;
        let mut late = || clock() > deadline;
        self.main.seek_until(t, &mut late);
        let now = self.now_ms();
        if let Some(c) = self.cmp.as_mut() {
            c.seek(now);
        }
        if self.stop_at.is_some() {
            self.step_progress();
        } else if now >= end {
            self.playing = false;
        }
    }

    fn set_param(&mut self, name: String, value: String) {
        let mut next = self.scenario.clone();
        if let Err(e) = next.set(&name, &value) {
            self.param_error = Some(e.to_string());
            return;
        }
        self.param_error = None;
        if self.task_change(&name, &value) {
            return;
        }
        self.leave_script();
        match self.st.change_mode {
            ChangeMode::Restart => {
                self.st.params.retain(|(n, _)| *n != name);
                self.st.params.push((name, value));
                self.restart_with(next);
            }
            // Keep the past; the new value applies from now on.
            ChangeMode::Fork => {
                if let Err(e) = self.edit(Edit::Set(name, value)) {
                    self.param_error = Some(e);
                }
            }
        }
    }

    /// Full-sync marks and their causes, for "why did this full sync happen?".
    pub fn full_syncs(&self) -> Vec<(usize, u64, String)> {
        let now = self.now_ms();
        self.main
            .sim
            .marks()
            .iter()
            .enumerate()
            .filter(|(_, m)| m.kind == MarkKind::FullSyncStart && m.t_ms <= now)
            .map(|(i, m)| (i, m.t_ms, m.cause.clone()))
            .collect()
    }
}

pub(super) fn build_scenario(
    preset: &str,
    params: &[(String, String)],
) -> Result<Scenario, String> {
    let mut s = Scenario::preset(preset).ok_or_else(|| format!("no preset named {preset}"))?;
    for (n, v) in params {
        s.set(n, v).map_err(|e| format!("{n}={v}: {e}"))?;
    }
    Ok(s)
}

fn next_speed(now: f64, faster: bool) -> f64 {
    if faster {
        SPEEDS
            .iter()
            .copied()
            .find(|s| *s > now + 1e-9)
            .unwrap_or(url::MAX_SPEED)
    } else {
        SPEEDS
            .iter()
            .rev()
            .copied()
            .find(|s| *s < now - 1e-9)
            .unwrap_or(url::MIN_SPEED)
    }
}

/// Every preset's name, title, expected outcome and explanation, in the order of the guide's
/// groups: parsed once (the header shows them on every frame, and parsing all the presets
/// takes milliseconds).
pub fn presets() -> &'static [sim::PresetInfo] {
    static INFOS: std::sync::OnceLock<Vec<sim::PresetInfo>> = std::sync::OnceLock::new();
    INFOS.get_or_init(|| {
        let all = sim::presets();
        GROUPS
            .iter()
            .flat_map(|g| g.presets.iter())
            .filter_map(|g| all.iter().find(|p| p.name == g.name).cloned())
            .collect()
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn url_round_trip_reopens_at_the_same_moment() {
        let mut m = Model::from_query("preset=backlog-too-small&seed=5&speed=50");
        m.apply(Action::Seek(30_000));
        m.apply(Action::SetParam("repl-backlog-size".into(), "8mb".into()));
        m.apply(Action::Seek(40_000));
        let q = m.query();
        let again = Model::from_query(&q);
        assert!(again.notices.is_empty(), "{:?}", again.notices);
        assert_eq!(again.now_ms(), 40_000);
        assert_eq!(again.st.speed, 50.0);
        assert_eq!(again.main.sim.frame(), m.main.sim.frame(), "query {q}");
    }

    #[test]
    fn bad_url_values_become_notices_and_defaults() {
        let m = Model::from_query("preset=%3Cb%3E&speed=1e9&p.repl-backlog-size=-4&p.nonsense=1");
        let keys: Vec<&str> = m.notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            ["preset", "speed", "p.repl-backlog-size", "p.nonsense"]
        );
        assert_eq!(m.st.preset, DEFAULT_PRESET);
        assert!(m.st.params.is_empty());
    }

    #[test]
    fn a_bad_parameter_value_is_refused_and_keeps_the_run() {
        let mut m = Model::from_query("");
        m.apply(Action::Seek(5_000));
        m.apply(Action::SetParam("repl-backlog-size".into(), "lots".into()));
        assert!(m.param_error.is_some());
        assert_eq!(m.now_ms(), 5_000);
    }

    #[test]
    fn fork_mode_keeps_the_past_and_restart_mode_does_not() {
        let mut m = Model::from_query("preset=disk-sync-loop");
        m.apply(Action::Seek(20_000));
        let before = m.main.sim.log().len();
        m.apply(Action::SetChangeMode(ChangeMode::Fork));
        m.apply(Action::SetParam("repl-diskless-sync".into(), "yes".into()));
        assert_eq!(m.now_ms(), 20_000);
        assert_eq!(m.main.sim.log().len(), before);
        m.apply(Action::SetChangeMode(ChangeMode::Restart));
        m.apply(Action::SetParam("repl-diskless-sync".into(), "no".into()));
        assert_eq!(m.now_ms(), 0);
    }

    #[test]
    fn stepping_in_a_quiet_stretch_stays_put_and_says_so() {
        let mut m = Model::from_query("preset=backlog-too-small");
        let last = m.main.sim.scenario().duration;
        m.apply(Action::Seek(last));
        let quiet_from = m.main.sim.log().last().map(|l| l.t_ms).unwrap_or(0);
        m.apply(Action::Seek(quiet_from + 1));
        let now = m.now_ms();
        m.apply(Action::StepNext);
        if m.now_ms() == now {
            assert_eq!(m.nothing_before, Some(now + STEP_LIMIT_MS));
        } else {
            // Something did happen later (a periodic line): we stopped exactly at it.
            let t = m.now_ms();
            assert!(m.main.sim.log().iter().any(|l| l.t_ms == t));
        }
        m.apply(Action::StepBack);
        assert!(m.now_ms() <= quiet_from);
        assert!(m.nothing_before.is_none());
    }

    #[test]
    fn live_feed_connects_ingests_and_disconnects() {
        let mut m = Model::from_query("live=ws%3A%2F%2F127.0.0.1%3A6381%2F");
        assert!(m.notices.is_empty(), "{:?}", m.notices);
        assert_eq!(
            m.live.as_ref().map(|l| l.url.as_str()),
            Some("ws://127.0.0.1:6381/")
        );
        m.apply(Action::LiveStatus(true, None));
        m.apply(Action::LiveMessage(
            r#"{"type":"log","lines":[{"t_ms":1,"node":"master","line":"x"}]}"#.into(),
        ));
        m.apply(Action::LiveMessage("garbage".into()));
        let l = m.live.as_ref().unwrap();
        assert!(l.connected);
        assert_eq!(l.log.len(), 1);
        assert!(l.error.as_deref().unwrap_or("").contains("unreadable"));
        m.apply(Action::Live(Some("http://nope".into())));
        assert!(m.param_error.is_some());
        m.apply(Action::Live(None));
        assert!(m.live.is_none() && !m.query().contains("live="));
    }

    #[test]
    fn cutting_a_link_hits_that_replica_at_that_moment() {
        let mut m = Model::from_query("preset=psync-no-reconnection-disk");
        m.apply(Action::Seek(30_000));
        m.apply(Action::CutLink(0, 10_000));
        m.apply(Action::Seek(60_000));
        let cut = m
            .main
            .sim
            .marks()
            .iter()
            .find(|k| k.kind == MarkKind::LinkCut)
            .cloned();
        let cut = cut.expect("a link-cut mark");
        assert_eq!((cut.replica, cut.t_ms), (Some(0), 30_000));
        let mut native = crate::sim::Simulation::new(&m.scenario, 1);
        native.run_until(30_000);
        native.cut_link(1, 10_000);
        native.run_until(60_000);
        assert_eq!(m.main.sim.summary(), native.summary());
        m.apply(Action::RestartReplica(0));
        m.apply(Action::Seek(61_000));
        assert!(m
            .main
            .sim
            .marks()
            .iter()
            .any(|k| k.kind == MarkKind::ReplicaRestart && k.replica == Some(0)));
    }

    #[test]
    fn playing_stops_at_the_end_of_the_run_and_restart_shrinks_the_axis() {
        let mut m = Model::from_query("preset=backlog-sized&speed=1000");
        let end = m.scenario.duration;
        m.apply(Action::TogglePlay);
        for _ in 0..2_000 {
            m.apply(Action::Tick(250.0));
            if !m.playing {
                break;
            }
        }
        assert!(!m.playing, "playing stopped by itself");
        assert_eq!(m.now_ms(), end, "stopped exactly at the end");
        assert_eq!(m.end_ms(), end);
        // Play at the end starts again from zero.
        m.apply(Action::TogglePlay);
        assert!(m.playing);
        assert_eq!(m.now_ms(), 0);
        // Going past the end on purpose widens the axis; Restart narrows it again.
        m.apply(Action::Seek(end + 60_000));
        assert_eq!(m.end_ms(), end + 60_000);
        m.apply(Action::Restart);
        assert_eq!(m.end_ms(), end);
    }

    thread_local! {
        static FAKE_NOW: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    }

    /// A clock that moves 4 ms each time it is read.
    fn slow_clock() -> f64 {
        FAKE_NOW.with(|c| {
            c.set(c.get() + 4.0);
            c.get()
        })
    }

    #[test]
    fn a_frame_stops_simulating_when_its_time_budget_is_spent() {
        let mut m = Model::from_query("preset=disk-sync-loop&speed=1000");
        m.clock = slow_clock;
        m.apply(Action::TogglePlay);
        m.apply(Action::Tick(250.0));
        // 250 s were asked for; the budget allowed a few one-second slices only.
        let now = m.now_ms();
        assert!(now > 0 && now < 10_000, "now {now}");
        m.apply(Action::Pause);
        m.apply(Action::Tick(250.0));
        assert_eq!(m.now_ms(), now, "paused: the next frame does not move");
    }

    #[test]
    fn clicking_a_link_cuts_it_and_clicking_a_part_inspects_it() {
        let mut m = Model::from_query("preset=psync-no-reconnection-disk");
        m.apply(Action::Seek(30_000));
        m.apply(Action::Part("link-1".into()));
        assert!(m.inspect.is_none());
        assert!(m
            .main
            .sim
            .marks()
            .iter()
            .any(|k| k.kind == MarkKind::LinkCut && k.t_ms == 30_000));
        m.apply(Action::Part("tank-1".into()));
        assert_eq!(m.inspect.as_deref(), Some("tank-1"));
        m.apply(Action::Part("tank-1".into()));
        assert!(m.inspect.is_none(), "a second click closes it");
    }

    #[test]
    fn speed_steps_stay_in_range() {
        let mut m = Model::from_query("speed=1000");
        m.apply(Action::Faster);
        assert_eq!(m.st.speed, 1000.0);
        m.apply(Action::SetSpeed(0.1));
        m.apply(Action::Slower);
        assert_eq!(m.st.speed, 0.1);
        m.apply(Action::Faster);
        assert_eq!(m.st.speed, 0.25);
    }

    #[test]
    fn hiding_the_tab_pauses_and_showing_resumes() {
        let mut m = Model::from_query("");
        m.apply(Action::TogglePlay);
        m.apply(Action::Hidden(true));
        assert!(!m.playing && m.paused_by_hidden);
        m.apply(Action::Tick(16.0));
        assert_eq!(m.now_ms(), 0, "no time passes while hidden");
        m.apply(Action::Hidden(false));
        assert!(m.playing);
        m.apply(Action::Tick(100.0));
        assert_eq!(m.now_ms(), 1_000, "100 ms at 10x");
    }

    #[test]
    fn compare_runs_the_changed_scenario_on_the_same_clock() {
        let mut m = Model::from_query("preset=disk-sync-loop&view=compare");
        m.apply(Action::Seek(120_000));
        let cmp = m.cmp.as_ref().expect("compare run");
        assert_eq!(cmp.now_ms(), 120_000);
        assert_eq!(
            cmp.sim.scenario().get("repl-diskless-sync").as_deref(),
            Some("yes")
        );
        assert_eq!(
            m.main.sim.scenario().get("repl-diskless-sync").as_deref(),
            Some("no")
        );
    }
}
