#!/usr/bin/env bash
# The power-loss matrix (issue 17): the planted `no-fsync` bug under the
# `power` nemesis (should be invalid) and under `kill` (should stay valid:
# the kernel keeps a killed process's writes), and the correct build under
# `power` (should stay valid); N runs each with random seeds. Prints one row
# per case: how many runs ended invalid (exit 1), valid (0), unknown/error
# (2). Needs root and /dev/fuse. Long: kept out of CI.
#
# With -e, the etcd cases instead: etcd 3.5 (FAULTLINE_ETCD, default
# /opt/faultline/etcd-3.5.1/etcd from scripts/setup.sh) with and without
# its --unsafe-no-fsync flag under `power:all+no-tear` (a clean power cut
# of the whole group: unsynced writes gone, nothing torn), append workload.
#
# usage: scripts/power-matrix.sh [-e] [-n N] [-t SECS] [-s STORE] [-b FAULTLINE]
#   -e  the etcd cases
#   -n  runs per case                 (default 10)
#   -t  --time-limit of each run      (default 30)
#   -s  store folder                  (default store-power)
#   -b  the faultline binary          (default target/release/faultline)
# kvnode and faultline-diskfs must be next to faultline or on PATH.
set -u
N=10 T=30 STORE=store-power BIN=target/release/faultline ETCD_CASES=
while getopts "en:t:s:b:" o; do
  case $o in
    e) ETCD_CASES=1 ;;
    n) N=$OPTARG ;; t) T=$OPTARG ;; s) STORE=$OPTARG ;; b) BIN=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "no faultline binary at $BIN (cargo build --release --workspace --bins, or -b)"; exit 2; }
export PATH="$(cd "$(dirname "$BIN")" && pwd):$PATH"

# name | faultline run arguments
CASES=(
  "no-fsync/power|--workload append --nemesis power --nemesis-interval 3 --bug no-fsync"
  "no-fsync/kill|--workload append --nemesis kill --nemesis-interval 3 --bug no-fsync"
  "correct/power|--workload append --nemesis power --nemesis-interval 3"
)
if [ -n "$ETCD_CASES" ]; then
  export FAULTLINE_ETCD=${FAULTLINE_ETCD:-/opt/faultline/etcd-3.5.1/etcd}
  [ -x "$FAULTLINE_ETCD" ] || { echo "no etcd 3.5 at $FAULTLINE_ETCD (scripts/setup.sh installs it)"; exit 2; }
  CASES=(
    "etcd-unsafe-no-fsync/power|--db etcd --workload append --nemesis power:all+no-tear --nemesis-interval 10 --bug unsafe-no-fsync"
    "etcd/power|--db etcd --workload append --nemesis power:all+no-tear --nemesis-interval 10"
  )
fi

rows=()
for c in "${CASES[@]}"; do
  IFS='|' read -r name args <<<"$c"
  inv=0 val=0 unk=0
  tag=${name//\//-}
  for i in $(seq 1 "$N"); do
    # shellcheck disable=SC2086
    "$BIN" run $args --time-limit "$T" --store "$STORE" --name "power-$tag" \
      >"$STORE.$tag.$i.log" 2>&1
    rc=$?
    case $rc in 0) val=$((val + 1)) ;; 1) inv=$((inv + 1)) ;; *) unk=$((unk + 1)) ;; esac
    echo "$name run $i/$N: exit $rc ($(grep -m1 'verdict:' "$STORE.$tag.$i.log" | sed 's/ *verdict: *//' | cut -c1-80))"
  done
  rows+=("$(printf '%-16s %5s %8s %6s %8s   %s' "$name" "$N" "$inv" "$val" "$unk" "$args")")
done

echo
printf '%-16s %5s %8s %6s %8s   %s\n' case runs invalid valid unknown arguments
for r in "${rows[@]}"; do echo "$r"; done
