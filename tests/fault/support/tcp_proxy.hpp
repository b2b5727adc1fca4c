// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A small in-process TCP proxy for fault scenarios: it listens on 127.0.0.1 (a free port) and
/// forwards each accepted connection to 127.0.0.1:<target>, on one thread with poll(). Its mode
/// decides what happens to new and existing connections:
/// - pass:  forward both ways;
/// - stall: accept but never forward (new connections never reach the server; existing ones
///          are black-holed: bytes are left unread in both directions);
/// - drop:  close connections (FIN);
/// - reset: abort connections with an RST (SO_LINGER 0).
/// cut_when() arms a trigger: the first client-to-server chunk containing a byte pattern (for
/// example the Query message of "COMMIT") resets that connection, before or after forwarding
/// the chunk. Only ever touches 127.0.0.1. Header-only (see leak_check.hpp).

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pgorm::fault {

class tcp_proxy {
 public:
  enum class mode { pass, stall, drop, reset };
  /// When a cut_when() trigger fires: before the chunk reaches the server, or just after.
  enum class cut { before_forwarding, after_forwarding };

  explicit tcp_proxy(std::uint16_t target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("tcp_proxy: socket failed");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = loopback(0);
    if (::bind(listen_fd_, as_sockaddr(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("tcp_proxy: bind/listen on 127.0.0.1 failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, as_sockaddr(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("tcp_proxy: pipe failed");
    }
    thread_ = std::thread([this] { run(); });
  }

  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;
  tcp_proxy(tcp_proxy&&) = delete;
  tcp_proxy& operator=(tcp_proxy&&) = delete;

  /// Stops the thread and closes every socket it holds.
  ~tcp_proxy() {
    stop_ = true;
    wake();
    thread_.join();
    for (const link& l : links_) close_link(l, false);
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  /// Changes the mode; existing connections follow it on the proxy thread's next turn (within
  /// a few milliseconds). Returns once the proxy thread has applied it.
  void set_mode(mode m) {
    mode_ = m;
    const unsigned seen = turns_.load();
    wake();
    while (turns_.load() < seen + 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  [[nodiscard]] mode current_mode() const noexcept { return mode_.load(); }

  /// Resets the first connection whose client sends a chunk containing `pattern`.
  void cut_when(std::string pattern, cut when = cut::before_forwarding) {
    std::lock_guard lock(mu_);
    pattern_ = std::move(pattern);
    cut_when_ = when;
    fired_ = false;
  }
  /// True once a cut_when() trigger fired.
  [[nodiscard]] bool cut_fired() const {
    std::lock_guard lock(mu_);
    return fired_;
  }
  /// Connections accepted so far.
  [[nodiscard]] int accepted() const noexcept { return accepted_.load(); }
  /// Connections open through the proxy right now.
  [[nodiscard]] int open_links() const noexcept { return open_links_.load(); }

 private:
  struct link {
    int client = -1;
    int server = -1;  // -1 while stalled at accept
    bool dead = false;
  };

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }
  static sockaddr* as_sockaddr(sockaddr_in* a) { return reinterpret_cast<sockaddr*>(a); }

  static void abort_fd(int fd) {
    if (fd < 0) return;
    const linger lg{1, 0};  // close() now sends RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
  }
  void close_link(const link& l, bool rst) {
    if (rst) {
      abort_fd(l.client);
      abort_fd(l.server);
    } else {
      if (l.client >= 0) ::close(l.client);
      if (l.server >= 0) ::close(l.server);
    }
    --open_links_;
  }

  void wake() {
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(wake_[1], &c, 1);
  }

  static bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void accept_one() {
    const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    ++accepted_;
    ++open_links_;
    link l{c, -1, false};
    const mode m = mode_.load();
    if (m == mode::drop || m == mode::reset) {
      close_link(l, m == mode::reset);
      return;
    }
    if (m == mode::pass) connect_upstream(l);
    if (!l.dead) links_.push_back(l);
  }

  void connect_upstream(link& l) {
    l.server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(target_port_);
    if (l.server < 0 || ::connect(l.server, as_sockaddr(&addr), sizeof addr) != 0) {
      close_link(l, true);  // the server is down: the client sees a reset
      l.dead = true;
      return;
    }
    const int one = 1;
    ::setsockopt(l.server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  // Moves one chunk from `from` to `to`; false when the link must close.
  bool forward(link& l, bool client_to_server) {
    char buf[64 * 1024];
    const int from = client_to_server ? l.client : l.server;
    const int to = client_to_server ? l.server : l.client;
    const ssize_t n = ::recv(from, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    const auto size = static_cast<std::size_t>(n);
    if (client_to_server) {
      std::unique_lock lock(mu_);
      if (!fired_ && !pattern_.empty() &&
          std::string_view(buf, size).find(pattern_) != std::string_view::npos) {
        fired_ = true;
        const cut when = cut_when_;
        lock.unlock();
        if (when == cut::after_forwarding) {
          send_all(to, buf, size);
          // Give the server time to act on it, then cut before its answer reaches the client.
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        close_link(l, true);
        l.dead = true;
        return true;
      }
    }
    return send_all(to, buf, size);
  }

  void apply_mode() {
    const mode m = mode_.load();
    for (link& l : links_) {
      if (l.dead) continue;
      if (m == mode::drop || m == mode::reset) {
        close_link(l, m == mode::reset);
        l.dead = true;
      } else if (m == mode::pass && l.server < 0) {
        connect_upstream(l);
      }
    }
  }

  void run() {
    while (!stop_) {
      apply_mode();
      std::erase_if(links_, [](const link& l) { return l.dead; });
      ++turns_;
      const bool forwarding = mode_.load() == mode::pass;
      std::vector<pollfd> fds;
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      if (forwarding) {
        for (const link& l : links_) {
          fds.push_back({l.client, POLLIN, 0});
          fds.push_back({l.server, POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof drain) > 0) {
        }
      }
      if (fds[1].revents != 0) accept_one();
      if (!forwarding || mode_.load() != mode::pass) continue;
      for (std::size_t i = 0; i < links_.size() && 2 + 2 * i < fds.size(); ++i) {
        link& l = links_[i];
        for (int side = 0; side < 2 && !l.dead; ++side) {
          if (fds[2 + 2 * i + static_cast<std::size_t>(side)].revents == 0) continue;
          if (!forward(l, side == 0)) {
            close_link(l, false);
            l.dead = true;
          }
        }
      }
    }
  }

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<mode> mode_{mode::pass};
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> turns_{0};
  std::atomic<int> accepted_{0};
  std::atomic<int> open_links_{0};
  mutable std::mutex mu_;
  std::string pattern_;
  cut cut_when_ = cut::before_forwarding;
  bool fired_ = false;
  std::vector<link> links_;  // proxy thread only (and the destructor after join)
  std::thread thread_;       // last: starts once everything above is initialized
};

}  // namespace pgorm::fault
