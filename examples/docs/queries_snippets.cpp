// SPDX-License-Identifier: MIT
// The code blocks of docs/queries.md, compiled. Each region between `doc-begin(name)` and
// `doc-end(name)` appears verbatim (dedented) in the page; the static_asserts after a region pin
// the SQL the page quotes. Built as an OBJECT library: nothing here runs.

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs {

using app::Account;
using app::Session;
using app::use;
using app::User;
using app::UserSummary;
using pgorm::col;

// doc-begin(whole_rows)
void whole_rows(pgorm::connection& conn) {
  std::vector<User> users = conn.select<User>().order_by(col<&User::id>).all();
  std::optional<User> ada = conn.find<User>(1);  // by primary key
  use(users, ada);
}
// doc-end(whole_rows)
static_assert(decltype(pgorm::select<User>())::sql() ==
              R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user")");

void where_clause(pgorm::connection& conn) {
  // doc-begin(where)
  const auto adults =
      conn.select<User>().where(col<&User::age> >= 18 && col<&User::name>.is_not_null());
  for (const User& u : adults.all()) use(u);
  // doc-end(where)
  static_assert(decltype(adults)::sql() ==
                R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
                R"(WHERE age >= $1 AND name IS NOT NULL)");
}

void columns(pgorm::connection& conn) {
  // doc-begin(columns)
  const auto q = conn.select(col<&User::email>, col<&User::name>).where(col<&User::id> == 1);
  for (const auto& [email, name] : q.all()) use(email, name);  // std::string, optional<string>
  // doc-end(columns)
  static_assert(decltype(q)::sql() == R"(SELECT email, name FROM "user" WHERE id = $1)");
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::optional<std::string>>>);
}

void logic(pgorm::connection& conn) {
  // doc-begin(logic)
  const auto q =
      conn.select(col<&User::id>)
          .where((col<&User::age> == 1 || col<&User::age> == 2) && !(col<&User::name> == "x"));
  // doc-end(logic)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id FROM "user" WHERE (age = $1 OR age = $2) AND NOT name = $3)");
}

void like(pgorm::connection& conn, const std::string& input) {
  // doc-begin(like)
  // input = "50%_off" must match literally: contains() escapes % _ and backslash.
  const auto q = conn.select(col<&User::id>)
                     .where(col<&User::email>.like("%@example.com") &&
                            col<&User::name>.ilike(pgorm::contains(input)));
  // doc-end(like)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id FROM "user" WHERE email LIKE $1 AND name ILIKE $2)");
}

void null_between_in(pgorm::connection& conn) {
  // doc-begin(null_between_in)
  const std::vector<std::int64_t> ids{1, 2, 3};
  const auto q = conn.select(col<&User::id>)
                     .where(col<&User::name>.is_null() && col<&User::age>.between(18, 65) &&
                            col<&User::id>.in(ids));
  // doc-end(null_between_in)
  static_assert(
      decltype(q)::sql() ==
      R"(SELECT id FROM "user" WHERE name IS NULL AND age BETWEEN $1 AND $2 AND id = ANY($3))");
}

void functions(pgorm::connection& conn) {
  // doc-begin(functions)
  const auto q = conn.select(col<&User::age> + 1, pgorm::lower(col<&User::email>),
                             pgorm::upper(col<&User::email>),
                             pgorm::coalesce(col<&User::name>, "?"), pgorm::now())
                     .where((col<&User::age> * 2 - 1) / 3 > 10);
  // rows: std::tuple<std::int32_t, std::string, std::string, std::string, pgorm::timestamptz>
  // doc-end(functions)
  static_assert(decltype(q)::sql() ==
                R"(SELECT age + $1, lower(email), upper(email), coalesce(name, $2), now() )"
                R"(FROM "user" WHERE (age * $3 - $4) / $5 > $6)");
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::int32_t, std::string, std::string,
                                                       std::string, pgorm::timestamptz>>);
}

void aggregates(pgorm::connection& conn) {
  // doc-begin(aggregates)
  const auto q = conn.select(col<&User::age>, pgorm::count(), pgorm::sum(col<&User::age>),
                             pgorm::avg(col<&User::age>), pgorm::max(col<&User::created_at>))
                     .group_by(col<&User::age>)
                     .having(pgorm::count() > 1);
  for (const auto& [age, n, total, mean, newest] : q.all()) use(age, n, total, mean, newest);
  // age: int32_t, n: int64_t, total: optional<int64_t>, mean: optional<pgorm::numeric>,
  // newest: optional<pgorm::timestamptz>
  // doc-end(aggregates)
  static_assert(decltype(q)::sql() ==
                R"(SELECT age, count(*), sum(age), avg(age), max(created_at) FROM "user" )"
                R"(GROUP BY age HAVING count(*) > $1)");
  static_assert(
      std::is_same_v<decltype(q)::row_type,
                     std::tuple<std::int32_t, std::int64_t, std::optional<std::int64_t>,
                                std::optional<pgorm::numeric>, std::optional<pgorm::timestamptz>>>);
}

void distinct_and_count(pgorm::connection& conn) {
  // doc-begin(distinct)
  const auto ages = conn.select(col<&User::age>).distinct();  // SELECT DISTINCT
  const auto n = conn.select(pgorm::count_distinct(col<&User::age>)).from<User>();
  const std::int64_t total = std::get<0>(conn.select(pgorm::count()).from<User>().one());
  // doc-end(distinct)
  static_assert(decltype(ages)::sql() == R"(SELECT DISTINCT age FROM "user")");
  static_assert(decltype(n)::sql() == R"(SELECT count(DISTINCT age) FROM "user")");
  use(total);
}

void order_limit(pgorm::connection& conn) {
  // doc-begin(order)
  const auto q = conn.select<User>()
                     .order_by(col<&User::name>.desc().nulls_last(),
                               col<&User::age>.asc().nulls_first(), col<&User::id>)
                     .limit(10)
                     .offset(20);
  // doc-end(order)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
                R"(ORDER BY name DESC NULLS LAST, age NULLS FIRST, id LIMIT $1 OFFSET $2)");
}

void joins(pgorm::connection& conn) {
  // doc-begin(join)
  const auto live = conn.select(col<&Session::token>, col<&User::email>)
                        .join<User>(col<&Session::user_id> == col<&User::id>)
                        .where(col<&Session::expires_at> > pgorm::now());
  // doc-end(join)
  static_assert(decltype(live)::sql() ==
                R"(SELECT session.token, "user".email FROM session JOIN "user" ON )"
                R"(session.user_id = "user".id WHERE session.expires_at > now())");
  // doc-begin(left_join)
  const auto q = conn.select(col<&User::email>, col<&Account::provider>)
                     .left_join<Account>(col<&Account::user_id> == col<&User::id>);
  // rows: std::tuple<std::string, std::optional<std::string>>

  const auto pairs = conn.select<User, Account>()
                         .left_join<Account>(col<&Account::user_id> == col<&User::id>)
                         .order_by(col<&User::id>)
                         .all();
  for (const auto& [user, account] : pairs) {  // User, std::optional<Account>
    if (account) use(user.email, account->provider);
  }
  // doc-end(left_join)
  static_assert(decltype(q)::sql() ==
                R"(SELECT "user".email, account.provider FROM "user" LEFT JOIN account ON )"
                R"(account.user_id = "user".id)");
  static_assert(
      std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::optional<std::string>>>);
  static_assert(
      std::is_same_v<decltype(pairs), const std::vector<std::tuple<User, std::optional<Account>>>>);
}

void self_join(pgorm::connection& conn) {
  // doc-begin(self_join)
  // Pairs of users of the same age: the second copy of "user" goes by the alias "twin".
  const auto q = conn.select(col<&User::email>, col<&User::email, "twin">)
                     .join<User, "twin">(col<&User::age, "twin"> == col<&User::age> &&
                                         col<&User::id, "twin"> > col<&User::id>);
  // doc-end(self_join)
  static_assert(decltype(q)::sql() ==
                R"(SELECT "user".email, twin.email FROM "user" JOIN "user" AS twin ON )"
                R"(twin.age = "user".age AND twin.id > "user".id)");
}

void partial(pgorm::connection& conn) {
  // doc-begin(partial)
  // struct UserSummary { std::int64_t id; std::string email; };  (no table_traits needed)
  std::vector<UserSummary> rows =
      conn.select<UserSummary>().from<User>().where(col<&User::age> > 50).all();
  // doc-end(partial)
  use(rows);
  static_assert(
      decltype(pgorm::select<UserSummary>().from<User>().where(col<&User::age> > 1))::sql() ==
      R"(SELECT id, email FROM "user" WHERE age > $1)");
}

void subqueries(pgorm::connection& conn) {
  // doc-begin(subqueries)
  const auto q =
      conn.select(col<&User::id>)
          .where(col<&User::id>.in(pgorm::select(col<&Session::user_id>)
                                       .where(col<&Session::ip_address>.is_not_null())) &&
                 pgorm::exists(pgorm::select(col<&Account::id>)
                                   .where(col<&Account::user_id> == col<&User::id>)));
  // doc-end(subqueries)
  static_assert(decltype(q)::sql() ==
                R"(SELECT id FROM "user" WHERE id IN (SELECT user_id FROM session WHERE )"
                R"(ip_address IS NOT NULL) AND EXISTS (SELECT account.id FROM account WHERE )"
                R"(account.user_id = "user".id))");
}

// doc-begin(cte_struct)
struct Adult {  // the CTE's rows; at namespace scope, like every reflected struct
  std::int64_t id;
  std::string email;
};
// doc-end(cte_struct)

void cte(pgorm::connection& conn) {
  // doc-begin(cte)
  const auto q =
      conn.select<Adult>()
          .with<Adult>(
              pgorm::select(col<&User::id>, col<&User::email>).where(col<&User::age> >= 18))
          .where(col<&Adult::email>.like("%@example.com"));
  // doc-end(cte)
  static_assert(decltype(q)::sql() ==
                R"(WITH adult (id, email) AS (SELECT id, email FROM "user" WHERE age >= $1) )"
                R"(SELECT id, email FROM adult WHERE email LIKE $2)");
}

void locks(pgorm::connection& conn) {
  // doc-begin(locks)
  // A cleanup worker claims one expired session; concurrent workers skip it.
  conn.exec("begin");
  const auto claim = conn.select<Session>()
                         .where(col<&Session::expires_at> < pgorm::now())
                         .order_by(col<&Session::id>)
                         .limit(1)
                         .for_update()
                         .skip_locked();
  if (const std::optional<Session> s = claim.first()) use(*s);
  conn.exec("commit");
  // doc-end(locks)
  static_assert(decltype(claim)::sql() ==
                "SELECT id, user_id, token, expires_at, ip_address FROM session WHERE expires_at "
                "< now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED");
  static_assert(decltype(pgorm::select(col<&Session::id>).for_share().nowait())::sql() ==
                "SELECT id FROM session FOR SHARE NOWAIT");
}

void keyset(pgorm::connection& conn) {
  // doc-begin(keyset)
  const auto q = conn.select<Session>()
                     .where(col<&Session::user_id> == 7)
                     .order_by(col<&Session::expires_at>.desc());
  auto page = q.page(20);  // pgorm::page<Session, std::tuple<pgorm::timestamptz, std::int64_t>>
  while (true) {
    for (const Session& s : page.rows) use(s);
    if (!page.next) break;  // no row follows
    page = q.after(*page.next).page(20);
  }
  // doc-end(keyset)
  using cursor = std::tuple<pgorm::timestamptz, std::int64_t>;
  static_assert(std::is_same_v<decltype(q)::cursor_t, cursor>);
  static_assert(decltype(q.after(cursor{}).limit(21))::sql() ==
                "SELECT id, user_id, token, expires_at, ip_address FROM session WHERE user_id = $1 "
                "AND (expires_at, id) < ($2, $3) ORDER BY expires_at DESC, id DESC LIMIT $4");

  // doc-begin(keyset_back)
  auto last = q.last_page(20);  // the last 20 rows, in order (Prisma's take: -20)
  while (last.prev) {
    last = q.before(*last.prev).page(20);  // the 20 rows just before, in order
    for (const Session& s : last.rows) use(s);
  }
  // doc-end(keyset_back)
  static_assert(decltype(q.before(cursor{}))::sql() ==
                "SELECT id, user_id, token, expires_at, ip_address FROM session WHERE user_id = $1 "
                "AND (expires_at, id) > ($2, $3) ORDER BY expires_at DESC, id DESC");

  // doc-begin(keyset_key)
  // Prisma: findMany({ cursor: { id: 42 }, skip: 1, take: 20, orderBy: { expiresAt: 'desc' } })
  auto after_42 = q.after_key(42).page(20);
  auto before_42 = q.before_key(42).page(20);  // cursor: { id: 42 }, skip: 1, take: -20
  if (!after_42.rows.empty()) {
    // A row is a cursor too: its order_by() and primary key values.
    auto from_row = q.after(after_42.rows.back()).page(20);
    use(from_row);
  }
  // doc-end(keyset_key)
  use(before_42);
  static_assert(decltype(q.after_key(42))::sql() ==
                "SELECT id, user_id, token, expires_at, ip_address FROM session WHERE user_id = $1 "
                "AND (expires_at, id) < ((SELECT pgorm_cursor.expires_at FROM session AS "
                "pgorm_cursor WHERE pgorm_cursor.id = $2), (SELECT pgorm_cursor.id FROM session AS "
                "pgorm_cursor WHERE pgorm_cursor.id = $2)) ORDER BY expires_at DESC, id DESC");
}

void keyset_mixed(pgorm::connection& conn) {
  // doc-begin(keyset_mixed)
  const auto q = conn.select<User>().order_by(col<&User::age>.desc(), col<&User::name>);
  // std::tuple<std::int32_t, std::optional<std::string>, std::int64_t>: age, name, then id
  using cursor = decltype(q)::cursor_t;
  auto page = q.after(cursor{36, std::nullopt, 4}).page(10);
  // doc-end(keyset_mixed)
  use(page);
  static_assert(
      std::is_same_v<cursor, std::tuple<std::int32_t, std::optional<std::string>, std::int64_t>>);
  static_assert(decltype(q.after(cursor{}))::sql() ==
                R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" WHERE )"
                R"(age <= $1 AND (age < $1 OR (age = $1 AND ((name > $2 OR $2 IS NOT NULL AND )"
                R"(name IS NULL) OR ((name = $2 OR name IS NULL AND $2 IS NULL) AND id > $3)))) )"
                R"(ORDER BY age DESC, name, id)");
}

// doc-begin(filter)
std::vector<User> search(pgorm::connection& conn, const std::optional<std::string>& name,
                         std::optional<int> min_age, bool verified_only) {
  pgorm::filter<User> f;  // empty: renders as TRUE
  if (name) f &= col<&User::name>.ilike(pgorm::contains(*name));
  if (min_age) f &= col<&User::age> >= *min_age;
  if (verified_only) f &= col<&User::is_email_verified> == true;
  return conn.select<User>().where(f).order_by(col<&User::id>).limit(50).all();
}
// doc-end(filter)

void filter_or(pgorm::connection& conn) {
  // doc-begin(filter_or)
  pgorm::filter<User> f;
  f &= col<&User::name>.ilike(pgorm::contains("ada"));
  f &= col<&User::age> >= 18;
  f |= col<&User::email> == "root@example.com";
  const pgorm::statement s = conn.select(col<&User::id>).where(f).to_sql();
  // s.sql: SELECT id FROM "user" WHERE (((name ILIKE $1) AND (age >= $2)) OR (email = $3))
  // doc-end(filter_or)
  use(s);
  // doc-begin(filter_mix)
  pgorm::filter<User, Session> g;  // a filter over a join names both tables
  g &= col<&Session::expires_at> > pgorm::now();
  const auto q = conn.select(col<&Session::token>)
                     .join<User>(col<&Session::user_id> == col<&User::id>)
                     .where(col<&User::age> >= 18 && g);  // static && filter: a filter
  // doc-end(filter_mix)
  use(q);
}

void execution(pgorm::connection& conn) {
  // doc-begin(execution)
  const auto q = pgorm::select<User>().where(col<&User::email> == "ada@example.com");
  std::vector<User> many = q.all(conn);         // every row
  User ada = q.one(conn);                       // exactly one row: not_found if none
  std::optional<User> maybe = q.first(conn);    // the first row, or std::nullopt
  q.each(conn, [](const User& u) { use(u); });  // streamed, one row at a time
  const auto bound = q.bind(conn);              // conn.select<User>() is the same as
  std::vector<User> again = bound.all();        // pgorm::select<User>().bind(conn)
  // doc-end(execution)
  use(many, ada, maybe, again);
}

void sql_text(pgorm::connection& conn) {
  // doc-begin(sql_text)
  const auto q = conn.select<User>().where(col<&User::email> == "x").limit(1);
  constexpr std::string_view text = decltype(q)::sql();  // computed by the compiler
  const pgorm::statement s = q.to_sql();                 // s.sql == text; s.params.size() == 2
  // doc-end(sql_text)
  static_assert(text == R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
                        R"(WHERE email = $1 LIMIT $2)");
  use(s);
}

void find_by_key(pgorm::connection& conn) {
  // doc-begin(find)
  std::optional<User> u = conn.find<User>(42);  // SELECT ... WHERE id = $1
  std::optional<Account> a = pgorm::find<Account>(conn, 5);
  auto same = conn.select<Account>().where(pgorm::primary_key<Account>(5)).first();
  // doc-end(find)
  use(u, a, same);
  static_assert(decltype(pgorm::select<Account>().where(pgorm::primary_key<Account>(5)))::sql() ==
                "SELECT id, user_id, provider, provider_account_id, balance FROM account WHERE "
                "id = $1");
}

void count_and_exists(pgorm::connection& conn) {
  // doc-begin(count_exists)
  const auto adults = conn.select<User>().where(col<&User::age> >= 18);
  std::int64_t n = adults.count();  // SELECT count(*) FROM (SELECT ...) AS pgorm_count
  bool any = adults.exists();       // SELECT EXISTS (SELECT ...)
  bool taken = pgorm::select<User>().where(col<&User::email> == "ada@example.com").exists(conn);
  // doc-end(count_exists)
  use(n, any, taken);
}

// doc-begin(raw_struct)
struct UserStats {
  std::int64_t users;
  std::optional<std::int32_t> oldest;
};
// doc-end(raw_struct)

void raw(pgorm::connection& conn) {
  // doc-begin(raw)
  // Struct rows map by column name (in any order); tuple rows by position.
  const UserStats stats =
      conn.query<UserStats>(
              R"(select max(age) as oldest, count(*) as users from "user" where age > $1)", 20)
          .one();
  const auto [email, id] = pgorm::query<std::tuple<std::string, std::int64_t>>(
                               R"(select email, id from "user" where id = $1)", 3)
                               .one(conn);
  // One value per row: the type itself.
  const std::int64_t total = conn.query<std::int64_t>(R"(select count(*) from "user")").one();
  // Rows not read: exec() returns the affected-row count.
  const std::int64_t n =
      conn.query<void>(R"(update "user" set age = age + 1 where id = $1)", 3).exec();
  // doc-end(raw)
  use(stats, email, id, total, n);
}

void unsafe(pgorm::connection& conn, bool newest_first) {
  // doc-begin(unsafe)
  // Text built at run time must be marked; values still go in $n parameters.
  const std::string sql = std::string(R"(select email from "user" order by created_at )") +
                          (newest_first ? "desc" : "asc") + " limit $1";
  const auto emails = conn.query<std::tuple<std::string>>(pgorm::unsafe_sql(sql), 10).all();
  // doc-end(unsafe)
  use(emails);
}

void dml(pgorm::connection& conn) {
  // doc-begin(dml)
  // clang-format off
  conn.update<User>().set(col<&User::name> = "Ada").where(col<&User::id> == 1).exec();
  // clang-format on
  conn.update<User>().set((col<&User::age>) = 37).where(col<&User::id> == 1).exec();
  // doc-end(dml)
}

// The pgorm column of the Prisma / Drizzle cheat sheet in docs/queries.md.
void cheat_sheet(pgorm::connection& conn) {
  const std::int64_t id = 1;
  std::vector<User> users;
  // Prisma findUnique / Drizzle select ... where(eq(users.id, id)) ... [0]
  std::optional<User> u = conn.find<User>(id);
  // findMany({ orderBy, cursor: { id }, skip: 1, take })
  auto next_page =
      conn.select<Session>().order_by(col<&Session::expires_at>.desc()).after_key(id).page(20);
  // findMany({ where, orderBy, take, skip })
  auto page = conn.select<User>()
                  .where(col<&User::age> >= 18)
                  .order_by(col<&User::created_at>.desc())
                  .limit(20)
                  .offset(40)
                  .all();
  // create / insert().values().returning()
  const User ada{0, "ada@example.com", "Ada", 36, false, {}};  // id, created_at: from the server
  User created = conn.insert(ada).returning_all().one();
  // createMany / insert().values([...])
  std::int64_t inserted = conn.insert(users).exec();
  // clang-format off
  // update / update().set().where()
  std::int64_t changed = conn.update<User>().set(col<&User::name> = "Ada").where(col<&User::id> == id).exec();
  // upsert / onConflictDoUpdate
  conn.insert(users).on_conflict(col<&User::email>).do_update(col<&User::name> = pgorm::excluded<&User::name>).exec();
  // clang-format on
  // delete / delete().where()
  std::int64_t removed = conn.remove<Session>().where(col<&Session::user_id> == id).exec();
  // count
  std::int64_t n = conn.select<User>().where(col<&User::age> >= 18).count();
  // findFirst(...) !== null / exists
  bool known = conn.select<User>().where(col<&User::email> == "ada@example.com").exists();
  // findUniqueOrThrow / one(): pgorm::not_found when there is none
  User only = conn.select<User>().where(col<&User::id> == id).one();
  // groupBy with _count
  auto by_age = conn.select(col<&User::age>, pgorm::count()).group_by(col<&User::age>).all();
  // include / leftJoin
  auto with_accounts = conn.select<User, Account>()
                           .left_join<Account>(col<&Account::user_id> == col<&User::id>)
                           .all();
  // $queryRaw / sql``
  auto raw = conn.query<UserSummary>(R"(select id, email from "user" where age > $1)", 30).all();
  use(u, next_page, page, created, inserted, changed, removed, n, known, only, by_age,
      with_accounts, raw);
}

}  // namespace docs
