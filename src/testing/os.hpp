// SPDX-License-Identifier: MIT
// Private to src/testing/: the file, text and process helpers both server backends (server.cpp,
// native; container_server.cpp, Podman) use.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace pgorm::testing::os {

/// strerror() of `err`, thread-safe.
std::string errno_text(int err);
/// The environment variable `name`, empty when unset.
std::string env(const char* name);
/// The whole file, empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);
/// Writes `content` to `path` through a temporary file and a rename, so readers never see it
/// half written. Throws server_error, naming `who` (e.g. "pgorm::testing::server").
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           std::string_view who);
/// `s` without leading and trailing blanks.
std::string trim(std::string_view s);
/// The lines of `text`, without their newlines.
std::vector<std::string> split_lines(std::string_view text);
/// The last `count` lines of `text`, each indented with "  | ", for an error message.
std::string last_lines(std::string_view text, int count);

/// Parses all of `s` (blanks trimmed) as an integer; false when it is not one.
template <class Int>
bool parse_int(std::string_view s, Int& out) {
  const auto t = trim(s);
  if (t.empty()) return false;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc{} && ptr == t.data() + t.size();
}

/// The fields of /proc/<pid>/stat after the command name (state first); empty when gone.
std::vector<std::string> proc_stat_fields(int pid);
/// True while `pid` runs (a zombie does not count).
bool process_alive(int pid);
/// The start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22); 0 when gone.
std::uint64_t process_start_time(int pid);
/// "pid <pid> <start time>\n" for this process: an owner record that a reused pid cannot match.
std::string owner_record_for_self();

/// A libpq conninfo value: as is when plain, else single-quoted with \ and ' escaped.
std::string conninfo_value(std::string_view value);
/// `value` percent-encoded for a URL (RFC 3986 unreserved characters kept).
std::string percent_encode(std::string_view value);

/// Closes a descriptor at scope exit.
struct fd_guard {
  int fd = -1;
  fd_guard() = default;
  explicit fd_guard(int f) : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&&) = delete;
  fd_guard& operator=(fd_guard&&) = delete;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace pgorm::testing::os
