#!/usr/bin/env bash
# The bug matrix (issues 6 and 8): every planted kv/client bug and shardkv
# bug (sharded runs, --groups 3, on loopback) N times under the workload and
# nemesis that should catch it, and the correct build M times under every
# fault, unsharded and sharded; prints one table row per case with how many runs ended
# invalid (exit 1), valid (0) and unknown/error (2). Long: kept out of CI.
#
# With -f F it instead measures false alarms: F runs of the correct build
# under --nemesis all, each with a fresh random seed (printed), cycling
# through register, append, sharded append (--groups 3, shard moves too) and
# register with leader leases (--read-mode lease; clock faults in rate mode);
# any invalid run is a false alarm and any unknown is listed to investigate.
#
# usage: scripts/bug-matrix.sh [-n N] [-m M] [-t SECS] [-s STORE] [-b FAULTLINE] [-f F]
#   -n  runs per planted bug          (default 5)
#   -m  runs of the correct build     (default 10)
#   -f  false-alarm runs instead of the matrix (e.g. 100)
#   -t  --time-limit of each run      (default 30)
#   -s  store folder                  (default store-matrix)
#   -b  the faultline binary          (default target/release/faultline)
# kvnode must be next to faultline or on PATH. Network faults need root.
set -u
N=5 M=10 T=30 STORE=store-matrix BIN=target/release/faultline F=0
while getopts "n:m:t:s:b:f:" o; do
  case $o in
    n) N=$OPTARG ;; m) M=$OPTARG ;; t) T=$OPTARG ;; s) STORE=$OPTARG ;; b) BIN=$OPTARG ;;
    f) F=$OPTARG ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "no faultline binary at $BIN (cargo build --release --bins, or -b)"; exit 2; }
export PATH="$(cd "$(dirname "$BIN")" && pwd):$PATH"

if [ "$F" -gt 0 ]; then
  CONFIGS=(
    "--workload register --nemesis all --nemesis-interval 4"
    "--workload append --nemesis all --nemesis-interval 4"
    "--workload append --groups 3 --nemesis all --nemesis-interval 2"
    "--workload register --read-mode lease --nemesis all --nemesis-interval 4"
  )
  inv=0 val=0 unk=0 suspects=()
  for i in $(seq 1 "$F"); do
    args=${CONFIGS[$(((i - 1) % ${#CONFIGS[@]}))]}
    seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    # shellcheck disable=SC2086
    "$BIN" run $args --seed "$seed" --time-limit "$T" --store "$STORE" --name "false-alarm" \
      >"$STORE.false-alarm.$i.log" 2>&1
    rc=$?
    case $rc in
      0) val=$((val + 1)) ;;
      1) inv=$((inv + 1)); suspects+=("invalid: $args --seed $seed ($STORE.false-alarm.$i.log)") ;;
      *) unk=$((unk + 1)); suspects+=("exit $rc: $args --seed $seed ($STORE.false-alarm.$i.log)") ;;
    esac
    echo "false-alarm run $i/$F: exit $rc, seed $seed, $args"
  done
  echo
  echo "correct build, $F runs of $T s under --nemesis all: $inv invalid, $val valid, $unk unknown/error"
  for s in "${suspects[@]}"; do echo "  $s"; done
  [ "$inv" -eq 0 ] && [ "$unk" -eq 0 ]
  exit $?
fi

# name | runs | faultline run arguments
CASES=(
  "stale-read|$N|--workload register --nemesis partition --nemesis-interval 3 --bug stale-read"
  "no-dedup|$N|--workload append --nemesis kill --nemesis-interval 2 --bug no-dedup"
  "ack-before-commit|$N|--workload register --nemesis partition --nemesis-interval 2 --bug ack-before-commit"
  "client-retry-new-seq|$N|--workload append --nemesis kill,partition --nemesis-interval 2 --bug client-retry-new-seq"
  "correct|$M|--workload register --nemesis partition,clock,packet,kill,pause --nemesis-interval 5"
  "skip-session-transfer|$N|--workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --bug skip-session-transfer"
  "serve-during-handoff|$N|--workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --bug serve-during-handoff"
  "early-gc|$N|--workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --bug early-gc"
  "correct-sharded|$M|--workload append --groups 3 --nemesis shard-move,kill,pause --nemesis-interval 2"
)

rows=()
for c in "${CASES[@]}"; do
  IFS='|' read -r name runs args <<<"$c"
  inv=0 val=0 unk=0
  for i in $(seq 1 "$runs"); do
    # shellcheck disable=SC2086
    "$BIN" run $args --time-limit "$T" --store "$STORE" --name "matrix-$name" \
      >"$STORE.$name.$i.log" 2>&1
    rc=$?
    case $rc in 0) val=$((val + 1)) ;; 1) inv=$((inv + 1)) ;; *) unk=$((unk + 1)) ;; esac
    echo "$name run $i/$runs: exit $rc ($(grep -m1 'verdict:' "$STORE.$name.$i.log" | sed 's/ *verdict: *//'))"
  done
  rows+=("$(printf '%-22s %5s %8s %6s %8s   %s' "$name" "$runs" "$inv" "$val" "$unk" "$args")")
done

echo
printf '%-22s %5s %8s %6s %8s   %s\n' bug runs invalid valid unknown arguments
for r in "${rows[@]}"; do echo "$r"; done
