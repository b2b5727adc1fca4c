#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds pgorm's libFuzzer targets with clang (build tree build/fuzz) and runs each for the
# given time with its seed corpus (fuzz/corpus/<target>) and the inputs it once failed on
# (fuzz/regressions/<target>). Exits non-zero when a target crashes, a checked property fails,
# or one input runs longer than the per-input timeout (a slow input is a failure: that is how
# a quadratic blow-up shows); the input is saved as build/fuzz/artifacts/<target>/crash-* or
# timeout-*.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]    (default 60 s each; all targets)
#   targets: decode conninfo identifier sql_scan sql_split
#   60 s per target is the quick mode CI runs; 300 (./dev fuzz 300) is the long mode to run
#   before resolving an issue that touches a fuzzed function: 0 crashes and 0 timeouts.
#   exit status: 0 clean, 1 a target failed (a finding), 2 bad arguments or no compiler,
#   3 the fuzzers do not build.
#   env PGORM_FUZZ_CXX (default clang++-16), PGORM_FUZZ_ARGS (extra libFuzzer flags),
#   PGORM_FUZZ_TIMEOUT (seconds one input may take; default 5, at most a tenth of SECONDS),
#   PGORM_FUZZ_BUILD (build tree; default build/fuzz)
# Reproduce a failure: build/fuzz/<target>_fuzzer build/fuzz/artifacts/<target>/crash-...
# then add the input to tests/unit/fuzz_regressions_test.cpp (see docs/reliability.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${1:-60}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2
  exit 2
fi
if [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: SECONDS must be at least 1" >&2
  exit 2
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode conninfo identifier sql_scan sql_split)
for target in "${targets[@]}"; do
  case "$target" in
    decode|conninfo|identifier|sql_scan|sql_split) ;;
    *) echo "fuzz.sh: unknown target '$target' (decode conninfo identifier sql_scan sql_split)" >&2; exit 2 ;;
  esac
done

# One input may take at most this long; well below the run time, so that a slow input is
# reported as a timeout instead of eating the run.
timeout="${PGORM_FUZZ_TIMEOUT:-5}"
if ! [[ "$timeout" =~ ^[0-9]+$ ]] || [ "$timeout" -lt 1 ]; then
  echo "fuzz.sh: PGORM_FUZZ_TIMEOUT must be a whole number of seconds, got '$timeout'" >&2
  exit 2
fi
if [ $((timeout * 10)) -gt "$seconds" ]; then
  timeout=$((seconds / 10))
  [ "$timeout" -lt 1 ] && timeout=1
fi

# clang 16, the project's second compiler: clang 14's libstdc++ 12 support lacks
# std::source_location, which pgorm's headers use.
cxx="${PGORM_FUZZ_CXX:-clang++-16}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found; install clang 16 (Debian: clang-16 libclang-rt-16-dev)" >&2
  exit 2
fi

build="${PGORM_FUZZ_BUILD:-$root/build/fuzz}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
fuzzers=()
for target in "${targets[@]}"; do fuzzers+=("${target}_fuzzer"); done
# A fuzzer that does not build is not a finding: exit status 3, which CI fails on.
if ! cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null ||
   ! cmake --build "$build" --target "${fuzzers[@]}"; then
  echo "fuzz.sh: the fuzzers do not build with $cxx" >&2
  exit 3
fi

failed=()
for target in "${targets[@]}"; do
  seeds=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && seeds+=("fuzz/regressions/$target")
  # New inputs go to a scratch corpus in the build tree; the committed seeds stay as they are.
  work="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  log="$build/$target.log"
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "fuzz/$target.dict" ] && args+=(-dict="fuzz/$target.dict")
  # shellcheck disable=SC2206
  args+=(${PGORM_FUZZ_ARGS:-})
  echo "fuzz.sh: $target for ${seconds}s, at most ${timeout}s per input (log: $log)"
  started="$build/.started-$target"
  touch "$started"
  status=0
  "$build/${target}_fuzzer" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1 || status=$?
  # A run that ended early (a crash, a timeout, an out-of-memory) is a failure whatever the
  # exit status says.
  if [ "$status" -eq 0 ] && grep -a -q -E '^==[0-9]+== ERROR: libFuzzer|^ALARM: working on' "$log"; then
    status=1
  fi
  if [ "$status" -eq 0 ]; then
    grep -a -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" |
      sed "s/^/  /" || true
  else
    failed+=("$target")
    echo "fuzz.sh: $target FAILED (exit status $status); last lines of $log:" >&2
    grep -a -E 'pgorm fuzz:|ERROR:|ALARM:|runtime error|SUMMARY' "$log" | head -n 5 >&2 || true
    find "$artifacts" -type f -newer "$started" | sed "s|^|  |" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s without a failure"
