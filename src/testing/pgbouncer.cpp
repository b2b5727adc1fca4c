// SPDX-License-Identifier: MIT
// pgorm::testing::pgbouncer: a PgBouncer (https://www.pgbouncer.org/config.html) with a
// generated configuration in a private temporary directory, daemonized with `pgbouncer -d`
// as an unprivileged user (it refuses to run as root), stopped by signal from its pid file.
#include "pgorm/testing/pgbouncer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.hpp"
#include "os.hpp"
#include "pgorm/connection.hpp"
#include "process.hpp"

namespace pgorm::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace os;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view dir_prefix = "pgorm-pgb-";
constexpr std::string_view state_file_name = "pgorm-pgbouncer.state";
constexpr std::string_view owner_file_name = "owner";
constexpr int log_tail_lines = 20;
constexpr std::size_t max_base_dir_length = 60;  // as server.cpp: room for the socket path

[[noreturn]] void fail(const std::string& message) {
  throw server_error("pgorm::testing::pgbouncer: " + message);
}

fs::path default_base_dir() {
  const fs::path tmpdir = env("TMPDIR");
  if (tmpdir.is_absolute() && tmpdir.string().size() <= max_base_dir_length) {
    std::error_code ec;
    if (fs::is_directory(tmpdir, ec)) return tmpdir;
  }
  return "/tmp";
}

fs::path find_program(const fs::path& requested) {
  if (!requested.empty()) return requested;
  if (const auto from_env = env("PGORM_PGBOUNCER"); !from_env.empty()) return from_env;
  const std::string path_env = env("PATH");
  std::string_view path = path_env;
  while (!path.empty()) {
    const auto colon = path.find(':');
    const fs::path entry = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
    if (!entry.empty() && ::access((entry / "pgbouncer").c_str(), X_OK) == 0) {
      return entry / "pgbouncer";
    }
  }
  if (::access("/usr/sbin/pgbouncer", X_OK) == 0) return "/usr/sbin/pgbouncer";
  fail(
      "cannot find the pgbouncer program (looked at PGORM_PGBOUNCER, PATH and "
      "/usr/sbin/pgbouncer); install it (Debian: apt install pgbouncer; ./dev deps does)");
}

// True when `pid` is a pgbouncer started with the configuration in `dir` (its command line
// names the file): guards every signal sent to a pid read from a pid file.
bool is_pgbouncer_of(int pid, const fs::path& dir) {
  if (pid <= 0 || !process_alive(pid)) return false;
  auto cmdline = read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find((dir / "pgbouncer.ini").string()) != std::string::npos;
}

int read_pid(const fs::path& dir) {
  int pid = 0;
  parse_int(read_file(dir / "pgbouncer.pid"), pid);
  return is_pgbouncer_of(pid, dir) ? pid : 0;
}

// SIGTERM (PgBouncer's immediate shutdown), then SIGKILL. Returns whether it is gone.
bool kill_pgbouncer(const fs::path& dir, std::chrono::milliseconds timeout) {
  const int pid = read_pid(dir);
  if (pid == 0) return true;
  ::kill(pid, SIGTERM);
  if (wait_for_exit(pid, timeout)) return true;
  if (is_pgbouncer_of(pid, dir)) ::kill(pid, SIGKILL);
  return wait_for_exit(pid, 5s);
}

// The owner file: "pid <pid> <start time>" or "detached <anchor>" (as server.cpp's).
bool owner_is_gone(const fs::path& dir) {
  std::error_code ec;
  const auto text = read_file(dir / owner_file_name);
  if (text.empty()) {
    const auto name = dir.filename().string().substr(dir_prefix.size());
    int pid = 0;
    if (!parse_int(name.substr(0, name.find('-')), pid)) return false;
    return !process_alive(pid);
  }
  std::istringstream in(text);
  std::string kind;
  in >> kind;
  if (kind == "detached") {
    std::string anchor;
    std::getline(in >> std::ws, anchor);
    return !anchor.empty() && !fs::exists(fs::path(anchor), ec) && !ec;
  }
  int pid = 0;
  std::uint64_t start = 0;
  in >> pid >> start;
  if (!process_alive(pid)) return true;
  return start != 0 && process_start_time(pid) != 0 && process_start_time(pid) != start;
}

// The first line of `pgbouncer --version` is "PgBouncer 1.24.1": the version.
std::string parse_version(const std::string& output, const std::string& what) {
  const auto lines = split_lines(trim(output));
  constexpr std::string_view prefix = "PgBouncer ";
  if (lines.empty() || !lines.front().starts_with(prefix)) {
    fail(fmt::format("{} --version said no version:\n{}", what, last_lines(output, 5)));
  }
  return trim(lines.front().substr(prefix.size()));
}

// `pgbouncer --version` of an installed program, as `who` (it refuses root).
std::string installed_version(const fs::path& program, const identity& who) {
  const auto r = run({program.string(), "--version"}, who, false, 30s);
  if (r.exit_code != 0) {
    fail(fmt::format("{} --version failed (exit code {}):\n{}", program.string(), r.exit_code,
                     last_lines(r.output, 5)));
  }
  return parse_version(r.output, program.string());
}

// `pgbouncer --version` in a throwaway container of `image`. On the host's network, as every
// container here: the engine's default bridge network would leave firewall chains and
// ip_forward=1 behind on the host (docs/testing.md, "Containers").
std::string image_version(const std::string& engine, const std::string& image,
                          const fs::path& program) {
  std::vector<std::string> args = {engine, "run", "--rm"};
  const auto opts = containers::run_options();
  args.insert(args.end(), opts.begin(), opts.end());
  args.insert(args.end(),
              {"--network", "host", "--entrypoint", program.string(), image, "--version"});
  const auto r = containers::run(args, 60s);
  if (r.exit_code != 0) {
    fail(fmt::format("{} --version in {} failed (exit code {}):\n{}", program.string(), image,
                     r.exit_code, last_lines(r.output, 5)));
  }
  return parse_version(r.output, program.string() + " in " + image);
}

std::string checked_engine(const std::string& requested) {
  auto engine = containers::engine_or_default(requested);
  if (!containers::installed(engine)) {
    fail(fmt::format(
        "the container engine \"{}\" is not installed (./dev deps --containers installs it), "
        "or set PGORM_CONTAINER_ENGINE; pgbouncer_options::container_version needs it",
        engine));
  }
  return engine;
}

void check_container_version(const std::string& version) {
  if (!std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail(fmt::format("bad container_version \"{}\": a PostgreSQL major version such as 17",
                     version));
  }
}

constexpr std::string_view image_program = "/usr/sbin/pgbouncer";

// Removes the container a state file names, if any (best effort: it may be gone already).
void remove_container_of(const fs::path& dir) noexcept {
  try {
    std::string engine;
    std::string image;
    for (const auto& line : split_lines(read_file(dir / state_file_name))) {
      if (line.starts_with("engine=")) engine = line.substr(7);
      if (line.starts_with("image=")) image = line.substr(6);
    }
    if (engine.empty() || image.empty()) return;
    (void)containers::run({engine, "rm", "--force", "--time", "0", dir.filename().string()}, 60s);
  } catch (...) {  // NOLINT(bugprone-empty-catch): best effort, never throws
  }
}

// A value for pgbouncer.ini: as is when plain, else double-quoted for the [databases] line.
std::string ini_value(std::string_view value) {
  for (const char c : value) {
    if (c == ' ' || c == '"' || c == '\'' || c == ';' || c == '#' || c == '=') {
      std::string out = "'";
      for (const char d : value) {
        if (d == '\'') out += '\'';
        out += d;
      }
      return out + "'";
    }
  }
  return std::string(value);
}

}  // namespace

struct pgbouncer::impl {
  fs::path dir;
  fs::path program;
  std::uint16_t port = 0;
  bool tcp = false;
  std::chrono::seconds timeout{30};
  identity who;
  bool owned = true;
  // In a container (pgbouncer_options::container_version): the engine, the image and the
  // upstream's socket directory to mount (empty for TCP). The container is named dir's name.
  std::string engine;
  std::string image;
  std::string mount;

  [[nodiscard]] fs::path socket_dir() const { return dir / "socket"; }
  [[nodiscard]] fs::path config_file() const { return dir / "pgbouncer.ini"; }
  [[nodiscard]] fs::path log_file() const { return dir / "pgbouncer.log"; }
  [[nodiscard]] int pid() const { return read_pid(dir); }

  [[nodiscard]] std::string conninfo(std::string_view dbname, std::string_view user) const {
    const auto host = tcp ? std::string("127.0.0.1") : socket_dir().string();
    return fmt::format("host={} port={} user={} dbname={}", conninfo_value(host), port,
                       conninfo_value(user), conninfo_value(dbname));
  }

  [[nodiscard]] std::string log_tail() const {
    return fmt::format("last lines of {}:\n{}", log_file().string(),
                       last_lines(read_file(log_file()), log_tail_lines));
  }

  void write_state() const {
    write_file_atomically(
        dir / state_file_name,
        fmt::format("program={}\nport={}\ntcp={}\ntimeout={}\nrun_as={}\nengine={}\nimage={}\n"
                    "mount={}\n",
                    program.string(), port, tcp ? 1 : 0, timeout.count(),
                    who.switch_user ? who.name : std::string{}, engine, image, mount),
        "pgorm::testing::pgbouncer");
  }

  void write_config(const std::string& host, std::uint16_t upstream_port,
                    const pgbouncer_options& options) const {
    std::string ini = "; Written by pgorm::testing::pgbouncer; later lines win.\n[databases]\n";
    ini += fmt::format("* = host={} port={}\n\n[pgbouncer]\n", ini_value(host), upstream_port);
    ini += fmt::format("listen_addr = {}\n", tcp ? "127.0.0.1" : "");
    ini += fmt::format("listen_port = {}\n", port);
    ini += fmt::format("unix_socket_dir = {}\n", socket_dir().string());
    ini += fmt::format("logfile = {}\n", log_file().string());
    ini += fmt::format("pidfile = {}\n", (dir / "pgbouncer.pid").string());
    ini += fmt::format("auth_type = trust\nauth_file = {}\nauth_user = postgres\n",
                       (dir / "users.txt").string());
    ini += "admin_users = postgres\nstats_users = postgres\n";
    ini += fmt::format("pool_mode = {}\n", options.pool_mode);
    ini += fmt::format("default_pool_size = {}\n", options.pool_size);
    ini += fmt::format("max_client_conn = {}\n", options.max_client_conn);
    for (const auto& [name, value] : options.settings) {
      ini += fmt::format("{} = {}\n", name, value);
    }
    write_file_atomically(config_file(), ini, "pgorm::testing::pgbouncer");
    give_to(who, config_file());
    // auth_file: "postgres" logs in to the server without a password (trust on its socket)
    // and runs auth_query for every other role.
    write_file_atomically(dir / "users.txt", "\"postgres\" \"\"\n", "pgorm::testing::pgbouncer");
    give_to(who, dir / "users.txt");
  }

  // In the foreground in a container of its own: the engine's `run --detach` returns once it
  // started. With the host's pid namespace, its pid file holds a host pid, as natively.
  void start_in_container() {
    const auto name = dir.filename().string();
    (void)containers::run({engine, "rm", "--force", "--time", "0", name}, 60s);  // a leftover
    std::vector<std::string> args = {engine, "run", "--detach", "--rm", "--name", name};
    const auto opts = containers::run_options();
    args.insert(args.end(), opts.begin(), opts.end());
    args.insert(args.end(),
                {"--label", fmt::format("{}={}", containers::label, dir.string()), "--network",
                 "host", "--pid", "host", "--user", fmt::format("{}:{}", who.uid, who.gid),
                 "--volume", fmt::format("{0}:{0}", dir.string())});
    if (!mount.empty()) args.insert(args.end(), {"--volume", fmt::format("{0}:{0}", mount)});
    args.insert(args.end(), {"--entrypoint", program.string(), image, config_file().string()});
    const auto r = containers::run(args, timeout + 30s);
    if (r.exit_code != 0) {
      fail(fmt::format("{} run {} (pgbouncer) failed{} (exit code {}):\n{}{}", engine, image,
                       r.timed_out ? " by timing out" : "", r.exit_code,
                       last_lines(r.output, log_tail_lines), log_tail()));
    }
  }

  void start() {
    if (image.empty()) {
      const auto result =
          run({program.string(), "-d", config_file().string()}, who, false, timeout);
      if (result.exit_code != 0) {
        fail(fmt::format("pgbouncer did not start (exit code {}):\n{}{}", result.exit_code,
                         last_lines(result.output, log_tail_lines), log_tail()));
      }
    } else {
      start_in_container();
    }
    // -d returns once the daemon forked; wait until it takes a query through to the server.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last_error;
    for (;;) {
      if (pid() != 0) {
        try {
          connect_options o;
          o.connect_timeout = 2s;
          o.query_timeout = 5s;
          o.prepare = false;
          connection c{conninfo("postgres", "postgres"), o};
          (void)c.exec("select 1");
          return;
        } catch (const pgorm::error& e) {
          last_error = e.what();
        }
      } else if (read_file(log_file()).find("FATAL") != std::string::npos) {
        fail(fmt::format("pgbouncer exited while starting:\n{}", log_tail()));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        fail(fmt::format("pgbouncer took no query within {} s (last error: {}):\n{}",
                         timeout.count(), last_error, log_tail()));
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  bool stop(bool force) {
    const bool gone =
        kill_pgbouncer(dir, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (!gone && !force) fail(fmt::format("pgbouncer (pid {}) did not stop", pid()));
    return gone;
  }

  void destroy() noexcept {
    try {
      stop(true);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
    if (!image.empty()) remove_container_of(dir);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

pgbouncer::pgbouncer(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}

// The upstream's Unix socket: it is there whether or not the server listens on TCP.
pgbouncer::pgbouncer(const server& upstream, pgbouncer_options options)
    : pgbouncer((upstream.running() ? upstream.socket_dir() : fs::path{}).string(), upstream.port(),
                std::move(options)) {}

pgbouncer::pgbouncer(std::string_view upstream_host, std::uint16_t upstream_port,
                     pgbouncer_options options)
    : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  const std::string host(upstream_host);
  if (options.container_version.empty()) {
    s.program = find_program(options.program);
  } else {
    check_container_version(options.container_version);
    s.engine = checked_engine(options.engine);
    s.program = options.program.empty() ? fs::path(image_program) : options.program;
    s.image = containers::ensure_image(options.container_version, s.engine, options.image_script,
                                       std::chrono::seconds(1200));
    if (host.starts_with('/')) s.mount = host;
  }
  s.who = resolve_identity(options.run_as);
  s.tcp = options.tcp;
  s.timeout = options.timeout;
  if (host.empty()) fail("the upstream server is not running");

  std::error_code ec;
  fs::path base = options.base_dir.empty() ? default_base_dir() : options.base_dir;
  base = fs::weakly_canonical(fs::absolute(base), ec);
  if (ec || !fs::is_directory(base, ec)) {
    fail(fmt::format("base directory {} does not exist", base.string()));
  }
  if (base.string().size() > max_base_dir_length) {
    fail(fmt::format("base directory {} is too long for a Unix socket path (at most {} bytes)",
                     base.string(), max_base_dir_length));
  }
  reap_stale(base);

  std::string pattern = (base / fmt::format("{}{}-XXXXXX", dir_prefix, ::getpid())).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    fail(fmt::format("mkdtemp({}): {}", pattern, errno_text(errno)));
  }
  s.dir = pattern;
  try {
    write_file_atomically(s.dir / owner_file_name, owner_record_for_self(),
                          "pgorm::testing::pgbouncer");
    give_to(s.who, s.dir);
    if (!accessible_by(s.who, s.dir)) {
      fail(
          fmt::format("user \"{}\" cannot reach {}: every parent directory must be searchable "
                      "by it; pick another pgbouncer_options::base_dir",
                      s.who.name, s.dir.string()));
    }
    if (::mkdir(s.socket_dir().c_str(), 0700) != 0) {
      fail(fmt::format("mkdir {}: {}", s.socket_dir().string(), errno_text(errno)));
    }
    give_to(s.who, s.socket_dir());
    const bool pick_port = options.port == 0;
    for (int attempt = 1;; ++attempt) {
      s.port = pick_port ? free_tcp_port() : options.port;
      s.write_config(host, upstream_port, options);
      s.write_state();
      try {
        s.start();
        break;
      } catch (const server_error&) {
        const auto log = read_file(s.log_file());
        const bool port_taken = log.find("Address already in use") != std::string::npos;
        if (!pick_port || !port_taken || attempt == 5) throw;
        s.stop(true);
        fs::remove(s.log_file(), ec);
      }
    }
  } catch (...) {
    s.destroy();
    throw;
  }
}

pgbouncer pgbouncer::attach(const fs::path& dir) {
  const auto state = read_file(dir / state_file_name);
  if (state.empty()) {
    fail(fmt::format("{} is not a pgorm::testing::pgbouncer directory (no {})", dir.string(),
                     state_file_name));
  }
  const auto owner = read_file(dir / owner_file_name);
  if (!owner.starts_with("detached") && !owner_is_gone(dir)) {
    fail(fmt::format("{} is owned by a live process ({}); it must detach() first", dir.string(),
                     trim(owner)));
  }
  auto s = std::make_unique<impl>();
  s->dir = dir;
  std::string run_as;
  for (const auto& line : split_lines(state)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "program") s->program = value;
    if (key == "port") parse_int(value, s->port);
    if (key == "tcp") s->tcp = value == "1";
    if (key == "run_as") run_as = value;
    if (key == "engine") s->engine = value;
    if (key == "image") s->image = value;
    if (key == "mount") s->mount = value;
    if (key == "timeout") {
      int seconds = 30;
      parse_int(value, seconds);
      s->timeout = std::chrono::seconds(seconds);
    }
  }
  if (s->port == 0 || s->program.empty()) {
    fail(fmt::format("{} is damaged: no port or program", (dir / state_file_name).string()));
  }
  s->who = resolve_identity(run_as);
  write_file_atomically(dir / owner_file_name, owner_record_for_self(),
                        "pgorm::testing::pgbouncer");
  return pgbouncer(std::move(s));
}

int pgbouncer::reap_stale(const fs::path& base_dir) {
  const fs::path base = base_dir.empty() ? default_base_dir() : base_dir;
  int reaped = 0;
  std::error_code ec;
  for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    std::error_code type_ec;
    if (!path.filename().string().starts_with(dir_prefix) || !it->is_directory(type_ec) ||
        it->is_symlink(type_ec)) {
      continue;
    }
    if (!owner_is_gone(path) || !kill_pgbouncer(path, 5s)) continue;
    remove_container_of(path);
    std::error_code rm_ec;
    fs::remove_all(path, rm_ec);
    if (!rm_ec) ++reaped;
  }
  return reaped;
}

pgbouncer::pgbouncer(pgbouncer&& other) noexcept = default;

pgbouncer& pgbouncer::operator=(pgbouncer&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->owned) impl_->destroy();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

pgbouncer::~pgbouncer() {
  if (impl_ && impl_->owned) impl_->destroy();
}

void pgbouncer::stop() { impl_->stop(false); }

void pgbouncer::start() {
  if (impl_->pid() != 0) return;
  impl_->start();
}

bool pgbouncer::running() const { return impl_->pid() != 0; }

void pgbouncer::detach(const fs::path& anchor) {
  std::error_code ec;
  const auto absolute_anchor = anchor.empty() ? fs::path{} : fs::absolute(anchor, ec);
  write_file_atomically(impl_->dir / owner_file_name,
                        fmt::format("detached {}\n", absolute_anchor.string()),
                        "pgorm::testing::pgbouncer");
  impl_->owned = false;
}

std::string pgbouncer::conninfo(std::string_view dbname, std::string_view user) const {
  return impl_->conninfo(dbname, user);
}

std::string pgbouncer::url(std::string_view dbname) const {
  if (impl_->tcp) {
    return fmt::format("postgresql://postgres@127.0.0.1:{}/{}", impl_->port,
                       percent_encode(dbname));
  }
  return fmt::format("postgresql://postgres@/{}?host={}&port={}", percent_encode(dbname),
                     percent_encode(impl_->socket_dir().string()), impl_->port);
}

std::uint16_t pgbouncer::port() const noexcept { return impl_->port; }
const fs::path& pgbouncer::dir() const noexcept { return impl_->dir; }
fs::path pgbouncer::socket_dir() const { return impl_->socket_dir(); }
fs::path pgbouncer::config_file() const { return impl_->config_file(); }
fs::path pgbouncer::log_file() const { return impl_->log_file(); }
int pgbouncer::pid() const { return impl_->pid(); }

std::string pgbouncer::version() const {
  if (impl_->image.empty()) return installed_version(impl_->program, impl_->who);
  const auto r = containers::run(
      {impl_->engine, "exec", impl_->dir.filename().string(), impl_->program.string(), "--version"},
      60s);
  if (r.exit_code == 0) return parse_version(r.output, impl_->program.string());
  return image_version(impl_->engine, impl_->image, impl_->program);  // not running
}

std::string pgbouncer_version(const pgbouncer_options& options) {
  if (options.container_version.empty()) {
    return installed_version(find_program(options.program), resolve_identity(options.run_as));
  }
  check_container_version(options.container_version);
  const auto engine = checked_engine(options.engine);
  const auto image = containers::ensure_image(options.container_version, engine,
                                              options.image_script, std::chrono::seconds(1200));
  return image_version(engine, image,
                       options.program.empty() ? fs::path(image_program) : options.program);
}

bool pgbouncer_keeps_prepared_statements(std::string_view version) {
  // "<major>.<minor>[.<patch>...]": 1.21 added max_prepared_statements.
  int major = 0;
  int minor = 0;
  const auto dot = version.find('.');
  if (dot == std::string_view::npos || !parse_int(version.substr(0, dot), major)) return false;
  auto rest = version.substr(dot + 1);
  rest = rest.substr(0, rest.find_first_not_of("0123456789"));
  if (!parse_int(rest, minor)) return false;
  return major > 1 || (major == 1 && minor >= 21);
}

}  // namespace pgorm::testing
