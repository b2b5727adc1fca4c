// SPDX-License-Identifier: MIT
// pgorm::tsvector against a real server: a struct field that schema::create makes a tsvector
// column, written and read in binary, filled by to_tsvector() in an update, and searched with
// matches() and ts_rank().
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "pgorm/query/text_search.hpp"
#include "support/db_test.hpp"

namespace tv {
struct Post {
  std::int64_t id;
  std::string body;
  pgorm::tsvector search;
  std::optional<pgorm::tsvector> draft;
};
}  // namespace tv

template <>
struct pgorm::table_traits<tv::Post> {
  static constexpr std::string_view name = "tv_post";
  static constexpr auto primary_key = pgorm::identity(&tv::Post::id);
};

namespace {

using pgorm::col;
using pgorm::tsvector;
using tv::Post;

class tsvector_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    pgorm::schema::create<Post>(conn());
  }
  std::string text_of(std::string_view sql) {
    auto r = conn().exec(std::string(sql));
    return std::string(r.value(0, 0));
  }
};

TEST_F(tsvector_test, a_field_is_a_tsvector_column_written_and_read_in_binary) {
  auto r = conn().exec(
      "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
      "'tv_post'::regclass and attname = 'search'");
  EXPECT_EQ(r.value(0, 0), "tsvector");
  const auto d = pgorm::schema::diff<Post>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();

  // Written out of the server's order, with weights and a lexeme without positions.
  const tsvector written{{{"quick", {{2, 'A'}, {9, 'D'}}}, {"fox", {{3, 'B'}}}, {"it's", {}}}};
  pgorm::insert(Post{0, "x", written, std::nullopt}).exec(conn());
  EXPECT_EQ(text_of("select search::text from tv_post"), "'fox':3B 'it''s' 'quick':2A,9");
  const Post back = pgorm::select<Post>().one(conn());
  // Read back sorted: shorter lexemes first, then bytewise.
  const tsvector sorted{{{"fox", {{3, 'B'}}}, {"it's", {}}, {"quick", {{2, 'A'}, {9, 'D'}}}}};
  EXPECT_EQ(back.search, sorted);
  EXPECT_EQ(back.draft, std::nullopt);

  // The server's own values read as they are: to_tsvector, and a text literal.
  const auto made =
      pgorm::query<tsvector>("select to_tsvector('english', 'The quick brown foxes jumped')")
          .one(conn());
  const tsvector want{
      {{"brown", {{3, 'D'}}}, {"fox", {{4, 'D'}}}, {"jump", {{5, 'D'}}}, {"quick", {{2, 'D'}}}}};
  EXPECT_EQ(made, want);
  EXPECT_EQ(pgorm::query<tsvector>("select ''::tsvector").one(conn()), tsvector{});
  EXPECT_THROW((void)pgorm::query<tsvector>("select 'fox'::text").one(conn()),
               pgorm::conversion_error);
}

TEST_F(tsvector_test, filled_by_to_tsvector_and_searched_with_matches_and_rank) {
  for (const char* body : {"The quick brown fox", "A lazy dog sleeps", "Quick thinking foxes"}) {
    pgorm::insert(Post{0, body, {}, std::nullopt}).exec(conn());
  }
  // Compute the column on the server from the body, as a trigger or generated column would.
  EXPECT_EQ(pgorm::update<Post>()
                .set(col<& Post::search> = pgorm::to_tsvector<"english">(col<&Post::body>))
                .where(col<&Post::id> > 0)
                .exec(conn()),
            3);
  const auto query = pgorm::websearch_to_tsquery<"english">("quick fox");
  std::vector<std::int64_t> hits;
  for (const auto& [id, rank] :
       conn()
           .select(col<&Post::id>, pgorm::ts_rank(col<&Post::search>, query))
           .where(pgorm::matches(col<&Post::search>, query))
           .order_by(col<&Post::id>)
           .all()) {
    hits.push_back(id);
    EXPECT_GT(rank, 0.0F);
  }
  EXPECT_EQ(hits, (std::vector<std::int64_t>{1, 3}));
  // A nullable tsvector column: NULL matches nothing, and the match is std::optional<bool>.
  pgorm::update<Post>()
      .set(col<& Post::draft> = std::optional<tsvector>{tsvector{{{"draft", {{1, 'D'}}}}}})
      .where(col<&Post::id> == 2)
      .exec(conn());
  const auto drafts =
      conn()
          .select(col<&Post::id>)
          .where(pgorm::matches(col<&Post::draft>, pgorm::plainto_tsquery<"simple">("draft")))
          .all();
  ASSERT_EQ(drafts.size(), 1U);
  EXPECT_EQ(std::get<0>(drafts[0]), 2);
  // ts_text() still gives the text form.
  const auto [text] =
      conn().select(pgorm::ts_text(col<&Post::search>)).where(col<&Post::id> == 2).one();
  EXPECT_EQ(text, "'dog':3 'lazi':2 'sleep':4");
}

TEST_F(tsvector_test, a_value_the_server_refuses_is_refused_before_sending) {
  try {
    pgorm::insert(Post{0, "x", tsvector{{{"fox", {{5, 'A'}, {2, 'B'}}}}}, std::nullopt})
        .exec(conn());
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string(e.what()).find("'fox'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(text_of("select count(*) from tv_post"), "0");
}

}  // namespace
