#!/usr/bin/env bash
# Sets up what is missing and starts the web app on http://127.0.0.1:8080.
#   scripts/dev.sh            the teaching app (simulator in the page)
#   scripts/dev.sh --server   also a `replscope server` on 127.0.0.1:6380 with its live feed on :6381
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh web

if [ "${1:-}" = "--server" ]; then
    say "building and starting replscope server on 127.0.0.1:6380 (live feed on 127.0.0.1:6381)"
    cargo build --release --bin replscope >&2 || fail "cargo build --release" "read the compiler error above"
    target/release/replscope server --port 6380 --live-port 6381 &
    SERVER_PID=$!
    trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
fi

say "trunk serve on http://127.0.0.1:8080 (Ctrl-C to stop)"
wasm_env trunk serve --release
