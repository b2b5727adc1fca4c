// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// count() and exists() of a select: the select wrapped in `SELECT count(*) FROM (q) AS
/// pgorm_count` or `SELECT EXISTS (q)`, run as a statement of its own (static text when the
/// select's is). See select_query::count() and select_query::exists().

#include <cstddef>
#include <cstdint>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/runner.hpp"

namespace pgorm {

namespace detail {

/// What a wrapped select asks of the rows of the select inside it.
enum class wrap_kind { count, exists };

/// The clause `SELECT count(*) FROM (q) AS pgorm_count` or `SELECT EXISTS (q)` over the select
/// `Q`; binds Q's parameters.
template <wrap_kind K, class Q>
struct wrapped_select : renders_from<wrapped_select<K, Q>> {
  using tables = type_list<>;
  static constexpr bool is_static = Q::is_static;
  static constexpr sql_effect effect = Q::effect;
  static constexpr bool may_write = effect != sql_effect::reads;
  /// The C++ type of the one value the statement returns (count(*) is a bigint).
  using value_type = std::conditional_t<K == wrap_kind::count, std::int64_t, bool>;

  Q query;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(K == wrap_kind::count ? "SELECT count(*) FROM (" : "SELECT EXISTS (");
    render_expr(w, part(self, &wrapped_select::query));
    w.append(K == wrap_kind::count ? ") AS pgorm_count" : ")");
  }
  void bind(param_list& p) const { query.bind(p); }
};

}  // namespace detail

/// A select wrapped to count its rows or to test whether it has any; made by
/// select_query::count() and exists(), which run it at once. Its one part is a
/// detail::wrapped_select.
template <class Exec, class Parts>
class counted_query : public detail::builder<counted_query<Exec, Parts>, Exec> {
  using Wrapped = typename Parts::template type<0>;

 public:
  /// std::int64_t for count(), bool for exists().
  using row_type = typename Wrapped::value_type;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static = Parts::is_static;
  /// What the select inside does (it reads, unless it locks rows).
  static constexpr sql_effect effect = Wrapped::effect;

  counted_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

 private:
  using base = detail::builder<counted_query, Exec>;
  friend base;
  friend class detail::runner<counted_query, Exec>;
  friend struct detail::renders_from<counted_query>;

  // The select inside checked its own rules before it was wrapped.
  static consteval bool check_run() { return true; }
  static consteval bool check_reads_rows() { return true; }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    detail::render_expr(w, detail::clause<0>(detail::part(q, &counted_query::parts_)));
  }

  Parts parts_;
};

namespace detail {
/// The counted_query of kind K over the select `q`, unbound (run it with one(exec)).
template <wrap_kind K, class Q>
auto wrap_select(const Q& q) {
  using parts = clause_set<wrapped_select<K, Q>>;
  return counted_query<unbound, parts>(nullptr, parts{{{wrapped_select<K, Q>{{}, q}}}});
}
}  // namespace detail

}  // namespace pgorm
