// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// INSERT: one struct or a range of them, with RETURNING and ON CONFLICT (upsert).
/// See docs/dml.md.
///
/// ```cpp
/// User u = pgorm::insert(User{.email = "a@b.c"}).returning_all().one(conn);
/// pgorm::insert(users).on_conflict(pgorm::col<&User::email>).do_nothing().exec(conn);
/// ```

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/copy.hpp"
#include "pgorm/defaulted.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/dml_common.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

/// From this many rows on, `insert(range).exec(conn)` writes with binary COPY (see
/// pgorm::copy_in) instead of a multi-row INSERT: less to parse and plan for large ranges, and
/// not bound by the 65535-parameter limit. Only when nothing needs INSERT itself: no
/// returning(...), no on_conflict(...), the executor is a pgorm::connection, and each
/// pgorm::defaulted field asks for the default in every row or in none (COPY has no per-row
/// defaults; a column whose default every row asks for is left out so that its DEFAULT
/// applies). Change it per statement with `.copy_threshold(n)`. See docs/copy.md.
inline constexpr std::size_t insert_copy_threshold = 1000;

namespace detail {

/// Whether column I of T is written by INSERT: identity columns are not (GENERATED ALWAYS
/// rejects a value, PostgreSQL docs 5.3; BY DEFAULT columns are left to their sequence too).
template <class T, std::size_t I>
inline constexpr bool insert_writes_v = !table<T>::columns[I].is_identity();

template <class T>
consteval std::size_t insert_column_count() {
  std::size_t n = 0;
  for (const column_info& c : table<T>::columns) {
    if (!c.is_identity()) ++n;
  }
  return n;
}

/// `email, name, age`: the columns INSERT writes.
template <class T>
struct insert_columns_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    bool first = true;
    for (const column_info& c : table<T>::columns) {
      if (c.is_identity()) continue;
      if (!first) out.append(", ");
      first = false;
      out.append(c.sql_name);
    }
  }
};
template <class T>
inline constexpr auto insert_columns_v = rendered_v<insert_columns_renderer<T>>;

/// Whether field I of T is a pgorm::defaulted<...>: INSERT writes the column's default when
/// the field asks for it.
template <class T, std::size_t I>
inline constexpr bool insert_defaulted_v = is_defaulted<field_type_t<T, I>>::value;

/// Whether the defaulted field I may also hold NULL (pgorm::defaulted<std::optional<U>>): then
/// "use the default" needs its own parameter, since NULL is a value of its own.
template <class T, std::size_t I>
inline constexpr bool insert_default_flag_v = [] {
  if constexpr (insert_defaulted_v<T, I>) {
    return pg_type<field_type_t<T, I>>::nullable;
  } else {
    return false;
  }
}();

/// One column's value in a VALUES tuple. A plain field is `$n`: its value is always written.
/// A pgorm::defaulted<U> field is `coalesce($n, <default>)`, the parameter sent as NULL when it
/// asks for the default; a pgorm::defaulted<std::optional<U>> field, which may also write NULL,
/// is `CASE WHEN $n THEN <default> ELSE $m END` with $n true when it asks for the default. The
/// SQL text is therefore the same for every row whatever the fields hold.
template <class T, std::size_t I, class W>
constexpr void render_insert_value(W& w) {
  if constexpr (insert_default_flag_v<T, I>) {
    w.append("CASE WHEN ");
    w.placeholder();
    w.append(" THEN ");
    w.append(table<T>::columns[I].default_sql);
    w.append(" ELSE ");
    w.placeholder();
    w.append(" END");
  } else if constexpr (insert_defaulted_v<T, I>) {
    w.append("coalesce(");
    w.placeholder();
    w.append(", ");
    w.append(table<T>::columns[I].default_sql);
    w.append(')');
  } else {
    w.placeholder();
  }
}

/// Column I's value in a VALUES tuple, after a comma unless it is the first (`first`), when
/// INSERT writes column I.
template <class T, std::size_t I, class W>
constexpr void render_insert_field(W& w, bool& first) {
  if constexpr (insert_writes_v<T, I>) {
    if (!first) w.append(", ");
    first = false;
    render_insert_value<T, I>(w);
  }
}
template <class T, class W, std::size_t... I>
constexpr void render_insert_fields(W& w, std::index_sequence<I...> /*fields*/) {
  bool first = true;
  (render_insert_field<T, I>(w, first), ...);
}

/// One VALUES tuple: `($1, $2, coalesce($3, now()))`.
template <class T, class W>
constexpr void render_insert_row(W& w) {
  w.append('(');
  render_insert_fields<T>(w, std::make_index_sequence<field_count_v<T>>{});
  w.append(')');
}

/// Appends the parameters of field I of one row, in render_insert_value's order; none for an
/// identity column, which INSERT does not write.
template <class T, std::size_t I>
void bind_insert_field(const T& row, param_list& p) {
  if constexpr (insert_writes_v<T, I>) {
    const auto& field = get_field<I>(row);
    if constexpr (insert_defaulted_v<T, I>) {
      using U = typename field_type_t<T, I>::value_type;
      if constexpr (insert_default_flag_v<T, I>) p.add(field.is_default());
      if (field.is_default()) {
        p.add(std::optional<remove_optional_t<U>>{});
      } else {
        p.add(*field);
      }
    } else {
      p.add(field);
    }
  }
}

template <class T, std::size_t... I>
void bind_insert_fields(const T& row, param_list& p, std::index_sequence<I...> /*fields*/) {
  (bind_insert_field<T, I>(row, p), ...);
}
/// Appends the parameters of one VALUES tuple, in render_insert_row's order.
template <class T>
void bind_insert_row(const T& row, param_list& p) {
  bind_insert_fields(row, p, std::make_index_sequence<field_count_v<T>>{});
}

/// The checks on T's fields for INSERT, one per static_assert. Returns whether all passed.
template <class T>
consteval bool check_insert_fields() {
  constexpr bool defaults_declared = []<std::size_t... I>(std::index_sequence<I...>) {
    return ((!insert_defaulted_v<T, I> || table<T>::columns[I].has_default() ||
             table<T>::columns[I].is_identity()) &&
            ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  static_assert(defaults_declared,
                "pgorm: a pgorm::defaulted<...> field needs a column default; declare it in "
                "table_traits<T>::defaults (pgorm::default_sql / pgorm::default_value) or make "
                "the field a plain value");
  constexpr bool no_optional_defaulted = []<std::size_t... I>(std::index_sequence<I...>) {
    return (!(is_optional<field_type_t<T, I>>::value &&
              is_defaulted<remove_optional_t<field_type_t<T, I>>>::value) &&
            ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  static_assert(no_optional_defaulted,
                "pgorm: a nullable column with a default is pgorm::defaulted<std::optional<T>>, "
                "not std::optional<pgorm::defaulted<T>>");
  return defaults_declared && no_optional_defaulted;
}

/// insert(obj): one row; the SQL text is static.
template <class T>
struct insert_one {
  using tables = type_list<>;
  static constexpr bool is_static = true;
  static constexpr bool may_write = false;
  T row;
  [[nodiscard]] std::size_t size() const noexcept { return 1; }
  void bind(param_list& p) const { bind_insert_row(row, p); }
};

/// insert(range): n rows; the SQL text depends on n. The rows are the caller's (an lvalue
/// contiguous range, borrowed) or shared, immutable, by every copy of the builder (the
/// builder's methods copy it, so owned rows are not copied again each time).
template <class T>
struct insert_many {
  using tables = type_list<>;
  static constexpr bool is_static = false;
  static constexpr bool may_write = false;
  std::shared_ptr<const std::vector<T>> owned;  // null when borrowed
  std::span<const T> rows;
  /// From this many rows on, exec() uses COPY when it can (pgorm::insert_copy_threshold).
  std::size_t copy_threshold = insert_copy_threshold;

  static insert_many owning(std::vector<T> v) {
    auto p = std::make_shared<const std::vector<T>>(std::move(v));
    const std::span<const T> view(*p);
    return {std::move(p), view};
  }
  static insert_many borrowing(std::span<const T> r) { return {nullptr, r}; }

  [[nodiscard]] std::size_t size() const noexcept { return rows.size(); }
  void bind(param_list& p) const {
    for (const T& r : rows) bind_insert_row(r, p);
  }
};

template <class R>
inline constexpr bool is_insert_many_v = false;
template <class T>
inline constexpr bool is_insert_many_v<insert_many<T>> = true;

/// The rows of insert(...).columns(col<&T::a>, ...): only the listed columns are written, in
/// the listed order; every other column takes its DEFAULT (or NULL without one). Wraps the rows
/// part (insert_one or insert_many), so an insert without a column list carries nothing more.
template <class T, class Rows, auto... Members>
struct listed_rows {
  using row_type = T;
  using tables = type_list<>;
  static constexpr bool is_static = Rows::is_static;
  static constexpr bool may_write = false;
  Rows inner;

  [[nodiscard]] std::size_t size() const noexcept { return inner.size(); }

  /// `a, b`: the listed columns.
  template <class W>
  static constexpr void render_columns(W& w) {
    bool first = true;
    ((w.append(first ? "" : ", "), first = false, w.append(column_name_v<Members>)), ...);
  }
  /// One VALUES tuple of the listed columns.
  template <class W>
  static constexpr void render_row(W& w) {
    w.append('(');
    bool first = true;
    ((w.append(first ? "" : ", "), first = false,
      render_insert_value<row_type, member_index_v<Members>>(w)),
     ...);
    w.append(')');
  }
  void bind(param_list& p) const {
    const auto one = [&](const row_type& r) {
      (bind_insert_field<row_type, member_index_v<Members>>(r, p), ...);
    };
    if constexpr (is_insert_many_v<Rows>) {
      for (const row_type& r : inner.rows) one(r);
    } else {
      one(inner.row);
    }
  }
};

template <class R>
inline constexpr bool is_listed_rows_v = false;
template <class T, class Rows, auto... M>
inline constexpr bool is_listed_rows_v<listed_rows<T, Rows, M...>> = true;

/// The checks on insert(...).columns(c...) of rows of T, one per static_assert.
template <class T, class Rows, class... C>
consteval bool check_insert_columns() {
  static_assert(sizeof...(C) > 0,
                "pgorm: columns() needs at least one column, e.g. pgorm::col<&User::email>");
  static_assert(!is_listed_rows_v<Rows>, "pgorm: columns() was already called");
  constexpr bool all_columns = (requires { C::member; } && ...);
  static_assert(all_columns,
                "pgorm: columns() takes the columns to write, e.g. pgorm::col<&User::email>, "
                "pgorm::col<&User::name>");
  if constexpr (all_columns && sizeof...(C) > 0) {
    constexpr bool own = (std::is_same_v<member_class_t<C::member>, T> && ...);
    static_assert(own, "pgorm: columns() names columns of the table being inserted into only");
    if constexpr (own) {
      constexpr bool writable = (insert_writes_v<T, member_index_v<C::member>> && ...);
      static_assert(writable,
                    "pgorm: columns() cannot list an identity column: the server assigns it");
      constexpr std::size_t idx[] = {member_index_v<C::member>...};
      constexpr bool unique = [&] {
        for (std::size_t i = 0; i != sizeof...(C); ++i) {
          for (std::size_t j = 0; j != i; ++j) {
            if (idx[i] == idx[j]) return false;
          }
        }
        return true;
      }();
      static_assert(unique, "pgorm: columns() lists a column twice");
      return !is_listed_rows_v<Rows> && writable && unique;
    }
  }
  return false;
}

/// The columns COPY writes for insert(rows), when insert()'s semantics allow COPY; std::nullopt
/// when a pgorm::defaulted field asks for the default in some rows only (COPY would need a
/// per-row DEFAULT), or in every row for every column, so the caller runs the INSERT instead.
/// A defaulted field that asks for the default in every row leaves its column out, so that
/// its DEFAULT applies. (The async exec() follows the same rule.)
template <class T>
std::optional<copy_mask<T>> insert_copy_mask(std::span<const T> rows) {
  copy_mask<T> mask{};
  bool mixed = false;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (insert_writes_v<T, I>) {
            mask[I] = true;
            if constexpr (insert_defaulted_v<T, I>) {
              std::size_t asks = 0;
              for (const T& r : rows) asks += get_field<I>(r).is_default() ? 1 : 0;
              if (asks == rows.size()) {
                mask[I] = false;  // left out: the column's DEFAULT applies to every row
              } else if (asks != 0) {
                mixed = true;
              }
            }
          }
        }(),
        ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  if (mixed) return std::nullopt;
  bool any = false;
  for (bool b : mask) any = any || b;
  if (!any) return std::nullopt;  // every column left to its default: COPY needs one column
  return mask;
}

/// Writes `rows` with COPY when insert()'s semantics allow it (insert_copy_mask()), and
/// returns the row count; std::nullopt when they do not: the caller runs the INSERT instead.
template <class T>
std::optional<std::int64_t> insert_via_copy(connection& conn, std::span<const T> rows) {
  const std::optional<copy_mask<T>> mask = insert_copy_mask<T>(rows);
  if (!mask) return std::nullopt;
  return copy_in_masked<T>(conn, rows, *mask);
}

/// ` ON CONFLICT (a, b)` (or ` ON CONFLICT` without columns).
template <class... Target, class W>
constexpr void render_conflict_target(W& w) {
  w.append(" ON CONFLICT");
  if constexpr (sizeof...(Target) > 0) {
    w.append(" (");
    bool first = true;
    ((w.append(first ? "" : ", "), first = false, w.append(column_name_v<Target::member>)), ...);
    w.append(')');
  }
}

/// ON CONFLICT (cols) DO NOTHING; no columns: ON CONFLICT DO NOTHING.
template <class... Target>
struct conflict_do_nothing : static_clause {
  static constexpr bool present = true;
  template <class W>
  static constexpr void render(W& w) {
    render_conflict_target<Target...>(w);
    w.append(" DO NOTHING");
  }
};

/// ON CONFLICT (cols) DO UPDATE SET ... [WHERE ...]. Columns in the SET values and the WHERE are
/// table-qualified: unqualified names would be ambiguous beside `excluded` (PostgreSQL docs,
/// INSERT, "ON CONFLICT Clause").
template <class Sets, class Where, class... Target>
struct conflict_do_update : renders_from<conflict_do_update<Sets, Where, Target...>> {
  using tables = list_union_t<typename clause_list<Sets>::tables, typename Where::tables>;
  static constexpr bool present = true;
  static constexpr bool is_static = assignments_traits<Sets>::is_static && Where::is_static;
  static constexpr bool may_write = clause_list<Sets>::may_write || Where::may_write;
  Sets sets;
  Where where;

  void bind(param_list& p) const {
    bind_each(p, sets);
    where.bind(p);
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    render_conflict_target<Target...>(w);
    w.append(" DO UPDATE SET ");
    const bool outer_qualify = w.qualify;
    w.qualify = true;
    render_comma_list(w, part(self, &conflict_do_update::sets));
    if constexpr (present_v<Where>) {
      w.append(" WHERE ");
      render_expr(w, part(self, &conflict_do_update::where));
    }
    w.qualify = outer_qualify;
  }
};

template <class C>
inline constexpr bool is_do_update_v = false;
template <class S, class W, class... T>
inline constexpr bool is_do_update_v<conflict_do_update<S, W, T...>> = true;

/// What insert(x) inserts: x itself, or each element of a range of structs.
template <class R>
struct insert_row_of {
  using type = std::remove_cvref_t<R>;
  static constexpr bool is_range = false;
};
template <class R>
requires std::ranges::input_range<R> &&
    reflectable<std::remove_cvref_t<std::ranges::range_value_t<R>>>
struct insert_row_of<R> {
  using type = std::remove_cvref_t<std::ranges::range_value_t<R>>;
  static constexpr bool is_range = true;
};

}  // namespace detail

namespace detail {
/// The parts of an insert, in the order it renders them.
enum class insert_part : std::size_t {
  rows,       ///< insert_one or insert_many
  conflict,   ///< conflict_do_nothing or conflict_do_update, or absent
  returning,  ///< returning_exprs or returning_all_columns, or absent
};
}  // namespace detail

template <class Exec, class T, class Parts>
class insert_query;

template <class Query, class... Target>
class on_conflict_clause;

/// An INSERT under construction; made by pgorm::insert(row) or pgorm::insert(range). Every
/// method returns a new builder. Identity columns are not written. Every other field's value is
/// written as it is (std::nullopt as NULL), except a pgorm::defaulted field that asks for the
/// default: its column takes its DEFAULT.
///
/// Run it with exec() (rows inserted), or after returning(...)/returning_all() with all(),
/// one() or first(); pass the executor (`exec(conn)`) or bind it first (`.bind(conn).exec()`).
/// Throws usage_error before sending when the rows need more than 65535 parameters (except
/// when exec() uses COPY: see insert_copy_threshold).
template <class Exec, class T, class Parts>
class insert_query : public detail::builder<insert_query<Exec, T, Parts>, Exec> {
  using part = detail::insert_part;
  using Rows = typename Parts::template type<part::rows>;
  using Conflict = typename Parts::template type<part::conflict>;
  using Returning = typename Parts::template type<part::returning>;

 public:
  static constexpr bool is_pgorm_insert = true;
  /// The struct whose table is written.
  using table_type = T;
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;
  /// Whether the SQL text depends only on the type (one row, static clauses).
  static constexpr bool is_static = Parts::is_static;
  /// It writes.
  static constexpr sql_effect effect = sql_effect::writes;

  insert_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

  // ---- clauses ----

  /// ON CONFLICT (cols...): continue with do_nothing() or do_update(...). Without columns,
  /// only do_nothing() is allowed (any conflict skips the row).
  ///
  /// Example: `pgorm::insert(u).on_conflict(pgorm::col<&User::email>).do_nothing()`
  template <class... C>
  auto on_conflict(const C&... /*columns*/) const {
    static_assert(!detail::present_v<Conflict>, "pgorm: on_conflict() was already called");
    static_assert((requires { C::member; } && ...),
                  "pgorm: on_conflict() takes the columns of a unique constraint or index, e.g. "
                  "pgorm::col<&User::email>");
    if constexpr ((requires { C::member; } && ...)) {
      static_assert((std::is_same_v<member_class_t<C::member>, T> && ...),
                    "pgorm: on_conflict() names columns of the table being inserted into only");
    }
    return on_conflict_clause<insert_query, C...>(*this);
  }

  /// WHERE cond of ON CONFLICT ... DO UPDATE: update the existing row only when cond holds.
  /// Column references are to the existing row; pgorm::excluded<&T::m> is the proposed one.
  template <class C>
  auto where(const C& cond) const {
    static_assert(detail::is_do_update_v<Conflict>,
                  "pgorm: where() on an insert filters its on_conflict(...).do_update(...); call "
                  "it after do_update()");
    if constexpr (detail::is_do_update_v<Conflict>) {
      if constexpr (detail::check_where<T, C, decltype(Conflict::where)>()) {
        return with_where(parts_.template get<part::conflict>(), cond);
      }
    }
  }

  /// RETURNING these columns or expressions of T: rows come back as std::tuple.
  ///
  /// Example: `auto [id] = pgorm::insert(u).returning(pgorm::col<&User::id>).one(conn);`
  template <class... E>
  auto returning(const E&... exprs) const {
    if constexpr (detail::check_returning<T, Returning, E...>()) {
      return with_part(detail::part_at<part::returning>,
                       detail::returning_exprs<E...>{{}, {exprs...}});
    }
  }

  /// RETURNING every column: rows come back as T, with identity and default values filled in.
  auto returning_all() const {
    static_assert(!detail::present_v<Returning>, "pgorm: returning was already chosen");
    return with_part(detail::part_at<part::returning>, detail::returning_all_columns<T>{});
  }

  /// Writes only these columns of the rows, in this order (INSERT INTO t (a, b) ...): every
  /// other column takes its DEFAULT (NULL when it has none), whatever the rows' fields hold.
  /// A listed pgorm::defaulted field still asks for the default when it holds none. Such an
  /// insert always runs as INSERT (never COPY).
  ///
  /// Example: `pgorm::insert(u).columns(pgorm::col<&User::email>, pgorm::col<&User::name>)`
  template <class... C>
  auto columns(const C&... /*cols*/) const {
    if constexpr (detail::check_insert_columns<T, Rows, C...>()) {
      return with_part(detail::part_at<part::rows>, detail::listed_rows<T, Rows, C::member...>{
                                                        parts_.template get<part::rows>()});
    }
  }

  /// From `rows` rows on, exec() writes with binary COPY instead of INSERT when it can (see
  /// pgorm::insert_copy_threshold, the default). SIZE_MAX: never.
  ///
  /// Example: `pgorm::insert(users).copy_threshold(100).exec(conn);`
  auto copy_threshold(std::size_t rows) const {
    static_assert(detail::is_insert_many_v<Rows>,
                  "pgorm: copy_threshold() applies to insert(range); one row is never copied");
    Rows r = parts_.template get<part::rows>();
    if constexpr (detail::is_insert_many_v<Rows>) r.copy_threshold = rows;
    return with_part(detail::part_at<part::rows>, std::move(r));
  }

 private:
  using base = detail::builder<insert_query, Exec>;
  friend base;
  friend class detail::runner<insert_query, Exec>;
  friend struct detail::renders_from<insert_query>;
  template <class, class...>
  friend class on_conflict_clause;
  using base::with_part;

  template <class NewConflict>
  auto with_conflict(NewConflict conflict) const {
    return with_part(detail::part_at<part::conflict>, std::move(conflict));
  }

  // ---- what the runner asks (detail::runner) ----

  static consteval bool check_run() { return true; }
  static consteval bool check_reads_rows() { return detail::check_returns_rows<Returning>(); }
  [[nodiscard]] bool sends_nothing() const noexcept {
    return parts_.template get<part::rows>().size() == 0;
  }
  /// to_sql() of an empty range: there is no statement to show.
  void check_to_sql() const {
    if (sends_nothing()) throw usage_error("pgorm: insert() of an empty range sends nothing");
  }

  /// exec() of a range of at least copy_threshold() rows without returning/on_conflict: the
  /// rows written with COPY (std::nullopt: run the INSERT). COPY needs the connection itself: a
  /// connection, a transaction's, or one from a pool.
  template <class E>
  std::optional<std::int64_t> exec_shortcut(E& exec) const {
    const std::span<const T> rows = rows_for_copy();
    if (!rows.empty()) {
      if constexpr (std::is_same_v<E, connection>) {
        return detail::insert_via_copy<T>(exec, rows);
      } else if constexpr (requires {
                             { exec.conn() } -> std::same_as<connection&>;
                           }) {
        return detail::insert_via_copy<T>(exec.conn(), rows);
      } else if constexpr (requires { exec.with_connection([](connection&) { return 0; }); }) {
        return exec.with_connection([&](connection& c) -> std::optional<std::int64_t> {
          if (auto copied = detail::insert_via_copy<T>(c, rows)) return copied;
          return detail::run(*this, c).affected_rows();
        });
      }
    }
    return std::nullopt;
  }

 public:
  /// The rows exec() writes with COPY rather than INSERT when their pgorm::defaulted fields
  /// allow it (see insert_copy_threshold): those of an insert(range) of at least
  /// copy_threshold() rows without on_conflict() or returning(); else none. The async exec()
  /// follows the same rule.
  ///
  /// Example: `bool copies = !pgorm::insert(users).rows_for_copy().empty();`
  [[nodiscard]] std::span<const T> rows_for_copy() const noexcept {
    if constexpr (detail::is_insert_many_v<Rows> && !detail::present_v<Conflict> &&
                  !detail::present_v<Returning>) {
      const Rows& rows = parts_.template get<part::rows>();
      if (rows.rows.size() >= rows.copy_threshold) return rows.rows;
    }
    return {};
  }

 private:
  template <class S, class W, class... Target, class C>
  auto with_where(const detail::conflict_do_update<S, W, Target...>& c, const C& cond) const {
    return with_conflict(detail::conflict_do_update<S, C, Target...>{{}, c.sets, cond});
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    const auto& parts = detail::part(q, &insert_query::parts_);
    w.qualify = false;
    w.append("INSERT INTO ");
    w.append(table<T>::qualified_name);
    w.append(" (");
    if constexpr (detail::is_listed_rows_v<Rows>) {
      Rows::render_columns(w);
    } else {
      w.append(detail::insert_columns_v<T>.view());
    }
    w.append(") VALUES ");
    std::size_t n = 1;
    if constexpr (!Rows::is_static) n = detail::clause<part::rows>(parts).size();
    for (std::size_t i = 0; i != n; ++i) {
      if (i != 0) w.append(", ");
      if constexpr (detail::is_listed_rows_v<Rows>) {
        Rows::render_row(w);
      } else {
        detail::render_insert_row<T>(w);
      }
    }
    detail::render_expr(w, detail::clause<part::conflict>(parts));
    detail::render_expr(w, detail::clause<part::returning>(parts));
  }

  Parts parts_;
};

/// The ON CONFLICT (cols) part of an insert, waiting for do_nothing() or do_update(...).
template <class Query, class... Target>
class on_conflict_clause {
 public:
  explicit on_conflict_clause(Query query) : query_(std::move(query)) {}

  /// ON CONFLICT ... DO NOTHING: conflicting rows are skipped (exec() does not count them).
  auto do_nothing() const { return query_.with_conflict(detail::conflict_do_nothing<Target...>{}); }

  /// ON CONFLICT (cols) DO UPDATE SET ...: update the existing row instead. Read the proposed
  /// values with pgorm::excluded<&T::m>; add .where(cond) to update only some rows.
  ///
  /// Example: `.do_update(pgorm::col<&User::name> = pgorm::excluded<&User::name>)`
  template <class... A>
  auto do_update(const A&... assignments) const {
    using T = typename Query::table_type;
    static_assert(sizeof...(Target) > 0,
                  "pgorm: do_update() needs the conflict's columns: on_conflict(pgorm::col<&T::a>, "
                  "...); only do_nothing() works without them");
    static_assert(sizeof...(A) > 0,
                  "pgorm: do_update() needs at least one assignment such as "
                  "pgorm::col<&User::name> = pgorm::excluded<&User::name>");
    if constexpr (sizeof...(Target) > 0 && sizeof...(A) > 0) {
      if constexpr (detail::check_assignments<T, A...>()) {
        return query_.with_conflict(
            detail::conflict_do_update<std::tuple<A...>, detail::absent, Target...>{
                {}, std::tuple<A...>(assignments...), {}});
      }
    }
  }

 private:
  Query query_;
};

namespace detail {
/// A new insert of `rows` into T's table, without ON CONFLICT or RETURNING.
template <class T, class Rows>
auto new_insert(Rows rows) {
  using parts = clause_set<Rows, absent, absent>;
  return insert_query<unbound, T, parts>(nullptr, parts{{{std::move(rows)}, {}, {}}});
}
}  // namespace detail

/// Starts an INSERT of one struct (its table comes from the type), or of every element of a
/// range (std::vector, std::span, ...) in one statement. `insert<T>(...)` names the table and
/// rejects rows of another struct. A contiguous lvalue range (a std::vector variable, a
/// std::span, an array) is read in place: keep it alive and unchanged until the statement has
/// run. An rvalue container is moved into the builder, other ranges are copied.
///
/// Example: `pgorm::insert(User{.email = "a@b.c"}).exec(conn);`
/// Example: `auto ids = pgorm::insert(users).returning(pgorm::col<&User::id>).all(conn);`
template <class T = void, class R>
auto insert(R&& row_or_range) {
  using info = detail::insert_row_of<R>;
  using row = typename info::type;
  static_assert(reflectable<row>,
                "pgorm: insert() takes a struct that maps to a table, or a range of them");
  static_assert(std::is_void_v<T> || std::is_same_v<T, row>,
                "pgorm: insert<T>(row) inserts into T's table and takes a T (or a range of T); "
                "this row is a struct of another table");
  if constexpr (reflectable<row> && (std::is_void_v<T> || std::is_same_v<T, row>)) {
    static_assert(detail::insert_column_count<row>() > 0,
                  "pgorm: this table has only identity columns; there is nothing to insert");
    [[maybe_unused]] constexpr bool fields_ok = detail::check_insert_fields<row>();
    if constexpr (info::is_range) {
      using many = detail::insert_many<row>;
      if constexpr (std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                    std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<R>>, row> &&
                    (std::is_lvalue_reference_v<R> || std::ranges::borrowed_range<R>)) {
        // The caller's rows, in place: no copy (they must outlive the statement's run).
        return detail::new_insert<row>(many::borrowing(std::span<const row>(
            std::ranges::data(row_or_range), std::ranges::size(row_or_range))));
      } else {
        std::vector<row> rows;
        if constexpr (std::ranges::sized_range<R>) rows.reserve(std::ranges::size(row_or_range));
        if constexpr (std::is_rvalue_reference_v<R&&> &&
                      !std::is_const_v<std::remove_reference_t<R>>) {
          for (auto&& r : row_or_range) rows.push_back(std::move(r));
        } else {
          for (const auto& r : row_or_range) rows.push_back(r);
        }
        return detail::new_insert<row>(many::owning(std::move(rows)));
      }
    } else {
      return detail::new_insert<row>(detail::insert_one<row>{std::forward<R>(row_or_range)});
    }
  }
}

}  // namespace pgorm
