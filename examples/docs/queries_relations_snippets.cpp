// SPDX-License-Identifier: MIT
// The code blocks of docs/queries.md's "Relations" section (include()), compiled. Each region
// between `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; the
// static_asserts after a region pin the SQL and the row types the page quotes. Built as an
// OBJECT library.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "pgorm/query/include.hpp"

namespace chat {

// doc-begin(relations_schema)
struct User {
  std::int64_t id;
  std::string email;
};
struct Conversation {
  std::int64_t id;
  std::int64_t user_id;
  std::string title;
};
struct Message {
  std::int64_t id;
  std::int64_t conversation_id;
  std::int64_t sender_id;
  std::optional<std::int64_t> reply_to_id;  // nullable: the user replied to, if any
  std::string body;
};
// doc-end(relations_schema)

template <class... T>
void use(const T&... /*values*/) {}

}  // namespace chat

// doc-begin(relations_traits)
template <>
struct pgorm::table_traits<chat::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&chat::User::id);
};
template <>
struct pgorm::table_traits<chat::Conversation> {
  static constexpr std::string_view name = "conversations";
  static constexpr auto primary_key = pgorm::identity(&chat::Conversation::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&chat::Conversation::user_id, &chat::User::id));
};
template <>
struct pgorm::table_traits<chat::Message> {
  static constexpr std::string_view name = "messages";
  static constexpr auto primary_key = pgorm::identity(&chat::Message::id);
  static constexpr auto foreign_keys = pgorm::foreign_keys(
      pgorm::foreign_key(&chat::Message::conversation_id, &chat::Conversation::id),
      pgorm::foreign_key(&chat::Message::sender_id, &chat::User::id),
      pgorm::foreign_key(&chat::Message::reply_to_id, &chat::User::id));
};
// doc-end(relations_traits)

namespace docs_relations {

using chat::Conversation;
using chat::Message;
using chat::use;
using chat::User;
using pgorm::col;

void one_to_many(pgorm::connection& conn) {
  // doc-begin(include_basic)
  // Prisma:  db.user.findMany({ include: { conversations: true } })
  // Drizzle: db.query.users.findMany({ with: { conversations: true } })
  const auto rows = conn.select<User>().include<Conversation>().all();
  for (const auto& [user, conversations] : rows) {
    use(user.email, conversations.size());  // conversations: std::vector<Conversation>
  }
  // doc-end(include_basic)
}

void nested(pgorm::connection& conn, std::int64_t id) {
  // doc-begin(include_nested)
  // Prisma: db.user.findUnique({ where: { id }, include: { conversations: {
  //           orderBy: { id: 'desc' }, take: 10,
  //           include: { messages: { where: { body: { not: '' } }, orderBy: { id: 'asc' },
  //                                  take: 50 } } } } })
  const auto user =
      conn.select<User>()
          .where(col<&User::id> == id)
          .include(pgorm::rel<&Conversation::user_id>
                       .order_by(col<&Conversation::id>.desc())
                       .limit(10)
                       .include(pgorm::rel<&Message::conversation_id>
                                    .where(col<&Message::body> != "")
                                    .order_by(col<&Message::id>)
                                    .limit(50)))
          .one();
  for (const auto& [conversation, messages] : user.get<1>()) {
    use(conversation.title, messages.size());  // messages: std::vector<Message>
  }
  // doc-end(include_nested)
  static_assert(
      std::is_same_v<
          std::remove_const_t<decltype(user)>,
          pgorm::related<User, std::vector<pgorm::related<Conversation, std::vector<Message>>>>>);
}

void many_to_one(pgorm::connection& conn) {
  // doc-begin(include_many_to_one)
  // Two foreign keys point at users: name each relation by its column.
  const auto q = conn.select<Message>().include(pgorm::rel<&Message::sender_id>,
                                                pgorm::rel<&Message::reply_to_id>);
  for (const auto& [message, sender, replied_to] : q.all()) {
    use(message.body, sender.email);         // sender: User (NOT NULL foreign key)
    if (replied_to) use(replied_to->email);  // replied_to: std::optional<User>
  }
  // doc-end(include_many_to_one)
  static_assert(decltype(q)::sql() ==
                "SELECT id, conversation_id, sender_id, reply_to_id, body, "
                "(SELECT ROW(users.id, users.email) FROM users WHERE users.id = "
                "messages.sender_id), "
                "(SELECT ROW(users.id, users.email) FROM users WHERE users.id = "
                "messages.reply_to_id) FROM messages");
}

void paged(pgorm::connection& conn, std::int64_t id) {
  // doc-begin(include_page)
  // Prisma: db.conversation.findMany({ where: { userId: id }, orderBy: { title: 'asc' },
  //           take: 20, cursor: ..., skip: 1,
  //           include: { messages: { orderBy: { id: 'desc' }, take: 5 } } })
  const auto q =
      conn.select<Conversation>()
          .where(col<&Conversation::user_id> == id)
          .order_by(col<&Conversation::title>)
          .include(
              pgorm::rel<&Message::conversation_id>.order_by(col<&Message::id>.desc()).limit(5));
  auto page = q.page(20);  // cursor_t: std::tuple<std::string, std::int64_t> (title, then id)
  while (true) {
    for (const auto& [conversation, last_messages] : page.rows) {
      use(conversation.title, last_messages.size());
    }
    if (!page.next) break;
    page = q.after(*page.next).page(20);
  }
  // doc-end(include_page)
  static_assert(std::is_same_v<decltype(q)::cursor_t, std::tuple<std::string, std::int64_t>>);
  static_assert(std::is_same_v<decltype(page.rows),
                               std::vector<pgorm::related<Conversation, std::vector<Message>>>>);
}

void sql_of_include() {
  // doc-begin(include_sql)
  using Q = decltype(pgorm::select<User>().include(
      pgorm::rel<&Conversation::user_id>.order_by(col<&Conversation::title>)));
  static_assert(Q::sql() ==
                "SELECT id, email, ARRAY(SELECT ROW(conversations.id, conversations.title) FROM "
                "conversations WHERE conversations.user_id = users.id ORDER BY "
                "conversations.title) FROM users");
  // doc-end(include_sql)
  // doc-begin(include_sql_client_order)
  // By id, descending, no limit(): no ORDER BY; pgorm sorts each user's conversations.
  using C = decltype(pgorm::select<User>().include(
      pgorm::rel<&Conversation::user_id>.order_by(col<&Conversation::id>.desc())));
  static_assert(C::sql() ==
                "SELECT id, email, ARRAY(SELECT ROW(conversations.id, conversations.title) FROM "
                "conversations WHERE conversations.user_id = users.id) FROM users");
  // doc-end(include_sql_client_order)
  // doc-begin(include_sql_limit)
  using L = decltype(pgorm::select<User>().include(
      pgorm::rel<&Conversation::user_id>.order_by(col<&Conversation::id>.desc()).limit(5)));
  static_assert(L::sql() ==
                "SELECT id, email, ARRAY(SELECT ROW(conversations.id, conversations.title) FROM "
                "conversations WHERE conversations.user_id = users.id ORDER BY conversations.id "
                "DESC LIMIT $1) FROM users");
  // doc-end(include_sql_limit)
}

}  // namespace docs_relations

namespace org {

// doc-begin(relations_self_schema)
struct Employee {
  std::int64_t id;
  std::optional<std::int64_t> manager_id;  // NULL at the top
  std::string name;
};
// doc-end(relations_self_schema)

}  // namespace org

// doc-begin(relations_self_traits)
template <>
struct pgorm::table_traits<org::Employee> {
  static constexpr std::string_view name = "employees";
  static constexpr auto primary_key = pgorm::identity(&org::Employee::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&org::Employee::manager_id, &org::Employee::id));
};
// doc-end(relations_self_traits)

namespace docs_relations {

using org::Employee;

void self_relation(pgorm::connection& conn) {
  // doc-begin(include_self)
  // Prisma: db.employee.findMany({ include: { manager: true,
  //           reports: { orderBy: { name: 'asc' }, include: { reports: true } } } })
  const auto rows =
      conn.select<Employee>()
          .include(pgorm::rel<&Employee::manager_id>,  // n-1: each employee's manager
                   pgorm::rel_many<&Employee::manager_id, "reports">  // 1-n: whom they manage
                       .order_by(col<&Employee::name, "reports">)
                       .include(pgorm::rel_many<&Employee::manager_id>))
          .all();
  for (const auto& [employee, manager, reports] : rows) {
    if (manager) use(employee.name, manager->name);  // manager: std::optional<Employee>
    for (const auto& [report, theirs] : reports) use(report.name, theirs.size());
  }
  // doc-end(include_self)
  using Q = decltype(pgorm::select<Employee>().include(pgorm::rel<&Employee::manager_id>));
  // doc-begin(include_self_sql)
  static_assert(Q::sql() ==
                "SELECT id, manager_id, name, (SELECT ROW(pgorm_t1.id, pgorm_t1.manager_id, "
                "pgorm_t1.name) FROM employees AS pgorm_t1 WHERE pgorm_t1.id = "
                "employees.manager_id) FROM employees");
  // doc-end(include_self_sql)
}

}  // namespace docs_relations

namespace teams {

// doc-begin(relations_m2m_schema)
struct Group {
  std::int64_t id;
  std::string name;
};
struct Membership {  // the join table: one row per user in a group
  std::int64_t user_id;
  std::int64_t group_id;
  std::string role;
};
// doc-end(relations_m2m_schema)

}  // namespace teams

// doc-begin(relations_m2m_traits)
template <>
struct pgorm::table_traits<teams::Group> {
  static constexpr std::string_view name = "groups";
  static constexpr auto primary_key = pgorm::identity(&teams::Group::id);
};
template <>
struct pgorm::table_traits<teams::Membership> {
  static constexpr std::string_view name = "memberships";
  static constexpr auto primary_key =
      pgorm::key(&teams::Membership::user_id, &teams::Membership::group_id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&teams::Membership::user_id, &chat::User::id),
                          pgorm::foreign_key(&teams::Membership::group_id, &teams::Group::id));
};
// doc-end(relations_m2m_traits)

namespace docs_relations {

using teams::Group;
using teams::Membership;

void many_to_many(pgorm::connection& conn) {
  // doc-begin(include_m2m)
  // Prisma:  db.user.findMany({ include: { groups: { orderBy: { name: 'asc' } } } })
  // Drizzle: db.query.users.findMany({ with: { memberships: { with: { group: true } } } })
  const auto rows =
      conn.select<User>()
          .include(pgorm::rel_through<&Membership::user_id, &Membership::group_id>.order_by(
              col<&Group::name>))
          .all();
  for (const auto& [user, groups] : rows) {
    use(user.email, groups.size());  // groups: std::vector<Group>
  }
  // Each group's first 10 admins, by the join table's own column.
  const auto admins = conn.select<Group>()
                          .include(pgorm::rel_via<Membership>
                                       .where(col<&Membership::role> == "admin")
                                       .order_by(col<&User::email>)
                                       .limit(10))
                          .all();
  // doc-end(include_m2m)
  static_assert(
      std::is_same_v<decltype(rows)::value_type, pgorm::related<User, std::vector<Group>>>);
  static_assert(
      std::is_same_v<decltype(admins)::value_type, pgorm::related<Group, std::vector<User>>>);
  // doc-begin(include_m2m_sql)
  using M = decltype(pgorm::select<User>().include(pgorm::rel_via<Membership>));
  static_assert(M::sql() ==
                "SELECT id, email, ARRAY(SELECT ROW(groups.id, groups.name) FROM groups "
                "JOIN memberships ON memberships.group_id = groups.id WHERE "
                "memberships.user_id = users.id) FROM users");
  // doc-end(include_m2m_sql)
}

}  // namespace docs_relations
