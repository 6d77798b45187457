#!/usr/bin/env bash
# The whole comparison suite: every compare preset staged against real redis-server 7.0 and
# against `replscope server`, each set beside the simulator's spread over many seeds. Prints
# one Markdown table (the README shows a run of it). Long (~30-40 minutes on 2 cores); NOT run
# by scripts/test.sh, which runs a fast subset (tests/compare_suite.rs).
#
#   scripts/verify.sh                       # every preset, both targets
#   scripts/verify.sh --against redis       # one target
#   scripts/verify.sh --only 'restart|failover'   # presets whose name matches the regex
#   scripts/verify.sh --seeds 50            # seeds per spread (default 30)
#
# Timing-sensitive: run it on a quiet machine (`uptime` load below ~2). Each run's full text
# and JSON output go to $CARGO_TARGET_DIR/verify/ (default target/verify/).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="redis replscope"
ONLY=""
SEEDS=30
while [ $# -gt 0 ]; do
    case "$1" in
        --against) TARGETS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --seeds) SEEDS="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "verify.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

command -v redis-server >/dev/null || {
    echo "verify.sh: redis-server (7.0) is not installed; scripts/setup.sh test installs it" >&2
    exit 2
}
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
echo "verify.sh: building replscope (debug)" >&2
cargo build --bin replscope >&2
BIN="$TARGET_DIR/debug/replscope"
OUT="$TARGET_DIR/verify"
mkdir -p "$OUT"

echo "# replscope compare suite, $(date -u '+%Y-%m-%d %H:%M UTC'), $(redis-server --version | grep -o 'v=[0-9.]*'), load at start:$(uptime | sed 's/.*load average://')"
echo
echo "| scenario | target | real sequence | predicted (seed shown) | real outcome in seeds | worst figure: predicted → real | verdict |"
echo "|---|---|---|---|---|---|---|"
agree=0
total=0
for preset in $("$BIN" compare --list); do
    if [ -n "$ONLY" ] && ! [[ "$preset" =~ $ONLY ]]; then
        continue
    fi
    for target in $TARGETS; do
        total=$((total + 1))
        log="$OUT/$preset.$target"
        if row=$("$BIN" compare --preset "$preset" --against "$target" --seeds "$SEEDS" \
            --format row --json-out "$log.json" 2>"$log.err"); then
            :
        else
            row="| ${preset#compare-} | $target | staging failed: $(tail -1 "$log.err" | tr '|' '/') | | | | ERROR |"
        fi
        echo "$row"
        case "$row" in *"| agrees |") agree=$((agree + 1)) ;; esac
    done
done
echo
echo "$agree of $total agree. Load at end:$(uptime | sed 's/.*load average://')"
