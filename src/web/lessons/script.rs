//! The small language lessons use to name moments of a run and facts about it, so a step says
//! "when replica-1 starts loading, plus 2 s" rather than "at 53.4 s": the words stay true when
//! the simulator's timings move.
//!
//! A **moment** (a step's `from` and `to`):
//! - `start`; `85s` (that time of the run); `+5s` (five seconds after the step's start);
//! - an event after the step's start, its occurrence and an offset: `cut-off`,
//!   `full-sync #2 +1s`, `replica-1=loading +2s`, `link-restored -500ms`.
//!
//! An **event** is a timeline mark (`full-sync`, `full-sync-done`, `partial-resync`,
//! `psync-refused`, `cut-off`, `timeout`, `link-cut`, `link-restored`, `replica-restart`,
//! `promotion`), counted once per moment it happens at, or a stage part entering a state
//! (`tank-1=over-soft`: it was not in it at the previous look, one scenario tick earlier).
//!
//! A **condition** (a question's proof, a task's goal), over the stretch from the step's start
//! to its stop: `partial-resync` (it happens), `no cut-off` (it does not), `replica-1=online`
//! (that is the part's state at the stop).

use crate::sim::units::parse_duration_ms;
use crate::view::MarkKind;
use crate::web::run::Run;
use crate::web::stage::Stage;

/// `from` of a step that goes on where the previous one stopped.
pub const PREVIOUS: &str = "previous";
/// How far (virtual time) an event is looked for before the step is called broken.
pub const SEARCH_LIMIT_MS: u64 = 30 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Mark(MarkKind),
    /// A stage part (`tank-1`) entering a state (`over-soft`).
    State(String, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Moment {
    Start,
    /// Where the previous step stopped (resolved by the caller).
    Previous,
    At(u64),
    /// Milliseconds after the step's start.
    After(u64),
    /// The `nth` (1-based) occurrence of `event` after the step's start, shifted by `shift_ms`.
    On {
        event: Event,
        nth: u32,
        shift_ms: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Happens(MarkKind),
    Never(MarkKind),
    /// The part's state when the step stops.
    Ends(String, String),
}

/// Mark names as lessons write them.
pub const MARKS: [(&str, MarkKind); 10] = [
    ("full-sync", MarkKind::FullSyncStart),
    ("full-sync-done", MarkKind::FullSyncDone),
    ("partial-resync", MarkKind::PartialSyncAccepted),
    ("psync-refused", MarkKind::PartialSyncRefused),
    ("cut-off", MarkKind::OutputBufferCutOff),
    ("timeout", MarkKind::Timeout),
    ("link-cut", MarkKind::LinkCut),
    ("link-restored", MarkKind::LinkRestored),
    ("replica-restart", MarkKind::ReplicaRestart),
    ("promotion", MarkKind::Promotion),
];

fn mark(name: &str) -> Option<MarkKind> {
    MARKS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

pub fn mark_name(kind: MarkKind) -> &'static str {
    MARKS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("?", |(n, _)| n)
}

fn event(text: &str) -> Result<Event, String> {
    if let Some((part, state)) = text.split_once('=') {
        if part.is_empty() || state.is_empty() {
            return Err(format!(
                "`{text}`: write a part and a state, like tank-1=over-soft"
            ));
        }
        return Ok(Event::State(part.to_string(), state.to_string()));
    }
    mark(text).map(Event::Mark).ok_or_else(|| {
        let names: Vec<&str> = MARKS.iter().map(|(n, _)| *n).collect();
        format!(
            "`{text}` is neither an event ({}) nor part=state",
            names.join(", ")
        )
    })
}

fn signed_ms(text: &str) -> Result<i64, String> {
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(format!("`{text}`: an offset starts with + or -")),
    };
    Ok(sign * parse_duration_ms(rest, 1)? as i64)
}

impl Moment {
    pub fn parse(text: &str) -> Result<Moment, String> {
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("start");
        let m = match first {
            "start" => Moment::Start,
            PREVIOUS => Moment::Previous,
            _ if first.starts_with('+') => Moment::After(signed_ms(first)?.max(0) as u64),
            _ if first.starts_with(|c: char| c.is_ascii_digit()) => {
                Moment::At(parse_duration_ms(first, 1)?)
            }
            _ => {
                let event = event(first)?;
                let (mut nth, mut shift_ms) = (1, 0);
                for w in words.by_ref() {
                    if let Some(n) = w.strip_prefix('#') {
                        nth = n
                            .parse::<u32>()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| format!("`{w}`: write #1, #2, ..."))?;
                    } else {
                        shift_ms = signed_ms(w)?;
                    }
                }
                Moment::On {
                    event,
                    nth,
                    shift_ms,
                }
            }
        };
        match words.next() {
            Some(extra) => Err(format!("`{text}`: unexpected `{extra}`")),
            None => Ok(m),
        }
    }

    /// The events this moment waits for (to check their parts and states exist).
    pub fn event(&self) -> Option<&Event> {
        match self {
            Moment::On { event, .. } => Some(event),
            _ => None,
        }
    }
}

impl Cond {
    pub fn parse(text: &str) -> Result<Cond, String> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("no ") {
            return match event(rest.trim())? {
                Event::Mark(k) => Ok(Cond::Never(k)),
                Event::State(..) => Err(format!("`{t}`: `no` goes with an event, not a state")),
            };
        }
        Ok(match event(t)? {
            Event::Mark(k) => Cond::Happens(k),
            Event::State(p, s) => Cond::Ends(p, s),
        })
    }

    /// Whether the condition holds for the stretch `(from, to]` of a run standing at `to`.
    pub fn holds(&self, run: &Run, from: u64) -> bool {
        let to = run.now_ms();
        let seen = |k: MarkKind| {
            run.sim
                .marks()
                .iter()
                .any(|m| m.kind == k && m.t_ms > from && m.t_ms <= to)
        };
        match self {
            Cond::Happens(k) => seen(*k),
            Cond::Never(k) => !seen(*k),
            Cond::Ends(part, state) => {
                state_of(&Stage::from_frame(&run.sim.frame()), part).is_some_and(|s| s == *state)
            }
        }
    }

    /// The condition in words (for "not yet: ..." messages), in English or Chinese.
    pub fn describe(&self, zh: bool) -> String {
        match (self, zh) {
            (Cond::Happens(k), false) => format!("a {} should happen", mark_name(*k)),
            (Cond::Happens(k), true) => format!("应该出现 {}", mark_name(*k)),
            (Cond::Never(k), false) => format!("no {} should happen", mark_name(*k)),
            (Cond::Never(k), true) => format!("不应出现 {}", mark_name(*k)),
            (Cond::Ends(p, s), false) => format!("{p} should end {s}"),
            (Cond::Ends(p, s), true) => format!("{p} 最后应为 {s}"),
        }
    }
}

/// A part's state on the stage, if the part is drawn.
pub fn state_of(stage: &Stage, part: &str) -> Option<String> {
    stage
        .parts()
        .into_iter()
        .find(|(p, _)| p == part)
        .map(|(_, s)| s)
}

/// The time `m` names, for a step starting at `from` (`Previous` must be resolved by the
/// caller). The run is moved forward as far as needed to find an event; where it ends up is
/// the caller's to change.
pub fn resolve(run: &mut Run, from: u64, m: &Moment) -> Result<u64, String> {
    match m {
        Moment::Start => Ok(0),
        Moment::Previous => Ok(from),
        Moment::At(t) => Ok(*t),
        Moment::After(d) => Ok(from + d),
        Moment::On {
            event,
            nth,
            shift_ms,
        } => {
            let t = find(run, from, event, *nth)?;
            Ok((t as i64 + shift_ms).max(0) as u64)
        }
    }
}

fn find(run: &mut Run, from: u64, event: &Event, nth: u32) -> Result<u64, String> {
    let limit = from + SEARCH_LIMIT_MS;
    match event {
        Event::Mark(kind) => {
            // Occurrences are counted by time: a cut link leaves three marks at one moment.
            let nth_time = |run: &Run| {
                let mut times: Vec<u64> = run
                    .sim
                    .marks()
                    .iter()
                    .filter(|m| m.kind == *kind && m.t_ms > from)
                    .map(|m| m.t_ms)
                    .collect();
                times.dedup();
                times.get(nth as usize - 1).copied()
            };
            if run.now_ms() < from {
                run.seek(from);
            }
            loop {
                if let Some(t) = nth_time(run) {
                    return Ok(t);
                }
                let now = run.now_ms();
                if now >= limit {
                    break;
                }
                run.seek((now + 1_000).min(limit));
            }
        }
        Event::State(part, state) => {
            // Looked at once per scenario tick from the step's start, whatever the run's
            // position: the answer does not depend on where the run happened to stand.
            let tick = run.sim.scenario().tick.max(10);
            let at = |run: &mut Run, t: u64| {
                run.seek(t);
                state_of(&Stage::from_frame(&run.sim.frame()), part).is_some_and(|s| s == *state)
            };
            let mut was = at(run, from);
            let mut seen = 0;
            let mut t = from;
            while t < limit {
                t += tick;
                let is = at(run, t);
                if is && !was {
                    seen += 1;
                    if seen == nth {
                        return Ok(t);
                    }
                }
                was = is;
            }
        }
    }
    Err(format!(
        "{} #{nth} does not happen within {} of {}",
        match event {
            Event::Mark(k) => mark_name(*k).to_string(),
            Event::State(p, s) => format!("{p}={s}"),
        },
        crate::web::format::secs(SEARCH_LIMIT_MS),
        crate::web::format::clock(from)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse_and_name_what_is_wrong() {
        assert_eq!(Moment::parse("start"), Ok(Moment::Start));
        assert_eq!(Moment::parse("85s"), Ok(Moment::At(85_000)));
        assert_eq!(Moment::parse("+2.5s"), Ok(Moment::After(2_500)));
        assert_eq!(
            Moment::parse("full-sync #2 -500ms"),
            Ok(Moment::On {
                event: Event::Mark(MarkKind::FullSyncStart),
                nth: 2,
                shift_ms: -500
            })
        );
        assert_eq!(
            Moment::parse("tank-1=over-soft +1s"),
            Ok(Moment::On {
                event: Event::State("tank-1".into(), "over-soft".into()),
                nth: 1,
                shift_ms: 1_000
            })
        );
        assert!(Moment::parse("cutoff").unwrap_err().contains("cut-off"));
        assert!(Moment::parse("cut-off #0").is_err());
        assert!(Moment::parse("cut-off 5s").unwrap_err().contains("+ or -"));
        assert!(Moment::parse("85s later").is_err());
    }

    #[test]
    fn conditions_parse() {
        assert_eq!(
            Cond::parse("no cut-off"),
            Ok(Cond::Never(MarkKind::OutputBufferCutOff))
        );
        assert_eq!(
            Cond::parse("partial-resync"),
            Ok(Cond::Happens(MarkKind::PartialSyncAccepted))
        );
        assert_eq!(
            Cond::parse("replica-1=online"),
            Ok(Cond::Ends("replica-1".into(), "online".into()))
        );
        assert!(Cond::parse("no replica-1=online").is_err());
    }
}
