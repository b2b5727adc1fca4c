// SPDX-License-Identifier: MIT
// pgorm::listener: a LISTEN connection that reconnects and listens again (docs/notifications.md).
#include "pgorm/listener.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine.hpp"
#include "notification_wait.hpp"
#include "pgorm/error.hpp"

namespace pgorm {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds until_ms(clock::time_point t) {
  return std::chrono::ceil<milliseconds>(t - clock::now());
}

}  // namespace

struct listener::impl {
  std::string conninfo;
  listener_options options;
  std::vector<std::string> channels;
  std::optional<connection> conn;
  int interrupt_fd = -1;

  std::uint64_t reconnects = 0;
  std::string last_error;
  std::string lost_reason;
  clock::time_point lost_at{};
  clock::time_point next_attempt{};
  milliseconds backoff{0};
  clock::time_point last_heard{};

  impl(std::string_view info, listener_options o) : conninfo(info), options(std::move(o)) {
    interrupt_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (interrupt_fd < 0) throw connection_error("pgorm: listener: cannot create an eventfd");
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  impl(impl&&) = delete;
  impl& operator=(impl&&) = delete;
  ~impl() {
    if (interrupt_fd >= 0) ::close(interrupt_fd);
  }

  // Clears a pending interrupt(); true when there was one.
  bool take_interrupt() const noexcept {
    std::uint64_t count = 0;
    return ::read(interrupt_fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
  }

  void lose(std::string reason) {
    conn.reset();  // closes without waiting on the network
    lost_reason = std::move(reason);
    last_error = lost_reason;
    lost_at = clock::now();
    next_attempt = lost_at;  // the first attempt at once
    // At least 10 ms: a refused connection fails at once, and must not make a busy loop.
    backoff = std::max(options.reconnect_backoff, milliseconds(10));
  }

  // One attempt to connect and LISTEN on every channel, within `until`; false (and the next
  // attempt scheduled) when it fails.
  bool try_reconnect(clock::time_point until) {
    const milliseconds left = until_ms(until);
    connect_options o = options.connection;
    if (o.connect_timeout.count() <= 0 || o.connect_timeout > left) o.connect_timeout = left;
    try {
      connection c{conninfo, o};
      for (const std::string& channel : channels) {
        (void)c.exec(detail::listen_sql(channel), std::max(until_ms(until), milliseconds(1)));
      }
      conn.emplace(std::move(c));
      ++reconnects;
      last_heard = clock::now();
      return true;
    } catch (const error& e) {
      last_error = e.what();
    }
    next_attempt = clock::now() + backoff;
    backoff = std::min(backoff * 2, std::max(options.reconnect_backoff_max, backoff));
    return false;
  }

  // Sleeps until `t` or an interrupt; false when interrupted.
  bool sleep_until(clock::time_point t) const {
    const milliseconds left = until_ms(t);
    if (left.count() <= 0) return true;
    return detail::wait_io(std::span<detail::io_watch>(), detail::deadline::after(left),
                           interrupt_fd) != detail::wait_status::interrupted;
  }

  std::optional<listener_event> wait(clock::time_point until) {
    if (take_interrupt()) return std::nullopt;
    for (;;) {
      const clock::time_point now = clock::now();
      if (!conn || !conn->is_open()) {
        if (conn) lose("the connection was closed");
        if (now >= until) return std::nullopt;
        if (now < next_attempt) {
          if (!sleep_until(std::min(next_attempt, until))) {
            (void)take_interrupt();
            return std::nullopt;
          }
          if (clock::now() < next_attempt) return std::nullopt;  // the wait's deadline came first
        }
        if (until_ms(until).count() <= 0) return std::nullopt;
        if (!try_reconnect(until)) continue;
        listener_event e;
        e.what = listener_event::kind::reconnected;
        e.gap = std::chrono::duration_cast<milliseconds>(clock::now() - lost_at);
        e.reason = lost_reason;
        return e;
      }

      // A health check when nothing was heard for a while, if this wait leaves it time.
      clock::time_point wait_until = until;
      const milliseconds interval = options.health_check_interval;
      if (interval.count() > 0) {
        const clock::time_point check_at = last_heard + interval;
        if (now >= check_at && until - now >= std::chrono::seconds(1)) {
          milliseconds budget = std::min(until_ms(until), options.connection.connect_timeout);
          if (budget.count() <= 0) budget = until_ms(until);
          if (!conn->ping(budget)) {
            lose("the health check (an empty query) got no answer");
            continue;
          }
          last_heard = clock::now();
        } else if (check_at < until && check_at > now) {
          wait_until = check_at;
        }
      }

      bool interrupted = false;
      std::optional<notification> n;
      try {
        n = detail::await_notification(*conn, wait_until, interrupt_fd, interrupted);
      } catch (const connection_error& e) {
        lose(e.what());
        continue;
      }
      if (n) {
        last_heard = clock::now();
        listener_event e;
        e.notification = std::move(*n);
        return e;
      }
      if (interrupted) {
        (void)take_interrupt();
        return std::nullopt;
      }
      if (clock::now() >= until) return std::nullopt;
    }
  }
};

listener::listener(std::string_view conninfo, listener_options options)
    : impl_(std::make_unique<impl>(conninfo, std::move(options))) {
  if (impl_->options.connection.pooler != pooler_mode::none) {
    throw pooler_unsupported(
        "pgorm: listener: LISTEN needs a server session of its own, which a transaction-mode "
        "pooler (connect_options::pooler) does not keep; connect the listener to the server "
        "directly (or through a session-mode pooler)");
  }
  impl_->conn.emplace(impl_->conninfo, impl_->options.connection);
  impl_->last_heard = clock::now();
  impl_->backoff = std::max(impl_->options.reconnect_backoff, milliseconds(10));
}

listener::listener(listener&& other) noexcept = default;
listener& listener::operator=(listener&& other) noexcept = default;
listener::~listener() = default;

void listener::listen(std::string_view channel) {
  const std::string sql = detail::listen_sql(channel);  // checks the name first
  impl& s = *impl_;
  const bool known = std::find(s.channels.begin(), s.channels.end(), channel) != s.channels.end();
  if (s.conn && s.conn->is_open()) {
    try {
      (void)s.conn->exec(sql);
    } catch (const connection_error& e) {
      s.lose(e.what());  // listened on at the reconnection
    }
  }
  if (!known) s.channels.emplace_back(channel);
}

void listener::unlisten(std::string_view channel) {
  const std::string sql = detail::unlisten_sql(channel);
  impl& s = *impl_;
  s.channels.erase(std::remove(s.channels.begin(), s.channels.end(), channel), s.channels.end());
  if (s.conn && s.conn->is_open()) {
    try {
      (void)s.conn->exec(sql);
    } catch (const connection_error& e) {
      s.lose(e.what());
    }
  }
}

const std::vector<std::string>& listener::channels() const noexcept { return impl_->channels; }

std::optional<listener_event> listener::wait(std::chrono::milliseconds timeout) {
  if (timeout > std::chrono::hours(24)) {
    throw usage_error(
        "pgorm: listener::wait() takes a timeout of at most 24 h (pgorm::no_timeout is not one); "
        "call it in a loop to wait longer");
  }
  return impl_->wait(clock::now() + std::max(timeout, milliseconds(0)));
}

std::optional<listener_event> listener::wait(std::chrono::steady_clock::time_point deadline) {
  if (deadline - clock::now() > std::chrono::hours(24)) {
    throw usage_error(
        "pgorm: listener::wait() takes a deadline at most 24 h away; call it in a loop to wait "
        "longer");
  }
  return impl_->wait(deadline);
}

void listener::interrupt() noexcept {
  if (!impl_) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(impl_->interrupt_fd, &one, sizeof one);
}

bool listener::connected() const noexcept { return impl_->conn && impl_->conn->is_open(); }

std::uint64_t listener::reconnects() const noexcept { return impl_->reconnects; }

const std::string& listener::last_error() const noexcept { return impl_->last_error; }

int listener::backend_pid() const {
  if (!connected()) throw connection_error("pgorm: listener: not connected");
  return impl_->conn->backend_pid();
}

}  // namespace pgorm
