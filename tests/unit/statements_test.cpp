// SPDX-License-Identifier: MIT
// Golden SQL for the statement-level pieces of issue 16 item 4: UPDATE ... FROM, DELETE ...
// USING, DISTINCT ON, right/full/cross joins, UNION/INTERSECT/EXCEPT, recursive CTEs, explicit
// insert column lists and SET col = DEFAULT. Rendered at compile time (static_assert) where the
// shape is static, and through to_sql() with its parameters. No server.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

namespace stmt {
// A self-referencing table, and the rows of a recursive walk of it.
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
}  // namespace stmt

namespace {

using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;
using stmt::Category;
using stmt::Tree;

// ---- UPDATE ... FROM, DELETE ... USING ----------------------------------------------------------

static_assert(decltype(pgorm::update<Session>()
                           .from<User>()
                           .set(col<& Session::ip_address> = col<&User::name>)
                           .where(col<&Session::user_id> == col<&User::id> &&
                                  col<&User::age> > 30))::sql() ==
              R"(UPDATE session SET ip_address = "user".name FROM "user" )"
              R"(WHERE session.user_id = "user".id AND "user".age > $1)");

static_assert(decltype(pgorm::remove<Session>().using_<User>().where(
                  col<&Session::user_id> == col<&User::id> &&
                  col<&User::email>.like("%@test.org")))::sql() ==
              R"(DELETE FROM session USING "user" WHERE session.user_id = "user".id AND )"
              R"("user".email LIKE $1)");

TEST(update_from, two_tables_alias_and_returning) {
  const auto q = pgorm::update<Account>()
                     .from<User>()
                     .from<Session, "s">()
                     .set(col<& Account::balance> = col<&Account::balance> + 10,
                          col<& Account::provider> = col<&Session::token, "s">)
                     .where(col<&Account::user_id> == col<&User::id> &&
                            col<&Session::user_id, "s"> == col<&User::id> && col<&User::age> >= 18)
                     .returning(col<&Account::id>, col<&User::email>);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql,
            "UPDATE account SET balance = account.balance + $1, provider = s.token "
            "FROM \"user\", session AS s WHERE account.user_id = \"user\".id AND s.user_id = "
            "\"user\".id AND \"user\".age >= $2 RETURNING account.id, \"user\".email");
  ASSERT_EQ(s.params.size(), 2U);
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, std::string>>);
}

TEST(update_from, returning_all_is_qualified_beside_other_tables) {
  const auto q = pgorm::update<Session>()
                     .from<User>()
                     .set(col<& Session::token> = "x")
                     .where(col<&Session::user_id> == col<&User::id>)
                     .returning_all();
  EXPECT_EQ(q.to_sql().sql,
            "UPDATE session SET token = $1 FROM \"user\" WHERE session.user_id = \"user\".id "
            "RETURNING session.id, session.user_id, session.token, session.expires_at, "
            "session.ip_address");
  // Without from<U>(), nothing changes: unqualified, as before.
  EXPECT_EQ(pgorm::update<Session>()
                .set(col<& Session::token> = "x")
                .where(col<&Session::id> == 1)
                .returning_all()
                .to_sql()
                .sql,
            "UPDATE session SET token = $1 WHERE id = $2 RETURNING id, user_id, token, "
            "expires_at, ip_address");
}

TEST(remove_using, alias_and_returning) {
  const auto q =
      pgorm::remove<Account>()
          .using_<User, "u">()
          .where(col<&Account::user_id> == col<&User::id, "u"> && col<&User::age, "u"> < 18)
          .returning(col<&Account::id>, col<&User::email, "u">);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql,
            "DELETE FROM account USING \"user\" AS u WHERE account.user_id = u.id AND u.age < $1 "
            "RETURNING account.id, u.email");
  EXPECT_EQ(s.params.size(), 1U);
}

// ---- DISTINCT ON -------------------------------------------------------------------------------

static_assert(decltype(pgorm::select<Session>()
                           .distinct_on(col<&Session::user_id>)
                           .order_by(col<&Session::user_id>,
                                     col<&Session::expires_at>.desc()))::sql() ==
              "SELECT DISTINCT ON (user_id) id, user_id, token, expires_at, "
              "ip_address FROM session ORDER BY user_id, expires_at DESC");

TEST(distinct_on, expressions_in_any_order_then_the_rest) {
  const auto q =
      pgorm::select(col<&Account::user_id>, col<&Account::provider>, col<&Account::balance>)
          .distinct_on(col<&Account::provider>, col<&Account::balance> + 1)
          .order_by((col<&Account::balance> + 1).desc(), col<&Account::provider>, col<&Account::id>)
          .where(col<&Account::user_id> > 0);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql,
            "SELECT DISTINCT ON (provider, balance + $1) user_id, provider, balance FROM account "
            "WHERE user_id > $2 ORDER BY balance + $3 DESC, provider, id");
  EXPECT_EQ(s.params.size(), 3U);
  // An order shorter than the DISTINCT ON list is a prefix of it: allowed, as PostgreSQL does.
  EXPECT_EQ(pgorm::select(col<&Account::id>)
                .distinct_on(col<&Account::provider>, col<&Account::user_id>)
                .order_by(col<&Account::user_id>)
                .to_sql()
                .sql,
            "SELECT DISTINCT ON (provider, user_id) id FROM account ORDER BY user_id");
  // Without order_by() the row each group keeps is unspecified, and allowed.
  EXPECT_EQ(pgorm::select(col<&Account::id>).distinct_on(col<&Account::provider>).to_sql().sql,
            "SELECT DISTINCT ON (provider) id FROM account");
}

TEST(distinct_on, joins_qualify_and_keyset_extends_the_order) {
  const auto q = pgorm::select<User>()
                     .join<Session>(col<&Session::user_id> == col<&User::id>)
                     .distinct_on(col<&User::age>)
                     .order_by(col<&User::age>, col<&Session::expires_at>.desc());
  EXPECT_EQ(q.to_sql().sql,
            "SELECT DISTINCT ON (\"user\".age) \"user\".id, \"user\".email, \"user\".name, "
            "\"user\".age, \"user\".\"isEmailVerified\", \"user\".created_at FROM \"user\" JOIN "
            "session ON session.user_id = \"user\".id ORDER BY \"user\".age, session.expires_at "
            "DESC");
}

// ---- RIGHT / FULL / CROSS JOIN ----------------------------------------------------------------

static_assert(decltype(pgorm::select(col<&Session::token>, col<&User::email>)
                           .right_join<User>(col<&Session::user_id> == col<&User::id>))::sql() ==
              R"(SELECT session.token, "user".email FROM session RIGHT JOIN "user" ON )"
              R"(session.user_id = "user".id)");

TEST(joins, right_join_makes_the_tables_before_it_nullable) {
  const auto q =
      pgorm::select<Session, User>().right_join<User>(col<&Session::user_id> == col<&User::id>);
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::optional<Session>, User>>);
  // One table selected whole: the row itself is optional.
  using only_sessions =
      decltype(pgorm::select<Session>().right_join<User>(col<&Session::user_id> == col<&User::id>));
  static_assert(std::is_same_v<only_sessions::row_type, std::optional<Session>>);
  // A left join after a right join: both the earlier tables and the left-joined one.
  const auto three = pgorm::select(col<&Session::token>, col<&User::email>, col<&Account::provider>)
                         .right_join<User>(col<&Session::user_id> == col<&User::id>)
                         .left_join<Account>(col<&Account::user_id> == col<&User::id>);
  static_assert(
      std::is_same_v<decltype(three)::row_type, std::tuple<std::optional<std::string>, std::string,
                                                           std::optional<std::string>>>);
  EXPECT_EQ(three.to_sql().sql,
            "SELECT session.token, \"user\".email, account.provider FROM session RIGHT JOIN "
            "\"user\" ON session.user_id = \"user\".id LEFT JOIN account ON account.user_id = "
            "\"user\".id");
}

TEST(joins, full_join_makes_both_sides_nullable) {
  const auto q = pgorm::select(col<&User::email>, col<&Account::provider>, pgorm::count())
                     .full_join<Account>(col<&Account::user_id> == col<&User::id> &&
                                         col<&Account::balance> > 10)
                     .group_by(col<&User::email>, col<&Account::provider>);
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::optional<std::string>,
                                                       std::optional<std::string>, std::int64_t>>);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql,
            "SELECT \"user\".email, account.provider, count(*) FROM \"user\" FULL JOIN account ON "
            "account.user_id = \"user\".id AND account.balance > $1 GROUP BY \"user\".email, "
            "account.provider");
  EXPECT_EQ(s.params.size(), 1U);
  static_assert(std::is_same_v<decltype(pgorm::select<User, Account>().full_join<Account>(
                                   col<&Account::user_id> == col<&User::id>))::row_type,
                               std::tuple<std::optional<User>, std::optional<Account>>>);
}

TEST(joins, cross_join_has_no_condition_and_keeps_both_sides) {
  const auto q = pgorm::select(col<&User::email>, col<&User::email, "other">)
                     .cross_join<User, "other">()
                     .where(col<&User::id> < col<&User::id, "other">);
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::string>>);
  static_assert(decltype(q)::sql() ==
                R"(SELECT "user".email, other.email FROM "user" CROSS JOIN "user" AS other )"
                R"(WHERE "user".id < other.id)");
}

// ---- UNION / INTERSECT / EXCEPT ---------------------------------------------------------------

static_assert(decltype(pgorm::select(col<&User::email>)
                           .where(col<&User::age> > 30)
                           .union_(pgorm::select(col<&User::email>).where(col<&User::age> < 18))
                           .order_by(col<&User::email>.desc())
                           .limit(5))::sql() ==
              R"((SELECT email FROM "user" WHERE age > $1) UNION (SELECT email FROM "user" )"
              R"(WHERE age < $2) ORDER BY email DESC LIMIT $3)");

TEST(set_operations, every_operator_and_parameter_order) {
  const auto a = pgorm::select(col<&Session::user_id>).where(col<&Session::token> == "a");
  const auto b = pgorm::select(col<&Account::user_id>).where(col<&Account::provider> == "b");
  const auto sql = [](const auto& q) { return q.to_sql().sql; };
  const std::string l = R"((SELECT user_id FROM session WHERE token = $1))";
  const std::string r = R"((SELECT user_id FROM account WHERE provider = $2))";
  EXPECT_EQ(sql(a.union_(b)), l + " UNION " + r);
  EXPECT_EQ(sql(a.union_all(b)), l + " UNION ALL " + r);
  EXPECT_EQ(sql(a.intersect(b)), l + " INTERSECT " + r);
  EXPECT_EQ(sql(a.intersect_all(b)), l + " INTERSECT ALL " + r);
  EXPECT_EQ(sql(a.except(b)), l + " EXCEPT " + r);
  EXPECT_EQ(sql(a.except_all(b)), l + " EXCEPT ALL " + r);
  static_assert(std::is_same_v<decltype(a.union_(b))::row_type, std::tuple<std::int64_t>>);

  // Chained: the left operand is the first union, parenthesized; parameters in text order.
  const auto c = pgorm::select(col<&User::id>).where(col<&User::age> == 1);
  const pgorm::statement s =
      a.union_(b).except(c).order_by(col<&Session::user_id>).offset(2).to_sql();
  EXPECT_EQ(s.sql, "(" + l + " UNION " + r +
                       R"() EXCEPT (SELECT id FROM "user" WHERE age = $3) ORDER BY user_id )"
                       "OFFSET $4");
  ASSERT_EQ(s.params.size(), 4U);
}

TEST(set_operations, operands_keep_their_own_order_and_limit_and_qualify_alone) {
  const auto newest = pgorm::select<User>().order_by(col<&User::created_at>.desc()).limit(3);
  const auto joined = pgorm::select<User>()
                          .join<Session>(col<&Session::user_id> == col<&User::id>)
                          .where(col<&Session::ip_address>.is_null());
  const auto q = newest.union_(joined).order_by(col<&User::id>);
  static_assert(std::is_same_v<decltype(q)::row_type, User>);
  EXPECT_EQ(q.to_sql().sql,
            R"((SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" ORDER BY )"
            R"(created_at DESC LIMIT $1) UNION (SELECT "user".id, "user".email, "user".name, )"
            R"("user".age, "user"."isEmailVerified", "user".created_at FROM "user" JOIN session )"
            R"(ON session.user_id = "user".id WHERE session.ip_address IS NULL) ORDER BY id)");
}

// ---- WITH RECURSIVE --------------------------------------------------------------------------

TEST(recursive_cte, walks_a_tree_from_its_roots) {
  const auto roots = pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(0))
                         .where(col<&Category::parent_id>.is_null());
  const auto children =
      pgorm::select(col<&Category::id>, col<&Category::name>, col<&Tree::depth> + 1)
          .join<Tree>(col<&Category::parent_id> == col<&Tree::id>)
          .where(col<&Tree::depth> < 10);
  const auto q = pgorm::select<Tree>()
                     .with_recursive<Tree>(roots.union_all(children))
                     .order_by(col<&Tree::depth>, col<&Tree::name>);
  static_assert(std::is_same_v<decltype(q)::row_type, Tree>);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql,
            "WITH RECURSIVE tree (id, name, depth) AS ((SELECT id, name, $1 FROM category WHERE "
            "parent_id IS NULL) UNION ALL (SELECT category.id, category.name, tree.depth + $2 FROM "
            "category JOIN tree ON category.parent_id = tree.id WHERE tree.depth < $3)) SELECT "
            "id, name, depth FROM tree ORDER BY depth, name");
  EXPECT_EQ(s.params.size(), 3U);
}

TEST(recursive_cte, beside_a_plain_cte_the_with_is_recursive) {
  // A union in a plain with<P>() works too; WITH turns RECURSIVE when any CTE is.
  const auto plain =
      pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(1))
          .union_(pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(2)));
  const auto step = pgorm::select(col<&Category::id>, col<&Category::name>, col<&Tree::depth>)
                        .join<Tree>(col<&Category::parent_id> == col<&Tree::id>);
  const auto q = pgorm::select(col<&Tree::id>)
                     .with_recursive<Tree>(plain.union_(step))
                     .where(col<&Tree::depth> > 1);
  EXPECT_EQ(q.to_sql().sql,
            "WITH RECURSIVE tree (id, name, depth) AS (((SELECT id, name, $1 FROM category) UNION "
            "(SELECT id, name, $2 FROM category)) UNION (SELECT category.id, category.name, "
            "tree.depth FROM category JOIN tree ON category.parent_id = tree.id)) SELECT id FROM "
            "tree WHERE depth > $3");
}

// ---- INSERT column lists, SET col = DEFAULT ----------------------------------------------------

TEST(insert_columns, only_the_listed_columns_in_their_order) {
  const User u{7, "ada@example.com", "Ada", 36, true, {}};
  const auto q = pgorm::insert(u).columns(col<&User::name>, col<&User::email>);
  static_assert(decltype(q)::sql() == R"(INSERT INTO "user" (name, email) VALUES ($1, $2))");
  const pgorm::statement s = q.to_sql();
  ASSERT_EQ(s.params.size(), 2U);
  // With returning and on_conflict, and for a range: one tuple per row.
  const std::vector<User> users{u, u};
  const auto many = pgorm::insert(users)
                        .columns(col<&User::email>, col<&User::age>)
                        .on_conflict(col<&User::email>)
                        .do_nothing()
                        .returning(col<&User::id>);
  const pgorm::statement m = many.to_sql();
  EXPECT_EQ(m.sql,
            R"(INSERT INTO "user" (email, age) VALUES ($1, $2), ($3, $4) ON CONFLICT (email) )"
            "DO NOTHING RETURNING id");
  EXPECT_EQ(m.params.size(), 4U);
}

TEST(set_default, renders_the_keyword_and_binds_nothing) {
  const auto q = pgorm::update<User>()
                     .set(pgorm::to_default<&User::is_email_verified>, col<& User::name> = "x",
                          pgorm::to_default<&User::created_at>)
                     .where(col<&User::id> == 1);
  static_assert(decltype(q)::sql() == R"(UPDATE "user" SET "isEmailVerified" = DEFAULT, )"
                                      R"(name = $1, created_at = DEFAULT WHERE id = $2)");
  EXPECT_EQ(q.to_sql().params.size(), 2U);
  const auto upsert = pgorm::insert(User{})
                          .on_conflict(col<&User::email>)
                          .do_update(pgorm::to_default<&User::name>);
  EXPECT_EQ(upsert.to_sql().sql,
            R"(INSERT INTO "user" (email, name, age, "isEmailVerified", created_at) VALUES ($1, )"
            R"($2, $3, $4, $5) ON CONFLICT (email) DO UPDATE SET name = DEFAULT)");
}

}  // namespace
