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

/// The live feed's messages, written as `replscope server` writes them (serde_json), read by
/// the page's reader (the browser's JSON.parse into the same serde types, `src/json.rs`): every
/// frame, log line and mark of a run comes back equal, and garbage is refused unchanged.
#[wasm_bindgen_test]
fn live_messages_written_by_the_server_read_back_equal_in_the_page() {
    use replscope::web::live::LiveFeed;
    for preset in ["dual-channel-fix", "disk-sync-loop", "failover-psync"] {
        let s = replscope::sim::Scenario::preset(preset).expect("preset");
        let mut sim = replscope::sim::Simulation::new(&s, 1);
        let mut feed = LiveFeed::new("ws://127.0.0.1:6381/");
        let mut frames = 0;
        for t in (0..=s.duration).step_by(5_000) {
            sim.run_until(t);
            let frame = sim.frame();
            let text = serde_json::json!({ "type": "frame", "frame": frame }).to_string();
            feed.ingest(&text)
                .unwrap_or_else(|e| panic!("{preset} at {t} ms: {e}"));
            assert_eq!(feed.frame.as_ref(), Some(&frame), "{preset} at {t} ms");
            frames += 1;
        }
        assert!(frames > 10, "{preset}: only {frames} frames");
        let lines = sim.log().to_vec();
        let marks = sim.marks().to_vec();
        assert!(
            !lines.is_empty() && !marks.is_empty(),
            "{preset}: no log or marks"
        );
        feed.ingest(&serde_json::json!({ "type": "log", "lines": lines }).to_string())
            .expect("log lines");
        feed.ingest(&serde_json::json!({ "type": "marks", "marks": marks }).to_string())
            .expect("marks");
        assert_eq!(feed.log, lines, "{preset}: log lines");
        assert_eq!(feed.marks, marks, "{preset}: marks");
    }
    let mut feed = LiveFeed::new("ws://127.0.0.1:6381/");
    let before = feed.clone();
    for bad in [
        "{not json",
        r#"{"type":"frame","frame":{"t_ms":"soon"}}"#,
        r#"{"type":"log","lines":[{"t_ms":-1}]}"#,
        r#"{"type":"shutdown"}"#,
        "[]",
    ] {
        let e = feed.ingest(bad).expect_err(bad);
        assert!(
            e.starts_with("unreadable message from the live feed"),
            "{bad}: {e}"
        );
    }
    assert_eq!(feed, before, "a bad message changes nothing");
}
