// SPDX-License-Identifier: MIT
#include "pgorm/pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "pool_policy.hpp"

namespace pgorm {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Throws `error`, with `cause` (when set) nested in it (std::rethrow_if_nested finds it).
template <class E>
[[noreturn]] void throw_with_cause(E error, const std::exception_ptr& cause) {
  if (cause) {
    try {
      std::rethrow_exception(cause);
    } catch (...) {
      std::throw_with_nested(std::move(error));
    }
  }
  throw std::move(error);
}

milliseconds to_ms(clock::duration d) noexcept {
  return std::chrono::duration_cast<milliseconds>(d);
}

std::string timeout_message(pool_timeout_reason reason, milliseconds waited,
                            const pool_timeout::counts& c, const std::string& last_error) {
  switch (reason) {
    case pool_timeout_reason::exhausted:
      return fmt::format(
          "pgorm: pool exhausted: no connection became free within {} ms ({} in use of max {}, "
          "{} idle, {} waiting)",
          waited.count(), c.in_use, c.max_size, c.idle, c.waiting);
    case pool_timeout_reason::connecting:
      return fmt::format(
          "pgorm: no connection within {} ms: a new connection was still being opened (a server "
          "slow to accept; the attempt goes on, within connect_timeout) ({} in use of max {}, {} "
          "idle, {} waiting)",
          waited.count(), c.in_use, c.max_size, c.idle, c.waiting);
    case pool_timeout_reason::unreachable:
      break;
  }
  return fmt::format(
      "pgorm: database server unreachable: no connection could be opened within {} ms ({} in "
      "use of max {}, {} idle, {} waiting); last connect error: {}",
      waited.count(), c.in_use, c.max_size, c.idle, c.waiting,
      last_error.empty() ? std::string("none") : last_error);
}

}  // namespace

pool_timeout::pool_timeout(pool_timeout_reason reason, std::chrono::milliseconds waited,
                           counts at_timeout, std::string last_connect_error)
    : error(timeout_message(reason, waited, at_timeout, last_connect_error)),
      reason_(reason),
      waited_(waited),
      counts_(at_timeout),
      last_error_(std::make_shared<const std::string>(std::move(last_connect_error))) {}

namespace detail {

std::chrono::milliseconds jittered_lifetime(std::chrono::milliseconds max_lifetime,
                                            double unit) noexcept {
  const double u = std::clamp(unit, 0.0, 1.0);
  const double factor = 0.9 + 0.2 * u;
  return milliseconds(
      static_cast<milliseconds::rep>(static_cast<double>(max_lifetime.count()) * factor));
}

std::chrono::milliseconds reconnect_delay(unsigned failures, std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap, double unit) noexcept {
  if (failures == 0 || base.count() <= 0) return milliseconds(0);
  // Doubling stops at the cap; the shift is bounded so it cannot overflow.
  milliseconds delay = base;
  for (unsigned i = 1; i < failures && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  // "Equal jitter" (AWS architecture blog, "Exponential Backoff And Jitter"): half fixed, half
  // random, so many pools that lost the same server do not retry in lockstep.
  const double u = std::clamp(unit, 0.0, 1.0);
  const auto half = static_cast<double>(delay.count()) / 2.0;
  return milliseconds(static_cast<milliseconds::rep>(half + half * u));
}

std::string leak_message(std::chrono::milliseconds held, std::chrono::milliseconds threshold,
                         const std::source_location& where) {
  return fmt::format(
      "pgorm: possible connection leak: a lease has been held for {} ms (leak_threshold {} ms); "
      "acquired at {}:{} in {}",
      held.count(), threshold.count(), where.file_name(), where.line(), where.function_name());
}

/// Everything a pool shares with its leases; leases keep it alive after the pool is gone.
///
/// Threads: callers of acquire() only ever wait; connection attempts run on threads of their
/// own (`connectors`, one per attempt, joined by the housekeeping thread once finished and by
/// ~pool), so no caller's deadline cuts an attempt short; the housekeeping thread (`reaper`)
/// retires idle connections and asks for attempts to keep min_idle.
struct pool_state : std::enable_shared_from_this<pool_state> {
  pool_state(std::string_view conninfo_, pool_options options_)
      : conninfo(conninfo_),
        options(std::move(options_)),
        rng(std::random_device{}()),
        leaks(options.leak_threshold) {}

  const std::string conninfo;
  const pool_options options;

  mutable std::mutex mu;
  std::condition_variable available;  // an idle connection, an attempt's outcome, or close()
  std::condition_variable reaper_wake;
  std::thread reaper;

  // All below guarded by mu.
  std::deque<std::unique_ptr<pooled_connection>> idle;  // back = most recently returned
  std::size_t in_use = 0;
  std::size_t connecting = 0;  // attempts running
  std::size_t waiting = 0;
  bool closed = false;
  unsigned failures = 0;            // consecutive failed connection attempts
  std::uint64_t failure_count = 0;  // failed attempts ever: a waiter watches it move
  clock::time_point next_attempt{};
  // Shared and immutable: events and errors point into a text no later failure overwrites.
  std::shared_ptr<const std::string> last_connect_error = std::make_shared<const std::string>();
  std::exception_ptr last_connect_exception;
  // Idle connections that may have broken with a sibling: checked on their next acquire.
  break_suspicion suspicion;
  std::list<std::jthread> connectors;                // attempts running or finished, not joined
  std::vector<std::thread::id> finished_connectors;  // those of them that finished

  std::mt19937_64 rng;
  pool_stats totals;
  // Leases out, watched only with a leak_threshold (an entry is removed under mu before its
  // connection is destroyed).
  leak_watch leaks;

  [[nodiscard]] std::size_t total() const { return in_use + idle.size() + connecting; }

  double random_unit() {  // needs mu
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  pool_event event(pool_event_kind kind, std::string_view detail = {},
                   clock::duration wait = {}) const {  // needs mu
    pool_event e{};
    e.kind = kind;
    e.wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wait);
    e.detail = detail;
    e.in_use = in_use;
    e.idle = idle.size();
    e.waiting = waiting;
    return e;
  }

  // Observers run outside the lock.
  void emit(const pool_event& e) const noexcept { emit_pool_event(options, e); }

  // Wraps a new connection with its bookkeeping; never holds mu on entry.
  std::unique_ptr<pooled_connection> adopt(connection c) {
    const auto now = clock::now();
    milliseconds lifetime;
    {
      std::lock_guard lock(mu);
      lifetime = jittered_lifetime(options.max_lifetime, random_unit());
    }
    return std::make_unique<pooled_connection>(
        pooled_connection{std::move(c), now, now + lifetime, now});
  }

  // Bookkeeping after a failed connection attempt; needs mu. Returns the error text, which
  // the caller keeps alive while the connect_failed event that views it is emitted.
  std::shared_ptr<const std::string> note_connect_failure(std::exception_ptr cause,
                                                          std::string text) {
    ++failures;
    ++failure_count;
    ++totals.total_connect_failures;
    auto shared = std::make_shared<const std::string>(std::move(text));
    last_connect_error = shared;
    last_connect_exception = std::move(cause);
    next_attempt = clock::now() + reconnect_delay(failures, options.reconnect_backoff,
                                                  options.reconnect_backoff_max, random_unit());
    return shared;
  }

  // Starts the connection attempts wanted now; needs mu. Each waiter and each missing min_idle
  // connection wants one, less the idle connections and the attempts already running, within
  // max_size. After a failure only one attempt runs at a time, and only once the backoff has
  // passed, so an outage is probed, not hammered.
  void start_attempts(clock::time_point now) {
    if (closed) return;
    const std::size_t wanted = waiting + options.min_idle;
    const std::size_t have = idle.size() + connecting;
    if (wanted <= have || total() >= options.max_size) return;
    std::size_t n = std::min(wanted - have, options.max_size - total());
    if (failures > 0) n = connecting == 0 && now >= next_attempt ? 1 : 0;
    for (; n > 0; --n) {
      ++connecting;
      try {
        connectors.emplace_back([this](std::stop_token stop) { attempt(stop); });
      } catch (...) {  // no thread to be had now: a later call tries again
        --connecting;
        return;
      }
    }
  }

  // One connection attempt, on a connector thread: within connection.connect_timeout, ended
  // early by `stop` (close()). The connection goes to the idle list, where a waiter takes it.
  void attempt(const std::stop_token& stop) noexcept {
    std::unique_ptr<pooled_connection> pc;
    std::exception_ptr cause;
    std::string text;
    try {
      pc = adopt(connection{conninfo, options.connection, stop});
      text = pc->conn.description();  // a copy: once idle, another thread may close it
    } catch (const std::exception& e) {
      cause = std::current_exception();
      text = e.what();
    } catch (...) {
      cause = std::current_exception();
      text = "pgorm: connecting failed";
    }
    std::unique_lock lock(mu);
    --connecting;
    std::shared_ptr<const std::string> detail;  // outlives the emit below
    pool_event e{};
    if (pc) {
      failures = 0;
      ++totals.total_opened;
      if (closed) {
        ++totals.total_closed;
      } else {
        pc->last_used = clock::now();
        idle.push_back(std::move(pc));
      }
      detail = std::make_shared<const std::string>(std::move(text));
      e = event(pool_event_kind::connect, *detail);
    } else if (!closed) {  // after close() an attempt ends because it was stopped
      detail = note_connect_failure(std::move(cause), std::move(text));
      e = event(pool_event_kind::connect_failed, *detail);
    }
    available.notify_all();  // waiters take the connection, or learn of the failure
    finished_connectors.push_back(std::this_thread::get_id());
    lock.unlock();
    pc.reset();  // only when the pool was closed meanwhile
    if (detail) emit(e);
  }

  // The connector threads that finished, out of the list (to be joined without mu).
  std::vector<std::jthread> take_finished_connectors() {  // needs mu
    std::vector<std::jthread> done;
    for (const auto id : finished_connectors) {
      const auto it = std::find_if(connectors.begin(), connectors.end(),
                                   [id](const std::jthread& t) { return t.get_id() == id; });
      if (it == connectors.end()) continue;
      done.push_back(std::move(*it));
      connectors.erase(it);
    }
    finished_connectors.clear();
    return done;
  }

  lease acquire(milliseconds timeout, bool reset_on_release, const std::source_location& where);
  void give_back(std::unique_ptr<pooled_connection> pc, bool poisoned, bool reset) noexcept;
  void housekeeping_loop() noexcept;
  void close() noexcept;
  void join_threads() noexcept;
};

lease pool_state::acquire(milliseconds timeout, bool reset_on_release,
                          const std::source_location& where) {
  const auto start = clock::now();
  const auto deadline = start + timeout;
  std::unique_lock lock(mu);
  const std::uint64_t failures_before = failure_count;
  bool counted_waiting = false;
  bool unanswered_check = false;  // a health check of this acquire ran out of time
  const auto stop_waiting = [&] {
    if (counted_waiting) --waiting;
    counted_waiting = false;
  };
  const auto give_up = [&](clock::time_point now) {  // with mu held; throws pool_timeout
    pool_timeout_reason reason = pool_timeout_reason::exhausted;
    // A server that left a health check unanswered is as unreachable as one that refuses.
    if ((failures > 0 && in_use < options.max_size) || unanswered_check) {
      reason = pool_timeout_reason::unreachable;
    } else if (connecting > 0) {
      reason = pool_timeout_reason::connecting;
    }
    stop_waiting();
    ++totals.total_timeouts;
    const pool_timeout::counts counts{in_use, idle.size(), waiting, options.max_size};
    const auto last_error = last_connect_error;
    const std::exception_ptr cause =
        reason == pool_timeout_reason::unreachable ? last_connect_exception : nullptr;
    const std::string_view why = reason == pool_timeout_reason::exhausted     ? "exhausted"
                                 : reason == pool_timeout_reason::unreachable ? "unreachable"
                                                                              : "connecting";
    const auto e = event(pool_event_kind::timeout, why, now - start);
    lock.unlock();
    emit(e);
    throw_with_cause(pool_timeout{reason, to_ms(now - start), counts, *last_error}, cause);
  };
  for (;;) {
    if (closed) {
      stop_waiting();
      throw usage_error("pgorm: acquire() on a closed pool");
    }
    const auto now = clock::now();
    if (!idle.empty()) {
      const bool expired = now >= idle.back()->expires;
      const bool check = !expired && (now - idle.back()->last_used > options.health_check_after ||
                                      suspicion.suspects(idle.back()->last_used, now));
      // A check needs time; with none left the connection stays idle, unchecked and untouched.
      if (check && now >= deadline) give_up(now);
      std::unique_ptr<pooled_connection> pc = std::move(idle.back());
      idle.pop_back();
      ++in_use;
      bool ok = !expired;
      bool out_of_time = false;
      if (check) {
        lock.unlock();
        // A round trip within what is left of the deadline (connection::ping closes the
        // connection when it fails or runs out of time: its state is then unknown).
        ok = pc->conn.ping(std::chrono::ceil<milliseconds>(deadline - now));
        out_of_time = !ok && clock::now() >= deadline;
        unanswered_check = unanswered_check || out_of_time;
        lock.lock();
      }
      if (!ok) {
        --in_use;
        ++totals.total_closed;
        if (!expired && !out_of_time) suspicion.broke(clock::now());
        const auto e = event(pool_event_kind::evict, expired       ? "lifetime"
                                                     : out_of_time ? "unchecked"
                                                                   : "broken");
        lock.unlock();
        pc.reset();
        emit(e);
        lock.lock();
        continue;
      }
      stop_waiting();
      ++totals.total_acquired;
      leaks.leased(pc.get(), clock::now(), where);
      const auto e = event(pool_event_kind::acquire, {}, clock::now() - start);
      lock.unlock();
      emit(e);
      return lease{shared_from_this(), std::move(pc), reset_on_release};
    }
    if (failure_count != failures_before && failures > 0 && connecting == 0) {
      // An attempt failed while this acquire waited, none succeeded since, no other is running
      // and nothing is idle: fail now with the cause rather than wait out the timeout.
      stop_waiting();
      const auto text = last_connect_error;
      const std::exception_ptr cause = last_connect_exception;
      lock.unlock();
      throw_with_cause(
          pool_connect_error{fmt::format("pgorm: the pool could not open a connection: {}", *text)},
          cause);
    }
    if (now >= deadline) give_up(now);
    if (!counted_waiting) {
      counted_waiting = true;
      ++waiting;
    }
    start_attempts(now);
    // Wake when a connection comes back or is opened, an attempt fails, the backoff ends (to
    // start the next attempt) or time is up.
    auto until = deadline;
    if (failures > 0 && connecting == 0 && total() < options.max_size) {
      until = std::min(until, next_attempt);
    }
    available.wait_until(lock, until);
  }
}

void pool_state::give_back(std::unique_ptr<pooled_connection> pc, bool poisoned,
                           bool reset) noexcept {
  const auto now = clock::now();
  returned_connection facts{
      .poisoned = poisoned, .open = pc->conn.is_open(), .expired = now >= pc->expires};
  facts.in_transaction = facts.open && pc->conn.status() != transaction_status::idle;
  {
    std::lock_guard lock(mu);
    facts.pool_closed = closed;
  }
  std::string_view why = close_reason(facts);
  if (why.empty() && resets_before_reuse(reset, options)) {
    // The borrower ran raw SQL: drop whatever session state it set (PostgreSQL docs, DISCARD:
    // settings, temp tables, prepared statements, advisory locks, LISTEN). Settings sent at
    // startup (connect_options::statement_timeout and settings) are the session defaults and
    // stay.
    try {
      pc->conn.discard_all(options.reset_timeout);
      pc->conn.set_observer(options.connection.events);
      if (pc->conn.status() != transaction_status::idle) why = "reset failed";
    } catch (...) {
      why = "reset failed";
    }
  }
  std::unique_lock lock(mu);
  --in_use;
  leaks.returned(pc.get());
  if (why.empty() && closed) why = "pool closed";
  const auto released = event(pool_event_kind::release);
  pool_event evicted{};
  if (why.empty()) {
    pc->last_used = now;
    idle.push_back(std::move(pc));
  } else {
    ++totals.total_closed;
    // A broken connection hints that its idle siblings broke too (server restart): check them.
    if (break_suspicion::hints_at_break(why)) suspicion.broke(now);
    evicted = event(pool_event_kind::evict, why);
  }
  // A waiter takes the connection, or (when it was closed) may start an attempt in its place.
  available.notify_one();
  lock.unlock();
  pc.reset();  // PQfinish outside the lock
  emit(released);
  if (!why.empty()) emit(evicted);
}

void pool_state::housekeeping_loop() noexcept {
  // Wake often enough to honour idle_timeout and max_lifetime to within a fraction of them.
  milliseconds shortest = std::min(options.idle_timeout, options.max_lifetime);
  if (options.leak_threshold.count() > 0) shortest = std::min(shortest, options.leak_threshold);
  const milliseconds period = std::clamp(shortest / 4, milliseconds(10), milliseconds(1000));
  std::unique_lock lock(mu);
  while (!closed) {
    reaper_wake.wait_for(lock, period);
    if (closed) break;
    const auto now = clock::now();
    // Retire idle connections past their lifetime, then those idle too long (oldest first, at
    // the front), keeping min_idle.
    std::vector<std::pair<std::unique_ptr<pooled_connection>, std::string_view>> doomed;
    for (auto it = idle.begin(); it != idle.end();) {
      if (now >= (*it)->expires) {
        doomed.emplace_back(std::move(*it), "lifetime");
        it = idle.erase(it);
      } else {
        ++it;
      }
    }
    while (idle.size() > options.min_idle && now - idle.front()->last_used > options.idle_timeout) {
      doomed.emplace_back(std::move(idle.front()), "idle");
      idle.pop_front();
    }
    std::vector<pool_event> events;
    for (const auto& d : doomed) {
      ++totals.total_closed;
      events.push_back(event(pool_event_kind::evict, d.second));
    }
    // Leases held past leak_threshold: reported once each, with their acquire site. The texts
    // are all made before any event points into them.
    const std::vector<std::string> overdue = leaks.overdue(now);
    for (const auto& text : overdue) {
      events.push_back(event(pool_event_kind::leak_suspected, text));
    }
    // Keep min_idle connections open (respecting the reconnect backoff); the attempts run on
    // threads of their own, so this thread never waits on the network.
    start_attempts(now);
    std::vector<std::jthread> finished = take_finished_connectors();
    lock.unlock();
    finished.clear();  // joins threads that are done
    doomed.clear();
    for (const auto& e : events) emit(e);
    warn_unobserved_leaks(options, overdue);
    lock.lock();
  }
}

void pool_state::close() noexcept {
  std::deque<std::unique_ptr<pooled_connection>> doomed;
  std::vector<pool_event> events;
  {
    std::lock_guard lock(mu);
    if (closed) return;
    closed = true;
    doomed.swap(idle);
    for (std::size_t i = 0; i < doomed.size(); ++i) {
      ++totals.total_closed;
      events.push_back(event(pool_event_kind::evict, "pool closed"));
    }
    // Attempts in progress give up at once; what they would have opened is not wanted.
    for (auto& t : connectors) t.request_stop();
  }
  available.notify_all();
  reaper_wake.notify_all();
  doomed.clear();
  for (const auto& e : events) emit(e);
}

void pool_state::join_threads() noexcept {
  if (reaper.joinable()) reaper.join();
  std::list<std::jthread> rest;
  {
    std::lock_guard lock(mu);
    rest.swap(connectors);
    finished_connectors.clear();
  }
  rest.clear();  // each was stopped by close(): they end without waiting on the network
}

}  // namespace detail

// ---- lease ------------------------------------------------------------------------------------

void detail::pool_give_back::give_back(const std::shared_ptr<pool_state>& state,
                                       std::unique_ptr<pooled_connection> pc, bool poisoned,
                                       bool reset) noexcept {
  state->give_back(std::move(pc), poisoned, reset);
}

connection& lease::get() const {
  if (!*this) throw usage_error("pgorm: this lease is empty (moved from or released)");
  return **this;
}

// ---- pool -------------------------------------------------------------------------------------

namespace {

// Runs f(connection&) on a leased connection; an error that poisons the connection poisons the
// lease, so that the connection is destroyed instead of reused.
template <class F>
decltype(auto) run_leased(lease& l, F&& f) {
  try {
    return std::forward<F>(f)(*l);
  } catch (const error& e) {
    if (e.poisons_connection()) l.poison();
    throw;
  }
}

// One pool call (exec, exec_each): borrow a connection (acquired at `where`, the caller's
// line that leak detection names), run `f(connection&, statement timeout)` on it, give it back
// (reset when `reset`). A nonzero `timeout` is one budget for the
// wait and the statement; zero leaves the wait to acquire_timeout and the statement to the
// connection's query_timeout, pgorm::no_timeout the statement to no deadline at all.
template <class F>
decltype(auto) pool_call(detail::pool_state& state, bool reset, milliseconds timeout,
                         const std::source_location& where, F&& f) {
  const detail::deadline budget = detail::deadline::after(timeout);
  const milliseconds wait = budget.bounded() ? std::min(state.options.acquire_timeout, timeout)
                                             : state.options.acquire_timeout;
  lease l = state.acquire(wait, reset, where);
  const milliseconds statement = budget.bounded() ? budget.as_timeout() : timeout;
  return run_leased(l, [&](connection& c) -> decltype(auto) { return f(c, statement); });
}

}  // namespace

pool::pool(std::string_view conninfo, pool_options options) {
  if (options.max_size == 0) throw usage_error("pgorm: pool_options::max_size must be at least 1");
  if (options.min_idle > options.max_size) {
    throw usage_error(fmt::format("pgorm: pool_options::min_idle ({}) exceeds max_size ({})",
                                  options.min_idle, options.max_size));
  }
  state_ = std::make_shared<detail::pool_state>(conninfo, std::move(options));
  auto& s = *state_;
  if (!s.options.lazy) {
    // Fail fast: a pool that cannot reach its server at start-up is a configuration error.
    // Each attempt has connection.connect_timeout, whatever acquire_timeout is.
    const std::size_t n = std::max<std::size_t>(s.options.min_idle, 1);
    std::vector<std::unique_ptr<detail::pooled_connection>> opened;
    for (std::size_t i = 0; i < n; ++i) {
      try {
        opened.push_back(s.adopt(connection{s.conninfo, s.options.connection}));
      } catch (const std::exception& ex) {
        std::shared_ptr<const std::string> text;
        pool_event e{};
        {
          std::lock_guard lock(s.mu);
          text = s.note_connect_failure(std::current_exception(), ex.what());
          e = s.event(pool_event_kind::connect_failed, *text);
        }
        s.emit(e);
        throw;
      }
    }
    std::vector<std::string> descriptions;
    descriptions.reserve(opened.size());
    for (auto& pc : opened) descriptions.push_back(pc->conn.description());
    std::vector<pool_event> events;
    {
      std::lock_guard lock(s.mu);
      for (std::size_t i = 0; i < opened.size(); ++i) {
        ++s.totals.total_opened;
        events.push_back(s.event(pool_event_kind::connect, descriptions[i]));
        s.idle.push_back(std::move(opened[i]));
      }
    }
    for (const auto& e : events) s.emit(e);
  }
  s.reaper = std::thread([state = state_.get()] { state->housekeeping_loop(); });
}

pool::~pool() {
  close();
  state_->join_threads();
}

lease pool::acquire(std::source_location where) {
  return state_->acquire(state_->options.acquire_timeout, true, where);
}

lease pool::acquire(std::chrono::milliseconds timeout, std::source_location where) {
  return state_->acquire(timeout, true, where);
}

result pool::exec(std::string_view sql, std::span<const param> params, data_format result_format,
                  std::source_location where) {
  return exec(sql, params, result_format, milliseconds(0), where);
}

result pool::exec(std::string_view sql, std::span<const param> params, data_format result_format,
                  std::chrono::milliseconds timeout, std::source_location where) {
  return pool_call(*state_, true, timeout, where, [&](connection& c, milliseconds t) {
    return c.exec(sql, params, result_format, t);
  });
}

void pool::exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                     const std::function<void(const result&)>& on_row, std::source_location where) {
  exec_each(sql, params, result_format, on_row, milliseconds(0), where);
}

void pool::exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                     const std::function<void(const result&)>& on_row,
                     std::chrono::milliseconds timeout, std::source_location where) {
  pool_call(*state_, true, timeout, where, [&](connection& c, milliseconds t) {
    c.exec_each(sql, params, result_format, on_row, t);
  });
}

result pool::exec(const statement_shape& shape, const param_pack& params, data_format result_format,
                  std::chrono::milliseconds timeout, std::source_location where) {
  return pool_call(
      *state_, shape.origin != sql_origin::builder, timeout, where,
      [&](connection& c, milliseconds t) { return c.exec(shape, params, result_format, t); });
}

void pool::exec_each(const statement_shape& shape, const param_pack& params,
                     data_format result_format, const std::function<void(const result&)>& on_row,
                     std::chrono::milliseconds timeout, std::source_location where) {
  pool_call(*state_, shape.origin != sql_origin::builder, timeout, where,
            [&](connection& c, milliseconds t) {
              c.exec_each(shape.sql, params.views(), result_format, on_row, t);
            });
}

pool_stats pool::stats() const {
  std::lock_guard lock(state_->mu);
  pool_stats s = state_->totals;
  s.in_use = state_->in_use;
  s.idle = state_->idle.size();
  s.waiting = state_->waiting;
  return s;
}

void pool::close() noexcept { state_->close(); }

bool pool::closed() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->closed;
}

const pool_options& pool::options() const noexcept { return state_->options; }

}  // namespace pgorm
