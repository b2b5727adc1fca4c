#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and runs a program that uses pgorm in each supported way (docs/install.md):
#
#   install        configure + build + install pgorm (Release, static, no tests/examples, with
#                  the CLI) to a prefix that differs from CMAKE_INSTALL_PREFIX (the package
#                  must be relocatable); checks the installed files and the programs' --version,
#                  then runs the installed pgorm-test-server
#   find_package   tests/consumer/find_package against the install (CMAKE_PREFIX_PATH)
#   build_tree     the same project against pgorm's build tree (pgorm_DIR=<build>)
#   pkg_config     g++ $(pkg-config --cflags --libs pgorm-testing), and tests/consumer/pkg_config
#                  (pkg_check_modules)
#   add_subdirectory  tests/consumer/add_subdirectory on the source tree, building `all`: no
#                  tests, examples or warning flags may leak into the parent
#   fetch_content  tests/consumer/fetch_content from a local git snapshot of the source tree
#                  (the same checks; builds only the consumer and what it links)
#   test_package   test_package/ (Conan's check; links pgorm::pgorm only, needs no server)
#                  against the static install
#   shared         pgorm with BUILD_SHARED_LIBS=ON, installed without the CLI, GoogleTest and
#                  CLI11 made unfindable: checks the sonames, that only PGORM_API symbols are
#                  exported (no fmt, no internals), that the installed pgorm-test-server finds
#                  its libraries; then tests/consumer/find_package and test_package/ against it,
#                  which must load libpgorm.so (readelf NEEDED) and run
#   library_only   only the library (PGORM_BUILD_TESTING, _CLI, _TESTS, _EXAMPLES off; GoogleTest
#                  and CLI11 unfindable): no pgorm::testing, no programs; test_package/ against it
#
# Every consumer program but test_package starts a throwaway server (pgorm::testing) and must
# print "pgorm consumer <kind>: 41 + 1 = 42 ..."; test_package prints "pgorm <version>: ...".
# Exits non-zero when any step fails.
#
# usage: tests/consumer/run.sh [SOURCE_DIR [SCRATCH_DIR]]
#   SOURCE_DIR   pgorm's source tree (default: the one holding this script)
#   SCRATCH_DIR  where builds, the install prefix and logs go (default: a temporary directory,
#                deleted afterwards). Reusing one makes reruns incremental.
# env: PGORM_CONSUMERS="find_package pkg_config ..." runs only those (install always runs when
#      find_package, build_tree, pkg_config or test_package is asked for); CMAKE_GENERATOR
#      (default Ninja when installed); CXX (default g++ for the direct pkg-config build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "${1:-$here/../..}" && pwd)"
if [ $# -ge 2 ]; then
  mkdir -p "$2"
  scratch="$(cd "$2" && pwd)"
  remove_scratch=false
else
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/pgorm-consumer.XXXXXX")"
  remove_scratch=true
fi
consumers="${PGORM_CONSUMERS:-find_package build_tree pkg_config test_package shared library_only add_subdirectory fetch_content}"
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null; then
  export CMAKE_GENERATOR=Ninja
fi
cxx="${CXX:-g++}"

build="$scratch/pgorm-build"
prefix="$scratch/prefix"
shared_build="$scratch/pgorm-build-shared"
shared_prefix="$scratch/prefix-shared"
libonly_build="$scratch/pgorm-build-library-only"
libonly_prefix="$scratch/prefix-library-only"
version="$(sed -n 's/^#define PGORM_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
  "$src/include/pgorm/version.hpp" | paste -sd.)"
soversion="${version%.*}" # 0.x: major.minor (CMakeLists.txt, PGORM_SOVERSION)
if [ "${version%%.*}" != 0 ]; then soversion="${version%%.*}"; fi
logs="$scratch/logs"
mkdir -p "$logs"

# Consumers must not pick up a developer's database or an outer build's settings.
unset PGORM_TEST_DATABASE_URL DATABASE_URL CXXFLAGS LDFLAGS CPPFLAGS PKG_CONFIG_PATH

test_server_state=""
cleanup() {
  if [ -n "$test_server_state" ] && [ -f "$test_server_state/cluster" ]; then
    "$prefix/bin/pgorm-test-server" stop --state-dir "$test_server_state" >/dev/null 2>&1 || true
  fi
  if $remove_scratch; then rm -rf "$scratch"; fi
}
trap cleanup EXIT

start=$(date +%s)
failed=()
passed=()

# step NAME COMMAND...: runs COMMAND with its output in $logs/NAME.log; on failure shows the
# log's tail and returns 1.
step() {
  local name="$1"
  shift
  echo "--- $name ($(($(date +%s) - start))s)"
  if "$@" >"$logs/$name.log" 2>&1; then
    return 0
  fi
  echo "FAILED: $name; last lines of $logs/$name.log:" >&2
  tail -n 40 "$logs/$name.log" >&2
  return 1
}

# expect_output KIND PROGRAM: runs a consumer program and checks its line.
expect_output() {
  local kind="$1" program="$2" out status=0
  out="$("$program")" || status=$?
  echo "$out"
  if [ $status -ne 0 ]; then
    echo "$program exited with status $status"
    return 1
  fi
  grep -q "^pgorm consumer $kind: 41 + 1 = 42 on PostgreSQL [0-9]" <<<"$out" || {
    echo "$program did not print 'pgorm consumer $kind: 41 + 1 = 42 ...'"
    return 1
  }
  grep -q "^pgorm consumer $kind: library $version, caught unique_violation on consumer_t_pkey$" \
    <<<"$out" || {
    echo "$program did not print 'pgorm consumer $kind: library $version, caught unique_violation ...'"
    return 1
  }
}

# record NAME COMMAND...: a consumer's whole run; its result goes into the summary.
record() {
  local name="$1"
  shift
  if "$@"; then
    passed+=("$name")
    grep -h "^pgorm consumer" "$logs/$name".*log 2>/dev/null | sed 's/^/    /' || true
  else
    failed+=("$name")
  fi
}

wants() { [[ " $consumers " == *" $1 "* ]]; }

# ---- install ----------------------------------------------------------------------------------
do_install() {
  step install.configure cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DPGORM_BUILD_TESTS=OFF -DPGORM_BUILD_EXAMPLES=OFF -DPGORM_INSTALL=ON \
    -DCMAKE_INSTALL_PREFIX=/nonexistent/pgorm-configure-time-prefix || return 1
  step install.build cmake --build "$build" || return 1
  rm -rf "$prefix"
  step install.install cmake --install "$build" --prefix "$prefix" || return 1
  step install.files check_installed_files
}

check_installed_files() {
  local missing=0 f
  for f in lib/libpgorm.a lib/libpgorm_testing.a include/pgorm/pgorm.hpp \
    include/pgorm/testing/server.hpp include/pgorm/version.hpp lib/cmake/pgorm/pgormConfig.cmake \
    lib/cmake/pgorm/pgormConfigVersion.cmake lib/cmake/pgorm/pgorm-targets.cmake \
    lib/pkgconfig/pgorm.pc lib/pkgconfig/pgorm-testing.pc bin/pgorm-test-server bin/pgorm \
    share/doc/pgorm/LICENSE share/doc/pgorm/CHANGELOG.md; do
    if [ -e "$prefix/$f" ]; then echo "ok $f"; else echo "MISSING $f"; missing=1; fi
  done
  # Every public header, and nothing else, is installed.
  if ! diff <(cd "$src/include" && find pgorm -name '*.hpp' | sort) \
    <(cd "$prefix/include" && find pgorm -type f | sort); then
    echo "the installed headers differ from include/pgorm (< source, > installed)"
    missing=1
  fi
  if grep -rq "configure-time-prefix" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
    echo "the package files hard-code CMAKE_INSTALL_PREFIX; they must be relocatable"
    missing=1
  fi
  check_versions "$prefix" pgorm pgorm-test-server || missing=1
  return $missing
}

# check_versions PREFIX PROGRAM...: each installed program answers --version with the version
# of include/pgorm/version.hpp.
check_versions() {
  local at="$1" program out
  shift
  for program in "$@"; do
    out="$("$at/bin/$program" --version)" || {
      echo "$program --version failed"
      return 1
    }
    if [ "$out" != "$program $version" ]; then
      echo "$program --version printed '$out', not '$program $version'"
      return 1
    fi
    echo "ok $program --version: $out"
  done
}

# The installed pgorm-test-server (found through the exported pgorm::test-server): start a
# detached server, query it, stop it.
check_test_server() {
  local exe state="$scratch/test-server-state"
  exe="$(cat "$scratch/find_package/test-server-path.txt")"
  case "$exe" in "$prefix"/*) ;; *)
    echo "pgorm::test-server is $exe, not in $prefix"
    return 1
    ;;
  esac
  rm -rf "$state"
  test_server_state="$state"
  "$exe" start --state-dir "$state" || return 1
  [ -s "$state/conninfo" ] || {
    echo "no $state/conninfo"
    return 1
  }
  if command -v psql >/dev/null; then
    [ "$(psql "$(cat "$state/conninfo")" -Atc 'select 41 + 1')" = 42 ] || return 1
    echo "psql through $(cat "$state/conninfo"): 42"
  fi
  "$exe" stop --state-dir "$state" || return 1
  test_server_state=""
  echo "pgorm consumer pgorm-test-server: start, query, stop"
}

# ---- consumers --------------------------------------------------------------------------------
# cmake_consumer NAME SOURCE_SUBDIR BUILD_TARGET EXTRA_CMAKE_ARGS...
cmake_consumer() {
  local name="$1" dir="$2" target="$3"
  shift 3
  step "$name.configure" cmake -S "$here/$dir" -B "$scratch/$name" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" || return 1
  step "$name.build" cmake --build "$scratch/$name" --target "$target" || return 1
}

# cmake_consumer_dir NAME SOURCE_DIR EXTRA_CMAKE_ARGS...: the same for a project anywhere.
cmake_consumer_dir() {
  local name="$1" dir="$2"
  shift 2
  step "$name.configure" cmake -S "$dir" -B "$scratch/$name" "$@" || return 1
  step "$name.build" cmake --build "$scratch/$name" || return 1
}

# GoogleTest and CLI11 cannot be found: a build that needs either fails to configure.
no_test_deps=(-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON)

# ---- shared -------------------------------------------------------------------------------------
consumer_shared() {
  step shared.configure cmake -S "$src" -B "$shared_build" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON -DPGORM_BUILD_TESTS=OFF -DPGORM_BUILD_EXAMPLES=OFF \
    -DPGORM_BUILD_CLI=OFF -DPGORM_INSTALL=ON "${no_test_deps[@]}" \
    -DCMAKE_INSTALL_PREFIX=/nonexistent/pgorm-configure-time-prefix || return 1
  step shared.build cmake --build "$shared_build" || return 1
  rm -rf "$shared_prefix"
  step shared.install cmake --install "$shared_build" --prefix "$shared_prefix" || return 1
  step shared.files check_shared_files || return 1
  step shared.exports check_shared_exports || return 1
  cmake_consumer shared find_package all -DCMAKE_PREFIX_PATH="$shared_prefix" \
    -DPGORM_CONSUMER_KIND=shared || return 1
  step shared.needed check_needed "$scratch/shared/consumer" "libpgorm.so.$soversion" \
    "libpgorm_testing.so.$soversion" || return 1
  step shared.run expect_output shared "$scratch/shared/consumer" || return 1
  test_package_against shared_test_package "$shared_prefix" || return 1
  step shared_test_package.needed check_needed "$scratch/shared_test_package/test_package" \
    "libpgorm.so.$soversion"
}

check_shared_files() {
  local lib="$shared_prefix/lib" missing=0 f soname
  for f in "libpgorm.so.$version" "libpgorm_testing.so.$version"; do
    if [ -f "$lib/$f" ]; then echo "ok lib/$f"; else echo "MISSING lib/$f"; missing=1; fi
  done
  for f in libpgorm libpgorm_testing; do
    # The soname carries major.minor while the version is 0.x; libX.so is the link-time name.
    soname="$(readelf -d "$lib/$f.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    if [ "$soname" != "$f.so.$soversion" ]; then
      echo "$f.so.$version has soname '$soname', not $f.so.$soversion"
      missing=1
    fi
    [ -L "$lib/$f.so.$soversion" ] && [ -L "$lib/$f.so" ] || {
      echo "no symlinks $f.so.$soversion and $f.so"
      missing=1
    }
    if [ -e "$lib/$f.a" ]; then echo "a shared build installed $f.a"; missing=1; fi
  done
  if [ -e "$shared_prefix/bin/pgorm" ]; then echo "bin/pgorm installed with PGORM_BUILD_CLI=OFF"; missing=1; fi
  # The installed program finds libpgorm_testing.so and libpgorm.so through its RUNPATH
  # ($ORIGIN/../lib), wherever the prefix is.
  check_versions "$shared_prefix" pgorm-test-server || missing=1
  return $missing
}

# -fvisibility=hidden: the dynamic symbol table holds what PGORM_API marks, not fmt's template
# instances or pgorm's internals.
check_shared_exports() {
  local lib="$shared_prefix/lib/libpgorm.so.$version" symbols count status=0
  symbols="$(nm -DC --defined-only "$lib")" || return 1
  count="$(grep -c ' [TDBRVW] ' <<<"$symbols")"
  echo "libpgorm.so exports $count symbols"
  grep -q ' T pgorm::library_version()' <<<"$symbols" || {
    echo "pgorm::library_version() is not exported"
    status=1
  }
  grep -q ' T pgorm::connection::connection(' <<<"$symbols" || {
    echo "pgorm::connection's constructor is not exported"
    status=1
  }
  if grep ' fmt::' <<<"$symbols" | head -5 | grep .; then
    echo "libpgorm.so exports fmt's symbols: -fvisibility=hidden is not in effect"
    status=1
  fi
  return $status
}

check_needed() {  # PROGRAM LIBRARY...: PROGRAM loads each LIBRARY (its NEEDED entries)
  local program="$1" needed lib
  shift
  needed="$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
  echo "$program needs: $(echo $needed)"
  for lib in "$@"; do
    grep -qx "$lib" <<<"$needed" || {
      echo "$program does not load $lib"
      return 1
    }
  done
}

# ---- library only -------------------------------------------------------------------------------
consumer_library_only() {
  step library_only.configure cmake -S "$src" -B "$libonly_build" -DCMAKE_BUILD_TYPE=Release \
    -DPGORM_BUILD_TESTING=OFF -DPGORM_BUILD_CLI=OFF -DPGORM_BUILD_TESTS=OFF \
    -DPGORM_BUILD_EXAMPLES=OFF -DPGORM_INSTALL=ON "${no_test_deps[@]}" || return 1
  step library_only.build cmake --build "$libonly_build" || return 1
  rm -rf "$libonly_prefix"
  step library_only.install cmake --install "$libonly_build" --prefix "$libonly_prefix" || return 1
  step library_only.files check_library_only_files || return 1
  test_package_against library_only_test_package "$libonly_prefix"
}

check_library_only_files() {
  local status=0 f
  for f in lib/libpgorm.a include/pgorm/pgorm.hpp lib/cmake/pgorm/pgormConfig.cmake \
    lib/pkgconfig/pgorm.pc; do
    if [ -e "$libonly_prefix/$f" ]; then echo "ok $f"; else echo "MISSING $f"; status=1; fi
  done
  for f in lib/libpgorm_testing.a include/pgorm/testing lib/pkgconfig/pgorm-testing.pc bin; do
    if [ -e "$libonly_prefix/$f" ]; then echo "UNEXPECTED $f"; status=1; else echo "ok no $f"; fi
  done
  if grep -q "pgorm::testing" "$libonly_prefix"/lib/cmake/pgorm/pgorm-targets*.cmake; then
    echo "pgorm-targets.cmake defines pgorm::testing"
    status=1
  fi
  return $status
}

consumer_find_package() {
  cmake_consumer find_package find_package all -DCMAKE_PREFIX_PATH="$prefix" || return 1
  step find_package.run expect_output find_package "$scratch/find_package/consumer" || return 1
  step find_package.test_server check_test_server
}

# test_package/ (Conan's check, without Conan) against the install in PREFIX; its program
# must run and print the version.
test_package_against() {  # NAME PREFIX
  local name="$1" at="$2"
  cmake_consumer_dir "$name" "$src/test_package" -DCMAKE_PREFIX_PATH="$at" || return 1
  step "$name.run" expect_test_package "$scratch/$name/test_package"
}

expect_test_package() {
  local out status=0
  out="$("$1")" || status=$?
  echo "$out"
  [ $status -eq 0 ] || {
    echo "$1 exited with status $status"
    return 1
  }
  grep -q "^pgorm $version: SELECT .* no server: connection_error$" <<<"$out" || {
    echo "$1 did not print 'pgorm $version: SELECT ... no server: connection_error'"
    return 1
  }
}

consumer_test_package() {
  test_package_against test_package "$prefix"
}

consumer_build_tree() {
  cmake_consumer build_tree find_package all -Dpgorm_DIR="$build" \
    -DPGORM_CONSUMER_KIND=build_tree || return 1
  step build_tree.run expect_output build_tree "$scratch/build_tree/consumer"
}

consumer_pkg_config() {
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  step pkg_config.gxx build_with_pkg_config || return 1
  step pkg_config.gxx.run expect_output "pkg-config" "$scratch/pkg_config_gxx/consumer" || return 1
  cmake_consumer pkg_config pkg_config all || return 1
  step pkg_config.run expect_output pkg_check_modules "$scratch/pkg_config/consumer"
  unset PKG_CONFIG_PATH
}

build_with_pkg_config() {
  mkdir -p "$scratch/pkg_config_gxx"
  pkg-config --print-errors --exists 'pgorm >= 0.1' pgorm-testing || return 1
  echo "pkg-config --cflags --libs pgorm-testing: $(pkg-config --cflags --libs pgorm-testing)"
  # shellcheck disable=SC2046  # word splitting of the flags is the point
  "$cxx" -std=c++20 -DPGORM_CONSUMER_KIND='"pkg-config"' "$here/consumer.cpp" \
    -o "$scratch/pkg_config_gxx/consumer" $(pkg-config --cflags --libs pgorm-testing)
}

# No warning flag, -Werror or sanitizer of pgorm's may reach the consumer's own compile command.
check_consumer_flags() {  # BUILD_DIR
  local command
  command="$(grep -B1 '"file": ".*tests/consumer/consumer.cpp"' "$1/compile_commands.json" |
    grep '"command"')" || true
  if [ -z "$command" ]; then
    echo "no compile command for consumer.cpp in $1/compile_commands.json"
    return 1
  fi
  echo "$command"
  if grep -Eq -- ' -W| -fsanitize' <<<"$command"; then
    echo "pgorm's warning or sanitizer flags leaked into the consumer's compile command"
    return 1
  fi
}

consumer_add_subdirectory() {
  cmake_consumer add_subdirectory add_subdirectory all -DPGORM_SOURCE_DIR="$src" || return 1
  step add_subdirectory.flags check_consumer_flags "$scratch/add_subdirectory" || return 1
  step add_subdirectory.run expect_output add_subdirectory "$scratch/add_subdirectory/consumer"
}

# A git repository holding the work tree as it is (committed or not, untracked but not ignored
# files included), committed with a fixed date so that an unchanged tree gives the same commit
# and a rerun does not fetch and rebuild again.
make_git_snapshot() {
  local repo="$scratch/pgorm-git"
  rm -rf "$repo" && mkdir -p "$repo" || return 1
  # A SCRATCH_DIR inside the source tree (and not git-ignored) is not part of the snapshot.
  local skip="//none"
  case "$scratch/" in "$src/"*) skip="${scratch#"$src"/}/" ;; esac
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do
        if [ -f "$f" ] && [[ "$f" != "$skip"* ]]; then printf '%s\0' "$f"; fi
      done |
      tar --null -T - -cf -) | tar -xf - -C "$repo" || return 1
  else
    (cd "$src" && tar --exclude=./build --exclude=./.git --exclude="./${skip%/}" -cf - .) |
      tar -xf - -C "$repo" ||
      return 1
  fi
  git -C "$repo" init -q -b main && git -C "$repo" add -A || return 1
  GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
    git -C "$repo" -c user.name=pgorm-consumer -c user.email=consumer@localhost \
    -c commit.gpgsign=false commit -q -m "pgorm work tree snapshot" || return 1
  git -C "$repo" rev-parse HEAD >"$scratch/pgorm-git.commit"
}

consumer_fetch_content() {
  step fetch_content.snapshot make_git_snapshot || return 1
  local commit
  commit="$(cat "$scratch/pgorm-git.commit")" || return 1
  cmake_consumer fetch_content fetch_content consumer \
    -DPGORM_GIT_REPOSITORY="file://$scratch/pgorm-git" -DPGORM_GIT_TAG="$commit" || return 1
  step fetch_content.flags check_consumer_flags "$scratch/fetch_content" || return 1
  step fetch_content.run expect_output FetchContent "$scratch/fetch_content/consumer"
}

# ---- run ----------------------------------------------------------------------------------------
echo "pgorm consumers: source $src, scratch $scratch, consumers: $consumers"
installed=false
if wants find_package || wants build_tree || wants pkg_config || wants test_package; then
  if do_install; then installed=true; passed+=(install); else failed+=(install); fi
fi
for consumer in $consumers; do
  case "$consumer" in
    find_package | build_tree | pkg_config | test_package)
      if ! $installed; then
        failed+=("$consumer (not run: install failed)")
        continue
      fi
      ;;
    add_subdirectory | fetch_content | shared | library_only) ;;
    *)
      echo "run.sh: unknown consumer '$consumer'" >&2
      exit 2
      ;;
  esac
  record "$consumer" "consumer_$consumer"
done

echo
echo "=== pgorm consumers ($(($(date +%s) - start))s): passed: ${passed[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== FAILED: ${failed[*]} (logs: $logs)" >&2
  if $remove_scratch; then
    echo "(scratch directory removed; pass a SCRATCH_DIR to keep the logs)" >&2
  fi
  exit 1
fi
