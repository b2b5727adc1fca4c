#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds pgorm's libFuzzer targets with clang (build tree build/fuzz) and runs each for the
# given time with its seed corpus (fuzz/corpus/<target>). Exits non-zero when a target crashes
# or a checked property fails; the input is saved as build/fuzz/artifacts/<target>/crash-*.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]    (default 60 s each; all targets)
#   targets: decode conninfo identifier sql_scan
#   env PGORM_FUZZ_CXX (default clang++), PGORM_FUZZ_ARGS (extra libFuzzer flags)
# Reproduce a crash: build/fuzz/<target>_fuzzer build/fuzz/artifacts/<target>/crash-...
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
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode conninfo identifier sql_scan)

cxx="${PGORM_FUZZ_CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found; install clang (Debian: clang libclang-rt-14-dev)" >&2
  exit 2
fi

build="$root/build/fuzz"
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build" --target $(printf '%s_fuzzer ' "${targets[@]}")

failed=()
for target in "${targets[@]}"; do
  seeds="fuzz/corpus/$target"
  # New inputs go to a scratch corpus in the build tree; the committed seeds stay as they are.
  work="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  log="$build/$target.log"
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "fuzz/$target.dict" ] && args+=(-dict="fuzz/$target.dict")
  # shellcheck disable=SC2206
  args+=(${PGORM_FUZZ_ARGS:-})
  echo "fuzz.sh: $target for ${seconds}s (log: $log)"
  if "$build/${target}_fuzzer" "${args[@]}" "$work" "$seeds" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/  /" || true
  else
    failed+=("$target")
    echo "fuzz.sh: $target FAILED; last lines of $log:" >&2
    grep -a -E 'pgorm fuzz:|ERROR:|runtime error|SUMMARY' "$log" | head -n 5 >&2 || true
    ls -1 "$artifacts" | sed "s|^|  $artifacts/|" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s without a failure"
