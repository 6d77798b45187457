//! The browser build plays every preset exactly as the native build does: the trace hashes of
//! `tests/fixtures/trace_hashes.json` and the spread of `tests/fixtures/spread_counts.json`
//! (both written natively by `sim_determinism`) are recomputed in wasm32. Run with:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --target wasm32-unknown-unknown --test sim_wasm`
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn trace_hashes_match_the_native_run() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/trace_hashes.json")).expect("fixture");
    let seed = fixture["seed"].as_u64().expect("seed");
    let until = fixture["until_ms"].as_u64().expect("until_ms");
    let hashes = fixture["hashes"].as_object().expect("hashes");
    assert!(hashes.len() >= 21);
    for (name, want) in hashes {
        let got = replscope::sim::trace_hash(name, seed, until).expect("preset exists");
        assert_eq!(&format!("{got:016x}"), want.as_str().unwrap(), "{name}");
    }
}

#[wasm_bindgen_test]
fn a_spread_over_seeds_matches_the_native_one() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/spread_counts.json")).expect("fixture");
    let s =
        replscope::sim::Scenario::from_json(&fixture["scenario"].to_string()).expect("scenario");
    let seeds = fixture["seeds"].as_array().expect("seeds");
    let (a, b) = (seeds[0].as_u64().unwrap(), seeds[1].as_u64().unwrap());
    let spread = replscope::sim::run_seeds(&s, a..b, fixture["until_ms"].as_u64().unwrap());
    let got: Vec<serde_json::Value> = spread
        .outcomes
        .iter()
        .map(|o| {
            serde_json::json!([
                replscope::sim::spread::render_sequence(&o.outcome.replicas[0].sequence),
                o.runs
            ])
        })
        .collect();
    assert_eq!(serde_json::Value::Array(got), fixture["outcomes"]);
}
