// SPDX-License-Identifier: MIT
// The `pgorm` CLI binary (tools/pgorm_cli.cpp): exit codes 0 / 1 / 2 / 3, text and --json
// output (errors as JSON too), DATABASE_URL (and a warning for a password on the command line),
// progress as apply goes and what a failed run applied, resolve, the connect and lock timeouts,
// and 4 CLI processes started at once. The binary is found through env PGORM_CLI, else at
// <build>/tools/pgorm next to <build>/tests/<this test> (cmake/pgorm_cli.cmake).
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/db_test.hpp"
#include "support/test_database.hpp"

namespace cli_it {

std::filesystem::path cli_path() {
  if (const char* env = std::getenv("PGORM_CLI"); env != nullptr && *env != '\0') return env;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return self.parent_path().parent_path() / "tools" / "pgorm";
}

struct run_result {
  int code = -1;
  std::string out;  // stdout and stderr
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

run_result run(const std::vector<std::string>& args, const std::string& env = {}) {
  std::string cmd = env.empty() ? std::string() : env + " ";
  cmd += shell_quote(cli_path().string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  run_result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// stdout and stderr apart, for --json (one object on stdout) and warnings (stderr).
struct split_result {
  int code = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
};

split_result run_split(const std::vector<std::string>& args, const std::string& env = {}) {
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() / pgorm::test::unique_name("cli_stderr");
  std::string cmd = env.empty() ? std::string() : env + " ";
  cmd += shell_quote(cli_path().string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>" + shell_quote(err_file.string());
  split_result r;
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return r;
}

// One JSON object on one line, and nothing else.
bool one_json_object(const std::string& out) {
  return out.size() > 2 && out.front() == '{' && out.substr(out.size() - 2) == "}\n" &&
         out.find('\n') == out.size() - 1;
}

// Offsets of `parts` in `text`, which must appear in this order.
bool in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t at = 0;
  for (const auto& p : parts) {
    const std::size_t found = text.find(p, at);
    if (found == std::string::npos) return false;
    at = found + p.size();
  }
  return true;
}

class cli_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    if (!std::filesystem::exists(cli_path())) {
      GTEST_SKIP() << "the pgorm CLI is not built at " << cli_path()
                   << " (set PGORM_CLI to its path)";
    }
    dir_ = std::filesystem::temp_directory_path() / pgorm::test::unique_name("cli");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    db_test::TearDown();
  }
  void write(const std::string& file, const std::string& sql) const {
    std::ofstream(dir_ / file, std::ios::trunc) << sql;
  }
  std::vector<std::string> args(std::initializer_list<std::string> first) const {
    std::vector<std::string> a(first);
    a.insert(a.end(), {"--database-url", conninfo(), "--dir", dir_.string()});
    return a;
  }
  std::filesystem::path dir_;
};

TEST_F(cli_test, apply_status_and_exit_codes) {
  write("0001_people.sql", "create table people (id int);");
  auto r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 3) << r.out;  // only pending: `apply` will settle it
  EXPECT_NE(r.out.find("pending  0001_people.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not up to date: 1 pending"), std::string::npos) << r.out;

  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("applied  0001_people.sql"), std::string::npos) << r.out;
  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("nothing to apply"), std::string::npos) << r.out;

  r = run(args({"migrate", "status", "--json"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(R"({"ok":true,"exit_code":0,"up_to_date":true,"summary":{"applied":1,)"
                       R"("pending":0,"failed":0,"changed":0,"missing":0},"migrations":[)"
                       R"({"version":"0001","name":"people",)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(R"("state":"applied")"), std::string::npos) << r.out;
  r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("up to date: 1 applied"), std::string::npos) << r.out;

  // A failing migration: exit 1, the file named; status then exits 1 too.
  write("0002_bad.sql", "select 1/0;");
  r = run(args({"migrate", "apply", "--json"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(R"("ok":false)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("file":"0002_bad.sql")"), std::string::npos) << r.out;
  r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("failed   0002_bad.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("needs attention: 1 applied, 1 failed"), std::string::npos) << r.out;

  // A changed applied file: exit 1, named.
  write("0002_bad.sql", "select 1;");
  write("0001_people.sql", "create table people (id bigint);");
  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("0001_people.sql was changed"), std::string::npos) << r.out;
  r = run(args({"migrate", "status", "--json"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(R"("changed":1)"), std::string::npos) << r.out;

  // A recorded migration whose file is gone: status exits 1.
  write("0001_people.sql", "create table people (id int);");
  r = run(args({"migrate", "apply"}));
  ASSERT_EQ(r.code, 0) << r.out;
  std::filesystem::remove(dir_ / "0002_bad.sql");
  r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("missing  0002_bad"), std::string::npos) << r.out;
}

TEST_F(cli_test, usage_errors_exit_2) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"migrate"}).code, 2);
  EXPECT_EQ(run({"migrate", "frobnicate"}).code, 2);
  EXPECT_EQ(run({"migrate", "apply", "--no-such-flag"}).code, 2);
  EXPECT_EQ(run({"migrate", "baseline", "--database-url", conninfo()}).code, 2);  // no VERSION
  const auto r = run({"migrate", "apply", "--dir", dir_.string()}, "DATABASE_URL=");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--database-url"), std::string::npos) << r.out;
  EXPECT_EQ(run({"--help"}).code, 0);
  // An unreachable database is a failure, not a usage error.
  EXPECT_EQ(run({"migrate", "status", "--database-url", "host=/nonexistent port=1", "--dir",
                 dir_.string()})
                .code,
            1);
}

TEST_F(cli_test, database_url_from_the_environment_new_and_baseline) {
  auto r = run({"migrate", "new", "Create people", "--dir", dir_.string()});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "0001_create_people.sql")) << r.out;
  r = run({"migrate", "new", "second", "--dir", dir_.string(), "--json"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0002_second.sql"), std::string::npos) << r.out;

  const std::string env = "DATABASE_URL=" + shell_quote(conninfo());
  r = run({"migrate", "baseline", "0001", "--dir", dir_.string()}, env);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("baseline 0001_create_people.sql"), std::string::npos) << r.out;
  r = run({"migrate", "apply", "--dir", dir_.string()}, env);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("applied  0002_second.sql"), std::string::npos) << r.out;
  EXPECT_EQ(run({"migrate", "baseline", "abc", "--dir", dir_.string()}, env).code, 1);
}

TEST_F(cli_test, apply_reports_progress_as_it_goes_and_what_a_failed_run_applied) {
  write("0001_a.sql", "create table if not exists a (id int);");
  write("0002_b.sql", "create table if not exists b (id int);");
  write("0003_bad.sql", "create table if not exists c (id int);\n\nselect 1,\n  nosuchfunc(1);\n");
  write("0004_later.sql", "create table if not exists later (id int);");
  auto r = run_split(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(in_order(r.out, {"[1/4] applying 0001_a.sql\n", "[1/4] applied  0001_a.sql in ",
                               "[2/4] applying 0002_b.sql\n", "[2/4] applied  0002_b.sql in ",
                               "[3/4] applying 0003_bad.sql\n", "[3/4] FAILED   0003_bad.sql"}))
      << r.out;
  EXPECT_EQ(r.out.find("0004_later.sql"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("pgorm: error: migration 0003_bad.sql failed at line 4, column 3 and was "
                       "rolled back: function nosuchfunc(integer) does not exist"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hint: No function matches"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("  --> " + (dir_ / "0003_bad.sql").string() + ":4:3\n"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("2 of 4 migration(s) were applied in this run before it: 0001_a.sql, "
                       "0002_b.sql"),
            std::string::npos)
      << r.err;

  // The same run as JSON (a fresh tracking table): the error, where, and what was applied.
  r = run_split(args({"migrate", "apply", "--json", "--table", "json_run"}));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_TRUE(in_order(
      r.out, {R"({"ok":false,"exit_code":1,"kind":"migration","error":"pgorm: migration )",
              R"("file":"0003_bad.sql","path":)", R"("version":"0003","line":4,"column":3,)",
              R"("sqlstate":"42883","message":"function nosuchfunc(integer) does not exist",)",
              R"("hint":"No function matches)",
              R"("applied":[{"version":"0001","name":"a","file":"0001_a.sql","duration_ms":)",
              R"({"version":"0002","name":"b","file":"0002_b.sql","duration_ms":)"}))
      << r.out;
  EXPECT_EQ(r.err, "");

  // Fixed: the rest is applied, with a summary.
  write("0003_bad.sql", "create table if not exists c (id int);");
  r = run_split(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(
      in_order(r.out, {"[1/2] applying 0003_bad.sql\n", "[2/2] applied  0004_later.sql",
                       "2 migration(s) applied in ", " ms; the database is at version 0004\n"}))
      << r.out;
}

TEST_F(cli_test, errors_come_out_as_one_json_object_with_json) {
  auto r = run_split({"migrate", "apply", "--no-such-flag", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_EQ(r.out.find(R"({"ok":false,"exit_code":2,"kind":"usage","error":)"), 0U) << r.out;
  EXPECT_NE(r.out.find("--no-such-flag"), std::string::npos) << r.out;

  r = run_split({"migrate", "status", "--json", "--dir", dir_.string()}, "DATABASE_URL=");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_NE(r.out.find("no database: set DATABASE_URL"), std::string::npos) << r.out;

  r = run_split({"migrate", "status", "--json", "--database-url", "host=/nonexistent port=1",
                 "--dir", dir_.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_EQ(r.out.find(R"({"ok":false,"exit_code":1,"kind":"connection","error":)"), 0U) << r.out;

  r = run_split({"migrate", "status", "--json", "--database-url", conninfo(), "--dir",
                 (dir_ / "nonexistent").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_NE(r.out.find(R"("kind":"migration")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;

  r = run_split(args({"migrate", "resolve", "--applied", "1", "--rolled-back", "1", "--json"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
}

TEST_F(cli_test, resolve_marks_one_migration_applied_or_a_failed_one_rolled_back) {
  write("0001_a.sql", "create table a (id int);");
  write("0002_b.sql", "create table b (id int);");
  write("0003_c.sql", "select 1/0;");
  auto r = run(args({"migrate", "resolve", "--applied", "0002"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("marked as applied: 0002_b.sql: now applied"), std::string::npos) << r.out;
  r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_TRUE(
      in_order(r.out, {"pending  0001_a.sql", "applied  0002_b.sql", "pending  0003_c.sql"}))
      << r.out;
  EXPECT_EQ(run(args({"migrate", "resolve"})).code, 2);
  EXPECT_EQ(run(args({"migrate", "resolve", "--applied", "1", "--rolled-back", "1"})).code, 2);
  r = run(args({"migrate", "resolve", "--rolled-back", "0002"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is applied, not failed"), std::string::npos) << r.out;

  EXPECT_EQ(run(args({"migrate", "apply"})).code, 1);  // 0003 fails
  r = run(args({"migrate", "resolve", "--rolled-back", "3", "--json"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(R"({"ok":true,"exit_code":0,"resolved":{"version":"0003",)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(R"("state":"pending")"), std::string::npos) << r.out;
  EXPECT_EQ(run(args({"migrate", "status"})).code, 3);
}

TEST_F(cli_test, the_connect_timeout_bounds_a_server_that_never_answers) {
  // A listening socket that never accepts: the kernel completes the TCP handshake, then
  // nothing ever answers the startup packet.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url =
      "postgresql://nobody@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/nothing";
  const auto r =
      run_split({"migrate", "status", "--connect-timeout", "0.5", "--dir", dir_.string(), "--json"},
                "DATABASE_URL=" + shell_quote(url));
  close(fd);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(R"("kind":"connection")"), std::string::npos) << r.out;
  // Gave up within a generous bound of its 0.5 s (never hung), and did wait for it.
  EXPECT_LT(r.took, std::chrono::seconds(10)) << r.out;
  EXPECT_GE(r.took, std::chrono::milliseconds(400)) << r.out;
}

TEST_F(cli_test, the_lock_timeout_gives_up_naming_the_holder) {
  write("0001_a.sql", "create table a (id int);");
  // Another runner holds the lock (the key apply() computes for the default tracking table).
  conn().exec(
      "select pg_advisory_lock(hashtextextended('pgorm_migrations:' || current_schema() || "
      "'.pgorm_migrations', 0))");
  const std::string pid(conn().exec("select pg_backend_pid()").value(0, 0));
  auto r = run_split(args({"migrate", "apply", "--lock-timeout", "0.3"}));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("waiting up to 0.3 s for the migration lock, held by server process " + pid),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("gave up waiting for the migration lock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was applied in this run"), std::string::npos) << r.err;
  EXPECT_LT(r.took, std::chrono::seconds(10));
  r = run_split(args({"migrate", "apply", "--lock-timeout", "0", "--json"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(one_json_object(r.out)) << r.out;
  EXPECT_NE(r.out.find(R"("kind":"lock_timeout")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server process " + pid), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("applied":[])"), std::string::npos) << r.out;
  conn().exec(
      "select pg_advisory_unlock(hashtextextended('pgorm_migrations:' || current_schema() || "
      "'.pgorm_migrations', 0))");
  EXPECT_EQ(run(args({"migrate", "apply", "--lock-timeout", "0"})).code, 0);
}

TEST_F(cli_test, a_password_on_the_command_line_draws_a_warning_and_is_never_printed) {
  write("0001_a.sql", "create table a (id int);");
  const std::string secret = "S3cret-Passw0rd";
  const std::string url = conninfo() + " password=" + secret;  // the test server trusts anyone
  auto r = run_split({"migrate", "status", "--database-url", url, "--dir", dir_.string()});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: the password in --database-url is visible"), std::string::npos)
      << r.err;
  EXPECT_EQ((r.out + r.err).find(secret), std::string::npos);
  // From DATABASE_URL (the default), no warning.
  r = run_split({"migrate", "status", "--dir", dir_.string()}, "DATABASE_URL=" + shell_quote(url));
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  // Nor in an error.
  r = run_split({"migrate", "apply", "--dir", dir_.string()},
                "DATABASE_URL=" + shell_quote("host=/nonexistent port=1 password=" + secret));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << r.out << r.err;
}

TEST_F(cli_test, four_cli_processes_at_once_apply_each_migration_once) {
  write("0001_log.sql", "create table log (version text not null);");
  for (int i = 2; i <= 5; ++i) {
    write("000" + std::to_string(i) + "_step.sql",
          "select pg_sleep(0.05);\ncreate table t" + std::to_string(i) +
              " (id int);\ninsert into log values ('" + std::to_string(i) + "');");
  }
  std::vector<pid_t> children;
  const std::string binary = cli_path().string();
  const std::string info = conninfo();
  const std::string dir = dir_.string();
  for (int p = 0; p < 4; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(binary.c_str(), "pgorm", "migrate", "apply", "--database-url", info.c_str(), "--dir",
            dir.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_EQ(conn().exec("select count(*) from log").value(0, 0), "4");
  EXPECT_EQ(conn().exec("select count(distinct version) from log").value(0, 0), "4");
}

}  // namespace cli_it
