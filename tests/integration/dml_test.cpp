// SPDX-License-Identifier: MIT
// insert / update / remove against a real server: identity and defaults filled in, ranges,
// upserts, returning, all_rows(), filters, and constraint errors. No silent defaults: a value
// the user set is always written; only a pgorm::defaulted field that asks for it takes the
// column default.

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
#include "pgorm/query/select.hpp"
#include "pgorm/query/update.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"

namespace dml_it {

struct Account {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  pgorm::defaulted<std::int32_t> visits;
  pgorm::defaulted<std::string> role;
  pgorm::defaulted<pgorm::timestamptz> created_at;
};

// The seed app's user table: "isActive" boolean DEFAULT true, written from a plain bool.
struct SeedUser {
  std::string id;
  std::string email;
  bool is_active{};  // false, as T{} has it: still a value that is written
};

// The same column through pgorm::defaulted, and a nullable column with a default.
struct Profile {
  std::int64_t id{};
  std::string handle;
  pgorm::defaulted<bool> is_active{};
  pgorm::defaulted<std::optional<std::string>> bio{};
};

// A partial struct of Profile: plain types for its defaulted columns.
struct ProfileFlags {
  std::string handle;
  bool is_active;
  std::optional<std::string> bio;
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
struct pgorm::table_traits<dml_it::SeedUser> {
  static constexpr std::string_view name = "user";
  using naming = pgorm::naming::camel_case;
  static constexpr auto primary_key = pgorm::key(&dml_it::SeedUser::id);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&dml_it::SeedUser::is_active, true));
};

template <>
struct pgorm::table_traits<dml_it::Profile> {
  using naming = pgorm::naming::camel_case;
  static constexpr auto primary_key = pgorm::identity(&dml_it::Profile::id);
  static constexpr auto unique = pgorm::columns(&dml_it::Profile::handle);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&dml_it::Profile::is_active, true),
                      pgorm::default_value(&dml_it::Profile::bio, "(none)"));
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
using dml_it::Profile;
using dml_it::ProfileFlags;
using dml_it::SeedUser;
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
      create table counter (key text primary key, hits bigint not null);
      create table "user" (id text primary key, email text not null,
                           "isActive" boolean default true);
      create table profile (id bigint generated always as identity primary key,
                            handle text not null unique,
                            "isActive" boolean not null default true,
                            bio text default '(none)'))");
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
  EXPECT_EQ(a.visits.value(), 1) << "visits asked for the default";
  EXPECT_EQ(a.role.value(), "user") << "role asked for the default";
  EXPECT_NE(a.created_at.value(), pgorm::timestamptz{}) << "now() was applied";

  Account b = account("b@example.com");
  b.name = "Bea";
  b.visits = 7;
  b.role = "admin";
  const Account got = pgorm::insert(b).returning_all().one(conn());
  EXPECT_EQ(got.id, 2);
  EXPECT_EQ(got.name, "Bea");
  EXPECT_EQ(got.visits.value(), 7);
  EXPECT_EQ(got.role.value(), "admin");

  Account zero = account("c@example.com");
  zero.visits = 0;
  zero.role = "";
  const Account z = pgorm::insert(zero).returning_all().one(conn());
  EXPECT_EQ(z.visits.value(), 0) << "0 is the user's value: written, not the default 1";
  EXPECT_EQ(z.role.value(), "") << "\"\" is a value too";
}

TEST_F(dml_test, seed_is_active_false_is_stored_false) {
  // The seed app's table: "isActive" boolean DEFAULT true. A deactivated user stays inactive.
  pgorm::insert(SeedUser{.id = "u1", .email = "a@example.com", .is_active = false}).exec(conn());
  pgorm::insert(SeedUser{.id = "u2", .email = "b@example.com", .is_active = true}).exec(conn());
  EXPECT_EQ(conn().exec(R"(select string_agg(id || '=' || "isActive"::text, ',' order by id) )"
                        R"(from "user")")
                .value(0, 0),
            "u1=false,u2=true");
  // The same through a multi-row INSERT and through COPY (insert_copy_threshold).
  std::vector<SeedUser> few{{"f1", "f1@x.org", false}, {"f2", "f2@x.org", true}};
  EXPECT_EQ(pgorm::insert(few).exec(conn()), 2);
  std::vector<SeedUser> many;
  for (int i = 0; i != 1200; ++i) {
    many.push_back({"m" + std::to_string(i), "m@x.org", i % 3 != 0});
  }
  EXPECT_EQ(pgorm::insert(many).exec(conn()), 1200);
  EXPECT_EQ(conn().exec(R"(select count(*) from "user" where not "isActive")").value(0, 0),
            std::to_string(1 + 1 + 400));
  // Read back as the user wrote it.
  const SeedUser back = pgorm::insert(SeedUser{"u3", "c@example.com", false})
                            .returning_all()
                            .one(conn());
  EXPECT_FALSE(back.is_active);
}

TEST_F(dml_test, defaulted_field_takes_the_default_only_when_it_asks) {
  const Profile unset = pgorm::insert(Profile{.handle = "a"}).returning_all().one(conn());
  EXPECT_EQ(unset.is_active.value(), true) << "left unset: DEFAULT true";
  EXPECT_EQ(unset.bio.value(), "(none)") << "left unset: DEFAULT '(none)'";

  const Profile set = pgorm::insert(Profile{.handle = "b", .is_active = false, .bio = std::nullopt})
                          .returning_all()
                          .one(conn());
  EXPECT_EQ(set.is_active.value(), false) << "false is written";
  EXPECT_EQ(set.bio.value(), std::nullopt) << "an explicit NULL is written, not the default";

  const Profile asked = pgorm::insert(Profile{.handle = "c", .is_active = pgorm::use_default,
                                              .bio = "hi"})
                            .returning_all()
                            .one(conn());
  EXPECT_TRUE(asked.is_active.value());
  EXPECT_EQ(asked.bio.value(), "hi");

  // Mixed rows in one statement, ids and values back in VALUES order.
  std::vector<Profile> rows{Profile{.handle = "d"}, Profile{.handle = "e", .is_active = false},
                            Profile{.handle = "f", .bio = std::nullopt},
                            Profile{.handle = "g", .is_active = true, .bio = "x"}};
  const auto got =
      pgorm::insert(rows).returning(col<&Profile::is_active>, col<&Profile::bio>).all(conn());
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[0], std::make_tuple(true, std::optional<std::string>("(none)")));
  EXPECT_EQ(got[1], std::make_tuple(false, std::optional<std::string>("(none)")));
  EXPECT_EQ(got[2], std::make_tuple(true, std::optional<std::string>()));
  EXPECT_EQ(got[3], std::make_tuple(true, std::optional<std::string>("x")));

  // A defaulted column compares as its value type, and reads back as a value.
  const auto inactive = pgorm::update<Profile>()
                            .set(col<&Profile::is_active> = true)
                            .where(col<&Profile::is_active> == false)
                            .returning_all()
                            .all(conn());
  ASSERT_EQ(inactive.size(), 2U);
  for (const Profile& p : inactive) EXPECT_TRUE(p.is_active.value());

  // A partial select may read a defaulted<T> column into a plain T.
  const auto flags = pgorm::select<ProfileFlags>()
                         .from<Profile>()
                         .where(col<&Profile::handle> == "f")
                         .one(conn());
  EXPECT_TRUE(flags.is_active);
  EXPECT_EQ(flags.bio, std::nullopt);
}

TEST_F(dml_test, defaulted_fields_through_copy_and_upsert) {
  // COPY: all rows ask for the default (column left out), all set, and mixed (INSERT instead).
  const auto batch = [](std::string prefix, auto&& make) {
    std::vector<Profile> v;
    for (int i = 0; i != 1100; ++i) v.push_back(make(prefix + std::to_string(i), i));
    return v;
  };
  EXPECT_EQ(pgorm::insert(batch("d", [](std::string h, int) { return Profile{.handle = h}; }))
                .exec(conn()),
            1100);
  EXPECT_EQ(pgorm::insert(batch("s", [](std::string h, int) {
              return Profile{.handle = h, .is_active = false, .bio = std::nullopt};
            })).exec(conn()),
            1100);
  EXPECT_EQ(pgorm::insert(batch("m", [](std::string h, int i) {
              Profile p{.handle = h};
              if (i % 2 == 0) p.is_active = false;
              if (i % 5 == 0) p.bio = std::nullopt;
              return p;
            })).exec(conn()),
            1100);
  const auto summary = [&](std::string_view prefix) {
    return std::string(
        conn()
            .exec("select count(*) filter (where not \"isActive\") || '/' || "
                  "count(*) filter (where bio is null) || '/' || "
                  "count(*) filter (where bio = '(none)') from profile where handle like '" +
                  std::string(prefix) + "%'")
            .value(0, 0));
  };
  EXPECT_EQ(summary("d"), "0/0/1100");
  EXPECT_EQ(summary("s"), "1100/1100/0");
  EXPECT_EQ(summary("m"), "550/220/880");

  // Upsert: the proposed row's default is what excluded.col holds.
  const Profile up = pgorm::insert(Profile{.handle = "d0", .bio = "new"})
                         .on_conflict(col<&Profile::handle>)
                         .do_update(col<&Profile::bio> = excluded<&Profile::bio>,
                                    col<&Profile::is_active> = excluded<&Profile::is_active>)
                         .returning_all()
                         .one(conn());
  EXPECT_EQ(up.bio.value(), "new");
  EXPECT_TRUE(up.is_active.value()) << "excluded.\"isActive\" is the column default";
  const Profile off = pgorm::insert(Profile{.handle = "d1", .is_active = false})
                          .on_conflict(col<&Profile::handle>)
                          .do_update(col<&Profile::is_active> = excluded<&Profile::is_active>)
                          .returning_all()
                          .one(conn());
  EXPECT_FALSE(off.is_active.value());
  EXPECT_EQ(off.bio.value(), "(none)") << "not in the SET list: unchanged";
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
  EXPECT_EQ(all[0].role.value(), "user");
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
  EXPECT_EQ(rows[0].visits.value(), 2);
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
