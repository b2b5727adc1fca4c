// SPDX-License-Identifier: MIT
// Redaction of connection strings. Both libpq spellings are handled (PostgreSQL docs 34.1.1,
// "Connection Strings"): key = value pairs with optional single quotes and backslash escapes,
// and postgresql:// URIs with user-info, percent-encoding and ?key=value parameters.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/connection.hpp"

namespace pgorm::detail {
namespace {

constexpr std::string_view mask = "***";

bool is_secret_key(std::string_view key) { return key == "password" || key == "sslpassword"; }

bool is_uri(std::string_view s) {
  return s.starts_with("postgresql://") || s.starts_with("postgres://");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// One key = value pair of the key/value spelling, with the byte range of its value.
struct kv_pair {
  std::string key;
  std::string value;  // unescaped
  std::size_t value_begin;
  std::size_t value_end;
};

// Parses as libpq's conninfo_parse does; on malformed input it stops where libpq would fail,
// treating the rest as one value so a secret in it is still masked.
std::vector<kv_pair> parse_key_values(std::string_view s) {
  std::vector<kv_pair> pairs;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
  };
  while (true) {
    skip_space();
    if (i >= s.size()) break;
    kv_pair p;
    while (i < s.size() && s[i] != '=' && std::isspace(static_cast<unsigned char>(s[i])) == 0) {
      p.key.push_back(s[i++]);
    }
    skip_space();
    if (i < s.size() && s[i] == '=') ++i;
    skip_space();
    p.value_begin = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') {
        if (s[i] == '\\') ++i;  // an escape; a trailing backslash escapes nothing (as libpq)
        if (i < s.size()) p.value.push_back(s[i++]);
      }
      if (i < s.size()) ++i;  // closing quote
    } else {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) == 0) {
        if (s[i] == '\\') ++i;
        if (i < s.size()) p.value.push_back(s[i++]);
      }
    }
    p.value_end = i;
    pairs.push_back(std::move(p));
  }
  return pairs;
}

// The parts of a URI that can hold a secret: the password in user-info, and query parameters.
struct uri_parts {
  std::size_t password_begin = std::string_view::npos;  // range of the raw password, if any
  std::size_t password_end = 0;
  std::size_t libpq_password_end = 0;  // where libpq ends the password: the first '@'
  std::vector<kv_pair> query;          // values raw (percent-encoded), ranges into the URI
};

uri_parts parse_uri(std::string_view s) {
  uri_parts parts;
  const std::size_t scheme_end = s.find("://") + 3;
  // libpq (conninfo_uri_parse_options) takes the user-info up to the first '@' before any '/'
  // ('?' does not end it). A raw '@' in a password is invalid, but people write it: the range
  // masked runs to the last '@' before the '/', so both readings are covered (found by fuzzing).
  const std::size_t slash = std::min(s.find('/', scheme_end), s.size());
  const std::size_t first_at = s.find('@', scheme_end);
  if (first_at != std::string_view::npos && first_at < slash) {
    const std::size_t last_at = s.rfind('@', slash - 1);
    const std::size_t colon = s.find(':', scheme_end);
    if (colon != std::string_view::npos && colon < first_at) {
      parts.password_begin = colon + 1;
      parts.password_end = last_at;
      parts.libpq_password_end = first_at;
    }
  }
  // The query string starts at the first '?' after the user-info (which may itself hold one),
  // outside a bracketed IPv6 host, whose inside libpq takes as it is; a '[' opens one only where
  // a host starts, as in libpq (both found by fuzzing).
  std::size_t q = std::string_view::npos;
  const std::size_t hosts =
      first_at != std::string_view::npos && first_at < slash ? first_at + 1 : scheme_end;
  for (std::size_t i = hosts; i < s.size(); ++i) {
    if (s[i] == '[' && (i == hosts || s[i - 1] == ',')) {
      // An unterminated '[' is taken literally, so that a later ?password= is still masked.
      const std::size_t close = s.find(']', i + 1);
      if (close != std::string_view::npos) i = close;
    } else if (s[i] == '?') {
      q = i;
      break;
    }
  }
  if (q != std::string_view::npos) {
    std::size_t i = q + 1;
    while (i <= s.size()) {
      std::size_t amp = s.find('&', i);
      if (amp == std::string_view::npos) amp = s.size();
      const std::string_view item = s.substr(i, amp - i);
      const std::size_t eq = item.find('=');
      kv_pair p;
      p.key = percent_decode(item.substr(0, eq));
      if (eq != std::string_view::npos) {
        p.value = std::string(item.substr(eq + 1));
        p.value_begin = i + eq + 1;
        p.value_end = amp;
      } else {
        p.value_begin = p.value_end = amp;
      }
      parts.query.push_back(std::move(p));
      i = amp + 1;
    }
  }
  return parts;
}

void add_secret(std::vector<std::string>& out, std::string_view raw) {
  if (raw.empty()) return;
  out.emplace_back(raw);
  std::string decoded = percent_decode(raw);
  if (decoded != raw && !decoded.empty()) out.push_back(std::move(decoded));
}

}  // namespace

std::string redact_conninfo(std::string_view conninfo) {
  std::string out(conninfo);
  // Replace ranges from the back so earlier offsets stay valid.
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  if (is_uri(conninfo)) {
    const uri_parts parts = parse_uri(conninfo);
    if (parts.password_begin != std::string_view::npos) {
      // Drop the ':password' entirely rather than masking, so the URI still reads naturally.
      ranges.emplace_back(parts.password_begin - 1, parts.password_end);
    }
    for (const auto& p : parts.query) {
      if (is_secret_key(p.key)) ranges.emplace_back(p.value_begin, p.value_end);
    }
  } else {
    for (const auto& p : parse_key_values(conninfo)) {
      if (is_secret_key(p.key)) ranges.emplace_back(p.value_begin, p.value_end);
    }
  }
  std::sort(ranges.begin(), ranges.end(), [](auto a, auto b) { return a.first > b.first; });
  for (const auto& [begin, end] : ranges) {
    const bool user_info = is_uri(conninfo) && end < conninfo.size() && conninfo[end] == '@';
    // key='quoted'next: keep the next pair apart from the mask.
    const bool glued = !is_uri(conninfo) && end < conninfo.size() &&
                       std::isspace(static_cast<unsigned char>(conninfo[end])) == 0;
    out.replace(begin, end - begin,
                user_info ? std::string{} : std::string(mask) + (glued ? " " : ""));
  }
  return out;
}

std::vector<std::string> conninfo_secrets(std::string_view conninfo) {
  std::vector<std::string> secrets;
  if (is_uri(conninfo)) {
    const uri_parts parts = parse_uri(conninfo);
    if (parts.password_begin != std::string_view::npos) {
      add_secret(secrets,
                 conninfo.substr(parts.password_begin, parts.password_end - parts.password_begin));
      add_secret(secrets, conninfo.substr(parts.password_begin,
                                          parts.libpq_password_end - parts.password_begin));
    }
    for (const auto& p : parts.query) {
      if (is_secret_key(p.key)) add_secret(secrets, p.value);
    }
  } else {
    for (const auto& p : parse_key_values(conninfo)) {
      if (!is_secret_key(p.key)) continue;
      add_secret(secrets, p.value);
      // Also the raw text between the value's bounds (quotes and escapes included).
      add_secret(secrets, conninfo.substr(p.value_begin, p.value_end - p.value_begin));
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), mask);
      pos += mask.size();
    }
  }
  return text;
}

}  // namespace pgorm::detail
