// SPDX-License-Identifier: MIT
// include() relations ordered on the client (docs/queries.md, "Relations"): a relation without
// limit() ordered by NOT NULL integer columns has no ORDER BY in its subquery, and every
// terminal (all, one, first, each, page; sync, async, pipelined) sorts each parent's related
// rows after decoding. The rows are stored in an order unrelated to every key (checked), so
// that a missing sort fails; each result is compared with the server's own sort.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async/query.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/query/include.hpp"
#include "support/async_test.hpp"
#include "support/relations_schema.hpp"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::col;
using pgorm::test::run_coro;
using rt::Conversation;
using rt::Message;
using rt::Session;
using rt::User;

// Sessions by hits (many ties) descending, then id: a total order, all on the client.
constexpr auto sessions_rel =
    pgorm::rel<&Session::user_id>.order_by(col<&Session::hits>.desc(), col<&Session::id>);
// Conversations by id descending, each with its messages by sender ascending, then id
// descending: two levels, both on the client.
constexpr auto conversations_rel =
    pgorm::rel<&Conversation::user_id>
        .order_by(col<&Conversation::id>.desc())
        .include(pgorm::rel<&Message::conversation_id>.order_by(col<&Message::sender_id>,
                                                                 col<&Message::id>.desc()));

class include_client_order_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    async_db_test::SetUp();
    conn().exec(std::string(rt::ddl));
    conn().exec(
        "insert into rt_user select i, 'u' || i || '@example.com', null "
        "from generate_series(1, 5) as i");
    // Each row inserted at a place unrelated to its id and keys: (id * 37) % 101.
    conn().exec(
        "insert into rt_session select id, u, 'tok-' || id, (id * 7) % 3 from ("
        "select row_number() over (order by u, s) as id, u from generate_series(1, 5) as u, "
        "generate_series(1, 9) as s where s <= (u * 3) % 10) t order by (id * 37) % 101");
    conn().exec(
        "insert into rt_conversation select id, u, 'conv ' || id from ("
        "select row_number() over (order by u, c) as id, u from generate_series(1, 4) as u, "
        "generate_series(1, u + 1) as c) t order by (id * 37) % 101");
    conn().exec(
        "insert into rt_message select id, c, (id * 5) % 4 + 1, null, 'msg ' || id, null from ("
        "select row_number() over (order by c.id, m) as id, c.id as c from rt_conversation c, "
        "generate_series(1, 7) as m where m <= c.id % 6 + 1) t order by (id * 37) % 101");
  }

  // The stored order is not the order of any key: without the client's sort, the related
  // rows would come in it.
  static void expect_scrambled(const std::vector<std::int64_t>& ids) {
    ASSERT_GT(ids.size(), 3U);
    EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_FALSE(std::is_sorted(ids.rbegin(), ids.rend()));
  }

  std::vector<Session> sessions_of(std::int64_t user) {
    return conn()
        .select<Session>()
        .where(col<&Session::user_id> == user)
        .order_by(col<&Session::hits>.desc(), col<&Session::id>)
        .all();
  }
  std::vector<pgorm::related<Conversation, std::vector<Message>>> conversations_of(
      std::int64_t user) {
    std::vector<pgorm::related<Conversation, std::vector<Message>>> out;
    for (Conversation& c : conn()
                               .select<Conversation>()
                               .where(col<&Conversation::user_id> == user)
                               .order_by(col<&Conversation::id>.desc())
                               .all()) {
      auto messages = conn()
                          .select<Message>()
                          .where(col<&Message::conversation_id> == c.id)
                          .order_by(col<&Message::sender_id>, col<&Message::id>.desc())
                          .all();
      out.push_back({std::move(c), {std::move(messages)}});
    }
    return out;
  }
  template <class Row>
  void expect_server_order(const Row& row) {
    const auto& [user, sessions, conversations] = row;
    EXPECT_EQ(sessions, sessions_of(user.id)) << "user " << user.id;
    EXPECT_EQ(conversations, conversations_of(user.id)) << "user " << user.id;
  }
  template <class Rows>
  void expect_all_in_server_order(const Rows& rows) {
    ASSERT_EQ(rows.size(), 5U);
    for (const auto& row : rows) expect_server_order(row);
  }

  static auto users() {
    return pgorm::select<User>().order_by(col<&User::id>).include(sessions_rel, conversations_rel);
  }
};

TEST_F(include_client_order_test, the_statement_leaves_the_order_to_the_client) {
  EXPECT_EQ(std::string_view(decltype(users())::sql()).find("ORDER BY rt_"), std::string_view::npos)
      << decltype(users())::sql();
  expect_scrambled(pgorm::query<std::int64_t>("select id from rt_session").all(conn()));
  expect_scrambled(pgorm::query<std::int64_t>("select id from rt_conversation").all(conn()));
  expect_scrambled(pgorm::query<std::int64_t>("select id from rt_message").all(conn()));
}

TEST_F(include_client_order_test, sync_terminals_sort_the_related_rows) {
  expect_all_in_server_order(users().all(conn()));
  expect_server_order(users().where(col<&User::id> == 4).one(conn()));
  const auto first = users().where(col<&User::id> == 3).first(conn());
  ASSERT_TRUE(first.has_value());
  expect_server_order(*first);
  // each() hands over one reused row: keep copies, the connection is busy until the end.
  std::vector<decltype(users())::row_type> streamed;
  users().each(conn(), [&](const auto& row) { streamed.push_back(row); });
  expect_all_in_server_order(streamed);
  auto page = users().page(conn(), 2);
  int paged = 0;
  for (;;) {
    for (const auto& row : page.rows) expect_server_order(row);
    paged += static_cast<int>(page.rows.size());
    if (!page.next) break;
    page = users().after(*page.next).page(conn(), 2);
  }
  EXPECT_EQ(paged, 5);
}

TEST_F(include_client_order_test, pipelined_rows_are_sorted) {
  pgorm::pipeline p{conn()};
  auto all = p.add(users());
  auto one = p.add(users().where(col<&User::id> == 2));
  p.run();
  expect_all_in_server_order(all.all());
  expect_server_order(one.one());
}

TEST_F(include_client_order_test, async_terminals_sort_the_related_rows) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    namespace pa = pgorm::async;
    expect_all_in_server_order(co_await pa::all(c, users(), use_awaitable));
    expect_server_order(co_await pa::one(c, users().where(col<&User::id> == 5), use_awaitable));
    const auto first = co_await pa::first(c, users().where(col<&User::id> == 2), use_awaitable);
    EXPECT_TRUE(first.has_value());
    if (first) expect_server_order(*first);
    int seen = 0;
    co_await pa::each(
        c, users(),
        [&](const auto& row) {
          expect_server_order(row);
          ++seen;
        },
        use_awaitable);
    EXPECT_EQ(seen, 5);
    const auto page = co_await pa::page(c, users(), 3, use_awaitable);
    EXPECT_EQ(page.rows.size(), 3U);
    for (const auto& row : page.rows) expect_server_order(row);
  });
}

TEST_F(include_client_order_test, ties_keep_the_order_of_the_other_keys_only) {
  // One key with ties: each user's sessions sorted by it, the same rows as the server's.
  const auto rows = pgorm::select<User>()
                        .order_by(col<&User::id>)
                        .include(pgorm::rel<&Session::user_id>.order_by(col<&Session::hits>.desc()))
                        .all(conn());
  ASSERT_EQ(rows.size(), 5U);
  for (const auto& [user, sessions] : rows) {
    EXPECT_TRUE(std::is_sorted(sessions.begin(), sessions.end(),
                               [](const Session& a, const Session& b) { return a.hits > b.hits; }))
        << user.id;
    auto expected = sessions_of(user.id);
    auto got = sessions;
    const auto by_id = [](const Session& a, const Session& b) { return a.id < b.id; };
    std::sort(expected.begin(), expected.end(), by_id);
    std::sort(got.begin(), got.end(), by_id);
    EXPECT_EQ(got, expected) << user.id;
  }
}

}  // namespace
