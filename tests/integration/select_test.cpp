// SPDX-License-Identifier: MIT
// Every SELECT clause, find(), raw query<Row>() and streaming, run against a real server on the
// users/sessions/accounts schema.
#include <algorithm>
#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;
using qt::UserSummary;

class select_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
    conn().exec(R"(
      insert into "user" (email, name, age, "isEmailVerified") values
        ('ada@example.com', 'Ada', 36, true),
        ('bob@example.com', null, 17, false),
        ('cy@test.org', 'Cy', 52, false),
        ('di@example.com', 'Di', 36, true);
      insert into session (user_id, token, expires_at, ip_address) values
        (1, 'tok-a1', now() + interval '1 day', '10.0.0.1'),
        (1, 'tok-a2', now() - interval '1 day', null),
        (3, 'tok-c1', now() + interval '2 days', '10.0.0.3');
      insert into account (user_id, provider, provider_account_id, balance) values
        (1, 'github', 'gh-1', 100), (3, 'google', 'go-3', null))");
  }
};

TEST_F(select_test, whole_rows_into_structs) {
  const std::vector<User> users = conn().select<User>().order_by(col<&User::id>).all();
  ASSERT_EQ(users.size(), 4U);
  EXPECT_EQ(users[0].email, "ada@example.com");
  EXPECT_EQ(users[0].name, "Ada");
  EXPECT_TRUE(users[0].is_email_verified);  // the renamed "isEmailVerified" column
  EXPECT_EQ(users[1].name, std::nullopt);
  EXPECT_LT(std::chrono::system_clock::now() - users[0].created_at, 1h);
}

TEST_F(select_test, where_with_every_comparison_and_logic) {
  const auto ids = [&](auto q) {
    std::vector<std::int64_t> out;
    for (const auto& [id] : q.order_by(col<&User::id>).all(conn())) out.push_back(id);
    return out;
  };
  using V = std::vector<std::int64_t>;
  const auto base = pgorm::select(col<&User::id>);
  EXPECT_EQ(ids(base.where(col<&User::age> == 36)), (V{1, 4}));
  EXPECT_EQ(ids(base.where(col<&User::age> != 36)), (V{2, 3}));
  EXPECT_EQ(ids(base.where(col<&User::age> < 36)), (V{2}));
  EXPECT_EQ(ids(base.where(col<&User::age> <= 36)), (V{1, 2, 4}));
  EXPECT_EQ(ids(base.where(col<&User::age> > 36)), (V{3}));
  EXPECT_EQ(ids(base.where(col<&User::age> >= 36)), (V{1, 3, 4}));
  EXPECT_EQ(ids(base.where(col<&User::age> > 20 && col<&User::is_email_verified> == true)),
            (V{1, 4}));
  EXPECT_EQ(ids(base.where(col<&User::age> < 18 || col<&User::age> > 50)), (V{2, 3}));
  EXPECT_EQ(ids(base.where(!(col<&User::age> == 36))), (V{2, 3}));
  EXPECT_EQ(ids(base.where(col<&User::name>.is_null())), (V{2}));
  EXPECT_EQ(ids(base.where(col<&User::name>.is_not_null())), (V{1, 3, 4}));
  EXPECT_EQ(ids(base.where(col<&User::age>.between(30, 40))), (V{1, 4}));
  EXPECT_EQ(ids(base.where(col<&User::id>.in(std::vector<int>{2, 4, 99}))), (V{2, 4}));
  EXPECT_EQ(ids(base.where(col<&User::id>.in(std::vector<int>{}))), (V{}));
  EXPECT_EQ(ids(base.where(col<&User::email>.like("%@example.com"))), (V{1, 2, 4}));
  EXPECT_EQ(ids(base.where(col<&User::name>.ilike("c%"))), (V{3}));
  EXPECT_EQ(ids(base.where(col<&User::email>.not_like("%@example.com"))), (V{3}));
}

TEST_F(select_test, like_escaping_keeps_user_input_literal) {
  conn().exec(R"(insert into "user" (email, name, age) values ('pct@x', '100%_sure', 1),
                                                             ('pl@x', '100 percent', 1))");
  const auto rows =
      conn().select(col<&User::email>).where(col<&User::name>.like(pgorm::contains("0%_"))).all();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(std::get<0>(rows[0]), "pct@x");
}

TEST_F(select_test, arithmetic_functions_and_coalesce) {
  const auto row =
      conn()
          .select(col<&User::age> * 2 + 1, pgorm::upper(col<&User::email>),
                  pgorm::lower(pgorm::coalesce(col<&User::name>, "NONAME")), pgorm::now())
          .where(col<&User::id> == 2)
          .one();
  EXPECT_EQ(std::get<0>(row), 35);
  EXPECT_EQ(std::get<1>(row), "BOB@EXAMPLE.COM");
  EXPECT_EQ(std::get<2>(row), "noname");
  EXPECT_LT(std::chrono::system_clock::now() - std::get<3>(row), 1h);
}

TEST_F(select_test, aggregates_group_by_having) {
  const auto rows = conn()
                        .select(col<&User::age>, pgorm::count(), pgorm::sum(col<&User::age>),
                                pgorm::min(col<&User::email>), pgorm::avg(col<&User::age>))
                        .group_by(col<&User::age>)
                        .having(pgorm::count() > 1)
                        .all();
  ASSERT_EQ(rows.size(), 1U);
  const auto& [age, n, total, first_email, average] = rows[0];
  EXPECT_EQ(age, 36);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(total, 72);
  EXPECT_EQ(first_email, "ada@example.com");
  ASSERT_TRUE(average.has_value());
  EXPECT_EQ(average->str().substr(0, 5), "36.00");

  const auto none = conn().select(pgorm::sum(col<&User::age>)).where(col<&User::age> > 99).one();
  EXPECT_EQ(std::get<0>(none), std::nullopt);  // sum over no rows is NULL

  const auto distinct = conn().select(col<&User::age>).distinct().order_by(col<&User::age>).all();
  EXPECT_EQ(distinct.size(), 3U);
  EXPECT_EQ(std::get<0>(conn().select(pgorm::count_distinct(col<&User::age>)).one()), 3);
}

TEST_F(select_test, order_by_nulls_limit_offset) {
  const auto names = conn()
                         .select(col<&User::name>)
                         .order_by(col<&User::name>.desc().nulls_last())
                         .limit(3)
                         .offset(1)
                         .all();
  ASSERT_EQ(names.size(), 3U);
  EXPECT_EQ(std::get<0>(names[0]), "Cy");  // Di, [Cy, Ada, NULL]
  EXPECT_EQ(std::get<0>(names[1]), "Ada");
  EXPECT_EQ(std::get<0>(names[2]), std::nullopt);
  const auto first =
      conn().select(col<&User::name>).order_by(col<&User::name>.asc().nulls_first()).first();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(std::get<0>(*first), std::nullopt);
}

TEST_F(select_test, inner_join_session_to_user_not_expired) {
  const auto rows = conn()
                        .select(col<&Session::token>, col<&User::email>)
                        .join<User>(col<&Session::user_id> == col<&User::id>)
                        .where(col<&Session::expires_at> > pgorm::now())
                        .order_by(col<&Session::token>)
                        .all();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0], std::make_tuple(std::string("tok-a1"), std::string("ada@example.com")));
  EXPECT_EQ(rows[1], std::make_tuple(std::string("tok-c1"), std::string("cy@test.org")));
}

TEST_F(select_test, left_join_gives_optional_right_side) {
  const auto rows = conn()
                        .select(col<&User::email>, col<&Account::provider>)
                        .left_join<Account>(col<&Account::user_id> == col<&User::id>)
                        .order_by(col<&User::id>)
                        .all();
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(std::get<1>(rows[0]), "github");
  EXPECT_EQ(std::get<1>(rows[1]), std::nullopt);

  const auto pairs = conn()
                         .select<User, Account>()
                         .left_join<Account>(col<&Account::user_id> == col<&User::id>)
                         .order_by(col<&User::id>)
                         .all();
  ASSERT_EQ(pairs.size(), 4U);
  EXPECT_EQ(std::get<0>(pairs[0]).email, "ada@example.com");
  ASSERT_TRUE(std::get<1>(pairs[0]).has_value());
  EXPECT_EQ(std::get<1>(pairs[0])->balance, 100);
  EXPECT_FALSE(std::get<1>(pairs[1]).has_value());
  ASSERT_TRUE(std::get<1>(pairs[2]).has_value());
  EXPECT_EQ(std::get<1>(pairs[2])->balance, std::nullopt);  // NULL column, row present
}

TEST_F(select_test, three_tables_and_a_self_join_alias) {
  const auto rows = conn()
                        .select(col<&User::email>, col<&Account::provider>, col<&Session::token>)
                        .join<Account>(col<&Account::user_id> == col<&User::id>)
                        .join<Session>(col<&Session::user_id> == col<&User::id>)
                        .where(col<&Session::ip_address>.is_not_null())
                        .order_by(col<&Session::token>)
                        .all();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(std::get<1>(rows[1]), "google");

  // Pairs of users with the same age: a self-join through an alias.
  const auto twins = conn()
                         .select(col<&User::email>, col<&User::email, "twin">)
                         .join<User, "twin">(col<&User::age, "twin"> == col<&User::age> &&
                                             col<&User::id, "twin"> > col<&User::id>)
                         .all();
  ASSERT_EQ(twins.size(), 1U);
  EXPECT_EQ(twins[0],
            std::make_tuple(std::string("ada@example.com"), std::string("di@example.com")));
}

TEST_F(select_test, partial_struct_by_field_names) {
  const auto s = conn().select<UserSummary>().from<User>().where(col<&User::age> > 50).all();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].email, "cy@test.org");
  EXPECT_EQ(s[0].id, 3);
}

TEST_F(select_test, exists_and_in_subqueries) {
  const auto with_account =
      conn()
          .select(col<&User::id>)
          .where(pgorm::exists(
              pgorm::select(col<&Account::id>).where(col<&Account::user_id> == col<&User::id>)))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(with_account.size(), 2U);
  const auto with_live_session =
      conn()
          .select(col<&User::email>)
          .where(col<&User::id>.in(pgorm::select(col<&Session::user_id>)
                                       .where(col<&Session::expires_at> > pgorm::now())))
          .order_by(col<&User::email>)
          .all();
  ASSERT_EQ(with_live_session.size(), 2U);
  EXPECT_EQ(std::get<0>(with_live_session[1]), "cy@test.org");
}

struct grown_up {
  std::int64_t id;
  std::string email;
};

TEST_F(select_test, common_table_expression) {
  const auto rows =
      conn()
          .select<grown_up>()
          .with<grown_up>(
              pgorm::select(col<&User::id>, col<&User::email>).where(col<&User::age> >= 18))
          .where(col<&grown_up::email>.like("%@example.com"))
          .order_by(col<&grown_up::id>)
          .all();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[1].email, "di@example.com");
}

TEST_F(select_test, for_update_skip_locked_takes_free_rows) {
  pgorm::connection other = connect();
  other.exec("begin");
  const auto locked =
      pgorm::select(col<&Session::id>).order_by(col<&Session::id>).limit(1).for_update().all(other);
  ASSERT_EQ(locked.size(), 1U);
  conn().exec("begin");
  const auto free = conn()
                        .select(col<&Session::id>)
                        .order_by(col<&Session::id>)
                        .limit(1)
                        .for_update()
                        .skip_locked()
                        .one();
  EXPECT_NE(std::get<0>(free), std::get<0>(locked[0]));
  conn().exec("rollback");
  other.exec("rollback");
}

TEST_F(select_test, find_by_primary_key) {
  const std::optional<User> ada = conn().find<User>(1);
  ASSERT_TRUE(ada.has_value());
  EXPECT_EQ(ada->email, "ada@example.com");
  EXPECT_EQ(conn().find<User>(999), std::nullopt);
  EXPECT_TRUE(pgorm::find<Account>(conn(), 2).has_value());
}

TEST_F(select_test, one_first_and_their_errors) {
  EXPECT_THROW(conn().select<User>().one(), pgorm::usage_error);  // four rows
  EXPECT_THROW(conn().select<User>().where(col<&User::id> == 999).one(), pgorm::not_found);
  EXPECT_EQ(conn().select<User>().where(col<&User::id> == 999).first(), std::nullopt);
}

TEST_F(select_test, one_on_no_row_is_not_found_and_not_a_usage_error) {
  // A handler that maps usage_error to 500 must not swallow "no such row" (a 404).
  try {
    (void)conn().select<User>().where(col<&User::id> == 999).one();
    FAIL() << "one() returned a row that does not exist";
  } catch (const pgorm::usage_error&) {
    FAIL() << "no row must not be a usage_error";
  } catch (const pgorm::not_found& e) {
    EXPECT_NE(std::string_view(e.what()).find("returned none"), std::string_view::npos) << e.what();
    EXPECT_FALSE(e.poisons_connection());
  }
  // The connection is still usable, and a raw query's one() says the same.
  EXPECT_EQ(conn().select<User>().where(col<&User::id> == 1).one().email, "ada@example.com");
  EXPECT_THROW((void)pgorm::query<std::int64_t>("select 1::int8 where false").one(conn()),
               pgorm::not_found);
}

TEST_F(select_test, keyset_pagination_walks_every_row_once) {
  for (int i = 0; i < 23; ++i) {
    conn()
        .query<void>("insert into session (user_id, token, expires_at) values (2, $1, now())",
                     "page-" + std::to_string(i))
        .exec();
  }
  const auto q = conn()
                     .select<Session>()
                     .where(col<&Session::user_id> == 2)
                     .order_by(col<&Session::expires_at>.desc(), col<&Session::id>.desc());
  std::vector<std::string> seen;
  auto page = q.page(10);
  while (true) {
    for (const Session& s : page.rows) seen.push_back(s.token);
    if (!page.next) break;
    page = q.after(*page.next).page(10);
  }
  EXPECT_EQ(seen.size(), 23U);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
}

TEST_F(select_test, count_and_exists_ask_the_server) {
  // Four users (Ada, Bob, Cy, Di); counted by the server, not by reading rows.
  EXPECT_EQ(conn().select<User>().count(), 4);
  EXPECT_EQ(pgorm::select<User>().where(col<&User::age> >= 30).count(conn()),
            static_cast<std::int64_t>(
                pgorm::select<User>().where(col<&User::age> >= 30).all(conn()).size()));
  EXPECT_EQ(conn().select<User>().where(col<&User::id> == 999).count(), 0);
  // limit() and distinct() inside count.
  EXPECT_EQ(conn().select<User>().order_by(col<&User::id>).limit(2).count(), 2);
  EXPECT_EQ(conn().select(col<&User::id>).from<User>().where(col<&User::id> <= 2).count(), 2);
  EXPECT_TRUE(conn().select<User>().where(col<&User::email> == "ada@example.com").exists());
  EXPECT_FALSE(pgorm::select<User>().where(col<&User::id> == 999).exists(conn()));
  // A run-time filter: its parameters are bound inside the wrapped statement.
  pgorm::filter<User> f;
  f &= col<&User::id> >= std::int64_t{2};
  f &= col<&User::id> <= std::int64_t{3};
  EXPECT_EQ(conn().select<User>().where(f).count(), 2);
  EXPECT_TRUE(conn().select<User>().where(f).exists());
}

TEST_F(select_test, count_and_exists_through_a_pool) {
  pgorm::pool db{conninfo(), {.max_size = 1}};
  EXPECT_EQ(db.select<User>().count(), 4);
  EXPECT_TRUE(db.select<User>().where(col<&User::id> == 1).exists());
  EXPECT_FALSE(pgorm::select<User>().where(col<&User::id> == 999).exists(db));
}

TEST_F(select_test, dynamic_filter_from_optional_search_fields) {
  const auto search = [&](std::optional<std::string> name, std::optional<int> min_age) {
    pgorm::filter<User> f;
    if (name) f &= col<&User::name>.ilike(pgorm::contains(*name));
    if (min_age) f &= col<&User::age> >= *min_age;
    return conn().select(col<&User::id>).where(f).order_by(col<&User::id>).all().size();
  };
  EXPECT_EQ(search(std::nullopt, std::nullopt), 4U);
  EXPECT_EQ(search("d", std::nullopt), 2U);  // Ada, Di
  EXPECT_EQ(search("d", 40), 0U);
  EXPECT_EQ(search(std::nullopt, 40), 1U);
}

TEST_F(select_test, each_streams_rows) {
  conn().exec(R"(insert into account (user_id, provider, provider_account_id)
                 select 2, 'bulk', 'b-' || g from generate_series(1, 5000) g)");
  std::int64_t count = 0;
  std::int64_t sum = 0;
  conn().select<Account>().where(col<&Account::provider> == "bulk").each([&](const Account& a) {
    ++count;
    sum += a.id;
  });
  EXPECT_EQ(count, 5000);
  EXPECT_GT(sum, 0);
  // An exception from the callback stops the query; the connection stays usable.
  EXPECT_THROW(conn().select<Account>().each([](const Account&) { throw std::runtime_error("x"); }),
               std::runtime_error);
  EXPECT_EQ(std::get<0>(conn().select(pgorm::count()).from<User>().one()), 4);
}

struct user_stats {
  std::int64_t users;
  std::optional<std::int32_t> oldest;
};

TEST_F(select_test, raw_query_maps_by_column_name) {
  const auto s =
      conn()
          .query<user_stats>(
              R"(select max(age) as oldest, count(*) as users from "user" where age > $1)", 20)
          .one();
  EXPECT_EQ(s.users, 3);
  EXPECT_EQ(s.oldest, 52);
  const auto t = pgorm::query<std::tuple<std::string, std::int64_t>>(
                     R"(select email, id from "user" where id = $1)", 3)
                     .one(conn());
  EXPECT_EQ(std::get<0>(t), "cy@test.org");
  // Missing and extra columns are errors that name them.
  try {
    (void)conn().query<user_stats>(R"(select count(*) as users from "user")").one();
    FAIL();
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("oldest"), std::string::npos) << e.what();
  }
  try {
    (void)conn().query<user_stats>(R"(select 1::int8 as users, 2 as oldest, 3 as extra)").one();
    FAIL();
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("extra"), std::string::npos) << e.what();
  }
  // Placeholders and arguments must agree.
  EXPECT_THROW((void)pgorm::query<user_stats>("select $1, $2", 1), pgorm::usage_error);
  // Run-time text, explicitly marked.
  const std::string table = "\"user\"";
  EXPECT_EQ(std::get<0>(conn()
                            .query<std::tuple<std::int64_t>>(
                                pgorm::unsafe_sql("select count(*) from " + table))
                            .one()),
            4);
}

TEST_F(select_test, to_sql_shows_sql_and_parameter_count) {
  const auto s = conn().select<User>().where(col<&User::email> == "x").limit(1).to_sql();
  EXPECT_EQ(s.sql, R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
                   R"(WHERE email = $1 LIMIT $2)");
  EXPECT_EQ(s.params.size(), 2U);
}

}  // namespace
