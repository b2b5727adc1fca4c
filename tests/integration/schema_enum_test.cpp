// SPDX-License-Identifier: MIT
// Enum columns in schema.hpp against a real server: create<T...> creates the enum type (CREATE
// TYPE ... AS ENUM) before the tables, diff<T...> reports a missing type and a missing label
// (ALTER TYPE ... ADD VALUE, in declaration order), and its SQL brings the database in sync.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/schema.hpp"
#include "support/db_test.hpp"

namespace schema_enum_it {

enum class status : std::uint8_t { open, closed };
// The same PostgreSQL type one release later: a label added between the two.
enum class status_v2 : std::uint8_t { open, waiting, closed, archived };
enum class priority : std::uint8_t { low, high };

struct Ticket {
  std::int64_t id;
  status state;
  std::optional<priority> prio;
  std::vector<status> history;
};

struct TicketV2 {
  std::int64_t id;
  status_v2 state;
  std::optional<priority> prio;
  std::vector<status_v2> history;
};

}  // namespace schema_enum_it

template <>
struct pgorm::enum_traits<schema_enum_it::status> {
  static constexpr std::string_view type_name = "ticket_status";
  static constexpr std::array values{std::pair{schema_enum_it::status::open, "open"},
                                     std::pair{schema_enum_it::status::closed, "closed"}};
};

template <>
struct pgorm::enum_traits<schema_enum_it::status_v2> {
  static constexpr std::string_view type_name = "ticket_status";
  static constexpr std::array values{std::pair{schema_enum_it::status_v2::open, "open"},
                                     std::pair{schema_enum_it::status_v2::waiting, "wait'ing"},
                                     std::pair{schema_enum_it::status_v2::closed, "closed"},
                                     std::pair{schema_enum_it::status_v2::archived, "archived"}};
};

template <>
struct pgorm::enum_traits<schema_enum_it::priority> {
  static constexpr std::string_view type_name = "ticket_priority";
  static constexpr std::array values{std::pair{schema_enum_it::priority::low, "low"},
                                     std::pair{schema_enum_it::priority::high, "high"}};
};

template <>
struct pgorm::table_traits<schema_enum_it::Ticket> {
  static constexpr std::string_view name = "tickets";
  static constexpr auto primary_key = pgorm::identity(&schema_enum_it::Ticket::id);
};

template <>
struct pgorm::table_traits<schema_enum_it::TicketV2> {
  static constexpr std::string_view name = "tickets";
  static constexpr auto primary_key = pgorm::identity(&schema_enum_it::TicketV2::id);
};

namespace schema_enum_it {

class schema_enum_test : public pgorm::test::db_test {
 protected:
  // The labels of the enum type `name` in the test's schema, in sort order, joined by ','.
  std::string labels(std::string_view name) {
    auto r = conn().exec(
        "select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e join "
        "pg_type t on t.oid = e.enumtypid join pg_namespace n on n.oid = t.typnamespace where "
        "t.typname = $1 and n.nspname = current_schema()",
        {pgorm::param::text(std::string(name))});
    return r.is_null(0, 0) ? std::string("<no type>") : std::string(r.value(0, 0));
  }

  void run(const pgorm::schema::diff_result& d) {
    conn().transaction([&](pgorm::transaction& tx) {
      for (const auto& c : d.changes) {
        for (const auto& statement : pgorm::migrate::split_statements(c.sql)) tx.exec(statement);
      }
    });
  }
};

TEST_F(schema_enum_test, create_enum_renders_the_labels_in_declaration_order) {
  EXPECT_EQ(pgorm::schema::create_enum<status>(),
            "CREATE TYPE ticket_status AS ENUM ('open', 'closed');");
  EXPECT_EQ(pgorm::schema::create_enum<status_v2>(),
            "CREATE TYPE ticket_status AS ENUM ('open', 'wait''ing', 'closed', 'archived');");
}

TEST_F(schema_enum_test, create_makes_the_enum_types_before_the_table) {
  pgorm::schema::create<Ticket>(conn());
  EXPECT_EQ(labels("ticket_status"), "open,closed");
  EXPECT_EQ(labels("ticket_priority"), "low,high");
  EXPECT_EQ(conn()
                .exec("select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
                      "'tickets'::regclass and attname = 'history'")
                .value(0, 0),
            "ticket_status[]");
  const auto d = pgorm::schema::diff<Ticket>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();
  // if_not_exists on an existing schema: the existing types are reused, nothing fails.
  pgorm::schema::create<Ticket>(conn(), {.if_not_exists = true});
}

TEST_F(schema_enum_test, diff_creates_missing_enum_types_first) {
  const auto d = pgorm::schema::diff<Ticket>(conn());
  ASSERT_EQ(d.changes.size(), 3U) << d.report();
  EXPECT_EQ(d.changes[0].kind, pgorm::schema::change_kind::create_enum);
  EXPECT_EQ(d.changes[0].sql, "CREATE TYPE ticket_status AS ENUM ('open', 'closed');");
  EXPECT_EQ(d.changes[1].kind, pgorm::schema::change_kind::create_enum);
  EXPECT_EQ(d.changes[1].sql, "CREATE TYPE ticket_priority AS ENUM ('low', 'high');");
  EXPECT_EQ(d.changes[2].kind, pgorm::schema::change_kind::create_table);
  run(d);
  EXPECT_EQ(labels("ticket_status"), "open,closed");
  const auto again = pgorm::schema::diff<Ticket>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
}

TEST_F(schema_enum_test, diff_adds_missing_labels_in_declaration_order) {
  pgorm::schema::create<Ticket>(conn());
  conn().exec("insert into tickets (state, history) values ('closed', '{open,closed}')");
  const auto d = pgorm::schema::diff<TicketV2>(conn());
  ASSERT_EQ(d.changes.size(), 2U) << d.report();
  EXPECT_EQ(d.changes[0].kind, pgorm::schema::change_kind::add_enum_value);
  EXPECT_EQ(d.changes[0].sql,
            "ALTER TYPE ticket_status ADD VALUE IF NOT EXISTS 'wait''ing' AFTER 'open';");
  EXPECT_EQ(d.changes[1].sql,
            "ALTER TYPE ticket_status ADD VALUE IF NOT EXISTS 'archived' AFTER 'closed';");
  EXPECT_FALSE(d.destructive());
  EXPECT_NE(d.sql().find("-- add_enum_value: ticket_status: new label 'archived'"),
            std::string::npos)
      << d.sql();
  run(d);
  EXPECT_EQ(labels("ticket_status"), "open,wait'ing,closed,archived");
  EXPECT_EQ(conn().exec("select state::text from tickets").value(0, 0), "closed");
  const auto again = pgorm::schema::diff<TicketV2>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
  // Going back: the extra labels stay (PostgreSQL cannot drop an enum value), no change.
  const auto back = pgorm::schema::diff<Ticket>(conn());
  EXPECT_TRUE(back.in_sync()) << back.report();
}

TEST_F(schema_enum_test, a_label_missing_at_the_front_goes_before_the_first) {
  conn().exec("create type ticket_status as enum ('closed')");
  conn().exec("create type ticket_priority as enum ('low', 'high')");
  const auto d = pgorm::schema::diff<Ticket>(conn());
  ASSERT_GE(d.changes.size(), 1U) << d.report();
  EXPECT_EQ(d.changes[0].sql,
            "ALTER TYPE ticket_status ADD VALUE IF NOT EXISTS 'open' BEFORE 'closed';");
  run(d);
  EXPECT_EQ(labels("ticket_status"), "open,closed");
}

}  // namespace schema_enum_it
