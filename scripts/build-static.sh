#!/usr/bin/env bash
# Builds the web app as a folder of static files that any web host can serve (GitHub Pages, a
# university's web space, `python3 -m http.server`): relative paths, no server code, and a
# service worker so the page reloads offline once visited.
#   scripts/build-static.sh            -> dist/
#   scripts/build-static.sh site/      -> site/
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh web
OUT="${1:-dist}"

say "trunk build --release --dist $OUT"
wasm_env trunk build --release --dist "$OUT" || fail "trunk build --release" "read the error above"
python3 scripts/check_wasm.py "$OUT" || fail "wasm gate" "native-only code leaked into the web build"
say "done: copy the contents of $OUT/ to any static web host (or try: python3 -m http.server -d $OUT)"
