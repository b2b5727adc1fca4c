// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Declared column types: a column's SQL type with a length, precision or scale that the C++
/// type alone cannot say (`varchar(255)`, `char(2)`, `numeric(12,2)`, `timestamptz(3)`,
/// `timestamp(0)`, `time(3)`). Declared per column in `pgorm::table_traits<T>::column_types`
/// (pgorm/table_options.hpp); CREATE TABLE emits them and schema::diff compares them with the
/// live column's type modifier. See docs/tables.md, "Declared column types".
///
/// ```cpp
/// struct Product { std::int64_t id; std::string sku; pgorm::numeric price; };
/// template <> struct pgorm::table_traits<Product> {
///   static constexpr auto primary_key = pgorm::identity(&Product::id);
///   static constexpr auto column_types =
///       pgorm::column_types(pgorm::column_type(&Product::sku, pgorm::sql_type::varchar(32)),
///                           pgorm::column_type(&Product::price, pgorm::sql_type::numeric(12, 2)));
/// };
/// ```

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/numeric.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/time.hpp"

namespace pgorm {

/// The families of declarable column types, each with the C++ field types it fits.
enum class sql_type_kind : unsigned char {
  varchar_n,      ///< varchar(n): std::string
  character_n,    ///< char(n) (bpchar, blank-padded): std::string
  numeric_ps,     ///< numeric(p,s): pgorm::numeric
  timestamptz_p,  ///< timestamptz(p): pgorm::timestamptz
  timestamp_p,    ///< timestamp(p): pgorm::timestamp
  time_p,         ///< time(p): pgorm::time_of_day
};

/// A declared SQL type: the family, its parameters, and its DDL spelling. Made by the functions
/// of pgorm::sql_type; `K` lets column_type() check at compile time that the field fits.
///
/// Example: `static_assert(pgorm::sql_type::varchar(32).sql() == "varchar(32)");`
template <sql_type_kind K>
struct declared_type {
  static constexpr sql_type_kind kind = K;  ///< the family

  int precision = 0;                ///< n for varchar/char, p for numeric, fractional digits
  int scale = 0;                    ///< numeric only: digits after the point
  detail::fixed_string<24> text{};  ///< the DDL spelling, e.g. "numeric(12,2)"

  /// The DDL spelling, e.g. "varchar(32)", "timestamptz(3)".
  [[nodiscard]] constexpr std::string_view sql() const noexcept { return text.view(); }

  /// The type modifier PostgreSQL stores for it (pg_attribute.atttypmod): n + 4 for
  /// varchar/char, ((p << 16) | s) + 4 for numeric, p for the time types.
  [[nodiscard]] constexpr std::int32_t type_modifier() const noexcept {
    switch (K) {
      case sql_type_kind::varchar_n:
      case sql_type_kind::character_n:
        return precision + 4;
      case sql_type_kind::numeric_ps:
        return ((precision << 16) | scale) + 4;
      case sql_type_kind::timestamptz_p:
      case sql_type_kind::timestamp_p:
      case sql_type_kind::time_p:
        break;
    }
    return precision;
  }
};

namespace detail {

constexpr void append_decimal(detail::fixed_string<24>& out, int value) {
  char digits[12]{};
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out.append(digits[--n]);
}

template <sql_type_kind K>
consteval declared_type<K> make_declared(std::string_view base, int precision, int scale,
                                         bool with_scale) {
  declared_type<K> t{precision, scale, {}};
  t.text.append(base);
  t.text.append('(');
  append_decimal(t.text, precision);
  if (with_scale) {
    t.text.append(',');
    append_decimal(t.text, scale);
  }
  t.text.append(')');
  return t;
}

}  // namespace detail

/// The declarable SQL types, for pgorm::column_type().
///
/// Example: `pgorm::column_type(&User::email, pgorm::sql_type::varchar(255))`
namespace sql_type {

/// varchar(n), 1 <= n <= 10485760, for a std::string field. The server refuses longer values
/// (SQLSTATE 22001, pgorm::data_error).
consteval declared_type<sql_type_kind::varchar_n> varchar(int n) {
  if (n < 1 || n > 10485760) throw "pgorm: varchar(n) needs 1 <= n <= 10485760";
  return detail::make_declared<sql_type_kind::varchar_n>("varchar", n, 0, false);
}

/// char(n) (blank-padded character(n)), 1 <= n <= 10485760, for a std::string field: values
/// read back padded with spaces to n characters.
consteval declared_type<sql_type_kind::character_n> character(int n) {
  if (n < 1 || n > 10485760) throw "pgorm: character(n) needs 1 <= n <= 10485760";
  return detail::make_declared<sql_type_kind::character_n>("char", n, 0, false);
}

/// numeric(p,s), 1 <= p <= 1000, 0 <= s <= p, for a pgorm::numeric field. The server rounds
/// a value to s digits after the point and refuses one with more than p - s before it.
consteval declared_type<sql_type_kind::numeric_ps> numeric(int precision, int scale = 0) {
  if (precision < 1 || precision > 1000) throw "pgorm: numeric(p,s) needs 1 <= p <= 1000";
  if (scale < 0 || scale > precision) throw "pgorm: numeric(p,s) needs 0 <= s <= p";
  return detail::make_declared<sql_type_kind::numeric_ps>("numeric", precision, scale, true);
}

/// timestamptz(p): p (0 to 6) digits of fractional seconds kept, for a pgorm::timestamptz field.
consteval declared_type<sql_type_kind::timestamptz_p> timestamptz(int fractional_digits) {
  if (fractional_digits < 0 || fractional_digits > 6)
    throw "pgorm: timestamptz(p) needs 0 <= p <= 6";
  return detail::make_declared<sql_type_kind::timestamptz_p>("timestamptz", fractional_digits, 0,
                                                             false);
}

/// timestamp(p): p (0 to 6) digits of fractional seconds kept, for a pgorm::timestamp field.
consteval declared_type<sql_type_kind::timestamp_p> timestamp(int fractional_digits) {
  if (fractional_digits < 0 || fractional_digits > 6) throw "pgorm: timestamp(p) needs 0 <= p <= 6";
  return detail::make_declared<sql_type_kind::timestamp_p>("timestamp", fractional_digits, 0,
                                                           false);
}

/// time(p): p (0 to 6) digits of fractional seconds kept, for a pgorm::time_of_day field.
consteval declared_type<sql_type_kind::time_p> time(int fractional_digits) {
  if (fractional_digits < 0 || fractional_digits > 6) throw "pgorm: time(p) needs 0 <= p <= 6";
  return detail::make_declared<sql_type_kind::time_p>("time", fractional_digits, 0, false);
}

}  // namespace sql_type

namespace detail {

template <class F>
struct declared_scalar {
  using type = F;
  static constexpr bool array = false;
};
template <class F>
struct declared_scalar<std::optional<F>> : declared_scalar<F> {};
template <class F, class A>
requires(!std::is_same_v<F, std::byte>) struct declared_scalar<std::vector<F, A>> {
  using type = typename declared_scalar<F>::type;
  static constexpr bool array = true;
};

/// Does a field of type F (std::optional and one level of std::vector aside) fit kind K?
template <sql_type_kind K, class F>
consteval bool declared_type_fits() {
  using U = typename declared_scalar<F>::type;
  switch (K) {
    case sql_type_kind::varchar_n:
    case sql_type_kind::character_n:
      return std::is_same_v<U, std::string>;
    case sql_type_kind::numeric_ps:
      return std::is_same_v<U, pgorm::numeric>;
    case sql_type_kind::timestamptz_p:
      return std::is_same_v<U, pgorm::timestamptz>;
    case sql_type_kind::timestamp_p:
      return std::is_same_v<U, pgorm::timestamp>;
    case sql_type_kind::time_p:
      return std::is_same_v<U, pgorm::time_of_day>;
  }
  return false;
}

}  // namespace detail

/// A column's declared SQL type (see pgorm::column_type()).
template <class M, sql_type_kind K>
struct column_type_spec {
  M member;                         ///< the column
  declared_type<K> type;            ///< its SQL type
  detail::fixed_string<26> text{};  ///< the DDL spelling, "[]" added for an array
  std::int32_t type_modifier = -1;  ///< pg_attribute.atttypmod

  /// The DDL spelling, e.g. "varchar(32)" or "varchar(32)[]".
  [[nodiscard]] constexpr std::string_view sql() const noexcept { return text.view(); }
};

/// Declares member's SQL type. The field must fit: varchar/char a std::string, numeric a
/// pgorm::numeric, timestamptz/timestamp/time a pgorm::timestamptz/timestamp/time_of_day
/// (each also as std::optional, and a std::vector of them for an array column, "varchar(32)[]").
///
/// Example: `pgorm::column_type(&Event::at, pgorm::sql_type::timestamptz(3))`
template <class M, sql_type_kind K>
consteval column_type_spec<M, K> column_type(M member, declared_type<K> type) {
  static_assert(data_member_pointer<M>,
                "pgorm: column_type() takes a pointer to a data member such as &User::email");
  using field = typename detail::member_pointer_traits<std::remove_cv_t<M>>::field_type;
  if constexpr (K == sql_type_kind::varchar_n || K == sql_type_kind::character_n) {
    static_assert(detail::declared_type_fits<K, field>(),
                  "pgorm: varchar(n) and character(n) declare a std::string field (or "
                  "std::optional/std::vector of one); this field is not a string");
  } else if constexpr (K == sql_type_kind::numeric_ps) {
    static_assert(detail::declared_type_fits<K, field>(),
                  "pgorm: numeric(p,s) declares a pgorm::numeric field (or std::optional/"
                  "std::vector of one)");
  } else {
    static_assert(detail::declared_type_fits<K, field>(),
                  "pgorm: timestamptz(p), timestamp(p) and time(p) declare a pgorm::timestamptz, "
                  "pgorm::timestamp or pgorm::time_of_day field respectively (or std::optional/"
                  "std::vector of one)");
  }
  column_type_spec<M, K> spec{member, type, {}, type.type_modifier()};
  spec.text.append(type.sql());
  if (detail::declared_scalar<field>::array) spec.text.append("[]");
  return spec;
}

}  // namespace pgorm
