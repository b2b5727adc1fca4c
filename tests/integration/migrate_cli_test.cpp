// SPDX-License-Identifier: MIT
// pgorm::migrate::main<T...>() (migrate_cli.hpp) driven as a program would be, in process with
// its output captured: generate (into a throwaway shadow server, or --shadow-url) -> apply ->
// status -> a struct changes -> generate -> apply -> check, asserting exit codes, the files
// written and the database; then push, reset, a failing migration and argument errors.
#include "pgorm/migrate_cli.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "support/db_test.hpp"
#include "support/test_database.hpp"

namespace migrate_cli_it {

enum class role : std::uint8_t { member, admin };

// Release 1 of the application's tables.
struct User {
  std::int64_t id;
  std::string email;
};

struct Post {
  std::int64_t id;
  std::int64_t user_id;
  std::string title;
};

// Release 2: users get a name and a role (an enum type).
struct UserV2 {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  role kind;
};

// Release 3 (for push): one more nullable column.
struct UserV3 {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  role kind;
  std::optional<std::string> bio;
};

}  // namespace migrate_cli_it

template <>
struct pgorm::enum_traits<migrate_cli_it::role> {
  static constexpr std::string_view type_name = "user_role";
  static constexpr std::array values{std::pair{migrate_cli_it::role::member, "member"},
                                     std::pair{migrate_cli_it::role::admin, "admin"}};
};

template <>
struct pgorm::table_traits<migrate_cli_it::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&migrate_cli_it::User::id);
  static constexpr auto unique = pgorm::columns(&migrate_cli_it::User::email);
};

template <>
struct pgorm::table_traits<migrate_cli_it::UserV2> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&migrate_cli_it::UserV2::id);
  static constexpr auto unique = pgorm::columns(&migrate_cli_it::UserV2::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&migrate_cli_it::UserV2::kind, "'member'"));
};

template <>
struct pgorm::table_traits<migrate_cli_it::UserV3> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&migrate_cli_it::UserV3::id);
  static constexpr auto unique = pgorm::columns(&migrate_cli_it::UserV3::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&migrate_cli_it::UserV3::kind, "'member'"));
};

template <>
struct pgorm::table_traits<migrate_cli_it::Post> {
  static constexpr std::string_view name = "posts";
  static constexpr auto primary_key = pgorm::identity(&migrate_cli_it::Post::id);
  static constexpr auto foreign_keys = pgorm::foreign_keys(
      pgorm::foreign_key(&migrate_cli_it::Post::user_id, &migrate_cli_it::User::id)
          .on_delete(pgorm::fk_action::cascade));
};

namespace migrate_cli_it {

struct cli_result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs main<T...>("app_migrate", args...) with stdout and stderr captured; over the embedded
// set `set` when it is given.
template <class... T>
cli_result run(const std::vector<std::string>& args,
               const pgorm::migrate::embedded_migrations* set = nullptr) {
  char* out_data = nullptr;
  std::size_t out_size = 0;
  char* err_data = nullptr;
  std::size_t err_size = 0;
  std::FILE* out = open_memstream(&out_data, &out_size);
  std::FILE* err = open_memstream(&err_data, &err_size);
  std::vector<std::string> storage{"app_migrate"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  cli_result r;
  const int argc = static_cast<int>(storage.size());
  r.code = set == nullptr
               ? pgorm::migrate::main<T...>(argc, argv.data(), {.out = out, .err = err})
               : pgorm::migrate::main<T...>(argc, argv.data(), *set, {.out = out, .err = err});
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_data, out_size);
  r.err.assign(err_data, err_size);
  std::free(out_data);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  std::free(err_data);  // NOLINT(cppcoreguidelines-no-malloc)
  return r;
}

// The application at releases 1, 2 and 3: the same main<...>() over other structs.
cli_result run_v1(const std::vector<std::string>& args) { return run<User, Post>(args); }
cli_result run_v2(const std::vector<std::string>& args) { return run<UserV2, Post>(args); }
cli_result run_v3(const std::vector<std::string>& args) { return run<UserV3, Post>(args); }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string describe(const cli_result& r) {
  return "exit " + std::to_string(r.code) + "\n--- out:\n" + r.out + "--- err:\n" + r.err;
}

class migrate_cli_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    dir_ = std::filesystem::temp_directory_path() / pgorm::test::unique_name("migrate_cli");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (!shadow_schema_.empty()) conn().exec("drop schema " + shadow_schema_ + " cascade");
    db_test::TearDown();
  }

  // A disposable database for --shadow-url, faster than a throwaway server: a schema of its
  // own on the run's server, dropped after the test.
  std::string shadow_url() {
    if (shadow_schema_.empty()) {
      shadow_schema_ = pgorm::test::unique_name("shadow");
      conn().exec("create schema " + shadow_schema_);
    }
    return pgorm::test::with_search_path(pgorm::test::server_conninfo(), shadow_schema_);
  }

  // The common arguments: the test's schema and migrations directory.
  [[nodiscard]] std::vector<std::string> args(std::vector<std::string> verb) const {
    verb.insert(verb.end(), {"--url", conninfo(), "--dir", dir_.string()});
    return verb;
  }

  [[nodiscard]] std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(dir_)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string column_type(std::string_view table, std::string_view column) {
    auto r = conn().exec(
        "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
        "to_regclass($1) and attname = $2 and not attisdropped",
        {pgorm::param::text(std::string(table)), pgorm::param::text(std::string(column))});
    return r.rows() == 0 ? std::string("<none>") : std::string(r.value(0, 0));
  }

  std::filesystem::path dir_;
  std::string shadow_schema_;
};

TEST_F(migrate_cli_test, generate_apply_status_change_generate_apply_check) {
  // 1. The first migration, from nothing, replayed into a throwaway shadow server.
  auto r = run_v1({"generate", "init", "--dir", dir_.string()});
  ASSERT_EQ(r.code, 0) << describe(r);
  ASSERT_EQ(files(), std::vector<std::string>{"0001_init.sql"}) << describe(r);
  EXPECT_NE(r.out.find("wrote " + (dir_ / "0001_init.sql").string()), std::string::npos) << r.out;
  const std::string first = read_file(dir_ / "0001_init.sql");
  EXPECT_NE(first.find("CREATE TABLE users ("), std::string::npos) << first;
  EXPECT_NE(first.find("CREATE TABLE posts ("), std::string::npos) << first;
  EXPECT_LT(first.find("CREATE TABLE users ("), first.find("CREATE TABLE posts ("));

  EXPECT_EQ(column_type("users", "email"), "<none>");  // generate never touches the database

  // 2. status: pending (3); apply reports each migration; status: up to date (0).
  r = run_v1(args({"status"}));
  EXPECT_EQ(r.code, 3) << describe(r);
  EXPECT_NE(r.out.find("pending  0001_init.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(`app_migrate apply` applies them)"), std::string::npos) << r.out;
  r = run_v1(args({"apply"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("[1/1] applying 0001_init.sql\n[1/1] applied  0001_init.sql in "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 migration(s) applied in "), std::string::npos) << r.out;
  r = run_v1(args({"status"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("up to date: 1 applied"), std::string::npos) << r.out;
  r = run_v1(args({"check"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("in sync"), std::string::npos) << r.out;
  EXPECT_EQ(column_type("users", "email"), "text");

  // 3. The struct changes: check sees the drift (exit 1) before any migration exists for it.
  r = run_v2(args({"check"}));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("create_enum: user_role"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("add_column: users.name"), std::string::npos) << r.out;
  r = run_v2(args({"diff"}));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("CREATE TYPE user_role AS ENUM ('member', 'admin');"), std::string::npos)
      << r.out;

  // 4. generate the second migration: the shadow replays 0001, the diff is only the change.
  r = run_v2({"generate", "Add name and role", "--dir", dir_.string()});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("starting a throwaway shadow server to replay 1 migration(s)\n"
                       "[1/1] shadow: applying 0001_init.sql\n"
                       "[1/1] shadow: applied  0001_init.sql in "),
            std::string::npos)
      << r.out;
  ASSERT_EQ(files(), (std::vector<std::string>{"0001_init.sql", "0002_add_name_and_role.sql"}));
  const std::string second = read_file(dir_ / "0002_add_name_and_role.sql");
  EXPECT_NE(second.find("CREATE TYPE user_role AS ENUM ('member', 'admin');"), std::string::npos)
      << second;
  EXPECT_NE(second.find("ALTER TABLE users ADD COLUMN name text;"), std::string::npos) << second;
  EXPECT_NE(second.find("ALTER TABLE users ADD COLUMN kind user_role NOT NULL DEFAULT 'member';"),
            std::string::npos)
      << second;
  EXPECT_EQ(second.find("CREATE TABLE"), std::string::npos) << second;
  EXPECT_LT(second.find("CREATE TYPE"), second.find("ADD COLUMN kind"));

  // 5. status 3, deploy (apply's other name), check 0; the database has the new columns.
  conn().exec("insert into users (email) values ('ada@example.com')");
  r = run_v2(args({"status", "--json"}));
  EXPECT_EQ(r.code, 3) << describe(r);
  EXPECT_EQ(r.out.find(R"({"ok":false,"exit_code":3,"up_to_date":false,"summary":{"applied":1,)"
                       R"("pending":1,)"),
            0U)
      << r.out;
  r = run_v2(args({"deploy"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("[1/1] applied  0002_add_name_and_role.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the database is at version 0002"), std::string::npos) << r.out;
  r = run_v2(args({"check"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  r = run_v2(args({"check", "--json"}));
  EXPECT_EQ(r.out, "{\"ok\":true,\"exit_code\":0,\"in_sync\":true,\"changes\":[]}\n") << r.out;
  EXPECT_EQ(column_type("users", "kind"), "user_role");
  EXPECT_EQ(column_type("users", "name"), "text");
  EXPECT_EQ(conn().exec("select kind::text from users").value(0, 0), "member");
  r = run_v2(args({"status"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("up to date: 2 applied"), std::string::npos) << r.out;
  EXPECT_EQ(files().size(), 2U);
}

// A deployed program carries its migrations (pgorm_embed_migrations()): apply, status and check
// need no directory; --dir still names one; generate writes next to the set's source files.
TEST_F(migrate_cli_test, a_program_with_embedded_migrations_needs_no_directory) {
  auto r = run_v1({"generate", "init", "--dir", dir_.string(), "--shadow-url", shadow_url()});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string sql = read_file(dir_ / "0001_init.sql");
  // The set a build would embed from dir_ (no checksum: the bytes are the file's).
  const std::string directory = dir_.string();
  const pgorm::migrate::embedded_file embedded[] = {{"0001_init.sql", sql, ""}};
  const pgorm::migrate::embedded_migrations set{"app::migrations", directory, embedded};
  std::filesystem::remove_all(dir_);
  const auto url = [&](std::vector<std::string> verb) {
    verb.insert(verb.end(), {"--url", conninfo()});
    return verb;
  };

  r = run<User, Post>(url({"status"}), &set);
  EXPECT_EQ(r.code, 3) << describe(r);
  EXPECT_NE(r.out.find("pending  0001_init.sql"), std::string::npos) << r.out;
  r = run<User, Post>(url({"apply"}), &set);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("1 migration(s) applied in "), std::string::npos) << r.out;
  r = run<User, Post>(url({"status"}), &set);
  EXPECT_EQ(r.code, 0) << describe(r);
  r = run<User, Post>(url({"check"}), &set);
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(column_type("users", "email"), "text");

  // --dir wins over the set: an empty directory misses the applied migration (exit 1).
  std::filesystem::create_directories(dir_);
  r = run<User, Post>(url({"status", "--dir", directory}), &set);
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;

  // generate writes files: into the set's source directory, which must exist.
  std::filesystem::remove_all(dir_);
  r = run<UserV2, Post>({"generate", "next", "--shadow-url", shadow_url()}, &set);
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.err.find("the embedded set was made from " + directory + ", which is not here"),
            std::string::npos)
      << r.err;
  std::filesystem::create_directories(dir_);
  { std::ofstream(dir_ / "0001_init.sql") << sql; }
  r = run<UserV2, Post>({"generate", "next", "--shadow-url", shadow_url()}, &set);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(files(), (std::vector<std::string>{"0001_init.sql", "0002_next.sql"}));
}

TEST_F(migrate_cli_test, generate_with_a_shadow_url_wipes_and_replays_it) {
  const std::string url = shadow_url();
  // Left over in the shadow: dropped before the replay.
  conn().exec("create table " + shadow_schema_ + ".users (id int)");
  conn().exec("create type " + shadow_schema_ + ".user_role as enum ('x')");
  auto r = run_v2({"generate", "init", "--dir", dir_.string(), "--shadow-url", url});
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("shadow database: dropped 2 object(s) in schema(s) " + shadow_schema_),
            std::string::npos)
      << r.out;
  ASSERT_EQ(files(), std::vector<std::string>{"0001_init.sql"});
  // Nothing changed: exit 0, a message, no file; the replay wipes the shadow again first.
  r = run_v2({"generate", "again", "--dir", dir_.string(), "--shadow-url", url});
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("[1/1] shadow: applied  0001_init.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no changes: the 1 migration(s) of " + dir_.string() +
                       " already match the structs; nothing written"),
            std::string::npos)
      << r.out;
  r = run_v2({"generate", "again", "--dir", dir_.string(), "--shadow-url", url, "--json"});
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.out, "{\"ok\":true,\"exit_code\":0,\"file\":null,\"changes\":[]}\n");
  EXPECT_EQ(files(), std::vector<std::string>{"0001_init.sql"});
  EXPECT_EQ(column_type("users", "email"), "<none>");  // the test's own schema is untouched
}

TEST_F(migrate_cli_test, push_applies_the_diff_without_a_file_and_refuses_data_loss) {
  auto r = run_v2(args({"push"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("pushed 3 change(s) to the database (no migration file written)"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(files().empty());
  r = run_v3(args({"push"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(column_type("users", "bio"), "text");
  EXPECT_EQ(run_v3(args({"check"})).code, 0);
  // Back to V2: dropping bio loses data; refused (nothing runs) unless --accept-data-loss.
  r = run_v2(args({"push"}));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.err.find("refusing destructive changes without --accept-data-loss"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(column_type("users", "bio"), "text");
  r = run_v2(args({"push", "--accept-data-loss"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(column_type("users", "bio"), "<none>");
}

TEST_F(migrate_cli_test, reset_needs_force_then_drops_everything_and_reapplies) {
  PGORM_SKIP_BEHIND_POOLER("the migration lock (a session advisory lock)");
  ASSERT_EQ(run_v1({"generate", "init", "--dir", dir_.string(), "--shadow-url", shadow_url()}).code,
            0);
  ASSERT_EQ(run_v1(args({"apply"})).code, 0);
  conn().exec("insert into users (email) values ('ada@example.com')");
  conn().exec("create table scratch (x int)");
  auto r = run_v1(args({"reset"}));
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.err.find("pass --force to confirm"), std::string::npos) << r.err;
  EXPECT_EQ(conn().exec("select count(*) from users").value(0, 0), "1");
  r = run_v1(args({"reset", "--force"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("reset: dropped "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1/1] applied  0001_init.sql"), std::string::npos) << r.out;
  EXPECT_EQ(conn().exec("select count(*) from users").value(0, 0), "0");
  EXPECT_EQ(column_type("scratch", "x"), "<none>");
  EXPECT_EQ(run_v1(args({"status"})).code, 0);
}

TEST_F(migrate_cli_test, a_failing_migration_names_file_line_and_message_and_status_fails) {
  PGORM_SKIP_BEHIND_POOLER("the migration lock (a session advisory lock)");
  ASSERT_EQ(run_v1({"generate", "init", "--dir", dir_.string(), "--shadow-url", shadow_url()}).code,
            0);
  std::ofstream(dir_ / "0002_bad.sql") << "-- a typo\nselect 1;\nselect nosuchfunc(1);\n";
  auto r = run_v1(args({"apply"}));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("[1/2] applied  0001_init.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2/2] FAILED   0002_bad.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("app_migrate: error: migration 0002_bad.sql failed at line 3"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("  --> " + (dir_ / "0002_bad.sql").string() + ":3:"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 of 2 migration(s) were applied in this run before it: 0001_init.sql"),
            std::string::npos)
      << r.err;
  r = run_v1(args({"status"}));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("failed   0002_bad.sql"), std::string::npos) << r.out;
  // generate replays into the shadow, where 0002 fails the same way: nothing is written.
  r = run_v1({"generate", "more", "--dir", dir_.string(), "--shadow-url", shadow_url(), "--json"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find(R"("kind":"migration")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("file":"0002_bad.sql")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("line":3)"), std::string::npos) << r.out;
  EXPECT_EQ(files().size(), 2U);
  // resolve --rolled-back forgets the failed attempt; the file is pending again.
  std::filesystem::remove(dir_ / "0002_bad.sql");
  std::ofstream(dir_ / "0002_bad.sql") << "select 1;\n";
  r = run_v1(args({"resolve", "--rolled-back", "0002"}));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(run_v1(args({"status"})).code, 3);
  EXPECT_EQ(run_v1(args({"apply"})).code, 0);
}

TEST_F(migrate_cli_test, the_database_url_comes_from_the_environment_and_connects_with_a_timeout) {
  std::filesystem::create_directories(dir_);
  ASSERT_EQ(setenv("DATABASE_URL", conninfo().c_str(), 1), 0);
  auto r = run_v1({"status", "--dir", dir_.string()});
  EXPECT_EQ(r.code, 0) << describe(r);  // no migrations: nothing pending
  EXPECT_NE(r.out.find("no migrations in " + dir_.string()), std::string::npos) << r.out;
  ASSERT_EQ(unsetenv("DATABASE_URL"), 0);
  r = run_v1({"status", "--dir", dir_.string()});
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.err.find("no database: set DATABASE_URL (or pass --url)"), std::string::npos)
      << r.err;
  // A black-holed address: the connect timeout ends the attempt (exit 1, connection error).
  r = run_v1({"check", "--url", "host=10.255.255.1 port=5432 connect_timeout=60",
              "--connect-timeout", "0.5", "--json"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find(R"("kind":"connection")"), std::string::npos) << r.out;
}

}  // namespace migrate_cli_it
