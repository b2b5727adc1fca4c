// SPDX-License-Identifier: MIT
// include(): relations loaded in one statement against a real server. Users with 0..n
// sessions, nested conversations -> messages with their own where / order_by / limit, n-1
// relations with a NULL foreign key, the parent's own where / order / limit, partial selects of
// parent and children, streaming, and the results checked against separate plain selects.
#include "pgorm/query/include.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"
#include "support/relations_schema.hpp"

namespace {

using pgorm::col;
using rt::Conversation;
using rt::Employee;
using rt::Follow;
using rt::Group;
using rt::Membership;
using rt::Message;
using rt::Session;
using rt::SessionToken;
using rt::User;

class include_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(rt::ddl));
    // 6 users; user u has (u * 2) % 5 sessions: 2, 4, 1, 3, 0, 2 (users 1..6).
    conn().exec(
        "insert into rt_user select i, 'u' || i || '@example.com', "
        "case when i % 2 = 0 then 'name ' || i end from generate_series(1, 6) as i");
    conn().exec(
        "insert into rt_session select row_number() over (), u, 'tok-' || u || '-' || s, s * 10 "
        "from generate_series(1, 6) as u, generate_series(1, 6) as s where s <= (u * 2) % 5");
    // Users 1..3 have u conversations each; conversation c has (c % 5) messages, sent by user
    // (m % 6) + 1, replying to user m % 4 when that is not 0 (else NULL), score m % 3 or NULL.
    conn().exec(
        "insert into rt_conversation select row_number() over (), u, 'conv ' || u || '.' || c "
        "from generate_series(1, 3) as u, generate_series(1, u) as c");
    conn().exec(
        "insert into rt_message select row_number() over (order by c.id, m), c.id, (m % 6) + 1, "
        "nullif(m % 4, 0), 'msg ' || c.id || '.' || m, nullif(m % 3, 0) "
        "from rt_conversation c, generate_series(1, 8) as m where m <= c.id % 5");
  }

  std::vector<Session> sessions_of(std::int64_t user) {
    return conn()
        .select<Session>()
        .where(col<&Session::user_id> == user)
        .order_by(col<&Session::id>)
        .all();
  }
};

TEST_F(include_test, users_with_zero_to_many_sessions) {
  const auto rows = conn()
                        .select<User>()
                        .order_by(col<&User::id>)
                        .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>))
                        .all();
  ASSERT_EQ(rows.size(), 6U);
  std::size_t total = 0;
  for (const auto& [user, sessions] : rows) {
    EXPECT_EQ(sessions.size(), static_cast<std::size_t>((user.id * 2) % 5)) << user.id;
    EXPECT_EQ(sessions, sessions_of(user.id));
    total += sessions.size();
  }
  EXPECT_EQ(rows[4].row.id, 5);
  EXPECT_TRUE(rows[4].get<1>().empty());  // a user without sessions is kept, with none
  EXPECT_EQ(total, 12U);                  // 2 + 4 + 1 + 3 + 0 + 2
  // The same rows, named by the table (the one foreign key between the two).
  const auto by_table = conn().select<User>().order_by(col<&User::id>).include<Session>().all();
  ASSERT_EQ(by_table.size(), rows.size());
  for (std::size_t i = 0; i != rows.size(); ++i) {
    auto got = std::get<0>(by_table[i].children);
    std::sort(got.begin(), got.end(),
              [](const Session& a, const Session& b) { return a.id < b.id; });
    EXPECT_EQ(got, rows[i].get<1>());
  }
}

TEST_F(include_test, the_relation_takes_its_own_where_order_and_limit) {
  // Prisma: findMany({ include: { sessions: { where: { hits: { gt: 10 } },
  //                                           orderBy: { hits: 'desc' }, take: 2 } } })
  const auto rows = conn()
                        .select<User>()
                        .order_by(col<&User::id>)
                        .include(pgorm::rel<&Session::user_id>
                                     .where(col<&Session::hits> > 10)
                                     .order_by(col<&Session::hits>.desc())
                                     .limit(2))
                        .all();
  ASSERT_EQ(rows.size(), 6U);
  // The same relation with its condition chosen at run time (a pgorm::filter): the statement
  // is rendered at run time, and loads the same rows.
  pgorm::filter<Session> f;
  f &= col<&Session::hits> > 10;
  const auto dynamic =
      conn()
          .select<User>()
          .order_by(col<&User::id>)
          .include(
              pgorm::rel<&Session::user_id>.where(f).order_by(col<&Session::hits>.desc()).limit(2))
          .all();
  EXPECT_EQ(dynamic, rows);
  for (const auto& [user, sessions] : rows) {
    std::vector<Session> expected;
    for (const Session& s : sessions_of(user.id)) {
      if (s.hits > 10) expected.push_back(s);
    }
    std::sort(expected.begin(), expected.end(),
              [](const Session& a, const Session& b) { return a.hits > b.hits; });
    if (expected.size() > 2) expected.resize(2);
    EXPECT_EQ(sessions, expected) << "user " << user.id;
  }
}

TEST_F(include_test, the_related_rows_come_in_the_order_of_the_relation) {
  // The array's order is the aggregate's ORDER BY: hits descending (with ties: every user's
  // session s has hits s * 10, so only ids break them when hits are reduced modulo 20), with
  // and without a limit, and with a value in an order key.
  const auto key = col<&Session::hits> % 20;
  const auto expected_of = [&](std::int64_t user, std::size_t limit) {
    auto sessions = sessions_of(user);
    std::stable_sort(sessions.begin(), sessions.end(), [](const Session& a, const Session& b) {
      return a.hits % 20 > b.hits % 20;
    });  // sessions_of() is ordered by id: ties stay by id
    if (sessions.size() > limit) sessions.resize(limit);
    return sessions;
  };
  const auto all =
      conn()
          .select<User>()
          .order_by(col<&User::id>)
          .include(pgorm::rel<&Session::user_id>.order_by(key.desc(), col<&Session::id>))
          .all();
  const auto first_two =
      conn()
          .select<User>()
          .order_by(col<&User::id>)
          .include(pgorm::rel<&Session::user_id>.order_by(key.desc(), col<&Session::id>).limit(2))
          .all();
  ASSERT_EQ(all.size(), 6U);
  ASSERT_EQ(first_two.size(), 6U);
  std::size_t with_ties = 0;
  for (std::size_t i = 0; i != all.size(); ++i) {
    const std::int64_t user = all[i].row.id;
    EXPECT_EQ(all[i].get<1>(), expected_of(user, 100)) << "user " << user;
    EXPECT_EQ(first_two[i].get<1>(), expected_of(user, 2)) << "user " << user;
    const auto& sessions = all[i].get<1>();
    for (std::size_t k = 1; k < sessions.size(); ++k) {
      if (sessions[k].hits % 20 == sessions[k - 1].hits % 20) ++with_ties;
    }
  }
  EXPECT_GT(with_ties, 0U);  // the id really breaks ties in this data
}

TEST_F(include_test, the_parent_keeps_its_where_order_and_limit) {
  const auto rows = conn()
                        .select<User>()
                        .where(col<&User::id> >= 2)
                        .order_by(col<&User::id>.desc())
                        .limit(3)
                        .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>))
                        .all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].row.id, 6);
  EXPECT_EQ(rows[1].row.id, 5);
  EXPECT_EQ(rows[2].row.id, 4);
  for (const auto& [user, sessions] : rows) EXPECT_EQ(sessions, sessions_of(user.id));
  // one() and first() read a related row too.
  const auto one = conn()
                       .select<User>()
                       .where(col<&User::id> == 2)
                       .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>))
                       .one();
  EXPECT_EQ(one.row.email, "u2@example.com");
  EXPECT_EQ(one.get<1>(), sessions_of(2));
}

TEST_F(include_test, nested_conversations_with_messages_filtered_ordered_and_limited) {
  // Prisma: include: { conversations: { orderBy: { id: 'desc' }, include: { messages: {
  //   where: { score: { not: null } }, orderBy: { id: 'desc' }, take: 2 } } } }
  const auto rows =
      conn()
          .select<User>()
          .order_by(col<&User::id>)
          .include(pgorm::rel<&Conversation::user_id>
                       .order_by(col<&Conversation::id>.desc())
                       .include(pgorm::rel<&Message::conversation_id>
                                    .where(col<&Message::score>.is_not_null())
                                    .order_by(col<&Message::id>.desc())
                                    .limit(2)))
          .all();
  ASSERT_EQ(rows.size(), 6U);
  std::size_t conversations_seen = 0;
  for (const auto& [user, conversations] : rows) {
    const auto expected_conversations = conn()
                                            .select<Conversation>()
                                            .where(col<&Conversation::user_id> == user.id)
                                            .order_by(col<&Conversation::id>.desc())
                                            .all();
    ASSERT_EQ(conversations.size(), expected_conversations.size()) << user.id;
    for (std::size_t c = 0; c != conversations.size(); ++c) {
      const auto& [conversation, messages] = conversations[c];
      EXPECT_EQ(conversation, expected_conversations[c]);
      const auto expected = conn()
                                .select<Message>()
                                .where(col<&Message::conversation_id> == conversation.id &&
                                       col<&Message::score>.is_not_null())
                                .order_by(col<&Message::id>.desc())
                                .limit(2)
                                .all();
      EXPECT_EQ(messages, expected) << "conversation " << conversation.id;
      ++conversations_seen;
    }
  }
  EXPECT_EQ(conversations_seen, 6U);  // 1 + 2 + 3
}

TEST_F(include_test, each_reads_every_row_into_one_row_as_all_reads_them) {
  // each() reads every row into the same pgorm::related: its vectors keep their elements from
  // one row to the next (sessions per user 2, 4, 1, 3, 0, 2; conversations 1, 2, 3, 0, 0, 0;
  // messages with NULL fields among values), and must hold exactly the row read, as all().
  const auto q = conn()
                     .select<User>()
                     .order_by(col<&User::id>)
                     .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>),
                              pgorm::rel<&Conversation::user_id>
                                  .order_by(col<&Conversation::id>.desc())
                                  .include(pgorm::rel<&Message::conversation_id>.order_by(
                                      col<&Message::id>)));
  const auto all = q.all();
  ASSERT_EQ(all.size(), 6U);
  std::size_t i = 0;
  std::size_t messages = 0;
  q.each([&](const auto& row) {
    ASSERT_LT(i, all.size());
    EXPECT_EQ(row, all[i]) << "user " << all[i].row.id;
    for (const auto& conversation : row.template get<2>())
      messages += conversation.template get<1>().size();
    ++i;
  });
  EXPECT_EQ(i, all.size());
  EXPECT_EQ(messages, static_cast<std::size_t>(conn().select<Message>().count()));
}

TEST_F(include_test, many_to_one_with_a_nullable_foreign_key) {
  // Each message with its sender (NOT NULL foreign key: User) and the user it replies to
  // (nullable: std::optional<User>): two foreign keys to one table, named by their columns.
  const auto rows = conn()
                        .select<Message>()
                        .order_by(col<&Message::id>)
                        .include(pgorm::rel<&Message::sender_id>, pgorm::rel<&Message::reply_to_id>)
                        .all();
  const auto messages = conn().select<Message>().order_by(col<&Message::id>).all();
  ASSERT_EQ(rows.size(), messages.size());
  ASSERT_FALSE(rows.empty());
  int nulls = 0;
  for (std::size_t i = 0; i != rows.size(); ++i) {
    const auto& [message, sender, reply_to] = rows[i];
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(sender)>, User>);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(reply_to)>, std::optional<User>>);
    EXPECT_EQ(message, messages[i]);
    EXPECT_EQ(sender.id, message.sender_id);
    EXPECT_EQ(sender, conn().select<User>().where(col<&User::id> == message.sender_id).one());
    ASSERT_EQ(reply_to.has_value(), message.reply_to_id.has_value());
    if (reply_to) {
      EXPECT_EQ(reply_to->id, *message.reply_to_id);
    } else {
      ++nulls;
    }
  }
  EXPECT_GT(nulls, 0);
  // A where() on an n-1 relation filters the one row: a NULL when it does not hold.
  const auto filtered = conn()
                            .select<Message>()
                            .order_by(col<&Message::id>)
                            .include(pgorm::rel<&Message::reply_to_id>.where(col<&User::id> == 2))
                            .all();
  for (const auto& [message, reply_to] : filtered) {
    EXPECT_EQ(reply_to.has_value(), message.reply_to_id == 2) << message.id;
  }
}

// A table's relation to itself: employees and their manager. 1 manages 2 and 3; 2 manages 4, 5
// and 6; 3 manages 7; 7 manages 8.
class self_relation_test : public include_test {
 protected:
  void SetUp() override {
    include_test::SetUp();
    conn().exec(
        "insert into rt_employee values (1, null, 'e1'), (2, 1, 'e2'), (3, 1, 'e3'), "
        "(4, 2, 'e4'), (5, 2, 'e5'), (6, 2, 'e6'), (7, 3, 'e7'), (8, 7, 'e8')");
  }
  std::vector<Employee> reports_of(std::int64_t id) {
    return conn()
        .select<Employee>()
        .where(col<&Employee::manager_id> == id)
        .order_by(col<&Employee::name>.desc())
        .all();
  }
  std::optional<Employee> employee(std::optional<std::int64_t> id) {
    if (!id) return std::nullopt;
    return conn().select<Employee>().where(col<&Employee::id> == *id).one();
  }
};

TEST_F(self_relation_test, an_employee_with_their_manager_and_their_reports) {
  // Prisma: findMany({ include: { manager: true, reports: { orderBy: { name: 'desc' } } } })
  const auto rows = conn()
                        .select<Employee>()
                        .order_by(col<&Employee::id>)
                        .include(pgorm::rel<&Employee::manager_id>,
                                 pgorm::rel_many<&Employee::manager_id, "reports">.order_by(
                                     col<&Employee::name, "reports">.desc()))
                        .all();
  ASSERT_EQ(rows.size(), 8U);
  std::size_t reports_seen = 0;
  for (const auto& [e, manager, reports] : rows) {
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(manager)>, std::optional<Employee>>);
    EXPECT_EQ(manager, employee(e.manager_id)) << e.id;
    EXPECT_EQ(reports, reports_of(e.id)) << e.id;
    reports_seen += reports.size();
  }
  EXPECT_FALSE(rows[0].get<1>().has_value());  // the top has no manager
  EXPECT_EQ(rows[1].get<2>().size(), 3U);      // e2 manages e6, e5, e4
  EXPECT_EQ(rows[1].get<2>()[0].name, "e6");
  EXPECT_EQ(reports_seen, 7U);  // everyone but the top has a manager
}

TEST_F(self_relation_test, nested_reports_and_a_managers_manager) {
  // Two levels down (each report with their own reports, filtered and limited through their
  // aliases) and two levels up (the manager with their manager), in one statement.
  const auto rows =
      conn()
          .select<Employee>()
          .where(col<&Employee::manager_id>.is_null() || col<&Employee::id> == 8)
          .order_by(col<&Employee::id>)
          .include(pgorm::rel_many<&Employee::manager_id, "first">
                       .order_by(col<&Employee::name, "first">.desc())
                       .include(pgorm::rel_many<&Employee::manager_id, "second">
                                    .where(col<&Employee::name, "second"> != std::string("e6"))
                                    .order_by(col<&Employee::name, "second">.desc())
                                    .limit(1)),
                   pgorm::rel<&Employee::manager_id>.include(pgorm::rel<&Employee::manager_id>))
          .all();
  ASSERT_EQ(rows.size(), 2U);
  const auto& [top, top_reports, top_manager] = rows[0];
  EXPECT_EQ(top.id, 1);
  EXPECT_FALSE(top_manager.has_value());
  ASSERT_EQ(top_reports.size(), 2U);
  const auto& [e3, e3_reports] = top_reports[0];
  const auto& [e2, e2_reports] = top_reports[1];
  EXPECT_EQ(e3, *employee(3));
  EXPECT_EQ(e2, *employee(2));
  EXPECT_EQ(e3_reports, std::vector<Employee>{*employee(7)});
  EXPECT_EQ(e2_reports, std::vector<Employee>{*employee(5)});  // e6 is filtered out, e4 after
  // e8's manager is e7, whose manager is e3.
  const auto& [e8, e8_reports, e8_manager] = rows[1];
  EXPECT_EQ(e8.id, 8);
  EXPECT_TRUE(e8_reports.empty());
  ASSERT_TRUE(e8_manager.has_value());
  EXPECT_EQ(e8_manager->row, *employee(7));
  EXPECT_EQ(e8_manager->get<1>(), employee(3));
}

TEST_F(include_test, partial_parent_and_children_and_streaming) {
  // The parent as columns (a std::tuple), the children as a partial struct.
  const auto rows =
      conn()
          .select(col<&User::id>, col<&User::name>)
          .from<User>()
          .order_by(col<&User::id>)
          .include(pgorm::rel<&Session::user_id>.select<SessionToken>().order_by(col<&Session::id>))
          .all();
  ASSERT_EQ(rows.size(), 6U);
  for (const auto& [user, tokens] : rows) {
    const auto& [id, name] = user;
    EXPECT_EQ(name.has_value(), id % 2 == 0);
    const auto sessions = sessions_of(id);
    ASSERT_EQ(tokens.size(), sessions.size());
    for (std::size_t i = 0; i != tokens.size(); ++i) {
      EXPECT_EQ(tokens[i].id, sessions[i].id);
      EXPECT_EQ(tokens[i].token, sessions[i].token);
    }
  }
  // each() streams rows with their relations; a message's sender and its conversation.
  std::size_t streamed = 0;
  conn()
      .select<Message>()
      .include<Conversation>()
      .include(pgorm::rel<&Message::sender_id>)
      .each([&](const auto& r) {
        const auto& [message, conversation, sender] = r;
        EXPECT_EQ(conversation.id, message.conversation_id);
        EXPECT_EQ(sender.id, message.sender_id);
        ++streamed;
      });
  EXPECT_EQ(streamed, conn().select<Message>().count());
}

// page() of a select with include(): each page's rows carry their relations, in one statement.
// Sessions ordered by hits alone tie (12 sessions, 4 distinct values): the primary key ends the
// order; every session comes exactly once, forward and backward, each with its user.
TEST_F(include_test, pages_of_rows_with_their_relations_lose_no_row_on_ties) {
  const auto q = conn()
                     .select<Session>()
                     .where(col<&Session::hits> >= 0)
                     .order_by(col<&Session::hits>.desc())
                     .include(pgorm::rel<&Session::user_id>);
  using cursor = decltype(q)::cursor_t;
  static_assert(std::is_same_v<cursor, std::tuple<std::int32_t, std::int64_t>>);
  const auto expected =
      conn().select<Session>().order_by(col<&Session::hits>.desc(), col<&Session::id>.desc()).all();
  ASSERT_EQ(expected.size(), 12U);
  const auto check_row = [&](const auto& r, std::size_t at) {
    const auto& [session, user] = r;
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(user)>, User>);
    ASSERT_LT(at, expected.size());
    EXPECT_EQ(session, expected[at]);
    EXPECT_EQ(user.id, session.user_id);
    EXPECT_EQ(user.email, "u" + std::to_string(session.user_id) + "@example.com");
  };
  // Forward, 5 at a time: 5, 5, 2.
  std::size_t seen = 0;
  auto page = q.page(5);
  EXPECT_EQ(page.prev, std::nullopt);
  int pages = 1;
  while (true) {
    for (const auto& r : page.rows) check_row(r, seen++);
    if (!page.next) break;
    page = q.after(*page.next).page(5);
    ++pages;
  }
  EXPECT_EQ(seen, 12U);
  EXPECT_EQ(pages, 3);
  // Backward from the end, 5 at a time: rows in order on every page.
  std::size_t end = expected.size();
  auto back = q.last_page(5);
  while (true) {
    ASSERT_LE(back.rows.size(), end);
    end -= back.rows.size();
    for (std::size_t i = 0; i != back.rows.size(); ++i) check_row(back.rows[i], end + i);
    if (!back.prev) break;
    back = q.before(*back.prev).page(5);
  }
  EXPECT_EQ(end, 0U);
  // A cursor from a row with its relations, from its parent row, and from a primary key.
  const auto first = q.page(3);
  ASSERT_EQ(first.rows.size(), 3U);
  const auto from_related = q.after(first.rows.back()).page(4);
  const auto from_row = q.after(first.rows.back().row).page(4);
  const auto from_key = q.after_key(first.rows.back().row.id).page(4);
  ASSERT_EQ(from_related.rows.size(), 4U);
  for (std::size_t i = 0; i != 4; ++i) check_row(from_related.rows[i], 3 + i);
  EXPECT_EQ(from_row.rows, from_related.rows);
  EXPECT_EQ(from_key.rows, from_related.rows);
  EXPECT_EQ(from_key.prev, from_related.prev);
}

TEST_F(include_test, pages_of_users_with_nested_filtered_and_limited_relations) {
  // Users by name ascending (NULLs last, three of them tie), each with their conversations and
  // each conversation's messages, the innermost with a parameter and a limit: the parameters of
  // the relations, the where() and the cursor are numbered in one statement.
  const auto rel = pgorm::rel<&Conversation::user_id>
                       .order_by(col<&Conversation::id>.desc())
                       .include(pgorm::rel<&Message::conversation_id>
                                    .where(col<&Message::sender_id> != 3)
                                    .order_by(col<&Message::id>.desc())
                                    .limit(2));
  const auto q =
      conn().select<User>().where(col<&User::id> <= 6).order_by(col<&User::name>).include(rel);
  const auto all =
      conn().select<User>().order_by(col<&User::name>, col<&User::id>).include(rel).all();
  ASSERT_EQ(all.size(), 6U);
  for (std::int64_t size : {1, 2, 4}) {
    std::vector<decltype(all)::value_type> forward;
    auto page = q.page(size);
    while (true) {
      forward.insert(forward.end(), page.rows.begin(), page.rows.end());
      if (!page.next) break;
      page = q.after(*page.next).page(size);
    }
    EXPECT_EQ(forward, all) << "page size " << size;
    std::vector<decltype(all)::value_type> backward;
    auto back = q.last_page(size);
    while (true) {
      backward.insert(backward.begin(), back.rows.begin(), back.rows.end());
      if (!back.prev) break;
      back = q.before(*back.prev).page(size);
    }
    EXPECT_EQ(backward, all) << "page size " << size;
  }
  std::size_t messages = 0;
  for (const auto& [user, conversations] : all) {
    for (const auto& [conversation, theirs] : conversations) {
      EXPECT_EQ(conversation.user_id, user.id);
      EXPECT_LE(theirs.size(), 2U);
      for (const Message& m : theirs) EXPECT_NE(m.sender_id, 3);
      messages += theirs.size();
    }
  }
  EXPECT_GT(messages, 0U);
}

// Many-to-many through join tables. User u is in group g when (u + g) % 3 != 0, as 'owner'
// when u == g, else 'member'; user u follows u + 1 and u + 2 (up to 6).
class many_to_many_test : public include_test {
 protected:
  void SetUp() override {
    include_test::SetUp();
    conn().exec("insert into rt_group select g, 'group ' || g from generate_series(1, 3) as g");
    conn().exec(
        "insert into rt_membership select u, g, case when u = g then 'owner' else 'member' end "
        "from generate_series(1, 6) as u, generate_series(1, 3) as g where (u + g) % 3 <> 0");
    conn().exec(
        "insert into rt_follow select u, v from generate_series(1, 6) as u, "
        "generate_series(1, 6) as v where v - u in (1, 2)");
  }
  std::vector<Group> groups_of(std::int64_t user) {
    return conn()
        .select<Group>()
        .join<Membership>(col<&Membership::group_id> == col<&Group::id>)
        .where(col<&Membership::user_id> == user)
        .order_by(col<&Group::id>)
        .all();
  }
  std::vector<User> members_of(std::int64_t group, std::string_view role) {
    return conn()
        .select<User>()
        .join<Membership>(col<&Membership::user_id> == col<&User::id>)
        .where(col<&Membership::group_id> == group && col<&Membership::role> == std::string(role))
        .order_by(col<&User::id>.desc())
        .all();
  }
  std::vector<User> followed_by(std::int64_t user) {
    return conn()
        .select<User>()
        .join<Follow>(col<&Follow::followee_id> == col<&User::id>)
        .where(col<&Follow::follower_id> == user)
        .order_by(col<&User::id>)
        .all();
  }
};

TEST_F(many_to_many_test, users_with_their_groups_and_groups_with_their_members) {
  // Prisma: user.findMany({ include: { groups: { orderBy: { id: 'asc' } } } })
  const auto users =
      conn()
          .select<User>()
          .order_by(col<&User::id>)
          .include(pgorm::rel_through<&Membership::user_id, &Membership::group_id>.order_by(
              col<&Group::id>))
          .all();
  ASSERT_EQ(users.size(), 6U);
  std::size_t memberships = 0;
  for (const auto& [user, groups] : users) {
    EXPECT_EQ(groups, groups_of(user.id)) << user.id;
    memberships += groups.size();
  }
  EXPECT_EQ(memberships, 12U);  // two groups of three for each user
  // The join table named alone, the other way round, with a where() on the join table's column,
  // an order and a limit: each group's two last members that are not its owner.
  const auto groups = conn()
                          .select<Group>()
                          .order_by(col<&Group::id>)
                          .include(pgorm::rel_via<Membership>
                                       .where(col<&Membership::role> == std::string("member"))
                                       .order_by(col<&User::id>.desc())
                                       .limit(2))
                          .all();
  ASSERT_EQ(groups.size(), 3U);
  for (const auto& [group, members] : groups) {
    auto expected = members_of(group.id, "member");
    ASSERT_GE(expected.size(), 2U);
    expected.resize(2);
    EXPECT_EQ(members, expected) << group.id;
  }
}

TEST_F(many_to_many_test, users_following_users_nested_under_groups_and_paged) {
  // A table related to itself through a join table, both directions, nested under a group's
  // members; the groups paged one at a time backward, with their relations.
  const auto q =
      conn()
          .select<Group>()
          .order_by(col<&Group::name>)
          .include(pgorm::rel_via<Membership>.order_by(col<&User::id>).include(
              pgorm::rel_through<&Follow::follower_id, &Follow::followee_id, "followees">
                  .order_by(col<&User::id, "followees">),
              pgorm::rel_through<&Follow::followee_id, &Follow::follower_id, "fans">.order_by(
                  col<&User::id, "fans">.desc())));
  std::vector<decltype(q.all())::value_type> rows;
  auto page = q.last_page(1);
  while (true) {
    rows.insert(rows.begin(), page.rows.begin(), page.rows.end());
    if (!page.prev) break;
    page = q.before(*page.prev).page(1);
  }
  ASSERT_EQ(rows.size(), 3U);
  std::size_t follows = 0;
  for (std::size_t g = 0; g != rows.size(); ++g) {
    const auto& [group, members] = rows[g];
    EXPECT_EQ(group.id, static_cast<std::int64_t>(g + 1));
    std::vector<User> expected_members = members_of(group.id, "member");
    for (const User& u : members_of(group.id, "owner")) expected_members.push_back(u);
    std::sort(expected_members.begin(), expected_members.end(),
              [](const User& a, const User& b) { return a.id < b.id; });
    ASSERT_EQ(members.size(), expected_members.size()) << group.id;
    for (std::size_t m = 0; m != members.size(); ++m) {
      const auto& [user, followees, fans] = members[m];
      EXPECT_EQ(user, expected_members[m]);
      EXPECT_EQ(followees, followed_by(user.id)) << user.id;
      ASSERT_EQ(fans.size(), static_cast<std::size_t>(std::min<std::int64_t>(user.id - 1, 2)));
      for (std::size_t f = 0; f != fans.size(); ++f) {
        EXPECT_EQ(fans[f].id, user.id - 1 - static_cast<std::int64_t>(f));
      }
      follows += followees.size();
    }
  }
  EXPECT_EQ(follows, 2U * (5 + 4));  // every member's follows, each user in two groups
}

// A 1-n relation's records leave out the foreign key when it is an integer equal to the parent
// row's key; the decoder refills it from the parent row. A record that carries it (a
// hand-written statement) reads the same, and a parent read as columns gets it from the server.
TEST_F(include_test, a_foreign_key_left_out_of_the_records_is_refilled_from_the_parent) {
  const auto q = conn()
                     .select<User>()
                     .order_by(col<&User::id>)
                     .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>));
  EXPECT_NE(q.to_sql().sql.find("ROW(rt_session.id, rt_session.token, rt_session.hits)"),
            std::string::npos)
      << q.to_sql().sql;
  const auto rows = q.all();
  ASSERT_EQ(rows.size(), 6U);
  for (const auto& [user, sessions] : rows) {
    EXPECT_EQ(sessions, sessions_of(user.id));
    for (const Session& s : sessions) EXPECT_EQ(s.user_id, user.id);
  }
  const auto full = conn()
                        .query<pgorm::related<User, std::vector<Session>>>(
                            "SELECT id, email, name, ARRAY(SELECT ROW(s.id, s.user_id, s.token, "
                            "s.hits) FROM rt_session s WHERE s.user_id = rt_user.id ORDER BY "
                            "s.id) FROM rt_user ORDER BY id")
                        .all();
  EXPECT_EQ(full, rows);
  const auto by_columns = conn()
                              .select(col<&User::id>)
                              .from<User>()
                              .order_by(col<&User::id>)
                              .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::id>))
                              .all();
  ASSERT_EQ(by_columns.size(), 6U);
  for (const auto& [id, sessions] : by_columns) EXPECT_EQ(sessions, sessions_of(std::get<0>(id)));
  // Nested: each conversation's messages refill conversation_id from their conversation.
  const auto nested = conn()
                          .select<User>()
                          .include(pgorm::rel<&Conversation::user_id>.include(
                              pgorm::rel<&Message::conversation_id>))
                          .all();
  std::size_t messages = 0;
  for (const auto& [user, conversations] : nested) {
    for (const auto& [conversation, in_it] : conversations) {
      EXPECT_EQ(conversation.user_id, user.id);
      for (const Message& m : in_it) EXPECT_EQ(m.conversation_id, conversation.id);
      messages += in_it.size();
    }
  }
  EXPECT_EQ(messages, conn().select<Message>().count());
}

TEST_F(include_test, a_related_row_of_another_shape_is_a_typed_error) {
  // The table changed under the program: a related row has a text where the struct wants an
  // integer. The error names the table and column, not a position.
  conn().exec("alter table rt_session alter column hits type text using hits::text");
  try {
    (void)conn().select<User>().include(pgorm::rel<&Session::user_id>).all();
    FAIL() << "expected a conversion_error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string(e.what()).find("rt_session"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hits"), std::string::npos) << e.what();
  }
}

}  // namespace
