// SPDX-License-Identifier: MIT
// insert / update / remove against a real server: identity and defaults filled in, ranges,
// upserts, returning, all_rows(), filters, and constraint errors.

#include <algorithm>
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query/insert.hpp"
#include "pgorm/query/remove.hpp"
#include "pgorm/query/update.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"

namespace dml_it {

struct Account {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  std::int32_t visits;
  std::string role = "member";  // a default member initializer counts as "not set" too
  pgorm::timestamptz created_at;
};

struct Counter {
  std::string key;
  std::int64_t hits;
};

}  // namespace dml_it

template <>
struct pgorm::table_traits<dml_it::Account> {
  static constexpr std::string_view name = "accounts";
  static constexpr auto primary_key = pgorm::identity(&dml_it::Account::id);
  static constexpr auto unique = pgorm::columns(&dml_it::Account::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&dml_it::Account::created_at, "now()"),
                      pgorm::default_value(&dml_it::Account::role, "user"),
                      pgorm::default_value(&dml_it::Account::visits, 1));
};

template <>
struct pgorm::table_traits<dml_it::Counter> {
  static constexpr auto primary_key = pgorm::key(&dml_it::Counter::key);
};

// clang-format 14 (Debian 12) rewrites `col<&T::m> = v` as `col<& T::m> = v`; the rest of
// this file is formatted by hand in its style.
// clang-format off
namespace {

using dml_it::Account;
using dml_it::Counter;
using pgorm::col;
using pgorm::excluded;

class dml_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table accounts (
        id bigint generated always as identity primary key,
        email text not null unique,
        name text,
        visits integer not null default 1,
        role text not null default 'user',
        created_at timestamptz not null default now()
      );
      create table counter (key text primary key, hits bigint not null))");
  }

  std::int64_t count(std::string_view table) {
    auto res = conn().exec("select count(*) from " + std::string(table));
    return std::stoll(std::string(res.value(0, 0)));
  }

  static Account account(std::string email) {
    Account a{};
    a.email = std::move(email);
    return a;
  }
};

TEST_F(dml_test, returning_all_fills_identity_and_defaults) {
  const Account a = pgorm::insert(account("a@example.com")).returning_all().one(conn());
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.email, "a@example.com");
  EXPECT_EQ(a.name, std::nullopt);
  EXPECT_EQ(a.visits, 1) << "0 equals Account{}.visits: not set, so the column default applies";
  EXPECT_EQ(a.role, "user") << "\"member\" equals the default member initializer: not set";
  EXPECT_NE(a.created_at, pgorm::timestamptz{}) << "now() was applied";

  Account b = account("b@example.com");
  b.name = "Bea";
  b.visits = 7;
  b.role = "admin";
  const Account got = pgorm::insert(b).returning_all().one(conn());
  EXPECT_EQ(got.id, 2);
  EXPECT_EQ(got.name, "Bea");
  EXPECT_EQ(got.visits, 7);
  EXPECT_EQ(got.role, "admin");
}

TEST_F(dml_test, exec_returns_affected_rows_and_bind_runs_without_argument) {
  EXPECT_EQ(pgorm::insert(account("a@example.com")).exec(conn()), 1);
  EXPECT_EQ(pgorm::insert(account("b@example.com")).bind(conn()).exec(), 1);
  EXPECT_EQ(count("accounts"), 2);
}

TEST_F(dml_test, insert_range_with_returning) {
  std::vector<Account> rows;
  for (int i = 0; i != 5; ++i) rows.push_back(account("u" + std::to_string(i) + "@example.com"));
  rows[2].visits = 42;
  const auto ids =
      pgorm::insert(rows).returning(col<&Account::id>, col<&Account::visits>).all(conn());
  ASSERT_EQ(ids.size(), 5U);
  for (std::size_t i = 0; i != 5; ++i) {
    EXPECT_EQ(std::get<0>(ids[i]), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(std::get<1>(ids[i]), i == 2 ? 42 : 1);
  }
  const auto all =
      pgorm::insert(std::vector<Account>{account("x@example.com")}).returning_all().all(conn());
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].role, "user");
  EXPECT_EQ(pgorm::insert(std::vector<Account>{}).exec(conn()), 0) << "nothing sent";
}

TEST_F(dml_test, insert_range_borrows_lvalues_and_owns_the_rest) {
  // A vector variable is read in place when the statement runs (nothing copied).
  std::vector<Account> rows{account("a@example.com"), account("b@example.com")};
  const auto borrowed = pgorm::insert(rows);
  rows[1].email = "changed@example.com";
  EXPECT_EQ(borrowed.exec(conn()), 2);
  EXPECT_EQ(conn().exec("select count(*) from accounts where email = 'changed@example.com'")
                .value(0, 0),
            "1");
  // A std::span too; and with COPY (insert_copy_threshold) as with INSERT.
  std::vector<Account> many;
  for (int i = 0; i != 1500; ++i) many.push_back(account("m" + std::to_string(i) + "@x.org"));
  EXPECT_EQ(pgorm::insert(std::span<const Account>(many)).exec(conn()), 1500);

  // An rvalue vector is moved in: the builder can be kept, copied (copies share the rows) and
  // run after the statement that made it.
  auto owned = pgorm::insert(std::vector<Account>{account("c@example.com")});
  const auto with_returning = owned.returning(col<&Account::email>);
  conn().exec("delete from accounts");
  EXPECT_EQ(std::get<0>(with_returning.one(conn())), "c@example.com");
  conn().exec("delete from accounts");
  EXPECT_EQ(owned.exec(conn()), 1);

  // Other ranges are copied: changing the source afterwards changes nothing.
  std::list<Account> list{account("d@example.com")};
  const auto copied = pgorm::insert(list);
  list.front().email = "not-this@example.com";
  list.clear();
  EXPECT_EQ(copied.exec(conn()), 1);
  EXPECT_EQ(
      conn().exec("select count(*) from accounts where email = 'd@example.com'").value(0, 0),
      "1");
}

TEST_F(dml_test, on_conflict_do_nothing_affects_no_rows) {
  pgorm::insert(account("a@example.com")).exec(conn());
  EXPECT_EQ(pgorm::insert(account("a@example.com"))
                .on_conflict(col<&Account::email>)
                .do_nothing()
                .exec(conn()),
            0);
  EXPECT_EQ(pgorm::insert(account("a@example.com")).on_conflict().do_nothing().exec(conn()), 0);
  const auto first = pgorm::insert(account("a@example.com"))
                         .on_conflict(col<&Account::email>)
                         .do_nothing()
                         .returning(col<&Account::id>)
                         .first(conn());
  EXPECT_EQ(first, std::nullopt);
  EXPECT_EQ(count("accounts"), 1);
}

TEST_F(dml_test, bulk_upsert_with_excluded) {
  pgorm::insert(std::vector<Counter>{{"a", 1}, {"b", 2}}).exec(conn());
  const auto rows =
      pgorm::insert(std::vector<Counter>{{"b", 10}, {"c", 5}})
          .on_conflict(col<&Counter::key>)
          .do_update(col<&Counter::hits> = col<&Counter::hits> + excluded<&Counter::hits>)
          .returning_all()
          .all(conn());
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].key, "b");
  EXPECT_EQ(rows[0].hits, 12);
  EXPECT_EQ(rows[1].key, "c");
  EXPECT_EQ(rows[1].hits, 5);
  EXPECT_EQ(count("counter"), 3);
}

TEST_F(dml_test, each_streams_the_returned_rows) {
  pgorm::insert(std::vector<Counter>{{"a", 1}, {"b", 2}, {"c", 3}}).exec(conn());
  std::vector<std::string> keys;
  std::int64_t hits = 0;
  pgorm::remove<Counter>()
      .where(col<&Counter::hits> >= 2)
      .returning(col<&Counter::key>, col<&Counter::hits>)
      .each(conn(), [&](const std::tuple<std::string, std::int64_t>& r) {
        keys.push_back(std::get<0>(r));
        hits += std::get<1>(r);
      });
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(hits, 5);
  EXPECT_EQ(count("counter"), 1);
}

TEST_F(dml_test, do_update_where_skips_rows) {
  pgorm::insert(Counter{"a", 10}).exec(conn());
  // Keep the larger value: the update runs only when the proposed one is larger.
  const auto upsert = [&](std::int64_t hits) {
    return pgorm::insert(Counter{"a", hits})
        .on_conflict(col<&Counter::key>)
        .do_update(col<&Counter::hits> = excluded<&Counter::hits>)
        .where(col<&Counter::hits> < excluded<&Counter::hits>)
        .exec(conn());
  };
  EXPECT_EQ(upsert(3), 0);
  EXPECT_EQ(upsert(30), 1);
  // A copy of the column on the right: `x = x` reads as a self-assignment to clang.
  constexpr auto unchanged = col<&Counter::hits>;
  const auto [hits] = pgorm::update<Counter>()
                          .set(col<&Counter::hits> = unchanged)
                          .where(col<&Counter::key> == "a")
                          .returning(col<&Counter::hits>)
                          .one(conn());
  EXPECT_EQ(hits, 30);
}

TEST_F(dml_test, update_with_returning) {
  pgorm::insert(std::vector<Account>{account("a@example.com"), account("b@example.com")})
      .exec(conn());
  const auto rows =
      pgorm::update<Account>()
          .set(col<&Account::visits> = col<&Account::visits> + 1, col<&Account::name> = "Ann")
          .where(col<&Account::email> == "a@example.com")
          .returning_all()
          .all(conn());
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].visits, 2);
  EXPECT_EQ(rows[0].name, "Ann");
  EXPECT_EQ(pgorm::update<Account>()
                .set(col<&Account::name> = std::nullopt)
                .where(col<&Account::id> == 1)
                .bind(conn())
                .exec(),
            1);
  EXPECT_EQ(pgorm::update<Account>()
                .set(col<&Account::name> = "x")
                .where(col<&Account::id> == 99)
                .returning(col<&Account::id>)
                .first(conn()),
            std::nullopt);
}

TEST_F(dml_test, all_rows_updates_and_deletes_everything) {
  pgorm::insert(std::vector<Counter>{{"a", 1}, {"b", 2}, {"c", 3}}).exec(conn());
  EXPECT_EQ(pgorm::update<Counter>().set(col<&Counter::hits> = 0).all_rows().exec(conn()), 3);
  const auto gone = pgorm::remove<Counter>().all_rows().returning(col<&Counter::key>).all(conn());
  EXPECT_EQ(gone.size(), 3U);
  EXPECT_EQ(count("counter"), 0);
}

TEST_F(dml_test, remove_with_returning) {
  pgorm::insert(std::vector<Counter>{{"a", 1}, {"b", 2}, {"c", 3}}).exec(conn());
  const Counter removed =
      pgorm::remove<Counter>().where(col<&Counter::key> == "b").returning_all().one(conn());
  EXPECT_EQ(removed.hits, 2);
  EXPECT_EQ(pgorm::remove<Counter>().where(col<&Counter::hits> > 100).exec(conn()), 0);
  EXPECT_EQ(count("counter"), 2);
}

TEST_F(dml_test, filter_based_where) {
  pgorm::insert(std::vector<Counter>{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}).exec(conn());
  std::optional<std::int64_t> min_hits = 2;
  std::optional<std::string> not_key = "c";
  pgorm::filter<Counter> f;
  if (min_hits) f &= col<&Counter::hits> >= *min_hits;
  if (not_key) f &= col<&Counter::key> != *not_key;
  EXPECT_EQ(pgorm::update<Counter>().set(col<&Counter::hits> = -1).where(f).exec(conn()), 2);
  const auto removed = pgorm::remove<Counter>()
                           .where(pgorm::filter<Counter>{} && col<&Counter::hits> < 0)
                           .returning(col<&Counter::key>)
                           .all(conn());
  ASSERT_EQ(removed.size(), 2U);
  EXPECT_EQ(count("counter"), 2);
}

TEST_F(dml_test, unique_violation_surfaces_as_unique_violation) {
  pgorm::insert(account("a@example.com")).exec(conn());
  try {
    pgorm::insert(account("a@example.com")).exec(conn());
    FAIL() << "duplicate accepted";
  } catch (const pgorm::unique_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.constraint(), "accounts_email_key");
  }
  try {
    pgorm::insert(std::vector<Counter>{{"a", 1}, {"a", 2}}).exec(conn());
    FAIL() << "duplicate accepted";
  } catch (const pgorm::unique_violation& e) {
    EXPECT_EQ(e.constraint(), "counter_pkey");
  }
  EXPECT_EQ(count("counter"), 0) << "one statement: all or nothing";
}

}  // namespace
// clang-format on
