#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `./dev bench`: builds the release preset with the benchmark and runs it against a throwaway
# PostgreSQL server with default durability. See docs/performance.md.
#
#   tools/bench.sh              the full run (~6 min): pinned to one CPU, then unpinned
#   tools/bench.sh --quick      a few seconds, small tables (CI smoke test)
#   tools/bench.sh --callgrind  client instructions per point select and per scanned row
#   tools/bench.sh --compile    compile time and peak memory of bench/compile's generated TU
#   tools/bench.sh --no-peers   do not install libpqxx and SOCI (they are then "not measured")
#   other arguments go to pgorm_bench (e.g. --only point_select,scan --rounds 9 --cpu 0)
#
# Every run compares pgorm with its C++ peers: unless --no-peers, the bench installs Debian's
# libpqxx-dev and libsoci-dev when they are missing (as root, or through passwordless sudo).
# They are the bench's own dependencies, not pgorm's: ./dev deps does not install them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build="build/release"
mode=run
peers=1
args=()
for a in "$@"; do
  case "$a" in
    --no-peers) peers=0 ;;
    --compile) mode=compile ;;
    --callgrind) mode=callgrind; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

peer_packages=(libpqxx-dev libsoci-dev)

# Installs the peers' Debian packages when some are missing; fails with the command to run when
# it cannot (not root, no passwordless sudo), rather than comparing with fewer peers silently.
install_peers() {
  local missing=()
  for p in "${peer_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "bench: the peers ${missing[*]} are not installed; run" >&2
      echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
      echo "or pass --no-peers to measure pgorm against hand-written libpq only" >&2
      exit 1
    fi
  fi
  echo "bench: installing the peers ${missing[*]}"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${missing[@]}" >/dev/null; then
    "${sudo[@]}" apt-get update -q >/dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

configure_and_build() {
  if [ "$peers" -eq 1 ] && [ "$mode" != compile ]; then install_peers; fi
  cmake --preset release -DPGORM_BUILD_BENCH=ON >/dev/null
  bench_dir="$build/bench"
  cmake --build "$build" --target "$@"
}

case "$mode" in
  compile)
    configure_and_build pgorm  # the library first, so only the TU itself is timed
    obj_dir="$bench_dir/CMakeFiles/pgorm_compile_bench.dir"
    rm -rf "$obj_dir" "$bench_dir/compile/time.txt"
    cmake --build "$build" --target pgorm_compile_bench
    if [ ! -f "$bench_dir/compile/time.txt" ]; then
      echo "bench: /usr/bin/time not found (Debian package 'time'); no measurement" >&2
      exit 1
    fi
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$bench_dir/compile/time.txt")"
    user="$(sed -n 's/.*User time (seconds): //p' "$bench_dir/compile/time.txt")"
    rss_kb="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$bench_dir/compile/time.txt")"
    tu="$bench_dir/compile/schema_queries.cpp"
    echo "compile: $(g++ --version | head -1), release flags"
    echo "compile: 20 tables x 10 columns, 50 queries: $(wc -l <"$tu") generated lines"
    echo "COMPILE wall $wall user ${user}s peak_rss $((rss_kb / 1024)) MiB"
    awk -v u="$user" -v r="$rss_kb" 'BEGIN {
      printf "TARGET compile_time %.1f s <= 10: %s\n", u, (u <= 10 ? "met" : "MISSED");
      printf "TARGET compile_rss %.0f MiB <= 1536: %s\n", r / 1024, (r <= 1536 * 1024 ? "met" : "MISSED");
    }'
    ;;
  callgrind)
    if ! command -v valgrind >/dev/null; then
      echo "bench: --callgrind needs valgrind (Debian package 'valgrind')" >&2
      exit 1
    fi
    configure_and_build pgorm_bench
    "$bench_dir/pgorm_bench" "${args[@]}"
    ;;
  run)
    configure_and_build pgorm_bench
    "$bench_dir/pgorm_bench" ${args[@]+"${args[@]}"}
    ;;
esac
