// SPDX-License-Identifier: MIT
// Redaction of connection strings. Both libpq spellings are handled (PostgreSQL docs 34.1.1,
// "Connection Strings"): key = value pairs with optional single quotes and backslash escapes,
// and postgresql:// URIs with user-info, percent-encoding and ?key=value parameters.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

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

// ---- scrubbing ---------------------------------------------------------------------------
// The rule (docs/reliability.md, "Secrets"): a secret of at least min_anywhere bytes is masked
// wherever it occurs. A shorter one is masked only where it stands as a value: each of its
// neighbours is the start or end of the text, ASCII white space, or one of the bytes that
// delimit a value in a connection string or in libpq's and pgorm's messages about one
// (" ' = : @ ? & , ( ) [ ]). So a password "a" is masked in `password=a`, `"a"` and
// `u:a@host`, but not in "table" or "dbname=app". The mask '*' is no delimiter: a short secret
// next to a mask is not taken for a value, and so never becomes one through masking. Every
// byte of a masked occurrence is hidden, also where occurrences overlap: overlapping ones
// become one "***" together.

constexpr std::size_t min_anywhere = 4;

bool delimits_a_value(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '"':
    case '\'':
    case '=':
    case ':':
    case '@':
    case '?':
    case '&':
    case ',':
    case '(':
    case ')':
    case '[':
    case ']':
      return true;
    default:
      return false;
  }
}

bool masked_here(std::string_view text, std::size_t begin, std::size_t length) {
  if (length >= min_anywhere) return true;
  const std::size_t end = begin + length;
  return (begin == 0 || delimits_a_value(text[begin - 1])) &&
         (end == text.size() || delimits_a_value(text[end]));
}

// An Aho-Corasick automaton over the secrets: one pass over a text reports every occurrence of
// every secret, in O(text + secrets + occurrences). Occurrences ending at one position have
// different lengths, so there are at most (number of distinct secret lengths) of them per byte.
class secret_matcher {
 public:
  explicit secret_matcher(const std::vector<std::string>& secrets) {
    std::vector<std::string_view> sorted;
    sorted.reserve(secrets.size());
    for (const auto& s : secrets) {
      if (!s.empty()) sorted.emplace_back(s);
    }
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    build_trie(sorted);
    link_failures();
  }

  // Calls f(begin, length) for each occurrence of a secret in `text`, in order of its end, and
  // the longest first among those ending at the same byte.
  template <class F>
  void for_each_match(std::string_view text, F&& f) const {
    std::uint32_t state = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      std::uint32_t next = 0;
      while ((next = child(state, c)) == none && state != 0) state = nodes_[state].fail;
      state = next == none ? 0 : next;
      for (std::uint32_t n = nodes_[state].ends_secret ? state : nodes_[state].output; n != none;
           n = nodes_[n].output) {
        f(i + 1 - nodes_[n].depth, std::size_t{nodes_[n].depth});
      }
    }
  }

 private:
  static constexpr std::uint32_t none = 0xFFFFFFFF;

  struct node {
    std::uint32_t first_child = 0;  // children: child_bytes_/children_[first_child, +count)
    std::uint32_t child_count = 0;
    std::uint32_t fail = 0;       // the longest proper suffix that is a trie node
    std::uint32_t output = none;  // the nearest node on the fail chain that ends a secret
    std::uint32_t depth = 0;
    bool ends_secret = false;
  };

  std::uint32_t child(std::uint32_t n, unsigned char c) const {
    if (n == 0) return root_[c];
    const auto begin = child_bytes_.begin() + nodes_[n].first_child;
    const auto end = begin + nodes_[n].child_count;
    const auto it = std::lower_bound(begin, end, c);
    return it != end && *it == c ? children_[static_cast<std::size_t>(it - child_bytes_.begin())]
                                 : none;
  }

  // Sorted input: each secret shares with the previous one exactly its path up to their common
  // prefix, so the trie is built without lookups and every node's children arrive in byte
  // order; they are then laid out contiguously per node.
  void build_trie(const std::vector<std::string_view>& sorted) {
    nodes_.emplace_back();
    std::vector<std::uint32_t> parent{none};
    std::vector<unsigned char> byte{0};
    std::vector<std::uint32_t> path{0};  // path[d]: node at depth d of the previous secret
    std::string_view previous;
    for (const std::string_view s : sorted) {
      std::size_t common = 0;
      while (common < previous.size() && common < s.size() && previous[common] == s[common]) {
        ++common;
      }
      path.resize(common + 1);
      for (std::size_t d = common; d < s.size(); ++d) {
        const auto n = static_cast<std::uint32_t>(nodes_.size());
        nodes_.emplace_back();
        nodes_.back().depth = static_cast<std::uint32_t>(d + 1);
        parent.push_back(path.back());
        byte.push_back(static_cast<unsigned char>(s[d]));
        path.push_back(n);
      }
      nodes_[path.back()].ends_secret = true;
      previous = s;
    }
    std::vector<std::uint32_t> count(nodes_.size(), 0);
    for (std::size_t n = 1; n < nodes_.size(); ++n) ++count[parent[n]];
    std::uint32_t offset = 0;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      nodes_[n].first_child = offset;
      offset += count[n];
    }
    child_bytes_.resize(offset);
    children_.resize(offset);
    std::fill(count.begin(), count.end(), 0);
    root_.fill(none);
    for (std::size_t n = 1; n < nodes_.size(); ++n) {
      const std::uint32_t p = parent[n];
      const std::uint32_t slot = nodes_[p].first_child + count[p]++;
      child_bytes_[slot] = byte[n];
      children_[slot] = static_cast<std::uint32_t>(n);
      if (p == 0) root_[byte[n]] = static_cast<std::uint32_t>(n);
    }
    for (std::size_t n = 0; n < nodes_.size(); ++n) nodes_[n].child_count = count[n];
  }

  // Breadth first, so a node's fail target (shallower) is linked before the node.
  void link_failures() {
    std::vector<std::uint32_t> queue;
    queue.reserve(nodes_.size());
    queue.push_back(0);
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::uint32_t n = queue[head];
      for (std::uint32_t k = 0; k < nodes_[n].child_count; ++k) {
        const std::uint32_t slot = nodes_[n].first_child + k;
        const std::uint32_t c = children_[slot];
        if (n != 0) {
          std::uint32_t f = nodes_[n].fail;
          std::uint32_t next = 0;
          while ((next = child(f, child_bytes_[slot])) == none && f != 0) f = nodes_[f].fail;
          nodes_[c].fail = next == none ? 0 : next;
          const node& target = nodes_[nodes_[c].fail];
          nodes_[c].output = nodes_[c].fail == 0  ? none
                             : target.ends_secret ? nodes_[c].fail
                                                  : target.output;
        }
        queue.push_back(c);
      }
    }
  }

  std::vector<node> nodes_;
  std::vector<unsigned char> child_bytes_;
  std::vector<std::uint32_t> children_;
  std::array<std::uint32_t, 256> root_{};
};

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
  // Each once, longest first (scrub_secrets does not depend on the order).
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets) {
  if (std::all_of(secrets.begin(), secrets.end(), [](const std::string& s) { return s.empty(); })) {
    return text;
  }
  const secret_matcher matcher(secrets);
  // reach[i]: the end of the longest masked occurrence that starts at byte i (0: none).
  std::vector<std::size_t> reach;
  matcher.for_each_match(text, [&](std::size_t begin, std::size_t length) {
    if (!masked_here(text, begin, length)) return;
    if (reach.empty()) reach.resize(text.size(), 0);
    reach[begin] = std::max(reach[begin], begin + length);
  });
  if (reach.empty()) return text;
  // One pass over the input builds the output: masked occurrences that overlap merge, and
  // each group becomes one mask. Masks are only written, never scanned again.
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t copied = 0;  // text[copied, i) is still to be copied
  std::size_t i = 0;
  while (i < text.size()) {
    if (reach[i] == 0) {
      ++i;
      continue;
    }
    out.append(text, copied, i - copied);
    out.append(mask);
    std::size_t end = reach[i];
    for (++i; i < end; ++i) end = std::max(end, reach[i]);
    copied = end;
  }
  out.append(text, copied, text.size() - copied);
  return out;
}

}  // namespace pgorm::detail

// ---- transaction-mode poolers (connect_options::pooler) --------------------------------------

namespace pgorm {

namespace {

// Skips white space and SQL comments (`--` to the end of the line, nested `/* */`).
std::string_view skip_blanks_and_comments(std::string_view sql) noexcept {
  for (;;) {
    const auto start = sql.find_first_not_of(" \t\r\n\f\v");
    if (start == std::string_view::npos) return {};
    sql.remove_prefix(start);
    if (sql.starts_with("--")) {
      const auto eol = sql.find('\n');
      if (eol == std::string_view::npos) return {};
      sql.remove_prefix(eol + 1);
    } else if (sql.starts_with("/*")) {
      int depth = 0;
      std::size_t i = 0;
      for (; i + 1 < sql.size(); ++i) {
        if (sql[i] == '/' && sql[i + 1] == '*') {
          ++depth;
          ++i;
        } else if (sql[i] == '*' && sql[i + 1] == '/') {
          --depth;
          ++i;
          if (depth == 0) break;
        }
      }
      if (depth != 0) return {};  // unterminated: not a statement we recognize
      sql.remove_prefix(i + 1);
    } else {
      return sql;
    }
  }
}

}  // namespace

bool is_listen_statement(std::string_view sql) noexcept {
  sql = skip_blanks_and_comments(sql);
  constexpr std::string_view keyword = "listen";
  if (sql.size() < keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(sql[i])) != keyword[i]) return false;
  }
  if (sql.size() == keyword.size()) return true;
  const auto next = static_cast<unsigned char>(sql[keyword.size()]);
  // LISTEN ends at a blank, a comment or a quoted channel name; "listener" is another word.
  return std::isalnum(next) == 0 && next != '_' && next != '$';
}

namespace detail {

void throw_pooler_unsupported(std::string_view what, std::string_view why) {
  std::string message = "pgorm: ";
  message += what;
  message +=
      " is not possible through a transaction-mode pooler (connect_options::pooler is "
      "pooler_mode::transaction or transaction_prepared): ";
  message += why;
  throw pooler_unsupported(message);
}

void apply_pooler_mode(connect_options& options) {
  if (options.pooler == pooler_mode::none) return;
  if (!options.settings.empty()) {
    throw_pooler_unsupported(
        "connect_options::settings (" + options.settings.front().first + ")",
        "session settings would apply to whichever server session runs each transaction; set "
        "them on the role or database (ALTER ROLE ... SET), or with SET LOCAL in a transaction");
  }
  // Named prepared statements live in one server session; the pooler may run the next
  // statement in another one. Unnamed statements are parsed with each execution. A pooler
  // that keeps them (pooler_mode::transaction_prepared) re-prepares them where needed.
  if (options.pooler == pooler_mode::transaction) options.prepare = false;
  // A startup-packet statement_timeout is session state (and PgBouncer refuses the startup
  // parameter "options"): enforce it per statement with pgorm's own deadline instead, which
  // sends a cancel request (PgBouncer forwards it) and throws query_canceled, as the server's
  // statement_timeout would.
  if (options.statement_timeout.count() > 0) {
    if (options.query_timeout.count() == 0 || options.statement_timeout < options.query_timeout) {
      options.query_timeout = options.statement_timeout;
    }
    options.statement_timeout = std::chrono::milliseconds(0);
  }
}

}  // namespace detail

}  // namespace pgorm

// ---- multi-host strings: one attempt per host ----------------------------------------------

namespace pgorm::detail {

namespace {

std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto comma = list.find(',', start);
    parts.emplace_back(list.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

// A conninfo value, single-quoted with \ and ' escaped (libpq 34.1.1).
std::string quoted_value(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::vector<std::string> split_hosts(std::string_view conninfo) {
  const std::string text(conninfo);
  char* err = nullptr;
  // Freed on every way out: copying the values below may throw (std::bad_alloc).
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> parsed(
      PQconninfoParse(text.c_str(), &err), &PQconninfoFree);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return {};  // the connection attempt reports the malformed string
  }
  std::vector<std::pair<std::string, std::string>> given;
  std::string hosts;
  std::string hostaddrs;
  std::string ports;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "host") {
      hosts = o->val;
    } else if (key == "hostaddr") {
      hostaddrs = o->val;
    } else if (key == "port") {
      ports = o->val;
    } else {
      given.emplace_back(o->keyword, o->val);
    }
  }
  const auto host_list = split_commas(hosts);
  const auto addr_list = split_commas(hostaddrs);
  const std::size_t count =
      std::max(hosts.empty() ? 0 : host_list.size(), hostaddrs.empty() ? 0 : addr_list.size());
  if (count < 2) return {};
  const auto port_list = split_commas(ports);
  // libpq's own rules: the lists must have equal lengths, a single port applies to every host.
  if ((!hosts.empty() && host_list.size() != count) ||
      (!hostaddrs.empty() && addr_list.size() != count) ||
      (!ports.empty() && port_list.size() != 1 && port_list.size() != count)) {
    return {};  // libpq reports the mismatch
  }
  std::vector<std::string> attempts;
  for (std::size_t i = 0; i < count; ++i) {
    std::string one;
    for (const auto& [key, value] : given) one += key + "=" + quoted_value(value) + " ";
    if (!hosts.empty()) one += "host=" + quoted_value(host_list[i]) + " ";
    if (!hostaddrs.empty()) one += "hostaddr=" + quoted_value(addr_list[i]) + " ";
    if (!ports.empty()) {
      one += "port=" + quoted_value(port_list.size() == 1 ? port_list[0] : port_list[i]);
    }
    attempts.push_back(std::move(one));
  }
  return attempts;
}

}  // namespace pgorm::detail
