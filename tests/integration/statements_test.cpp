// SPDX-License-Identifier: MIT
// The statement-level pieces of issue 16 item 4 against a real server: UPDATE ... FROM, DELETE
// ... USING, DISTINCT ON, right/full/cross joins, UNION/INTERSECT/EXCEPT, recursive CTEs,
// explicit insert column lists and SET col = DEFAULT.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"

namespace stmt {
// A self-referencing table, and the rows of recursive walks of it.
struct Category {
  std::int64_t id;
  std::optional<std::int64_t> parent_id;
  std::string name;
};
struct Tree {
  std::int64_t id;
  std::string name;
  std::int32_t depth;
};
struct Reach {
  std::int64_t id;
};
}  // namespace stmt

namespace {

using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;
using stmt::Category;
using stmt::Reach;
using stmt::Tree;

class statements_test : public pgorm::test::db_test {
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
        (3, 'tok-c1', now() + interval '2 days', '10.0.0.3'),
        (2, 'tok-b1', now() + interval '3 days', null);
      insert into account (user_id, provider, provider_account_id, balance) values
        (1, 'github', 'gh-1', 100), (3, 'google', 'go-3', null), (2, 'github', 'gh-2', 5))");
  }

  std::vector<std::string> tokens() {
    std::vector<std::string> out;
    for (const auto& [t] :
         pgorm::select(col<&Session::token>).order_by(col<&Session::token>).all(conn())) {
      out.push_back(t);
    }
    return out;
  }
};

using strings = std::vector<std::string>;

TEST_F(statements_test, update_from_copies_values_of_the_joined_row) {
  // Each session of a user over 30 takes the user's name as its ip_address (a value that can
  // only come from the other table).
  const std::int64_t n =
      pgorm::update<Session>()
          .from<User>()
          .set(col<& Session::ip_address> = col<&User::name>)
          .where(col<&Session::user_id> == col<&User::id> && col<&User::age> > 30)
          .exec(conn());
  EXPECT_EQ(n, 3);
  const auto rows = pgorm::select(col<&Session::token>, col<&Session::ip_address>)
                        .order_by(col<&Session::token>)
                        .all(conn());
  using row = std::tuple<std::string, std::optional<std::string>>;
  EXPECT_EQ(rows,
            (std::vector<row>{
                {"tok-a1", "Ada"}, {"tok-a2", "Ada"}, {"tok-b1", std::nullopt}, {"tok-c1", "Cy"}}));
}

TEST_F(statements_test, update_from_returning_reads_both_tables) {
  auto rows = pgorm::update<Account>()
                  .from<User>()
                  .set(col<& Account::balance> = 0)
                  .where(col<&Account::user_id> == col<&User::id> &&
                         col<&User::email>.like("%@example.com"))
                  .returning(col<&Account::provider_account_id>, col<&User::email>)
                  .all(conn());
  std::sort(rows.begin(), rows.end());
  using row = std::tuple<std::string, std::string>;
  EXPECT_EQ(rows, (std::vector<row>{{"gh-1", "ada@example.com"}, {"gh-2", "bob@example.com"}}));
  const auto whole =
      pgorm::update<Account>()
          .from<User, "u">()
          .set(col<& Account::balance> = col<&Account::balance> + 1)
          .where(col<&Account::user_id> == col<&User::id, "u"> && col<&User::name, "u"> == "Cy")
          .returning_all()
          .one(conn());
  EXPECT_EQ(whole.provider_account_id, "go-3");
  EXPECT_EQ(whole.balance, std::nullopt);  // NULL + 1
}

TEST_F(statements_test, delete_using_removes_rows_that_join) {
  // The sessions of users whose email is not at example.com, and the minors' sessions.
  const std::int64_t n =
      pgorm::remove<Session>()
          .using_<User>()
          .where(col<&Session::user_id> == col<&User::id> &&
                 (col<&User::email>.not_like("%@example.com") || col<&User::age> < 18))
          .exec(conn());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(tokens(), (strings{"tok-a1", "tok-a2"}));
  const auto gone =
      pgorm::remove<Session>()
          .using_<User, "u">()
          .where(col<&Session::user_id> == col<&User::id, "u"> && col<&User::name, "u"> == "Ada" &&
                 col<&Session::expires_at> < pgorm::now())
          .returning(col<&Session::token>, col<&User::email, "u">)
          .all(conn());
  using row = std::tuple<std::string, std::string>;
  EXPECT_EQ(gone, (std::vector<row>{{"tok-a2", "ada@example.com"}}));
  EXPECT_EQ(tokens(), (strings{"tok-a1"}));
}

TEST_F(statements_test, distinct_on_keeps_the_first_row_of_each_group) {
  // The session of each user that expires last (Prisma's distinct: ['userId'] with orderBy).
  const std::vector<Session> latest =
      pgorm::select<Session>()
          .distinct_on(col<&Session::user_id>)
          .order_by(col<&Session::user_id>, col<&Session::expires_at>.desc())
          .all(conn());
  strings got;
  for (const Session& s : latest) got.push_back(s.token);
  EXPECT_EQ(got, (strings{"tok-a1", "tok-b1", "tok-c1"}));

  // Two expressions, the order naming them the other way round, and a joined table.
  const auto per_age =
      pgorm::select(col<&User::age>, col<&User::email>, col<&Session::token>)
          .join<Session>(col<&Session::user_id> == col<&User::id>)
          .distinct_on(col<&User::age>, col<&User::is_email_verified>)
          .order_by(col<&User::is_email_verified>, col<&User::age>, col<&Session::token>.desc())
          .all(conn());
  using row = std::tuple<std::int32_t, std::string, std::string>;
  EXPECT_EQ(per_age, (std::vector<row>{{17, "bob@example.com", "tok-b1"},
                                       {52, "cy@test.org", "tok-c1"},
                                       {36, "ada@example.com", "tok-a2"}}));
}

TEST_F(statements_test, right_join_keeps_every_row_of_the_right_side) {
  // Every user with their sessions; di has none, so her session side is NULL.
  const auto rows = pgorm::select<Session, User>()
                        .right_join<User>(col<&Session::user_id> == col<&User::id>)
                        .order_by(col<&User::id>, col<&Session::token>)
                        .all(conn());
  ASSERT_EQ(rows.size(), 5U);
  std::vector<std::pair<std::optional<std::string>, std::string>> got;
  for (const auto& [session, user] : rows) {
    got.emplace_back(session ? std::optional(session->token) : std::nullopt, user.email);
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::optional<std::string>, std::string>>{
                     {"tok-a1", "ada@example.com"},
                     {"tok-a2", "ada@example.com"},
                     {"tok-b1", "bob@example.com"},
                     {"tok-c1", "cy@test.org"},
                     {std::nullopt, "di@example.com"}}));
}

TEST_F(statements_test, full_join_keeps_unmatched_rows_of_both_sides) {
  // Accounts with a balance over 10 matched to users: unmatched users and accounts both stay.
  const auto rows =
      pgorm::select(col<&User::email>, col<&Account::provider_account_id>)
          .full_join<Account>(col<&Account::user_id> == col<&User::id> &&
                              col<&Account::balance> > 10)
          .order_by(col<&User::email>.asc().nulls_last(), col<&Account::provider_account_id>)
          .all(conn());
  using row = std::tuple<std::optional<std::string>, std::optional<std::string>>;
  EXPECT_EQ(rows, (std::vector<row>{{"ada@example.com", "gh-1"},
                                    {"bob@example.com", std::nullopt},
                                    {"cy@test.org", std::nullopt},
                                    {"di@example.com", std::nullopt},
                                    {std::nullopt, "gh-2"},
                                    {std::nullopt, "go-3"}}));
}

TEST_F(statements_test, cross_join_pairs_every_row) {
  const auto pairs = pgorm::select(col<&User::name>, col<&User::name, "other">)
                         .cross_join<User, "other">()
                         .where(col<&User::age> == col<&User::age, "other"> &&
                                col<&User::id> < col<&User::id, "other">)
                         .all(conn());
  using row = std::tuple<std::optional<std::string>, std::optional<std::string>>;
  EXPECT_EQ(pairs, (std::vector<row>{{"Ada", "Di"}}));
  EXPECT_EQ(pgorm::select(col<&User::id>).cross_join<Account>().count(conn()), 12);
}

TEST_F(statements_test, union_intersect_except_against_the_server) {
  using ids = std::vector<std::tuple<std::int64_t>>;
  const auto with_session = pgorm::select(col<&Session::user_id>);
  const auto with_account = pgorm::select(col<&Account::user_id>);
  const auto adults = pgorm::select(col<&User::id>).where(col<&User::age> >= 18);

  EXPECT_EQ(with_session.union_(with_account).order_by(col<&Session::user_id>).all(conn()),
            (ids{{1}, {2}, {3}}));
  // UNION ALL keeps duplicates: 4 sessions + 3 accounts.
  EXPECT_EQ(with_session.union_all(with_account).exec(conn()), 7);
  EXPECT_EQ(adults.intersect(with_session).order_by(col<&User::id>.desc()).all(conn()),
            (ids{{3}, {1}}));
  EXPECT_EQ(adults.except(with_session).all(conn()), (ids{{4}}));
  // ALL forms count multiplicities: user 1 has two sessions and one account.
  EXPECT_EQ(with_session.except_all(with_account).all(conn()), (ids{{1}}));
  EXPECT_EQ(with_session.intersect_all(with_account).exec(conn()), 3);

  // Chained, with limit/offset over the whole and parameters on both sides; bound to conn.
  const auto page =
      conn()
          .select(col<&User::id>)
          .where(col<&User::name> == "Ada")
          .union_(pgorm::select(col<&User::id>).where(col<&User::age> < 18))
          .union_(pgorm::select(col<&Account::user_id>).where(col<&Account::provider> == "google"))
          .order_by(col<&User::id>)
          .limit(2)
          .offset(1)
          .all();
  EXPECT_EQ(page, (ids{{2}, {3}}));
}

TEST_F(statements_test, union_of_whole_rows_and_operands_with_their_own_limit) {
  // The oldest user and the youngest, as whole rows: each side has its own ORDER BY / LIMIT.
  const auto oldest = pgorm::select<User>().order_by(col<&User::age>.desc()).limit(1);
  const auto youngest = pgorm::select<User>().order_by(col<&User::age>).limit(1);
  const std::vector<User> both = oldest.union_all(youngest).order_by(col<&User::age>).all(conn());
  ASSERT_EQ(both.size(), 2U);
  EXPECT_EQ(both[0].email, "bob@example.com");
  EXPECT_EQ(both[1].email, "cy@test.org");
  const std::optional<User> first =
      oldest.union_all(youngest).order_by(col<&User::email>).first(conn());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->email, "bob@example.com");
}

TEST_F(statements_test, recursive_cte_walks_a_tree_to_any_depth) {
  conn().exec(R"(
    create table category (id bigint primary key, parent_id bigint references category(id),
                           name text not null);
    insert into category values (1, null, 'root'), (2, 1, 'books'), (3, 2, 'novels'),
      (4, 3, 'crime'), (5, 4, 'nordic'), (6, null, 'other'), (7, 6, 'misc'))");
  const auto roots = pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(0))
                         .where(col<&Category::parent_id>.is_null());
  const auto children =
      pgorm::select(col<&Category::id>, col<&Category::name>, col<&Tree::depth> + 1)
          .join<Tree>(col<&Category::parent_id> == col<&Tree::id>);
  const std::vector<Tree> all = pgorm::select<Tree>()
                                    .with_recursive<Tree>(roots.union_all(children))
                                    .order_by(col<&Tree::depth>, col<&Tree::id>)
                                    .all(conn());
  std::vector<std::tuple<std::int64_t, std::string, std::int32_t>> got;
  for (const Tree& t : all) got.emplace_back(t.id, t.name, t.depth);
  EXPECT_EQ(got,
            (std::vector<std::tuple<std::int64_t, std::string, std::int32_t>>{{1, "root", 0},
                                                                              {6, "other", 0},
                                                                              {2, "books", 1},
                                                                              {7, "misc", 1},
                                                                              {3, "novels", 2},
                                                                              {4, "crime", 3},
                                                                              {5, "nordic", 4}}));

  // The subtree under "books", depth-limited in the step, counted and filtered outside.
  const auto start = pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(0))
                         .where(col<&Category::name> == "books");
  const auto limited =
      pgorm::select(col<&Category::id>, col<&Category::name>, col<&Tree::depth> + 1)
          .join<Tree>(col<&Category::parent_id> == col<&Tree::id>)
          .where(col<&Tree::depth> < 2);
  const auto sub = pgorm::select(col<&Tree::name>)
                       .with_recursive<Tree>(start.union_all(limited))
                       .where(col<&Tree::depth> > 0)
                       .order_by(col<&Tree::depth>);
  EXPECT_EQ(sub.all(conn()), (std::vector<std::tuple<std::string>>{{"novels"}, {"crime"}}));
  EXPECT_EQ(sub.count(conn()), 2);
}

TEST_F(statements_test, recursive_union_ends_at_a_cycle) {
  conn().exec(R"(
    create table category (id bigint primary key, parent_id bigint, name text not null);
    insert into category values (10, 11, 'a'), (11, 10, 'b'), (12, 11, 'c'))");
  // 10 -> 11 -> {10, 12}: UNION drops the repeated 10, so the walk ends.
  const auto reach =
      pgorm::select(col<&Reach::id>)
          .with_recursive<Reach>(
              pgorm::select(col<&Category::id>)
                  .where(col<&Category::id> == 10)
                  .union_(pgorm::select(col<&Category::id>)
                              .join<Reach>(col<&Category::parent_id> == col<&Reach::id>)))
          .order_by(col<&Reach::id>)
          .all(conn());
  EXPECT_EQ(reach, (std::vector<std::tuple<std::int64_t>>{{10}, {11}, {12}}));
}

TEST_F(statements_test, insert_column_list_leaves_the_rest_to_their_defaults) {
  // The struct says verified and named; only email and age are listed, so the server's
  // defaults apply to the rest: "isEmailVerified" false, created_at now(), name NULL.
  const User eve{0, "eve@example.com", "Eve", 41, true, {}};
  const User back =
      pgorm::insert(eve).columns(col<&User::email>, col<&User::age>).returning_all().one(conn());
  EXPECT_EQ(back.email, "eve@example.com");
  EXPECT_EQ(back.age, 41);
  EXPECT_EQ(back.name, std::nullopt);
  EXPECT_FALSE(back.is_email_verified);
  EXPECT_LT(std::chrono::system_clock::now() - back.created_at, std::chrono::hours(1));

  // A range, in the listed order (age before email), with an upsert.
  const std::vector<User> more{{0, "fay@example.com", "Fay", 20, true, {}},
                               {0, "ada@example.com", "Ada2", 99, true, {}}};
  const std::int64_t n = pgorm::insert(more)
                             .columns(col<&User::age>, col<&User::email>, col<&User::name>)
                             .on_conflict(col<&User::email>)
                             .do_nothing()
                             .exec(conn());
  EXPECT_EQ(n, 1);
  const auto fay = pgorm::select(col<&User::name>, col<&User::age>, col<&User::is_email_verified>)
                       .where(col<&User::email> == "fay@example.com")
                       .one(conn());
  EXPECT_EQ(fay, (std::tuple<std::optional<std::string>, std::int32_t, bool>{"Fay", 20, false}));
}

TEST_F(statements_test, set_to_default_restores_the_column_default) {
  const std::int64_t n =
      pgorm::update<User>()
          .set(pgorm::to_default<&User::is_email_verified>, pgorm::to_default<&User::name>)
          .where(col<&User::email> == "ada@example.com")
          .exec(conn());
  EXPECT_EQ(n, 1);
  const auto [verified, name] = pgorm::select(col<&User::is_email_verified>, col<&User::name>)
                                    .where(col<&User::email> == "ada@example.com")
                                    .one(conn());
  EXPECT_FALSE(verified);         // DEFAULT false
  EXPECT_EQ(name, std::nullopt);  // no default: NULL
  // In an upsert's DO UPDATE too.
  const User ada{0, "ada@example.com", "Ada again", 1, true, {}};
  pgorm::insert(ada)
      .on_conflict(col<&User::email>)
      .do_update(pgorm::to_default<&User::is_email_verified>,
                 col<& User::name> = pgorm::excluded<&User::name>)
      .exec(conn());
  const auto [v2, n2] = pgorm::select(col<&User::is_email_verified>, col<&User::name>)
                            .where(col<&User::email> == "ada@example.com")
                            .one(conn());
  EXPECT_FALSE(v2);
  EXPECT_EQ(n2, "Ada again");
  // age has no default and is NOT NULL: its DEFAULT is NULL, which the column rejects.
  EXPECT_THROW(pgorm::update<User>()
                   .set(pgorm::to_default<&User::age>)
                   .where(col<&User::email> == "bob@example.com")
                   .exec(conn()),
               pgorm::not_null_violation);
}

}  // namespace
