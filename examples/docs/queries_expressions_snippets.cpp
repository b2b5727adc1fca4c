// SPDX-License-Identifier: MIT
// The code blocks of docs/queries.md's expression sections (SQL functions, CASE, window
// functions, intervals, full-text search, JSON), compiled. Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; the
// static_asserts after a region pin the SQL the page quotes. Built as an OBJECT library.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pgorm/json_struct.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/query/case.hpp"
#include "pgorm/query/functions.hpp"
#include "pgorm/query/json_ops.hpp"
#include "pgorm/query/text_search.hpp"
#include "pgorm/query/window.hpp"
#include "schema.hpp"

// doc-begin(json_table)
struct Order {
  std::int64_t id;
  pgorm::jsonb data;  // {"status": "paid", "address": {"city": "Lyon"}, "items": [...]}
};
// doc-end(json_table)

// doc-begin(tsvector_table)
struct Post {
  std::int64_t id;
  std::string body;
  pgorm::tsvector search;  // a tsvector column (schema::create emits tsvector)
};
// doc-end(tsvector_table)

// doc-begin(json_struct)
#include <pgorm/json_struct.hpp>

struct Address {
  std::string city;
  std::optional<std::string> zip;  // null or absent: std::nullopt
};
struct Prefs {
  std::string theme;
  std::int32_t font_size;
  std::vector<std::string> tags;
  Address address;  // a nested object
};
template <>
inline constexpr bool pgorm::jsonb_struct<Prefs> = true;  // Prefs <-> jsonb

struct Profile {
  std::int64_t id;
  std::string owner;
  Prefs prefs;                    // a jsonb column
  std::optional<Prefs> previous;  // a nullable jsonb column
};
// doc-end(json_struct)

namespace docs_expressions {

using app::Account;
using app::Session;
using app::use;
using app::User;
using pgorm::col;

void call_any_function(pgorm::connection& conn) {
  // doc-begin(fn)
  // Any function: its name is a compile-time constant, its result type is declared.
  const auto q =
      conn.select(col<&User::id>,
                  pgorm::fn<"date_trunc", pgorm::timestamptz>("day", col<&User::created_at>),
                  pgorm::cast<std::int64_t>(pgorm::fn<"length", std::int32_t>(col<&User::email>)))
          .where(pgorm::fn<"strpos", std::int32_t>(col<&User::email>, "@example.") > 0);
  // rows: std::tuple<std::int64_t, pgorm::timestamptz, std::int64_t>
  // doc-end(fn)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, date_trunc($1, created_at), CAST(length(email) AS bigint) )"
                R"(FROM "user" WHERE strpos(email, $2) > $3)");
  static_assert(std::is_same_v<decltype(q)::row_type,
                               std::tuple<std::int64_t, pgorm::timestamptz, std::int64_t>>);
  use(q);
}

void call_any_aggregate(pgorm::connection& conn) {
  // doc-begin(fn_aggregate)
  const auto q =
      conn.select(col<&User::age>, pgorm::aggregate<"string_agg", std::optional<std::string>>(
                                       col<&User::email>, ", "))
          .group_by(col<&User::age>);
  // doc-end(fn_aggregate)
  static_assert(decltype(q)::sql() ==
                R"(SELECT age, string_agg(email, $1) FROM "user" GROUP BY age)");
  use(q);
}

void function_effects(pgorm::connection& conn) {
  // doc-begin(fn_effect)
  // app.touch() inserts a row: a select calling it is a write (sent to the primary, never
  // sharing an implicit transaction with other reads).
  const auto touch = conn.select(pgorm::fn<"app.touch", std::int64_t>(col<&User::id>));
  static_assert(decltype(touch)::effect == pgorm::sql_effect::writes);
  // app.slugify() only computes: declared read-only, its select stays a read.
  const auto slugs = conn.select(pgorm::fn_reads<"app.slugify", std::string>(col<&User::email>));
  static_assert(decltype(slugs)::effect == pgorm::sql_effect::reads);
  // doc-end(fn_effect)
  use(touch);
  use(slugs);
}

void case_expressions(pgorm::connection& conn) {
  // doc-begin(case)
  const auto bracket = pgorm::case_when(col<&User::age> < 18, "minor")
                           .when(col<&User::age> < 65, "adult")
                           .else_("senior");
  const auto q = conn.select(col<&User::id>, bracket)
                     .order_by(pgorm::case_when(col<&User::name>.is_null(), 1).else_(0));
  // rows: std::tuple<std::int64_t, std::string>
  const auto adults = conn.select(pgorm::sum(pgorm::case_when(col<&User::age> >= 18, 1).else_(0)));
  // doc-end(case)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, CASE WHEN age < $1 THEN $2 WHEN age < $3 THEN $4 ELSE $5 END )"
                R"(FROM "user" ORDER BY CASE WHEN name IS NULL THEN $6 ELSE $7 END)");
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, std::string>>);
  use(q, adults);
}

void window_functions(pgorm::connection& conn) {
  // doc-begin(window)
  // Each user's sessions numbered from the latest, and the previous session's expiry.
  const auto per_user = pgorm::window()
                            .partition_by(col<&Session::user_id>)
                            .order_by(col<&Session::expires_at>.desc());
  const auto q = conn.select(col<&Session::id>, pgorm::row_number().over(per_user),
                             pgorm::lag(col<&Session::expires_at>).over(per_user));
  // rows: std::tuple<std::int64_t, std::int64_t, std::optional<pgorm::timestamptz>>

  // An aggregate over a window instead of a GROUP BY: a running total, one row per account.
  const auto running = conn.select(
      col<&Account::id>,
      pgorm::over(pgorm::sum(col<&Account::balance>), pgorm::window().order_by(col<&Account::id>)));
  // doc-end(window)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY expires_at DESC), )"
                R"(lag(expires_at, $1) OVER (PARTITION BY user_id ORDER BY expires_at DESC) )"
                R"(FROM session)");
  static_assert(
      std::is_same_v<decltype(q)::row_type,
                     std::tuple<std::int64_t, std::int64_t, std::optional<pgorm::timestamptz>>>);
  static_assert(decltype(running)::sql() ==
                R"(SELECT id, sum(balance) OVER (ORDER BY id) FROM account)");
  use(q, running);
}

void window_frames(pgorm::connection& conn) {
  // doc-begin(window_frames)
  const auto by_id = pgorm::window().order_by(col<&Account::id>);
  // A moving average of the last three accounts, and a running total.
  const auto moving =
      conn.select(col<&Account::id>,
                  pgorm::over(pgorm::avg(col<&Account::balance>),
                              by_id.rows_between(pgorm::preceding<2>, pgorm::current_row)),
                  pgorm::over(pgorm::sum(col<&Account::balance>),
                              by_id.rows_between(pgorm::unbounded_preceding, pgorm::current_row)));
  // The partition's real last value, whatever the current row.
  const auto last = conn.select(
      pgorm::last_value(col<&Account::balance>)
          .over(by_id.range_between(pgorm::unbounded_preceding, pgorm::unbounded_following)));
  // doc-end(window_frames)
  static_assert(decltype(moving)::sql() ==
                R"(SELECT id, avg(balance) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND )"
                R"(CURRENT ROW), sum(balance) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED )"
                R"(PRECEDING AND CURRENT ROW) FROM account)");
  static_assert(decltype(last)::sql() ==
                R"(SELECT last_value(balance) OVER (ORDER BY id RANGE BETWEEN UNBOUNDED )"
                R"(PRECEDING AND UNBOUNDED FOLLOWING) FROM account)");
  use(moving, last);
}

void window_frame_groups_exclude(pgorm::connection& conn, std::int64_t n) {
  using namespace std::chrono_literals;
  // doc-begin(window_frames_groups)
  const auto by_balance = pgorm::window().order_by(col<&Account::balance>);
  // Accounts with this balance or the n balances below it (n chosen at run time), and how
  // many other accounts have the same balance.
  const auto near = conn.select(
      col<&Account::id>,
      pgorm::over(pgorm::count(),
                  by_balance.groups_between(pgorm::preceding_by(n), pgorm::current_row)),
      pgorm::over(
          pgorm::count(),
          by_balance.groups_between(pgorm::current_row, pgorm::current_row).exclude_current_row()));
  // Sessions expiring within an hour after each one: RANGE by a timestamp takes an interval.
  const auto soon = conn.select(
      col<&Session::id>,
      pgorm::over(pgorm::count(), pgorm::window()
                                      .order_by(col<&Session::expires_at>)
                                      .range_between(pgorm::current_row, pgorm::following_by(1h))));
  // The previous account's provider: the frame is empty at the first row, so std::optional.
  const auto previous =
      conn.select(pgorm::first_value(col<&Account::provider>)
                      .over(pgorm::window()
                                .order_by(col<&Account::id>)
                                .rows_between(pgorm::preceding<1>, pgorm::preceding<1>)));
  // rows: std::tuple<std::optional<std::string>>
  // doc-end(window_frames_groups)
  static_assert(decltype(near)::sql() ==
                R"(SELECT id, count(*) OVER (ORDER BY balance GROUPS BETWEEN $1 PRECEDING AND )"
                R"(CURRENT ROW), count(*) OVER (ORDER BY balance GROUPS BETWEEN CURRENT ROW AND )"
                R"(CURRENT ROW EXCLUDE CURRENT ROW) FROM account)");
  static_assert(decltype(soon)::sql() ==
                R"(SELECT id, count(*) OVER (ORDER BY expires_at RANGE BETWEEN CURRENT ROW AND )"
                R"($1 FOLLOWING) FROM session)");
  static_assert(std::is_same_v<typename decltype(previous)::row_type,
                               std::tuple<std::optional<std::string>>>);
  use(near, soon, previous);
}

void interval_arithmetic(pgorm::connection& conn) {
  using namespace std::chrono_literals;
  // doc-begin(intervals)
  // Sessions that expire within a day, and how long each has left.
  const auto q = conn.select(col<&Session::id>, col<&Session::expires_at> - pgorm::now())
                     .where(col<&Session::expires_at> > pgorm::now() &&
                            col<&Session::expires_at> < pgorm::now() + 24h);
  // rows: std::tuple<std::int64_t, pgorm::interval>

  // Calendar arithmetic: a month is not a fixed number of hours.
  const auto renew_at =
      conn.select(col<&User::created_at> + pgorm::interval{.months = 1, .days = 0, .time = {}});
  // doc-end(intervals)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, expires_at - now() FROM session WHERE expires_at > now() AND )"
                R"(expires_at < now() + $1)");
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, pgorm::interval>>);
  use(q, renew_at);
}

void full_text_search(pgorm::connection& conn, const std::string& input) {
  // doc-begin(text_search)
  // input is what the user typed, e.g. `"quick fox" -slow or hare`: always valid.
  const auto doc = pgorm::to_tsvector<"english">(col<&User::name>);
  const auto query = pgorm::websearch_to_tsquery<"english">(input);
  const auto q = conn.select(col<&User::id>, pgorm::ts_rank(doc, query))
                     .where(pgorm::matches(doc, query))
                     .order_by(pgorm::ts_rank(doc, query).desc())
                     .limit(20);
  // rows: std::tuple<std::int64_t, std::optional<float>> (name, so the rank, may be NULL)
  // doc-end(text_search)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, ts_rank(to_tsvector('english', name), )"
                R"(websearch_to_tsquery('english', $1)) FROM "user" WHERE )"
                R"(to_tsvector('english', name) @@ websearch_to_tsquery('english', $2) ORDER BY )"
                R"(ts_rank(to_tsvector('english', name), websearch_to_tsquery('english', $3)) )"
                R"(DESC LIMIT $4)");
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, std::optional<float>>>);
  use(q);
}

void text_search_as_text(pgorm::connection& conn) {
  // doc-begin(text_search_text)
  // The lexemes of each name, and how the server parsed a search: "'fox':3 'jump':4 'quick':2"
  const auto q =
      conn.select(col<&User::id>, pgorm::ts_text(pgorm::to_tsvector<"english">(col<&User::name>)),
                  pgorm::ts_text(pgorm::websearch_to_tsquery<"english">("fox -slow")));
  // rows: std::tuple<std::int64_t, std::optional<std::string>, std::string>
  // doc-end(text_search_text)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, CAST(to_tsvector('english', name) AS text), )"
                R"(CAST(websearch_to_tsquery('english', $1) AS text) FROM "user")");
  static_assert(std::is_same_v<decltype(q)::row_type,
                               std::tuple<std::int64_t, std::optional<std::string>, std::string>>);
  use(q);
}

void tsvector_column(pgorm::connection& conn, const std::string& input) {
  // doc-begin(tsvector_column)
  // Keep the column in step with the body, computed by the server.
  pgorm::update<Post>()
      .set(col<& Post::search> = pgorm::to_tsvector<"english">(col<&Post::body>))
      .where(col<&Post::id> == 7)
      .exec(conn);
  // Search the stored documents: an index on the column serves the match.
  const auto query = pgorm::websearch_to_tsquery<"english">(input);
  const auto q = conn.select(col<&Post::id>, pgorm::ts_rank(col<&Post::search>, query))
                     .where(pgorm::matches(col<&Post::search>, query));
  // rows: std::tuple<std::int64_t, float>
  // Its lexemes, read in binary: {{"fox", {{3, 'D'}}}, {"quick", {{2, 'D'}}}, ...}
  const pgorm::tsvector lexemes = conn.select<Post>().where(col<&Post::id> == 7).one().search;
  // doc-end(tsvector_column)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, ts_rank(search, websearch_to_tsquery('english', $1)) FROM post )"
                R"(WHERE search @@ websearch_to_tsquery('english', $2))");
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, float>>);
  use(q, lexemes);
}

void json_operators(pgorm::connection& conn) {
  // doc-begin(json_ops)
  const auto q =
      conn.select(col<&Order::id>,
                  pgorm::json_get_text(pgorm::json_get(col<&Order::data>, "address"), "city"),
                  pgorm::json_get(pgorm::json_get(col<&Order::data>, "items"), 0))
          .where(pgorm::json_contains(col<&Order::data>, pgorm::jsonb{R"({"status": "paid"})"}) &&
                 !pgorm::json_has_key(col<&Order::data>, "coupon"));
  // rows: std::tuple<std::int64_t, std::optional<std::string>, std::optional<pgorm::jsonb>>
  // doc-end(json_ops)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, data -> $1 ->> $2, data -> $3 -> $4 FROM "order" WHERE data @> $5 )"
                R"(AND NOT data ? $6)");
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::int64_t, std::optional<std::string>,
                                                       std::optional<pgorm::jsonb>>>);
  use(q);
}

void json_paths(pgorm::connection& conn) {
  // doc-begin(json_paths)
  // The city two levels down, orders with an item of quantity > 2, and the data without coupon.
  const auto q = conn.select(col<&Order::id>,
                             pgorm::json_get_path_text(col<&Order::data>, {"address", "city"}),
                             pgorm::json_remove(col<&Order::data>, "coupon"))
                     .where(pgorm::json_path_exists(col<&Order::data>, "$.items[*] ? (@.qty > 2)"));
  // rows: std::tuple<std::int64_t, std::optional<std::string>, pgorm::jsonb>
  // doc-end(json_paths)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, data #>> $1, data - $2 FROM "order" WHERE data @? CAST($3 AS )"
                R"(jsonpath))");
  static_assert(std::is_same_v<decltype(q)::row_type,
                               std::tuple<std::int64_t, std::optional<std::string>, pgorm::jsonb>>);
  use(q);
}

void json_removal(pgorm::connection& conn) {
  // doc-begin(json_removal)
  // Drop the coupon and note members, and the address's zip, in one update.
  const auto u = pgorm::update<Order>()
                     .set(col<& Order::data> = pgorm::json_remove_path(
                              pgorm::json_remove_keys(col<&Order::data>, {"coupon", "note"}),
                              {"address", "zip"}))
                     .where(col<&Order::id> == 42);
  u.exec(conn);
  // doc-end(json_removal)
  static_assert(decltype(u)::sql() == R"(UPDATE "order" SET data = data - $1 #- $2 WHERE id = $3)");
}

void json_struct_columns(pgorm::connection& conn, const Prefs& prefs) {
  // doc-begin(json_struct_use)
  conn.insert(Profile{0, "ada", prefs, std::nullopt}).exec();
  std::vector<Profile> all = conn.select<Profile>().all();  // prefs parsed into Prefs
  const auto in_lyon =
      conn.select(col<&Profile::owner>)
          .where(pgorm::json_get_text(pgorm::json_get(col<&Profile::prefs>, "address"), "city") ==
                 "Lyon");
  // doc-end(json_struct_use)
  static_assert(decltype(in_lyon)::sql() ==
                R"(SELECT owner FROM profile WHERE prefs -> $1 ->> $2 = $3)");
  use(all, in_lyon);
}

}  // namespace docs_expressions
