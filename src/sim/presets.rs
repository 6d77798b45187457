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

/// (name, file text), in the order `--list` shows them.
const PRESETS: &[(&str, &str)] = &[
    (
        "disk-sync-loop",
        include_str!("presets/disk-sync-loop.toml"),
    ),
    ("diskless-fix", include_str!("presets/diskless-fix.toml")),
    ("buffer-fix", include_str!("presets/buffer-fix.toml")),
    (
        "dual-channel-fix",
        include_str!("presets/dual-channel-fix.toml"),
    ),
    (
        "backlog-too-small",
        include_str!("presets/backlog-too-small.toml"),
    ),
    ("backlog-sized", include_str!("presets/backlog-sized.toml")),
    (
        "shared-buffer-growth",
        include_str!("presets/shared-buffer-growth.toml"),
    ),
    (
        "soft-limit-timer",
        include_str!("presets/soft-limit-timer.toml"),
    ),
    (
        "failover-psync",
        include_str!("presets/failover-psync.toml"),
    ),
    (
        "failover-lagging-promoted",
        include_str!("presets/failover-lagging-promoted.toml"),
    ),
    (
        "replica-restart",
        include_str!("presets/replica-restart.toml"),
    ),
    (
        "psync-no-reconnection-disk",
        include_str!("presets/psync-no-reconnection-disk.toml"),
    ),
    (
        "psync-no-reconnection-diskless",
        include_str!("presets/psync-no-reconnection-diskless.toml"),
    ),
    (
        "psync-partial-ok-disk",
        include_str!("presets/psync-partial-ok-disk.toml"),
    ),
    (
        "psync-partial-ok-diskless",
        include_str!("presets/psync-partial-ok-diskless.toml"),
    ),
    (
        "psync-no-backlog-disk",
        include_str!("presets/psync-no-backlog-disk.toml"),
    ),
    (
        "psync-no-backlog-diskless",
        include_str!("presets/psync-no-backlog-diskless.toml"),
    ),
    (
        "psync-ok-after-delay-disk",
        include_str!("presets/psync-ok-after-delay-disk.toml"),
    ),
    (
        "psync-ok-after-delay-diskless",
        include_str!("presets/psync-ok-after-delay-diskless.toml"),
    ),
    (
        "psync-backlog-expired-disk",
        include_str!("presets/psync-backlog-expired-disk.toml"),
    ),
    (
        "psync-backlog-expired-diskless",
        include_str!("presets/psync-backlog-expired-diskless.toml"),
    ),
];

impl Scenario {
    /// A preset shipped in the binary.
    pub fn preset(name: &str) -> Option<Scenario> {
        preset_text(name).and_then(|t| Scenario::from_toml(t).ok())
    }
}

/// A scenario with every field, commented (`replscope sim --example`).
pub const REFERENCE_SCENARIO: &str = include_str!("reference.toml");

/// The text of a preset file.
pub fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Names of every preset.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// Every preset with its title, expectation and explanation.
pub fn presets() -> Vec<PresetInfo> {
    PRESETS
        .iter()
        .filter_map(|(_, t)| Scenario::from_toml(t).ok())
        .map(|s| PresetInfo {
            name: s.name,
            title: s.title,
            expect: s.expect,
            explanation: s.explanation,
        })
        .collect()
}

#[cfg(test)]
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
