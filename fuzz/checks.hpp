// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The properties pgorm's fuzzers check, as plain functions: the libFuzzer targets in fuzz/
/// call them with generated inputs (clang), and tests/unit/fuzz_regressions_test.cpp calls them
/// with the inputs that once failed (g++, no libFuzzer). A check returns normally when the
/// property holds and throws pgorm::fuzz::property_violation when it does not; any other
/// exception escaping a check is a failure too. See docs/reliability.md.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "pgorm/composite.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/detail/sql_redaction.hpp"
#include "pgorm/detail/sql_scanner.hpp"
#include "pgorm/error.hpp"
#include "pgorm/sql_text.hpp"
#include "pgorm/types.hpp"

namespace pgorm::fuzz {

/// A checked property does not hold for the input. Not a pgorm::error, so that no handler for
/// pgorm's own exceptions swallows it.
class property_violation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// An enum stored in a PostgreSQL enum type (accepts user-defined OIDs and text).
enum class fuzz_mood { sad, ok, happy };
/// An enum stored as text.
enum class fuzz_color { red, green };
/// A composite type (pgorm/composite.hpp): a record of an integer and a nullable text.
struct fuzz_pair {
  std::int32_t a;
  std::optional<std::string> b;
};

}  // namespace pgorm::fuzz

template <>
struct pgorm::enum_traits<pgorm::fuzz::fuzz_mood> {
  static constexpr std::string_view type_name = "mood";
  static constexpr std::array values{std::pair{pgorm::fuzz::fuzz_mood::sad, "sad"},
                                     std::pair{pgorm::fuzz::fuzz_mood::ok, "ok"},
                                     std::pair{pgorm::fuzz::fuzz_mood::happy, "happy"}};
};

template <>
struct pgorm::enum_traits<pgorm::fuzz::fuzz_color> {
  static constexpr std::array values{std::pair{pgorm::fuzz::fuzz_color::red, "red"},
                                     std::pair{pgorm::fuzz::fuzz_color::green, "green"}};
};

template <>
struct pgorm::composite_traits<pgorm::fuzz::fuzz_pair> {
  static constexpr std::string_view type_name = "pair";
};

namespace pgorm::fuzz {

namespace detail {

[[noreturn]] inline void violation(std::string what) { throw property_violation(std::move(what)); }

/// Printable form of arbitrary bytes for messages: C escapes for anything not printable ASCII.
inline std::string escape(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

// Every built-in OID pgorm knows, arrays included, plus user-defined ones (enums) and 0.
inline constexpr std::array<pgorm::oid, 73> candidate_oids = {
    0,
    oids::boolean,
    oids::bytea,
    oids::char_,
    oids::name,
    oids::int8,
    oids::int2,
    oids::int4,
    oids::text,
    oids::oid_,
    oids::json,
    oids::xml,
    oids::json_array,
    oids::float4,
    oids::float8,
    oids::unknown,
    oids::boolean_array,
    oids::bytea_array,
    oids::name_array,
    oids::int2_array,
    oids::int4_array,
    oids::text_array,
    oids::bpchar_array,
    oids::varchar_array,
    oids::int8_array,
    oids::float4_array,
    oids::float8_array,
    oids::bpchar,
    oids::varchar,
    oids::date,
    oids::time,
    oids::timestamp,
    oids::timestamp_array,
    oids::date_array,
    oids::time_array,
    oids::timestamptz,
    oids::timestamptz_array,
    oids::interval,
    oids::interval_array,
    oids::numeric_array,
    oids::numeric,
    oids::uuid,
    oids::uuid_array,
    oids::jsonb,
    oids::jsonb_array,
    oids::inet,
    oids::inet_array,
    oids::cidr,
    oids::cidr_array,
    oids::int4range,
    oids::int8range,
    oids::numrange,
    oids::tsrange,
    oids::tstzrange,
    oids::daterange,
    oids::int8range_array,
    oids::tsvector,
    oids::tsvector_array,
    oids::first_user_defined,
    oids::first_user_defined + 1,
    600,
    650,
    790,
    829,
    869,
    1266,
    1560,
    1562,
    2249,
    2278,
    4294967295U,
    1,
    16383,
};

inline std::string_view as_view(const byte_buffer& b) { return {b.data(), b.size()}; }

/// decode(bytes) must succeed or throw conversion_error. A decoded value must encode without
/// error, and encode -> decode -> encode must reach a fixpoint (the same bytes twice).
template <class T>
void decode_one(std::uint8_t oid_pick, std::string_view bytes) {
  using codec = pg_type<T>;
  std::vector<pgorm::oid> accepted;
  for (const pgorm::oid c : candidate_oids) {
    if (codec::accepts(c)) accepted.push_back(c);
  }
  if (accepted.empty()) violation("a codec accepts none of the built-in OIDs");
  const pgorm::oid type = accepted[oid_pick % accepted.size()];
  const auto context = [&] {
    return " (C++ type " + pgorm::detail::cpp_type_name<T>() + ", oid " + std::to_string(type) +
           ", bytes \"" + escape(bytes) + "\")";
  };

  T value{};
  try {
    codec::decode(bytes, type, value);
  } catch (const conversion_error&) {
    return;  // hostile bytes rejected: the contract
  }

  if constexpr (std::is_same_v<T, numeric>) {
    // numeric's invariant (numeric.hpp): str() is canonical, as numeric{text} makes it.
    std::string canonical;
    try {
      canonical = numeric{value.str()}.str();
    } catch (const usage_error&) {
      violation("decoded numeric \"" + value.str() + "\" is not a number" + context());
    }
    if (canonical != value.str()) {
      violation("decoded numeric \"" + value.str() + "\" is not canonical (\"" + canonical + "\")" +
                context());
    }
  }

  const pgorm::oid own = codec::oid != 0 ? codec::oid : type;
  byte_buffer first;
  byte_buffer second;
  T again{};
  try {
    codec::encode(value, first);
    codec::decode(as_view(first), own, again);
    codec::encode(again, second);
  } catch (const conversion_error& e) {
    violation(std::string("a decoded value does not encode and decode again: ") + e.what() +
              context());
  }
  if (as_view(first) != as_view(second)) {
    violation("encode(decode(encode(decode(bytes)))) differs from encode(decode(bytes))" +
              context());
  }
}

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

// The decodable built-in types, and arrays (std::vector) of each that may be an element.
using decodable_types = type_list<
    bool, std::int16_t, std::int32_t, std::int64_t, float, double, std::string,
    std::vector<std::byte>, json, jsonb, uuid, numeric, timestamptz, timestamp, date, time_of_day,
    interval, fuzz_mood, fuzz_color, std::optional<std::int32_t>, std::optional<std::string>,
    std::optional<numeric>, std::vector<bool>, std::vector<std::int16_t>, std::vector<std::int32_t>,
    std::vector<std::int64_t>, std::vector<float>, std::vector<double>, std::vector<std::string>,
    std::vector<std::vector<std::byte>>, std::vector<json>, std::vector<jsonb>, std::vector<uuid>,
    std::vector<numeric>, std::vector<timestamptz>, std::vector<timestamp>, std::vector<date>,
    std::vector<time_of_day>, std::vector<interval>, std::vector<std::optional<std::int32_t>>,
    std::vector<std::optional<std::string>>, std::vector<std::optional<numeric>>,
    std::vector<std::optional<bool>>, std::vector<std::optional<uuid>>, inet, cidr,
    std::vector<std::optional<inet>>, range<std::int32_t>, range<std::int64_t>, range<numeric>,
    range<timestamp>, range<timestamptz>, range<date>, std::vector<range<std::int64_t>>,
    std::vector<std::vector<std::int32_t>>,
    std::vector<std::vector<std::vector<std::optional<std::string>>>>, fuzz_pair, tsvector,
    std::vector<tsvector>>;

template <class... T>
void dispatch_decode(type_list<T...>, std::size_t index, std::uint8_t oid_pick,
                     std::string_view bytes) {
  std::size_t i = 0;
  // Calls decode_one for the index-th type only.
  ((i++ == index ? decode_one<T>(oid_pick, bytes) : void()), ...);
}

}  // namespace detail

/// Number of C++ types the decode check covers; byte 0 of its input picks one (modulo this).
inline constexpr std::size_t decode_type_count = detail::decodable_types::size;

/// Codec decoding of hostile bytes. Input: byte 0 picks the C++ type, byte 1 picks one of the
/// OIDs that type's codec accepts, the rest is the binary value. Property: decode succeeds or
/// throws pgorm::conversion_error (nothing else, no crash, no UB under the sanitizers); a value
/// it produced encodes again, and re-encoding reaches a fixpoint; a numeric comes out
/// canonical.
inline void check_decode(std::span<const std::uint8_t> data) {
  if (data.size() < 2) return;
  const std::string_view bytes(reinterpret_cast<const char*>(data.data()) + 2, data.size() - 2);
  detail::dispatch_decode(detail::decodable_types{}, data[0] % decode_type_count, data[1], bytes);
}

namespace detail {

inline bool is_secret_keyword(std::string_view keyword) {
  return keyword == "password" || keyword == "sslpassword";
}

/// What libpq makes of a connection string the way pgorm::connection hands it over
/// (PQconnectStartParams with expand_dbname = 1: a string with '=' or a postgresql:// prefix
/// is a connection string, anything else a database name). nullopt when libpq rejects it.
inline std::optional<std::vector<std::pair<std::string, std::string>>> libpq_parse(
    const std::string& conninfo) {
  const bool uri = conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
  if (!uri && conninfo.find('=') == std::string::npos) {
    return std::vector<std::pair<std::string, std::string>>{{"dbname", conninfo}};
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace detail

namespace detail {

// The scrubbing rule (docs/reliability.md, "Secrets"), restated here on its own so that the
// checks compare scrub_secrets with it rather than with itself.

/// A secret this long or longer is masked wherever it occurs.
inline constexpr std::size_t masked_anywhere_from = 4;

/// The bytes that delimit a value in a connection string or in a message about one.
inline bool delimits_a_value(char c) {
  return c != '\0' &&
         std::string_view(" \t\n\v\f\r\"'=:@?&,()[]").find(c) != std::string_view::npos;
}

/// Whether the occurrence text[begin, begin + length) of a secret is one scrub_secrets masks:
/// any occurrence of a long secret; one of a short secret only where it stands as a value,
/// between delimiters or the ends of the text.
inline bool masked_at(std::string_view text, std::size_t begin, std::size_t length) {
  if (length >= masked_anywhere_from) return true;
  const std::size_t end = begin + length;
  const bool left = begin == 0 || delimits_a_value(text[begin - 1]);
  const bool right = end == text.size() || delimits_a_value(text[end]);
  return left && right;
}

/// What scrub_secrets must return, computed the slow and obvious way: find every masked
/// occurrence of every secret, merge the ones that overlap, and write "***" for each group.
inline std::string reference_scrub(std::string_view text, const std::vector<std::string>& secrets) {
  // The secrets by first byte, only so that the fuzzer spends its time on the library.
  std::array<std::vector<std::string_view>, 256> by_first_byte;
  for (const std::string& s : secrets) {
    if (!s.empty()) by_first_byte[static_cast<unsigned char>(s[0])].emplace_back(s);
  }
  std::vector<std::pair<std::size_t, std::size_t>> hidden;  // [begin, end) of each occurrence
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (const std::string_view s : by_first_byte[static_cast<unsigned char>(text[i])]) {
      if (text.compare(i, s.size(), s) == 0 && masked_at(text, i, s.size())) {
        hidden.emplace_back(i, i + s.size());
      }
    }
  }
  std::sort(hidden.begin(), hidden.end());
  std::string out;
  std::size_t done = 0;
  for (std::size_t k = 0; k < hidden.size();) {
    std::size_t end = hidden[k].second;
    out.append(text.substr(done, hidden[k].first - done));
    for (++k; k < hidden.size() && hidden[k].first < end; ++k) {
      end = std::max(end, hidden[k].second);
    }
    out.append("***");
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

/// Whether `shown` still shows `secret` where the rule says it must not: anywhere for a long
/// secret, standing as a value for a short one.
inline bool shows(std::string_view shown, std::string_view secret) {
  for (std::size_t at = shown.find(secret); at != std::string_view::npos;
       at = shown.find(secret, at + 1)) {
    if (masked_at(shown, at, secret.size())) return true;
  }
  return false;
}

/// scrub_secrets(text, secrets) equals reference_scrub, and shows none of the secrets. (A
/// secret containing '*' is not checked for showing: the mask "***" itself can form it.)
inline void check_scrub(std::string_view text, const std::vector<std::string>& secrets,
                        const std::string& context) {
  const std::string scrubbed = pgorm::detail::scrub_secrets(std::string(text), secrets);
  const std::string expected = reference_scrub(text, secrets);
  if (scrubbed != expected) {
    violation("scrub_secrets gives \"" + escape(scrubbed.substr(0, 300)) +
              "\" where the rule gives \"" + escape(expected.substr(0, 300)) +
              "\" for the text \"" + escape(text.substr(0, 300)) + "\"" + context);
  }
  for (const std::string& s : secrets) {
    if (!s.empty() && s.find('*') == std::string::npos && shows(scrubbed, s)) {
      violation("the scrubbed text \"" + escape(scrubbed.substr(0, 300)) +
                "\" shows the secret \"" + escape(s) + "\"" + context);
    }
  }
}

}  // namespace detail

/// Connection-string redaction (detail::redact_conninfo, conninfo_secrets, scrub_secrets),
/// checked against libpq's own parser and against the scrubbing rule (docs/reliability.md).
/// Properties: none of the three crashes or throws; scrub_secrets does what the rule says
/// (detail::reference_scrub) on any text, the fuzz input itself and messages built from it,
/// and the result shows none of the secrets (a long one nowhere, a short one not as a value);
/// for every password and sslpassword libpq reads from the string, (1) conninfo_secrets lists
/// that value, so pgorm scrubs it from every message, (2) neither the redacted and scrubbed
/// string that connection errors show nor a scrubbed message that quotes the value or the
/// whole string (as libpq's parse errors do) shows it, and (3) no password or sslpassword that
/// libpq reads from the redacted string contains it.
inline void check_conninfo(std::string_view text) {
  const auto context = [&] {
    return " (conninfo \"" + detail::escape(text.substr(0, 300)) + "\")";
  };
  const std::vector<std::string> secrets_of_text = pgorm::detail::conninfo_secrets(text);
  const std::string redacted_text = pgorm::detail::redact_conninfo(text);
  detail::check_scrub(text, secrets_of_text, context());
  detail::check_scrub(redacted_text, secrets_of_text, context());

  // libpq sees the text up to the first NUL (it takes a C string).
  const std::string c_string(text.substr(0, std::min(text.find('\0'), text.size())));
  const auto parsed = detail::libpq_parse(c_string);
  if (!parsed) return;
  const auto secrets = pgorm::detail::conninfo_secrets(c_string);
  const auto redacted = pgorm::detail::redact_conninfo(c_string);
  const auto shown = pgorm::detail::scrub_secrets(redacted, secrets);
  for (const auto& [keyword, value] : *parsed) {
    if (!detail::is_secret_keyword(keyword) || value.empty()) continue;
    if (std::find(secrets.begin(), secrets.end(), value) == secrets.end()) {
      detail::violation("conninfo_secrets misses the " + keyword + " \"" + detail::escape(value) +
                        "\" that libpq reads" + context());
    }
    // "***" is the mask itself: a secret made of it can reappear through masking.
    if (value.find('*') != std::string::npos) continue;
    if (detail::shows(shown, value)) {
      detail::violation("the redacted conninfo \"" + detail::escape(shown) + "\" shows the " +
                        keyword + " \"" + detail::escape(value) + "\"" + context());
    }
    // libpq quotes a value, or the whole string, in its parse errors.
    const std::string message = "pgorm: connecting to " + redacted + " failed: invalid value \"" +
                                value + "\" in \"" + c_string + "\"";
    detail::check_scrub(message, secrets, context());
    if (detail::shows(pgorm::detail::scrub_secrets(message, secrets), value)) {
      detail::violation("a scrubbed message shows the " + keyword + " \"" + detail::escape(value) +
                        "\"" + context());
    }
  }
  // Redaction may change how libpq splits the rest (`sslpassword='a b'sslmode=x` becomes
  // `sslpassword=***sslmode=x`), but what libpq then reads as a secret holds no real one.
  if (const auto reparsed = detail::libpq_parse(redacted)) {
    for (const auto& [keyword, value] : *reparsed) {
      if (!detail::is_secret_keyword(keyword)) continue;
      for (const auto& [original_keyword, original] : *parsed) {
        if (detail::is_secret_keyword(original_keyword) && !original.empty() &&
            original.find('*') == std::string::npos && value.find(original) != std::string::npos) {
          detail::violation("libpq reads the " + keyword + " \"" + detail::escape(value) +
                            "\" from the redacted conninfo \"" + detail::escape(redacted) + "\"" +
                            context());
        }
      }
    }
  }
}

/// Identifier quoting (detail::quote_identifier). Properties: an invalid name (empty, longer
/// than 63 bytes, a NUL byte) throws pgorm::usage_error and nothing else; a valid one gives
/// back, when read by PostgreSQL's rules (PG docs 4.1.1: a quoted identifier with "" for ",
/// or an unquoted one folded to lower case), exactly the name; quoted_identifier_length agrees.
inline void check_identifier(std::string_view name) {
  const auto context = [&] { return " (name \"" + detail::escape(name) + "\")"; };
  const char* problem = pgorm::detail::identifier_problem(name);
  std::string quoted;
  try {
    quoted = pgorm::detail::quote_identifier(name);
  } catch (const usage_error& e) {
    if (problem == nullptr) detail::violation("a valid identifier was refused" + context());
    if (std::string_view(e.what()).find('\0') != std::string_view::npos) {
      detail::violation("the usage_error message contains a NUL byte" + context());
    }
    return;
  }
  if (problem != nullptr) detail::violation("an invalid identifier was accepted" + context());
  if (quoted.size() != pgorm::detail::quoted_identifier_length(name)) {
    detail::violation("quoted_identifier_length differs from quote_identifier's size" + context());
  }
  std::string back;
  if (!quoted.empty() && quoted.front() == '"') {
    if (quoted.size() < 3 || quoted.back() != '"') {
      detail::violation("malformed quoted identifier " + detail::escape(quoted) + context());
    }
    const std::string_view inner = std::string_view(quoted).substr(1, quoted.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '"') {
        if (i + 1 >= inner.size() || inner[i + 1] != '"') {
          detail::violation("a lone double quote ends the identifier early in " +
                            detail::escape(quoted) + context());
        }
        ++i;
      }
      back += inner[i];
    }
  } else {
    // Unquoted: PostgreSQL folds ASCII upper case to lower case, and a reserved keyword
    // is not an identifier at all.
    if (pgorm::detail::is_reserved_keyword(quoted)) {
      detail::violation("a reserved keyword is left unquoted" + context());
    }
    for (std::size_t i = 0; i < quoted.size(); ++i) {
      const char c = quoted[i];
      const bool start_ok = (c >= 'a' && c <= 'z') || c == '_';
      const bool cont_ok = start_ok || (c >= '0' && c <= '9') || c == '$';
      if (i == 0 ? !start_ok : !cont_ok) {
        detail::violation("unquoted identifier " + detail::escape(quoted) +
                          " would not read back as itself" + context());
      }
    }
    back = quoted;
  }
  if (back != name) {
    detail::violation("the quoted form " + detail::escape(quoted) + " reads back as \"" +
                      detail::escape(back) + "\"" + context());
  }
}

/// The `$n` placeholder scanner (sql_literal::scan). Properties: it never crashes or hangs
/// (a libFuzzer timeout would report that), unsafe_sql_text agrees with it, and the number it
/// reports is one written in the text: some `$` followed by exactly that decimal number
/// (leading zeros allowed), so it never wraps around on a long run of digits.
inline void check_sql_scan(std::string_view sql) {
  const std::size_t max = sql_literal::scan(sql);
  if (unsafe_sql(std::string(sql)).max_placeholder() != max) {
    detail::violation("unsafe_sql_text and sql_literal::scan disagree");
  }
  if (max == 0) return;
  if (max == sql_literal::too_large) {
    // Some $n in the text must be above the limit.
    for (std::size_t i = 0; i + 1 < sql.size(); ++i) {
      if (sql[i] != '$') continue;
      std::size_t j = i + 1;
      while (j < sql.size() && sql[j] == '0') ++j;
      const std::size_t begin = j;
      while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
      const std::string_view digits = sql.substr(begin, j - begin);
      if (digits.size() > 5 || (digits.size() == 5 && digits > "65535")) return;
    }
    detail::violation("scan reports a number above 65535, which the text does not contain");
  }
  const std::string wanted = std::to_string(max);
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] == '0') ++j;
    const std::size_t begin = j;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    if (j > i + 1 && sql.substr(begin, j - begin) == wanted) return;
  }
  detail::violation("scan reports $" + wanted + ", which the text does not contain (sql \"" +
                    detail::escape(sql.substr(0, 200)) + "\")");
}

// Secrets in SQL text (pgorm/detail/sql_redaction.hpp): the quick check never misses a text
// the full masking changes; masking twice changes nothing more; no literal that holds a
// secret is left; an error position moves forward monotonically and stays in the text.
inline void check_sql_redaction(std::string_view text) {
  namespace sql = pgorm::detail::sql;
  const auto context = [&] { return " (sql \"" + detail::escape(text.substr(0, 200)) + "\")"; };
  const std::string out = sql::redact_secrets(text);
  if (!sql::may_hold_secret(text) && out != text) {
    detail::violation("may_hold_secret is false for a text redact_secrets changes" + context());
  }
  if (sql::redact_secrets(out) != out) detail::violation("masking twice changes more" + context());
  {
    sql::scanner scanner(out);
    sql::token t;
    while (scanner.next(t)) {
      if (t.kind == sql::token_kind::string && t.text(out) != sql::masked_literal &&
          sql::literal_holds_secret(t.text(out))) {
        detail::violation("a literal holding a secret is left" + context());
      }
    }
  }
  const std::size_t chars = sql::character_count(text);
  const std::size_t out_chars = sql::character_count(out);
  const std::size_t step = chars / 64 + 1;
  int last = 0;
  for (std::size_t p = 1; p <= chars; p += step) {
    int moved = static_cast<int>(p);
    sql::redact_secrets(text, &moved);
    if (moved < 1 || static_cast<std::size_t>(moved) > out_chars || moved < last) {
      detail::violation("position " + std::to_string(p) + " moved to " + std::to_string(moved) +
                        " of " + std::to_string(out_chars) + context());
    }
    last = moved;
  }
}

/// pgorm's one SQL scanner (pgorm/detail/sql_scanner.hpp) and its statement splitter, which
/// the migration runner, sql_literal, the observer and COPY share. Properties: the tokens cover
/// the text exactly, in order, each non-empty, and only the last may be unterminated; each
/// token has the shape its kind promises (a terminated string ends in a quote, a dollar string
/// ends with its own tag, a line comment holds no line break, ...); the statements and the
/// ';' between them cover the text exactly, each ';' being a semicolon token; scanning a
/// statement alone gives the same tokens as scanning it in context (no state leaks across a
/// statement boundary); sql_literal::scan is the highest $n token.
inline void check_sql_split(std::string_view text) {
  namespace sql = pgorm::detail::sql;
  const auto context = [&] { return " (sql \"" + detail::escape(text.substr(0, 200)) + "\")"; };
  const auto fail = [&](const std::string& what) { detail::violation(what + context()); };

  std::vector<sql::token> tokens;
  {
    sql::scanner scanner(text);
    sql::token t;
    std::size_t at = 0;
    while (scanner.next(t)) {
      if (t.begin != at || t.end <= t.begin || t.end > text.size()) {
        fail("tokens do not tile the text at offset " + std::to_string(at));
      }
      if (!tokens.empty() && !tokens.back().terminated) fail("an unterminated token is not last");
      at = t.end;
      tokens.push_back(t);
    }
    if (at != text.size()) fail("the tokens stop at " + std::to_string(at));
  }

  std::size_t max_parameter = 0;
  for (const sql::token& t : tokens) {
    const std::string_view s = t.text(text);
    const std::string where = " at offset " + std::to_string(t.begin);
    switch (t.kind) {
      case sql::token_kind::space:
        for (const char c : s) {
          if (!sql::is_space(c)) fail("a space token holds a non-space" + where);
        }
        break;
      case sql::token_kind::line_comment:
        if (s.substr(0, 2) != "--" || s.find_first_of("\r\n") != std::string_view::npos) {
          fail("a bad line comment" + where);
        }
        break;
      case sql::token_kind::block_comment:
        if (s.substr(0, 2) != "/*" ||
            (t.terminated && (s.size() < 4 || s.substr(s.size() - 2) != "*/"))) {
          fail("a bad block comment" + where);
        }
        break;
      case sql::token_kind::string:
        if (s.find('\'') == std::string_view::npos || s.find('\'') > 2 ||
            (t.terminated && (s.size() < 2 || s.back() != '\''))) {
          fail("a bad string" + where);
        }
        break;
      case sql::token_kind::quoted_identifier:
        if (s.find('"') == std::string_view::npos || s.find('"') > 2 ||
            (t.terminated && (s.size() < 2 || s.back() != '"'))) {
          fail("a bad quoted identifier" + where);
        }
        break;
      case sql::token_kind::dollar_string: {
        const std::size_t tag_end = s.find('$', 1);
        if (s.front() != '$' || tag_end == std::string_view::npos)
          fail("a bad dollar quote" + where);
        const std::string_view tag = s.substr(0, tag_end + 1);
        if (t.terminated && (s.size() < 2 * tag.size() || s.substr(s.size() - tag.size()) != tag)) {
          fail("a dollar quote that does not end with its tag" + where);
        }
        if (!t.terminated && s.find(tag, tag.size()) != std::string_view::npos) {
          fail("an unterminated dollar quote holds its closing tag" + where);
        }
        break;
      }
      case sql::token_kind::parameter:
        if (s.size() < 2 || s.front() != '$') fail("a bad parameter" + where);
        for (const char c : s.substr(1)) {
          if (!sql::is_digit(c)) fail("a parameter with a non-digit" + where);
        }
        max_parameter = std::max(max_parameter, sql::parameter_number(s, 65535));
        break;
      case sql::token_kind::word:
        if (!sql::is_ident_start(s.front())) fail("a word with a bad first character" + where);
        for (const char c : s) {
          if (!sql::is_ident_char(c)) fail("a word with a bad character" + where);
        }
        break;
      case sql::token_kind::number:
        if (!sql::is_digit(s.front()) && s.front() != '.') fail("a bad number" + where);
        break;
      case sql::token_kind::semicolon:
      case sql::token_kind::open_paren:
      case sql::token_kind::close_paren:
      case sql::token_kind::other:
        if (s.size() != 1) fail("a punctuation token longer than one byte" + where);
        if ((t.kind == sql::token_kind::semicolon) != (s[0] == ';')) fail("a misread ';'" + where);
        break;
    }
  }
  if (sql_literal::scan(text) != max_parameter) fail("sql_literal::scan is not the highest $n");

  // Statements: contiguous, separated by semicolon tokens, each scanning alike on its own.
  const auto token_starting_at = [&](std::size_t offset) -> const sql::token* {
    const auto it =
        std::lower_bound(tokens.begin(), tokens.end(), offset,
                         [](const sql::token& t, std::size_t o) { return t.begin < o; });
    return it != tokens.end() && it->begin == offset ? &*it : nullptr;
  };
  sql::statement_splitter splitter(text);
  sql::statement st;
  std::size_t at = 0;
  bool ended = false;
  while (splitter.next(st)) {
    if (ended) fail("a statement after the one that reached the end");
    if (st.begin != at || st.end < st.begin || st.end > text.size()) {
      fail("statements do not tile the text at offset " + std::to_string(at));
    }
    if (st.end == text.size()) {
      ended = true;
    } else {
      const sql::token* semi = token_starting_at(st.end);
      if (semi == nullptr || semi->kind != sql::token_kind::semicolon) {
        fail("a statement ends at offset " + std::to_string(st.end) + ", not at a ';' token");
      }
    }
    at = st.end + 1;
    const std::string_view piece = st.text(text);
    if (st.begin < text.size() && token_starting_at(st.begin) == nullptr) {
      fail("a statement starts inside a token at offset " + std::to_string(st.begin));
    }
    sql::scanner alone(piece);
    sql::token t;
    bool content = false;
    std::size_t first = st.end;
    while (alone.next(t)) {
      const sql::token* same = token_starting_at(st.begin + t.begin);
      if (same == nullptr || same->kind != t.kind || same->end != st.begin + t.end ||
          same->terminated != t.terminated) {
        fail("a statement scans differently alone, at offset " +
             std::to_string(st.begin + t.begin));
      }
      if (!t.is_blank() && !content) {
        content = true;
        first = st.begin + t.begin;
      }
    }
    if (content != st.has_content || (content && first != st.first_token)) {
      fail("a statement's has_content / first_token is wrong at offset " +
           std::to_string(st.begin));
    }
  }
  if (!ended) fail("the statements do not reach the end of the text");
  check_sql_redaction(text);
}

}  // namespace pgorm::fuzz
