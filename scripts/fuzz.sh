#!/usr/bin/env bash
# The long fuzz pass, on demand (the suite runs a short one: fuzz/tests/fuzz_short.rs).
#
#   scripts/fuzz.sh [--iters N | --time SECS] [--seed S] [--engine mutate|afl] [TARGET...]
#
# --iters N     inputs per target (default 1000000 when --time is not given)
# --time SECS   seconds per target (with --iters: whichever comes first)
# --seed S      seed of the mutate engine (default: from the clock; printed)
# --engine      mutate (default): faultline-fuzz's seeded structure-aware
#               mutator, in process, built with overflow checks (profile
#               `fuzz`); exact input counts, reproducible by seed and index.
#               afl: coverage-guided AFL++ through cargo-afl (installed here on
#               first use, idempotently); its counts are AFL's execs_done.
# TARGET        any of `target/fuzz/faultline-fuzz list` (default: all)
#
# Prints, per target, the inputs tried and the panics found; exits 1 if any
# input panicked. Panicking inputs are saved under target/fuzz-findings/
# (mutate) or target/afl-out/<target>/default/crashes/ (afl).
set -euo pipefail
cd "$(dirname "$0")/.."

AFL_VERSION=0.18.2
iters=""
secs=""
seed=""
engine=mutate
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --iters) iters="$2"; shift 2 ;;
    --time) secs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ -z "$iters" ] && [ -z "$secs" ]; then iters=1000000; fi

run_mutate() {
  cargo build --quiet --profile fuzz -p faultline-fuzz
  local args=(run)
  [ -n "$iters" ] && args+=(--inputs "$iters")
  [ -n "$secs" ] && args+=(--time "$secs")
  [ -n "$seed" ] && args+=(--seed "$seed")
  exec target/fuzz/faultline-fuzz "${args[@]}" "${targets[@]}"
}

# cargo-afl builds AFL++ from the sources it ships; both steps are skipped
# when already done.
ensure_afl() {
  if ! cargo afl --version 2>/dev/null | grep -q "$AFL_VERSION"; then
    echo "fuzz.sh: installing cargo-afl $AFL_VERSION"
    cargo install --locked cargo-afl --version "$AFL_VERSION"
  fi
  local out
  if ! out=$(cargo afl config --build 2>&1); then
    # Not an error when AFL++ is already built for this rustc.
    if ! grep -q "already built" <<<"$out"; then
      echo "$out" >&2
      exit 1
    fi
  fi
}

stat_of() { sed -n "s/^$1 *: *//p" "$2"; }

run_afl() {
  ensure_afl
  cargo build --quiet --release -p faultline-fuzz
  CARGO_TARGET_DIR=target/afl cargo afl build --quiet --release --manifest-path fuzz/afl/Cargo.toml
  if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(target/release/faultline-fuzz list | awk '{print $1}')
  fi
  mkdir -p target/afl-out target/afl-in
  # Global: the EXIT trap reads it after this function returns.
  scratch=$(mktemp -d -p /dev/shm faultline-afl-XXXXXX 2>/dev/null || mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  local rows=() failed=0
  for t in "${targets[@]}"; do
    local in="target/afl-in/$t" out="target/afl-out/$t" dict="target/afl-in/$t.dict"
    rm -rf "$in" "$out"
    target/release/faultline-fuzz seeds "$t" "$in" >/dev/null
    target/release/faultline-fuzz dict "$t" "$dict"
    local limit=()
    [ -n "$iters" ] && limit+=(-E "$iters")
    [ -n "$secs" ] && limit+=(-V "$secs")
    echo "fuzz.sh: AFL++ on $t (${limit[*]})"
    FAULTLINE_FUZZ_TARGET="$t" FAULTLINE_FUZZ_SCRATCH="$scratch" \
      AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
      AFL_SUPPRESS_WARNINGS=1 \
      cargo afl fuzz -i "$in" -o "$out" -x "$dict" -t 2000 "${limit[@]}" -- target/afl/release/faultline-fuzz-afl \
      > "target/afl-out/$t.log" 2>&1 || { echo "fuzz.sh: afl-fuzz failed on $t, see target/afl-out/$t.log" >&2; tail -20 "target/afl-out/$t.log" >&2; exit 1; }
    local stats="$out/default/fuzzer_stats"
    local execs crashes hangs rate
    execs=$(stat_of execs_done "$stats")
    crashes=$(stat_of saved_crashes "$stats")
    hangs=$(stat_of saved_hangs "$stats")
    rate=$(stat_of execs_per_sec "$stats")
    printf '%-16s %10s inputs %6s crashes %6s hangs %10s/s\n' "$t" "$execs" "$crashes" "$hangs" "$rate"
    rows+=("| $t | $execs | $crashes | $hangs | $rate |")
    if [ "$crashes" != "0" ]; then failed=1; fi
    rm -rf "${scratch:?}"/*
  done
  echo
  echo "| target | inputs tried (AFL++ execs) | crashes | hangs | execs/s |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  exit "$failed"
}

case "$engine" in
  mutate) run_mutate ;;
  afl) run_afl ;;
  *) echo "fuzz.sh: --engine is mutate or afl, not $engine" >&2; exit 2 ;;
esac
