// SPDX-License-Identifier: MIT
// Golden SQL for include(): each relation is one correlated subquery in the select list,
// rendered at compile time (static_assert) when its shape is static, with its placeholders
// numbered in text order and bound in that order; the C++ row types of 1-n, n-1 (optional when
// the foreign key is nullable), nested and partial relations.
#include "pgorm/query/include.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/query.hpp"
#include "support/relations_schema.hpp"

namespace {

using pgorm::col;
using pgorm::rel;
using pgorm::related;
using rt::Conversation;
using rt::Employee;
using rt::Follow;
using rt::Group;
using rt::Membership;
using rt::Message;
using rt::Session;
using rt::SessionToken;
using rt::User;

constexpr std::string_view sessions_subquery =
    "ARRAY(SELECT ROW(rt_session.id, rt_session.token, rt_session.hits) "
    "FROM rt_session WHERE rt_session.user_id = rt_user.id)";

// ---- 1-n ----

using users_with_sessions = decltype(pgorm::select<User>().include(rel<&Session::user_id>));
static_assert(users_with_sessions::sql() ==
              "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
              "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
              "rt_user.id) FROM rt_user");
static_assert(std::is_same_v<users_with_sessions::row_type, related<User, std::vector<Session>>>);
// Named by the table: the same statement.
static_assert(decltype(pgorm::select<User>().include<Session>())::sql() ==
              users_with_sessions::sql());
static_assert(decltype(pgorm::select<User>().include(pgorm::rel_to<Session>))::sql() ==
              users_with_sessions::sql());

// A 1-n relation's records leave the foreign key out when the parent row is the parent table's
// struct (the decoder refills it from there); under a parent read as columns they carry it.
using ids_with_sessions =
    decltype(pgorm::select(col<&User::id>).from<User>().include(rel<&Session::user_id>));
static_assert(ids_with_sessions::sql() ==
              "SELECT id, ARRAY(SELECT ROW(rt_session.id, rt_session.user_id, rt_session.token, "
              "rt_session.hits) FROM rt_session WHERE rt_session.user_id = rt_user.id) FROM "
              "rt_user");

// ---- n-1, two foreign keys to one table, one nullable ----

using messages_with_users = decltype(pgorm::select<Message>().include(rel<&Message::sender_id>,
                                                                      rel<&Message::reply_to_id>));
static_assert(messages_with_users::sql() ==
              "SELECT id, conversation_id, sender_id, reply_to_id, body, score, (SELECT "
              "ROW(rt_user.id, rt_user.email, rt_user.name) FROM rt_user WHERE rt_user.id = "
              "rt_message.sender_id), (SELECT ROW(rt_user.id, rt_user.email, rt_user.name) FROM "
              "rt_user WHERE rt_user.id = rt_message.reply_to_id) FROM rt_message");
static_assert(
    std::is_same_v<messages_with_users::row_type, related<Message, User, std::optional<User>>>);

// ---- nested, with where / order_by / limit at each level ----

TEST(include_sql, nested_relations_number_their_placeholders_in_text_order) {
  const auto q =
      pgorm::select<User>()
          .where(col<&User::id> > 1)
          .order_by(col<&User::id>)
          .limit(10)
          .include(rel<&Conversation::user_id>
                       .order_by(col<&Conversation::id>.desc())
                       .include(rel<&Message::conversation_id>
                                    .where(col<&Message::score> > 2)
                                    .order_by(col<&Message::id>)
                                    .limit(3)))
          .include<Session>();
  using Q = std::remove_const_t<decltype(q)>;
  static_assert(
      Q::sql() ==
      "SELECT id, email, name, ARRAY(SELECT ROW(rt_conversation.id, "
      "rt_conversation.title, ARRAY(SELECT ROW(rt_message.id, "
      "rt_message.sender_id, rt_message.reply_to_id, rt_message.body, rt_message.score) FROM "
      "rt_message WHERE rt_message.conversation_id = rt_conversation.id AND rt_message.score > "
      "$1 ORDER BY rt_message.id LIMIT $2)) FROM rt_conversation WHERE rt_conversation.user_id "
      "= rt_user.id), ARRAY(SELECT ROW(rt_session.id, "
      "rt_session.token, rt_session.hits) FROM rt_session WHERE "
      "rt_session.user_id = rt_user.id) FROM rt_user WHERE id > $3 ORDER BY id LIMIT $4");
  static_assert(
      std::is_same_v<Q::row_type,
                     related<User, std::vector<related<Conversation, std::vector<Message>>>,
                             std::vector<Session>>>);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql, Q::sql());
  ASSERT_EQ(s.params.size(), 4U);
}

TEST(include_sql, parameters_are_bound_in_placeholder_order) {
  // Different values at each placeholder: the encoded values must come out in text order.
  const auto q =
      pgorm::select<User>()
          .where(col<&User::email> == std::string("parent"))
          .include(
              rel<&Session::user_id>.where(col<&Session::token> == std::string("child")).limit(7));
  const pgorm::statement s = q.to_sql();
  ASSERT_EQ(s.params.size(), 3U);
  const auto text = [&](std::size_t i) { return std::string(s.params.params()[i].bytes()); };
  EXPECT_EQ(text(0), "child");
  EXPECT_EQ(s.params.params()[1].type(), pgorm::oids::int8);  // the limit
  EXPECT_EQ(text(2), "parent");
}

TEST(include_sql, a_cursor_after_the_relations_numbers_its_placeholders_after_theirs) {
  // The relation's parameters come first in the text (the select list), then the where(), then
  // the keyset condition; the total order gains the primary key; the cursor is the parent's.
  const auto q = pgorm::select<User>()
                     .where(col<&User::email> != std::string("parent"))
                     .order_by(col<&User::name>)
                     .include(rel<&Session::user_id>.where(col<&Session::hits> > 5).limit(2));
  using cursor = decltype(q)::cursor_t;
  static_assert(std::is_same_v<cursor, std::tuple<std::optional<std::string>, std::int64_t>>);
  const related<User, std::vector<Session>> row{{4, "e", std::string("n")}, {}};
  const auto after = q.after(row);
  EXPECT_EQ(q.after(row.row).to_sql().sql, after.to_sql().sql);
  static_assert(decltype(after)::sql() ==
                "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
                "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
                "rt_user.id AND rt_session.hits > $1 LIMIT $2) FROM rt_user WHERE email <> $3 AND "
                "((name > $4 OR $4 IS "
                "NOT NULL AND name IS NULL) OR ((name = $4 OR name IS NULL AND $4 IS NULL) AND "
                "id > $5)) ORDER BY name, id");
  const pgorm::statement s = after.to_sql();
  ASSERT_EQ(s.params.size(), 5U);
  EXPECT_EQ(std::string(s.params.params()[2].bytes()), "parent");
  EXPECT_EQ(std::string(s.params.params()[3].bytes()), "n");
  EXPECT_EQ(decltype(q)::cursor_of(row), (cursor{std::string("n"), 4}));
}

// ---- partial parent and children ----

TEST(include_sql, partial_selects_of_parent_and_children) {
  const auto q = pgorm::select(col<&User::id>, col<&User::email>)
                     .from<User>()
                     .include(rel<&Session::user_id>.select<SessionToken>());
  using Q = std::remove_const_t<decltype(q)>;
  static_assert(Q::sql() ==
                "SELECT id, email, ARRAY(SELECT ROW(rt_session.id, rt_session.token) FROM "
                "rt_session WHERE rt_session.user_id = rt_user.id) FROM rt_user");
  static_assert(
      std::is_same_v<Q::row_type,
                     related<std::tuple<std::int64_t, std::string>, std::vector<SessionToken>>>);
  EXPECT_EQ(q.to_sql().params.size(), 0U);
}

TEST(include_sql, an_aliased_parent_is_correlated_by_its_alias) {
  const auto q = pgorm::select<User>().from<User, "u">().include(rel<&Session::user_id>);
  using Q = std::remove_const_t<decltype(q)>;
  std::string expected(sessions_subquery);
  expected.replace(expected.find("rt_user.id"), 10, "u.id");
  EXPECT_EQ(Q::sql(), "SELECT id, email, name, " + expected + " FROM rt_user AS u");
}

TEST(include_sql, a_filter_chosen_at_run_time_renders_the_relation_at_run_time) {
  // A pgorm::filter in the relation's where(): the statement is rendered at run time, with the
  // same text a static condition gives, and the placeholders still in text order.
  pgorm::filter<Session> f;
  f &= col<&Session::hits> > 5;
  const auto dynamic = pgorm::select<User>()
                           .where(col<&User::id> > 1)
                           .include(rel<&Session::user_id>.where(f).limit(2));
  static_assert(!std::remove_const_t<decltype(dynamic)>::is_static);
  const pgorm::statement s = dynamic.to_sql();
  EXPECT_EQ(s.sql,
            "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
            "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
            "rt_user.id AND ((rt_session.hits > $1)) LIMIT $2) FROM rt_user WHERE id > $3");
  EXPECT_EQ(s.params.size(), 3U);
}

// ---- the order of the related rows ----

// The array's order is the ORDER BY of the ARRAY() subquery (the SQL standard's array
// constructor by query orders its elements so), unless the order is made on the client: with
// a limit, or keys the client cannot sort by as the server does.
TEST(include_sql, the_array_subquery_orders_the_related_rows) {
  using by_text = decltype(pgorm::select<User>().include(
      rel<&Session::user_id>.order_by(col<&Session::token>.desc(), col<&Session::id>)));
  static_assert(by_text::sql() ==
                "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
                "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
                "rt_user.id ORDER BY rt_session.token DESC, rt_session.id) FROM rt_user");
  const auto limited = pgorm::select<User>().include(
      rel<&Session::user_id>.order_by(col<&Session::hits>.desc().nulls_last(), col<&Session::id>).limit(2));
  using L = std::remove_const_t<decltype(limited)>;
  static_assert(L::sql() ==
                "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
                "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
                "rt_user.id ORDER BY rt_session.hits DESC NULLS LAST, rt_session.id LIMIT $1) "
                "FROM rt_user");
  EXPECT_EQ(limited.to_sql().params.size(), 1U);
}

// Without limit(), an order on NOT NULL integer (or timestamp, date) columns of the related
// rows is made on the client: the subquery has no ORDER BY (no sort per parent row on the
// server) and each parent's rows are sorted stably after decoding.
using client_two_keys = decltype(pgorm::select<User>().include(
    rel<&Session::user_id>.order_by(col<&Session::hits>.desc(), col<&Session::id>)));
static_assert(client_two_keys::sql() ==
              "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, rt_session.token, "
              "rt_session.hits) FROM rt_session WHERE rt_session.user_id = rt_user.id) FROM "
              "rt_user");
static_assert(pgorm::detail::settles_rows_v<client_two_keys, client_two_keys::row_type>);
// Nested two levels: both orders on the client.
using client_nested = decltype(pgorm::select<User>().include(
    rel<&Conversation::user_id>.order_by(col<&Conversation::id>.desc())
        .include(rel<&Message::conversation_id>.order_by(col<&Message::sender_id>))));
static_assert(client_nested::sql() ==
              "SELECT id, email, name, ARRAY(SELECT ROW(rt_conversation.id, rt_conversation.title, "
              "ARRAY(SELECT ROW(rt_message.id, rt_message.sender_id, rt_message.reply_to_id, "
              "rt_message.body, rt_message.score) FROM rt_message WHERE "
              "rt_message.conversation_id = rt_conversation.id)) FROM rt_conversation WHERE "
              "rt_conversation.user_id = rt_user.id) FROM rt_user");
// No order, nothing to sort.
static_assert(!pgorm::detail::settles_rows_v<users_with_sessions, users_with_sessions::row_type>);

TEST(include_sql, orders_the_client_cannot_reproduce_stay_on_the_server) {
  // A nullable key (NULLs), a text key (collation), a limit (which rows), a key the partial
  // select does not read, an expression: the server sorts.
  using nullable_key = decltype(pgorm::select<Conversation>().include(
      rel<&Message::conversation_id>.order_by(col<&Message::score>)));
  EXPECT_NE(std::string_view(nullable_key::sql()).find("ORDER BY rt_message.score)"),
            std::string_view::npos)
      << nullable_key::sql();
  using text_key = decltype(pgorm::select<User>().include(
      rel<&Session::user_id>.order_by(col<&Session::token>)));
  EXPECT_NE(std::string_view(text_key::sql()).find("ORDER BY rt_session.token)"),
            std::string_view::npos)
      << text_key::sql();
  const auto limited =
      pgorm::select<User>().include(rel<&Session::user_id>.order_by(col<&Session::id>).limit(3));
  EXPECT_NE(limited.to_sql().sql.find("ORDER BY rt_session.id LIMIT $1)"), std::string::npos)
      << limited.to_sql().sql;
  using unselected_key = decltype(pgorm::select<User>().include(
      rel<&Session::user_id>.select<SessionToken>().order_by(col<&Session::hits>)));
  EXPECT_NE(std::string_view(unselected_key::sql()).find("ORDER BY rt_session.hits)"),
            std::string_view::npos)
      << unselected_key::sql();
  using selected_key = decltype(pgorm::select<User>().include(
      rel<&Session::user_id>.select<SessionToken>().order_by(col<&Session::id>.desc())));
  EXPECT_EQ(std::string_view(selected_key::sql()).find("ORDER BY"), std::string_view::npos)
      << selected_key::sql();
  // One key the client cannot sort by keeps the whole order on the server.
  using mixed = decltype(pgorm::select<User>().include(
      rel<&Session::user_id>.order_by(col<&Session::id>, col<&Session::token>)));
  EXPECT_NE(std::string_view(mixed::sql()).find("ORDER BY rt_session.id, rt_session.token)"),
            std::string_view::npos)
      << mixed::sql();
  static_assert(!pgorm::detail::settles_rows_v<mixed, mixed::row_type>);
}

TEST(include_sql, a_union_of_selects_with_include_keeps_the_server_order) {
  // The compound's rows are read as its own: its operands' relations keep their ORDER BY.
  const auto q = pgorm::select<User>()
                     .where(col<&User::id> < 10)
                     .include(rel<&Session::user_id>.order_by(col<&Session::id>))
                     .union_all(pgorm::select<User>()
                                    .where(col<&User::id> > 20)
                                    .include(rel<&Session::user_id>.order_by(col<&Session::id>)));
  const std::string sql = q.to_sql().sql;
  const std::string ordered = "rt_session.user_id = rt_user.id ORDER BY rt_session.id)";
  const auto first = sql.find(ordered);
  ASSERT_NE(first, std::string::npos) << sql;
  EXPECT_NE(sql.find(ordered, first + 1), std::string::npos) << sql;
}

TEST(include_sql, an_order_key_with_a_value_binds_in_text_order) {
  // A value in an order key: in the subquery's ORDER BY, after its WHERE and before its LIMIT.
  const auto key = col<&Session::hits> % 7;
  const auto unlimited = pgorm::select<User>().include(
      rel<&Session::user_id>.where(col<&Session::token> == std::string("w")).order_by(key));
  const pgorm::statement a = unlimited.to_sql();
  EXPECT_EQ(a.sql,
            "SELECT id, email, name, ARRAY(SELECT ROW(rt_session.id, "
            "rt_session.token, rt_session.hits) FROM rt_session WHERE rt_session.user_id = "
            "rt_user.id AND rt_session.token = $1 ORDER BY rt_session.hits % $2) FROM rt_user");
  ASSERT_EQ(a.params.size(), 2U);
  EXPECT_EQ(std::string(a.params.params()[0].bytes()), "w");
  EXPECT_EQ(a.params.params()[1].type(), pgorm::oids::int4);
  const auto limited = pgorm::select<User>().include(
      rel<&Session::user_id>.where(col<&Session::token> == std::string("w")).order_by(key).limit(3));
  const pgorm::statement b = limited.to_sql();
  EXPECT_NE(b.sql.find("FROM rt_session WHERE rt_session.user_id = rt_user.id AND "
                       "rt_session.token = $1 ORDER BY rt_session.hits % $2 LIMIT $3)"),
            std::string::npos)
      << b.sql;
  ASSERT_EQ(b.params.size(), 3U);
  EXPECT_EQ(std::string(b.params.params()[0].bytes()), "w");
  EXPECT_EQ(b.params.params()[1].type(), pgorm::oids::int4);
  EXPECT_EQ(b.params.params()[2].type(), pgorm::oids::int8);
}

// ---- a table's relation to itself ----

// The related rows go by an alias: pgorm's own (pgorm_t<depth>, distinct at each nesting level)
// unless the relation names one. rel<> from the referencing table is the n-1 direction (the
// manager), rel_many<> the 1-n one (the reports).
using with_manager = decltype(pgorm::select<Employee>().include(rel<&Employee::manager_id>));
static_assert(with_manager::sql() ==
              "SELECT id, manager_id, name, (SELECT ROW(pgorm_t1.id, pgorm_t1.manager_id, "
              "pgorm_t1.name) FROM rt_employee AS pgorm_t1 WHERE pgorm_t1.id = "
              "rt_employee.manager_id) FROM rt_employee");
static_assert(std::is_same_v<with_manager::row_type, related<Employee, std::optional<Employee>>>);

using with_reports_of_reports = decltype(pgorm::select<Employee>().include(
    pgorm::rel_many<&Employee::manager_id>.include(pgorm::rel_many<&Employee::manager_id>)));
static_assert(with_reports_of_reports::sql() ==
              "SELECT id, manager_id, name, ARRAY(SELECT ROW(pgorm_t1.id, pgorm_t1.manager_id, "
              "pgorm_t1.name, ARRAY(SELECT ROW(pgorm_t2.id, pgorm_t2.manager_id, pgorm_t2.name) "
              "FROM rt_employee AS pgorm_t2 WHERE pgorm_t2.manager_id = pgorm_t1.id)) FROM "
              "rt_employee AS pgorm_t1 WHERE pgorm_t1.manager_id = rt_employee.id) FROM "
              "rt_employee");
static_assert(
    std::is_same_v<with_reports_of_reports::row_type,
                   related<Employee, std::vector<related<Employee, std::vector<Employee>>>>>);

TEST(include_sql, a_named_alias_carries_the_relations_own_where_and_order) {
  const auto q =
      pgorm::select<Employee>()
          .from<Employee, "e">()
          .include(pgorm::rel_many<&Employee::manager_id, "reports">
                       .where(col<&Employee::name, "reports"> != std::string("x"))
                       .order_by(col<&Employee::name, "reports">)
                       .limit(3));
  using Q = std::remove_const_t<decltype(q)>;
  static_assert(Q::sql() ==
                "SELECT id, manager_id, name, ARRAY(SELECT ROW(reports.id, reports.manager_id, "
                "reports.name) FROM rt_employee AS reports WHERE reports.manager_id = e.id AND "
                "reports.name <> $1 ORDER BY reports.name LIMIT $2) FROM rt_employee AS e");
  EXPECT_EQ(q.to_sql().params.size(), 2U);
  // rel_many<> on another table is rel<> from the referenced side: the same statement.
  static_assert(decltype(pgorm::select<User>().include(
                    pgorm::rel_many<&Session::user_id>))::sql() == users_with_sessions::sql());
}

// ---- many-to-many through a join table ----

using users_with_groups = decltype(pgorm::select<User>().include(
    pgorm::rel_through<&Membership::user_id, &Membership::group_id>));
static_assert(users_with_groups::sql() ==
              "SELECT id, email, name, ARRAY(SELECT ROW(rt_group.id, rt_group.name) FROM "
              "rt_group JOIN rt_membership ON rt_membership.group_id = rt_group.id WHERE "
              "rt_membership.user_id = rt_user.id) FROM rt_user");
static_assert(std::is_same_v<users_with_groups::row_type, related<User, std::vector<Group>>>);
// The join table named alone: its one foreign key to the parent, its one other.
static_assert(decltype(pgorm::select<User>().include(pgorm::rel_via<Membership>))::sql() ==
              users_with_groups::sql());
// The other direction: each group's members.
static_assert(decltype(pgorm::select<Group>().include(pgorm::rel_via<Membership>))::sql() ==
              "SELECT id, name, ARRAY(SELECT ROW(rt_user.id, rt_user.email, rt_user.name) "
              "FROM rt_user JOIN rt_membership ON rt_membership.user_id = rt_user.id WHERE "
              "rt_membership.group_id = rt_group.id) FROM rt_group");

TEST(include_sql, many_to_many_takes_where_order_and_limit_over_both_tables) {
  // The join table's columns count in where() and order_by(); the limit picks the first rows.
  const auto q = pgorm::select<User>().include(
      pgorm::rel_through<&Membership::user_id, &Membership::group_id>
          .where(col<&Membership::role> != std::string("guest"))
          .order_by(col<&Membership::role>, col<&Group::name>.desc())
          .limit(2));
  using Q = std::remove_const_t<decltype(q)>;
  static_assert(Q::sql() ==
                "SELECT id, email, name, ARRAY(SELECT ROW(rt_group.id, rt_group.name) FROM "
                "rt_group JOIN rt_membership ON rt_membership.group_id = rt_group.id WHERE "
                "rt_membership.user_id = rt_user.id AND rt_membership.role <> $1 ORDER BY "
                "rt_membership.role, rt_group.name DESC LIMIT $2) FROM rt_user");
  const pgorm::statement s = q.to_sql();
  ASSERT_EQ(s.params.size(), 2U);
  EXPECT_EQ(std::string(s.params.params()[0].bytes()), "guest");
}

TEST(include_sql, a_table_related_to_itself_through_a_join_table_goes_by_an_alias) {
  // Whom each user follows, and who follows them: the related users under pgorm's alias or
  // the relation's own, nested under a group's members.
  using Q = decltype(pgorm::select<User>().include(
      pgorm::rel_through<&Follow::follower_id, &Follow::followee_id>,
      pgorm::rel_through<&Follow::followee_id, &Follow::follower_id, "fans">.order_by(
          col<&User::email, "fans">)));
  static_assert(Q::sql() ==
                "SELECT id, email, name, ARRAY(SELECT ROW(pgorm_t1.id, pgorm_t1.email, "
                "pgorm_t1.name) FROM rt_user AS pgorm_t1 JOIN rt_follow ON "
                "rt_follow.followee_id = pgorm_t1.id WHERE rt_follow.follower_id = rt_user.id), "
                "ARRAY(SELECT ROW(fans.id, fans.email, fans.name) FROM rt_user AS fans JOIN "
                "rt_follow ON rt_follow.follower_id = fans.id WHERE rt_follow.followee_id = "
                "rt_user.id ORDER BY fans.email) FROM rt_user");
  using N = decltype(pgorm::select<Group>().include(pgorm::rel_via<Membership>.include(
      pgorm::rel_through<&Follow::follower_id, &Follow::followee_id>)));
  static_assert(
      std::is_same_v<N::row_type, related<Group, std::vector<related<User, std::vector<User>>>>>);
  EXPECT_NE(std::string_view(N::sql()).find("rt_user AS pgorm_t2 JOIN rt_follow ON "
                                            "rt_follow.followee_id = pgorm_t2.id WHERE "
                                            "rt_follow.follower_id = rt_user.id"),
            std::string_view::npos)
      << N::sql();
}

}  // namespace
