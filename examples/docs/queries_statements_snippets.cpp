// SPDX-License-Identifier: MIT
// The code blocks of the statement sections of docs/queries.md and docs/dml.md (UPDATE ... FROM,
// DELETE ... USING, DISTINCT ON, right/full/cross joins, UNION/INTERSECT/EXCEPT, recursive CTEs,
// insert column lists, SET col = DEFAULT), compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in a page; the static_asserts
// after a region pin the SQL the page quotes. Check with tools/check_docs.py.

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs_statements {

using app::Account;
using app::Session;
using app::use;
using app::User;
using pgorm::col;

void update_from(pgorm::connection& conn) {
  // clang-format off
  // doc-begin(update_from)
  // Copy each adult user's name onto their sessions: the value comes from the other table.
  const std::int64_t n = pgorm::update<Session>()
                             .from<User>()
                             .set(col<&Session::ip_address> = col<&User::name>)
                             .where(col<&Session::user_id> == col<&User::id> &&
                                    col<&User::age> >= 18)
                             .exec(conn);
  // doc-end(update_from)
  // clang-format on
  use(n);
}
static_assert(decltype(pgorm::update<Session>()
                           .from<User>()
                           .set(col<& Session::ip_address> = col<&User::name>)
                           .where(col<&Session::user_id> == col<&User::id> &&
                                  col<&User::age> >= 18))::sql() ==
              R"(UPDATE session SET ip_address = "user".name FROM "user" WHERE session.user_id )"
              R"(= "user".id AND "user".age >= $1)");

void delete_using(pgorm::connection& conn) {
  // doc-begin(delete_using)
  // Delete the sessions of unverified users, returning what went.
  const auto gone =
      pgorm::remove<Session>()
          .using_<User>()
          .where(col<&Session::user_id> == col<&User::id> && col<&User::is_email_verified> == false)
          .returning(col<&Session::token>, col<&User::email>)
          .all(conn);  // std::vector<std::tuple<std::string, std::string>>
  // doc-end(delete_using)
  use(gone);
}
static_assert(decltype(pgorm::remove<Session>()
                           .using_<User>()
                           .where(col<&Session::user_id> == col<&User::id> &&
                                  col<&User::is_email_verified> == false)
                           .returning(col<&Session::token>, col<&User::email>))::sql() ==
              R"(DELETE FROM session USING "user" WHERE session.user_id = "user".id AND )"
              R"("user"."isEmailVerified" = $1 RETURNING session.token, "user".email)");

void distinct_on(pgorm::connection& conn) {
  // doc-begin(distinct_on)
  // Each user's session that expires last.
  const std::vector<Session> latest =
      conn.select<Session>()
          .distinct_on(col<&Session::user_id>)
          .order_by(col<&Session::user_id>, col<&Session::expires_at>.desc())
          .all();
  // doc-end(distinct_on)
  use(latest);
}
static_assert(decltype(pgorm::select<Session>()
                           .distinct_on(col<&Session::user_id>)
                           .order_by(col<&Session::user_id>,
                                     col<&Session::expires_at>.desc()))::sql() ==
              "SELECT DISTINCT ON (user_id) id, user_id, token, expires_at, ip_address FROM "
              "session ORDER BY user_id, expires_at DESC");

void outer_joins(pgorm::connection& conn) {
  // doc-begin(outer_joins)
  // Every user, with their sessions where they have some: the session side is optional.
  const auto rows = conn.select<Session, User>()
                        .right_join<User>(col<&Session::user_id> == col<&User::id>)
                        .all();  // std::vector<std::tuple<std::optional<Session>, User>>

  // Users and accounts, unmatched ones of either side included.
  const auto both = conn.select(col<&User::email>, col<&Account::provider>)
                        .full_join<Account>(col<&Account::user_id> == col<&User::id>)
                        .all();  // tuple<optional<std::string>, optional<std::string>>

  // Every pair of users (no ON condition), the second under an alias.
  const auto pairs = conn.select(col<&User::id>, col<&User::id, "other">)
                         .cross_join<User, "other">()
                         .where(col<&User::id> < col<&User::id, "other">)
                         .all();
  // doc-end(outer_joins)
  use(rows, both, pairs);
}
static_assert(decltype(pgorm::select(col<&User::email>, col<&Account::provider>)
                           .full_join<Account>(col<&Account::user_id> == col<&User::id>))::sql() ==
              R"(SELECT "user".email, account.provider FROM "user" FULL JOIN account ON )"
              R"(account.user_id = "user".id)");
static_assert(decltype(pgorm::select(col<&User::id>, col<&User::id, "other">)
                           .cross_join<User, "other">()
                           .where(col<&User::id> < col<&User::id, "other">))::sql() ==
              R"(SELECT "user".id, other.id FROM "user" CROSS JOIN "user" AS other WHERE )"
              R"("user".id < other.id)");

void set_operations(pgorm::connection& conn) {
  // doc-begin(set_operations)
  // Users who have a session or an account, ten at a time by id.
  const auto active = conn.select(col<&Session::user_id>)
                          .union_(pgorm::select(col<&Account::user_id>))
                          .order_by(col<&Session::user_id>)
                          .limit(10)
                          .all();  // std::vector<std::tuple<std::int64_t>>

  // Adults without a session.
  const auto idle = conn.select(col<&User::id>)
                        .where(col<&User::age> >= 18)
                        .except(pgorm::select(col<&Session::user_id>))
                        .all();
  // doc-end(set_operations)
  use(active, idle);
}
static_assert(decltype(pgorm::select(col<&Session::user_id>)
                           .union_(pgorm::select(col<&Account::user_id>))
                           .order_by(col<&Session::user_id>)
                           .limit(10))::sql() ==
              "(SELECT user_id FROM session) UNION (SELECT user_id FROM account) ORDER BY "
              "user_id LIMIT $1");

void insert_columns(pgorm::connection& conn, const User& user, std::int64_t id) {
  // clang-format off
  // doc-begin(insert_columns)
  // Only email and age are written; "isEmailVerified", created_at and name take their
  // column defaults (false, now(), NULL) whatever `user` holds.
  pgorm::insert(user).columns(col<&User::email>, col<&User::age>).exec(conn);

  // SET col = DEFAULT: back to the column default.
  pgorm::update<User>()
      .set(pgorm::to_default<&User::is_email_verified>, col<&User::name> = "x")
      .where(col<&User::id> == id)
      .exec(conn);
  // doc-end(insert_columns)
  // clang-format on
}
static_assert(decltype(pgorm::insert(User{}).columns(col<&User::email>, col<&User::age>))::sql() ==
              R"(INSERT INTO "user" (email, age) VALUES ($1, $2))");
static_assert(decltype(pgorm::update<User>()
                           .set(pgorm::to_default<&User::is_email_verified>,
                                col<& User::name> = "x")
                           .where(col<&User::id> == 1))::sql() ==
              R"(UPDATE "user" SET "isEmailVerified" = DEFAULT, name = $1 WHERE id = $2)");

// doc-begin(recursive_structs)
struct Category {  // create table category (id bigint primary key, parent_id bigint, name text)
  std::int64_t id;
  std::optional<std::int64_t> parent_id;
  std::string name;
};
struct Tree {  // the CTE's rows: a category and how deep it sits
  std::int64_t id;
  std::string name;
  std::int32_t depth;
};
// doc-end(recursive_structs)

void recursive_cte(pgorm::connection& conn) {
  // doc-begin(recursive_cte)
  const auto roots = pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(0))
                         .where(col<&Category::parent_id>.is_null());
  const auto children =
      pgorm::select(col<&Category::id>, col<&Category::name>, col<&Tree::depth> + 1)
          .join<Tree>(col<&Category::parent_id> == col<&Tree::id>);
  const std::vector<Tree> tree = conn.select<Tree>()
                                     .with_recursive<Tree>(roots.union_all(children))
                                     .order_by(col<&Tree::depth>, col<&Tree::name>)
                                     .all();
  // doc-end(recursive_cte)
  use(tree);
}
static_assert(
    decltype(pgorm::select<Tree>()
                 .with_recursive<Tree>(
                     pgorm::select(col<&Category::id>, col<&Category::name>, pgorm::val(0))
                         .where(col<&Category::parent_id>.is_null())
                         .union_all(pgorm::select(col<&Category::id>, col<&Category::name>,
                                                  col<&Tree::depth> + 1)
                                        .join<Tree>(col<&Category::parent_id> == col<&Tree::id>)))
                 .order_by(col<&Tree::depth>, col<&Tree::name>))::sql() ==
    "WITH RECURSIVE tree (id, name, depth) AS ((SELECT id, name, $1 FROM category WHERE "
    "parent_id IS NULL) UNION ALL (SELECT category.id, category.name, tree.depth + $2 FROM "
    "category JOIN tree ON category.parent_id = tree.id)) SELECT id, name, depth FROM tree ORDER "
    "BY depth, name");

}  // namespace docs_statements
