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
#include "pgorm/query/runner.hpp"
#include "pgorm/row.hpp"
#include "pgorm/sql_text.hpp"

namespace pgorm {

namespace detail {
[[noreturn]] PGORM_API void throw_placeholder_mismatch(std::size_t placeholders, std::size_t args);
}  // namespace detail

/// A raw statement with its encoded arguments. Made by pgorm::query<Row>(...) or
/// conn.query<Row>(...). Row is a struct (by column name), a std::tuple (by position) or one
/// value type; use `void` for statements whose rows you do not read (exec() only).
///
/// It is a builder (detail::builder) whose one clause is its text: to_sql() is the builders'.
/// It runs its text as raw SQL, not marked as a builder's statement.
template <class Exec, class Row, class Text, std::size_t N>
class raw_query : public detail::builder<raw_query<Exec, Row, Text, N>, Exec> {
 public:
  /// The C++ type of a row.
  using row_type = Row;
  /// The text is the caller's: never static.
  static constexpr bool is_static = false;

  template <class... Args>
  raw_query(Exec* exec, Text text, const Args&... args)
      : base(exec), text_(std::move(text)), params_(args...) {
    if (text_.max_placeholder() != N)
      detail::throw_placeholder_mismatch(text_.max_placeholder(), N);
  }

  /// The same statement bound to `exec`.
  template <executor E>
  raw_query<E, Row, Text, N> bind(E& exec) const {
    return raw_query<E, Row, Text, N>(&exec, *this);
  }

  /// Appends the encoded arguments, in the order of their `$n`.
  void bind(detail::param_list& p) const {
    for (const param& x : params_.params()) p.add_encoded(x);
  }

 private:
  using base = detail::builder<raw_query, Exec>;
  friend base;
  friend class detail::runner<raw_query, Exec>;
  friend struct detail::renders_from<raw_query>;
  template <class, class, class, std::size_t>
  friend class raw_query;

  template <class Other>
  raw_query(Exec* exec, const Other& other)
      : base(exec), text_(other.text_), params_(other.params_) {}

  // ---- what the runner asks (detail::runner) ----

  static consteval bool check_run() { return true; }
  static consteval bool check_reads_rows() {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: query<void>(...) reads no rows; call exec(), or name the row type: "
                  "query<Row>(...)");
    return !std::is_void_v<Row>;
  }

  /// The text, as the caller wrote it.
  template <class W>
  static void render_from(W& w, const raw_query& q) {
    w.append(q.text_.text());
  }

  /// Runs the statement (raw SQL: not marked as a builder's); in place of the builders' run.
  template <class E>
  result execute(E& exec) const {
    return detail::exec_shape(exec, shape(), params_.params(), data_format::binary);
  }
  template <class E, class F>
  void execute_each(E& exec, F&& fn) const {
    detail::stream_rows<Row>(exec, shape(), params_.params(), std::forward<F>(fn));
  }

  // Raw SQL: the pool resets the session after it. Its text is not known at compile time.
  [[nodiscard]] statement_shape shape() const noexcept {
    return {text_.text(), 0, detail::layout_of<Row>(), sql_origin::raw, sql_effect::unknown};
  }

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
