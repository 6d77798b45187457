#!/usr/bin/env bash
# Sets up what is missing and runs every test: formatting and lint gates for both targets,
# native unit and integration tests (real redis-server, real sockets, real Chromium), the
# release wasm build with its gates, and the wasm tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
STARTED=$SECONDS

step() { say "[$((SECONDS - STARTED))s] $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check || fail "cargo fmt --check" "run 'cargo fmt' and commit the result"

step "gate: the module graph has no cycles (scripts/module_graph.py)"
python3 scripts/module_graph.py || fail "module graph" "a module uses one that uses it back; see docs/architecture.md for the layers"

step "clippy (native)"
cargo clippy --all-targets -- -D warnings || fail "clippy (native)" "fix the warnings above"

if [ "$WASM_MODE" = rustup ]; then
    step "clippy (wasm32)"
    wasm_env cargo clippy --target wasm32-unknown-unknown --lib --bins --example page_floor -- -D warnings ||
        fail "clippy (wasm32)" "fix the warnings above"
else
    # Debian's rustc-web ships no clippy: the wasm-only code is compiled with warnings denied instead.
    step "cargo check (wasm32; the fallback toolchain has no clippy)"
    RUSTFLAGS="-D warnings" wasm_env cargo check --target wasm32-unknown-unknown --lib --bins --example page_floor ||
        fail "cargo check (wasm32)" "fix the errors above"
fi

step "release web build (trunk build --release)"
wasm_env trunk build --release || fail "trunk build --release" "read the error above"

step "gate: the wasm imports nothing from \"env\""
python3 scripts/check_wasm.py dist || fail "wasm import gate" "native-only code leaked into the web build; see the imports listed above"

step "native tests (unit, integration, server interop, browser end-to-end)"
cargo test --all-targets || fail "cargo test" "the failing test and its seed are printed above"

step "fuzz targets, 20 s each (scripts/fuzz.sh; longer runs: see fuzz/README.md)"
scripts/fuzz.sh 20 || fail "fuzzing" "a target crashed: its input is in fuzz/artifacts/; fix it and add it to tests/fixtures/fuzz"

step "wasm tests in headless Chromium (wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    wasm_env cargo test --target wasm32-unknown-unknown --lib --tests ||
    fail "wasm tests" "the failing test is printed above"

step "all tests passed"
