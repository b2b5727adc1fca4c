// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Raw SQL with typed results, for what the builders cannot express:
/// `pgorm::query<Row>("select ... where x = $1", x)`. Rows map by column name (structs) or by
/// position (tuples); arguments travel as binary `$n` parameters.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/export.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/row.hpp"
#include "pgorm/sql_text.hpp"

namespace pgorm {

namespace detail {
[[noreturn]] PGORM_API void throw_placeholder_mismatch(std::size_t placeholders, std::size_t args);
}  // namespace detail

/// A raw statement with its encoded arguments. Made by pgorm::query<Row>(...) or
/// conn.query<Row>(...). Row is a struct (by column name), a std::tuple (by position) or one
/// value type; use `void` for statements whose rows you do not read (exec() only).
template <class Exec, class Row, class Text, std::size_t N>
class raw_query {
 public:
  template <class... Args>
  raw_query(Exec* exec, Text text, const Args&... args)
      : exec_(exec), text_(std::move(text)), params_(args...) {
    if (text_.max_placeholder() != N)
      detail::throw_placeholder_mismatch(text_.max_placeholder(), N);
  }

  /// The same statement bound to `exec`.
  template <executor E>
  raw_query<E, Row, Text, N> bind(E& exec) const {
    return raw_query<E, Row, Text, N>(&exec, *this);
  }

  /// The SQL text and parameters.
  [[nodiscard]] statement to_sql() const {
    statement s;
    s.sql = std::string(text_.text());
    for (const param& p : params_.params()) s.params.add_encoded(p);
    return s;
  }

  /// All rows.
  std::vector<Row> all() const {
    if constexpr (detail::require_bound<Exec>()) {
      return all(*exec_);
    } else {
      return {};
    }
  }
  template <executor E>
  std::vector<Row> all(E& exec) const {
    return read_rows<Row>(run(exec));
  }
  /// Exactly one row; usage_error otherwise.
  Row one() const {
    if constexpr (detail::require_bound<Exec>()) {
      return one(*exec_);
    } else {
      return {};
    }
  }
  template <executor E>
  Row one(E& exec) const {
    const result res = run(exec);
    if (res.rows() != 1) detail::throw_not_one_row(res.rows());
    return row_reader<Row>(res).read(0);
  }
  /// The first row, or std::nullopt.
  std::optional<Row> first() const {
    if constexpr (detail::require_bound<Exec>()) {
      return first(*exec_);
    } else {
      return {};
    }
  }
  template <executor E>
  std::optional<Row> first(E& exec) const {
    const result res = run(exec);
    if (res.rows() == 0) return std::nullopt;
    return row_reader<Row>(res).read(0);
  }
  /// Runs the statement and returns the affected-row count (INSERT/UPDATE/DELETE/...).
  std::int64_t exec() const {
    if constexpr (detail::require_bound<Exec>()) {
      return exec(*exec_);
    } else {
      return {};
    }
  }
  template <executor E>
  std::int64_t exec(E& e) const {
    return run(e).affected_rows();
  }
  /// Streams the rows to fn (single-row mode).
  template <class F>
  void each(F&& fn) const {
    if constexpr (detail::require_bound<Exec>()) each(*exec_, std::forward<F>(fn));
  }
  template <executor E, class F>
  void each(E& exec, F&& fn) const {
    detail::stream_rows<Row>(exec, text_.text(), params_.params(), std::forward<F>(fn));
  }

 private:
  template <class, class, class, std::size_t>
  friend class raw_query;

  template <class Other>
  raw_query(Exec* exec, const Other& other)
      : exec_(exec), text_(other.text_), params_(other.params_) {}

  template <executor E>
  result run(E& exec) const {
    return exec.exec(text_.text(), params_.params(), data_format::binary);
  }

  Exec* exec_;
  Text text_;
  detail::encoded_params<N> params_;
};

/// Raw SQL from a string literal, with typed rows. The literal's `$n` count must match the
/// arguments (usage_error otherwise).
///
/// Example:
/// ```
/// struct stats { std::int64_t users; std::optional<pgorm::timestamptz> newest; };
/// auto s = pgorm::query<stats>("select count(*) as users, max(created_at) as newest from users")
///              .one(conn);
/// ```
template <class Row, class... Args>
auto query(sql_literal sql, const Args&... args) {
  if constexpr ((pg_encodable<detail::param_type_t<Args>> && ...)) {
    return raw_query<detail::unbound, Row, sql_literal, sizeof...(Args)>(nullptr, sql, args...);
  } else {
    (detail::report_param_type<detail::param_type_t<Args>>(), ...);
    return 0;
  }
}

/// Raw SQL built at run time, marked with pgorm::unsafe_sql(text).
template <class Row, class... Args>
auto query(unsafe_sql_text sql, const Args&... args) {
  return raw_query<detail::unbound, Row, unsafe_sql_text, sizeof...(Args)>(nullptr, std::move(sql),
                                                                           args...);
}

/// Catches SQL text that is not a literal (std::string, std::string_view, char pointers).
template <class Row, class S, class... Args>
requires(!std::is_array_v<std::remove_reference_t<S>> &&
         !std::is_same_v<std::remove_cvref_t<S>, sql_literal> &&
         !std::is_same_v<std::remove_cvref_t<S>, unsafe_sql_text> &&
         std::is_convertible_v<const S&, std::string_view>) auto query(const S& /*sql*/,
                                                                       const Args&... /*args*/) {
  static_assert(std::is_array_v<S>,
                "pgorm: raw SQL must be a string literal; for SQL text built at run time, say so "
                "with pgorm::unsafe_sql(text), and keep values in $n parameters");
  return 0;
}

}  // namespace pgorm
