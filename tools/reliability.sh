#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `./dev reliability`: builds the release preset with bench/reliability and runs the soak and
# fault campaign against a throwaway PostgreSQL server (docs/reliability.md, "Reliability
# figures"). Prints FIGURE <name> <value> <unit> and GOAL <name> met|MISSED|n/a lines, then a
# SUMMARY line.
#
#   tools/reliability.sh                 the full run (about 5 minutes on 2 cores)
#   tools/reliability.sh --quick         a smoke run (under a minute; CI)
#   tools/reliability.sh --only restart,faults   selected scenarios (overshoot, handoff,
#                                        deadline, lost_updates, restart, faults, failover)
#
# PGORM_RELIABILITY_BUILD chooses the build tree (default build/release, shared with
# ./dev bench). Exits non-zero when the campaign itself fails, not when a goal is missed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build="${PGORM_RELIABILITY_BUILD:-build/release}"
cmake --preset release -B "$build" -DPGORM_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target pgorm_reliability
"$build/bench/reliability/pgorm_reliability" "$@"
