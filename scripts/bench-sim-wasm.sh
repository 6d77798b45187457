#!/usr/bin/env bash
# The simulator's speed in headless Chromium: disk-sync-loop over one virtual hour at 100,000
# writes/s, release build, printed as virtual seconds per wall second with the wasm memory size;
# and the time of a spread of 100 seeds x 10 virtual minutes of each long preset (run_seeds).
# (scripts/bench-sim.sh measures the same run natively.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
REPLSCOPE_BENCH=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    wasm_env cargo test --release --target wasm32-unknown-unknown --test sim_bench_wasm -- --nocapture 2>&1 |
    grep -E "SIM BENCH|SPREAD BENCH|test result"
