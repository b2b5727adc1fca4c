// SPDX-License-Identifier: MIT
// Private to src/testing/: running programs as the unprivileged user the throwaway engines use
// (server.cpp, replica.cpp, pgbouncer.cpp), and the small network and config helpers they share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace pgorm::testing::os {

/// Waits until `pid` has exited (or is a zombie); false when it still runs after `timeout`.
bool wait_for_exit(int pid, std::chrono::milliseconds timeout);

/// Whom to run initdb, pg_ctl, postgres, pg_basebackup and pgbouncer as. Everything is resolved
/// before fork(), because the child of a (possibly multi-threaded) process may only call
/// async-signal-safe functions; getpwnam and initgroups are not, setgroups/setgid/setuid are.
struct identity {
  bool switch_user = false;
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

/// This process's own user.
identity current_identity();
/// When not root: current_identity(). When root: `requested`, else env PGORM_PG_USER, else
/// "postgres" if it exists, else "nobody". Throws server_error for a missing or root user.
identity resolve_identity(const std::string& requested);

struct command_result {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

/// Runs `args` to completion as `who`, stdin from /dev/null, output captured. With a nonzero
/// `timeout` the program is killed (SIGKILL) when it runs longer: exit_code is then -1 and the
/// output says so. Throws server_error when the program cannot be started at all.
command_result run(const std::vector<std::string>& args, const identity& who,
                   bool search_path = false,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

/// Whether `who` may create files in `dir` and reach it (every ancestor searchable).
bool accessible_by(const identity& who, const std::filesystem::path& dir);
/// chown `path` to `who` (nothing when not switching users). Throws server_error.
void give_to(const identity& who, const std::filesystem::path& path);

/// `value` as a single-quoted postgresql.conf string.
std::string conf_quote(std::string_view value);
/// A TCP port on 127.0.0.1 that is free right now (it may be taken again before it is bound).
std::uint16_t free_tcp_port();

}  // namespace pgorm::testing::os
