#!/usr/bin/env bash
# The bug matrix (issue 21): runs the one command `faultline bugs --commands`
# names for each planted bug N times, each with a fresh random seed
# (printed), and counts how often it caught the bug (exit 1). With -w FILE it
# appends one row per bug to FILE (the format of src/commands/bugs_measured.tsv,
# which `faultline bugs` shows).
#
# With -f F it instead measures false alarms: F runs of the correct build
# under --nemesis all, each with a fresh random seed (printed), cycling
# through register, append, sharded append (--groups 3, shard moves too) and
# register with leader leases (--read-mode lease; clock faults in rate mode);
# any invalid run is a false alarm and any unknown is listed to investigate.
#
# usage: scripts/bug-matrix.sh [-n N] [-o BUG,BUG] [-w FILE] [-s STORE] [-b FAULTLINE]
#        scripts/bug-matrix.sh -f F [-t SECS] [-w FILE] [-s STORE] [-b FAULTLINE]
#   -n  runs per planted bug               (default 10)
#   -o  only these bugs                    (default: every bug)
#   -f  false-alarm runs instead of the matrix (e.g. 100)
#   -t  --time-limit of each false-alarm run (default 30)
#   -w  append the measured rows to FILE
#   -s  store folder                       (default store-matrix)
#   -b  the faultline binary               (default target/release/faultline)
# kvnode must be next to faultline or on PATH. Network faults need root.
set -u
N=10 T=30 STORE=store-matrix BIN=target/release/faultline F=0 ONLY_LIST="" OUT=""
while getopts "n:t:s:b:f:o:w:" o; do
  case $o in
    n) N=$OPTARG ;; t) T=$OPTARG ;; s) STORE=$OPTARG ;; b) BIN=$OPTARG ;;
    f) F=$OPTARG ;; o) ONLY_LIST=$OPTARG ;; w) OUT=$OPTARG ;;
    *) sed -n '2,25p' "$0"; exit 2 ;;
  esac
done
MACHINE="$(nproc) cores, $(uname -m), $(id -un)"
[ -x "$BIN" ] || { echo "no faultline binary at $BIN (cargo build --release --bins, or -b)"; exit 2; }
export PATH="$(cd "$(dirname "$BIN")" && pwd):$PATH"
# Run logs go next to the store; a log that cannot be written must not count
# as a verdict (a failed redirection exits 1, like an invalid run).
mkdir -p "$(dirname "$STORE")" || { echo "cannot create the folder of $STORE"; exit 2; }
: >"$STORE.probe.log" 2>/dev/null || { echo "cannot write logs next to $STORE"; exit 2; }
rm -f "$STORE.probe.log"

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
      >"$STORE.false-alarm.$i.log" 2>&1 </dev/null
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
  if [ -n "$OUT" ]; then
    printf 'correct\t%s\t%s\t%s\t%s\t%s\n' "$inv" "$F" "$(date -u +%F)" "$MACHINE" \
      "scripts/bug-matrix.sh -f $F -t $T" >>"$OUT"
  fi
  [ "$inv" -eq 0 ] && [ "$unk" -eq 0 ]
  exit $?
fi

IFS=',' read -r -a ONLY <<<"$ONLY_LIST"
wanted() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local b
  for b in "${ONLY[@]}"; do [ "$b" = "$1" ] && return 0; done
  return 1
}

COMMANDS=$("$BIN" bugs --commands) || { echo "$BIN bugs --commands failed"; exit 2; }
rows=() tsv=() errors=()
while IFS=$'\t' read -r name command; do
  wanted "$name" || continue
  args=${command#faultline }
  extra=()
  case $args in run\ *) extra=(--store "$STORE" --name "matrix-$name") ;; esac
  caught=0 missed=0 err=0
  for i in $(seq 1 "$N"); do
    seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    # shellcheck disable=SC2086
    "$BIN" $args --seed "$seed" "${extra[@]}" >"$STORE.$name.$i.log" 2>&1 </dev/null
    rc=$?
    case $rc in
      1) caught=$((caught + 1)) ;;
      0) missed=$((missed + 1)) ;;
      *) err=$((err + 1)); errors+=("$name: exit $rc, seed $seed ($STORE.$name.$i.log)") ;;
    esac
    echo "$name run $i/$N: exit $rc, seed $seed"
  done
  rows+=("$(printf '%-22s %4s %6s %6s %6s   %s' "$name" "$N" "$caught" "$missed" "$err" "$command")")
  tsv+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$name" "$caught" "$N" "$(date -u +%F)" "$MACHINE" "$command")")
done <<<"$COMMANDS"

echo
printf '%-22s %4s %6s %6s %6s   %s\n' bug runs caught missed error command
for r in "${rows[@]}"; do echo "$r"; done
for e in "${errors[@]}"; do echo "  error: $e"; done
if [ -n "$OUT" ]; then
  for t in "${tsv[@]}"; do echo "$t" >>"$OUT"; done
  echo "appended ${#tsv[@]} rows to $OUT"
fi
[ ${#rows[@]} -gt 0 ] || { echo "no bug matched -o $ONLY_LIST"; exit 2; }
[ ${#errors[@]} -eq 0 ]
