//! The simulator's speed in headless Chromium: disk-sync-loop at 100,000 writes/s, printed as
//! virtual seconds per wall second and the wasm memory's size (it only grows, so it is the
//! peak); and the time a spread of 100 seeds of each 10-minute preset takes (`run_seeds`, what
//! the page runs to say how often an outcome happens). Measurements, not timed assertions. In
//! the normal test run they play 5 virtual minutes and 3 seeds; `scripts/bench-sim-wasm.sh`
//! builds them with `REPLSCOPE_BENCH=1` in release mode for the full hour and 100 seeds.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn disk_sync_loop_at_100k_writes_per_second() {
    let until_ms: u64 = if option_env!("REPLSCOPE_BENCH").is_some() {
        3_600_000
    } else {
        300_000
    };
    let mut s = replscope::sim::Scenario::preset("disk-sync-loop").expect("preset");
    s.set("workload.rate", "100k").expect("rate");
    s.set("duration", "1h").expect("duration");
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .expect("performance");
    let start = perf.now();
    let mut sim = replscope::sim::Simulation::new(&s, 1);
    sim.run_until(until_ms);
    let wall_ms = perf.now() - start;
    assert_eq!(sim.now_ms(), until_ms);
    assert!(
        sim.summary().replicas[0].full_syncs >= 2,
        "the loop happened"
    );
    let mem = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map(|b| b.byte_length())
                .unwrap_or(0)
        })
        .unwrap_or(0);
    console_log!(
        "SIM BENCH (wasm, Chromium): {} virtual s in {:.0} ms wall = {:.0}x real time; wasm memory {:.1} MB",
        until_ms / 1000,
        wall_ms,
        until_ms as f64 / wall_ms.max(0.001),
        mem as f64 / 1048576.0
    );
}

#[wasm_bindgen_test]
fn spread_of_100_seeds_of_the_10_minute_presets() {
    let seeds: u64 = if option_env!("REPLSCOPE_BENCH").is_some() {
        100
    } else {
        3
    };
    let until_ms = 600_000;
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .expect("performance");
    for preset in [
        "disk-sync-loop",
        "diskless-fix",
        "buffer-fix",
        "dual-channel-fix",
    ] {
        let s = replscope::sim::Scenario::preset(preset).expect("preset");
        let start = perf.now();
        let spread = replscope::sim::run_seeds(&s, 1..1 + seeds, until_ms);
        let wall_ms = perf.now() - start;
        assert_eq!(spread.runs, seeds);
        console_log!(
            "SPREAD BENCH (wasm, Chromium, one thread): {preset}, {seeds} seeds x {} virtual min in {:.0} ms wall ({} outcome(s))",
            until_ms / 60_000,
            wall_ms,
            spread.outcomes.len()
        );
    }
}
