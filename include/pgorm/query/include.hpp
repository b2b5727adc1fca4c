// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Relation loading in one round trip: `select<User>().include(pgorm::rel<&Session::user_id>)`
/// returns each user with a std::vector<Session> (Prisma's `include: { sessions: true }`,
/// Drizzle's `with: { sessions: true }`). Relations come from the foreign keys declared in
/// table_traits (docs/tables.md): 1-n (the parent's rows referenced by the included table) and
/// n-1 (the row the parent references; std::optional when the foreign key column is), and
/// n-m through a join table holding a foreign key to each side (pgorm::rel_through,
/// pgorm::rel_via).
///
/// Each included relation is one correlated subquery in the select list that gathers the
/// related rows into an array of records, `ARRAY(SELECT ROW(...) FROM child WHERE child.fk =
/// parent.key ... ORDER BY ... LIMIT n)`; its text is computed at compile time like the rest
/// of the select, and the records are decoded in binary with the columns' own codecs (no
/// JSON). A 1-n relation's records under a parent row of the parent table's struct leave out
/// the foreign key when it is an integer equal to the parent's key: the decoder refills it.
/// A table's relation to itself (an employee's manager, their reports: pgorm::rel_many) reads
/// the related rows under an alias; an n-m relation's subquery joins the join table to the
/// related rows. Keyset pagination (page(), after(), ...) pages the parent rows. See
/// docs/queries.md, "Relations".
///
/// ```cpp
/// #include "pgorm/query/include.hpp"
/// auto rows = pgorm::select<User>()
///                 .include(pgorm::rel<&Session::user_id>.order_by(pgorm::col<&Session::id>))
///                 .all(conn);
/// for (const auto& [user, sessions] : rows) { /* ... */ }
/// ```

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/detail/byte_order.hpp"
#include "pgorm/detail/codec_array.hpp"
#include "pgorm/detail/codec_record.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/oids.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/read_field.hpp"
#include "pgorm/row.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

/// A row with its related rows: `row` (the parent, as the select would return it without
/// include()), then one member of `children` per include(), in order: a std::vector for a 1-n
/// relation, the row (std::optional when the foreign key is nullable) for an n-1 relation.
/// Unpack it with structured bindings: `for (auto& [user, sessions] : rows)`.
///
/// Example: `pgorm::related<User, std::vector<Session>> r; r.row.email; r.get<1>().size();`
template <class T, class... Children>
struct related {
  T row;                             ///< the parent row
  std::tuple<Children...> children;  ///< the related rows, one per include()

  /// Element I: the row for 0, else the related rows of the I-th include().
  template <std::size_t I>
  [[nodiscard]] auto& get() & noexcept {
    if constexpr (I == 0) {
      return row;
    } else {
      return std::get<I - 1>(children);
    }
  }
  template <std::size_t I>
  [[nodiscard]] const auto& get() const& noexcept {
    if constexpr (I == 0) {
      return row;
    } else {
      return std::get<I - 1>(children);
    }
  }
  template <std::size_t I>
  [[nodiscard]] auto&& get() && noexcept {
    if constexpr (I == 0) {
      return std::move(row);
    } else {
      return std::get<I - 1>(std::move(children));
    }
  }

  friend bool operator==(const related&, const related&) = default;
};

namespace detail {

/// A relation named by a foreign key column, e.g. &Session::user_id: 1-n from the referenced
/// table, n-1 from the referencing one; the related rows go by Alias ("": none, or pgorm's own
/// for a table's relation to itself).
template <auto Member, fixed_string Alias>
struct fk_key {};
/// The 1-n direction of a foreign key column: the rows whose Member references the parent.
template <auto Member, fixed_string Alias>
struct fk_many_key {};
/// A relation named by the table at its other end (the one foreign key between the two).
template <class T>
struct table_key {};
/// A many-to-many relation through a join table, named by the join table's two foreign key
/// columns: ToParent references the parent table, ToRelated the related one.
template <auto ToParent, auto ToRelated, fixed_string Alias>
struct through_key {};
/// A many-to-many relation through the join table Link, its two foreign keys found.
template <class Link, fixed_string Alias>
struct link_key {};

template <class T>
struct is_relation : std::false_type {};

}  // namespace detail

/// An included relation: which foreign key, and the where(), order_by(), limit(), nested
/// include() and partial select<Row>() of the related rows. Made by pgorm::rel,
/// pgorm::rel_many, pgorm::rel_to, pgorm::rel_through and pgorm::rel_via, each method returning
/// a new relation. Row is void for the related table's
/// struct.
///
/// Example:
/// `pgorm::rel<&Message::conversation_id>.order_by(pgorm::col<&Message::id>.desc()).limit(20)`
template <class Key, class Where, class Order, class Limit, class Nested, class Row = void>
struct relation {
  Where filter;   ///< the where() condition, or detail::absent
  Order order;    ///< the order_by() terms, a std::tuple
  Limit count;    ///< the limit(), or detail::absent
  Nested nested;  ///< the nested include()s, a std::tuple of relations

  /// Only the related rows for which `cond` holds (Prisma's `where` inside `include`). Its
  /// columns are the related table's.
  template <class C>
  [[nodiscard]] constexpr auto where(const C& cond) const {
    static_assert(condition<C>,
                  "pgorm: where() takes a condition such as pgorm::col<&Session::token> == t");
    static_assert(!detail::present_v<Where>,
                  "pgorm: where() was already called on this relation; combine conditions "
                  "with && and ||");
    return relation<Key, C, Order, Limit, Nested, Row>{cond, order, count, nested};
  }
  /// The order of the related rows (Prisma's `orderBy`): columns, `col<...>.desc()`, ...
  template <class... O>
  [[nodiscard]] constexpr auto order_by(const O&... items) const {
    static_assert(sizeof...(O) > 0, "pgorm: order_by() needs at least one column");
    auto terms = std::tuple_cat(order, std::make_tuple(as_order(items)...));
    return relation<Key, Where, decltype(terms), Limit, Nested, Row>{filter, std::move(terms),
                                                                     count, nested};
  }
  /// At most n related rows per parent row (Prisma's `take`).
  [[nodiscard]] constexpr auto limit(std::int64_t n) const {
    static_assert(!detail::present_v<Limit>, "pgorm: limit() was already called on this relation");
    using limit_t = detail::count_clause<" LIMIT ">;
    return relation<Key, Where, Order, limit_t, Nested, Row>{filter, order, limit_t{{}, n}, nested};
  }
  /// Nested relations of the related rows: each related row becomes a pgorm::related.
  template <class... R>
  [[nodiscard]] constexpr auto include(const R&... relations) const {
    static_assert((detail::is_relation<R>::value && ...),
                  "pgorm: include() takes relations: pgorm::rel<&Message::conversation_id> or "
                  "pgorm::rel_to<Message>");
    auto all = std::tuple_cat(nested, std::make_tuple(relations...));
    return relation<Key, Where, Order, Limit, decltype(all), Row>{filter, order, count,
                                                                  std::move(all)};
  }
  /// Nested relations named by their table: include<Message>().
  template <class... T>
  [[nodiscard]] constexpr auto include() const {
    return include(relation<detail::table_key<T>, detail::absent, std::tuple<>, detail::absent,
                            std::tuple<>>{}...);
  }
  /// Reads the related rows into struct P, its fields taken by name from the related table's
  /// columns (a partial select of the children).
  template <class P>
  [[nodiscard]] constexpr auto select() const {
    static_assert(reflectable<P>, "pgorm: select<P>() on a relation takes a struct");
    return relation<Key, Where, Order, Limit, Nested, P>{filter, order, count, nested};
  }

 private:
  template <class O>
  static constexpr auto as_order(const O& item) {
    if constexpr (order_item<O>) {
      return item;
    } else {
      static_assert(expression<O>,
                    "pgorm: order_by() takes columns or expressions, or their .desc()");
      return order_term<O>{{}, item};
    }
  }
};

namespace detail {
template <class K, class W, class O, class L, class N, class R>
struct is_relation<relation<K, W, O, L, N, R>> : std::true_type {};
}  // namespace detail

/// The relation of the foreign key column `Member`: from the referenced table's rows,
/// `rel<&Session::user_id>` loads each user's sessions (1-n); from the referencing table's
/// rows, each session's user (n-1). Naming the column picks one foreign key when two point at
/// the same table (`rel<&Message::sender_id>`, `rel<&Message::recipient_id>`).
///
/// `Alias` names the related rows in the statement; the relation's where() and order_by() then
/// name their columns through it (`col<&Employee::name, "manager">`). A table's relation to
/// itself is read under an alias (pgorm picks one when none is given): from an employee,
/// `rel<&Employee::manager_id>` is the employee's manager, and pgorm::rel_many names the other
/// direction, the employees they manage.
///
/// Example: `pgorm::select<User>().include(pgorm::rel<&Session::user_id>)`
template <auto Member, detail::fixed_string Alias = "">
inline constexpr relation<detail::fk_key<Member, Alias>, detail::absent, std::tuple<>,
                          detail::absent, std::tuple<>>
    rel{};

/// The 1-n direction of the foreign key column `Member`, whatever the parent table: the rows
/// whose `Member` references the parent row. The same as pgorm::rel from the referenced table,
/// and the only spelling of the children of a table's relation to itself: from an employee,
/// `rel_many<&Employee::manager_id>` is the list of employees whose manager they are. `Alias`
/// as for pgorm::rel.
///
/// Example: `pgorm::select<Employee>().include(pgorm::rel_many<&Employee::manager_id,
/// "reports">.order_by(pgorm::col<&Employee::name, "reports">))`
template <auto Member, detail::fixed_string Alias = "">
inline constexpr relation<detail::fk_many_key<Member, Alias>, detail::absent, std::tuple<>,
                          detail::absent, std::tuple<>>
    rel_many{};

/// The relation to table T through the one foreign key between T and the parent table, in
/// either direction; a compile error when there are several (name one with pgorm::rel).
///
/// Example: `pgorm::select<User>().include(pgorm::rel_to<Session>.limit(5))`
template <class T>
inline constexpr relation<detail::table_key<T>, detail::absent, std::tuple<>, detail::absent,
                          std::tuple<>>
    rel_to{};

/// A many-to-many relation through a join table (Prisma's implicit m-n, Drizzle's relation
/// through a junction table), named by the join table's two foreign key columns: `ToParent`
/// references the parent table, `ToRelated` the table whose rows are loaded. From users,
/// `rel_through<&Membership::user_id, &Membership::group_id>` is each user's groups, a
/// std::vector<Group>, read in the same statement by joining the join table. The relation's
/// where() and order_by() may name columns of the related table and of the join table
/// (`col<&Membership::joined_at>`); limit() and include() as for pgorm::rel. `Alias` names the
/// related rows, as for pgorm::rel (pgorm picks one for a table related to itself).
///
/// Example: `pgorm::select<User>().include(pgorm::rel_through<&Membership::user_id,
/// &Membership::group_id>.order_by(pgorm::col<&Group::name>))`
template <auto ToParent, auto ToRelated, detail::fixed_string Alias = "">
inline constexpr relation<detail::through_key<ToParent, ToRelated, Alias>, detail::absent,
                          std::tuple<>, detail::absent, std::tuple<>>
    rel_through{};

/// pgorm::rel_through with the join table named, `rel_via<Membership>`: its one foreign key to
/// the parent table and its one other foreign key, to the related table. A compile error when
/// the join table has no such pair, or several (name the columns with pgorm::rel_through).
///
/// Example: `pgorm::select<User>().include(pgorm::rel_via<Membership>)`
template <class Link, detail::fixed_string Alias = "">
inline constexpr relation<detail::link_key<Link, Alias>, detail::absent, std::tuple<>,
                          detail::absent, std::tuple<>>
    rel_via{};

namespace detail {

inline constexpr std::size_t no_fk = static_cast<std::size_t>(-1);

/// The foreign keys of Owner that reference Target: how many, and the first one's position.
template <class Owner, class Target>
consteval std::array<std::size_t, 2> fks_to() {
  return []<std::size_t... J>(std::index_sequence<J...>) {
    std::array<std::size_t, 2> out{0, no_fk};
    (
        [&] {
          if constexpr (std::is_same_v<typename fk_target<Owner, J>::table_type, Target>) {
            if (out[0] == 0) out[1] = J;
            ++out[0];
          }
        }(),
        ...);
    return out;
  }
  (std::make_index_sequence<option_count_v<Owner, foreign_keys_tag>>{});
}

/// The position of Owner's single-column foreign key on column `column`, or no_fk.
template <class Owner>
consteval std::size_t fk_on_column(std::size_t column) {
  for (std::size_t j = 0; j != table<Owner>::foreign_keys.size(); ++j) {
    const auto& cols = table<Owner>::foreign_keys[j].column_indices;
    if (cols.size() == 1 && cols[0] == column) return j;
  }
  return no_fk;
}

/// The referenced columns of Owner's foreign key J, as column indexes of its target.
template <class Owner, std::size_t J>
inline constexpr auto fk_referenced_v = indices_of<typename fk_target<Owner, J>::table_type>(
    set_members(option_item<Owner, foreign_keys_tag, J>().references));

/// Where a related row's foreign key can be left out of its record and refilled from its parent
/// row: the child struct E's field `child` holds E's one foreign key to the parent struct P
/// (single-column, to P's field `parent`), both fields of one integral type, whose equal
/// values are always the same value. include() leaves that column out of the records of a
/// 1-n relation whose parent row is P itself; the decoder refills it from the parent row when
/// a record comes one column short (docs/performance.md, "include").
struct fk_refill_spec {
  bool ok = false;
  std::size_t child = 0;
  std::size_t parent = 0;
};

template <class P, class E>
consteval fk_refill_spec fk_refill() {
  if constexpr (!reflectable<P> || !reflectable<E> || std::is_same_v<P, E>) {
    return {};
  } else {
    constexpr auto to = fks_to<E, P>();
    if constexpr (to[0] != 1) {
      return {};
    } else if constexpr (table<E>::foreign_keys[to[1]].column_indices.size() != 1) {
      return {};
    } else {
      constexpr std::size_t c =
          table<E>::columns[table<E>::foreign_keys[to[1]].column_indices[0]].index;
      constexpr std::size_t r = table<P>::columns[fk_referenced_v<E, to[1]>[0]].index;
      using child_field = field_type_t<E, c>;
      using parent_field = field_type_t<P, r>;
      if constexpr (std::is_same_v<child_field, parent_field> && std::is_integral_v<child_field> &&
                    !std::is_same_v<child_field, bool>) {
        return {true, c, r};
      } else {
        return {};
      }
    }
  }
}
template <class P, class E>
inline constexpr fk_refill_spec fk_refill_v = fk_refill<P, E>();

/// The row a select's own columns are read into, as far as include() needs it to leave a
/// foreign key out: the table's struct for select<T>(), P for select<P>(), else void.
template <class Base>
struct parent_row_of {
  using type = void;
};
template <class Ref>
struct parent_row_of<whole_rows<Ref>> {
  using type = typename Ref::type;
};
template <class P, class From>
struct parent_row_of<mapped_row<P, From>> {
  using type = P;
};

/// A relation resolved against the parent table P: `valid` (else a static_assert said why),
/// `child` (the related table), `many` (1-n: the child holds the foreign key), `owner` and
/// `fk` (the table holding the foreign key, and its position there).
template <class P, class Key>
struct resolved_relation;

template <class P, auto Member, fixed_string Alias>
struct resolved_relation<P, fk_key<Member, Alias>> {
  static constexpr auto alias = Alias;
  static_assert(data_member_pointer<decltype(Member)>,
                "pgorm: rel<...> takes a foreign key column, e.g. pgorm::rel<&Session::user_id>");
  using owner = member_class_t<Member>;
  static constexpr std::size_t fk = fk_on_column<owner>(member_index_v<Member>);
  static_assert(fk != no_fk,
                "pgorm: rel<&T::column> names a column with a single-column foreign key "
                "declared in table_traits<T>::foreign_keys; this column has none");
  static constexpr bool many = !std::is_same_v<owner, P>;
  using target = typename fk_target<owner, (fk == no_fk ? 0 : fk)>::table_type;
  using child = std::conditional_t<many, owner, target>;
  static constexpr bool links = !many || std::is_same_v<target, P>;
  static_assert(fk == no_fk || links,
                "pgorm: this foreign key does not link the included table to the parent "
                "table: rel<&T::column> needs a column of the parent's table, or of a table "
                "referencing it");
  static constexpr bool valid = fk != no_fk && links;
};

template <class P, auto Member, fixed_string Alias>
struct resolved_relation<P, fk_many_key<Member, Alias>> {
  static constexpr auto alias = Alias;
  static_assert(data_member_pointer<decltype(Member)>,
                "pgorm: rel_many<...> takes a foreign key column, e.g. "
                "pgorm::rel_many<&Employee::manager_id>");
  using owner = member_class_t<Member>;
  static constexpr std::size_t fk = fk_on_column<owner>(member_index_v<Member>);
  static_assert(fk != no_fk,
                "pgorm: rel<&T::column> names a column with a single-column foreign key "
                "declared in table_traits<T>::foreign_keys; this column has none");
  static constexpr bool many = true;
  using target = typename fk_target<owner, (fk == no_fk ? 0 : fk)>::table_type;
  using child = owner;
  static constexpr bool links = std::is_same_v<target, P>;
  static_assert(fk == no_fk || links,
                "pgorm: this foreign key does not link the included table to the parent "
                "table: rel_many<&T::column> needs a column whose foreign key references the "
                "parent's table");
  static constexpr bool valid = fk != no_fk && links;
};

template <class P, class T>
struct resolved_relation<P, table_key<T>> {
  static constexpr fixed_string<0> alias{};
  static_assert(reflectable<T>, "pgorm: include<T>() takes a table's struct");
  static_assert(!std::is_same_v<T, P>,
                "pgorm: a table's relation to itself has two directions; name it by its "
                "column: pgorm::rel<&T::column> (the row each row references) or "
                "pgorm::rel_many<&T::column> (the rows referencing each row)");
  static constexpr auto down = fks_to<T, P>();  // T references P: 1-n
  static constexpr auto up = fks_to<P, T>();    // P references T: n-1
  static constexpr std::size_t found = std::is_same_v<T, P> ? 1 : down[0] + up[0];
  static_assert(found != 0,
                "pgorm: include<T>() needs a foreign key between T and the parent table, "
                "declared in table_traits::foreign_keys (in either direction)");
  static_assert(found <= 1,
                "pgorm: more than one foreign key links these tables; name the relation by "
                "its column: include(pgorm::rel<&T::column>)");
  static constexpr bool many = down[0] == 1;
  using owner = std::conditional_t<many, T, P>;
  static constexpr std::size_t fk = many ? down[1] : up[1];
  using child = T;
  static constexpr bool valid = found == 1 && !std::is_same_v<T, P>;
};

/// fk_target<T, J> when Valid, else a stand-in whose table is Fallback (no further errors
/// after the static_assert that said why the relation is invalid).
template <bool Valid, class T, std::size_t J, class Fallback>
struct fk_target_or {
  using table_type = Fallback;
};
template <class T, std::size_t J, class Fallback>
struct fk_target_or<true, T, J, Fallback> : fk_target<T, J> {};

/// A many-to-many relation resolved against the parent table P, as resolved_relation, with
/// `link` (the join table), `fk` (its foreign key to the related table, `owner` being the join
/// table) and `parent_fk` (its foreign key to P).
template <class P, class Link, std::size_t ParentFk, std::size_t RelatedFk, auto Alias, bool Valid>
struct resolved_through {
  static constexpr auto alias = Alias;
  using link = Link;
  using owner = Link;
  static constexpr std::size_t fk = RelatedFk;
  static constexpr std::size_t parent_fk = ParentFk;
  static constexpr bool many = true;
  using child = typename fk_target_or<Valid, Link, RelatedFk, P>::table_type;
  static_assert(!Valid || (!std::is_same_v<Link, P> && !std::is_same_v<Link, child>),
                "pgorm: a join table links two other tables: rel_through<> needs foreign keys of "
                "a third table, one to the parent table and one to the related table");
  static constexpr bool valid = Valid && !std::is_same_v<Link, P> && !std::is_same_v<Link, child>;
};

template <class P, auto ToParent, auto ToRelated, fixed_string Alias>
struct through_parts {
  static_assert(data_member_pointer<decltype(ToParent)> && data_member_pointer<decltype(ToRelated)>,
                "pgorm: rel_through<&J::to_parent, &J::to_related> takes two foreign key "
                "columns of a join table, e.g. pgorm::rel_through<&Membership::user_id, "
                "&Membership::group_id>");
  using link = member_class_t<ToParent>;
  static constexpr bool same_table = std::is_same_v<link, member_class_t<ToRelated>>;
  static_assert(same_table,
                "pgorm: both columns of rel_through<&J::to_parent, &J::to_related> are of the "
                "join table J");
  static constexpr std::size_t parent_fk = fk_on_column<link>(member_index_v<ToParent>);
  static constexpr std::size_t related_fk = fk_on_column<link>(member_index_v<ToRelated>);
  static constexpr bool keyed = parent_fk != no_fk && related_fk != no_fk;
  static_assert(!same_table || keyed,
                "pgorm: rel<&T::column> names a column with a single-column foreign key "
                "declared in table_traits<T>::foreign_keys; this column has none");
  static constexpr bool distinct = parent_fk != related_fk;
  static_assert(!same_table || !keyed || distinct,
                "pgorm: rel_through<&J::to_parent, &J::to_related> takes two different columns");
  static constexpr bool links_parent = [] {
    if constexpr (same_table && keyed) {
      return std::is_same_v<typename fk_target<link, parent_fk>::table_type, P>;
    } else {
      return false;
    }
  }();
  static_assert(!same_table || !keyed || !distinct || links_parent,
                "pgorm: the join table does not link the parent table: the first column of "
                "rel_through<&J::to_parent, &J::to_related> needs a foreign key referencing the "
                "parent's table");
  static constexpr bool valid = same_table && keyed && distinct && links_parent;
};

template <class P, auto ToParent, auto ToRelated, fixed_string Alias>
struct resolved_relation<P, through_key<ToParent, ToRelated, Alias>>
    : resolved_through<P, typename through_parts<P, ToParent, ToRelated, Alias>::link,
                       through_parts<P, ToParent, ToRelated, Alias>::valid
                           ? through_parts<P, ToParent, ToRelated, Alias>::parent_fk
                           : 0,
                       through_parts<P, ToParent, ToRelated, Alias>::valid
                           ? through_parts<P, ToParent, ToRelated, Alias>::related_fk
                           : 0,
                       Alias, through_parts<P, ToParent, ToRelated, Alias>::valid> {};

/// The foreign keys of Link that reference another table than P: how many, and the first one's
/// position.
template <class Link, class P>
consteval std::array<std::size_t, 2> fks_not_to() {
  return []<std::size_t... J>(std::index_sequence<J...>) {
    std::array<std::size_t, 2> out{0, no_fk};
    (
        [&] {
          if constexpr (!std::is_same_v<typename fk_target<Link, J>::table_type, P>) {
            if (out[0] == 0) out[1] = J;
            ++out[0];
          }
        }(),
        ...);
    return out;
  }
  (std::make_index_sequence<option_count_v<Link, foreign_keys_tag>>{});
}

template <class P, class Link, fixed_string Alias>
struct link_parts {
  static_assert(reflectable<Link>, "pgorm: rel_via<J> takes the join table's struct");
  static constexpr auto up = fks_to<Link, P>();
  static constexpr auto other = fks_not_to<Link, P>();
  static_assert(up[0] != 0,
                "pgorm: the join table does not link the parent table: rel_via<J> needs a "
                "foreign key of J referencing the parent's table");
  static_assert(up[0] <= 1,
                "pgorm: the join table has several foreign keys to the parent table; name the "
                "two columns: pgorm::rel_through<&J::to_parent, &J::to_related>");
  static_assert(up[0] != 1 || other[0] != 0,
                "pgorm: the join table links the parent table to no other table: rel_via<J> "
                "needs a second foreign key of J, to the related table");
  static_assert(up[0] != 1 || other[0] <= 1,
                "pgorm: the join table links the parent table to several tables; name the two "
                "columns: pgorm::rel_through<&J::to_parent, &J::to_related>");
  static constexpr bool valid = up[0] == 1 && other[0] == 1;
};

template <class P, class Link, fixed_string Alias>
struct resolved_relation<P, link_key<Link, Alias>>
    : resolved_through<P, Link,
                       link_parts<P, Link, Alias>::valid ? link_parts<P, Link, Alias>::up[1] : 0,
                       link_parts<P, Link, Alias>::valid ? link_parts<P, Link, Alias>::other[1] : 0,
                       Alias, link_parts<P, Link, Alias>::valid> {};

/// Whether a resolved relation goes through a join table.
template <class R>
inline constexpr bool through_link_v = requires {
  typename R::link;
};

/// "pgorm_t<Depth>": the alias pgorm gives the related rows of a table's relation to itself at
/// nesting depth Depth (1 for the select's own relations), distinct from every enclosing one.
template <std::size_t Depth>
consteval fixed_string<10> depth_alias() {
  static_assert(Depth < 1000, "pgorm: include()s nest at most 999 levels deep");
  fixed_string<10> out;
  out.append("pgorm_t");
  if constexpr (Depth >= 100) out.append(static_cast<char>('0' + Depth / 100));
  if constexpr (Depth >= 10) out.append(static_cast<char>('0' + Depth / 10 % 10));
  out.append(static_cast<char>('0' + Depth % 10));
  return out;
}

/// The alias of a relation's related rows: the one it was given, else pgorm's own for a
/// table's relation to itself, else none.
template <auto Given, bool Self, std::size_t Depth>
consteval auto child_alias() {
  if constexpr (Given.size() == 0 && Self) {
    return depth_alias<Depth>();
  } else {
    return Given;
  }
}

/// type_list<table_ref<join table>> for a many-to-many relation, else type_list<>.
template <class R>
auto link_refs_of() {
  if constexpr (through_link_v<R>) {
    return type_list<table_ref<typename R::link>>{};
  } else {
    return type_list<>{};
  }
}

// ---- order made on the client (docs/queries.md, "Relations"; docs/design.md) ----

/// Whether PostgreSQL's order of a column of C++ type F is the order of its decoded values
/// under <: integers (smallint, integer, bigint) and timestamptz, timestamp and date (decoded
/// by a monotonic shift, infinities to the time_point's min and max). Not text (collations),
/// floating point (NaN sorts last on the server), bool, numeric or std::optional.
template <class F>
inline constexpr bool client_orderable_v =
    (std::is_integral_v<F> && !std::is_same_v<F, bool> && !std::is_same_v<F, char>) ||
    std::is_same_v<F, std::chrono::sys_time<std::chrono::microseconds>> ||
    std::is_same_v<F, std::chrono::local_time<std::chrono::microseconds>> ||
    std::is_same_v<F, std::chrono::sys_days>;

/// One key of an order made on the client: the field of the related row's struct it reads,
/// and its direction.
struct client_key {
  bool ok = false;
  std::size_t field = 0;
  bool desc = false;
};

/// The client key of order_by() term Term of a relation whose related rows go by ChildRef and
/// are read into Row: ok when the term is a plain column of ChildRef, read into a field of Row
/// whose type is client_orderable_v (so NOT NULL).
template <class Term, class ChildRef, class Row>
consteval client_key client_key_of() {
  using E = typename Term::expr_type;
  if constexpr (!requires {
                  E::member;
                  typename E::table;
                }) {
    return {};
  } else if constexpr (!std::is_same_v<typename E::table, ChildRef>) {
    return {};  // a join table's column, or another table's
  } else {
    using child = typename ChildRef::type;
    constexpr std::size_t in_child = member_index_v<E::member>;
    constexpr std::size_t field = [] {
      if constexpr (std::is_same_v<Row, child>) {
        return in_child;
      } else {
        for (std::size_t i = 0; i != field_count_v<Row>; ++i) {
          if (field_names_v<Row>[i] == field_names_v<child>[in_child]) return i;
        }
        return field_count_v<Row>;  // not selected
      }
    }();
    if constexpr (field == field_count_v<Row>) {
      return {};
    } else if constexpr (!client_orderable_v<field_type_t<Row, field>> ||
                         table<child>::columns[in_child].nullable) {
      return {};
    } else {
      return {true, field, Term::direction == sort_direction::desc};
    }
  }
}

/// The keys of order_by() terms Order (the order is made on the client when every one is ok).
template <class Order, class ChildRef, class Row>
consteval auto client_keys() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<client_key, sizeof...(I)>{
        client_key_of<std::tuple_element_t<I, Order>, ChildRef, Row>()...};
  }
  (std::make_index_sequence<std::tuple_size_v<Order>>{});
}

/// The struct part of a related row: the row itself, or a pgorm::related's row.
template <class E>
constexpr auto& row_part(E& e) noexcept {
  if constexpr (requires { e.row; }) {
    return e.row;
  } else {
    return e;
  }
}

/// Sorts `rows` stably by `Keys`. Few rows per parent, mostly in order already (the order
/// the server stored them in): an insertion sort, which costs one comparison per row when the
/// rows are in order and allocates nothing; std::stable_sort for many rows.
template <auto Keys, class E>
void client_sort(std::vector<E>& rows) {
  const auto less = [](const E& a, const E& b) {
    bool result = false;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      // The first key whose values differ decides.
      (void)((get_field<Keys[K].field>(row_part(a)) != get_field<Keys[K].field>(row_part(b))
                  ? (result = Keys[K].desc ? get_field<Keys[K].field>(row_part(b)) <
                                                 get_field<Keys[K].field>(row_part(a))
                                           : get_field<Keys[K].field>(row_part(a)) <
                                                 get_field<Keys[K].field>(row_part(b)),
                     true)
                  : false) ||
             ...);
    }
    (std::make_index_sequence<Keys.size()>{});
    return result;
  };
  constexpr std::size_t insertion_limit = 64;
  if (rows.size() > insertion_limit) {
    std::stable_sort(rows.begin(), rows.end(), less);
    return;
  }
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (!less(rows[i], rows[i - 1])) continue;
    E moving = std::move(rows[i]);
    std::size_t j = i;
    do {
      rows[j] = std::move(rows[j - 1]);
      --j;
    } while (j != 0 && less(moving, rows[j - 1]));
    rows[j] = std::move(moving);
  }
}

/// The C++ type of one included relation, and how it renders and binds, for parent table
/// reference ParentRef, at nesting depth Depth (1 for the select's own relations), the parent
/// rows being read into ParentRow (void: a tuple or another shape).
template <class ParentRef, class Rel, std::size_t Depth = 1, class ParentRow = void>
struct relation_sql;

template <class ParentRef, class Key, class Where, class Order, class Limit, class... Nested,
          class Row, std::size_t Depth, class ParentRow>
struct relation_sql<ParentRef, relation<Key, Where, Order, Limit, std::tuple<Nested...>, Row>,
                    Depth, ParentRow> {
  using rel = relation<Key, Where, Order, Limit, std::tuple<Nested...>, Row>;
  using P = typename ParentRef::type;
  using res = resolved_relation<P, Key>;
  static constexpr bool valid = res::valid;
  using child = typename res::child;
  static constexpr bool self_relation = std::is_same_v<child, P>;
  using child_ref = table_ref<child, child_alias<res::alias, self_relation, Depth>()>;
  static constexpr bool many = res::many;
  /// Whether the related rows are reached through a join table (res::link), and its reference.
  static constexpr bool through = through_link_v<res>;
  using link_refs = decltype(link_refs_of<res>());
  /// The struct a related row is read into: the child table's, or select<Row>()'s.
  using row_struct = std::conditional_t<std::is_void_v<Row>, child, Row>;
  static constexpr std::size_t own_fields = field_count_v<row_struct>;
  /// The foreign key left out of each record, refilled from the parent row by the decoder
  /// (fk_refill): a 1-n relation read into the child table's struct under a parent row that is
  /// the parent table's struct.
  static constexpr fk_refill_spec refill = [] {
    if constexpr (valid && many && !through && std::is_void_v<Row> &&
                  std::is_same_v<ParentRow, P>) {
      return fk_refill_v<P, child>;
    } else {
      return fk_refill_spec{};
    }
  }();

  /// The name a table reference qualifies its columns with: its alias, or its table's name.
  template <class Ref>
  static consteval std::string_view qualifier_of() {
    if constexpr (Ref::alias.empty()) {
      return table_name_v<typename Ref::type>;
    } else {
      return Ref::alias;
    }
  }

  static consteval bool check() {
    using outside = list_difference_t<
        list_union_t<type_list<>, typename Where::tables, typename clause_list<Order>::tables>,
        list_union_t<type_list<child_ref>, link_refs>>;
    constexpr bool unaliased_self_columns =
        self_relation &&
        list_difference_t<outside, type_list<table_ref<child>>>::size != outside::size;
    static_assert(!unaliased_self_columns,
                  "pgorm: the related rows of a table's relation to itself go by an alias: "
                  "give the relation one, pgorm::rel<&T::column, \"manager\">, and name their "
                  "columns through it: pgorm::col<&T::name, \"manager\">");
    static_assert(unaliased_self_columns || through || outside::size == 0,
                  "pgorm: an include()'s where() and order_by() use columns of the included "
                  "table only");
    static_assert(unaliased_self_columns || !through || outside::size == 0,
                  "pgorm: a many-to-many include()'s where() and order_by() use columns of the "
                  "included table and of the join table only");
    if constexpr (through) {
      static_assert(qualifier_of<child_ref>() != table_name_v<typename res::link>,
                    "pgorm: the related rows must go by another name than the join table: give "
                    "the relation an alias of its own, pgorm::rel_through<..., \"other\">");
    }
    static_assert(qualifier_of<child_ref>() != qualifier_of<ParentRef>(),
                  "pgorm: the related rows must go by another name than their parent rows: "
                  "give the relation an alias of its own, pgorm::rel<&T::column, \"other\">");
    static_assert(many || (std::tuple_size_v<Order> == 0 && !present_v<Limit>),
                  "pgorm: order_by() and limit() apply to a 1-n relation (a list of rows); "
                  "this include() reads the one row the foreign key references");
    if constexpr (!std::is_void_v<Row>) {
      constexpr bool found = fields_found<Row, child>(std::make_index_sequence<own_fields>{});
      static_assert(found,
                    "pgorm: every field of the relation's select<P>() struct must name a field "
                    "of the included table's struct");
      if constexpr (found) {
        static_assert(
            fields_compatible<Row, child>(std::make_index_sequence<own_fields>{}),
            "pgorm: a field of the relation's select<P>() struct has another type than the "
            "column it is read from");
      }
    }
    return true;
  }
  static_assert(!valid || check());

  /// Whether the foreign key may be NULL (n-1 only): the related row is then optional.
  static constexpr bool nullable = [] {
    if constexpr (many || !valid) {
      return false;
    } else {
      for (std::size_t i : table<P>::foreign_keys[res::fk].column_indices) {
        if (table<P>::columns[i].nullable) return true;
      }
      return false;
    }
  }();

  using element_type =
      std::conditional_t<sizeof...(Nested) == 0, row_struct,
                         related<row_struct, typename relation_sql<child_ref, Nested, Depth + 1,
                                                                   row_struct>::value_type...>>;
  /// What the parent row holds for this relation.
  using value_type =
      std::conditional_t<many, std::vector<element_type>, maybe_optional_t<element_type, nullable>>;

  /// The order_by() keys when the related rows are ordered on the client: a 1-n relation
  /// without limit() whose order_by() names only columns of the related rows that are read into
  /// fields, NOT NULL, of a type whose server order is the order of their C++ values
  /// (client_orderable_v). The subquery then has no ORDER BY, and settle() sorts each parent's
  /// related rows stably by these keys: the same rows in the same order as the server's sort,
  /// ties aside, whose order the server does not define either. Saves the server a sort per
  /// parent row (docs/performance.md, "include").
  static constexpr auto client_order_keys = [] {
    if constexpr (valid && many && !present_v<Limit> && std::tuple_size_v<Order> != 0) {
      return client_keys<Order, child_ref, row_struct>();
    } else {
      return std::array<client_key, 0>{};
    }
  }();
  static constexpr bool client_order = [] {
    for (const client_key& k : client_order_keys) {
      if (!k.ok) return false;
    }
    return client_order_keys.size() != 0;
  }();
  /// Whether settle() has anything to do: this relation's order or a nested one's.
  static constexpr bool settles =
      client_order || (relation_sql<child_ref, Nested, Depth + 1, row_struct>::settles || ...);

  /// The step after decoding: the related rows of nested relations settled, then these
  /// sorted when ordered on the client.
  static void settle(value_type& value) {
    if constexpr (settles) {
      if constexpr (many) {
        if constexpr (sizeof...(Nested) != 0) {
          for (element_type& e : value) settle_nested(e);
        }
        if constexpr (client_order) client_sort<client_order_keys>(value);
      } else if constexpr (nullable) {
        if (value.has_value()) settle_nested(*value);
      } else {
        settle_nested(value);
      }
    }
  }

  static constexpr bool is_static =
      Where::is_static && clause_list<Order>::is_static &&
      (relation_sql<child_ref, Nested, Depth + 1, row_struct>::is_static && ...);
  static constexpr bool may_write =
      Where::may_write || clause_list<Order>::may_write ||
      (relation_sql<child_ref, Nested, Depth + 1, row_struct>::may_write || ...);

  template <class W>
  static constexpr void column(W& w, std::size_t index, bool of_child) {
    if (of_child) {
      child_ref::render_qualifier(w);
      w.append('.');
      w.append(table<child>::columns[index].sql_name);
    } else {
      ParentRef::render_qualifier(w);
      w.append('.');
      w.append(table<P>::columns[index].sql_name);
    }
  }

  /// `ARRAY(SELECT ROW(...) FROM child WHERE ... ORDER BY ... LIMIT n)` (1-n) or
  /// `(SELECT ROW(...) FROM ... WHERE ...)` (n-1) from a relation source (the object, or its
  /// shape). The array's elements are the subquery's rows in the subquery's order: the SQL
  /// standard's array constructor by query takes an ORDER BY for that, and PostgreSQL fills
  /// the array from the subquery's output in order. An ARRAY() subquery costs the server less
  /// than array_agg(... ORDER BY ...), which sorts inside the aggregate (docs/performance.md,
  /// "include"), and lets an index on (foreign key, order column) deliver the order.
  template <class W, class S>
  static constexpr void render(W& w, const S& self) {
    if constexpr (valid) {
      const bool outer_qualify = w.qualify;
      w.qualify = true;
      w.append(many ? "ARRAY(SELECT ROW(" : "(SELECT ROW(");
      bool first = true;
      for (std::size_t i = 0; i != own_fields; ++i) {
        if (refill.ok && i == refill.child) continue;
        if (!first) w.append(", ");
        first = false;
        if constexpr (std::is_void_v<Row>) {
          column(w, i, true);
        } else {
          column(w, field_named<child>(field_names_v<Row>[i]), true);
        }
      }
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
              w.append(", ");
              relation_sql<child_ref, Nested, Depth + 1, row_struct>::render(w,
                                                                             element_of<I>(self));
            }(),
            ...);
      }
      (std::index_sequence_for<Nested...>{});
      w.append(") FROM ");
      child_ref::render_from(w);
      if constexpr (through) {
        // FROM child JOIN link ON link.to_related = child.key WHERE link.to_parent = parent.key
        using link = typename res::link;
        w.append(" JOIN ");
        table_ref<link>::render_from(w);
        w.append(" ON ");
        link_match<res::fk>(w, true);
        w.append(" WHERE ");
        link_match<res::parent_fk>(w, false);
      } else {
        w.append(" WHERE ");
        const auto& fk_cols = table<typename res::owner>::foreign_keys[res::fk].column_indices;
        const auto& ref_cols = fk_referenced_v<typename res::owner, res::fk>;
        for (std::size_t k = 0; k != fk_cols.size(); ++k) {
          if (k != 0) w.append(" AND ");
          // 1-n: child.fk = parent.referenced; n-1: child.referenced = parent.fk.
          column(w, many ? fk_cols[k] : ref_cols[k], true);
          w.append(" = ");
          column(w, many ? ref_cols[k] : fk_cols[k], false);
        }
      }
      if constexpr (present_v<Where>) {
        w.append(" AND ");
        render_child(w, part(self, &rel::filter), prec_and + 1);
      }
      if constexpr (many && std::tuple_size_v < Order >> 0) {
        if (!client_order || w.server_order) {
          w.append(" ORDER BY ");
          render_comma_list(w, part(self, &rel::order));
        }
      }
      if constexpr (many && present_v<Limit>) render_expr(w, part(self, &rel::count));
      w.append(")");
      w.qualify = outer_qualify;
    }
  }

  /// The parameters, in the order render() writes their placeholders.
  static void bind(param_list& p, const rel& r) {
    if constexpr (valid) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (relation_sql<child_ref, Nested, Depth + 1, row_struct>::bind(p, std::get<I>(r.nested)),
         ...);
      }
      (std::index_sequence_for<Nested...>{});
      r.filter.bind(p);
      bind_each(p, r.order);
      r.count.bind(p);
    }
  }

 private:
  /// settle() of each nested relation of one related row.
  static void settle_nested(element_type& e) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (relation_sql<child_ref, Nested, Depth + 1, row_struct>::settle(std::get<I>(e.children)),
       ...);
    }
    (std::index_sequence_for<Nested...>{});
  }
  /// `link.c = child.k AND ...` (to the child) or `link.c = parent.k AND ...` (to the parent):
  /// the join table's foreign key Fk matched with the columns it references.
  template <std::size_t Fk, class W>
  static constexpr void link_match(W& w, bool of_child) {
    using link = typename res::link;
    const auto& fk_cols = table<link>::foreign_keys[Fk].column_indices;
    const auto& ref_cols = fk_referenced_v<link, Fk>;
    for (std::size_t k = 0; k != fk_cols.size(); ++k) {
      if (k != 0) w.append(" AND ");
      table_ref<link>::render_qualifier(w);
      w.append('.');
      w.append(table<link>::columns[fk_cols[k]].sql_name);
      w.append(" = ");
      column(w, ref_cols[k], of_child);
    }
  }
  template <std::size_t I, class S>
  static constexpr decltype(auto) element_of(const S& self) {
    return detail::element<I>(part(self, &rel::nested));
  }
};

/// The select list of a select with include(): the parent's columns (Base: whole_rows,
/// mapped_row or expr_list), then one column per included relation. A clause.
template <class Base, class ParentRef, class... Rels>
struct include_cols : renders_from<include_cols<Base, ParentRef, Rels...>> {
  using base_type = Base;
  static constexpr std::size_t column_count = Base::column_count + sizeof...(Rels);
  using tables = typename part_traits<Base>::tables;
  static constexpr bool is_static =
      part_traits<Base>::is_static &&
      (relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::is_static && ...);
  static constexpr bool may_write =
      part_traits<Base>::may_write ||
      (relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::may_write || ...);
  static constexpr bool has_aggregate = Base::has_aggregate;
  static constexpr bool has_bare_column = Base::has_bare_column;
  /// Whether a decoded row needs settle(): a relation, or a nested one, ordered on the client.
  static constexpr bool settles =
      (relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::settles || ...);

  Base base;
  std::tuple<Rels...> rels;

  /// The step after decoding a row (every terminal calls it, through the select's
  /// settle_row()): the related rows of each relation ordered on the client sorted.
  template <class P, class... C>
  static void settle(related<P, C...>& row) requires settles {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::settle(
           std::get<I>(row.children)),
       ...);
    }
    (std::index_sequence_for<Rels...>{});
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    render_expr(w, part(self, &include_cols::base));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            w.append(", ");
            relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::render(
                w, element<I>(part(self, &include_cols::rels)));
          }(),
          ...);
    }
    (std::index_sequence_for<Rels...>{});
  }
  void bind(param_list& p) const {
    bind_part(p, base);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::bind(
           p, std::get<I>(rels)),
       ...);
    }
    (std::index_sequence_for<Rels...>{});
  }
};

template <class Base, class ParentRef, class... Rels, class Nullable>
struct row_of<include_cols<Base, ParentRef, Rels...>, Nullable> {
  using type = related<
      typename row_of<Base, Nullable>::type,
      typename relation_sql<ParentRef, Rels, 1, typename parent_row_of<Base>::type>::value_type...>;
};

/// What select_query::include() calls (declared in query/select.hpp): the select list with
/// these relations added.
template <class From, class Cols>
struct include_hook {
  template <class... R>
  static auto add(const Cols& cols, const R&... relations) {
    static_assert(!std::is_same_v<From, no_from>,
                  "pgorm: include() needs the parent table: call from<T>() first");
    static_assert((is_relation<R>::value && ...),
                  "pgorm: include() takes relations: pgorm::rel<&Session::user_id> or "
                  "pgorm::rel_to<Session>; or name tables: include<Session>()");
    static_assert(sizeof...(R) > 0, "pgorm: include() needs at least one relation");
    return include_cols<Cols, From, R...>{{}, cols, {relations...}};
  }
  template <class... T>
  static auto add_tables(const Cols& cols) {
    return add(cols, rel_to<T>...);
  }
};
template <class From, class Base, class ParentRef, class... Rels>
struct include_hook<From, include_cols<Base, ParentRef, Rels...>> {
  template <class... R>
  static auto add(const include_cols<Base, ParentRef, Rels...>& cols, const R&... relations) {
    static_assert((is_relation<R>::value && ...),
                  "pgorm: include() takes relations: pgorm::rel<&Session::user_id> or "
                  "pgorm::rel_to<Session>; or name tables: include<Session>()");
    return include_cols<Base, ParentRef, Rels..., R...>{
        {}, cols.base, std::tuple_cat(cols.rels, std::make_tuple(relations...))};
  }
  template <class... T>
  static auto add_tables(const include_cols<Base, ParentRef, Rels...>& cols) {
    return add(cols, rel_to<T>...);
  }
};

// ---- decoding: arrays of records, records (detail/codec_record.hpp) ----

/// The error paths of a related row's field: they name the included table and its column.
struct related_field_errors {
  field_context ctx;

  template <class F>
  [[noreturn, gnu::cold, gnu::noinline]] void null() const {
    throw_unexpected_null(ctx, cpp_type_name<F>());
  }
  template <class F>
  [[noreturn, gnu::cold, gnu::noinline]] void failed(const conversion_error& e, oid type) const {
    rethrow_in_context(e, ctx, type, cpp_type_name<F>());
  }
  template <class F>
  [[noreturn, gnu::cold, gnu::noinline]] void mismatch(oid type) const {
    throw_type_mismatch(ctx, type, cpp_type_name<F>());
  }
};

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_not_a_relation_record(
    const record_names& names, std::size_t index, oid type) {
  throw_decode_error("a binary record of " + std::string(names.record) + " has a " +
                     sql_type_name(type) + " in its " + record_field_label(names, index) +
                     " where an included relation (a record or an array of records) belongs");
}

template <class T>
struct record_codec;

/// The value of one included relation: an array of records (1-n), a record (n-1).
template <class V>
struct relation_value_codec;

template <class E>
struct relation_value_codec<std::vector<E>> {
  static constexpr oid type = oids::record_array;
  template <class Parent>
  static void read(bool null, const char* data, std::size_t length, std::vector<E>& out,
                   const Parent& parent) {
    if (null) {  // ARRAY() of no rows is empty, never NULL; accept NULL all the same
      out.clear();
      return;
    }
    const std::string_view bytes{data, length};
    const array_header header = read_array_header(bytes);
    if (header.count != 0 && header.element_type != oids::record) [[unlikely]]
      throw_array_element_type(header.element_type, cpp_type_name<E>());
    // Sized once from the array's length. A vector read again (each() reads every row into one
    // reused row) keeps the elements it had, and their strings their capacity: every field of
    // each element is decoded again below.
    out.resize(header.count);
    std::size_t pos = header.offset;
    for (std::size_t i = 0; i != header.count; ++i) {
      if (bytes.size() - pos < 4) [[unlikely]]
        throw_bad_array_element(i);
      const auto size = load_be<std::int32_t>(bytes.data() + pos);
      pos += 4;
      if (size < 0 || bytes.size() - pos < static_cast<std::size_t>(size)) [[unlikely]]
        throw_bad_array_element(i);
      if constexpr (is_optional<Parent>::value) {
        // The parent row of a nullable table: its related rows (none when it is NULL).
        if (parent.has_value()) {
          record_codec<E>::read_child(bytes.data() + pos, static_cast<std::size_t>(size), out[i],
                                      *parent);
        } else {
          record_codec<E>::read(bytes.data() + pos, static_cast<std::size_t>(size), out[i]);
        }
      } else {
        record_codec<E>::read_child(bytes.data() + pos, static_cast<std::size_t>(size), out[i],
                                    parent);
      }
      pos += static_cast<std::size_t>(size);
    }
  }
};
template <class E>
struct relation_value_codec<std::optional<E>> {
  static constexpr oid type = oids::record;
  template <class Parent>
  static void read(bool null, const char* data, std::size_t length, std::optional<E>& out,
                   const Parent& /*parent*/) {
    if (null) {
      out.reset();
      return;
    }
    record_codec<E>::read(data, length, out.emplace());
  }
};
template <class E>
struct relation_value_codec {
  static constexpr oid type = oids::record;
  template <class Parent>
  static void read(bool null, const char* data, std::size_t length, E& out,
                   const Parent& /*parent*/) {
    if (null) [[unlikely]] {
      throw_unexpected_null({record_codec<E>::names.record, ""}, cpp_type_name<E>());
    }
    record_codec<E>::read(data, length, out);
  }
};

/// A related row from one record: a struct's fields in order, then (for a pgorm::related)
/// the nested relations.
template <class T>
struct record_codec {
  static constexpr std::size_t width = field_count_v<T>;
  static constexpr auto column_names = [] {
    std::array<std::string_view, width> out{};
    for (std::size_t i = 0; i != width; ++i) out[i] = table<T>::columns[i].name;
    return out;
  }();
  static constexpr record_names names{table<T>::name, column_names};

  static void read(const char* data, std::size_t length, T& out) {
    record_reader r({data, length}, width, names);
    read_fields(r, out);
    r.finish();
  }
  /// A related row under `parent`: its foreign key refilled from the parent row when the
  /// record leaves it out (fk_refill).
  template <class Parent>
  static void read_child(const char* data, std::size_t length, T& out, const Parent& parent) {
    if constexpr (fk_refill_v<Parent, T>.ok) {
      if (short_record(data, length, 0)) {
        record_reader r({data, length}, width - 1, names);
        read_fields_but<fk_refill_v<Parent, T>.child>(r, out);
        r.finish();
        get_field<fk_refill_v<Parent, T>.child>(out) =
            get_field<fk_refill_v<Parent, T>.parent>(parent);
        return;
      }
    }
    read(data, length, out);
  }
  /// Whether a record holds one column less than `width + extra`.
  static bool short_record(const char* data, std::size_t length, std::size_t extra) noexcept {
    return length >= 4 &&
           load_be<std::int32_t>(data) == static_cast<std::int32_t>(width + extra - 1);
  }
  [[gnu::always_inline]] static void read_fields(record_reader& r, T& out) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (decode_record_field(r.next(I), get_field<I>(out),
                           related_field_errors{{table<T>::name, table<T>::columns[I].name}}),
       ...);
    }
    (std::make_index_sequence<width>{});
  }
  /// read_fields() of a record without field Skip.
  template <std::size_t Skip>
  [[gnu::always_inline]] static void read_fields_but(record_reader& r, T& out) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            if constexpr (I != Skip) {
              decode_record_field(
                  r.next(I), get_field<I>(out),
                  related_field_errors{{table<T>::name, table<T>::columns[I].name}});
            }
          }(),
          ...);
    }
    (std::make_index_sequence<width>{});
  }
};
template <class T, class... C>
struct record_codec<related<T, C...>> {
  static constexpr const record_names& names = record_codec<T>::names;
  static void read(const char* data, std::size_t length, related<T, C...>& out) {
    record_reader r({data, length}, record_codec<T>::width + sizeof...(C), names);
    record_codec<T>::read_fields(r, out.row);
    read_children(r, out);
  }
  /// As record_codec<T>::read_child(), the nested relations following the row's fields.
  template <class Parent>
  static void read_child(const char* data, std::size_t length, related<T, C...>& out,
                         const Parent& parent) {
    if constexpr (fk_refill_v<Parent, T>.ok) {
      if (record_codec<T>::short_record(data, length, sizeof...(C))) {
        record_reader r({data, length}, record_codec<T>::width - 1 + sizeof...(C), names);
        record_codec<T>::template read_fields_but<fk_refill_v<Parent, T>.child>(r, out.row);
        get_field<fk_refill_v<Parent, T>.child>(out.row) =
            get_field<fk_refill_v<Parent, T>.parent>(parent);
        read_children(r, out);
        return;
      }
    }
    read(data, length, out);
  }

 private:
  /// The nested relations, after the row's fields; then the record's end.
  static void read_children(record_reader& r, related<T, C...>& out) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            using V = std::tuple_element_t<I, std::tuple<C...>>;
            const std::size_t index = record_codec<T>::width + I;
            const record_column c = r.next(index);
            if (c.type != relation_value_codec<V>::type) [[unlikely]]
              throw_not_a_relation_record(names, index, c.type);
            relation_value_codec<V>::read(c.null, c.data, c.length, std::get<I>(out.children),
                                          out.row);
          }(),
          ...);
    }
    (std::index_sequence_for<C...>{});
    r.finish();
  }
};

template <class V>
bool accepts_relation_column(oid type) noexcept {
  return type == relation_value_codec<V>::type;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_relation_column(int column, oid type) {
  throw usage_error("pgorm: result column " + std::to_string(column) + " (type OID " +
                    std::to_string(type) +
                    ") is not an included relation: expected a binary record or record array");
}

/// The parent part of a row with includes: a struct's (or a std::tuple's) mapper.
template <class P>
struct parent_mapper {
  static constexpr int width = element_mapper<P>::width;
  element_mapper<P> m;
  void prepare(const result& res, int begin) { m.prepare(res, begin, begin + width, true); }
  void prepare_checked(const oid* checked, int begin) { m.prepare_checked(checked, begin); }
  // `res`: the result, or a copy of its values (read_value()).
  template <class Src>
  void read(const Src& res, int row, P& out) const {
    m.read(res, row, out);
  }
};
template <class... E>
struct parent_mapper<std::tuple<E...>> {
  static constexpr int width = (element_mapper<E>::width + ... + 0);
  std::tuple<element_mapper<E>...> m;
  void prepare(const result& res, int begin) {
    std::apply(
        [&](auto&... each) {
          ((each.prepare(res, begin, begin + each.width, true), begin += each.width), ...);
        },
        m);
  }
  void prepare_checked(const oid* checked, int begin) {
    std::apply(
        [&](auto&... each) { ((each.prepare_checked(checked, begin), begin += each.width), ...); },
        m);
  }
  template <class Src>
  void read(const Src& res, int row, std::tuple<E...>& out) const {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (std::get<I>(m).read(res, row, std::get<I>(out)), ...);
    }
    (std::index_sequence_for<E...>{});
  }
};

/// A result row of a select with include(): the parent's columns, then one column per
/// relation (an array of records, or a record).
template <class P, class... C>
struct element_mapper<related<P, C...>> {
  static constexpr int width = parent_mapper<P>::width + static_cast<int>(sizeof...(C));
  parent_mapper<P> parent;
  int first = 0;  // the first relation column

  void prepare(const result& res, int begin, int end, bool /*exact*/) {
    if (end - begin != width) throw_column_count(static_cast<std::size_t>(width), end - begin);
    parent.prepare(res, begin);
    first = begin + parent_mapper<P>::width;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (check_relation_column<C>(res, first + static_cast<int>(I)), ...);
    }
    (std::index_sequence_for<C...>{});
  }
  void prepare_checked(const oid* checked, int begin) {
    parent.prepare_checked(checked, begin);
    first = begin + parent_mapper<P>::width;
  }
  template <class Src>
  void read(const Src& res, int row, related<P, C...>& out) const {
    parent.read(res, row, out.row);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (read_relation<I>(res, row, std::get<I>(out.children), out.row), ...);
    }
    (std::index_sequence_for<C...>{});
  }

 private:
  template <class V>
  static void check_relation_column(const result& res, int col) {
    if (res.column_format(col) != data_format::binary ||
        !accepts_relation_column<V>(res.column_type(col))) [[unlikely]] {
      throw_relation_column(col, res.column_type(col));
    }
  }
  template <std::size_t I, class Src, class V>
  void read_relation(const Src& res, int row, V& out, const P& parent_row) const {
    const int col = first + static_cast<int>(I);
    const int length = res.length_unchecked(row, col);
    const bool null = length == 0 && res.is_null_unchecked(row, col);
    relation_value_codec<V>::read(null, res.data_unchecked(row, col),
                                  static_cast<std::size_t>(length), out, parent_row);
  }
};

template <class P, class... C>
struct layout_columns<related<P, C...>> {
  static constexpr auto columns = [] {
    constexpr auto& parent = layout_columns<P>::columns;
    std::array<column_spec, parent.size() + sizeof...(C)> out{};
    std::size_t i = 0;
    for (const column_spec& c : parent) out[i++] = c;
    ((out[i++] = column_spec{{}, &accepts_relation_column<C>}), ...);
    return out;
  }();
};

}  // namespace detail

}  // namespace pgorm

template <class T, class... C>
struct std::tuple_size<pgorm::related<T, C...>>
    : std::integral_constant<std::size_t, 1 + sizeof...(C)> {};
template <std::size_t I, class T, class... C>
struct std::tuple_element<I, pgorm::related<T, C...>> {
  using type = std::tuple_element_t<I, std::tuple<T, C...>>;
};
