// SPDX-License-Identifier: MIT
// Programs run through fork + exec (never a shell), as an unprivileged user when we are root,
// because initdb, pg_ctl, postgres and pgbouncer all refuse to run as root (PostgreSQL docs
// 19.1, "The PostgreSQL User Account").
#include "process.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.hpp"
#include "pgorm/testing/server.hpp"

namespace pgorm::testing::os {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw server_error("pgorm::testing::server: " + message);
}

}  // namespace

bool wait_for_exit(int pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

identity current_identity() {
  identity who;
  who.uid = ::geteuid();
  who.gid = ::getegid();
  if (const passwd* pw = ::getpwuid(who.uid)) who.name = pw->pw_name;
  return who;
}

identity resolve_identity(const std::string& requested) {
  if (::geteuid() != 0) return current_identity();
  std::string name = requested;
  if (name.empty()) name = env("PGORM_PG_USER");
  if (name.empty()) name = ::getpwnam("postgres") != nullptr ? "postgres" : "nobody";
  const passwd* pw = ::getpwnam(name.c_str());
  if (pw == nullptr) {
    fail(
        fmt::format("running as root, the server must run as an unprivileged user, but user "
                    "\"{}\" does not exist; set server_options::run_as or PGORM_PG_USER",
                    name));
  }
  if (pw->pw_uid == 0) {
    fail(
        fmt::format("user \"{}\" is root; PostgreSQL refuses to run as root. Set "
                    "server_options::run_as or PGORM_PG_USER to an unprivileged user",
                    name));
  }
  identity who;
  who.switch_user = true;
  who.name = name;
  who.uid = pw->pw_uid;
  who.gid = pw->pw_gid;
  int count = 16;
  who.groups.resize(static_cast<std::size_t>(count));
  while (::getgrouplist(name.c_str(), who.gid, who.groups.data(), &count) < 0) {
    who.groups.resize(static_cast<std::size_t>(count) + 16);
    count = static_cast<int>(who.groups.size());
  }
  who.groups.resize(static_cast<std::size_t>(count));
  return who;
}

// In the child, after fork(): only async-signal-safe calls. Reports errno through `err_fd`
// (close-on-exec, so a successful exec closes it and the parent reads EOF).
[[noreturn]] static void child_fail(int err_fd, int err) {
  [[maybe_unused]] const auto written = ::write(err_fd, &err, sizeof err);
  ::_exit(127);
}

[[noreturn]] static void exec_child(const std::vector<char*>& argv, const identity& who,
                                    bool search_path, int in_fd, int out_fd, int err_fd,
                                    int max_fd) {
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) {
    child_fail(err_fd, errno);
  }
  // Signal mask and ignored signals survive exec: give the programs (and the postmaster they
  // start) a clean slate, whatever our caller (ctest, a test runner, a shell) set up.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD}) {
    ::signal(sig, SIG_DFL);
  }
  // Keep our descriptors (sockets, the pipes ctest reads) out of the postmaster, which lives
  // on after we exit; a pipe it inherited would keep ctest waiting for EOF.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (who.switch_user) {
    if (::setgroups(who.groups.size(), who.groups.data()) != 0) child_fail(err_fd, errno);
    if (::setgid(who.gid) != 0) child_fail(err_fd, errno);
    if (::setuid(who.uid) != 0) child_fail(err_fd, errno);
  }
  if (search_path) {
    ::execvp(argv[0], argv.data());
  } else {
    ::execv(argv[0], argv.data());
  }
  child_fail(err_fd, errno);
}

command_result run(const std::vector<std::string>& args, const identity& who, bool search_path,
                   std::chrono::milliseconds timeout) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  // The output goes to an anonymous file, not a pipe: a grandchild that kept a pipe open
  // would make us wait forever for EOF, a file needs no reader.
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
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;

  const pid_t pid = ::fork();
  if (pid < 0) fail(fmt::format("fork(): {}", errno_text(errno)));
  if (pid == 0) exec_child(argv, who, search_path, in.fd, out.fd, err_write.fd, max_fd);

  ::close(err_write.fd);
  err_write.fd = -1;
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(err_read.fd, &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);

  int status = 0;
  bool timed_out = false;
  if (timeout.count() > 0) {
    // The program (pg_basebackup, pgbouncer) may wait on the network: past the deadline it is
    // killed, and the result says so.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) fail(fmt::format("waitpid(): {}", errno_text(errno)));
      if (!timed_out && std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        timed_out = true;
      }
      std::this_thread::sleep_for(10ms);
    }
  } else {
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) fail(fmt::format("waitpid(): {}", errno_text(errno)));
    }
  }
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    fail(fmt::format("cannot run {}{}: {}", args[0],
                     who.switch_user ? " as user " + who.name : std::string{},
                     errno_text(child_errno)));
  }

  command_result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string output;
  std::array<char, 4096> buffer{};
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(out.fd, buffer.data(), buffer.size(), offset);
    if (n <= 0) break;
    output.append(buffer.data(), static_cast<std::size_t>(n));
    offset += n;
  }
  if (timed_out) {
    output += fmt::format("\n(pgorm::testing: {} killed after the {} ms deadline)", args[0],
                          timeout.count());
  }
  result.output = std::move(output);
  return result;
}

// Whether `who` may create files in `dir` and reach it (every ancestor searchable): asked of
// the kernel by a child that has switched to that user, since permission bits alone miss ACLs.
bool accessible_by(const identity& who, const fs::path& dir) {
  if (!who.switch_user) return ::access(dir.c_str(), R_OK | W_OK | X_OK) == 0;
  const pid_t pid = ::fork();
  if (pid < 0) fail(fmt::format("fork(): {}", errno_text(errno)));
  if (pid == 0) {
    if (::setgroups(who.groups.size(), who.groups.data()) != 0 || ::setgid(who.gid) != 0 ||
        ::setuid(who.uid) != 0) {
      ::_exit(2);
    }
    ::_exit(::access(dir.c_str(), R_OK | W_OK | X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void give_to(const identity& who, const fs::path& path) {
  if (!who.switch_user) return;
  if (::chown(path.c_str(), who.uid, who.gid) != 0) {
    fail(fmt::format("chown {} to {}: {}", path.string(), who.name, errno_text(errno)));
  }
}

std::string conf_quote(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::uint16_t free_tcp_port() {
  const fd_guard sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) fail(fmt::format("socket(): {}", errno_text(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail(fmt::format("cannot find a free port on 127.0.0.1: {}", errno_text(errno)));
  }
  return ntohs(addr.sin_port);
}

}  // namespace pgorm::testing::os
