//! Same scenario + seed = the same trace, byte for byte. The per-preset hashes are written to
//! `tests/fixtures/trace_hashes.json`, which the wasm test compares with the browser's run.
//! After a deliberate change of behaviour, regenerate with:
//! `REPLSCOPE_BLESS=1 cargo test --test sim_determinism`.
#![cfg(not(target_arch = "wasm32"))] // native-only (tests/sim_wasm.rs checks the browser build)

use replscope::sim::{self, Scenario, Simulation};
use std::collections::BTreeMap;

/// Virtual time each preset runs for the fixture (short enough for a browser test).
const UNTIL_MS: u64 = 120_000;
const SEED: u64 = 1;

fn hashes() -> BTreeMap<String, String> {
    sim::presets()
        .iter()
        .map(|p| {
            let h = sim::trace_hash(&p.name, SEED, UNTIL_MS).expect("preset");
            (p.name.clone(), format!("{h:016x}"))
        })
        .collect()
}

#[test]
fn every_preset_runs_identically_twice() {
    for p in sim::presets() {
        let s = Scenario::preset(&p.name).unwrap();
        let mut a = Simulation::new(&s, 7);
        let mut b = Simulation::new(&s, 7);
        a.run_until(UNTIL_MS);
        // Run b in uneven steps: the trace must not depend on how time is chopped up.
        let mut t = 0;
        while t < UNTIL_MS {
            t = (t + 12_345).min(UNTIL_MS);
            b.run_until(t);
        }
        assert_eq!(a.trace_hash(), b.trace_hash(), "{}", p.name);
        assert_eq!(a.events(), b.events(), "{}", p.name);
        assert_eq!(a.summary(), b.summary(), "{}", p.name);
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let a = sim::trace_hash("psync-partial-ok-disk", 1, 30_000).unwrap();
    let b = sim::trace_hash("psync-partial-ok-disk", 2, 30_000).unwrap();
    assert_ne!(a, b);
}

#[test]
fn a_cloned_simulation_continues_identically() {
    let s = Scenario::preset("backlog-sized").unwrap();
    let mut a = Simulation::new(&s, 3);
    a.run_until(25_000);
    let mut b = a.clone();
    a.run_until(60_000);
    b.run_until(60_000);
    assert_eq!(a.trace_hash(), b.trace_hash());
}

#[test]
fn fixture_matches_the_current_simulator() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trace_hashes.json"
    );
    let current = serde_json::json!({
        "seed": SEED,
        "until_ms": UNTIL_MS,
        "hashes": hashes(),
    });
    let text = serde_json::to_string_pretty(&current).unwrap() + "\n";
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        stored, text,
        "tests/fixtures/trace_hashes.json is stale: if the change of behaviour is intended, run REPLSCOPE_BLESS=1 cargo test --test sim_determinism"
    );
}

/// How often each outcome happens over a seed range: written natively, recomputed in wasm32
/// (`tests/sim_wasm.rs`), so the page's spread is the CLI's.
fn spread_counts() -> serde_json::Value {
    let s = Scenario::from_toml(include_str!(
        "fixtures/scenarios/cut-near-backlog-boundary.toml"
    ))
    .unwrap();
    let spread = sim::run_seeds(&s, 1..21, s.duration);
    let outcomes: Vec<serde_json::Value> = spread
        .outcomes
        .iter()
        .map(|o| {
            serde_json::json!([
                sim::spread::render_sequence(&o.outcome.replicas[0].sequence),
                o.runs
            ])
        })
        .collect();
    // The scenario goes in as JSON: the wasm build reads no TOML.
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        Scenario::from_json(&json).unwrap(),
        s,
        "the scenario round-trips"
    );
    serde_json::json!({
        "scenario": s,
        "seeds": [1, 21],
        "until_ms": s.duration,
        "outcomes": outcomes,
    })
}

#[test]
fn spread_fixture_matches_the_current_simulator() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/spread_counts.json"
    );
    let text = serde_json::to_string_pretty(&spread_counts()).unwrap() + "\n";
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        stored, text,
        "tests/fixtures/spread_counts.json is stale: if the change of behaviour is intended, run REPLSCOPE_BLESS=1 cargo test --test sim_determinism"
    );
}

/// A checkpoint is a clone (what the web app keeps to step back): going back to one and
/// running on replays the same history, and a what-if branch from it leaves it untouched.
#[test]
fn a_clone_is_a_checkpoint_to_step_back_to() {
    let s = Scenario::preset("disk-sync-loop").unwrap();
    let mut reference = Simulation::new(&s, 4);
    reference.run_until(150_000);

    let mut sim = Simulation::new(&s, 4);
    sim.run_until(60_000);
    let cp = sim.clone();
    let log_at_cp = sim.log().len();
    sim.run_until(120_000);
    sim = cp.clone();
    assert_eq!(sim.now_ms(), 60_000);
    assert_eq!(sim.log().len(), log_at_cp);
    sim.run_until(150_000);
    assert_eq!(sim.trace_hash(), reference.trace_hash());
    assert_eq!(sim.log(), reference.log());
    assert_eq!(sim.spans(), reference.spans());
    assert_eq!(sim.samples(), reference.samples());
    assert_eq!(sim.summary(), reference.summary());

    // A what-if branch: a fault after the checkpoint changes the branch only.
    let mut branch = cp.clone();
    branch.run_until(70_000);
    branch.cut_link(1, 1_000);
    branch.run_until(90_000);
    let mut back = cp.clone();
    back.run_until(90_000);
    let upto: Vec<_> = reference
        .events()
        .iter()
        .filter(|e| e.t_ms <= 90_000)
        .cloned()
        .collect();
    assert_eq!(
        back.events(),
        &upto[..],
        "the checkpoint replays the reference"
    );
    assert_ne!(branch.trace_hash(), back.trace_hash());
    assert!(branch
        .marks()
        .iter()
        .any(|m| m.t_ms == 70_000 && m.kind == replscope::view::MarkKind::LinkCut));
}
