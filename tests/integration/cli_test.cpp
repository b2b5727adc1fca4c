// SPDX-License-Identifier: MIT
// The `pgorm` CLI binary (tools/pgorm_cli.cpp): exit codes 0 / 1 / 2, text and --json output,
// DATABASE_URL, and 4 CLI processes started at once. The binary is found through env
// PGORM_CLI, else at <build>/tools/pgorm next to <build>/tests/<this test> (cmake/pgorm_cli.cmake).
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
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
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("pending  0001_people.sql"), std::string::npos) << r.out;

  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("applied  0001_people.sql"), std::string::npos) << r.out;
  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("nothing to apply"), std::string::npos) << r.out;

  r = run(args({"migrate", "status", "--json"}));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(R"({"ok":true,"migrations":[{"version":"0001","name":"people",)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(R"("state":"applied")"), std::string::npos) << r.out;

  // A failing migration: exit 1, the file named; status then exits 1 too.
  write("0002_bad.sql", "select 1/0;");
  r = run(args({"migrate", "apply", "--json"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(R"("ok":false)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("file":"0002_bad.sql")"), std::string::npos) << r.out;
  r = run(args({"migrate", "status"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("failed   0002_bad.sql"), std::string::npos) << r.out;

  // A changed applied file: exit 1, named.
  write("0002_bad.sql", "select 1;");
  write("0001_people.sql", "create table people (id bigint);");
  r = run(args({"migrate", "apply"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("0001_people.sql was changed"), std::string::npos) << r.out;
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
