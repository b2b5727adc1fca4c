// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A server that never answers, on loopback: a TCP listener that never accepts. The kernel
/// completes the handshake, libpq sends its startup packet and waits for an answer that never
/// comes, so a connection attempt to it lasts as long as its connect timeout allows.
/// Header-only, for unit and integration tests alike.

#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pgorm::test {

class silent_listener {
 public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, sa, len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, sa, &len) != 0) {
      if (fd_ >= 0) ::close(fd_);
      throw std::runtime_error("silent_listener: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  ~silent_listener() { ::close(fd_); }

  [[nodiscard]] int port() const noexcept { return port_; }
  /// A key=value connection string to it.
  [[nodiscard]] std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) +
           " user=nobody dbname=none sslmode=disable";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace pgorm::test
