#!/usr/bin/env bash
# Benchmarks `replscope server` against a real redis-server 7.0 in the same run.
#
# 1. Throughput: redis-benchmark SET/GET, with and without pipelining (-P 16), against a real
#    master and against ours, each with a real replica attached. ROUNDS rounds (default 5),
#    real and ours alternating (which goes first alternates too), so that a change in the
#    machine's load hits both; prints each round and the medians, with the ratio ours/real of
#    the medians. With PIN=1 (the default where taskset exists and there are 2+ cores) each
#    master runs on CPU 0 and redis-benchmark and the replicas on the others, the same for both.
# 2. Full sync: time for a fresh real replica to be in sync with a master holding a large
#    dataset, disk (repl-diskless-sync no) vs diskless (yes, delay 0), for both masters.
#
# Usage: [ROUNDS=5] [PIN=0|1] scripts/bench-server.sh [requests] [sync_keys] [value_bytes]
#   (defaults 200000, 500000, 100)
#   1 GB full sync: scripts/bench-server.sh 200000 1000000 1000
#   throughput only: scripts/bench-server.sh 200000 0
# Needs redis-server, redis-cli and redis-benchmark on PATH. Everything runs on 127.0.0.1
# and is stopped at exit.
set -euo pipefail

REQUESTS=${1:-200000}
SYNC_KEYS=${2:-500000}
VALUE_BYTES=${3:-100}
ROUNDS=${ROUNDS:-5}
if [ -z "${PIN:-}" ]; then
  PIN=0
  command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] && PIN=1
fi
# Masters on CPU 0, everything else (replicas, redis-benchmark) on the other CPUs.
ON_MASTER_CPU=(); ON_OTHER_CPUS=()
if [ "$PIN" = 1 ]; then
  ON_MASTER_CPU=(taskset -c 0); ON_OTHER_CPUS=(taskset -c "1-$(( $(nproc) - 1 ))")
fi
cd "$(dirname "$0")/.."
for b in redis-server redis-cli redis-benchmark; do
  command -v "$b" >/dev/null || { echo "bench-server: $b not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/replscope
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

await_ping() { # port
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  echo "server on $1 did not start" >&2; exit 1
}

info() { redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1==f {print $2}'; }

await_sync() { # master replica timeout_s
  local end=$(( $(date +%s) + ${3:-600} ))
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ "$(info "$2" replication master_link_status)" = up ]; then
      local mo ro
      mo=$(info "$1" replication master_repl_offset); ro=$(info "$2" replication slave_repl_offset)
      [ -n "$mo" ] && [ "$mo" = "$ro" ] && return 0
    fi
    sleep 0.02
  done
  echo "replica $2 did not sync with $1" >&2; exit 1
}

start_real() { # port dir [args...] (a master unless the args say --replicaof)
  local port=$1 dir=$2; shift 2; mkdir -p "$dir"
  local pin=("${ON_MASTER_CPU[@]}"); [[ " $* " == *" --replicaof "* ]] && pin=("${ON_OTHER_CPUS[@]}")
  "${pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/log" \
    --enable-debug-command yes "$@" &
  PIDS+=($!); await_ping "$port"
}

start_ours() { # port dir [args...]
  local port=$1 dir=$2; shift 2; mkdir -p "$dir"
  "${ON_MASTER_CPU[@]}" "$BIN" server --port "$port" --save "" --dir "$dir" --logfile "$dir/log" \
    --enable-debug-command yes "$@" &
  PIDS+=($!); await_ping "$port"
}

rps() { # port test pipeline
  "${ON_OTHER_CPUS[@]}" redis-benchmark -p "$1" -t "$2" -n "$REQUESTS" -P "$3" -c 50 -r 100000 --csv 2>/dev/null \
    | awk -F'"' -v t="$(echo "$2" | tr a-z A-Z)" '$2==t {print $4}'
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

echo "== Throughput: $REQUESTS requests, 50 clients, each master with a real replica attached"
echo "   $ROUNDS rounds, real and ours alternating; pinned: $([ "$PIN" = 1 ] && echo "masters on CPU 0, the rest on 1-$(( $(nproc) - 1 ))" || echo no)"
RM=$(free_port); RR=$(free_port); OM=$(free_port); OR=$(free_port)
start_real "$RM" "$WORK/real-master"
start_real "$RR" "$WORK/real-replica" --replicaof 127.0.0.1 "$RM"
start_ours "$OM" "$WORK/ours-master"
start_real "$OR" "$WORK/ours-replica" --replicaof 127.0.0.1 "$OM"
await_sync "$RM" "$RR" 60; await_sync "$OM" "$OR" 60
printf '%-6s %-6s %-9s %14s %14s %8s\n' round test pipeline real_rps ours_rps ratio
for round in $(seq 1 "$ROUNDS"); do
  for p in 1 16; do
    for t in set get; do
      if [ $((round % 2)) = 1 ]; then
        r=$(rps "$RM" "$t" "$p"); o=$(rps "$OM" "$t" "$p")
      else
        o=$(rps "$OM" "$t" "$p"); r=$(rps "$RM" "$t" "$p")
      fi
      echo "$t $p $r $o" >>"$WORK/rounds"
      printf '%-6s %-6s %-9s %14s %14s %8s\n' "$round" "$t" "$p" "$r" "$o" "$(awk -v a="$o" -v b="$r" 'BEGIN{printf "%.2f", a/b}')"
    done
  done
done
echo "-- medians of $ROUNDS rounds"
printf '%-6s %-9s %14s %14s %8s %22s\n' test pipeline real_rps ours_rps ratio "ratio per round (min-max)"
for p in 1 16; do
  for t in set get; do
    sel() { awk -v t="$t" -v p="$p" -v c="$1" '$1==t && $2==p {print $c}' "$WORK/rounds"; }
    r=$(sel 3 | median); o=$(sel 4 | median)
    lo_hi=$(awk -v t="$t" -v p="$p" '$1==t && $2==p {x=$4/$3; if (n==0||x<lo) lo=x; if (n==0||x>hi) hi=x; n++} END {printf "%.2f-%.2f", lo, hi}' "$WORK/rounds")
    printf '%-6s %-9s %14s %14s %8s %22s\n' "$t" "$p" "$r" "$o" "$(awk -v a="$o" -v b="$r" 'BEGIN{printf "%.2f", a/b}')" "$lo_hi"
  done
done
await_sync "$RM" "$RR" 120; await_sync "$OM" "$OR" 120
echo "replicas in sync after the runs: real $(info "$RR" replication slave_repl_offset), ours->real $(info "$OR" replication slave_repl_offset)"

[ "$SYNC_KEYS" -gt 0 ] || exit 0
echo
echo "== Full sync of $SYNC_KEYS keys ($VALUE_BYTES-byte values) to a fresh real replica"
printf '%-6s %-9s %10s\n' master mode seconds
for who in real ours; do
  for mode in disk diskless; do
    M=$(free_port); R=$(free_port)
    yes_no=$([ "$mode" = diskless ] && echo yes || echo no)
    if [ "$who" = real ]; then
      start_real "$M" "$WORK/sync-$who-$mode-m" --repl-diskless-sync "$yes_no" --repl-diskless-sync-delay 0
    else
      start_ours "$M" "$WORK/sync-$who-$mode-m" --repl-diskless-sync "$yes_no" --repl-diskless-sync-delay 0
    fi
    redis-cli -p "$M" debug populate "$SYNC_KEYS" key "$VALUE_BYTES" >/dev/null
    t0=$(date +%s.%N)
    start_real "$R" "$WORK/sync-$who-$mode-r" --replicaof 127.0.0.1 "$M"
    await_sync "$M" "$R" 600
    t1=$(date +%s.%N)
    [ "$(info "$R" keyspace db0 | cut -d, -f1)" = "keys=$SYNC_KEYS" ] || { echo "key count mismatch on $who/$mode" >&2; exit 1; }
    printf '%-6s %-9s %10.2f\n' "$who" "$mode" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
    redis-cli -p "$R" shutdown nosave >/dev/null 2>&1 || true
    redis-cli -p "$M" shutdown nosave >/dev/null 2>&1 || true
  done
done
