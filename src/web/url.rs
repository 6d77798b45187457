//! The app's whole state in the URL's query string, so a teacher can share a link that opens
//! at the same moment.
//!
//! Everything read from a URL is untrusted: each value is checked, a bad one is named in a
//! notice and replaced by its default, and nothing from the URL is ever put into the page as
//! markup (notices are rendered as text).
//!
//! Keys: `preset`, `seed`, `t` (ms of virtual time), `speed` (×), `lang` (`en`|`zh`), `big`
//! (large type, `1`), `view` (`single`|`compare`), `cmp` (`name=value`, the compared change),
//! `fork` (`restart`|`fork`), `live` (a `ws://` live feed of a `replscope server`), `tab` (the
//! panel under the stage), and
//! `p.<param>=<value>` for every changed scenario parameter.
//! Pure code: compiled and unit-tested natively as well as in the browser.

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
    /// Keep the past, apply the new value from the current moment on.
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
    /// The parameter changed in the right-hand run of the side-by-side view.
    pub compare_change: (String, String),
    pub change_mode: ChangeMode,
    /// Parameters changed from the preset, in the order they were set.
    pub params: Vec<(String, String)>,
    /// The live feed to draw next to the simulation, if any.
    pub live: Option<String>,
    /// The panel open under the stage.
    pub tab: Tab,
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
            compare_change: ("repl-diskless-sync".into(), "yes".into()),
            change_mode: ChangeMode::Restart,
            params: Vec::new(),
            live: None,
            tab: Tab::Timeline,
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
}

/// Parses a query string (with or without the leading `?`). Bad values become notices and
/// defaults; unknown keys are named too, so a mistyped link does not fail silently.
pub fn parse(query: &str, default_preset: &str, v: &dyn Validate) -> (UrlState, Vec<Notice>) {
    let mut st = UrlState::new(default_preset);
    let mut notices = Vec::new();
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
            "tab" => match Tab::ALL.iter().find(|t| t.code() == val) {
                Some(t) => st.tab = *t,
                None => bad(
                    &k,
                    format!("no panel named “{}”; showing the timeline", clip(&val)),
                ),
            },
            "live" => match super::live::check_feed_url(&val) {
                Ok(()) => st.live = Some(val),
                Err(e) => bad(&k, format!("{e}, not “{}”", clip(&val))),
            },
            "cmp" => match val.split_once('=') {
                Some((name, value)) => match v.check_param(name, value) {
                    Ok(()) => st.compare_change = (name.to_string(), value.to_string()),
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
        let (n, v) = &st.compare_change;
        let _ = write!(q, "&view=compare&cmp={}", encode(&format!("{n}={v}")));
    }
    if st.change_mode == ChangeMode::Fork {
        q.push_str("&fork=fork");
    }
    if let Some(l) = &st.live {
        let _ = write!(q, "&live={}", encode(l));
    }
    if st.tab != Tab::Timeline {
        let _ = write!(q, "&tab={}", st.tab.code());
    }
    for (n, v) in &st.params {
        let _ = write!(q, "&p.{}={}", encode(n), encode(v));
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
        st.change_mode = ChangeMode::Fork;
        st.params = vec![("repl-backlog-size".into(), "10mb".into())];
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
