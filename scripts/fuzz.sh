#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (libFuzzer, coverage-guided), one after another.
#
# Usage: scripts/fuzz.sh [seconds_per_target] [runs_per_target] [target...]
#   scripts/fuzz.sh 20                  # what scripts/test.sh runs: 20 s each
#   scripts/fuzz.sh 0 10000000 rdb_file # 10 million executions of one target
# Each target starts from its committed corpus (fuzz/corpus/<target>) plus what earlier runs
# found (kept under the target dir, not committed). Memory is bounded per process by
# -rss_limit_mb; a crash stops the run with the input saved in fuzz/artifacts/<target>/
# (copy it to tests/fixtures/fuzz/<target>-<what> so the test suite replays it).
# Needs a nightly toolchain and cargo-fuzz (scripts/setup.sh test installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
RUNS=${2:--1}
shift $(( $# > 2 ? 2 : $# ))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(resp_request rdb_file replica_stream scenario_toml web_url live_feed)
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}/fuzz
WORK=${CARGO_TARGET_DIR:-$PWD/target}/fuzz-work
# -s none: safe Rust needs no address sanitizer, and it runs several times faster.
cargo +"$TOOLCHAIN" fuzz build -s none --target-dir "$TARGET_DIR" --fuzz-dir fuzz 2>&1 | tail -2 ||
    { echo "fuzz build failed" >&2; exit 1; }
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$WORK/$t"
    limits=(-rss_limit_mb=1024 -max_len=65536 -print_final_stats=1)
    [ "$SECS" -gt 0 ] && limits+=(-max_total_time="$SECS")
    [ "$RUNS" -gt 0 ] && limits+=(-runs="$RUNS")
    start=$SECONDS
    if cargo +"$TOOLCHAIN" fuzz run -s none --target-dir "$TARGET_DIR" "$t" "$WORK/$t" "fuzz/corpus/$t" -- "${limits[@]}" \
        >"$WORK/$t.log" 2>&1; then
        res=ok
    else
        res=FAILED; status=1
        grep -E "panicked|ERROR|SUMMARY|Failing input" -A3 "$WORK/$t.log" | head -20 >&2
    fi
    execs=$(awk '/number_of_executed_units/ {print $2}' "$WORK/$t.log")
    rss=$(awk '/peak_rss_mb/ {print $2}' "$WORK/$t.log")
    printf '%-15s %-6s %12s executions in %5ss, peak RSS %s MB\n' "$t" "$res" "${execs:-?}" "$((SECONDS - start))" "${rss:-?}"
done
exit $status
