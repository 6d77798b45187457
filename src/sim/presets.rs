//! Presets: scenario files shipped inside the binary (`src/sim/presets/*.toml`).

use super::scenario::Scenario;
use serde::Serialize;

/// What the preset list shows.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PresetInfo {
    pub name: String,
    pub title: String,
    /// The expected outcome, one sentence.
    pub expect: String,
    /// What to watch and why.
    pub explanation: String,
}

// Every preset, in the order `--list` shows them: (name, TOML file text) natively, and the same
// files converted to JSON by build.rs for the web build, whose wasm then carries no TOML parser
// (it was a third of the page). A test checks both forms give the same scenarios.
macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        const PRESETS: &[(&str, &str)] =
            &[$(($name, include_str!(concat!("presets/", $name, ".toml")))),*];
        #[cfg(any(test, target_arch = "wasm32"))]
        const PRESETS_JSON: &[(&str, &str)] = &[$((
            $name,
            include_str!(concat!(env!("OUT_DIR"), "/presets/", $name, ".json")),
        )),*];
    };
}

presets!(
    "disk-sync-loop",
    "diskless-fix",
    "buffer-fix",
    "dual-channel-fix",
    "rdb-channel-fix",
    "backlog-too-small",
    "backlog-sized",
    "shared-buffer-growth",
    "soft-limit-timer",
    "failover-psync",
    "failover-lagging-promoted",
    "replica-restart",
    "psync-no-reconnection-disk",
    "psync-no-reconnection-diskless",
    "psync-partial-ok-disk",
    "psync-partial-ok-diskless",
    "psync-no-backlog-disk",
    "psync-no-backlog-diskless",
    "psync-ok-after-delay-disk",
    "psync-ok-after-delay-diskless",
    "psync-backlog-expired-disk",
    "psync-backlog-expired-diskless",
);

/// A scenario with every field, commented (`replscope sim --example`).
#[cfg(not(target_arch = "wasm32"))]
pub const REFERENCE_SCENARIO: &str = include_str!("reference.toml");

impl Scenario {
    /// A preset shipped in the binary: its TOML file natively, its JSON form in the web build.
    pub fn preset(name: &str) -> Option<Scenario> {
        #[cfg(not(target_arch = "wasm32"))]
        let (list, parse) = (PRESETS, Scenario::from_toml);
        #[cfg(target_arch = "wasm32")]
        let (list, parse) = (PRESETS_JSON, Scenario::from_json);
        let index = list.iter().position(|(n, _)| *n == name)?;
        // Parsed once per thread: the page and its URL check start from a preset for every
        // parameter they test, and parsing the text each time was most of that cost.
        thread_local! {
            static PARSED: std::cell::RefCell<Vec<Option<Option<Scenario>>>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        PARSED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() < list.len() {
                cache.resize(list.len(), None);
            }
            cache[index]
                .get_or_insert_with(|| parse(list[index].1).ok())
                .clone()
        })
    }
}

/// The text of a preset file.
#[cfg(not(target_arch = "wasm32"))]
pub fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Names of every preset.
pub fn preset_names() -> Vec<&'static str> {
    #[cfg(not(target_arch = "wasm32"))]
    let list = PRESETS;
    #[cfg(target_arch = "wasm32")]
    let list = PRESETS_JSON;
    list.iter().map(|(n, _)| *n).collect()
}

/// Every preset with its title, expectation and explanation.
pub fn presets() -> Vec<PresetInfo> {
    preset_names()
        .into_iter()
        .filter_map(Scenario::preset)
        .map(|s| PresetInfo {
            name: s.name,
            title: s.title,
            expect: s.expect,
            explanation: s.explanation,
        })
        .collect()
}

// The preset files are TOML, which only the native build reads (the wasm test build checks
// the JSON presets through the trace hashes in tests/sim_wasm.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_is_named_after_its_file() {
        for (name, text) in PRESETS {
            let s = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&s.name, name);
            assert!(!s.expect.is_empty() && !s.explanation.is_empty(), "{name}");
            assert!(!s.check.is_empty(), "{name} has no [check]");
            // Round trip: the TOML we write reads back to the same scenario.
            let again = Scenario::from_toml(&s.to_toml()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s, again, "{name}");
        }
        assert_eq!(presets().len(), PRESETS.len());
    }

    #[test]
    fn the_web_builds_json_presets_are_the_same_scenarios() {
        assert_eq!(PRESETS.len(), PRESETS_JSON.len());
        for ((name, toml), (jname, json)) in PRESETS.iter().zip(PRESETS_JSON) {
            assert_eq!(name, jname);
            let a = Scenario::from_toml(toml).unwrap_or_else(|e| panic!("{name}: {e}"));
            let b = Scenario::from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(a, b, "{name}: the JSON form differs from the TOML file");
        }
    }

    #[test]
    fn the_reference_scenario_parses_and_differs_from_the_defaults_only_where_it_says() {
        let s = Scenario::from_toml(REFERENCE_SCENARIO).unwrap();
        let d = Scenario::default();
        assert_eq!(s.redis, d.redis, "the [redis] table lists the defaults");
        assert_eq!(s.dataset, d.dataset);
        assert_eq!(s.link, d.link);
        assert_eq!(s.faults.len(), 2);
        assert!(s.faults[1].graceful);
        assert_eq!(s.workload.phases.len(), 1);
    }
}
