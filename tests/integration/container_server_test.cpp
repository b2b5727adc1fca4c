// SPDX-License-Identifier: MIT
// pgorm::testing::container_server: PostgreSQL in a Podman container built from Debian
// packages (tools/containers/). These tests start containers of their own, so they run only
// when asked: with PGORM_TEST_SERVER=container:<major> (the version they start; CI runs them
// for 15 and 17) or PGORM_TEST_CONTAINERS=<major>. Elsewhere they are skipped with a message.
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/testing/server.hpp"

namespace {

namespace fs = std::filesystem;
using pgorm::testing::container_options;
using pgorm::testing::container_server;
using pgorm::testing::parse_server_spec;
using pgorm::testing::server_error;
using pgorm::testing::shutdown_mode;
using ::testing::HasSubstr;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string{value};
}

// The PostgreSQL major version to test, or empty when container tests were not asked for.
std::string wanted_version() {
  if (const auto spec = parse_server_spec(env("PGORM_TEST_SERVER")); spec.container) {
    return spec.version;
  }
  return env("PGORM_TEST_CONTAINERS");
}

#define REQUIRE_CONTAINERS()                                                          \
  do {                                                                                \
    if (wanted_version().empty()) {                                                   \
      GTEST_SKIP() << "set PGORM_TEST_SERVER=container:<major> or "                   \
                      "PGORM_TEST_CONTAINERS=<major> to run the container backend's " \
                      "tests (docs/testing.md)";                                      \
    }                                                                                 \
  } while (false)

std::string query_one(pgorm::connection& conn, const std::string& sql) {
  auto r = conn.exec(sql);
  if (r.rows() != 1 || r.columns() != 1) {
    throw pgorm::usage_error(fmt::format("expected one value from: {}", sql));
  }
  return std::string(r.get(0, 0).value_or("<null>"));
}

struct command_output {
  int exit_code = -1;
  std::string text;
};

// `podman <args>`, for checking from the outside what the backend left behind.
command_output podman(const std::string& args) {
  const auto engine =
      env("PGORM_CONTAINER_ENGINE").empty() ? std::string("podman") : env("PGORM_CONTAINER_ENGINE");
  command_output out;
  std::FILE* pipe = ::popen((engine + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    out.text.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool container_exists(const std::string& name) {
  return podman("container exists " + name).exit_code == 0;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "pgorm-ctr-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(server_spec, parses_native_and_container_versions) {
  EXPECT_FALSE(parse_server_spec("").container);
  EXPECT_FALSE(parse_server_spec("native").container);
  const auto spec = parse_server_spec("container:17");
  EXPECT_TRUE(spec.container);
  EXPECT_EQ(spec.version, "17");
  EXPECT_EQ(parse_server_spec(" container:15\n").version, "15");
  for (const char* bad :
       {"container:", "container:seventeen", "docker:17", "17", "container:1 7"}) {
    try {
      (void)parse_server_spec(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const server_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("container:<major version>")) << bad;
    }
  }
}

TEST(container_server, runs_the_requested_major_version_and_leaves_nothing_behind) {
  REQUIRE_CONTAINERS();
  const auto version = wanted_version();
  std::string name;
  fs::path dir;
  {
    container_server pg{{.version = version}};
    name = pg.container_name();
    dir = pg.dir();
    EXPECT_TRUE(pg.tcp());
    EXPECT_EQ(pg.version(), version);
    EXPECT_THAT(pg.image(), HasSubstr("pgorm/postgres:" + version));
    EXPECT_THAT(pg.conninfo(), HasSubstr(fmt::format("host=127.0.0.1 port={}", pg.port())));
    EXPECT_EQ(pg.url("app"), fmt::format("postgresql://postgres@127.0.0.1:{}/app", pg.port()));
    ASSERT_TRUE(container_exists(name));
    EXPECT_TRUE(fs::is_directory(dir));

    pgorm::connection conn{pg.conninfo()};
    const auto num = query_one(conn, "show server_version_num");
    EXPECT_EQ(num.substr(0, version.size()), version) << "server_version_num " << num;
    EXPECT_EQ(query_one(conn, "show port"), std::to_string(pg.port()));
    EXPECT_EQ(query_one(conn, "show fsync"), "off");
    EXPECT_EQ(query_one(conn, "select current_user"), "postgres");
    EXPECT_EQ(query_one(conn, "show server_encoding"), "UTF8");

    // The container shares the host's network and publishes nothing.
    const auto mode = podman("inspect --format '{{.HostConfig.NetworkMode}}' " + name);
    EXPECT_EQ(mode.text, "host\n");
    pg.create_database("second db");
    pgorm::connection second{pg.conninfo("second db")};
    EXPECT_EQ(query_one(second, "select current_database()"), "second db");
  }
  EXPECT_FALSE(container_exists(name)) << "the destructor left container " << name;
  EXPECT_FALSE(fs::exists(dir)) << "the destructor left " << dir;
}

TEST(container_server, settings_password_and_two_servers_at_once) {
  REQUIRE_CONTAINERS();
  const auto version = wanted_version();
  container_server a{{.version = version,
                      .host_auth = "scram-sha-256",
                      .password = "it's a secret",
                      .settings = {{"max_connections", "37"}, {"application_name", "'pgorm x'"}}}};
  container_server b{{.version = version, .unsafe_fast = false}};
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.container_name(), b.container_name());

  pgorm::connection ca{a.conninfo()};
  EXPECT_EQ(query_one(ca, "show max_connections"), "37");
  EXPECT_EQ(query_one(ca, "show password_encryption"), "scram-sha-256");
  pgorm::connection by_url{a.url()};
  EXPECT_EQ(query_one(by_url, "select 1"), "1");
  try {
    pgorm::connection wrong{
        fmt::format("host=127.0.0.1 port={} user=postgres password=nope "
                    "dbname=postgres",
                    a.port())};
    ADD_FAILURE() << "a wrong password was accepted";
  } catch (const pgorm::error& e) {
    EXPECT_THAT(e.what(), HasSubstr("password authentication failed"));
  }
  // The password travels through the engine's environment, not its command line.
  const auto cmd = podman("inspect --format '{{.Config.Cmd}} {{.Args}}' " + a.container_name());
  EXPECT_THAT(cmd.text, ::testing::Not(HasSubstr("it's a secret")));

  pgorm::connection cb{b.conninfo()};
  EXPECT_EQ(query_one(cb, "show fsync"), "on");
}

TEST(container_server, stop_start_restart_and_crash_keep_committed_data) {
  REQUIRE_CONTAINERS();
  container_server pg{{.version = wanted_version(), .unsafe_fast = false}};
  {
    pgorm::connection conn{pg.conninfo()};
    conn.exec("create table kept (n int)");
    conn.exec("insert into kept values (1)");
  }
  const int first = pg.postmaster_pid();
  ASSERT_NE(first, 0);
  EXPECT_TRUE(pg.running());

  pg.stop();
  EXPECT_FALSE(pg.running());
  EXPECT_EQ(pg.postmaster_pid(), 0);
  EXPECT_THROW(pgorm::connection(pg.conninfo(), {.connect_timeout = std::chrono::seconds(3)}),
               pgorm::error);
  pg.stop();  // no-op when stopped
  pg.start();
  EXPECT_TRUE(pg.running());

  pgorm::connection before_restart{pg.conninfo()};
  pg.restart(shutdown_mode::immediate);
  EXPECT_THROW((void)before_restart.exec("select 1"), pgorm::error)
      << "a connection from before the restart still works";

  {
    pgorm::connection conn{pg.conninfo()};
    conn.exec("insert into kept values (2)");
  }
  pg.crash();
  EXPECT_FALSE(pg.running());
  pg.crash();  // no-op when stopped
  pg.start();  // crash recovery
  pgorm::connection conn{pg.conninfo()};
  EXPECT_EQ(query_one(conn, "select string_agg(n::text, ',' order by n) from kept"), "1,2");
  std::ifstream log(pg.log_file());
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("database system was interrupted")) << "no crash recovery in the log";
}

TEST(container_server, reaps_the_container_of_a_killed_owner) {
  REQUIRE_CONTAINERS();
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The owner: starts a container, reports it, and dies without running any destructor.
    ::close(fds[0]);
    try {
      container_server pg{{.version = wanted_version()}};
      const auto report = fmt::format("{}\n{}\n", pg.container_name(), pg.dir().string());
      [[maybe_unused]] auto n = ::write(fds[1], report.data(), report.size());
      ::raise(SIGKILL);
    } catch (const std::exception& e) {
      const std::string report = fmt::format("error {}\n", e.what());
      [[maybe_unused]] auto n = ::write(fds[1], report.data(), report.size());
    }
    ::_exit(1);
  }
  ::close(fds[1]);
  std::string report;
  std::array<char, 512> buffer{};
  for (ssize_t n; (n = ::read(fds[0], buffer.data(), buffer.size())) > 0;) {
    report.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << report;
  std::istringstream in(report);
  std::string name;
  std::string dir;
  in >> name >> dir;
  ASSERT_TRUE(container_exists(name)) << "the orphan should still run: " << report;

  // Any container_server constructed meanwhile (another test) reaps it too: only the outcome
  // is checked, not who did it.
  container_server::reap_stale_containers();
  EXPECT_FALSE(container_exists(name)) << "orphaned container " << name << " was not removed";
  EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST(container_server, detach_attach_and_a_deleted_anchor) {
  REQUIRE_CONTAINERS();
  const temp_dir state;
  const auto anchor = state.path / "cluster";
  std::ofstream(anchor) << "anchor\n";
  std::string name;
  fs::path dir;
  {
    container_server pg{{.version = wanted_version()}};
    name = pg.container_name();
    dir = pg.dir();
    pgorm::connection conn{pg.conninfo()};
    conn.exec("create table handed_over (n int)");
    pg.detach(anchor);
  }
  ASSERT_TRUE(container_exists(name)) << "a detached container must outlive its object";
  container_server::reap_stale_containers();
  ASSERT_TRUE(container_exists(name)) << "reaped a detached container whose anchor exists";
  {
    auto again = container_server::attach(dir);
    EXPECT_EQ(again.container_name(), name);
    pgorm::connection conn{again.conninfo()};
    EXPECT_EQ(query_one(conn, "select count(*) from handed_over"), "0");
    EXPECT_THROW((void)container_server::attach(dir), server_error) << "attached while owned";
    again.detach(anchor);
  }
  fs::remove(anchor);
  container_server::reap_stale_containers();
  EXPECT_FALSE(container_exists(name)) << "a container whose anchor is gone was not reaped";
  EXPECT_FALSE(fs::exists(dir));
}

TEST(container_server, a_bad_setting_fails_with_the_server_log_and_leaves_nothing) {
  REQUIRE_CONTAINERS();
  try {
    container_server pg{{.version = wanted_version(),
                         .settings = {{"shared_buffers", "banana"}},
                         .timeout = std::chrono::seconds(20)}};
    FAIL() << "expected server_error";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("shared_buffers"));
  }
  // Other tests may run containers meanwhile: look for this process's own.
  const auto left = podman("ps --all --format '{{.Names}}' --filter label=pgorm.test-server");
  EXPECT_THAT(left.text, ::testing::Not(HasSubstr(fmt::format("pgorm-ctr-{}-", ::getpid()))))
      << "a failed start left a container";
  EXPECT_THROW(container_server({.version = wanted_version(), .settings = {{"a b", "1"}}}),
               server_error);
  EXPECT_THROW(container_server({.version = "17beta"}), server_error);
}

}  // namespace
