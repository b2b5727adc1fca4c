// SPDX-License-Identifier: MIT
// pgorm::testing::container_server: PostgreSQL in a Podman container built from Debian
// packages (tools/containers/). Every engine command runs through fork + exec (never a shell)
// with a deadline; the password reaches the container through the engine's environment.
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers.hpp"
#include "os.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/testing/server.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in a header

namespace pgorm::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The helpers both backends share (os.hpp).
using namespace os;  // NOLINT(google-build-using-namespace)

void write_file_atomically(const fs::path& path, std::string_view content) {
  os::write_file_atomically(path, content, "pgorm::testing::container_server");
}

constexpr std::string_view dir_prefix = "pgorm-ctr-";
constexpr std::string_view label = "pgorm.test-server";
constexpr std::string_view state_file_name = "pgorm-container.state";
constexpr std::string_view owner_file_name = "owner";
constexpr std::string_view entry_point = "/usr/local/bin/pgorm-postgres";
constexpr int log_tail_lines = 20;
constexpr std::chrono::seconds engine_timeout{60};

[[noreturn]] void fail(const std::string& message) {
  throw server_error("pgorm::testing::container_server: " + message);
}

// ---- processes ---------------------------------------------------------------------------

// The owner file: "pid <pid> <start time>" or "detached <anchor>", as for native clusters.
bool owner_is_gone(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return true;
  const auto text = read_file(dir / owner_file_name);
  if (text.empty()) {
    // Not written yet, or lost: judge by the pid in the name, pgorm-ctr-<pid>-<random>.
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

struct command_result {
  int exit_code = -1;  // -1: killed by a signal (or by the deadline)
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

[[noreturn]] void child_fail(int err_fd, int err) {
  [[maybe_unused]] const auto written = ::write(err_fd, &err, sizeof err);
  ::_exit(127);
}

// Runs `args` (searched in PATH) with `extra_env` added to our environment, stdin from
// /dev/null, output captured in an anonymous file (the engine's daemon-like helpers, conmon,
// may keep a pipe open forever; a file needs no reader). Killed when `timeout` passes. Throws
// server_error only when the program cannot be started at all.
command_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                   const std::vector<std::string>& extra_env = {}) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(extra_env.begin(), extra_env.end(),
                                      [&](const std::string& x) { return x.starts_with(name); });
    if (!replaced) env_strings.emplace_back(entry);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::FILE* out_file = std::tmpfile();
  if (out_file == nullptr) fail(fmt::format("tmpfile(): {}", errno_text(errno)));
  const fd_guard out{::dup(::fileno(out_file))};
  std::fclose(out_file);
  const fd_guard in{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
  std::array<int, 2> err_pipe{};
  if (out.fd < 0 || in.fd < 0 || ::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    fail(fmt::format("cannot prepare to run {}: {}", args[0], errno_text(errno)));
  }
  const fd_guard err_read{err_pipe[0]};
  fd_guard err_write{err_pipe[1]};

  const pid_t pid = ::fork();
  if (pid < 0) fail(fmt::format("fork(): {}", errno_text(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (::dup2(in.fd, 0) < 0 || ::dup2(out.fd, 1) < 0 || ::dup2(out.fd, 2) < 0) {
      child_fail(err_write.fd, errno);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD}) {
      ::signal(sig, SIG_DFL);
    }
    // A new process group, so that the deadline kills the engine's children too.
    ::setpgid(0, 0);
    // Keep our descriptors (ctest's pipes above all) out of conmon, which outlives us.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execvpe(argv[0], argv.data(), envp.data());
    child_fail(err_write.fd, errno);
  }
  ::close(err_write.fd);
  err_write.fd = -1;
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(err_read.fd, &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);

  command_result result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (auto pause = 1ms;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) fail(fmt::format("waitpid(): {}", errno_text(errno)));
    if (std::chrono::steady_clock::now() >= deadline && !result.timed_out) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    fail(fmt::format("cannot run {}: {}", args[0], errno_text(child_errno)));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::array<char, 4096> buffer{};
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(out.fd, buffer.data(), buffer.size(), offset);
    if (n <= 0) break;
    result.output.append(buffer.data(), static_cast<std::size_t>(n));
    offset += n;
  }
  return result;
}

bool in_path(const std::string& program) {
  const auto path = env("PATH");
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (!dir.empty() && ::access((dir / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string engine_or_default(const std::string& engine) {
  if (!engine.empty()) return engine;
  if (auto from_env = env("PGORM_CONTAINER_ENGINE"); !from_env.empty()) return from_env;
  return "podman";
}

std::string runtime_or_default(const std::string& runtime) {
  if (!runtime.empty()) return runtime;
  if (const char* from_env = std::getenv("PGORM_CONTAINER_RUNTIME")) return from_env;
  return in_path("runc") || ::access("/usr/sbin/runc", X_OK) == 0 ? "runc" : "";
}

fs::path default_base_dir() {
  const fs::path tmpdir = env("TMPDIR");
  std::error_code ec;
  if (tmpdir.is_absolute() && fs::is_directory(tmpdir, ec)) return tmpdir;
  return "/tmp";
}

fs::path image_script_or_default(const fs::path& script) {
  if (!script.empty()) return script;
  if (auto from_env = env("PGORM_CONTAINER_IMAGE_SCRIPT"); !from_env.empty()) return from_env;
  // This file is <source>/src/testing/container_server.cpp.
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "tools" / "containers" /
         "pgorm-pg-image";
}

// The limits the container asks for: Podman's defaults (a million open files) exceed what
// root may set on some hosts ("setrlimit ... Operation not permitted"), so ask for ours.
std::string ulimit(int resource, const char* name, rlim_t cap) {
  rlimit limit{};
  rlim_t value = cap;
  if (::getrlimit(resource, &limit) == 0 && limit.rlim_max != RLIM_INFINITY) {
    value = std::min(limit.rlim_max, cap);
  }
  return fmt::format("{}={}:{}", name, value, value);
}

std::uint16_t free_tcp_port() {
  const fd_guard sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) fail(fmt::format("socket(): {}", errno_text(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail(fmt::format("cannot find a free port on 127.0.0.1: {}", errno_text(errno)));
  }
  return ntohs(addr.sin_port);
}

bool valid_setting_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
  });
}

}  // namespace

// ---- server_spec -------------------------------------------------------------------------

server_spec parse_server_spec(std::string_view text) {
  const auto t = trim(text);
  if (t.empty() || t == "native") return {};
  constexpr std::string_view prefix = "container:";
  if (t.starts_with(prefix)) {
    const auto version = t.substr(prefix.size());
    if (!version.empty() &&
        std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return {.container = true, .version = version};
    }
  }
  throw server_error(fmt::format(
      "pgorm::testing: bad server \"{}\": expected \"native\" or \"container:<major version>\", "
      "e.g. container:17",
      t));
}

// ---- container_server --------------------------------------------------------------------

struct container_server::impl {
  fs::path dir;
  std::string name;
  std::string engine;
  std::string image;
  std::string version;
  std::string password;
  std::uint16_t port = 0;
  std::chrono::seconds timeout{60};
  bool owned = true;

  command_result engine_run(std::vector<std::string> args,
                            std::chrono::milliseconds limit = engine_timeout,
                            const std::vector<std::string>& extra_env = {}) const {
    args.insert(args.begin(), engine);
    return run(args, limit, extra_env);
  }

  // `pgorm-postgres <args>` inside the container.
  command_result control(const std::vector<std::string>& args,
                         std::chrono::milliseconds limit) const {
    std::vector<std::string> cmd = {"exec", name, std::string(entry_point)};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return engine_run(cmd, limit);
  }

  [[nodiscard]] bool container_running() const {
    const auto r = engine_run({"inspect", "--format", "{{.State.Running}}", name});
    return r.exit_code == 0 && trim(r.output) == "true";
  }

  [[nodiscard]] std::string log_text() const {
    auto r = engine_run({"exec", name, "cat", "/var/lib/postgresql/server.log"});
    if (r.exit_code == 0) return r.output;
    // The container has exited: what it printed (initdb's and pg_ctl's errors) is all there is.
    r = engine_run({"logs", name});
    return r.output;
  }

  [[nodiscard]] std::string log_tail() const {
    return fmt::format("last lines of the server log (container {}):\n{}", name,
                       last_lines(log_text(), log_tail_lines));
  }

  [[nodiscard]] std::string conninfo(std::string_view dbname) const {
    auto info =
        fmt::format("host=127.0.0.1 port={} user=postgres dbname={}", port, conninfo_value(dbname));
    if (!password.empty()) info += " password=" + conninfo_value(password);
    return info;
  }

  [[nodiscard]] int postmaster_pid() const {
    const auto r = control({"pid"}, engine_timeout);
    int pid = 0;
    if (r.exit_code != 0 || !parse_int(r.output, pid)) return 0;
    return pid;
  }

  // Polls with a real query: pg_isready (and a listening socket) can come before logins work.
  // Returns the last connection error when the deadline passes or the container exits.
  std::optional<std::string> wait_until_ready() const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last_error = "no attempt";
    for (int attempt = 0;; ++attempt) {
      try {
        pgorm::connection conn{conninfo("postgres"), {.connect_timeout = 3s}};
        conn.exec("select 1");
        return std::nullopt;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      if (std::chrono::steady_clock::now() >= deadline) return last_error;
      if (attempt % 10 == 9 && !container_running()) return "the container exited";
      std::this_thread::sleep_for(100ms);
    }
  }

  void write_state() const {
    write_file_atomically(
        dir / state_file_name,
        fmt::format("name={}\nengine={}\nimage={}\nversion={}\nport={}\n"
                    "timeout={}\npassword={}\n",
                    name, engine, image, version, port, timeout.count(), password));
  }

  void remove_container() const noexcept {
    try {
      engine_run({"rm", "--force", "--time", "0", name});
    } catch (...) {  // NOLINT(bugprone-empty-catch): never throws
    }
  }

  void destroy() noexcept {
    remove_container();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void start_server() {
    const auto r = control({"start", std::to_string(timeout.count())}, timeout + 30s);
    if (r.exit_code != 0) {
      fail(fmt::format("postgres did not start in container {} (exit code {}):\n{}{}", name,
                       r.exit_code, last_lines(r.output, log_tail_lines), log_tail()));
    }
    if (auto error = wait_until_ready()) {
      fail(fmt::format("postgres in container {} accepts no query: {}\n{}", name, *error,
                       log_tail()));
    }
  }

  void stop_server(shutdown_mode mode) {
    if (postmaster_pid() == 0) return;
    const char* m = mode == shutdown_mode::immediate ? "immediate" : "fast";
    const auto r = control({"stop", m, std::to_string(timeout.count())}, timeout + 30s);
    if (r.exit_code != 0 && postmaster_pid() != 0) {
      fail(fmt::format("postgres in container {} did not stop (exit code {}):\n{}{}", name,
                       r.exit_code, last_lines(r.output, log_tail_lines), log_tail()));
    }
  }
};

container_server::container_server(std::unique_ptr<impl> state) noexcept
    : impl_(std::move(state)) {}

container_server::container_server(container_options options) : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.engine = engine_or_default(options.engine);
  s.version = options.version;
  s.password = options.password;
  s.timeout = options.timeout;
  if (s.version.empty() || !std::all_of(s.version.begin(), s.version.end(),
                                        [](char c) { return c >= '0' && c <= '9'; })) {
    fail(fmt::format("bad PostgreSQL version \"{}\": a major version such as 17", s.version));
  }
  for (const auto& [name, value] : options.settings) {
    if (!valid_setting_name(name) || value.find('\n') != std::string::npos) {
      fail(fmt::format("bad setting \"{}\": a name of [A-Za-z0-9_.] and a one-line value", name));
    }
  }
  if (!in_path(s.engine) && !fs::path(s.engine).is_absolute()) {
    fail(fmt::format(
        "the container engine \"{}\" is not installed (./dev deps --containers installs "
        "podman, runc and debootstrap), or set PGORM_CONTAINER_ENGINE",
        s.engine));
  }

  std::error_code ec;
  fs::path base = options.base_dir.empty() ? default_base_dir() : options.base_dir;
  base = fs::weakly_canonical(fs::absolute(base), ec);
  if (ec || !fs::is_directory(base, ec)) {
    fail(fmt::format("base directory {} does not exist", base.string()));
  }
  reap_stale_containers(base, s.engine);

  // The image first: building it may take minutes, and needs no state of ours.
  s.image = options.image.empty()
                ? containers::ensure_image(s.version, s.engine, options.image_script,
                                           options.image_timeout)
                : options.image;

  std::string pattern = (base / fmt::format("{}{}-XXXXXX", dir_prefix, ::getpid())).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    fail(fmt::format("mkdtemp({}): {}", pattern, errno_text(errno)));
  }
  s.dir = pattern;
  // Container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; mkdtemp's letters and digits fit.
  s.name = s.dir.filename().string();

  try {
    write_file_atomically(s.dir / owner_file_name, owner_record_for_self());
    std::string settings;
    for (const auto& [name, value] : options.settings) settings += name + " = " + value + "\n";
    const auto runtime = runtime_or_default(options.runtime);

    const bool pick_port = options.port == 0;
    for (int attempt = 1;; ++attempt) {
      s.port = pick_port ? free_tcp_port() : options.port;
      s.write_state();
      std::vector<std::string> args = {
          "run",        "--detach",
          "--name",     s.name,
          "--label",    fmt::format("{}={}", label, s.dir.string()),
          "--network",  "host",
          "--ulimit",   ulimit(RLIMIT_NOFILE, "nofile", 4096),
          "--ulimit",   ulimit(RLIMIT_NPROC, "nproc", 4096),
          "--tmpfs",    "/var/lib/postgresql/data",
          "--shm-size", "256m",
          "--env",      fmt::format("PGORM_PG_PORT={}", s.port),
          "--env",      "PGORM_PG_LISTEN=127.0.0.1",
          "--env",      "PGORM_PG_HOST_AUTH=" + options.host_auth,
          "--env",      fmt::format("PGORM_PG_UNSAFE_FAST={}", options.unsafe_fast ? 1 : 0)};
      std::vector<std::string> extra_env;
      if (!runtime.empty()) {
        args.insert(args.begin() + 1, {"--runtime", runtime});
      }
      if (!s.password.empty()) {
        // `--env NAME` without a value: the engine copies it from its own environment, so the
        // password is on no command line (ps) and in no error message.
        args.insert(args.end(), {"--env", "POSTGRES_PASSWORD"});
        extra_env.push_back("POSTGRES_PASSWORD=" + s.password);
      }
      if (!settings.empty()) {
        args.insert(args.end(), {"--env", "PGORM_PG_SETTINGS"});
        extra_env.push_back("PGORM_PG_SETTINGS=" + settings);
      }
      args.insert(args.end(), {s.image, "keep"});
      const auto r = s.engine_run(args, s.timeout + 30s, extra_env);
      if (r.exit_code == 0) {
        if (auto error = s.wait_until_ready()) {
          const auto log = s.log_text();
          const bool port_taken = log.find("could not bind") != std::string::npos ||
                                  log.find("already running on port") != std::string::npos;
          if (pick_port && port_taken && attempt < 5) {
            s.remove_container();
            continue;
          }
          fail(fmt::format("postgres in container {} ({}) accepts no query: {}\n{}", s.name,
                           s.image, *error, last_lines(log, log_tail_lines)));
        }
        break;
      }
      fail(fmt::format("{} run {} failed{} (exit code {}):\n{}", s.engine, s.image,
                       r.timed_out ? " by timing out" : "", r.exit_code,
                       last_lines(r.output, log_tail_lines)));
    }
  } catch (...) {
    s.destroy();
    throw;
  }
}

container_server container_server::attach(const fs::path& dir) {
  const auto state = read_file(dir / state_file_name);
  if (state.empty()) {
    fail(fmt::format("{} is not a container_server state directory (no {})", dir.string(),
                     state_file_name));
  }
  const auto owner = read_file(dir / owner_file_name);
  if (!owner.starts_with("detached") && !owner_is_gone(dir)) {
    fail(fmt::format("{} is owned by a live process ({}); it must detach() first", dir.string(),
                     trim(owner)));
  }
  auto s = std::make_unique<impl>();
  s->dir = dir;
  for (const auto& line : split_lines(state)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "name") s->name = value;
    if (key == "engine") s->engine = value;
    if (key == "image") s->image = value;
    if (key == "version") s->version = value;
    if (key == "password") s->password = value;
    if (key == "port") parse_int(value, s->port);
    if (key == "timeout") {
      int seconds = 60;
      parse_int(value, seconds);
      s->timeout = std::chrono::seconds(seconds);
    }
  }
  if (s->name.empty() || s->engine.empty() || s->port == 0) {
    fail(fmt::format("{} is damaged", (dir / state_file_name).string()));
  }
  write_file_atomically(dir / owner_file_name, owner_record_for_self());
  return container_server(std::move(s));
}

int container_server::reap_stale_containers(const fs::path& base_dir, const std::string& engine) {
  const auto program = engine_or_default(engine);
  if (!in_path(program) && !fs::path(program).is_absolute()) return 0;
  int reaped = 0;
  try {
    const auto listed =
        run({program, "ps", "--all", "--filter", fmt::format("label={}", label), "--format",
             fmt::format("{{{{.Names}}}}\t{{{{index .Labels \"{}\"}}}}", label)},
            engine_timeout);
    if (listed.exit_code == 0) {
      for (const auto& line : split_lines(listed.output)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        const auto name = line.substr(0, tab);
        const fs::path dir = line.substr(tab + 1);
        if (!dir.filename().string().starts_with(dir_prefix) || !owner_is_gone(dir)) continue;
        const auto r = run({program, "rm", "--force", "--time", "0", name}, engine_timeout);
        if (r.exit_code == 0) ++reaped;
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    }
  } catch (const server_error&) {  // NOLINT(bugprone-empty-catch): never throws
  }
  // State directories without a container (their owner died before `run`, or the container
  // was removed by hand).
  const fs::path base = base_dir.empty() ? default_base_dir() : base_dir;
  std::error_code ec;
  for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    std::error_code type_ec;
    if (!path.filename().string().starts_with(dir_prefix) || !it->is_directory(type_ec) ||
        it->is_symlink(type_ec) || !owner_is_gone(path)) {
      continue;
    }
    try {
      run({program, "rm", "--force", "--time", "0", path.filename().string()}, engine_timeout);
    } catch (const server_error&) {  // NOLINT(bugprone-empty-catch): best effort
    }
    std::error_code rm_ec;
    fs::remove_all(path, rm_ec);
  }
  return reaped;
}

container_server::container_server(container_server&& other) noexcept = default;

container_server& container_server::operator=(container_server&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->owned) impl_->destroy();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

container_server::~container_server() {
  if (impl_ && impl_->owned) impl_->destroy();
}

void container_server::stop(shutdown_mode mode) { impl_->stop_server(mode); }

void container_server::start() {
  if (impl_->postmaster_pid() != 0) return;
  impl_->start_server();
}

void container_server::restart(shutdown_mode mode) {
  stop(mode);
  start();
}

void container_server::crash() {
  const auto r = impl_->control({"crash"}, impl_->timeout + 30s);
  if (r.exit_code != 0) {
    fail(fmt::format("crash() in container {} failed (exit code {}):\n{}", impl_->name, r.exit_code,
                     last_lines(r.output, log_tail_lines)));
  }
}

bool container_server::running() const { return impl_->postmaster_pid() != 0; }

void container_server::detach(const fs::path& anchor) {
  std::error_code ec;
  const auto absolute_anchor = anchor.empty() ? fs::path{} : fs::absolute(anchor, ec);
  write_file_atomically(impl_->dir / owner_file_name,
                        fmt::format("detached {}\n", absolute_anchor.string()));
  impl_->owned = false;
}

std::string container_server::conninfo(std::string_view dbname) const {
  return impl_->conninfo(dbname);
}

std::string container_server::url(std::string_view dbname) const {
  const auto user = impl_->password.empty() ? std::string("postgres")
                                            : "postgres:" + percent_encode(impl_->password);
  return fmt::format("postgresql://{}@127.0.0.1:{}/{}", user, impl_->port, percent_encode(dbname));
}

void container_server::create_database(std::string_view name) const {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  pgorm::connection conn{conninfo()};
  conn.exec("create database " + quoted);
}

std::uint16_t container_server::port() const noexcept { return impl_->port; }
bool container_server::tcp() const noexcept { return true; }
const fs::path& container_server::dir() const noexcept { return impl_->dir; }

fs::path container_server::log_file() const {
  const auto path = impl_->dir / "server.log";
  write_file_atomically(path, impl_->log_text());
  return path;
}

int container_server::postmaster_pid() const { return impl_->postmaster_pid(); }
const std::string& container_server::container_name() const noexcept { return impl_->name; }
const std::string& container_server::image() const noexcept { return impl_->image; }
const std::string& container_server::version() const noexcept { return impl_->version; }

// ---- shared with pgbouncer.cpp (containers.hpp) ---------------------------------------------

namespace containers {

engine_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                  const std::vector<std::string>& extra_env) {
  const auto r = pgorm::testing::run(args, timeout, extra_env);
  return {.exit_code = r.exit_code, .timed_out = r.timed_out, .output = r.output};
}

std::string engine_or_default(const std::string& engine) {
  return pgorm::testing::engine_or_default(engine);
}

bool installed(const std::string& program) {
  return in_path(program) ||
         (fs::path(program).is_absolute() && ::access(program.c_str(), X_OK) == 0);
}

std::vector<std::string> run_options(const std::string& runtime) {
  std::vector<std::string> args = {"--ulimit", ulimit(RLIMIT_NOFILE, "nofile", 4096), "--ulimit",
                                   ulimit(RLIMIT_NPROC, "nproc", 4096)};
  if (const auto r = runtime_or_default(runtime); !r.empty()) {
    args.insert(args.begin(), {"--runtime", r});
  }
  return args;
}

std::string ensure_image(const std::string& version, const std::string& engine,
                         const fs::path& script_option, std::chrono::seconds timeout) {
  if (auto from_env = env("PGORM_CONTAINER_IMAGE"); !from_env.empty()) return from_env;
  const auto script = image_script_or_default(script_option);
  if (::access(script.c_str(), X_OK) != 0) {
    fail(fmt::format(
        "no image given and no image script at {}: set PGORM_CONTAINER_IMAGE to an image "
        "made by tools/containers/pgorm-pg-image, or PGORM_CONTAINER_IMAGE_SCRIPT to that "
        "script",
        script.string()));
  }
  const auto r = pgorm::testing::run({script.string(), "ensure", version},
                                     std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
                                     {"PGORM_CONTAINER_ENGINE=" + engine_or_default(engine)});
  const auto lines = split_lines(trim(r.output));
  if (r.exit_code != 0 || lines.empty()) {
    fail(fmt::format("{} ensure {} failed{} (exit code {}):\n{}", script.string(), version,
                     r.timed_out ? " by timing out" : "", r.exit_code,
                     last_lines(r.output, log_tail_lines)));
  }
  return trim(lines.back());
}

}  // namespace containers

}  // namespace pgorm::testing
