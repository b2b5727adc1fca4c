// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A throwaway PostgreSQL server built from the installed server binaries (server), or run in
/// a Podman container of a chosen major version (container_server), for pgorm's own tests, the
/// examples and users' tests. See docs/testing.md.
///
/// Example:
/// ```
/// pgorm::testing::server pg;                        // initdb + start, Unix socket only
/// pgorm::connection conn{pg.conninfo()};            // superuser "postgres", trust auth
/// conn.exec("create table t (id int)");
/// // ~server: stops the postmaster and deletes its directory
/// ```
///
/// Thread safety: one server object may be used by one thread at a time; distinct server
/// objects (in one process or in many) are independent and may run at the same time. The
/// const accessors read only immutable state and may be called concurrently with each other.
/// Construction forks child processes (initdb, pg_ctl): in a multi-threaded program that is
/// safe, because the children only call async-signal-safe functions before exec.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/export.hpp"

namespace pgorm::testing {

/// A throwaway server could not be found, created, started or stopped. what() carries the
/// command's output and the last lines of the server log, which usually name the cause.
class PGORM_API server_error : public pgorm::error {
 public:
  using error::error;
};

/// How to create a throwaway server. Every field has a usable default.
///
/// Example: `pgorm::testing::server pg{{.tcp = true, .settings = {{"max_connections", "20"}}}};`
struct server_options {
  /// Also listen on 127.0.0.1 (the Unix socket stays). Unix socket only when false.
  bool tcp = false;
  /// Port number: with tcp the TCP port, always the number in the socket's file name. 0 picks
  /// a free port (and, with tcp, retries with another one if it is taken while starting).
  std::uint16_t port = 0;
  /// pg_hba.conf method for TCP ("host") connections, e.g. "scram-sha-256" or "md5" to test
  /// password authentication. Set `password` with it.
  std::string host_auth = "trust";
  /// pg_hba.conf method for Unix-socket ("local") connections.
  std::string local_auth = "trust";
  /// Password of the superuser "postgres" (empty: none). conninfo() and url() include it.
  std::string password{};
  /// fsync=off, synchronous_commit=off and full_page_writes=off: fast, and unsafe on a crash,
  /// which a throwaway server does not care about. Benchmarks set false for default durability.
  bool unsafe_fast = true;
  /// Extra postgresql.conf settings (name, value), written in order after pgorm's own, so they
  /// override them. Values are written as given: quote strings yourself ("'on'" is fine too).
  std::vector<std::pair<std::string, std::string>> settings{};
  /// Directory with initdb, pg_ctl and postgres; empty means find_pg_bindir().
  std::filesystem::path bindir{};
  /// When running as root (initdb refuses root): the unprivileged user that owns and runs the
  /// cluster. Empty means env PGORM_PG_USER, else "postgres" if it exists, else "nobody".
  /// Ignored when not root.
  std::string run_as{};
  /// Parent of the cluster's directory; empty means $TMPDIR when it is short enough for a
  /// socket path, else /tmp. Every ancestor must be searchable by the server's user.
  std::filesystem::path base_dir{};
  /// How long pg_ctl waits for the server to accept connections, and for it to stop.
  std::chrono::seconds timeout{60};
};

/// How stop() and restart() shut the server down: `pg_ctl stop -m fast` or `-m immediate`
/// (PostgreSQL docs 19.5, "Shutting Down the Server").
///
/// Example: `pg.restart(pgorm::testing::shutdown_mode::immediate);  // a crash, then recovery`
enum class shutdown_mode {
  /// Sessions are disconnected (their open transactions roll back), then the server writes a
  /// checkpoint and exits. Clients see their connections close.
  fast,
  /// The server and its processes quit at once, without a checkpoint, as in a crash: the next
  /// start() replays the WAL (crash recovery). Committed transactions survive.
  immediate,
};

/// The directory holding initdb, pg_ctl and postgres, searched in this order: env
/// PGORM_PG_BINDIR (which must hold all three, else this throws); `pg_config --bindir`; the
/// directory of `initdb` found in PATH (symlinks resolved); /usr/lib/postgresql/<version>/bin,
/// highest version first; /usr/local/pgsql/bin.
///
/// Throws server_error naming every place it looked when none holds all three programs.
/// Example: `auto dir = pgorm::testing::find_pg_bindir();  // "/usr/lib/postgresql/15/bin"`
PGORM_API std::filesystem::path find_pg_bindir();

/// A private PostgreSQL cluster: created by initdb in a fresh temporary directory
/// (`<base>/pgorm-pg-<owner pid>-<random>`), started with pg_ctl, stopped and deleted by the
/// destructor. The superuser is always "postgres"; the database "postgres" always exists.
///
/// - Root: initdb refuses to run as root, so initdb, pg_ctl and postgres run as the user named
///   by `server_options::run_as` (set via fork + setgid/initgroups/setuid + exec; no sudo).
/// - Leftovers: a process that dies without running the destructor (SIGKILL, a crash, a ctest
///   timeout) leaves its cluster behind. Every new server first reaps such clusters in its
///   base directory: when a cluster's owner process is gone it stops the postmaster recorded in
///   postmaster.pid (SIGQUIT, then SIGKILL) and deletes the directory. See
///   reap_stale_clusters().
/// - Move-only. A moved-from server owns nothing; only destruction and assignment are valid.
///
/// Example:
/// ```
/// pgorm::testing::server pg{{.tcp = true}};
/// pgorm::connection conn{pg.url()};   // postgresql://postgres@127.0.0.1:<port>/postgres
/// ```
class PGORM_API server {
 public:
  /// Finds the binaries, runs initdb, writes the configuration and starts the server; returns
  /// once it accepts connections. Throws server_error (with initdb's output or the last ~20
  /// lines of the server log) on failure, after stopping and deleting what it created.
  explicit server(server_options options = {});

  /// Re-attaches to a cluster whose owner called detach(), given its directory (dir()): the
  /// returned object owns it again, so its destructor stops the server and deletes the
  /// directory. Throws server_error when `dir` is not such a cluster.
  /// Example: `pgorm::testing::server::attach(dir).stop();`
  static server attach(const std::filesystem::path& dir);

  /// Reaps the clusters abandoned in `base_dir` (empty: the default base directory) by
  /// processes that no longer exist, as described on the class. Clusters of live processes
  /// and detached clusters whose anchor file (see detach()) still exists are left alone.
  /// Returns how many were reaped. Never throws for a cluster it cannot delete: it skips it.
  static int reap_stale_clusters(const std::filesystem::path& base_dir = {});

  server(server&& other) noexcept;
  server& operator=(server&& other) noexcept;
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /// Stops the server (pg_ctl stop -m fast, then SIGQUIT/SIGKILL if it does not stop in time)
  /// and deletes its directory, unless detach() was called. Never throws.
  ~server();

  /// Stops the server (pg_ctl stop -m fast, or -m immediate), keeping the cluster. No-op when
  /// stopped. Throws server_error only if the postmaster survives SIGKILL.
  void stop(shutdown_mode mode = shutdown_mode::fast);
  /// Starts the stopped server again on the same port and socket directory. No-op when it is
  /// running. Throws server_error with the last log lines when it does not come up.
  void start();
  /// stop(mode) then start(). Existing connections break; new ones work once this returns.
  void restart(shutdown_mode mode = shutdown_mode::fast);
  /// Kills the postmaster with SIGKILL, as `kill -9` or the kernel's OOM killer would, then
  /// waits until the server processes it started have noticed and exited too (any still alive
  /// after the options' timeout are killed), so that start() can run again. The cluster stays;
  /// start() then runs crash recovery, and committed transactions survive it (with
  /// synchronous_commit on; server_options::unsafe_fast turns it off). No-op when stopped.
  /// Throws server_error when a process survives SIGKILL.
  ///
  /// Example: `pg.crash(); pg.start();  // connections open before crash() are broken`
  void crash();
  /// True while the postmaster recorded in postmaster.pid is alive.
  [[nodiscard]] bool running() const;

  /// Gives up ownership: the destructor no longer stops the server or deletes its directory,
  /// and reap_stale_clusters() spares the cluster, as long as `anchor` exists (pass the file
  /// where you record dir(), so deleting that file makes the cluster reapable again). An empty
  /// anchor spares the cluster forever. Re-attach with attach(dir()).
  void detach(const std::filesystem::path& anchor = {});

  /// libpq key=value connection string for `dbname`:
  /// `host=<socket_dir() or 127.0.0.1> port=<port> user=postgres dbname=<dbname>` (plus
  /// `password=` when one is set). Uses TCP when the server was created with tcp.
  [[nodiscard]] std::string conninfo(std::string_view dbname = "postgres") const;
  /// The same as a postgresql:// URL, e.g. `postgresql://postgres@127.0.0.1:5433/app` or
  /// `postgresql://postgres@/app?host=%2Ftmp%2Fpgorm-pg-...%2Fsocket&port=5433`.
  [[nodiscard]] std::string url(std::string_view dbname = "postgres") const;

  /// Creates database `name` (any characters; it is quoted) through a pgorm::connection.
  /// Throws pgorm::sql_error when the server refuses (e.g. it exists already).
  void create_database(std::string_view name) const;

  /// The port: TCP port with tcp, in every case the number in the socket file's name.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// True when the server listens on 127.0.0.1 too.
  [[nodiscard]] bool tcp() const noexcept;
  /// The cluster's temporary directory, which holds data_dir(), socket_dir() and log_file().
  [[nodiscard]] const std::filesystem::path& dir() const noexcept;
  /// Directory holding the Unix socket `.s.PGSQL.<port>`.
  [[nodiscard]] std::filesystem::path socket_dir() const;
  /// The data directory (PGDATA).
  [[nodiscard]] std::filesystem::path data_dir() const;
  /// The server log (pg_ctl -l), useful when a test fails.
  [[nodiscard]] std::filesystem::path log_file() const;
  /// The directory of the server binaries in use.
  [[nodiscard]] const std::filesystem::path& bindir() const noexcept;
  /// Process id of the postmaster, or 0 when the server is not running.
  [[nodiscard]] int postmaster_pid() const;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> state) noexcept;
  // Fills the new cluster's data directory (as the server's user) instead of running initdb.
  using populate_fn = std::function<void(const std::filesystem::path& data_dir)>;
  server(server_options options, const populate_fn& populate);
  friend server start_replica(const server& primary, server_options options);
  std::unique_ptr<impl> impl_;
};

// ---- container backend ---------------------------------------------------------------------

/// Which server a test run uses, as `PGORM_TEST_SERVER` and `pgorm-test-server --server` spell
/// it: `native` (or empty: a pgorm::testing::server from the installed programs) or
/// `container:<major>` (a pgorm::testing::container_server running that PostgreSQL major
/// version, e.g. `container:17`).
///
/// Example: `auto spec = pgorm::testing::parse_server_spec("container:15");  // spec.version ==
/// "15"`
struct server_spec {
  /// True for `container:<major>`, false for `native`.
  bool container = false;
  /// The PostgreSQL major version of a container (e.g. "17"); empty for native.
  std::string version{};
};

/// Parses `native`, the empty string (native) or `container:<major>`. Throws server_error
/// naming the text when it is neither, or when the major version is not all digits.
PGORM_API server_spec parse_server_spec(std::string_view text);

/// How to create a containerized throwaway server. Every field has a usable default; the
/// fields shared with server_options mean the same.
///
/// Example: `pgorm::testing::container_server pg{{.version = "15"}};`
struct container_options {
  /// PostgreSQL major version: "15" (Debian 12 packages) or "17" (Debian 13 packages).
  std::string version = "17";
  /// TCP port on 127.0.0.1 (the container shares the host's network); 0 picks a free one (and
  /// retries with another if it gets taken while starting).
  std::uint16_t port = 0;
  /// pg_hba.conf method for TCP connections, e.g. "scram-sha-256" with `password`.
  std::string host_auth = "trust";
  /// Password of the superuser "postgres" (empty: none). Passed to the container through the
  /// environment of the engine's process, never on a command line.
  std::string password{};
  /// fsync=off, synchronous_commit=off and full_page_writes=off (and initdb --no-sync).
  bool unsafe_fast = true;
  /// Extra postgresql.conf settings (name, value), written after pgorm's own.
  std::vector<std::pair<std::string, std::string>> settings{};
  /// Image to run; empty means env PGORM_CONTAINER_IMAGE, else the image that
  /// `tools/containers/pgorm-pg-image ensure <version>` makes present (loading it from the
  /// cache directory, or building it from Debian packages on first use: minutes).
  std::string image{};
  /// The image script; empty means env PGORM_CONTAINER_IMAGE_SCRIPT, else the one in the source
  /// tree pgorm was built from.
  std::filesystem::path image_script{};
  /// Container engine program; empty means env PGORM_CONTAINER_ENGINE, else "podman".
  std::string engine{};
  /// OCI runtime passed as `--runtime`; empty means env PGORM_CONTAINER_RUNTIME, else "runc"
  /// when it is installed (crun fails on hosts with hybrid cgroups), else the engine's default.
  std::string runtime{};
  /// Parent of the host-side state directory (as server_options::base_dir).
  std::filesystem::path base_dir{};
  /// How long to wait for the server to accept a query, and for it to stop.
  std::chrono::seconds timeout{60};
  /// How long the image script may take (a first build runs debootstrap and apt-get).
  std::chrono::seconds image_timeout{1200};
};

/// A throwaway PostgreSQL of a chosen major version in a Podman container built from Debian
/// packages (tools/containers/pgorm-pg-image; docs/testing.md, "Containers"). It has the
/// interface of pgorm::testing::server where that makes sense for a container.
///
/// - One container per object, on `--network host` with PostgreSQL on a free port of
///   127.0.0.1: no bridge, iptables chain or network namespace is left on the host. The data
///   directory is a tmpfs inside the container. The constructor returns once `select 1`
///   succeeds over TCP.
/// - State on the host: a directory `<base>/pgorm-ctr-<owner pid>-<random>` (dir()) whose
///   name is also the container's name and its `pgorm.test-server` label. The destructor
///   removes the container (`podman rm -f`) and the directory.
/// - Leftovers: a process that dies without its destructor leaves its container. Every new
///   container_server first reaps containers whose owner process is gone or whose state
///   directory no longer exists (see reap_stale_containers()).
/// - Move-only; thread safety as for server.
///
/// Example:
/// ```
/// pgorm::testing::container_server pg{{.version = "15"}};
/// pgorm::connection conn{pg.conninfo()};  // host=127.0.0.1 port=<free port> user=postgres
/// ```
class PGORM_API container_server {
 public:
  /// Makes the image present, starts the container and waits until a query succeeds. Throws
  /// server_error (with the engine's output and the server log's last lines) on failure,
  /// after removing what it created.
  explicit container_server(container_options options = {});

  /// Re-attaches to a container whose owner called detach() (or died), given dir(). Throws
  /// server_error when `dir` is not such a state directory.
  /// Example: `pgorm::testing::container_server::attach(dir).stop();`
  static container_server attach(const std::filesystem::path& dir);

  /// Removes the containers (and state directories in `base_dir`; empty: the default) of
  /// owners that no longer exist, or whose state directory was deleted. Detached containers
  /// whose anchor file still exists are spared. Returns how many were removed. Never throws;
  /// returns 0 when the engine is not installed.
  static int reap_stale_containers(const std::filesystem::path& base_dir = {},
                                   const std::string& engine = {});

  container_server(container_server&& other) noexcept;
  container_server& operator=(container_server&& other) noexcept;
  container_server(const container_server&) = delete;
  container_server& operator=(const container_server&) = delete;
  /// Removes the container and the state directory, unless detach() was called. Never throws.
  ~container_server();

  /// `pg_ctl stop -m fast` (or immediate) inside the container, which keeps running: start()
  /// brings the same cluster back. No-op when stopped.
  void stop(shutdown_mode mode = shutdown_mode::fast);
  /// Starts the stopped server again on the same port. No-op when running.
  void start();
  /// stop(mode) then start().
  void restart(shutdown_mode mode = shutdown_mode::fast);
  /// SIGKILL to the postmaster inside the container; returns once its processes are gone.
  /// start() then runs crash recovery. No-op when stopped.
  void crash();
  /// True while the postmaster runs.
  [[nodiscard]] bool running() const;

  /// As server::detach(): the destructor no longer removes the container, and the reaper
  /// spares it while `anchor` exists (empty: forever).
  void detach(const std::filesystem::path& anchor = {});

  /// `host=127.0.0.1 port=<port> user=postgres dbname=<dbname>` (plus `password=`).
  [[nodiscard]] std::string conninfo(std::string_view dbname = "postgres") const;
  /// `postgresql://postgres@127.0.0.1:<port>/<dbname>`.
  [[nodiscard]] std::string url(std::string_view dbname = "postgres") const;
  /// Creates database `name` (quoted) through a pgorm::connection.
  void create_database(std::string_view name) const;

  /// The TCP port on 127.0.0.1.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// Always true: a container is reached over TCP.
  [[nodiscard]] bool tcp() const noexcept;
  /// The host-side state directory.
  [[nodiscard]] const std::filesystem::path& dir() const noexcept;
  /// A copy of the server log, fetched from the container by each call (`<dir>/server.log`).
  [[nodiscard]] std::filesystem::path log_file() const;
  /// Process id of the postmaster inside the container (its PID namespace), 0 when stopped.
  [[nodiscard]] int postmaster_pid() const;
  /// The container's name (also dir()'s file name).
  [[nodiscard]] const std::string& container_name() const noexcept;
  /// The image the container runs, e.g. `localhost/pgorm/postgres:17-<recipe>`.
  [[nodiscard]] const std::string& image() const noexcept;
  /// The PostgreSQL major version asked for, e.g. "17".
  [[nodiscard]] const std::string& version() const noexcept;

 private:
  struct impl;
  explicit container_server(std::unique_ptr<impl> state) noexcept;
  std::unique_ptr<impl> impl_;
};

// ---- either backend ------------------------------------------------------------------------

/// The server_spec that env PGORM_TEST_SERVER names (native when unset or empty). Throws
/// server_error for a malformed value, as parse_server_spec().
/// Example: `if (pgorm::testing::server_spec_from_env().container) { /* podman */ }`
PGORM_API server_spec server_spec_from_env();

/// A throwaway server of the backend a server_spec names: a pgorm::testing::server, or a
/// pgorm::testing::container_server of spec.version; for tests that must pass against both
/// (pgorm's fault suite runs against whichever PGORM_TEST_SERVER names). It has the members
/// both backends share. From server_options a container takes port, host_auth, password,
/// unsafe_fast, settings, base_dir and timeout; it always listens on TCP (tcp() is true), and
/// local_auth, bindir and run_as do not apply to it.
///
/// Example:
/// ```
/// pgorm::testing::any_server pg{{.tcp = true}};  // native, or container:17 from the env
/// pgorm::connection conn{pg.conninfo()};
/// pg.restart();  // the same in both backends
/// ```
class PGORM_API any_server {
 public:
  /// Starts the server; throws server_error as the chosen backend's constructor does.
  explicit any_server(server_options options = {},
                      const server_spec& spec = server_spec_from_env());

  any_server(any_server&& other) noexcept;
  any_server& operator=(any_server&& other) noexcept;
  any_server(const any_server&) = delete;
  any_server& operator=(const any_server&) = delete;
  /// Stops and removes the server, as the backend's destructor. Never throws.
  ~any_server();

  /// As server::stop() / container_server::stop().
  void stop(shutdown_mode mode = shutdown_mode::fast);
  /// As server::start().
  void start();
  /// stop(mode) then start().
  void restart(shutdown_mode mode = shutdown_mode::fast);
  /// As server::crash(): SIGKILL to the postmaster; start() then runs crash recovery.
  void crash();
  /// True while the postmaster runs.
  [[nodiscard]] bool running() const;
  /// As server::conninfo().
  [[nodiscard]] std::string conninfo(std::string_view dbname = "postgres") const;
  /// As server::url().
  [[nodiscard]] std::string url(std::string_view dbname = "postgres") const;
  /// As server::create_database().
  void create_database(std::string_view name) const;
  /// The port (TCP, or the number in the socket's name for a native Unix-socket server).
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// True when the server listens on 127.0.0.1 (always for a container).
  [[nodiscard]] bool tcp() const noexcept;
  /// The server log (a container's is copied out by each call).
  [[nodiscard]] std::filesystem::path log_file() const;
  /// True for a container backend.
  [[nodiscard]] bool container() const noexcept;
  /// The native server, or nullptr for a container.
  [[nodiscard]] server* native() noexcept;
  /// The container server, or nullptr for a native one.
  [[nodiscard]] container_server* containerized() noexcept;

 private:
  std::unique_ptr<server> native_;
  std::unique_ptr<container_server> container_;
};

}  // namespace pgorm::testing
