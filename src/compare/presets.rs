//! Scaled-down versions of the simulator presets that `replscope compare` can stage on real
//! servers in under two minutes each (dataset, write rate, link and limits scaled together).
//! Kept out of the simulator's preset list: they exist to be staged, not taught.

use crate::sim::Scenario;

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
