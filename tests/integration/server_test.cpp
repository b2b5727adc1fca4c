// SPDX-License-Identifier: MIT
// pgorm::testing::server (the throwaway cluster itself) and the db_test fixture built on it.
#include "pgorm/testing/server.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "support/db_test.hpp"
#include "support/test_database.hpp"

namespace {

namespace fs = std::filesystem;
using pgorm::testing::server;
using pgorm::testing::server_error;
using pgorm::testing::server_options;
using ::testing::HasSubstr;

std::string query_one(pgorm::connection& conn, const std::string& sql) {
  auto r = conn.exec(sql);
  if (r.rows() != 1 || r.columns() != 1) {
    throw pgorm::usage_error(fmt::format("expected one value from: {}", sql));
  }
  return std::string(r.get(0, 0).value_or("<null>"));
}

// Whether `pid` is gone: kill(pid, 0) fails with ESRCH. A zombie (a dead process its parent
// has not reaped; the postmaster's parent is init once pg_ctl exits) counts as gone too.
bool process_gone(int pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

// The clusters of this process in the default base directory (/tmp unless TMPDIR says).
std::vector<fs::path> my_cluster_dirs() {
  const char* tmpdir = std::getenv("TMPDIR");
  const fs::path base = tmpdir != nullptr && *tmpdir == '/' ? fs::path(tmpdir) : fs::path("/tmp");
  const auto prefix = fmt::format("pgorm-pg-{}-", ::getpid());
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(base)) {
    if (entry.path().filename().string().starts_with(prefix)) dirs.push_back(entry.path());
  }
  return dirs;
}

// Sets an environment variable for one scope, restoring the old value after.
class scoped_env {
 public:
  scoped_env(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A scratch directory removed at the end of the scope.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "pgorm-server-test-XXXXXX").string();
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

// A base directory of its own, so that the servers other test processes start (each reaps
// its base directory first) cannot reap a cluster here before the test counts it.
struct private_base : temp_dir {
  private_base() {
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
};

TEST(find_pg_bindir, finds_a_directory_with_the_server_programs) {
  const scoped_env unset{"PGORM_PG_BINDIR", std::nullopt};
  const auto dir = pgorm::testing::find_pg_bindir();
  EXPECT_TRUE(fs::exists(dir / "initdb")) << dir;
  EXPECT_TRUE(fs::exists(dir / "pg_ctl")) << dir;
  EXPECT_TRUE(fs::exists(dir / "postgres")) << dir;
}

TEST(find_pg_bindir, honours_PGORM_PG_BINDIR) {
  const scoped_env unset{"PGORM_PG_BINDIR", std::nullopt};
  const auto real = pgorm::testing::find_pg_bindir();
  const temp_dir links;
  for (const char* program : {"initdb", "pg_ctl", "postgres"}) {
    fs::create_symlink(real / program, links.path / program);
  }
  const scoped_env set{"PGORM_PG_BINDIR", links.path.string()};
  EXPECT_EQ(pgorm::testing::find_pg_bindir(), links.path);
}

TEST(find_pg_bindir, rejects_PGORM_PG_BINDIR_without_the_programs) {
  const temp_dir empty;
  const scoped_env set{"PGORM_PG_BINDIR", empty.path.string()};
  try {
    (void)pgorm::testing::find_pg_bindir();
    FAIL() << "expected server_error";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("PGORM_PG_BINDIR=" + empty.path.string()));
  }
}

TEST(server, two_servers_run_at_once_and_are_distinct) {
  server a;
  server b;
  EXPECT_NE(a.dir(), b.dir());
  EXPECT_NE(a.socket_dir(), b.socket_dir());
  EXPECT_NE(a.postmaster_pid(), b.postmaster_pid());
  EXPECT_TRUE(a.running());
  EXPECT_TRUE(b.running());

  pgorm::connection ca{a.conninfo()};
  pgorm::connection cb{b.conninfo()};
  EXPECT_EQ(query_one(ca, "show data_directory"), a.data_dir().string());
  EXPECT_EQ(query_one(cb, "show data_directory"), b.data_dir().string());
  EXPECT_EQ(query_one(ca, "select current_user"), "postgres");

  ca.exec("create table only_in_a (id int)");
  EXPECT_EQ(query_one(ca, "select count(*) from pg_tables where tablename = 'only_in_a'"), "1");
  EXPECT_EQ(query_one(cb, "select count(*) from pg_tables where tablename = 'only_in_a'"), "0");
}

TEST(server, defaults_are_unix_socket_only_fast_and_utf8) {
  server pg;
  pgorm::connection conn{pg.conninfo()};
  EXPECT_EQ(query_one(conn, "select coalesce(host(inet_server_addr()), 'unix')"), "unix");
  EXPECT_EQ(query_one(conn, "show listen_addresses"), "");
  EXPECT_EQ(query_one(conn, "show fsync"), "off");
  EXPECT_EQ(query_one(conn, "show synchronous_commit"), "off");
  EXPECT_EQ(query_one(conn, "show full_page_writes"), "off");
  EXPECT_EQ(query_one(conn, "show server_encoding"), "UTF8");
  EXPECT_EQ(query_one(conn, "show lc_collate"), "C");
  EXPECT_EQ(query_one(conn, "show port"), std::to_string(pg.port()));
  EXPECT_TRUE(fs::exists(pg.socket_dir() / fmt::format(".s.PGSQL.{}", pg.port())));
  // Nothing listens on the TCP port.
  EXPECT_THROW(pgorm::connection(fmt::format("host=127.0.0.1 port={} user=postgres "
                                             "dbname=postgres connect_timeout=5",
                                             pg.port())),
               pgorm::connection_error);
}

TEST(server, durable_settings_and_extra_settings_are_applied) {
  server pg{{.unsafe_fast = false, .settings = {{"work_mem", "'8MB'"}, {"max_connections", "20"}}}};
  pgorm::connection conn{pg.conninfo()};
  EXPECT_EQ(query_one(conn, "show fsync"), "on");
  EXPECT_EQ(query_one(conn, "show synchronous_commit"), "on");
  EXPECT_EQ(query_one(conn, "show work_mem"), "8MB");
  EXPECT_EQ(query_one(conn, "show max_connections"), "20");
}

TEST(server, url_and_conninfo_reach_the_same_server) {
  server pg;
  pgorm::connection by_url{pg.url()};
  pgorm::connection by_conninfo{pg.conninfo()};
  EXPECT_EQ(query_one(by_url, "show data_directory"), pg.data_dir().string());
  EXPECT_EQ(query_one(by_conninfo, "show data_directory"), pg.data_dir().string());
}

TEST(server, tcp_mode_listens_on_a_free_loopback_port) {
  server pg{{.tcp = true}};
  EXPECT_NE(pg.port(), 0);
  EXPECT_TRUE(pg.tcp());
  EXPECT_THAT(pg.conninfo(), HasSubstr("host=127.0.0.1"));
  EXPECT_EQ(pg.url(), fmt::format("postgresql://postgres@127.0.0.1:{}/postgres", pg.port()));
  pgorm::connection conn{pg.url()};
  EXPECT_EQ(query_one(conn, "select host(inet_server_addr())"), "127.0.0.1");
  EXPECT_EQ(query_one(conn, "select inet_server_port()"), std::to_string(pg.port()));
  // The Unix socket is still there.
  pgorm::connection local{fmt::format("host={} port={} user=postgres dbname=postgres",
                                      pg.socket_dir().string(), pg.port())};
  EXPECT_EQ(query_one(local, "select 1"), "1");
}

TEST(server, host_auth_method_rejects_a_wrong_password) {
  server pg{{.tcp = true, .host_auth = "scram-sha-256", .password = "s3cret pass"}};
  pgorm::connection good{pg.conninfo()};
  EXPECT_EQ(query_one(good, "select 1"), "1");
  pgorm::connection good_url{pg.url()};
  EXPECT_EQ(query_one(good_url, "select 1"), "1");
  const auto wrong =
      fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres password=wrong", pg.port());
  EXPECT_THROW(pgorm::connection{wrong}, pgorm::connection_error);
  const auto none = fmt::format(
      "host=127.0.0.1 port={} user=postgres dbname=postgres "
      "passfile=/dev/null",
      pg.port());
  EXPECT_THROW(pgorm::connection{none}, pgorm::connection_error);
}

TEST(server, stop_start_and_restart) {
  server pg;
  const int first_pid = pg.postmaster_pid();
  ASSERT_NE(first_pid, 0);

  pg.stop();
  EXPECT_FALSE(pg.running());
  EXPECT_EQ(pg.postmaster_pid(), 0);
  EXPECT_TRUE(process_gone(first_pid));
  EXPECT_THROW(pgorm::connection{pg.conninfo()}, pgorm::connection_error);
  pg.stop();  // idempotent

  pg.start();
  EXPECT_TRUE(pg.running());
  pgorm::connection conn{pg.conninfo()};
  conn.exec("create table survives (id int); insert into survives values (7)");

  const int before_restart = pg.postmaster_pid();
  pg.restart();
  EXPECT_TRUE(pg.running());
  EXPECT_NE(pg.postmaster_pid(), before_restart);
  EXPECT_TRUE(process_gone(before_restart));
  EXPECT_THROW(conn.exec("select 1"), pgorm::error);  // that session died with the server
  pgorm::connection again{pg.conninfo()};
  EXPECT_EQ(query_one(again, "select id from survives"), "7");
}

// restart(immediate) and crash() skip the shutdown checkpoint: the next start replays the WAL
// (the log says so once per crash), committed rows survive, and no server process outlives
// crash(), so start() can run again.
TEST(server, immediate_restart_and_crash_recover_committed_data) {
  server pg{{.settings = {{"synchronous_commit", "on"}}}};
  pgorm::connection conn{pg.conninfo()};
  conn.exec("create table kept (id int); insert into kept values (1)");

  const int first_pid = pg.postmaster_pid();
  pg.restart(pgorm::testing::shutdown_mode::immediate);
  EXPECT_TRUE(pg.running());
  EXPECT_TRUE(process_gone(first_pid));
  EXPECT_THROW(conn.exec("select 1"), pgorm::error);

  pgorm::connection second{pg.conninfo()};
  second.exec("insert into kept values (2)");
  const int second_pid = pg.postmaster_pid();
  const int backend = second.backend_pid();
  pg.crash();
  EXPECT_FALSE(pg.running());
  EXPECT_EQ(pg.postmaster_pid(), 0);
  EXPECT_TRUE(process_gone(second_pid));
  EXPECT_TRUE(process_gone(backend));
  EXPECT_THROW(second.exec("select 1"), pgorm::error);
  pg.crash();  // no-op when stopped

  pg.start();
  pgorm::connection third{pg.conninfo()};
  EXPECT_EQ(query_one(third, "select string_agg(id::text, ',' order by id) from kept"), "1,2");

  std::ifstream log(pg.log_file());
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  int recoveries = 0;
  for (auto at = text.find("automatic recovery in progress"); at != std::string::npos;
       at = text.find("automatic recovery in progress", at + 1)) {
    ++recoveries;
  }
  EXPECT_EQ(recoveries, 2) << text;
}

TEST(server, destruction_leaves_no_process_and_no_directory) {
  int pid = 0;
  fs::path dir;
  {
    server pg;
    pid = pg.postmaster_pid();
    dir = pg.dir();
    ASSERT_NE(pid, 0);
    ASSERT_EQ(::kill(pid, 0), 0);
    ASSERT_TRUE(fs::exists(pg.data_dir() / "PG_VERSION"));
    pgorm::connection open_session{pg.conninfo()};  // fast shutdown must not wait for it
    (void)open_session;
  }
  EXPECT_TRUE(process_gone(pid)) << "postmaster " << pid << " outlived its server object";
  EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST(server, moved_server_is_stopped_once) {
  int pid = 0;
  fs::path dir;
  {
    server a;
    pid = a.postmaster_pid();
    dir = a.dir();
    server b{std::move(a)};
    EXPECT_EQ(b.postmaster_pid(), pid);
    server c;
    c = std::move(b);  // destroys c's own cluster, takes b's
    EXPECT_TRUE(c.running());
    EXPECT_EQ(c.dir(), dir);
  }
  EXPECT_TRUE(process_gone(pid));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(server, failed_start_reports_the_log_and_cleans_up) {
  const auto before = my_cluster_dirs();
  try {
    server pg{{.settings = {{"shared_buffers", "'banana'"}}}};
    FAIL() << "a server with shared_buffers = banana started";
  } catch (const server_error& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("did not start"));
    EXPECT_THAT(what, HasSubstr("server.log"));
    // The server's own complaint, quoted from its log.
    EXPECT_THAT(what, HasSubstr("invalid value for parameter \"shared_buffers\": \"banana\""));
  }
  EXPECT_EQ(my_cluster_dirs(), before) << "the failed cluster's directory was left behind";
}

TEST(server, failed_initdb_reports_its_output) {
  try {
    server pg{{.host_auth = "no-such-method"}};
    FAIL() << "initdb accepted an unknown auth method";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("initdb failed"));
    EXPECT_THAT(e.what(), HasSubstr("no-such-method"));
  }
}

TEST(server, runs_as_an_unprivileged_user_when_root) {
  if (::geteuid() != 0) GTEST_SKIP() << "only meaningful when the tests run as root";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  const uid_t nobody_uid = nobody->pw_uid;  // copy now: getpwnam's buffer is reused

  server by_default;
  struct stat st {};
  ASSERT_EQ(::stat(fmt::format("/proc/{}", by_default.postmaster_pid()).c_str(), &st), 0);
  EXPECT_NE(st.st_uid, 0U);
  if (const passwd* postgres = ::getpwnam("postgres")) {
    EXPECT_EQ(st.st_uid, postgres->pw_uid);
  }

  const scoped_env user{"PGORM_PG_USER", "nobody"};
  server as_nobody;
  ASSERT_EQ(::stat(fmt::format("/proc/{}", as_nobody.postmaster_pid()).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_uid);
  ASSERT_EQ(::stat(as_nobody.data_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_uid);
}

TEST(server, unknown_run_as_user_is_a_clear_error) {
  if (::geteuid() != 0) GTEST_SKIP() << "run_as only applies to root";
  try {
    server pg{{.run_as = "no-such-user-pgorm"}};
    FAIL() << "expected server_error";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\"no-such-user-pgorm\" does not exist"));
  }
}

TEST(server, reaps_the_cluster_of_a_killed_owner) {
  const private_base base;
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The owner: starts a server, reports it, and dies without running any destructor.
    ::close(fds[0]);
    try {
      server pg{{.base_dir = base.path}};
      const auto report = fmt::format("{}\n{}\n", pg.dir().string(), pg.postmaster_pid());
      [[maybe_unused]] auto n = ::write(fds[1], report.data(), report.size());
      ::raise(SIGKILL);  // while `pg` is alive: its destructor never runs
    } catch (...) {
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
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "owner did not start";

  std::istringstream in(report);
  std::string dir;
  int pid = 0;
  in >> dir >> pid;
  ASSERT_TRUE(fs::exists(dir)) << report;
  ASSERT_NE(pid, 0) << report;
  ASSERT_FALSE(process_gone(pid)) << "the orphaned postmaster should still run";

  server live{{.base_dir = base.path}};  // reaping runs at construction; it reaps the orphan, and
                                         // spares live clusters
  EXPECT_TRUE(process_gone(pid)) << "orphaned postmaster " << pid << " was not stopped";
  EXPECT_FALSE(fs::exists(dir)) << dir << " was not deleted";

  EXPECT_EQ(server::reap_stale_clusters(base.path), 0);
  EXPECT_TRUE(live.running());
  pgorm::connection conn{live.conninfo()};
  EXPECT_EQ(query_one(conn, "select 1"), "1");
}

TEST(server, detach_and_attach_hand_over_ownership) {
  const temp_dir state;
  const private_base base;
  const auto anchor = state.path / "cluster";
  std::ofstream(anchor) << "anchor\n";

  fs::path dir;
  int pid = 0;
  {
    server pg{{.base_dir = base.path}};
    dir = pg.dir();
    pid = pg.postmaster_pid();
    pg.detach(anchor);
  }
  ASSERT_TRUE(fs::exists(dir));
  ASSERT_FALSE(process_gone(pid)) << "a detached server must outlive its object";
  EXPECT_EQ(server::reap_stale_clusters(base.path), 0)
      << "reaped a detached cluster whose anchor exists";
  ASSERT_TRUE(fs::exists(dir));

  {
    auto again = server::attach(dir);
    EXPECT_TRUE(again.running());
    EXPECT_EQ(again.postmaster_pid(), pid);
    pgorm::connection conn{again.conninfo()};
    EXPECT_EQ(query_one(conn, "show data_directory"), again.data_dir().string());
    EXPECT_THROW((void)server::attach(dir), server_error) << "attached while owned";
    again.detach(anchor);
  }
  ASSERT_FALSE(process_gone(pid));

  // Once the anchor is gone, the next reaping stops and deletes the cluster.
  fs::remove(anchor);
  EXPECT_EQ(server::reap_stale_clusters(base.path), 1);
  EXPECT_TRUE(process_gone(pid));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(server, attach_refuses_a_directory_that_is_not_a_cluster) {
  const temp_dir empty;
  EXPECT_THROW((void)server::attach(empty.path), server_error);
}

TEST(server, create_database_quotes_the_name) {
  server pg;
  pg.create_database("my db \"quoted\"");
  pgorm::connection conn{pg.conninfo("my db \"quoted\"")};
  EXPECT_EQ(query_one(conn, "select current_database()"), "my db \"quoted\"");
  EXPECT_THROW(pg.create_database("my db \"quoted\""), pgorm::sql_error);
}

// ---- the db_test fixture ------------------------------------------------------------------

class db_test_fixture : public pgorm::test::db_test {};

TEST_F(db_test_fixture, connection_uses_the_test_schema) {
  EXPECT_THAT(schema(), ::testing::StartsWith("t_connection_uses_the_test_schema_"));
  EXPECT_EQ(query_one(conn(), "select current_schema()"), schema());
  conn().exec("create table things (id int); insert into things values (1), (2)");
  auto other = connect();
  EXPECT_EQ(query_one(other, "select count(*) from things"), "2");
  pgorm::connection by_conninfo{conninfo()};
  EXPECT_EQ(query_one(by_conninfo, "select current_schema()"), schema());
}

TEST(db_test_lifecycle, schema_is_created_and_dropped) {
  struct probe : pgorm::test::db_test {
    using db_test::conn;
    using db_test::schema;
    using db_test::SetUp;
    using db_test::TearDown;
    void TestBody() override {}
  };
  std::string name;
  {
    probe p;
    p.SetUp();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    name = p.schema();
    p.conn().exec("create table left_behind (id int)");
    p.TearDown();
  }
  pgorm::connection admin{pgorm::test::server_conninfo()};
  EXPECT_EQ(
      query_one(admin, fmt::format("select count(*) from pg_namespace where nspname = '{}'", name)),
      "0");
}

TEST(test_database, with_search_path_handles_both_conninfo_forms) {
  EXPECT_EQ(pgorm::test::with_search_path("host=/tmp dbname=x", "s1"),
            "host=/tmp dbname=x options='-c search_path=s1'");
  EXPECT_EQ(pgorm::test::with_search_path("postgresql://u@h/db", "s1"),
            "postgresql://u@h/db?options=-c%20search_path%3Ds1");
  EXPECT_EQ(pgorm::test::with_search_path("postgresql://u@h/db?sslmode=disable", "s1"),
            "postgresql://u@h/db?sslmode=disable&options=-c%20search_path%3Ds1");
}

TEST(test_database, unique_name_is_a_plain_identifier) {
  const auto a = pgorm::test::unique_name("Some Test/Name");
  const auto b = pgorm::test::unique_name("Some Test/Name");
  EXPECT_NE(a, b);
  EXPECT_THAT(a, ::testing::MatchesRegex("t_some_test_name_[0-9]+_[0-9]+"));
  EXPECT_LE(pgorm::test::unique_name(std::string(200, 'x')).size(), 63U);
}

}  // namespace
