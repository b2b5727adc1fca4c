// SPDX-License-Identifier: MIT
#include "engine.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgorm/error.hpp"

namespace pgorm::detail {

namespace {

short poll_events(io_wait what) noexcept {
  short events = 0;
  if ((static_cast<unsigned>(what) & static_cast<unsigned>(io_wait::read)) != 0) events |= POLLIN;
  if ((static_cast<unsigned>(what) & static_cast<unsigned>(io_wait::write)) != 0) {
    events |= POLLOUT;
  }
  return events;
}

// poll()'s timeout for what is left of `d`: -1 for none, 0 once it has passed.
int poll_timeout(const deadline& d) noexcept {
  if (!d.bounded()) return -1;
  const auto left = d.wait_budget().count();
  return static_cast<int>(std::clamp<long long>(left, 0, std::numeric_limits<int>::max()));
}

}  // namespace

wait_status wait_one(io_watch& w, const deadline& d) {
  // The common case (a command waiting for its result) without wait_io's bookkeeping.
  pollfd fd{w.fd, poll_events(w.what), 0};
  w.ready = false;
  for (;;) {
    const int timeout_ms = poll_timeout(d);
    if (timeout_ms == 0) return wait_status::expired;
    const int ready = ::poll(&fd, 1, timeout_ms);
    if (ready > 0) {
      w.ready = true;
      return wait_status::ready;
    }
    if (ready < 0 && errno != EINTR) {
      throw connection_error(
          fmt::format("pgorm: waiting for the server failed: poll(): {}", std::strerror(errno)));
    }
    if (ready == 0 && d.passed()) return wait_status::expired;
  }
}

wait_status wait_io(std::span<io_watch> watches, const deadline& d, int interrupt_fd) {
  if (watches.size() == 1 && interrupt_fd < 0) return wait_one(watches[0], d);
  // At most the connection, a cancel request and the interrupt descriptor.
  std::array<pollfd, 4> fds{};
  if (watches.size() + 1 > fds.size()) {
    throw usage_error("pgorm: internal error: too many descriptors for one wait");
  }
  std::size_t n = 0;
  for (io_watch& w : watches) {
    w.ready = false;
    fds[n].fd = w.fd;
    fds[n].events = poll_events(w.what);
    ++n;
  }
  if (interrupt_fd >= 0) {
    fds[n].fd = interrupt_fd;
    fds[n].events = POLLIN;
    ++n;
  }
  for (;;) {
    const int timeout_ms = poll_timeout(d);
    if (timeout_ms == 0) return wait_status::expired;
    const int ready = ::poll(fds.data(), static_cast<nfds_t>(n), timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw connection_error(
          fmt::format("pgorm: waiting for the server failed: poll(): {}", std::strerror(errno)));
    }
    if (ready == 0) {
      // poll() may wake a little early; the deadline decides.
      if (d.passed()) return wait_status::expired;
      continue;
    }
    if (interrupt_fd >= 0 && fds[n - 1].revents != 0) return wait_status::interrupted;
    for (std::size_t i = 0; i < watches.size(); ++i) watches[i].ready = fds[i].revents != 0;
    return wait_status::ready;
  }
}

io_wait pq_step(PGconn* conn, bool input_ready) noexcept {
  // Input first: PQconsumeInput() also lets a blocked PQflush() go on (libpq docs 34.5: while
  // the server is busy sending, it may not read what the client sends).
  if (input_ready && PQconsumeInput(conn) == 0) return io_wait::none;  // PQgetResult() reports
  const int flushed = PQflush(conn);
  if (flushed < 0) return io_wait::none;
  if (flushed == 1) return io_wait::read_write;
  return PQisBusy(conn) == 1 ? io_wait::read : io_wait::none;
}

// ---- cancellation -------------------------------------------------------------------------------

namespace {

// libpq before 17 has no call that returns the backend's secret key, and its PQcancel() blocks
// until the server closes the cancel connection (on a black-holed link: for minutes). The key
// sits in the PGcancel that PQgetCancel() returns, after the server address: libpq-int.h,
// struct pg_cancel { SockAddr raddr; int be_pid; int be_key; ... } with
// SockAddr { struct sockaddr_storage addr; socklen_t salen; }, unchanged from 10 to 16. It is
// read only when the pid found there is the backend's (PQbackendPID), which confirms the layout.
struct libpq_sockaddr {
  sockaddr_storage addr;
  socklen_t salen;
};
struct libpq_cancel_prefix {
  libpq_sockaddr raddr;
  int be_pid;
  int be_key;
};

void put_u32(unsigned char* out, std::uint32_t v) noexcept {
  out[0] = static_cast<unsigned char>(v >> 24);
  out[1] = static_cast<unsigned char>(v >> 16);
  out[2] = static_cast<unsigned char>(v >> 8);
  out[3] = static_cast<unsigned char>(v);
}

}  // namespace

std::optional<cancel_key> read_cancel_key(PGconn* conn) {
  const int fd = PQsocket(conn);
  const int pid = PQbackendPID(conn);
  if (fd < 0 || pid == 0) return std::nullopt;
  cancel_key key;
  key.address_length = sizeof key.address;
  // The address the connection actually reached (the host of a multi-host string that
  // answered), which is where the cancel request must go.
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&key.address), &key.address_length) != 0) {
    return std::nullopt;
  }
  const int version = PQlibVersion();
  if (version < 100000 || version >= 170000) return std::nullopt;
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return std::nullopt;
  libpq_cancel_prefix prefix;
  std::memcpy(&prefix, static_cast<const void*>(cancel), sizeof prefix);
  PQfreeCancel(cancel);
  if (prefix.be_pid != pid) return std::nullopt;
  key.pid = static_cast<std::uint32_t>(pid);
  key.secret = static_cast<std::uint32_t>(prefix.be_key);
  return key;
}

cancel_request::cancel_request(const cancel_key& key) noexcept {
  // CancelRequest (protocol docs 55.7): length 16, code 80877102, backend pid, secret key.
  put_u32(packet_, 16);
  put_u32(packet_ + 4, 80877102);
  put_u32(packet_ + 8, key.pid);
  put_u32(packet_ + 12, key.secret);
  fd_ = ::socket(key.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    state_ = state::failed;
    return;
  }
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&key.address), key.address_length) == 0) {
    state_ = state::sending;
    send();
    return;
  }
  if (errno == EINPROGRESS || errno == EINTR) {
    state_ = state::connecting;
    return;
  }
  fail();
}

cancel_request::~cancel_request() {
  if (fd_ >= 0) ::close(fd_);
}

void cancel_request::fail() noexcept {
  state_ = state::failed;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void cancel_request::send() noexcept {
  while (sent_ < sizeof packet_) {
    const ssize_t n = ::send(fd_, packet_ + sent_, sizeof packet_ - sent_, MSG_NOSIGNAL);
    if (n > 0) {
      sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    fail();
    return;
  }
  state_ = state::awaiting_close;
}

io_watch cancel_request::watch() const noexcept {
  switch (state_) {
    case state::connecting:
    case state::sending:
      return {fd_, io_wait::write};
    case state::awaiting_close:
      return {fd_, io_wait::read};
    case state::acknowledged:
    case state::failed:
      break;
  }
  return {};
}

void cancel_request::step() noexcept {
  switch (state_) {
    case state::connecting: {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        fail();
        return;
      }
      if (err == EINPROGRESS || err == EALREADY) return;
      if (err != 0) {
        fail();
        return;
      }
      state_ = state::sending;
      send();
      return;
    }
    case state::sending:
      send();
      return;
    case state::awaiting_close: {
      for (;;) {
        char byte = 0;
        const ssize_t n = ::recv(fd_, &byte, 1, 0);
        if (n > 0) continue;  // nothing is expected; read on to the close
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        // Closed (or reset) by the server: it has read the request and signalled the backend.
        state_ = state::acknowledged;
        ::close(fd_);
        fd_ = -1;
        return;
      }
    }
    case state::acknowledged:
    case state::failed:
      return;
  }
}

bool send_cancel(const cancel_key& key, const deadline& d) {
  cancel_request request(key);
  while (!request.done()) {
    io_watch w = request.watch();
    if (wait_io(std::span<io_watch>(&w, 1), d) != wait_status::ready) return false;
    request.step();
  }
  return request.acknowledged();
}

}  // namespace pgorm::detail
