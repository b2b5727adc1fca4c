// SPDX-License-Identifier: MIT
// The non-template parts of the codecs: byte_buffer growth, uuid and numeric text and binary
// forms, array headers, type names and the error paths (kept out of line so that the inline
// fast paths stay small).
#include "pgorm/types.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "pgorm/error.hpp"
#include "pgorm/params.hpp"

namespace pgorm {

// ---- byte_buffer -------------------------------------------------------------------------------

void byte_buffer::grow(std::size_t extra) {
  std::size_t capacity = capacity_ * 2;
  if (capacity - size_ < extra) capacity = size_ + extra;
  char* bytes = new char[capacity];
  std::memcpy(bytes, data_, size_);
  release();
  data_ = bytes;
  capacity_ = capacity;
}

// ---- uuid --------------------------------------------------------------------------------------

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<uuid> uuid::try_parse(std::string_view text) noexcept {
  // As uuid_in (src/backend/utils/adt/uuid.c): optional braces, 32 hex digits, and a hyphen
  // allowed after any group of four digits.
  if (!text.empty() && text.front() == '{') {
    if (text.size() < 2 || text.back() != '}') return std::nullopt;
    text = text.substr(1, text.size() - 2);
  }
  uuid out;
  std::size_t digits = 0;
  bool hyphen_ok = false;
  for (const char c : text) {
    if (c == '-') {
      if (!hyphen_ok) return std::nullopt;
      hyphen_ok = false;
      continue;
    }
    const int v = hex_value(c);
    if (v < 0 || digits == 32) return std::nullopt;
    auto& byte = out.bytes[digits / 2];
    byte = static_cast<std::uint8_t>(digits % 2 == 0 ? v << 4 : byte | v);
    ++digits;
    hyphen_ok = digits % 4 == 0 && digits < 32;
  }
  if (digits != 32 || text.back() == '-') return std::nullopt;
  return out;
}

uuid uuid::parse(std::string_view text) {
  if (auto parsed = try_parse(text)) return *parsed;
  throw usage_error(
      fmt::format("pgorm: \"{}\" is not a UUID; write 32 hex digits, e.g. "
                  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                  text.substr(0, 64)));
}

std::string uuid::to_string() const {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i != 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 0xF]);
  }
  return out;
}

// ---- numeric: text -----------------------------------------------------------------------------

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Largest decimal exponent accepted; numeric itself allows 131072 digits before the point and
// 16383 after it (src/backend/utils/adt/numeric.c), so anything beyond this is out of range.
constexpr long max_exponent = 200000;

// The canonical text (see numeric's class comment), or nullopt when `in` is not a number.
std::optional<std::string> canonical_numeric(std::string_view in) {
  while (!in.empty() && is_space(in.front())) in.remove_prefix(1);
  while (!in.empty() && is_space(in.back())) in.remove_suffix(1);
  if (iequals(in, "nan")) return std::string("NaN");
  bool negative = false;
  if (!in.empty() && (in.front() == '+' || in.front() == '-')) {
    negative = in.front() == '-';
    in.remove_prefix(1);
  }
  if (iequals(in, "infinity") || iequals(in, "inf")) {
    return std::string(negative ? "-Infinity" : "Infinity");
  }
  std::string digits;  // integer then fraction digits, no point
  long point = 0;      // digits before the decimal point
  std::size_t i = 0;
  while (i < in.size() && is_digit(in[i])) digits.push_back(in[i++]);
  point = static_cast<long>(digits.size());
  long fraction_digits = 0;
  if (i < in.size() && in[i] == '.') {
    ++i;
    while (i < in.size() && is_digit(in[i])) {
      digits.push_back(in[i++]);
      ++fraction_digits;
    }
  }
  if (digits.empty()) return std::nullopt;
  long exponent = 0;
  if (i < in.size() && (in[i] == 'e' || in[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < in.size() && (in[i] == '+' || in[i] == '-')) exp_negative = in[i++] == '-';
    if (i == in.size() || !is_digit(in[i])) return std::nullopt;
    while (i < in.size() && is_digit(in[i])) {
      exponent = exponent * 10 + (in[i++] - '0');
      if (exponent > max_exponent) return std::nullopt;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != in.size()) return std::nullopt;

  const long scale = std::max(0L, fraction_digits - exponent);
  point += exponent;
  // Integer part: digits[0, point), zero-padded on the right when point > size.
  std::string out;
  if (negative) out.push_back('-');
  const long size = static_cast<long>(digits.size());
  bool nonzero = false;
  for (long k = 0; k < point; ++k) {
    const char c = k < size ? digits[static_cast<std::size_t>(k)] : '0';
    if (c == '0' && !nonzero) continue;  // leading zero
    nonzero = true;
    out.push_back(c);
  }
  if (!nonzero) out.push_back('0');
  if (scale > 0) {
    out.push_back('.');
    for (long k = point; k < point + scale; ++k) {
      const char c = k >= 0 && k < size ? digits[static_cast<std::size_t>(k)] : '0';
      nonzero = nonzero || c != '0';
      out.push_back(c);
    }
  }
  if (negative && !nonzero) out.erase(0, 1);  // "-0.00" is "0.00"
  return out;
}

}  // namespace

numeric::numeric(std::string_view text) {
  auto canonical = canonical_numeric(text);
  if (!canonical) {
    throw usage_error(
        fmt::format("pgorm: \"{}\" is not a number; numeric takes decimal text "
                    "such as -12.50, 1.5e3, NaN or Infinity",
                    text.substr(0, 64)));
  }
  text_ = std::move(*canonical);
}

int numeric::scale() const noexcept {
  const std::size_t point = text_.find('.');
  return point == std::string::npos ? 0 : static_cast<int>(text_.size() - point - 1);
}

double numeric::to_double() const noexcept {
  if (is_nan()) return std::numeric_limits<double>::quiet_NaN();
  if (text_ == "Infinity") return std::numeric_limits<double>::infinity();
  if (text_ == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value = 0;
  const auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves value untouched on overflow/underflow: decide by the magnitude.
    const bool tiny = text_.find_first_not_of("-0.") == std::string::npos ||
                      (text_.find('.') != std::string::npos &&
                       text_.find_first_of("123456789") > text_.find('.'));
    const double magnitude = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    return is_negative() ? -magnitude : magnitude;
  }
  return value;
}

// ---- numeric: binary (numeric_send / numeric_recv) ---------------------------------------------

namespace detail {

namespace {

constexpr std::uint16_t numeric_pos = 0x0000;
constexpr std::uint16_t numeric_neg = 0x4000;
constexpr std::uint16_t numeric_nan = 0xC000;
constexpr std::uint16_t numeric_pinf = 0xD000;
constexpr std::uint16_t numeric_ninf = 0xF000;
constexpr int dec_digits = 4;  // decimal digits per base-10000 digit (NBASE, DEC_DIGITS)

void append_numeric_header(byte_buffer& out, std::size_t ndigits, long weight, std::uint16_t sign,
                           long dscale) {
  out.append_be(static_cast<std::int16_t>(ndigits));
  out.append_be(static_cast<std::int16_t>(weight));
  out.append_be(sign);
  out.append_be(static_cast<std::uint16_t>(dscale));
}

}  // namespace

void numeric_text_to_binary(std::string_view text, byte_buffer& out) {
  if (text == "NaN") return append_numeric_header(out, 0, 0, numeric_nan, 0);
  if (text == "Infinity") return append_numeric_header(out, 0, 0, numeric_pinf, 0);
  if (text == "-Infinity") return append_numeric_header(out, 0, 0, numeric_ninf, 0);
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const std::size_t point = text.find('.');
  const std::string_view int_part = text.substr(0, point);
  const std::string_view frac_part =
      point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  if (frac_part.size() > 0x3FFF) {  // NUMERIC_DSCALE_MAX
    throw_encode_error("pgorm: numeric has more than 16383 digits after the decimal point");
  }

  // Base-10000 digits: the integer part padded on the left, the fraction on the right, to
  // whole groups of four decimal digits.
  const std::size_t int_groups = (int_part.size() + dec_digits - 1) / dec_digits;
  const std::size_t frac_groups = (frac_part.size() + dec_digits - 1) / dec_digits;
  const std::size_t lead = int_groups * dec_digits - int_part.size();
  const auto digit_at = [&](std::size_t k) -> int {  // k-th decimal digit of the padded text
    if (k < lead) return 0;
    k -= lead;
    if (k < int_part.size()) return int_part[k] - '0';
    k -= int_part.size();
    return k < frac_part.size() ? frac_part[k] - '0' : 0;
  };
  const std::size_t total = int_groups + frac_groups;
  std::size_t first = 0;
  std::size_t last = total;  // [first, last): the groups left after stripping zero groups
  const auto group = [&](std::size_t g) {
    int v = 0;
    for (std::size_t k = g * dec_digits; k != (g + 1) * dec_digits; ++k) v = v * 10 + digit_at(k);
    return v;
  };
  while (first < last && group(first) == 0) ++first;
  while (last > first && group(last - 1) == 0) --last;
  const std::size_t ndigits = last - first;
  if (ndigits > 0x7FFF) throw_encode_error("pgorm: numeric has too many digits");
  const long weight =
      ndigits == 0 ? 0 : static_cast<long>(int_groups) - 1 - static_cast<long>(first);
  append_numeric_header(out, ndigits, weight, negative && ndigits != 0 ? numeric_neg : numeric_pos,
                        static_cast<long>(frac_part.size()));
  char* at = out.grow_by(ndigits * 2);
  for (std::size_t g = first; g != last; ++g, at += 2) {
    store_be(at, static_cast<std::int16_t>(group(g)));
  }
}

void numeric_binary_to_text(std::string_view bytes, std::string& out) {
  if (bytes.size() < 8) throw_bad_length("numeric", 8, bytes.size());
  const auto ndigits = load_be<std::int16_t>(bytes.data());
  const auto weight = load_be<std::int16_t>(bytes.data() + 2);
  const auto sign = load_be<std::uint16_t>(bytes.data() + 4);
  const auto dscale = load_be<std::uint16_t>(bytes.data() + 6);
  if (sign == numeric_nan) return void(out.assign("NaN"));
  if (sign == numeric_pinf) return void(out.assign("Infinity"));
  if (sign == numeric_ninf) return void(out.assign("-Infinity"));
  if ((sign != numeric_pos && sign != numeric_neg) || ndigits < 0 || dscale > 0x3FFF) {
    throw_decode_error("invalid numeric binary header");
  }
  const auto count = static_cast<std::size_t>(ndigits);
  if (bytes.size() != 8 + 2 * count) throw_bad_length("numeric", 8 + 2 * count, bytes.size());
  const auto digit = [&](long g) -> int {  // base-10000 digit g, 0 outside [0, ndigits)
    if (g < 0 || g >= ndigits) return 0;
    const int v = load_be<std::int16_t>(bytes.data() + 8 + 2 * g);
    if (v < 0 || v > 9999) throw_decode_error("invalid numeric digit");
    return v;
  };

  out.clear();
  if (sign == numeric_neg) out.push_back('-');
  if (weight < 0) {
    out.push_back('0');
  } else {
    for (long g = 0; g <= weight; ++g) {
      const int v = digit(g);
      char buf[4];
      int rest = v;
      for (int k = 3; k >= 0; --k, rest /= 10) buf[k] = static_cast<char>('0' + rest % 10);
      std::size_t skip = 0;
      if (g == 0) {  // no leading zeros in the first group
        while (skip < 3 && buf[skip] == '0') ++skip;
      }
      out.append(buf + skip, 4 - skip);
    }
  }
  if (dscale > 0) {
    out.push_back('.');
    for (long k = 0; k < dscale; ++k) {
      const long g = weight + 1 + k / dec_digits;
      int v = digit(g);
      for (long p = k % dec_digits; p < dec_digits - 1; ++p) v /= 10;
      out.push_back(static_cast<char>('0' + v % 10));
    }
  }
  // Canonical text, whatever the sender's digit groups: no leading zeros in the integer part
  // (a leading zero group, or weight beyond the digits), and no "-0" (found by fuzzing).
  const std::size_t start = sign == numeric_neg ? 1 : 0;
  const std::size_t int_end = std::min(out.find('.'), out.size());
  std::size_t first = start;
  while (first + 1 < int_end && out[first] == '0') ++first;
  out.erase(start, first - start);
  if (sign == numeric_neg && out.find_first_of("123456789") == std::string::npos) {
    out.erase(0, 1);
  }
}

// ---- arrays ------------------------------------------------------------------------------------

array_header read_array_header(std::string_view bytes) {
  if (bytes.size() < 12) throw_decode_error("truncated array header");
  const auto ndim = load_be<std::int32_t>(bytes.data());
  const auto flags = load_be<std::int32_t>(bytes.data() + 4);
  const auto element = load_be<std::uint32_t>(bytes.data() + 8);
  if (flags != 0 && flags != 1) throw_decode_error("invalid array flags");
  if (ndim == 0) return {element, 0, 12};
  if (ndim != 1) {
    throw_decode_error(
        fmt::format("a {}-dimensional array cannot be read into one level of std::vector; "
                    "nest the vectors as deep as the array has dimensions "
                    "(std::vector<std::vector<T>> for 2)",
                    ndim));
  }
  if (bytes.size() < 20) throw_decode_error("truncated array header");
  const auto count = load_be<std::int32_t>(bytes.data() + 12);
  // Every element takes at least its 4-byte length word: reject counts the bytes cannot hold
  // before resizing anything.
  if (count < 0 || static_cast<std::size_t>(count) > (bytes.size() - 20) / 4) {
    throw_decode_error("invalid array size");
  }
  return {element, static_cast<std::size_t>(count), 20};
}

void throw_bad_array_element(std::size_t index) {
  throw_decode_error(fmt::format("array element {} runs past the end of the value", index + 1));
}

void throw_array_too_long(std::size_t size) {
  throw_encode_error(
      fmt::format("pgorm: an array of {} elements exceeds PostgreSQL's limit", size));
}

void throw_array_element_type(oid element_type, std::string cpp_element) {
  throw_decode_error(fmt::format("array elements of SQL type {} do not convert to {}",
                                 sql_type_name(element_type), cpp_element));
}

// ---- names and errors --------------------------------------------------------------------------

namespace {

// The server's name of a built-in type (pgorm::oids::builtin_types), or "" for another.
std::string_view builtin_type_name(oid type) noexcept {
  const oids::builtin_type* row = find_builtin_type(type);
  return row == nullptr ? std::string_view{} : row->name;
}

std::string column_label(const field_context& ctx) {
  if (ctx.table.empty()) return std::string(ctx.column);
  return fmt::format("{}.{}", ctx.table, ctx.column);
}

}  // namespace

std::string sql_type_name(oid type) {
  if (auto name = builtin_type_name(type); !name.empty()) return std::string(name);
  if (const oid element = array_element_oid(type); element != 0) {
    return fmt::format("{}[]", builtin_type_name(element));
  }
  return fmt::format("oid {}", type);
}

void throw_decode_error(std::string what) { throw conversion_error(what, "", "", "", ""); }

void throw_encode_error(std::string what) { throw conversion_error(what, "", "", "", ""); }

void throw_bad_length(std::string_view sql_type, std::size_t expected, std::size_t actual) {
  throw_decode_error(
      fmt::format("a binary {} value has {} bytes, expected {}", sql_type, actual, expected));
}

void throw_out_of_range(std::int64_t value, std::string_view cpp_type) {
  throw_decode_error(fmt::format("value {} is out of range for {}", value, cpp_type));
}

void throw_type_mismatch(const field_context& ctx, oid type, std::string cpp_type) {
  std::string sql_type = sql_type_name(type);
  // Format first: the exception's by-value arguments may be initialized in any order.
  std::string what = fmt::format(
      "pgorm: cannot read column {} of SQL type {} into C++ type {}; change the "
      "field's type or cast the column in SQL (see docs/types.md)",
      column_label(ctx), sql_type, cpp_type);
  throw conversion_error(what, std::string(ctx.table), std::string(ctx.column), std::move(sql_type),
                         std::move(cpp_type));
}

void throw_unexpected_null(const field_context& ctx, std::string cpp_type) {
  std::string what = fmt::format(
      "pgorm: column {} is NULL, which C++ type {} cannot hold; make the field "
      "std::optional<{}>",
      column_label(ctx), cpp_type, cpp_type);
  throw unexpected_null(what, std::string(ctx.table), std::string(ctx.column), "",
                        std::move(cpp_type));
}

void throw_not_binary(const field_context& ctx) {
  throw usage_error(
      fmt::format("pgorm: column {} arrived in text format; pgorm's codecs read "
                  "binary results: run the statement with data_format::binary",
                  column_label(ctx)));
}

void rethrow_in_context(const conversion_error& error, const field_context& ctx, oid type,
                        std::string cpp_type) {
  std::string sql_type = sql_type_name(type);
  std::string what = fmt::format("pgorm: cannot read column {} of SQL type {} into C++ type {}: {}",
                                 column_label(ctx), sql_type, cpp_type, error.what());
  throw conversion_error(what, std::string(ctx.table), std::string(ctx.column), std::move(sql_type),
                         std::move(cpp_type));
}

void rethrow_param_error(const conversion_error& error, std::size_t n, std::string_view sql_type,
                         std::string cpp_type) {
  std::string what = error.what();
  if (what.rfind("pgorm: ", 0) == 0) what.erase(0, 7);
  what = fmt::format("pgorm: cannot encode parameter ${} of C++ type {} as {}: {}", n, cpp_type,
                     sql_type, what);
  throw conversion_error(what, "", fmt::format("${}", n), std::string(sql_type),
                         std::move(cpp_type));
}

std::span<const param> list_views(const param_list& list) { return list.params(); }

void throw_param_too_large(std::size_t n) {
  throw usage_error(
      fmt::format("pgorm: parameter ${} is larger than 2 GiB, the protocol's limit", n));
}

void throw_nul_in_text_param(std::size_t n, std::size_t offset) {
  throw conversion_error(
      fmt::format("pgorm: parameter ${} is text with a NUL byte at offset {}; PostgreSQL "
                  "text cannot hold NUL, so it is refused rather than truncated (send "
                  "binary data as bytea)",
                  n, offset),
      "", fmt::format("${}", n), "text", "text parameter");
}

namespace {

// The five arrays of a param_list in one block, widest element first (for alignment).
struct list_block {
  static std::size_t bytes(std::size_t n) noexcept {
    return n * (sizeof(const char*) + sizeof(std::size_t) + 2 * sizeof(int) + sizeof(oid));
  }
  static_assert(alignof(const char*) >= alignof(std::size_t) &&
                alignof(std::size_t) >= alignof(int) && alignof(int) >= alignof(oid));
};

}  // namespace

void param_list::grow() {
  const std::size_t n = capacity_ * 2;
  auto* block = new std::byte[list_block::bytes(n)];
  std::byte* at = block;
  auto* values = reinterpret_cast<const char**>(at);  // NOLINT: one block, typed by offset
  at += n * sizeof(const char*);
  auto* offsets = reinterpret_cast<std::size_t*>(at);  // NOLINT
  at += n * sizeof(std::size_t);
  auto* lengths = reinterpret_cast<int*>(at);  // NOLINT
  at += n * sizeof(int);
  auto* formats = reinterpret_cast<int*>(at);  // NOLINT
  at += n * sizeof(int);
  auto* types = reinterpret_cast<oid*>(at);  // NOLINT
  const std::size_t count = size();
  std::copy_n(arrays_.values, count, values);
  std::copy_n(offsets_, count, offsets);
  std::copy_n(arrays_.lengths, count, lengths);
  std::copy_n(arrays_.formats, count, formats);
  std::copy_n(arrays_.types, count, types);
  delete[] heap_;
  heap_ = block;
  arrays_.values = values;
  offsets_ = offsets;
  arrays_.lengths = lengths;
  arrays_.formats = formats;
  arrays_.types = types;
  capacity_ = n;
}

void param_list::copy_arrays(const param_list& other) {
  const std::size_t count = other.size();
  while (capacity_ < count) grow();
  std::copy_n(other.offsets_, count, offsets_);
  std::copy_n(other.arrays_.lengths, count, arrays_.lengths);
  std::copy_n(other.arrays_.formats, count, arrays_.formats);
  std::copy_n(other.arrays_.types, count, arrays_.types);
  std::copy_n(other.arrays_.values, count, arrays_.values);
  arrays_.count = other.arrays_.count;
  views_built_ = stale;
  repoint();
}

void param_list::take_arrays(param_list& other) noexcept {
  if (other.heap_ != nullptr) {
    heap_ = std::exchange(other.heap_, nullptr);
    arrays_ = other.arrays_;
    offsets_ = other.offsets_;
    capacity_ = other.capacity_;
  } else {
    // Whole, unwritten entries included: one fixed-size copy beats five counted ones.
    std::memcpy(&inline_, &other.inline_, sizeof inline_);
    arrays_.count = other.arrays_.count;
  }
  other.release();
  other.arrays_.count = 0;
  other.views_built_ = stale;
  views_built_ = stale;
  repoint();
}

void param_list::release() noexcept {
  delete[] heap_;
  heap_ = nullptr;
  arrays_.values = inline_.values;
  arrays_.lengths = inline_.lengths;
  arrays_.formats = inline_.formats;
  arrays_.types = inline_.types;
  offsets_ = inline_.offsets;
  capacity_ = inline_count;
}

}  // namespace detail

}  // namespace pgorm
