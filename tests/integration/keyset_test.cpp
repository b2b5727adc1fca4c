// SPDX-License-Identifier: MIT
// Keyset pagination against a real server: the issue's reproduction (ordering by a timestamp
// with ties lost rows), cursors by primary key, and a property test over random data with many
// ties and NULLs, random page sizes, forward, backward and zig-zag walks and mixed directions:
// every row exactly once, in order.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"

namespace kp {
/// Few distinct values per column, so that most rows tie on every order column but the key.
struct Item {
  std::int64_t id;
  std::int32_t a;
  std::optional<std::int32_t> b;
  pgorm::timestamptz t;
};
}  // namespace kp

template <>
struct pgorm::table_traits<kp::Item> {
  static constexpr std::string_view name = "kp_item";
  static constexpr auto primary_key = pgorm::key(&kp::Item::id);
};

namespace {

using kp::Item;
using pgorm::col;
using qt::Session;

class keyset_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
    conn().exec(
        "create table kp_item (id bigint primary key, a integer not null, b integer, "
        "t timestamptz not null)");
  }
};

TEST_F(keyset_test, the_seed_order_by_created_at_desc_loses_no_row_on_ties) {
  // The issue's reproduction: 120 sessions, timestamps in 7 groups, paged by expires_at DESC
  // alone, as Prisma's orderBy: { createdAt: 'desc' } translates. id is appended for paging.
  conn().exec(R"(insert into "user" (email, age) values ('ada@example.com', 36))");
  conn().exec(
      "insert into session (user_id, token, expires_at) select 1, 'tok-' || i, "
      "timestamptz '2026-01-01 00:00:00+00' + interval '1 hour' * (i % 7) "
      "from generate_series(1, 120) as i");
  const auto q = conn().select<Session>().order_by(col<&Session::expires_at>.desc());
  std::vector<std::int64_t> seen;
  auto page = q.page(20);
  EXPECT_EQ(page.prev, std::nullopt);
  int pages = 1;
  while (true) {
    for (const Session& s : page.rows) seen.push_back(s.id);
    if (!page.next) break;
    page = q.after(*page.next).page(20);
    ++pages;
  }
  EXPECT_EQ(pages, 6);  // 120 = 6 x 20: no empty seventh page, the extra row told
  const auto all = conn()
                       .select(col<&Session::id>)
                       .order_by(col<&Session::expires_at>.desc(), col<&Session::id>.desc())
                       .all();
  ASSERT_EQ(seen.size(), 120U);
  for (std::size_t i = 0; i != all.size(); ++i) EXPECT_EQ(seen[i], std::get<0>(all[i]));
}

TEST_F(keyset_test, a_cursor_by_primary_key_is_read_in_the_same_statement) {
  conn().exec(R"(insert into "user" (email, age) values ('ada@example.com', 36))");
  conn().exec(
      "insert into session (user_id, token, expires_at) select 1, 'tok-' || i, "
      "timestamptz '2026-01-01 00:00:00+00' + interval '1 hour' * (i % 3) "
      "from generate_series(1, 12) as i");
  const auto q = conn().select<Session>().order_by(col<&Session::expires_at>.desc());
  const std::vector<Session> all = q.after_key(-1).all();  // no such row: no rows
  EXPECT_TRUE(all.empty());
  std::vector<std::int64_t> order;
  for (const Session& s : conn()
                              .select<Session>()
                              .order_by(col<&Session::expires_at>.desc(), col<&Session::id>.desc())
                              .all()) {
    order.push_back(s.id);
  }
  ASSERT_EQ(order.size(), 12U);
  // Prisma's findMany({ cursor: { id }, skip: 1, take: 4 }).
  const auto next = q.after_key(order[5]).page(4);
  ASSERT_EQ(next.rows.size(), 4U);
  for (std::size_t i = 0; i != 4; ++i) EXPECT_EQ(next.rows[i].id, order[6 + i]);
  ASSERT_TRUE(next.next.has_value());
  ASSERT_TRUE(next.prev.has_value());
  EXPECT_EQ(std::get<1>(*next.prev), order[6]);
  // take: -4 from the same cursor.
  const auto back = q.before_key(order[5]).page(4);
  ASSERT_EQ(back.rows.size(), 4U);
  for (std::size_t i = 0; i != 4; ++i) EXPECT_EQ(back.rows[i].id, order[1 + i]);
  ASSERT_TRUE(back.prev.has_value());  // order[0] comes before
  EXPECT_EQ(std::get<1>(*back.next), order[4]);
  // A row is a cursor too.
  const auto from_row = q.after(next.rows.back()).page(100);
  ASSERT_EQ(from_row.rows.size(), 2U);
  EXPECT_EQ(from_row.rows[0].id, order[10]);
  EXPECT_EQ(from_row.next, std::nullopt);
  EXPECT_THROW((void)q.page(0), pgorm::usage_error);
}

// ---- the property test ----------------------------------------------------------------------

/// One term of the reference order, for the C++ comparator the server's order is checked
/// against. column: 0 a, 1 b, 2 t, 3 id.
struct key_spec {
  int column;
  bool desc;
  bool nulls_first;
};

std::optional<std::int64_t> value_of(const Item& item, int column) {
  switch (column) {
    case 0:
      return item.a;
    case 1:
      return item.b;
    case 2:
      return std::chrono::duration_cast<std::chrono::seconds>(item.t.time_since_epoch()).count();
    default:
      return item.id;
  }
}

bool comes_before(const Item& x, const Item& y, const std::vector<key_spec>& spec) {
  for (const key_spec& k : spec) {
    const auto vx = value_of(x, k.column);
    const auto vy = value_of(y, k.column);
    if (!vx && !vy) continue;
    if (!vx || !vy) return k.nulls_first ? !vx : !vy;
    if (*vx == *vy) continue;
    return k.desc ? *vx > *vy : *vx < *vy;
  }
  return false;
}

std::vector<std::int64_t> ids_of(const std::vector<Item>& rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (const Item& r : rows) out.push_back(r.id);
  return out;
}

class keyset_property_test : public keyset_test {
 protected:
  /// n rows with few distinct values (a in 0..2, b NULL or 0..2, t one of 4 seconds).
  void fill(std::mt19937& rng, int n) {
    conn().exec("truncate kp_item");
    if (n == 0) return;
    std::string sql = "insert into kp_item (id, a, b, t) values ";
    for (int i = 0; i != n; ++i) {
      const int a = static_cast<int>(rng() % 3);
      const bool null_b = rng() % 5 < 2;
      const int b = static_cast<int>(rng() % 3);
      const int t = static_cast<int>(rng() % 4);
      if (i != 0) sql += ", ";
      sql += "(" + std::to_string(i * 7 + 3) + ", " + std::to_string(a) + ", " +
             (null_b ? std::string("null") : std::to_string(b)) +
             ", timestamptz '2026-01-01 00:00:00+00' + interval '1 second' * " + std::to_string(t) +
             ")";
    }
    conn().exec(sql);
  }

  /// Every walk over `q` (a select<Item> with order_by()) against the reference order `spec`
  /// (the order_by() terms, then id as pgorm appends it).
  template <class Q>
  void check(const Q& q, const std::vector<key_spec>& spec, std::mt19937& rng) {
    std::vector<Item> reference = conn().select<Item>().all();
    std::sort(reference.begin(), reference.end(),
              [&](const Item& x, const Item& y) { return comes_before(x, y, spec); });
    const std::vector<std::int64_t> want = ids_of(reference);
    const auto n = static_cast<std::int64_t>(want.size());
    const auto size = [&] { return static_cast<std::int64_t>(1 + rng() % 7); };

    // Forward from the start.
    std::vector<std::int64_t> seen;
    auto page = q.page(size());
    EXPECT_EQ(page.prev, std::nullopt);
    for (int guard = 0; guard <= n + 1; ++guard) {
      for (std::int64_t id : ids_of(page.rows)) seen.push_back(id);
      if (!page.next) break;
      page = q.after(*page.next).page(size());
    }
    EXPECT_EQ(seen, want) << "forward walk";

    // Backward from the end.
    seen.clear();
    page = q.last_page(size());
    EXPECT_EQ(page.next, std::nullopt);
    for (int guard = 0; guard <= n + 1; ++guard) {
      const std::vector<std::int64_t> ids = ids_of(page.rows);
      seen.insert(seen.begin(), ids.begin(), ids.end());
      if (!page.prev) break;
      page = q.before(*page.prev).page(size());
    }
    EXPECT_EQ(seen, want) << "backward walk";

    // Zig-zag: each page is the slice of the reference it must be, and next / prev are set
    // exactly when rows follow / precede it.
    std::int64_t lo = 0;
    std::int64_t m = size();
    page = q.page(m);
    std::int64_t hi = std::min(n, m);
    for (int step = 0; step != 12; ++step) {
      const std::vector<std::int64_t> slice(want.begin() + lo, want.begin() + hi);
      ASSERT_EQ(ids_of(page.rows), slice) << "zig-zag step " << step;
      if (page.rows.empty()) break;
      EXPECT_EQ(page.next.has_value(), hi < n) << "zig-zag step " << step;
      EXPECT_EQ(page.prev.has_value(), lo > 0) << "zig-zag step " << step;
      m = size();
      const bool forward = page.next && (!page.prev || rng() % 2 == 0);
      if (forward) {
        page = q.after(*page.next).page(m);
        lo = hi;
        hi = std::min(n, hi + m);
      } else if (page.prev) {
        page = q.before(*page.prev).page(m);
        hi = lo;
        lo = std::max<std::int64_t>(0, lo - m);
      } else {
        break;
      }
    }

    // Cursors by primary key, from random rows.
    for (int i = 0; i != 4 && n > 0; ++i) {
      const std::int64_t at = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
      m = size();
      const auto after = q.after_key(want[static_cast<std::size_t>(at)]).page(m);
      const std::int64_t end = std::min(n, at + 1 + m);
      EXPECT_EQ(ids_of(after.rows),
                std::vector<std::int64_t>(want.begin() + at + 1, want.begin() + end));
      const auto before = q.before_key(want[static_cast<std::size_t>(at)]).page(m);
      const std::int64_t begin = std::max<std::int64_t>(0, at - m);
      EXPECT_EQ(ids_of(before.rows),
                std::vector<std::int64_t>(want.begin() + begin, want.begin() + at));
    }
    EXPECT_TRUE(q.after_key(-5).page(3).rows.empty());
  }
};

TEST_F(keyset_property_test, every_row_exactly_once_in_order) {
  const unsigned seed = std::random_device{}();
  std::printf("keyset property test seed: %u\n", seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  constexpr bool asc = false;
  constexpr bool desc = true;
  constexpr bool first = true;
  constexpr bool last = false;
  for (const int rows : {0, 1, 5, 40 + static_cast<int>(rng() % 50)}) {
    SCOPED_TRACE("rows " + std::to_string(rows));
    fill(rng, rows);
    const auto items = conn().select<Item>();
    check(items.order_by(col<&Item::a>), {{0, asc, last}, {3, asc, last}}, rng);
    check(items.order_by(col<&Item::t>.desc()), {{2, desc, first}, {3, desc, first}}, rng);
    check(items.order_by(col<&Item::a>.desc(), col<&Item::t>),
          {{0, desc, first}, {2, asc, last}, {3, asc, last}}, rng);
    check(items.order_by(col<&Item::b>), {{1, asc, last}, {3, asc, last}}, rng);
    check(items.order_by(col<&Item::b>.desc(), col<&Item::a>),
          {{1, desc, first}, {0, asc, last}, {3, asc, last}}, rng);
    check(items.order_by(col<&Item::a>, col<&Item::b>.desc().nulls_last(), col<&Item::t>.desc()),
          {{0, asc, last}, {1, desc, last}, {2, desc, first}, {3, desc, first}}, rng);
    check(items.order_by(col<&Item::b>.asc().nulls_first(), col<&Item::id>.desc()),
          {{1, asc, first}, {3, desc, first}}, rng);
  }
}

}  // namespace
