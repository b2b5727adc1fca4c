// SPDX-License-Identifier: MIT
#include "support/db_test.hpp"

#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include "support/test_database.hpp"

namespace pgorm::test {

void db_test::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  schema_ = unique_name(info == nullptr ? std::string("db_test") : info->name());
  try {
    pgorm::connection admin{server_conninfo()};
    if (behind_pooler()) {
      // PgBouncer refuses the startup parameter that sets search_path, and would not keep a
      // session setting anyway: a role of the test's own, whose default search_path is its
      // schema, gives every server session PgBouncer opens for it that search_path.
      admin.exec("create role " + quote_ident(schema_) + " login superuser");
      role_created_ = true;
      admin.exec("alter role " + quote_ident(schema_) +
                 " set search_path = " + quote_ident(schema_));
      admin.exec("create schema " + quote_ident(schema_));
      created_ = true;
      conninfo_ = pooler_conninfo() + " user=" + schema_;
    } else {
      admin.exec("create schema " + quote_ident(schema_));
      created_ = true;
      conninfo_ = with_search_path(server_conninfo(), schema_);
    }
    conn_.emplace(conninfo_, test_options());
  } catch (const std::exception& e) {
    FAIL() << "db_test: cannot prepare schema " << schema_ << ": " << e.what();
  }
}

void db_test::TearDown() { conn_.reset(); }

db_test::~db_test() { drop_schema(); }

pgorm::connection& db_test::conn() {
  if (!conn_) throw pgorm::usage_error("db_test::conn() used outside a test (before SetUp)");
  return *conn_;
}

std::int64_t db_test::running_statements(const std::string& tag) {
  const std::string pattern = "%" + tag + "%";  // outlives the parameter's view of it
  const pgorm::param args[] = {pgorm::param::text(pattern)};
  return std::stoll(std::string(
      conn()
          .exec("select count(*) from pg_stat_activity where state = 'active' and query like $1 "
                "and pid <> pg_backend_pid()",
                args)
          .value(0, 0)));
}

pgorm::connection db_test::connect() const { return pgorm::connection{conninfo_, test_options()}; }

pgorm::connect_options test_options() {
  pgorm::connect_options o;
  o.cancel_grace = std::chrono::seconds(10);
  if (behind_pooler()) o.pooler = pgorm::pooler_mode::transaction;
  return o;
}

void db_test::drop_schema() noexcept {
  conn_.reset();
  if ((!created_ && !role_created_) || std::getenv("PGORM_TEST_KEEP_SCHEMAS") != nullptr) return;
  try {
    pgorm::connection admin{server_conninfo()};
    // A test that leaks a connection holding locks must fail, not hang the run.
    admin.exec("set lock_timeout = '30s'");
    admin.exec("drop schema if exists " + quote_ident(schema_) + " cascade");
    if (role_created_) {
      // PgBouncer keeps idle server sessions of the role: end them, then drop the role.
      admin.exec("drop owned by " + quote_ident(schema_));
      admin.exec("select pg_terminate_backend(pid) from pg_stat_activity where usename = $1",
                 {pgorm::param::text(schema_)});
      admin.exec("drop role if exists " + quote_ident(schema_));
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "db_test: cannot drop schema " << schema_ << ": " << e.what();
  }
}

}  // namespace pgorm::test
