#!/usr/bin/env bash
# The whole comparison suite: every compare preset staged against each real server version
# (Redis 6.2, 7.0, 8.2, Valkey 8.1, 9.1: `.tools/servers/<version>/server`, installed by
# `scripts/setup.sh test`) and against `replscope server`, each set beside the simulator's
# spread over many seeds (the simulator playing that version). Prints one Markdown table per
# target, headed by its binary's --version (the README shows runs of it). A preset the
# target cannot stage (a setting the version lacks, a pinned version) is skipped with its
# reason. Long (~30-40 minutes per target on 2 cores); NOT run by scripts/test.sh, which runs
# a fast subset (tests/compare_suite.rs, tests/compare_versions.rs).
#
#   scripts/verify.sh                                   # every preset, every target
#   scripts/verify.sh --against 'redis-8.2 valkey-9.1'  # some targets (redis = redis-7.0)
#   scripts/verify.sh --only 'restart|failover'         # presets whose name matches the regex
#   scripts/verify.sh --seeds 50                        # seeds per spread (default 30)
#
# Timing-sensitive: run it on a quiet machine (`uptime` load below ~2). Each run's full text
# and JSON output go to $CARGO_TARGET_DIR/verify/ (default target/verify/).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="redis-6.2 redis-7.0 redis-8.2 valkey-8.1 valkey-9.1 replscope"
ONLY=""
SEEDS=30
while [ $# -gt 0 ]; do
    case "$1" in
        --against) TARGETS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --seeds) SEEDS="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "verify.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
echo "verify.sh: building replscope (debug)" >&2
cargo build --bin replscope >&2
BIN="$TARGET_DIR/debug/replscope"
OUT="$TARGET_DIR/verify"
mkdir -p "$OUT"

# Every target's binary first: a missing one stops the suite before it starts.
for target in $TARGETS; do
    "$BIN" compare --against "$target" --which >/dev/null || exit 2
done

echo "# replscope compare suite, $(date -u '+%Y-%m-%d %H:%M UTC'), load at start:$(uptime | sed 's/.*load average://')"
agree=0
total=0
for target in $TARGETS; do
    echo
    echo "## $target: $("$BIN" compare --against "$target" --which | cut -f2), load:$(uptime | sed 's/.*load average://')"
    echo
    echo "| scenario | target | real sequence | predicted (seed shown) | real outcome in seeds | worst figure: predicted → real | verdict |"
    echo "|---|---|---|---|---|---|---|"
    skipped=()
    for preset in $("$BIN" compare --list); do
        if [ -n "$ONLY" ] && ! [[ "$preset" =~ $ONLY ]]; then
            continue
        fi
        log="$OUT/$preset.$target"
        if ! "$BIN" compare --preset "$preset" --against "$target" --dry-run >/dev/null 2>"$log.err"; then
            skipped+=("- skipped \`${preset#compare-}\` on $target: $(tail -1 "$log.err")")
            continue
        fi
        total=$((total + 1))
        if row=$("$BIN" compare --preset "$preset" --against "$target" --seeds "$SEEDS" \
            --format row --json-out "$log.json" 2>"$log.err"); then
            :
        else
            row="| ${preset#compare-} | $target | staging failed: $(tail -1 "$log.err" | tr '|' '/') | | | | ERROR |"
        fi
        echo "$row"
        case "$row" in *"| agrees |") agree=$((agree + 1)) ;; esac
    done
    if [ ${#skipped[@]} -gt 0 ]; then
        echo
        printf '%s\n' "${skipped[@]}"
    fi
done
echo
echo "$agree of $total agree. Load at end:$(uptime | sed 's/.*load average://')"
