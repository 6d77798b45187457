//! The app's whole state in the URL's query string, so a teacher can share a link that opens
//! at the same moment.
//!
//! Everything read from a URL is untrusted: each value is checked, a bad one is named in a
//! notice and replaced by its default, and nothing from the URL is ever put into the page as
//! markup (notices are rendered as text).
//!
//! Keys: `preset`, `seed`, `t` (ms of virtual time), `speed` (×), `lang` (`en`|`zh`), `big`
//! (large type, `1`), `view` (`single`|`compare`), `cmp` (`name=value`, one of the changes B
//! makes in side by side; repeated), `fork` (`fork`|`restart`: what a parameter change does),
//! `live` (a `ws://` live feed of a `replscope server`; never with a password in it), `tab` (the
//! panel under the stage), `p.<param>=<value>` for every parameter changed from the start,
//! `e=<ms>.<change>` for every change made during the run (`p.<param>=<value>`, `cut.<n>=<ms>`,
//! `restart.<n>`; repeated), `version` (`redis-8.2`: the version every node plays, kept with the
//! parameters), and for lessons `lesson` (its id), `step` (1-based), `present`
//! (the teacher's view, `1`) and `handout` (the printable page, `1`).
//! Pure code: compiled and unit-tested natively as well as in the browser.

use super::run::Edit;
use std::fmt::Write as _;

pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 1000.0;
/// Longest run a URL may ask to open at: 24 hours of virtual time.
pub const MAX_T_MS: u64 = 24 * 3600 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// The panel under the stage: one idea per view, each one click away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Timeline,
    Buffers,
    Chart,
    Log,
    Info,
    Why,
    Summary,
    /// How often each outcome happens over many seeds.
    Seeds,
    Parameters,
    About,
    Compare,
    Live,
}

impl Tab {
    pub const ALL: [Tab; 12] = [
        Tab::Timeline,
        Tab::Buffers,
        Tab::Chart,
        Tab::Log,
        Tab::Info,
        Tab::Why,
        Tab::Summary,
        Tab::Seeds,
        Tab::Parameters,
        Tab::About,
        Tab::Compare,
        Tab::Live,
    ];

    /// The tab's name (English; `i18n::tr` translates).
    pub fn label(self) -> &'static str {
        match self {
            Tab::Timeline => "Timeline",
            Tab::Buffers => "Backlog & buffers",
            Tab::Chart => "Chart",
            Tab::Log => "Log",
            Tab::Info => "INFO",
            Tab::Why => "Why?",
            Tab::Summary => "Summary",
            Tab::Seeds => "How often?",
            Tab::Parameters => "Parameters",
            Tab::About => "About this preset",
            Tab::Compare => "Side by side",
            Tab::Live => "Live",
        }
    }

    /// The URL value and the `data-tab` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Tab::Timeline => "timeline",
            Tab::Buffers => "buffers",
            Tab::Chart => "chart",
            Tab::Log => "log",
            Tab::Info => "info",
            Tab::Why => "why",
            Tab::Summary => "summary",
            Tab::Seeds => "seeds",
            Tab::Parameters => "parameters",
            Tab::About => "about",
            Tab::Compare => "compare",
            Tab::Live => "live",
        }
    }
}

/// What a parameter change does to the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeMode {
    /// Start over from t = 0 with the new value.
    Restart,
    /// Keep the past, apply the new value from the current moment on (the default: the clock
    /// is not reset).
    Fork,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrlState {
    pub preset: String,
    pub seed: u64,
    pub t_ms: u64,
    pub speed: f64,
    pub lang: Lang,
    pub large: bool,
    pub compare: bool,
    /// What B changes in the side-by-side view (`name`, `value`); empty: the preset's own
    /// comparison.
    pub compare_change: Vec<(String, String)>,
    pub change_mode: ChangeMode,
    /// Parameters changed from the preset, in the order they were set.
    pub params: Vec<(String, String)>,
    /// Changes made during the run, with their times (replayed by the run).
    pub edits: Vec<(u64, Edit)>,
    /// The live feed to draw next to the simulation, if any (never with a password).
    pub live: Option<String>,
    /// The panel open under the stage.
    pub tab: Tab,
    /// The lesson followed and its step (0-based), if any.
    pub lesson: Option<(String, usize)>,
    /// The teacher's view: large type, no parameters, arrows walk the lesson.
    pub present: bool,
    /// The printable one-page handout of the lesson.
    pub handout: bool,
}

impl UrlState {
    pub fn new(default_preset: &str) -> UrlState {
        UrlState {
            preset: default_preset.to_string(),
            seed: 1,
            t_ms: 0,
            speed: 10.0,
            lang: Lang::En,
            large: false,
            compare: false,
            compare_change: Vec::new(),
            change_mode: ChangeMode::Fork,
            params: Vec::new(),
            edits: Vec::new(),
            live: None,
            tab: Tab::Timeline,
            lesson: None,
            present: false,
            handout: false,
        }
    }
}

/// Something wrong in the URL, shown to the user as plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub key: String,
    pub message: String,
}

/// What the URL parser needs to know about the simulator without depending on it.
pub trait Validate {
    fn preset_exists(&self, name: &str) -> bool;
    /// Checks a parameter value; the error says what is allowed.
    fn check_param(&self, name: &str, value: &str) -> Result<(), String>;
    /// How many steps the lesson has, if there is one by that id.
    fn lesson_steps(&self, id: &str) -> Option<usize>;
}

/// A change made during the run as the URL writes it: `<ms>.p.<name>=<value>`,
/// `<ms>.cut.<n>=<ms>` or `<ms>.restart.<n>`.
pub fn edit_text(t: u64, e: &Edit) -> String {
    match e {
        Edit::Set(n, v) => format!("{t}.p.{n}={v}"),
        Edit::Cut(n, ms) => format!("{t}.cut.{n}={ms}"),
        Edit::Restart(n) => format!("{t}.restart.{n}"),
    }
}

/// Reads [`edit_text`] back, checking every part.
pub fn parse_edit(text: &str, v: &dyn Validate) -> Result<(u64, Edit), String> {
    let (t, rest) = text.split_once('.').ok_or(
        "a change looks like <ms>.p.<name>=<value>, <ms>.cut.<n>=<ms> or <ms>.restart.<n>",
    )?;
    let t = t
        .parse::<u64>()
        .ok()
        .filter(|t| *t <= MAX_T_MS)
        .ok_or_else(|| format!("its time must be 0..{MAX_T_MS} ms"))?;
    let replica = |n: &str| {
        n.parse::<usize>()
            .ok()
            .filter(|n| (1..=8).contains(n))
            .ok_or_else(|| "the replica number must be 1..8".to_string())
    };
    let e = if let Some(p) = rest.strip_prefix("p.") {
        let (n, val) = p.split_once('=').ok_or("write p.<name>=<value>")?;
        v.check_param(n, val)?;
        Edit::Set(n.to_string(), val.to_string())
    } else if let Some(c) = rest.strip_prefix("cut.") {
        let (n, ms) = c.split_once('=').ok_or("write cut.<n>=<ms>")?;
        let ms = ms
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= MAX_T_MS)
            .ok_or("the cut lasts 0..86400000 ms")?;
        Edit::Cut(replica(n)?, ms)
    } else if let Some(n) = rest.strip_prefix("restart.") {
        Edit::Restart(replica(n)?)
    } else {
        return Err("the change must be p.<name>=<value>, cut.<n>=<ms> or restart.<n>".into());
    };
    Ok((t, e))
}

/// Parses a query string (with or without the leading `?`). Bad values become notices and
/// defaults; unknown keys are named too, so a mistyped link does not fail silently.
pub fn parse(query: &str, default_preset: &str, v: &dyn Validate) -> (UrlState, Vec<Notice>) {
    let mut st = UrlState::new(default_preset);
    let mut notices = Vec::new();
    let mut step = None;
    let mut bad = |key: &str, message: String| {
        notices.push(Notice {
            key: key.to_string(),
            message,
        })
    };
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, val) = match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        };
        match k.as_str() {
            "preset" => {
                if v.preset_exists(&val) {
                    st.preset = val;
                } else {
                    bad(
                        &k,
                        format!("no preset named “{}”; using “{default_preset}”", clip(&val)),
                    );
                }
            }
            "seed" => match val.parse::<u64>() {
                Ok(s) => st.seed = s,
                Err(_) => bad(
                    &k,
                    format!(
                        "seed must be a whole number ≥ 0, not “{}”; using 1",
                        clip(&val)
                    ),
                ),
            },
            "t" => match val.parse::<u64>() {
                Ok(t) if t <= MAX_T_MS => st.t_ms = t,
                _ => bad(
                    &k,
                    format!(
                        "time must be 0..{MAX_T_MS} ms, not “{}”; starting at 0",
                        clip(&val)
                    ),
                ),
            },
            "speed" => match val.parse::<f64>() {
                Ok(s) if s.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&s) => st.speed = s,
                _ => bad(
                    &k,
                    format!(
                        "speed must be {MIN_SPEED}..{MAX_SPEED}, not “{}”; using 10",
                        clip(&val)
                    ),
                ),
            },
            "lang" => match val.as_str() {
                "en" => st.lang = Lang::En,
                "zh" => st.lang = Lang::Zh,
                _ => bad(
                    &k,
                    format!("language must be en or zh, not “{}”", clip(&val)),
                ),
            },
            "big" => match val.as_str() {
                "1" | "" => st.large = true,
                "0" => st.large = false,
                _ => bad(&k, format!("big must be 0 or 1, not “{}”", clip(&val))),
            },
            "view" => match val.as_str() {
                "compare" => st.compare = true,
                "single" => st.compare = false,
                _ => bad(
                    &k,
                    format!("view must be single or compare, not “{}”", clip(&val)),
                ),
            },
            "fork" => match val.as_str() {
                "fork" => st.change_mode = ChangeMode::Fork,
                "restart" => st.change_mode = ChangeMode::Restart,
                _ => bad(
                    &k,
                    format!("fork must be fork or restart, not “{}”", clip(&val)),
                ),
            },
            "present" | "handout" => match val.as_str() {
                "1" | "" | "0" => {
                    let on = val != "0";
                    if k == "present" {
                        st.present = on
                    } else {
                        st.handout = on
                    }
                }
                _ => bad(&k, format!("{k} must be 0 or 1, not “{}”", clip(&val))),
            },
            "lesson" => match v.lesson_steps(&val) {
                Some(_) => st.lesson = Some((val, st.lesson.as_ref().map_or(0, |l| l.1))),
                None => bad(&k, format!("no lesson named “{}”", clip(&val))),
            },
            "step" => match val.parse::<usize>() {
                Ok(n) if n >= 1 => step = Some(n),
                _ => bad(&k, format!("step must be 1, 2, 3…, not “{}”", clip(&val))),
            },
            "e" => match parse_edit(&val, v) {
                Ok(e) => st.edits.push(e),
                Err(e) => bad(&k, format!("change {}: {e}", clip(&val))),
            },
            "tab" => match Tab::ALL.iter().find(|t| t.code() == val) {
                Some(t) => st.tab = *t,
                None => bad(
                    &k,
                    format!("no panel named “{}”; showing the timeline", clip(&val)),
                ),
            },
            "live" => match super::live::check_feed_url(&val) {
                // A password belongs in the Live tab's field, never in a link someone may share.
                Ok(()) if super::live::has_token(&val) => bad(
                    &k,
                    "the live feed link carried a password (token=): it was not used; type it in the Live tab".into(),
                ),
                Ok(()) => st.live = Some(val),
                Err(e) => bad(&k, format!("{e}, not “{}”", clip(&val))),
            },
            // The version every node plays: a parameter, with a key of its own because it is the
            // first thing a reader of the link wants to know. `p.version` is read the same way,
            // so an alias (`redis8.2`) is written back in its one canonical form.
            "version" | "p.version" => match crate::core::version::Version::parse(&val) {
                Ok(ver) => {
                    st.params.retain(|(n, _)| n != "version");
                    st.params.push(("version".into(), ver.name().into()));
                }
                Err(e) => bad(&k, format!("{e}; using the preset's version")),
            },
            "cmp" => match val.split_once('=') {
                Some((name, value)) => match v.check_param(name, value) {
                    Ok(()) => {
                        st.compare_change.retain(|(n, _)| n != name);
                        st.compare_change.push((name.to_string(), value.to_string()))
                    }
                    Err(e) => bad(&k, format!("compared change {}: {e}", clip(&val))),
                },
                None => bad(
                    &k,
                    format!("cmp must look like name=value, not “{}”", clip(&val)),
                ),
            },
            _ => match k.strip_prefix("p.") {
                Some(name) => match v.check_param(name, &val) {
                    Ok(()) => {
                        st.params.retain(|(n, _)| n != name);
                        st.params.push((name.to_string(), val));
                    }
                    Err(e) => bad(&k, format!("{}: {e}; using the preset's value", clip(name))),
                },
                None => bad(&k, format!("unknown setting “{}” ignored", clip(&k))),
            },
        }
    }
    // The step is checked against its lesson, whichever came first in the link.
    match (step, st.lesson.as_mut()) {
        (Some(n), Some((id, i))) => match v.lesson_steps(id) {
            Some(count) if n <= count => *i = n - 1,
            Some(count) => notices.push(Notice {
                key: "step".into(),
                message: format!("lesson “{id}” has steps 1..{count}, not {n}; opening step 1"),
            }),
            None => {}
        },
        (Some(_), None) => notices.push(Notice {
            key: "step".into(),
            message: "a step needs a lesson (lesson=<id>); ignored".into(),
        }),
        _ => {}
    }
    (st, notices)
}

/// The query string (without `?`) that reproduces `st`.
pub fn to_query(st: &UrlState) -> String {
    let mut q = String::new();
    let _ = write!(
        q,
        "preset={}&seed={}&t={}",
        encode(&st.preset),
        st.seed,
        st.t_ms
    );
    let _ = write!(q, "&speed={}", format_speed(st.speed));
    let _ = write!(q, "&lang={}", st.lang.code());
    if st.large {
        q.push_str("&big=1");
    }
    if st.compare {
        q.push_str("&view=compare");
        for (n, v) in &st.compare_change {
            let _ = write!(q, "&cmp={}", encode(&format!("{n}={v}")));
        }
    }
    if st.change_mode == ChangeMode::Restart {
        q.push_str("&fork=restart");
    }
    if let Some(l) = &st.live {
        let _ = write!(q, "&live={}", encode(l));
    }
    if st.tab != Tab::Timeline {
        let _ = write!(q, "&tab={}", st.tab.code());
    }
    for (n, v) in &st.params {
        if n == "version" {
            let _ = write!(q, "&version={}", encode(v));
        } else {
            let _ = write!(q, "&p.{}={}", encode(n), encode(v));
        }
    }
    for (t, e) in &st.edits {
        let _ = write!(q, "&e={}", encode(&edit_text(*t, e)));
    }
    q
}

/// What the `web_url` fuzz target checks (and `tests/fuzz_regressions.rs` replays): whatever
/// `query` holds, the state it gives reads back the same from its own query, with no notices.
/// The error says what differed.
pub fn check_reads_back(query: &str, default_preset: &str, v: &dyn Validate) -> Result<(), String> {
    let (st, _notices) = parse(query, default_preset, v);
    let q = to_query(&st);
    let (again, notices) = parse(&q, default_preset, v);
    if !notices.is_empty() {
        return Err(format!("{q}: {notices:?}"));
    }
    let q2 = to_query(&again);
    if q2 != q {
        return Err(format!("{q} read back as {q2}"));
    }
    Ok(())
}

/// The query string of a lesson step: the lesson, the step and how the page looks, nothing of
/// the run (the step defines it).
pub fn lesson_query(st: &UrlState) -> String {
    let Some((id, i)) = &st.lesson else {
        return to_query(st);
    };
    let mut q = format!("lesson={}&step={}", encode(id), i + 1);
    let _ = write!(
        q,
        "&speed={}&lang={}",
        format_speed(st.speed),
        st.lang.code()
    );
    if st.large {
        q.push_str("&big=1");
    }
    if st.present {
        q.push_str("&present=1");
    }
    if st.handout {
        q.push_str("&handout=1");
    }
    if st.compare {
        q.push_str("&view=compare");
        for (n, v) in &st.compare_change {
            let _ = write!(q, "&cmp={}", encode(&format!("{n}={v}")));
        }
    }
    if st.tab != Tab::Timeline {
        let _ = write!(q, "&tab={}", st.tab.code());
    }
    q
}

fn format_speed(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// Keeps echoed input short in notices.
fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(40).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

/// Percent-decoding (`+` is a space); invalid escapes are kept literally.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match b.get(i + 1..i + 3) {
                Some(h) if h.iter().all(u8::is_ascii_hexdigit) => {
                    // Two hex digits: safe to decode.
                    let hex = std::str::from_utf8(h).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding of everything but unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            let _ = write!(out, "%{c:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Known;
    impl Validate for Known {
        fn preset_exists(&self, name: &str) -> bool {
            matches!(name, "disk-sync-loop" | "diskless-fix")
        }
        fn check_param(&self, name: &str, value: &str) -> Result<(), String> {
            match name {
                "repl-backlog-size" if value.ends_with("mb") => Ok(()),
                "repl-backlog-size" => Err("expected a size like 1mb".into()),
                "repl-diskless-sync" if value == "yes" || value == "no" => Ok(()),
                _ => Err(format!("unknown parameter {name}")),
            }
        }
        fn lesson_steps(&self, id: &str) -> Option<usize> {
            (id == "backlog").then_some(7)
        }
    }

    #[test]
    fn version_given_as_a_parameter_reads_back_the_same() {
        // Found by the web_url fuzz target: `p.version=redis6.2` was kept as typed and came back
        // as `version=redis-6.2` once its own link was read again.
        let (st, notices) = parse("p.version=redis6.2", "diskless-fix", &Known);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(
            st.params,
            vec![("version".to_string(), "redis-6.2".to_string())]
        );
        assert_eq!(
            check_reads_back("p.version=redis6.2", "diskless-fix", &Known),
            Ok(())
        );
    }

    #[test]
    fn version_is_checked_and_written_as_its_own_key() {
        let (st, notices) = parse(
            "preset=disk-sync-loop&version=Redis-8.2",
            "diskless-fix",
            &Known,
        );
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(
            st.params,
            vec![("version".to_string(), "redis-8.2".to_string())]
        );
        assert!(
            to_query(&st).contains("&version=redis-8.2"),
            "{}",
            to_query(&st)
        );
        assert_eq!(parse(&to_query(&st), "diskless-fix", &Known).0, st);

        let (st, notices) = parse("version=redis-9&seed=3", "diskless-fix", &Known);
        assert_eq!(st.seed, 3, "the rest of the link still counts");
        assert!(st.params.is_empty());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].key, "version");
        for want in ["redis-9", "redis-7.0", "redis-8.2", "valkey-9.1"] {
            assert!(
                notices[0].message.contains(want),
                "{want}: {}",
                notices[0].message
            );
        }
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let mut st = UrlState::new("disk-sync-loop");
        st.preset = "diskless-fix".into();
        st.seed = 42;
        st.t_ms = 123_456;
        st.speed = 0.5;
        st.lang = Lang::Zh;
        st.large = true;
        st.compare = true;
        st.compare_change = vec![
            ("repl-diskless-sync".into(), "yes".into()),
            ("repl-backlog-size".into(), "2mb".into()),
        ];
        st.change_mode = ChangeMode::Restart;
        st.params = vec![("repl-backlog-size".into(), "10mb".into())];
        st.edits = vec![
            (5_000, Edit::Set("repl-backlog-size".into(), "4mb".into())),
            (9_000, Edit::Cut(1, 10_000)),
            (12_000, Edit::Restart(2)),
        ];
        st.live = Some("ws://127.0.0.1:6381/".into());
        st.tab = Tab::Chart;
        let (back, notices) = parse(&to_query(&st), "disk-sync-loop", &Known);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(back, st);
    }

    #[test]
    fn bad_values_are_named_and_replaced_by_defaults() {
        let q = "live=javascript:alert(1)&preset=nope&seed=-3&t=99999999999&speed=5000&lang=fr&p.repl-backlog-size=huge&%3Cscript%3E=1";
        let (st, notices) = parse(q, "disk-sync-loop", &Known);
        assert_eq!(st, UrlState::new("disk-sync-loop"));
        let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "live",
                "preset",
                "seed",
                "t",
                "speed",
                "lang",
                "p.repl-backlog-size",
                "<script>"
            ]
        );
        assert!(notices[1].message.contains("nope"));
        assert!(notices[6].message.contains("expected a size"));
        // The hostile key is echoed as text in the notice (rendered as text, never markup).
        assert!(notices[7].message.contains("<script>"));
    }

    #[test]
    fn lesson_links_are_checked_whatever_their_order() {
        let (st, n) = parse("step=3&lesson=backlog&present=1", "x", &Known);
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(st.lesson, Some(("backlog".into(), 2)));
        assert!(st.present);
        assert!(lesson_query(&st).starts_with("lesson=backlog&step=3&"));
        let (again, n) = parse(&lesson_query(&st), "x", &Known);
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(again.lesson, st.lesson);
        let (st, n) = parse("lesson=backlog&step=99", "x", &Known);
        assert_eq!(st.lesson, Some(("backlog".into(), 0)));
        assert!(n[0].message.contains("1..7"), "{n:?}");
        let (st, n) = parse("lesson=%3Cb%3E&step=0", "x", &Known);
        assert_eq!(st.lesson, None);
        let keys: Vec<&str> = n.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, ["lesson", "step"]);
        let (_, n) = parse("step=2", "x", &Known);
        assert!(n[0].message.contains("needs a lesson"));
    }

    #[test]
    fn edits_in_the_link_are_checked() {
        for bad in [
            "x.p.repl-backlog-size=1mb",
            "99999999999.restart.1",
            "5.p.repl-backlog-size=huge",
            "5.cut.9=100",
            "5.cut.1",
            "5.explode.1",
        ] {
            let (st, n) = parse(&format!("e={}", encode(bad)), "x", &Known);
            assert!(st.edits.is_empty() && n.len() == 1, "{bad}: {n:?}");
        }
    }

    #[test]
    fn a_live_link_with_a_password_is_refused() {
        let (st, n) = parse(
            &format!("live={}", encode("ws://127.0.0.1:6381/?token=secret")),
            "x",
            &Known,
        );
        assert_eq!(st.live, None);
        assert!(n[0].message.contains("password"));
        assert!(
            !n[0].message.contains("secret"),
            "the notice does not echo it"
        );
    }

    #[test]
    fn speed_bounds_are_inclusive_and_nan_is_refused() {
        let (st, n) = parse("speed=1000", "x", &Known);
        assert!(n.is_empty());
        assert_eq!(st.speed, 1000.0);
        let (st, n) = parse("speed=0.1", "x", &Known);
        assert!(n.is_empty());
        assert_eq!(st.speed, 0.1);
        let (_, n) = parse("speed=NaN", "x", &Known);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn percent_coding_round_trips_and_tolerates_garbage() {
        for s in ["a b", "x=y&z", "中文", "100%", "%zz", "%4"] {
            assert_eq!(decode(&encode(s)), s);
        }
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("a+b%21"), "a b!");
    }
}
