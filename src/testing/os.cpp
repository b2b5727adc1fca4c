// SPDX-License-Identifier: MIT
#include "os.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <signal.h>

#include "pgorm/testing/server.hpp"

namespace pgorm::testing::os {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string{value};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::string last_lines(std::string_view text, int count) {
  auto lines = split_lines(text);
  const auto first =
      lines.size() > static_cast<std::size_t>(count) ? lines.end() - count : lines.begin();
  std::string out;
  for (auto it = first; it != lines.end(); ++it) out += "  | " + *it + "\n";
  return out;
}

std::vector<std::string> proc_stat_fields(int pid) {
  const auto text = read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return {};
  std::vector<std::string> fields;
  std::istringstream in(text.substr(paren + 1));
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  const auto fields = proc_stat_fields(pid);
  return fields.empty() || (fields[0] != "Z" && fields[0] != "X");
}

std::uint64_t process_start_time(int pid) {
  const auto fields = proc_stat_fields(pid);
  std::uint64_t start = 0;
  if (fields.size() > 19) parse_int(fields[19], start);
  return start;
}

std::string owner_record_for_self() {
  const int pid = ::getpid();
  return fmt::format("pid {} {}\n", pid, process_start_time(pid));
}

std::string conninfo_value(std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \t\n'\\=") == std::string_view::npos;
  if (plain) return std::string(value);
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string percent_encode(std::string_view value) {
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

void write_file_atomically(const fs::path& path, std::string_view content, std::string_view who) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw server_error(fmt::format("{}: cannot write {}", who, tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    throw server_error(fmt::format("{}: cannot rename {} to {}: {}", who, tmp.string(),
                                   path.string(), ec.message()));
  }
}

}  // namespace pgorm::testing::os
