// SPDX-License-Identifier: MIT
// pgorm::testing::server: initdb + pg_ctl in a private temporary directory. Programs run
// through fork + exec (never a shell), as an unprivileged user when we are root, because
// initdb, pg_ctl and postgres all refuse to run as root (PostgreSQL docs 19.1, "The PostgreSQL
// User Account").
#include "pgorm/testing/server.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.hpp"
#include "pgorm/connection.hpp"
#include "process.hpp"

namespace pgorm::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The helpers both backends share (os.hpp).
using namespace os;  // NOLINT(google-build-using-namespace)

void write_file_atomically(const fs::path& path, std::string_view content) {
  os::write_file_atomically(path, content, "pgorm::testing::server");
}

constexpr std::string_view dir_prefix = "pgorm-pg-";
constexpr std::string_view state_file_name = "pgorm-server.state";
constexpr std::string_view owner_file_name = "owner";
constexpr int log_tail_lines = 20;
// A Unix socket path holds at most 107 bytes (sockaddr_un::sun_path); the cluster adds
// "/pgorm-pg-<pid>-XXXXXX/socket/.s.PGSQL.65535" (at most 47 bytes) to the base directory.
constexpr std::size_t max_base_dir_length = 60;

[[noreturn]] void fail(const std::string& message) {
  throw server_error("pgorm::testing::server: " + message);
}

// Writes through a temporary file and rename(), so a concurrent reader (another process
// reaping stale clusters) sees the old or the new content, never a torn one.

// ---- processes ---------------------------------------------------------------------------

// /proc/<pid>/stat, split after the command name (which may contain spaces and parentheses):
// element 0 is field 3 ("state") of proc(5).

// Alive means: exists and is not a zombie. A postmaster whose parent (pg_ctl) exited is
// re-parented to init, and an init that does not reap would leave it a zombie forever.

// Start time of a process in clock ticks since boot (proc(5) field 22), or 0 when unknown. A
// pid plus its start time names a process even after the pid is reused.

// True when `pid` is a postgres process started for the data directory named `marker`: its
// command line (`postgres -D <data dir>`, from pg_ctl) contains the marker. Guards every
// signal we send to a pid read from an old postmaster.pid, which may belong to anyone by now.
bool is_postmaster_of(int pid, std::string_view marker) {
  if (!process_alive(pid)) return false;
  auto cmdline = read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(marker) != std::string::npos;
}

// The live children of `parent` (proc(5) field 4, "ppid"), each with its start time, which
// names it even after it is re-parented or its pid is reused.
std::vector<std::pair<int, std::uint64_t>> child_processes(int parent) {
  std::vector<std::pair<int, std::uint64_t>> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!parse_int(entry.path().filename().string(), pid)) continue;
    const auto fields = proc_stat_fields(pid);
    int ppid = 0;
    if (fields.size() > 19 && parse_int(fields[1], ppid) && ppid == parent) {
      std::uint64_t start = 0;
      parse_int(fields[19], start);
      children.emplace_back(pid, start);
    }
  }
  return children;
}

// ---- binaries ----------------------------------------------------------------------------

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

bool has_server_binaries(const fs::path& dir) {
  return !dir.empty() && is_executable_file(dir / "initdb") && is_executable_file(dir / "pg_ctl") &&
         is_executable_file(dir / "postgres");
}

std::vector<int> version_key(const std::string& name) {
  std::vector<int> key;
  std::string_view rest = name;
  while (!rest.empty()) {
    int part = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), part);
    if (ec != std::errc{}) break;
    key.push_back(part);
    rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
    if (rest.empty() || rest.front() != '.') break;
    rest.remove_prefix(1);
  }
  return key;
}

// ---- the cluster's files -----------------------------------------------------------------

fs::path default_base_dir() {
  const fs::path tmpdir = env("TMPDIR");
  if (tmpdir.is_absolute() && tmpdir.string().size() <= max_base_dir_length) {
    std::error_code ec;
    if (fs::is_directory(tmpdir, ec)) return tmpdir;
  }
  return "/tmp";
}

// postmaster.pid, as PostgreSQL writes it (src/include/utils/pidfile.h): line 1 the pid,
// line 7 "<shmem key> <shmem id>".
struct pid_file {
  int pid = 0;
  int shm_id = -1;
};

pid_file read_pid_file(const fs::path& data_dir) {
  pid_file result;
  const auto lines = split_lines(read_file(data_dir / "postmaster.pid"));
  if (!lines.empty()) parse_int(lines[0], result.pid);
  if (lines.size() >= 7) {
    std::istringstream in(lines[6]);
    long key = 0;
    int id = -1;
    if (in >> key >> id) result.shm_id = id;
  }
  return result;
}

// Stops the postmaster of a cluster we do not (or no longer) control through pg_ctl: SIGQUIT
// is PostgreSQL's "immediate shutdown" (docs 19.5), which still removes shared memory; SIGKILL
// follows if it does not exit. Returns whether no such postmaster is left.
bool kill_postmaster(const fs::path& data_dir, std::string_view marker) {
  const auto pf = read_pid_file(data_dir);
  if (!is_postmaster_of(pf.pid, marker)) return true;
  ::kill(pf.pid, SIGQUIT);
  if (!wait_for_exit(pf.pid, 5s)) {
    ::kill(pf.pid, SIGKILL);
    if (!wait_for_exit(pf.pid, 5s)) return false;
    // A SIGKILLed postmaster leaves its System V segment behind; remove it once unused.
    shmid_ds info{};
    if (pf.shm_id >= 0 && ::shmctl(pf.shm_id, IPC_STAT, &info) == 0 && info.shm_nattch == 0) {
      ::shmctl(pf.shm_id, IPC_RMID, nullptr);
    }
  }
  return true;
}

// The owner file says who owns a cluster: "pid <pid> <start time>" or "detached <anchor>".

bool owner_is_gone(const fs::path& dir) {
  std::error_code ec;
  const auto text = read_file(dir / owner_file_name);
  if (text.empty()) {
    // Not written yet (the owner is between mkdtemp and writing it) or lost: judge by the
    // pid in the directory's name, pgorm-pg-<pid>-<random>.
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

}  // namespace

// ---- find_pg_bindir ----------------------------------------------------------------------

fs::path find_pg_bindir() {
  std::vector<std::string> tried;

  if (const auto from_env = env("PGORM_PG_BINDIR"); !from_env.empty()) {
    if (has_server_binaries(from_env)) return from_env;
    fail(fmt::format("PGORM_PG_BINDIR={} does not contain initdb, pg_ctl and postgres", from_env));
  }

  try {
    const auto result = run({"pg_config", "--bindir"}, current_identity(), true);
    const fs::path dir = trim(result.output);
    if (result.exit_code == 0 && has_server_binaries(dir)) return dir;
    tried.push_back(fmt::format("pg_config --bindir ({})", dir.string()));
  } catch (const server_error&) {
    tried.emplace_back("pg_config --bindir (no pg_config in PATH)");
  }

  const std::string path_env = env("PATH");
  std::string_view path = path_env;
  while (!path.empty()) {
    const auto colon = path.find(':');
    const fs::path entry = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
    if (entry.empty() || !is_executable_file(entry / "initdb")) continue;
    std::error_code ec;
    // initdb in PATH may be a symlink (e.g. /usr/local/bin/initdb) into the real bindir.
    const auto real = fs::canonical(entry / "initdb", ec).parent_path();
    if (!ec && has_server_binaries(real)) return real;
    if (has_server_binaries(entry)) return entry;
  }
  tried.emplace_back("initdb in PATH");

  std::vector<std::pair<std::vector<int>, fs::path>> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    versions.emplace_back(version_key(entry.path().filename().string()), entry.path() / "bin");
  }
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [key, dir] : versions) {
    if (has_server_binaries(dir)) return dir;
  }
  tried.emplace_back("/usr/lib/postgresql/*/bin");
  if (has_server_binaries("/usr/local/pgsql/bin")) return "/usr/local/pgsql/bin";
  tried.emplace_back("/usr/local/pgsql/bin");

  std::string where;
  for (const auto& t : tried) where += "\n  - " + t;
  fail(
      "cannot find the PostgreSQL server programs (initdb, pg_ctl, postgres); install them "
      "(e.g. apt install postgresql) or set PGORM_PG_BINDIR. Looked at:" +
      where);
}

// ---- server ------------------------------------------------------------------------------

struct server::impl {
  fs::path dir;
  fs::path bindir;
  std::uint16_t port = 0;
  bool tcp = false;
  std::string password;
  std::chrono::seconds timeout{60};
  identity who;
  bool owned = true;

  [[nodiscard]] fs::path data_dir() const { return dir / "data"; }
  [[nodiscard]] fs::path socket_dir() const { return dir / "socket"; }
  [[nodiscard]] fs::path log_file() const { return dir / "server.log"; }
  [[nodiscard]] std::string marker() const { return dir.filename().string(); }

  [[nodiscard]] int postmaster_pid() const {
    const auto pf = read_pid_file(data_dir());
    return is_postmaster_of(pf.pid, marker()) ? pf.pid : 0;
  }

  command_result pg_ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), (bindir / "pg_ctl").string());
    return run(args, who);
  }

  [[nodiscard]] std::string log_tail() const {
    return fmt::format("last lines of {}:\n{}", log_file().string(),
                       last_lines(read_file(log_file()), log_tail_lines));
  }

  void write_state() const {
    write_file_atomically(dir / state_file_name,
                          fmt::format("bindir={}\nport={}\ntcp={}\ntimeout={}\nrun_as={}\n"
                                      "password={}\n",
                                      bindir.string(), port, tcp ? 1 : 0, timeout.count(),
                                      who.switch_user ? who.name : std::string{}, password));
  }

  void write_config(const server_options& options) const {
    std::string conf = "# Written by pgorm::testing::server; later lines win.\n";
    conf += fmt::format("listen_addresses = {}\n", conf_quote(tcp ? "127.0.0.1" : ""));
    conf += fmt::format("port = {}\n", port);
    conf += fmt::format("unix_socket_directories = {}\n", conf_quote(socket_dir().string()));
    if (options.unsafe_fast) {
      // Durability is pointless for a cluster deleted at exit (docs 20.5, "Write Ahead Log").
      conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
    }
    for (const auto& [name, value] : options.settings) {
      conf += fmt::format("{} = {}\n", name, value);
    }
    const auto path = data_dir() / "pgorm.conf";
    write_file_atomically(path, conf);
    give_to(who, path);
  }

  void start() {
    const auto result = pg_ctl({"start", "-w", "-t", std::to_string(timeout.count()), "-D",
                                data_dir().string(), "-l", log_file().string()});
    if (result.exit_code == 0 && postmaster_pid() != 0) return;
    fail(fmt::format("postgres did not start (pg_ctl exit code {}):\n{}{}", result.exit_code,
                     last_lines(result.output, log_tail_lines), log_tail()));
  }

  // Stops the postmaster; with `force`, never throws and goes straight to signals when pg_ctl
  // fails. Returns whether it is gone.
  bool stop(bool force, shutdown_mode mode = shutdown_mode::fast) {
    const int pid = postmaster_pid();
    if (pid == 0) return true;
    std::string output;
    try {
      const char* m = mode == shutdown_mode::immediate ? "immediate" : "fast";
      const auto result = pg_ctl({"stop", "-w", "-m", m, "-t", std::to_string(timeout.count()),
                                  "-D", data_dir().string()});
      output = result.output;
    } catch (const server_error& e) {
      if (!force) throw;
      output = e.what();
    }
    // pg_ctl returns once postmaster.pid is gone, just before the process exits.
    if (wait_for_exit(pid, 5s)) return true;
    const bool gone = kill_postmaster(data_dir(), marker());
    if (!gone && !force) {
      fail(fmt::format("postgres (pid {}) did not stop:\n{}{}", pid,
                       last_lines(output, log_tail_lines), log_tail()));
    }
    return gone;
  }

  // SIGKILL to the postmaster, then waits for its children, which notice its death and exit
  // (PostgreSQL checks for it in every wait); survivors are killed once `timeout` is over. The
  // System V segment they shared is removed once nobody is attached, as a crash would leave it
  // and as the next start requires (a segment still in use refuses the start).
  void crash() {
    const auto pf = read_pid_file(data_dir());
    if (!is_postmaster_of(pf.pid, marker())) return;
    const auto children = child_processes(pf.pid);
    ::kill(pf.pid, SIGKILL);
    if (!wait_for_exit(pf.pid, 5s)) {
      fail(fmt::format("postgres (pid {}) survived SIGKILL", pf.pid));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& [pid, start_time] : children) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (wait_for_exit(pid, std::max(left, std::chrono::milliseconds(0)))) continue;
      if (process_start_time(pid) == start_time) ::kill(pid, SIGKILL);
      if (!wait_for_exit(pid, 5s)) {
        fail(fmt::format("server process {} survived SIGKILL after its postmaster died", pid));
      }
    }
    shmid_ds info{};
    while (pf.shm_id >= 0 && ::shmctl(pf.shm_id, IPC_STAT, &info) == 0) {
      if (info.shm_nattch == 0) {
        ::shmctl(pf.shm_id, IPC_RMID, nullptr);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        fail(fmt::format("the shared memory of the killed postgres (pid {}) is still in use",
                         pf.pid));
      }
      std::this_thread::sleep_for(5ms);
    }
    // The stale lock files name the dead postmaster. PostgreSQL ignores one whose pid is gone,
    // but a killed postmaster stays a zombie where nothing reaps orphans (a container's init),
    // and kill(pid, 0) succeeds on a zombie: the next start would refuse ("lock file
    // postmaster.pid already exists", the same for the socket's). It is dead: its locks go.
    std::error_code ec;
    fs::remove(data_dir() / "postmaster.pid", ec);
    fs::remove(socket_dir() / fmt::format(".s.PGSQL.{}.lock", port), ec);
  }

  // initdb into data_dir(): superuser "postgres", the options' authentication methods.
  void init_data_dir(const server_options& options) const {
    std::error_code ec;
    std::vector<std::string> initdb = {(bindir / "initdb").string(),
                                       "-D",
                                       data_dir().string(),
                                       "-A",
                                       "trust",
                                       "--auth-local=" + options.local_auth,
                                       "--auth-host=" + options.host_auth,
                                       "-E",
                                       "UTF8",
                                       "--locale=C",
                                       "-U",
                                       "postgres"};
    if (options.unsafe_fast) initdb.emplace_back("--no-sync");
    const auto pwfile = dir / "pwfile";
    if (!password.empty()) {
      write_file_atomically(pwfile, password + "\n");
      give_to(who, pwfile);
      initdb.push_back("--pwfile=" + pwfile.string());
    }
    const auto result = run(initdb, who);
    fs::remove(pwfile, ec);
    if (result.exit_code != 0) {
      fail(fmt::format("initdb failed (exit code {}):\n{}", result.exit_code,
                       last_lines(result.output, log_tail_lines)));
    }
  }

  void destroy() noexcept {
    try {
      stop(true);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

server::server(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}

server::server(server_options options) : server(std::move(options), populate_fn{}) {}

server::server(server_options options, const populate_fn& populate)
    : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.bindir = options.bindir.empty() ? find_pg_bindir() : options.bindir;
  if (!has_server_binaries(s.bindir)) {
    fail(fmt::format("{} does not contain initdb, pg_ctl and postgres", s.bindir.string()));
  }
  s.who = resolve_identity(options.run_as);
  s.tcp = options.tcp;
  s.password = options.password;
  s.timeout = options.timeout;

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
  reap_stale_clusters(base);

  std::string pattern = (base / fmt::format("{}{}-XXXXXX", dir_prefix, ::getpid())).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    fail(fmt::format("mkdtemp({}): {}", pattern, errno_text(errno)));
  }
  s.dir = pattern;

  try {
    write_file_atomically(s.dir / owner_file_name, owner_record_for_self());
    give_to(s.who, s.dir);
    if (!accessible_by(s.who, s.dir)) {
      fail(
          fmt::format("user \"{}\" cannot reach {}: every parent directory must be searchable "
                      "by it; pick another server_options::base_dir",
                      s.who.name, s.dir.string()));
    }

    if (populate) {
      // A data directory made otherwise (pg_basebackup for a replica), as the server's user.
      populate(s.data_dir());
    } else {
      s.init_data_dir(options);
    }

    if (::mkdir(s.socket_dir().c_str(), 0700) != 0) {
      fail(fmt::format("mkdir {}: {}", s.socket_dir().string(), errno_text(errno)));
    }
    give_to(s.who, s.socket_dir());
    if (read_file(s.data_dir() / "postgresql.conf").find("include 'pgorm.conf'") ==
        std::string::npos) {
      std::ofstream conf(s.data_dir() / "postgresql.conf", std::ios::app);
      conf << "\ninclude 'pgorm.conf'\n";
      if (!conf.flush()) fail("cannot append to postgresql.conf");
    }

    // A port picked by free_tcp_port() can be taken by someone else before the postmaster
    // binds it; then pick another, a few times.
    const bool pick_port = options.port == 0;
    for (int attempt = 1;; ++attempt) {
      s.port = pick_port ? free_tcp_port() : options.port;
      s.write_config(options);
      s.write_state();
      try {
        s.start();
        break;
      } catch (const server_error&) {
        const auto log = read_file(s.log_file());
        const bool port_taken =
            log.find("could not bind") != std::string::npos ||
            log.find("is another postmaster already running on port") != std::string::npos;
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

server server::attach(const fs::path& dir) {
  const auto state = read_file(dir / state_file_name);
  if (state.empty()) {
    fail(fmt::format("{} is not a pgorm::testing::server cluster (no {})", dir.string(),
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
    if (key == "bindir") s->bindir = value;
    if (key == "port") parse_int(value, s->port);
    if (key == "tcp") s->tcp = value == "1";
    if (key == "password") s->password = value;
    if (key == "run_as") run_as = value;
    if (key == "timeout") {
      int seconds = 60;
      parse_int(value, seconds);
      s->timeout = std::chrono::seconds(seconds);
    }
  }
  if (s->port == 0 || !has_server_binaries(s->bindir)) {
    fail(fmt::format("{} is damaged: bad port or bindir", (dir / state_file_name).string()));
  }
  s->who = resolve_identity(run_as);
  write_file_atomically(dir / owner_file_name, owner_record_for_self());
  return server(std::move(s));
}

int server::reap_stale_clusters(const fs::path& base_dir) {
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
    if (!owner_is_gone(path)) continue;
    if (!kill_postmaster(path / "data", path.filename().string())) continue;
    std::error_code rm_ec;
    fs::remove_all(path, rm_ec);
    if (!rm_ec) ++reaped;
  }
  return reaped;
}

server::server(server&& other) noexcept = default;

server& server::operator=(server&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->owned) impl_->destroy();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

server::~server() {
  if (impl_ && impl_->owned) impl_->destroy();
}

void server::stop(shutdown_mode mode) { impl_->stop(false, mode); }

void server::start() {
  if (impl_->postmaster_pid() != 0) return;
  impl_->start();
}

void server::restart(shutdown_mode mode) {
  stop(mode);
  start();
}

void server::crash() { impl_->crash(); }

bool server::running() const { return impl_->postmaster_pid() != 0; }

void server::detach(const fs::path& anchor) {
  std::error_code ec;
  const auto absolute_anchor = anchor.empty() ? fs::path{} : fs::absolute(anchor, ec);
  write_file_atomically(impl_->dir / owner_file_name,
                        fmt::format("detached {}\n", absolute_anchor.string()));
  impl_->owned = false;
}

std::string server::conninfo(std::string_view dbname) const {
  const auto host = impl_->tcp ? std::string("127.0.0.1") : impl_->socket_dir().string();
  auto info = fmt::format("host={} port={} user=postgres dbname={}", conninfo_value(host),
                          impl_->port, conninfo_value(dbname));
  if (!impl_->password.empty()) info += " password=" + conninfo_value(impl_->password);
  return info;
}

std::string server::url(std::string_view dbname) const {
  const auto user = impl_->password.empty() ? std::string("postgres")
                                            : "postgres:" + percent_encode(impl_->password);
  if (impl_->tcp) {
    return fmt::format("postgresql://{}@127.0.0.1:{}/{}", user, impl_->port,
                       percent_encode(dbname));
  }
  return fmt::format("postgresql://{}@/{}?host={}&port={}", user, percent_encode(dbname),
                     percent_encode(impl_->socket_dir().string()), impl_->port);
}

void server::create_database(std::string_view name) const {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  pgorm::connection conn{conninfo()};
  conn.exec("create database " + quoted);
}

std::uint16_t server::port() const noexcept { return impl_->port; }
bool server::tcp() const noexcept { return impl_->tcp; }
const fs::path& server::dir() const noexcept { return impl_->dir; }
fs::path server::socket_dir() const { return impl_->socket_dir(); }
fs::path server::data_dir() const { return impl_->data_dir(); }
fs::path server::log_file() const { return impl_->log_file(); }
const fs::path& server::bindir() const noexcept { return impl_->bindir; }
int server::postmaster_pid() const { return impl_->postmaster_pid(); }

}  // namespace pgorm::testing
