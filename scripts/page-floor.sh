#!/usr/bin/env bash
# What the engine alone costs the page: builds examples/page_floor.rs (a preset, the simulator
# and core, one frame rendered by Yew, none of the page's views) the way trunk builds the page
# (`wasm-release` profile, wasm-bindgen, wasm-opt -Oz with index.html's flags) and prints its
# gzipped wasm beside the page's (dist/, from scripts/build-static.sh, if present).
#   scripts/page-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh web
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET_DIR/page-floor"
mkdir -p "$OUT"

say "cargo build --example page_floor --profile wasm-release --target wasm32-unknown-unknown"
wasm_env cargo build --quiet --example page_floor --profile wasm-release \
    --target wasm32-unknown-unknown || fail "building the floor" "read the error above"
wasm-bindgen --target web --out-dir "$OUT" \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/examples/page_floor.wasm" ||
    fail "wasm-bindgen" "read the error above"
# The same wasm-opt flags as index.html's data-wasm-opt-params.
flags=$(sed -n 's/.*data-wasm-opt-params="\([^"]*\)".*/\1/p' index.html)
# shellcheck disable=SC2086
"$TOOLS_DIR/node_modules/.bin/wasm-opt" -Oz $flags "$OUT/page_floor_bg.wasm" -o "$OUT/page_floor_bg.wasm" ||
    fail "wasm-opt" "read the error above"

gz() { gzip -9c "$1" | wc -c; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
floor=$(gz "$OUT/page_floor_bg.wasm")
echo "engine floor: wasm $(kb "$floor") gzipped ($OUT/page_floor_bg.wasm)"
page=$(ls dist/*_bg.wasm 2>/dev/null | head -1 || true)
if [ -n "$page" ]; then
    p=$(gz "$page")
    echo "the page:     wasm $(kb "$p") gzipped ($page); its own code and texts: $(kb $((p - floor)))"
fi
