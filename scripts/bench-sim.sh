#!/usr/bin/env bash
# Simulator speed: virtual seconds per wall second and peak memory, for disk-sync-loop over one
# virtual hour at 100,000 writes/s (the replica loops on full syncs the whole time).
#   scripts/bench-sim.sh [preset] [until] [rate]
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-disk-sync-loop}
UNTIL=${2:-1h}
RATE=${3:-100k}
cargo build --release --quiet --bin replscope
BIN=${CARGO_TARGET_DIR:-target}/release/replscope
ARGS=(sim --preset "$PRESET" --until "$UNTIL" --set "workload.rate=$RATE" --set duration=1h --hash)
# The quiet start phase of the preset still applies; everything after it runs at $RATE.
TIMEFILE=$(mktemp)
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v -o "$TIMEFILE" "$BIN" "${ARGS[@]}" >/dev/null
else
  "$BIN" "${ARGS[@]}" >/dev/null
fi
end=$(date +%s.%N)
wall=$(echo "$end - $start" | bc -l)
virt_s=$("$BIN" sim --preset "$PRESET" --until "$UNTIL" --set "workload.rate=$RATE" --format json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["until_ms"]/1000)')
echo "preset=$PRESET until=$UNTIL rate=$RATE"
echo "wall seconds:            $wall"
echo "virtual seconds:         $virt_s"
echo "virtual s per wall s:    $(echo "$virt_s / $wall" | bc -l | cut -c1-12)"
if [ -s "$TIMEFILE" ]; then
  # CPU time is steadier than wall time on a shared machine.
  user=$(grep -E 'User time' "$TIMEFILE" | awk '{print $NF}')
  sys=$(grep -E 'System time' "$TIMEFILE" | awk '{print $NF}')
  cpu=$(echo "$user + $sys" | bc -l)
  echo "cpu seconds:             $cpu"
  if [ "$(echo "$cpu > 0" | bc -l)" = 1 ]; then
    echo "virtual s per cpu s:     $(echo "$virt_s / $cpu" | bc -l | cut -c1-12)"
  fi
  grep -E 'Maximum resident set size' "$TIMEFILE" | sed 's/^\s*/peak memory: /'
fi
rm -f "$TIMEFILE"
