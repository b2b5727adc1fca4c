// SPDX-License-Identifier: MIT
// schema.hpp against a real server: the generated DDL gives exactly the catalog a hand-written
// schema gives; create<T...> in dependency order; truncate_all and seed; and diff<T...> for
// every kind of drift, with its SQL applied until the database is in sync.
#include "pgorm/schema.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/query.hpp"
#include "pgorm/transaction.hpp"
#include "support/db_test.hpp"
#include "support/migrations/auth_schema.hpp"
#include "support/test_database.hpp"

namespace schema_it {

// Version 2 of a small schema, to diff against hand-written version 1.
struct Owner {
  std::int64_t id;
  std::string email;
};

struct Item {
  std::int64_t id;
  std::int64_t owner_id;
  std::optional<std::string> title;  // was NOT NULL
  std::int64_t qty;                  // was integer
  std::string sku;                   // new; the db also has `legacy`, gone here
};

struct Tag {  // a new table
  std::int32_t id;
  std::int64_t item_id;
  std::string label;
};

// Drops: the database has a unique constraint, a foreign key and a nullable column that the
// struct does not declare / wants NOT NULL.
struct Note {
  std::int64_t id;
  std::int64_t owner_id;
  std::string body;  // nullable in the db
};

// Type spellings: the db says int8/int4/bool/timestamptz; the struct's types are the same.
struct Alias {
  std::int64_t id;
  std::int32_t n;
  bool flag;
  pgorm::timestamptz at;
  std::optional<std::string> label;
  std::int32_t neg;
};

// Checks: one kept (named), one kept (unnamed, spelled otherwise by the server), one missing,
// one whose condition changed, and the database has one more.
struct Product {
  std::int64_t id;
  std::string name;
  std::string status;
  std::int32_t price;
  std::int32_t discount;
  std::int32_t qty;
};

// Better Auth's quoted camelCase columns, from snake_case fields through a naming policy.
struct camel_tables {
  using naming = pgorm::naming::camel_case;
};
struct BaUser {
  std::string id;
  std::string name;
  std::string email;
  bool email_verified = false;
  std::optional<std::string> image;
  pgorm::timestamptz created_at;
};
struct BaSession {
  std::string id;
  std::string user_id;
  std::string token;
  pgorm::timestamptz expires_at;
};
}  // namespace schema_it

template <>
struct pgorm::table_traits<schema_it::BaUser> : schema_it::camel_tables {
  static constexpr std::string_view name = "user";
  static constexpr auto primary_key = pgorm::key(&schema_it::BaUser::id);
  static constexpr auto unique = pgorm::columns(&schema_it::BaUser::email);
};
template <>
struct pgorm::table_traits<schema_it::BaSession> : schema_it::camel_tables {
  static constexpr std::string_view name = "session";
  static constexpr auto primary_key = pgorm::key(&schema_it::BaSession::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_key(&schema_it::BaSession::user_id, &schema_it::BaUser::id)
          .on_delete(pgorm::fk_action::cascade);
};

template <>
struct pgorm::table_traits<schema_it::Product> {
  static constexpr std::string_view name = "products";
  static constexpr auto primary_key = pgorm::key(&schema_it::Product::id);
  static constexpr auto checks = pgorm::checks(
      pgorm::check("price_positive", "price > 0"), pgorm::check("status in ('draft', 'live')"),
      pgorm::check("name <> ''"), pgorm::check("discount_range", "discount between 0 and 100"));
};

template <>
struct pgorm::table_traits<schema_it::Owner> {
  static constexpr std::string_view name = "owners";
  static constexpr auto primary_key = pgorm::identity(&schema_it::Owner::id);
};

template <>
struct pgorm::table_traits<schema_it::Item> {
  static constexpr std::string_view name = "items";
  static constexpr auto primary_key = pgorm::identity(&schema_it::Item::id);
  static constexpr auto defaults = pgorm::defaults(pgorm::default_value(&schema_it::Item::qty, 0));
  static constexpr auto unique = pgorm::columns(&schema_it::Item::sku);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&schema_it::Item::owner_id, &schema_it::Owner::id)
                              .on_delete(pgorm::fk_action::cascade));
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&schema_it::Item::owner_id).where("qty > 0"));
};

template <>
struct pgorm::table_traits<schema_it::Tag> {
  static constexpr std::string_view name = "tags";
  static constexpr auto primary_key = pgorm::identity(&schema_it::Tag::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&schema_it::Tag::item_id, &schema_it::Item::id));
};

template <>
struct pgorm::table_traits<schema_it::Note> {
  static constexpr std::string_view name = "notes";
  static constexpr auto primary_key = pgorm::key(&schema_it::Note::id);
};

template <>
struct pgorm::table_traits<schema_it::Alias> {
  static constexpr std::string_view name = "aliases";
  static constexpr auto primary_key = pgorm::key(&schema_it::Alias::id);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&schema_it::Alias::flag, false),
                      pgorm::default_sql(&schema_it::Alias::at, "now()"),
                      pgorm::default_value(&schema_it::Alias::label, "x"),
                      pgorm::default_value(&schema_it::Alias::neg, -1));
};

namespace schema_it {

using pgorm::schema::change_kind;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path support_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "support" / "migrations";
}

// Everything pg_catalog says about the tables of `schema`, one line per fact, with the schema
// name taken out (pg_get_indexdef qualifies table names).
std::vector<std::string> catalog(pgorm::connection& conn, const std::string& schema) {
  std::vector<std::string> lines;
  const auto add = [&](const pgorm::result& r, const char* kind) {
    for (int i = 0; i < r.rows(); ++i) {
      std::string line = kind;
      for (int c = 0; c < r.columns(); ++c) {
        line += " | ";
        line += r.is_null(i, c) ? std::string("NULL") : std::string(r.value(i, c));
      }
      std::string::size_type pos;
      const std::string prefix = schema + ".";
      while ((pos = line.find(prefix)) != std::string::npos) line.erase(pos, prefix.size());
      lines.push_back(line);
    }
  };
  add(conn.exec("select c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), "
                "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, "
                "a.attgenerated::text from pg_attribute a join pg_class c on c.oid = a.attrelid "
                "join pg_namespace n on n.oid = c.relnamespace left join pg_attrdef d on "
                "d.adrelid = a.attrelid and d.adnum = a.attnum where n.nspname = $1 and "
                "c.relkind = 'r' and a.attnum > 0 and not a.attisdropped order by 1, 2",
                {pgorm::param::text(schema)}),
      "column");
  add(conn.exec("select c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid) "
                "from pg_constraint con join pg_class c on c.oid = con.conrelid join "
                "pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 order by 1, 2",
                {pgorm::param::text(schema)}),
      "constraint");
  add(conn.exec("select tablename, indexname, indexdef from pg_indexes where schemaname = $1 "
                "order by 1, 2",
                {pgorm::param::text(schema)}),
      "index");
  add(conn.exec("select c.relname, c.relkind::text from pg_class c join pg_namespace n on n.oid "
                "= c.relnamespace where n.nspname = $1 order by 1",
                {pgorm::param::text(schema)}),
      "relation");
  return lines;
}

std::multiset<change_kind> kinds(const pgorm::schema::diff_result& d) {
  std::multiset<change_kind> out;
  for (const auto& c : d.changes) out.insert(c.kind);
  return out;
}

class schema_test : public pgorm::test::db_test {
 protected:
  void TearDown() override {
    if (!extra_schema_.empty()) {
      try {
        conn().exec("drop schema if exists " + extra_schema_ + " cascade");
      } catch (...) {  // NOLINT(bugprone-empty-catch): db_test drops its own schema anyway
      }
    }
    db_test::TearDown();
  }
  std::string extra_schema_;
};

TEST_F(schema_test, generated_ddl_reproduces_the_hand_written_schema_exactly) {
  pgorm::schema::create<auth::Waitlist, auth::Account, auth::Session, auth::Verification,
                        auth::User>(conn());

  extra_schema_ = pgorm::test::unique_name("hand");
  conn().exec("create schema " + extra_schema_);
  conn().exec("set search_path to " + extra_schema_);
  conn().exec(read_text(support_dir() / "auth_schema.sql"));
  conn().exec("set search_path to " + schema());

  const auto generated = catalog(conn(), schema());
  const auto hand = catalog(conn(), extra_schema_);
  EXPECT_GT(generated.size(), 50U);
  EXPECT_EQ(generated, hand);
  // Spot checks that the comparison saw what matters.
  const auto has = [&](std::string_view text) {
    return std::any_of(generated.begin(), generated.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(
      has("FOREIGN KEY (\"userId\") REFERENCES users(id) ON UPDATE CASCADE ON DELETE "
          "CASCADE"));
  EXPECT_TRUE(has("WHERE (revoked_at IS NULL)"));
  EXPECT_TRUE(has("column | users | 7 | createdAt | timestamp with time zone | t | now()"));
  EXPECT_TRUE(has("column | waitlist | 2 | position | integer | t | NULL | d"));
  EXPECT_TRUE(has("UNIQUE (\"providerId\", \"accountId\")"));

  // And the drift check agrees: both schemas match the structs.
  EXPECT_TRUE((pgorm::schema::diff<auth::User, auth::Session, auth::Account, auth::Verification,
                                   auth::Waitlist>(conn())
                   .in_sync()));
  conn().exec("set search_path to " + extra_schema_);
  const auto d = pgorm::schema::diff<auth::User, auth::Session, auth::Account, auth::Verification,
                                     auth::Waitlist>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();
  conn().exec("set search_path to " + schema());
}

TEST_F(schema_test, create_if_not_exists_skips_existing_tables_and_their_indexes) {
  pgorm::schema::create<auth::User, auth::Session>(conn());
  EXPECT_THROW(pgorm::schema::create<auth::User>(conn()), pgorm::sql_error);
  pgorm::schema::create<auth::User, auth::Session, auth::Account>(conn(), {.if_not_exists = true});
  auto r = conn().exec(
      "select count(*) from pg_indexes where schemaname = current_schema() "
      "and tablename = 'sessions'");
  EXPECT_EQ(r.value(0, 0), "4");  // pkey, token unique, partial, expires_at
  EXPECT_TRUE((pgorm::schema::check<auth::User, auth::Session, auth::Account>(conn())));
}

TEST_F(schema_test, truncate_all_restarts_identities_and_seed_runs_in_one_transaction) {
  pgorm::schema::create<auth::User, auth::Session>(conn());
  conn().exec("insert into users (email) values ('a@x'), ('b@x')");
  conn().exec("insert into sessions (user_id, token, expires_at) values (1, 't', now())");
  pgorm::schema::truncate_all<auth::User>(conn());  // CASCADE empties sessions too
  EXPECT_EQ(conn().exec("select count(*) from sessions").value(0, 0), "0");

  const auto n = pgorm::schema::seed<auth::User, auth::Session>(conn(), [](pgorm::transaction& tx) {
    tx.exec("insert into users (email) values ('c@x')");
    return tx.exec("select id from users").value(0, 0) == "1" ? 1 : 0;
  });
  EXPECT_EQ(n, 1);  // identity restarted
  EXPECT_THROW(
      pgorm::schema::seed<auth::User>(conn(),
                                      [](pgorm::transaction& tx) {
                                        tx.exec("insert into users (email) values ('d@x')");
                                        throw std::runtime_error("seed failed");
                                      }),
      std::runtime_error);
  // The failed seed rolled back its truncate too.
  EXPECT_EQ(conn().exec("select email from users").value(0, 0), "c@x");
}

TEST_F(schema_test, diff_finds_every_kind_of_drift_and_its_sql_resolves_it) {
  conn().exec(R"(
    create table owners (id bigint generated always as identity primary key, email text not null);
    create table items (
      id bigint generated always as identity primary key,
      owner_id bigint not null,
      title text not null,
      qty integer not null default 0,
      legacy text
    );
    create index items_title_idx on items (title);
    insert into owners (email) values ('o@x');
    insert into items (owner_id, title, legacy) values (1, 't', 'old');
  )");
  const auto d = pgorm::schema::diff<schema_it::Tag, schema_it::Item, schema_it::Owner>(conn());
  const std::multiset<change_kind> expected = {
      change_kind::create_table, change_kind::add_column,    change_kind::drop_column,
      change_kind::alter_type,   change_kind::drop_not_null, change_kind::add_unique,
      change_kind::add_index,    change_kind::drop_index,    change_kind::add_foreign_key};
  EXPECT_EQ(kinds(d), expected) << d.report();
  EXPECT_TRUE(d.destructive());
  for (const auto& c : d.changes) {
    EXPECT_EQ(c.destructive, c.kind == change_kind::drop_column) << c.description;
  }
  const std::string sql = d.sql();
  EXPECT_NE(sql.find("-- DESTRUCTIVE: items.legacy"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ALTER TABLE items DROP COLUMN legacy;"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ALTER TABLE items ALTER COLUMN qty TYPE bigint USING qty::bigint;"),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("CREATE INDEX ON items (owner_id) WHERE qty > 0;"), std::string::npos) << sql;
  // Tags are created after the column and constraints they reference exist.
  EXPECT_LT(sql.find("DROP INDEX"), sql.find("CREATE TABLE tags"));

  // The new NOT NULL column needs a value for the existing row: the reviewer's edit.
  conn().exec("delete from items");
  conn().exec(sql);
  const auto again = pgorm::schema::diff<schema_it::Tag, schema_it::Item, schema_it::Owner>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
  std::string report;
  EXPECT_TRUE(
      (pgorm::schema::check<schema_it::Tag, schema_it::Item, schema_it::Owner>(conn(), &report)));
  EXPECT_EQ(report, "in sync: the database matches the structs\n");
}

TEST_F(schema_test, diff_drops_undeclared_constraints_and_sets_not_null) {
  conn().exec(R"(
    create table owners (id bigint generated always as identity primary key, email text not null);
    create table notes (
      id bigint primary key,
      owner_id bigint not null references owners (id),
      body text,
      unique (owner_id, body)
    );
  )");
  const auto d = pgorm::schema::diff<schema_it::Note>(conn());
  const std::multiset<change_kind> expected = {change_kind::drop_foreign_key,
                                               change_kind::drop_unique, change_kind::set_not_null};
  EXPECT_EQ(kinds(d), expected) << d.report();
  EXPECT_FALSE(d.destructive());
  conn().exec(d.sql());
  EXPECT_TRUE(pgorm::schema::diff<schema_it::Note>(conn()).in_sync());
}

TEST_F(schema_test, diff_changes_foreign_key_actions_and_defaults_and_names_types_canonically) {
  conn().exec(R"(
    create table aliases (
      id int8 primary key,
      n int4 not null,
      flag bool not null default false,
      at timestamptz not null default now(),
      label varchar default 'x',
      neg int4 not null default -1
    );
  )");
  // varchar is not text: one type change, nothing else (int8/int4/bool/timestamptz are the
  // struct's types under other names; 'x'::character varying is the default 'x').
  const auto d = pgorm::schema::diff<schema_it::Alias>(conn());
  ASSERT_EQ(d.changes.size(), 1U) << d.report();
  EXPECT_EQ(d.changes[0].kind, change_kind::alter_type);
  EXPECT_EQ(d.changes[0].description, "aliases.label: type character varying -> text");
  conn().exec(d.sql());
  EXPECT_TRUE(pgorm::schema::diff<schema_it::Alias>(conn()).in_sync());

  conn().exec(R"(
    create table owners (id bigint generated always as identity primary key, email text not null);
    create table items (
      id bigint generated always as identity primary key,
      owner_id bigint not null references owners (id) on delete restrict,
      title text,
      qty bigint not null default 5,
      sku text not null unique
    );
    create index on items (owner_id) where qty > 0;
  )");
  const auto d2 = pgorm::schema::diff<schema_it::Item, schema_it::Owner>(conn());
  const std::multiset<change_kind> expected = {
      change_kind::drop_foreign_key, change_kind::add_foreign_key, change_kind::set_default};
  EXPECT_EQ(kinds(d2), expected) << d2.report();
  conn().exec(d2.sql());
  EXPECT_TRUE((pgorm::schema::diff<schema_it::Item, schema_it::Owner>(conn()).in_sync()));
}

TEST_F(schema_test, diff_compares_check_constraints_in_the_servers_spelling) {
  conn().exec(R"(
    create table products (
      id bigint primary key,
      name text not null,
      status text not null,
      price integer not null,
      discount integer not null,
      qty integer not null,
      constraint price_positive check (price > 0),
      check (status = any (array['draft', 'live'])),
      constraint discount_range check (discount >= 0),
      check (qty >= 0)
    );
  )");
  const auto d = pgorm::schema::diff<schema_it::Product>(conn());
  const std::multiset<change_kind> expected = {change_kind::add_check, change_kind::add_check,
                                               change_kind::drop_check, change_kind::drop_check};
  EXPECT_EQ(kinds(d), expected) << d.report();
  const std::string sql = d.sql();
  EXPECT_NE(sql.find("ALTER TABLE products ADD CHECK (name <> '');"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ALTER TABLE products DROP CONSTRAINT discount_range;"), std::string::npos)
      << sql;
  EXPECT_NE(sql.find("ALTER TABLE products ADD CONSTRAINT discount_range CHECK (discount "
                     "between 0 and 100);"),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("ALTER TABLE products DROP CONSTRAINT products_qty_check;"), std::string::npos)
      << sql;
  // The probe left nothing behind, and the connection is idle again.
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  EXPECT_EQ(pgorm::query<std::int64_t>(
                "select count(*) from pg_class where relname = 'pgorm_check_probe'")
                .one(conn()),
            0);

  conn().exec(sql);
  EXPECT_TRUE(pgorm::schema::diff<schema_it::Product>(conn()).in_sync());
  // Inside a transaction the probe runs in a savepoint: the transaction goes on.
  conn().transaction([&](pgorm::transaction& tx) {
    tx.exec("alter table products drop constraint price_positive");
    const auto in_tx = pgorm::schema::diff<schema_it::Product>(conn());
    ASSERT_EQ(in_tx.changes.size(), 1U) << in_tx.report();
    EXPECT_EQ(in_tx.changes[0].kind, change_kind::add_check);
    EXPECT_EQ(conn().status(), pgorm::transaction_status::in_transaction);
    tx.exec(in_tx.sql());
  });
  EXPECT_TRUE(pgorm::schema::diff<schema_it::Product>(conn()).in_sync());
}

TEST_F(schema_test, write_migration_creates_the_next_file_which_apply_runs) {
  const auto dir = std::filesystem::temp_directory_path() / pgorm::test::unique_name("diffdir");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "0001_owners.sql")
      << "create table owners (id bigint generated always as identity primary key, email text "
         "not null);\n";
  pgorm::migrate::apply(conn(), dir);

  const auto d = pgorm::schema::diff<schema_it::Owner, schema_it::Item, schema_it::Tag>(conn());
  ASSERT_FALSE(d.in_sync());
  const auto path = d.write_migration(dir, "items and tags");
  EXPECT_EQ(path.filename(), "0002_items_and_tags.sql");
  EXPECT_NE(read_text(path).find("CREATE TABLE items"), std::string::npos);
  const auto ran = pgorm::migrate::apply(conn(), dir);
  ASSERT_EQ(ran.size(), 1U);
  EXPECT_EQ(ran[0].file, "0002_items_and_tags.sql");
  const auto after = pgorm::schema::diff<schema_it::Owner, schema_it::Item, schema_it::Tag>(conn());
  EXPECT_TRUE(after.in_sync()) << after.report();
  EXPECT_THROW(static_cast<void>(after.write_migration(dir, "nothing")), pgorm::usage_error);
  std::filesystem::remove_all(dir);
}

TEST_F(schema_test, a_camel_case_naming_policy_matches_quoted_camel_case_columns) {
  // The seed's Better Auth tables, written by hand: quoted camelCase columns.
  conn().exec(R"(
    create table "user" (id text primary key, name text not null, email text not null unique,
                         "emailVerified" boolean not null, image text,
                         "createdAt" timestamptz not null);
    create table session (id text primary key,
                          "userId" text not null references "user" (id) on delete cascade,
                          token text not null, "expiresAt" timestamptz not null);
  )");
  const auto d = pgorm::schema::diff<schema_it::BaUser, schema_it::BaSession>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();

  // Rows go through the derived names both ways.
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  conn().insert(schema_it::BaUser{"u1", "Ada", "ada@x", true, std::nullopt, now}).exec();
  conn().insert(schema_it::BaSession{"s1", "u1", "tok", now}).exec();
  const schema_it::BaSession s = conn()
                                     .select<schema_it::BaSession>()
                                     .where(pgorm::col<&schema_it::BaSession::user_id> == "u1")
                                     .one();
  EXPECT_EQ(s.token, "tok");
  EXPECT_EQ(conn().exec(R"(select "emailVerified"::text from "user")").value(0, 0), "true");

  // The DDL pgorm writes names the same columns, and creates tables in sync with the structs.
  constexpr std::string_view ddl = pgorm::schema::create_table<schema_it::BaSession>();
  EXPECT_NE(ddl.find(R"("userId" text NOT NULL)"), std::string_view::npos) << ddl;
  EXPECT_NE(ddl.find(R"("expiresAt")"), std::string_view::npos) << ddl;
  conn().exec(R"(drop table session; drop table "user")");
  conn().exec(std::string(pgorm::schema::create_table<schema_it::BaUser>()));
  conn().exec(std::string(pgorm::schema::create_table<schema_it::BaSession>()));
  const auto again = pgorm::schema::diff<schema_it::BaUser, schema_it::BaSession>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
}

}  // namespace schema_it
