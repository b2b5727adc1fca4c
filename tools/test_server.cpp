// SPDX-License-Identifier: MIT
// pgorm-test-server: a command-line front end to pgorm::testing::server (docs/testing.md).
//
//   pgorm-test-server start --state-dir DIR [--server S] [--tcp] [--port N]  detached server
//   pgorm-test-server stop  --state-dir DIR          stop it, delete its cluster or container
//   pgorm-test-server run   [--server S] [--tcp] [--port N]   scratch server until Ctrl-C
//   pgorm-test-server pgbouncer --state-dir DIR --upstream UDIR   detached PgBouncer in front
//                                                    of the server recorded in UDIR
//   pgorm-test-server reap                           remove what crashed runs left behind
//   (S is "native", the default, or "container:<major>"; env PGORM_TEST_SERVER sets it)
//   pgorm-test-server --version                                  print the version
//
// Exit codes: 0 success, 1 failure, 2 bad command line.
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>

#include "pgorm/connection.hpp"
#include "pgorm/testing/pgbouncer.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/version.hpp"

namespace {

namespace fs = std::filesystem;

// Files of the state directory. `cluster` doubles as the anchor of the detached cluster:
// deleting the state directory makes the cluster reapable by the next server that starts.
constexpr std::string_view conninfo_file = "conninfo";
constexpr std::string_view url_file = "url";
constexpr std::string_view cluster_file = "cluster";
// "native", "container" or "pgbouncer": what `cluster` names.
constexpr std::string_view backend_file = "backend";
// PgBouncer's state directory: the conninfo of the server behind it.
constexpr std::string_view upstream_file = "upstream";

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage = R"(usage:
  pgorm-test-server start --state-dir DIR [--server S] [--tcp] [--port N]
      Start a throwaway PostgreSQL server that outlives this command, and write its libpq
      conninfo to DIR/conninfo (and a URL to DIR/url). Does nothing when
      PGORM_TEST_DATABASE_URL or DATABASE_URL is set: the tests then use that server.
  pgorm-test-server stop --state-dir DIR
      Stop the server recorded in DIR and delete its cluster (or remove its container).
      Nothing to stop is not an error.
  pgorm-test-server run [--server S] [--tcp] [--port N]
      Start a throwaway server, print how to connect, and stop it on Ctrl-C (or SIGTERM).
  pgorm-test-server pgbouncer --state-dir DIR --upstream UDIR [--server S] [--tcp] [--port N]
      Start a PgBouncer (transaction pooling; pgorm::testing::pgbouncer) that outlives this
      command, in front of the server that `start --state-dir UDIR` recorded, and write its
      conninfo to DIR/conninfo (and the server's to DIR/upstream). `stop --state-dir DIR`
      stops it. Does nothing when UDIR holds no server (PGORM_TEST_DATABASE_URL or
      DATABASE_URL was set). S picks the PgBouncer: "native" runs the installed one (Debian
      12: 1.18), "container:<major>" the one in pgorm's PostgreSQL image of that version
      (container:17: Debian 13's 1.24), so one PGORM_TEST_SERVER picks both programs.
  pgorm-test-server reap
      Delete the clusters and remove the containers whose owner process is gone.
  pgorm-test-server --version
      Print "pgorm-test-server <version>".

S: "native" (initdb from the installed programs; the default) or "container:<major>", e.g.
container:17: a Podman container of that PostgreSQL version built from Debian packages
(tools/containers/pgorm-pg-image), always reached over TCP on 127.0.0.1.

Environment: PGORM_TEST_SERVER (default for --server), PGORM_PG_BINDIR (server programs),
PGORM_PG_USER (user to run as when root), PGORM_CONTAINER_IMAGE, PGORM_CACHE_DIR.
Exit codes: 0 success, 1 failure, 2 bad command line.
)";

struct usage_error {
  std::string message;
};

struct arguments {
  std::string command{};
  std::optional<fs::path> state_dir{};
  std::optional<fs::path> upstream{};
  pgorm::testing::server_spec server{};
  pgorm::testing::server_options options{};
};

arguments parse(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) throw usage_error{"missing command"};
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") return {.command = "help"};
  if (args[0] == "--version") return {.command = "version"};
  arguments parsed;
  parsed.command = args[0];
  if (parsed.command != "start" && parsed.command != "stop" && parsed.command != "run" &&
      parsed.command != "reap" && parsed.command != "pgbouncer") {
    throw usage_error{fmt::format("unknown command \"{}\"", parsed.command)};
  }
  bool server_given = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) throw usage_error{fmt::format("{} needs a value", args[i])};
      return args[++i];
    };
    if (args[i] == "--state-dir") {
      parsed.state_dir = fs::path(value());
    } else if (args[i] == "--upstream") {
      parsed.upstream = fs::path(value());
    } else if (args[i] == "--server") {
      const std::string text(value());
      try {
        parsed.server = pgorm::testing::parse_server_spec(text);
      } catch (const pgorm::testing::server_error& e) {
        throw usage_error{e.what()};
      }
      server_given = true;
    } else if (args[i] == "--tcp") {
      parsed.options.tcp = true;
    } else if (args[i] == "--port") {
      const std::string text(value());
      char* end = nullptr;
      const long port = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || port < 1 || port > 65535) {
        throw usage_error{fmt::format("bad port \"{}\"", text)};
      }
      parsed.options.port = static_cast<std::uint16_t>(port);
    } else {
      throw usage_error{fmt::format("unknown option \"{}\"", args[i])};
    }
  }
  if (parsed.command == "reap") {
    if (args.size() > 1) throw usage_error{"reap takes no options"};
    return parsed;
  }
  if (!server_given) {
    // A bad PGORM_TEST_SERVER is a failure (exit 1), not a usage error: main() reports it.
    if (const char* from_env = std::getenv("PGORM_TEST_SERVER")) {
      parsed.server = pgorm::testing::parse_server_spec(from_env);
    }
  }
  if (parsed.command != "run" && !parsed.state_dir) {
    throw usage_error{fmt::format("{} needs --state-dir DIR", parsed.command)};
  }
  if (parsed.command == "pgbouncer" && !parsed.upstream) {
    throw usage_error{"pgbouncer needs --upstream UDIR"};
  }
  if (parsed.command != "pgbouncer" && parsed.upstream) {
    throw usage_error{"only pgbouncer takes --upstream"};
  }
  if (parsed.command == "stop" &&
      (parsed.options.tcp || parsed.options.port != 0 || server_given)) {
    throw usage_error{"stop takes only --state-dir"};
  }
  return parsed;
}

std::string read_trimmed(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  auto text = out.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

void write_text(const fs::path& path, std::string_view text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << '\n';
    if (!out.flush()) throw pgorm::error(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, path);
}

pgorm::testing::container_options container_options(const arguments& args) {
  return {.version = args.server.version, .port = args.options.port};
}

const char* external_database_variable() {
  for (const char* name : {"PGORM_TEST_DATABASE_URL", "DATABASE_URL"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return name;
  }
  return nullptr;
}

// Stops the cluster recorded in `state_dir` (if any) and removes the state files. Returns
// whether there was one.
bool stop_recorded(const fs::path& state_dir) {
  const auto cluster = read_trimmed(state_dir / cluster_file);
  if (cluster.empty()) return false;
  std::error_code ec;
  if (fs::is_directory(cluster, ec)) {
    const auto backend = read_trimmed(state_dir / backend_file);
    if (backend == "pgbouncer") {
      // attach() then destruction: SIGTERM, then SIGKILL, then delete its directory.
      const auto bouncer = pgorm::testing::pgbouncer::attach(cluster);
    } else if (backend == "container") {
      // attach() then destruction: podman rm --force, then delete the state directory.
      const auto server = pgorm::testing::container_server::attach(cluster);
    } else {
      // attach() then destruction: pg_ctl stop -m fast, then signals, then delete the cluster.
      auto server = pgorm::testing::server::attach(cluster);
      server.stop();
    }
  }
  for (const auto name : {conninfo_file, url_file, cluster_file, backend_file, upstream_file}) {
    fs::remove(state_dir / name, ec);
  }
  fs::remove(state_dir, ec);  // only succeeds when nothing else was put there
  return true;
}

int start(const arguments& args) {
  if (const char* variable = external_database_variable()) {
    fmt::print("pgorm-test-server: {} is set; the tests use that server, none started\n", variable);
    return exit_ok;
  }
  const fs::path& state_dir = *args.state_dir;
  fs::create_directories(state_dir);
  // A previous run that was interrupted before `stop` left its server: replace it.
  if (stop_recorded(state_dir)) {
    fmt::print("pgorm-test-server: stopped the server a previous run left in {}\n",
               state_dir.string());
  }
  if (args.server.container) {
    pgorm::testing::container_server server{container_options(args)};
    write_text(state_dir / conninfo_file, server.conninfo());
    write_text(state_dir / url_file, server.url());
    write_text(state_dir / backend_file, "container");
    write_text(state_dir / cluster_file, server.dir().string());
    server.detach(state_dir / cluster_file);
    fmt::print("pgorm-test-server: started PostgreSQL {} in container {} ({})\nconninfo: {}\n",
               server.version(), server.container_name(), server.image(),
               pgorm::detail::redact_conninfo(server.conninfo()));
    return exit_ok;
  }
  pgorm::testing::server server{args.options};
  write_text(state_dir / conninfo_file, server.conninfo());
  write_text(state_dir / url_file, server.url());
  write_text(state_dir / backend_file, "native");
  write_text(state_dir / cluster_file, server.dir().string());
  server.detach(state_dir / cluster_file);
  fmt::print("pgorm-test-server: started PostgreSQL (pid {}) in {}\nconninfo: {}\n",
             server.postmaster_pid(), server.dir().string(),
             pgorm::detail::redact_conninfo(server.conninfo()));
  return exit_ok;
}

// host and port of the conninfo that `start` wrote to `upstream`/conninfo.
std::pair<std::string, std::uint16_t> upstream_endpoint(const fs::path& upstream) {
  const auto conninfo = read_trimmed(upstream / conninfo_file);
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    throw pgorm::error(fmt::format("cannot parse {}", (upstream / conninfo_file).string()));
  }
  std::string host;
  long port = 0;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::string_view(o->keyword) == "host") host = o->val;
    if (std::string_view(o->keyword) == "port") port = std::strtol(o->val, nullptr, 10);
  }
  PQconninfoFree(parsed);
  if (host.empty() || port <= 0 || port > 65535) {
    throw pgorm::error(
        fmt::format("{} names no host and port", (upstream / conninfo_file).string()));
  }
  return {host, static_cast<std::uint16_t>(port)};
}

int start_pgbouncer(const arguments& args) {
  const fs::path& state_dir = *args.state_dir;
  if (read_trimmed(*args.upstream / conninfo_file).empty()) {
    fmt::print("pgorm-test-server: {} records no server; no PgBouncer started\n",
               args.upstream->string());
    return exit_ok;
  }
  fs::create_directories(state_dir);
  if (stop_recorded(state_dir)) {
    fmt::print("pgorm-test-server: stopped what a previous run left in {}\n", state_dir.string());
  }
  const auto [host, port] = upstream_endpoint(*args.upstream);
  pgorm::testing::pgbouncer bouncer{
      host,
      port,
      {.tcp = args.options.tcp,
       .port = args.options.port,
       .container_version = args.server.container ? args.server.version : std::string{}}};
  write_text(state_dir / conninfo_file, bouncer.conninfo());
  write_text(state_dir / url_file, bouncer.url());
  write_text(state_dir / backend_file, "pgbouncer");
  // The server behind it, for what must not go through PgBouncer (tests' setup as superuser).
  write_text(state_dir / upstream_file, read_trimmed(*args.upstream / conninfo_file));
  write_text(state_dir / cluster_file, bouncer.dir().string());
  bouncer.detach(state_dir / cluster_file);
  fmt::print(
      "pgorm-test-server: started PgBouncer {} (pid {}) in {} in front of {}:{}\nconninfo: {}\n",
      bouncer.version(), bouncer.pid(), bouncer.dir().string(), host, port, bouncer.conninfo());
  return exit_ok;
}

int stop(const arguments& args) {
  if (stop_recorded(*args.state_dir)) {
    fmt::print("pgorm-test-server: stopped the server of {}\n", args.state_dir->string());
  } else {
    fmt::print("pgorm-test-server: no server recorded in {}; nothing to stop\n",
               args.state_dir->string());
  }
  return exit_ok;
}

int reap() {
  const int clusters = pgorm::testing::server::reap_stale_clusters();
  const int containers = pgorm::testing::container_server::reap_stale_containers();
  const int bouncers = pgorm::testing::pgbouncer::reap_stale();
  fmt::print("pgorm-test-server: reaped {} cluster(s), {} container(s) and {} PgBouncer(s)\n",
             clusters, containers, bouncers);
  return exit_ok;
}

int run(const arguments& args) {
  // Block the signals before starting, so that a Ctrl-C during startup is not lost; the
  // server's programs get a clean signal mask from pgorm::testing::server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (args.server.container) {
    pgorm::testing::container_server server{container_options(args)};
    fmt::print(
        "PostgreSQL {} is running in container {} ({}).\n  conninfo: {}\n  url:      {}\n"
        "Press Ctrl-C to stop it and remove the container.\n",
        server.version(), server.container_name(), server.image(), server.conninfo(), server.url());
    std::fflush(stdout);
    int received = 0;
    sigwait(&signals, &received);
    fmt::print("\nstopping\n");
    return exit_ok;
  }
  pgorm::testing::server server{args.options};
  fmt::print(
      "PostgreSQL is running (pid {}, data in {}).\n  conninfo: {}\n  url:      {}\n"
      "  log:      {}\nPress Ctrl-C to stop it and delete everything.\n",
      server.postmaster_pid(), server.data_dir().string(), server.conninfo(), server.url(),
      server.log_file().string());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  fmt::print("\nstopping\n");
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = parse(argc, argv);
    if (args.command == "help") {
      fmt::print("{}", usage);
      return exit_ok;
    }
    if (args.command == "version") {
      fmt::print("pgorm-test-server {}\n", PGORM_VERSION_STRING);
      return exit_ok;
    }
    if (args.command == "start") return start(args);
    if (args.command == "stop") return stop(args);
    if (args.command == "pgbouncer") return start_pgbouncer(args);
    if (args.command == "reap") return reap();
    return run(args);
  } catch (const usage_error& e) {
    fmt::print(stderr, "pgorm-test-server: {}\n\n{}", e.message, usage);
    return exit_usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pgorm-test-server: {}\n", e.what());
    return exit_failure;
  }
}
