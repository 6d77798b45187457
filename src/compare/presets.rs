//! Scenarios `replscope compare` stages on real servers: scaled-down versions of the
//! simulator presets (dataset, write rate, link and limits scaled together), and the
//! comparison suite `scripts/verify.sh` runs (issue 12: slow diskless transfers, shared
//! BGSAVEs, the soft-limit timer, cuts near the backlog boundary, repl-diskless-load,
//! repl-backlog-ttl, long loads, failover, replica restarts; issue 14: Valkey's dual channel).
//! Each stages in under a minute.
//! Kept out of the simulator's preset list: they exist to be staged, not taught.

use crate::sim::Scenario;

/// The four scaled presets, then issue 12's suite (each under a minute on real servers).
const PRESETS: &[(&str, &str)] = &[
    (
        "compare-disk-sync-loop",
        include_str!("presets/compare-disk-sync-loop.toml"),
    ),
    (
        "compare-diskless-fix",
        include_str!("presets/compare-diskless-fix.toml"),
    ),
    (
        "compare-backlog-too-small",
        include_str!("presets/compare-backlog-too-small.toml"),
    ),
    (
        "compare-backlog-sized",
        include_str!("presets/compare-backlog-sized.toml"),
    ),
    (
        "compare-slow-diskless-transfer",
        include_str!("presets/compare-slow-diskless-transfer.toml"),
    ),
    (
        "compare-shared-bgsave-disk",
        include_str!("presets/compare-shared-bgsave-disk.toml"),
    ),
    (
        "compare-shared-bgsave-diskless",
        include_str!("presets/compare-shared-bgsave-diskless.toml"),
    ),
    (
        "compare-diskless-max-replicas",
        include_str!("presets/compare-diskless-max-replicas.toml"),
    ),
    (
        "compare-diskless-late-joiner",
        include_str!("presets/compare-diskless-late-joiner.toml"),
    ),
    (
        "compare-soft-limit-cut",
        include_str!("presets/compare-soft-limit-cut.toml"),
    ),
    (
        "compare-soft-limit-survives",
        include_str!("presets/compare-soft-limit-survives.toml"),
    ),
    (
        "compare-cut-near-backlog-boundary",
        include_str!("presets/compare-cut-near-backlog-boundary.toml"),
    ),
    (
        "compare-backlog-ttl",
        include_str!("presets/compare-backlog-ttl.toml"),
    ),
    (
        "compare-diskless-load-disabled",
        include_str!("presets/compare-diskless-load-disabled.toml"),
    ),
    (
        "compare-diskless-load-on-empty-db",
        include_str!("presets/compare-diskless-load-on-empty-db.toml"),
    ),
    (
        "compare-diskless-load-swapdb",
        include_str!("presets/compare-diskless-load-swapdb.toml"),
    ),
    (
        "compare-long-load",
        include_str!("presets/compare-long-load.toml"),
    ),
    (
        "compare-failover-psync",
        include_str!("presets/compare-failover-psync.toml"),
    ),
    (
        "compare-failover-lagging-promoted",
        include_str!("presets/compare-failover-lagging-promoted.toml"),
    ),
    (
        "compare-restart-crash",
        include_str!("presets/compare-restart-crash.toml"),
    ),
    (
        "compare-restart-crash-swapdb",
        include_str!("presets/compare-restart-crash-swapdb.toml"),
    ),
    (
        "compare-restart-graceful",
        include_str!("presets/compare-restart-graceful.toml"),
    ),
    // Issue 14: Valkey's dual channel (the versions without it skip it).
    (
        "compare-dual-channel",
        include_str!("presets/compare-dual-channel.toml"),
    ),
    (
        "compare-dual-channel-diskless-load",
        include_str!("presets/compare-dual-channel-diskless-load.toml"),
    ),
];

/// Names of the compare presets.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// A compare preset by name, or a simulator preset of that name.
pub fn scenario(name: &str) -> Result<Scenario, String> {
    if let Some((_, text)) = PRESETS.iter().find(|(n, _)| *n == name) {
        return Scenario::from_toml(text).map_err(|e| format!("compare preset {name}: {e}"));
    }
    Scenario::preset(name).ok_or_else(|| {
        format!(
            "unknown preset `{name}`: compare presets are {}; simulator presets work too (see `replscope sim --list`)",
            names().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{summary::check_summary, Simulation};

    /// Each scaled preset tells, in the simulator, the story of the preset it scales.
    #[test]
    fn scaled_presets_pass_their_checks_in_the_simulator() {
        for name in names() {
            let s = scenario(name).unwrap();
            assert!(s.duration <= 120_000, "{name} runs longer than 2 minutes");
            let mut sim = Simulation::new(&s, 1);
            sim.run_until(s.duration);
            let f = check_summary(&sim.summary(), &s.check);
            assert!(f.is_empty(), "{name}: {f:?}");
        }
    }
}
