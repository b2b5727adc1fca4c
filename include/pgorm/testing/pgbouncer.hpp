// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A throwaway PgBouncer in front of a pgorm::testing::server, for tests that must pass behind
/// a connection pooler (transaction pooling by default). See docs/testing.md, "PgBouncer".
///
/// Example:
/// ```
/// pgorm::testing::server pg;
/// pgorm::testing::pgbouncer bouncer{pg};      // pool_mode = transaction
/// pgorm::connect_options o;
/// o.pooler = pgorm::pooler_mode::transaction;  // what pgorm must know behind it
/// pgorm::connection conn{bouncer.conninfo(), o};
/// ```
///
/// Thread safety: as for pgorm::testing::server.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/export.hpp"
#include "pgorm/testing/server.hpp"

namespace pgorm::testing {

/// How to run a throwaway PgBouncer. Every field has a usable default.
///
/// Example: `pgorm::testing::pgbouncer b{pg, {.pool_mode = "session", .pool_size = 2}};`
struct pgbouncer_options {
  /// PgBouncer's pool_mode: "transaction" (a server connection per transaction), "session" or
  /// "statement".
  std::string pool_mode = "transaction";
  /// default_pool_size: server connections per (database, user) pair.
  int pool_size = 20;
  /// max_client_conn: client connections PgBouncer accepts in all.
  int max_client_conn = 200;
  /// Also listen on 127.0.0.1 (the Unix socket stays). Unix socket only when false.
  bool tcp = false;
  /// Port number (TCP port with tcp, always the number in the socket's file name); 0 picks a
  /// free one (and retries with another if it is taken while starting).
  std::uint16_t port = 0;
  /// Extra `[pgbouncer]` settings (name, value), written after pgorm's own, so they override
  /// them, e.g. {{"server_idle_timeout", "5"}}.
  std::vector<std::pair<std::string, std::string>> settings{};
  /// The pgbouncer program; empty means env PGORM_PGBOUNCER, else `pgbouncer` in PATH, else
  /// /usr/sbin/pgbouncer (Debian's package). With container_version: the program in the image
  /// (empty: /usr/sbin/pgbouncer).
  std::filesystem::path program{};
  /// Run the PgBouncer of pgorm's PostgreSQL container image of this major version instead of
  /// an installed one: "17" (Debian 13) has PgBouncer 1.24, which keeps prepared statements in
  /// transaction mode (`max_prepared_statements`); "15" (Debian 12) has 1.18. Empty: the
  /// installed program. The image is made present as for container_server (cache, or a build
  /// from Debian packages). PgBouncer then runs in a Podman container of its own, sharing the
  /// host's network and process ids (`--network host --pid host`) with its directory (and a
  /// Unix-socket upstream's directory) mounted at the same paths, so everything else here holds
  /// as for a native one. The container is labelled `pgorm.test-server` and removed with it.
  std::string container_version{};
  /// With container_version: the container engine (empty: env PGORM_CONTAINER_ENGINE, else
  /// "podman") and the image script (as container_options::image_script).
  std::string engine{};
  /// With container_version: as container_options::image_script.
  std::filesystem::path image_script{};
  /// When running as root (PgBouncer refuses root): the unprivileged user that runs it, as
  /// server_options::run_as (empty: env PGORM_PG_USER, else "postgres", else "nobody").
  std::string run_as{};
  /// Parent of PgBouncer's directory, as server_options::base_dir.
  std::filesystem::path base_dir{};
  /// How long starting (until a query through PgBouncer succeeds) and stopping may take.
  std::chrono::seconds timeout{30};
};

/// A private PgBouncer process in front of one server: generated config (pgbouncer.ini), its
/// own Unix socket directory and port, logs and pid file in a fresh temporary directory
/// (`<base>/pgorm-pgb-<owner pid>-<random>`), run as an unprivileged user when we are root;
/// stopped and deleted by the destructor.
///
/// - Routing: every database name goes to the database of the same name on the upstream
///   server (`* = host=... port=...`), over the server's Unix socket. Any role of the server can
///   log in: PgBouncer trusts its clients and looks roles up with auth_query as "postgres". So the
///   upstream must let "postgres" in without a password over its socket (server_options::local_auth
///   "trust", the default).
/// - admin_users = postgres: `SHOW POOLS` etc. work on the `pgbouncer` database.
/// - Leftovers: a process that dies without its destructor leaves a PgBouncer behind; every
///   new pgbouncer first stops those whose owner is gone (see reap_stale()).
/// - Move-only; a moved-from object owns nothing.
/// The version of the PgBouncer that `options` would run (its program, or the one in the image
/// of options.container_version), e.g. "1.18.0", without starting it. Throws server_error when
/// it cannot be run (not installed, no container engine, the image cannot be made).
/// Example: `auto v = pgorm::testing::pgbouncer_version({.container_version = "17"});`
PGORM_API std::string pgbouncer_version(const pgbouncer_options& options = {});

/// True when PgBouncer `version` (as pgbouncer_version() gives it) keeps protocol-level
/// prepared statements in transaction mode with `max_prepared_statements` set: 1.21 or later,
/// so that pgorm::pooler_mode::transaction_prepared may be used through it.
/// Example: `pgorm::testing::pgbouncer_keeps_prepared_statements("1.24.1")` is true.
PGORM_API bool pgbouncer_keeps_prepared_statements(std::string_view version);

class PGORM_API pgbouncer {
 public:
  /// Writes the configuration, starts PgBouncer (`pgbouncer -d`) and returns once a query
  /// through it reaches `upstream`. Throws server_error (with PgBouncer's log) on failure,
  /// after stopping and deleting what it created.
  explicit pgbouncer(const server& upstream, pgbouncer_options options = {});
  /// The same in front of any server that lets "postgres" in without a password: `host` is a
  /// Unix socket directory (as in a conninfo) or a host name or address.
  /// Example: `pgorm::testing::pgbouncer b{"/run/postgresql", 5432};`
  pgbouncer(std::string_view upstream_host, std::uint16_t upstream_port,
            pgbouncer_options options = {});

  /// Re-attaches to a PgBouncer whose owner called detach() (or died), given dir(). Throws
  /// server_error when `dir` is not such a directory.
  /// Example: `pgorm::testing::pgbouncer::attach(dir).stop();`
  static pgbouncer attach(const std::filesystem::path& dir);

  /// Stops the PgBouncers (and deletes the directories) in `base_dir` (empty: the default)
  /// whose owner process is gone, sparing detached ones whose anchor file exists. Returns how
  /// many were reaped. Never throws.
  static int reap_stale(const std::filesystem::path& base_dir = {});

  pgbouncer(pgbouncer&& other) noexcept;
  pgbouncer& operator=(pgbouncer&& other) noexcept;
  pgbouncer(const pgbouncer&) = delete;
  pgbouncer& operator=(const pgbouncer&) = delete;
  /// Stops PgBouncer (SIGTERM, then SIGKILL) and deletes its directory, unless detach() was
  /// called. Never throws.
  ~pgbouncer();

  /// Stops PgBouncer (SIGTERM: immediate shutdown, clients are disconnected). No-op when
  /// stopped. Throws server_error when it survives SIGKILL.
  void stop();
  /// Starts it again with the same configuration, port and socket. No-op when running.
  void start();
  /// True while the process recorded in its pid file runs.
  [[nodiscard]] bool running() const;
  /// As server::detach(): the destructor no longer stops it, and reap_stale() spares it while
  /// `anchor` exists (empty: forever). Re-attach with attach(dir()).
  void detach(const std::filesystem::path& anchor = {});

  /// `host=<socket_dir() or 127.0.0.1> port=<port> user=<user> dbname=<dbname>`.
  [[nodiscard]] std::string conninfo(std::string_view dbname = "postgres",
                                     std::string_view user = "postgres") const;
  /// The same as a postgresql:// URL.
  [[nodiscard]] std::string url(std::string_view dbname = "postgres") const;
  /// The port (TCP with tcp; always the number in the socket's file name).
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The temporary directory holding the configuration, log, pid file and socket directory.
  [[nodiscard]] const std::filesystem::path& dir() const noexcept;
  /// Directory of the Unix socket `.s.PGSQL.<port>`.
  [[nodiscard]] std::filesystem::path socket_dir() const;
  /// The generated pgbouncer.ini.
  [[nodiscard]] std::filesystem::path config_file() const;
  /// PgBouncer's log file.
  [[nodiscard]] std::filesystem::path log_file() const;
  /// Process id of PgBouncer, 0 when it is not running (a host pid, in a container too).
  [[nodiscard]] int pid() const;
  /// PgBouncer's version, e.g. "1.24.1" (from `pgbouncer --version`, run in its container when
  /// it runs in one). Throws server_error when it cannot be run.
  /// Example: `bool ok = pgorm::testing::pgbouncer_keeps_prepared_statements(b.version());`
  [[nodiscard]] std::string version() const;

 private:
  struct impl;
  explicit pgbouncer(std::unique_ptr<impl> state) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace pgorm::testing
