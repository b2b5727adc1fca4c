// SPDX-License-Identifier: MIT
#include "pgorm/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <list>
#include <unordered_map>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "command.hpp"
#include "connect_start.hpp"
#include "engine.hpp"
#include "libpq_util.hpp"
#include "notice_sink.hpp"
#include "param_arrays.hpp"
#include "statement_cache.hpp"

namespace pgorm {

// ---- connection --------------------------------------------------------------------------------

// The deadline libpq itself would apply: connect_timeout from the conninfo or PGCONNECT_TIMEOUT
// (PQconninfo reports the value in effect), whole seconds, where 1 means 2 (libpq docs 34.1.2).
std::chrono::milliseconds detail::libpq_connect_timeout(PGconn* conn) {
  std::chrono::milliseconds timeout{0};
  PQconninfoOption* options = PQconninfo(conn);
  if (options == nullptr) return timeout;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "connect_timeout") == 0 && o->val != nullptr) {
      int seconds = 0;
      std::from_chars(o->val, o->val + std::strlen(o->val), seconds);
      if (seconds > 0) timeout = std::chrono::seconds(seconds < 2 ? 2 : seconds);
    }
  }
  PQconninfoFree(options);
  return timeout;
}

std::string detail::describe_connection(PGconn* conn) {
  const auto str = [](const char* s) { return s == nullptr ? std::string_view{} : s; };
  return fmt::format("host={} port={} dbname={} user={}", str(PQhost(conn)), str(PQport(conn)),
                     str(PQdb(conn)), str(PQuser(conn)));
}

// ---- prepared statements ----------------------------------------------------------------------

namespace {

// Setting names as PostgreSQL spells them (custom ones have a dot): nothing that could break
// out of a "-c name=value" startup option.
bool setting_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
  });
}

// "-c name=value" for the startup packet's options; the server splits options at blanks and
// takes a backslash as "the next character is literal" (postgres.c, pg_split_opts).
void append_setting(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += "-c ";
  out += name;
  out += '=';
  for (const char c : value) {
    if (c == '\\' || std::isspace(static_cast<unsigned char>(c)) != 0) out += '\\';
    out += c;
  }
}

// The `options` value that carries connect_options' session settings, after whatever the
// conninfo (or PGOPTIONS) already says; "" when there are none.
std::string startup_options(const std::string& conninfo, const connect_options& o) {
  std::string ours;
  if (o.statement_timeout.count() > 0) {
    append_setting(ours, "statement_timeout", std::to_string(o.statement_timeout.count()));
  }
  for (const auto& [name, value] : o.settings) {
    if (!setting_name(name)) {
      throw usage_error(fmt::format(
          "pgorm: connect_options::settings: \"{}\" is not a setting name (letters, digits, '_' "
          "and '.')",
          name));
    }
    if (value.find('\0') != std::string::npos) {
      throw usage_error(
          fmt::format("pgorm: connect_options::settings: the value of {} has a NUL byte", name));
    }
    append_setting(ours, name, value);
  }
  if (ours.empty()) return {};
  std::string theirs;
  char* err = nullptr;
  if (PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err)) {
    for (PQconninfoOption* opt = parsed; opt->keyword != nullptr; ++opt) {
      if (std::strcmp(opt->keyword, "options") == 0 && opt->val != nullptr) theirs = opt->val;
    }
    PQconninfoFree(parsed);
  } else if (err != nullptr) {
    PQfreemem(err);  // the connection attempt reports the malformed string
  }
  if (theirs.empty() && conninfo.find('=') == std::string::npos &&
      conninfo.find("://") == std::string::npos) {
    // A bare database name (or nothing): libpq reads options from the environment.
    if (const char* env = std::getenv("PGOPTIONS")) theirs = env;
  } else if (theirs.empty()) {
    if (const char* env = std::getenv("PGOPTIONS")) theirs = env;
  }
  return theirs.empty() ? ours : theirs + " " + ours;
}

// Closes an eventfd when the constructor is done with it.
struct fd_guard {
  int fd = -1;
  fd_guard() = default;
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

PGconn* detail::start_connect(const std::string& info, connect_options& options) {
  detail::apply_pooler_mode(options);  // connect_options::pooler: before anything reads them
  const std::string extra_options = startup_options(info, options);
  // Defaults first: the conninfo (expanded from dbname, expand_dbname = 1; libpq 34.1) comes
  // after them and overrides any it sets. Keepalives and tcp_user_timeout bound how long a dead
  // peer goes unnoticed (libpq ignores them on Unix sockets).
  std::vector<const char*> keywords = {"keepalives",          "keepalives_idle",
                                       "keepalives_interval", "keepalives_count",
                                       "tcp_user_timeout",    "dbname"};
  std::vector<const char*> values = {"1", "30", "10", "3", "30000", info.c_str()};
  if (!extra_options.empty()) {
    keywords.push_back("options");
    values.push_back(extra_options.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectStartParams(keywords.data(), values.data(), 1);
  if (conn == nullptr) {
    throw connection_error("pgorm: cannot allocate a libpq connection (out of memory)");
  }
  return conn;
}

connection::connection(std::string_view conninfo, connect_options options)
    : connection(conninfo, std::move(options), static_cast<const std::stop_token*>(nullptr)) {}

connection::connection(std::string_view conninfo, connect_options options, std::stop_token stop)
    : connection(conninfo, std::move(options), &stop) {}

connection::connection(std::string_view conninfo, connect_options options,
                       const std::stop_token* stop)
    : secrets_(detail::conninfo_secrets(conninfo)) {
  const std::string info(conninfo);
  // A multi-host string: one attempt per host, each within the whole connect_timeout (libpq
  // would spend one deadline on all of them, and a black-holed first host on all of it).
  if (const auto hosts = detail::split_hosts(info); !hosts.empty()) {
    std::string errors;
    for (const auto& one : hosts) {
      if (stop != nullptr && stop->stop_requested()) break;
      try {
        *this = stop != nullptr ? connection(one, options, *stop) : connection(one, options);
        return;
      } catch (const connection_error& e) {
        errors += errors.empty() ? "" : "; ";
        errors += e.what();
      }
    }
    throw connection_error(detail::scrub_secrets(
        fmt::format("pgorm: no host of {} took the connection: {}", detail::redact_conninfo(info),
                    errors.empty() ? "stopped" : errors),
        secrets_));
  }
  PGconn* conn = detail::start_connect(info, options);
  struct guard {
    PGconn*& c;
    ~guard() {
      if (c != nullptr) PQfinish(c);
    }
  } g{conn};

  const auto fail = [&](std::string_view what) {
    detail::throw_connection_error(
        conn, fmt::format("{} ({})", what, detail::redact_conninfo(conninfo)), secrets_);
  };
  if (PQstatus(conn) == CONNECTION_BAD) fail("cannot connect");

  std::chrono::milliseconds timeout = options.connect_timeout;
  if (timeout.count() <= 0) timeout = detail::libpq_connect_timeout(conn);
  const auto limit = detail::deadline::after(timeout);

  // Another thread ends the attempt through an eventfd that the wait watches.
  fd_guard interrupt;
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (stop != nullptr && stop->stop_possible()) {
    interrupt.fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (interrupt.fd < 0) fail("cannot create an eventfd");
    const int fd = interrupt.fd;
    on_stop.emplace(*stop, std::function<void()>([fd] {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
    }));
  }

  // PQconnectPoll state machine (libpq docs 34.1, "PQconnectStartParams"): start as if it last
  // returned PGRES_POLLING_WRITING, wait on the socket for what it asks, and poll again.
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) fail("cannot connect");
    detail::io_watch watch{PQsocket(conn), state == PGRES_POLLING_READING ? detail::io_wait::read
                                                                          : detail::io_wait::write};
    const auto waited =
        detail::wait_io(std::span<detail::io_watch>(&watch, 1), limit, interrupt.fd);
    if (waited == detail::wait_status::expired) {
      throw connection_error(
          detail::scrub_secrets(fmt::format("pgorm: connecting to {} timed out after {} ms",
                                            detail::redact_conninfo(conninfo), timeout.count()),
                                secrets_));
    }
    if (waited == detail::wait_status::interrupted) {
      throw connection_error(detail::scrub_secrets(
          fmt::format("pgorm: connecting to {} was stopped", detail::redact_conninfo(conninfo)),
          secrets_));
    }
    state = PQconnectPoll(conn);
  }

  // Every later operation runs through the engine, which never lets libpq block (and closing
  // the connection, PQfinish, then never waits on the network either).
  if (PQsetnonblocking(conn, 1) != 0) fail("cannot switch the connection to non-blocking mode");
  description_ = detail::describe_connection(conn);
  // Notices (e.g. "drop cascades to ...") go to the observer, not to stderr (libpq's default).
  notices_ = detail::receive_notices(conn, options.events, description_, secrets_);
  cancel_ = std::make_shared<detail::cancel_state>();
  cancel_->key = detail::read_cancel_key(conn);
  cache_ = std::make_unique<statement_cache>(options.statement_cache_size);
  options_ = std::move(options);
  conn_ = conn;
  conn = nullptr;  // the guard lets go
}

connection::connection(connection&& other) noexcept
    : conn_(other.conn_),
      cancel_(std::move(other.cancel_)),
      cache_(std::move(other.cache_)),
      options_(std::move(other.options_)),
      description_(std::move(other.description_)),
      secrets_(std::move(other.secrets_)),
      scratch_(std::move(other.scratch_)),
      sql_buf_(std::move(other.sql_buf_)),
      notices_(std::move(other.notices_)) {
  other.conn_ = nullptr;
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    release();
    conn_ = other.conn_;
    other.conn_ = nullptr;
    cancel_ = std::move(other.cancel_);
    cache_ = std::move(other.cache_);
    options_ = std::move(other.options_);
    description_ = std::move(other.description_);
    secrets_ = std::move(other.secrets_);
    scratch_ = std::move(other.scratch_);
    sql_buf_ = std::move(other.sql_buf_);
    notices_ = std::move(other.notices_);
  }
  return *this;
}

connection::~connection() { release(); }

void connection::close() noexcept { release(); }

void connection::release() noexcept {
  if (cancel_) {
    // cancel() on another thread copies the key under this lock; afterwards it has none.
    std::lock_guard lock(cancel_->mu);
    cancel_->key.reset();
  }
  if (conn_ != nullptr) {
    // Non-blocking: the Terminate message is sent if the socket takes it, never waited for.
    PQfinish(conn_);
    conn_ = nullptr;
  }
  if (cache_) cache_->clear();
}

pg_conn* connection::checked_handle() const {
  if (conn_ == nullptr) {
    throw connection_error("pgorm: the connection is closed (" + description_ + ")");
  }
  return conn_;
}

bool connection::is_open() const noexcept {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

int connection::server_version() const { return PQserverVersion(checked_handle()); }
int connection::backend_pid() const { return PQbackendPID(checked_handle()); }

transaction_status connection::status() const noexcept {
  return detail::transaction_status_of(conn_);
}

namespace {

// check()'s failure: frees `raw` and throws what it means.
[[noreturn, gnu::cold, gnu::noinline]] void throw_failed(pg_result* raw, const PGconn* conn,
                                                         std::string_view sql,
                                                         const param_pack& params,
                                                         const std::vector<std::string>& secrets) {
  const result res(raw);
  if (raw == nullptr) detail::throw_connection_error(conn, "query failed", secrets);
  detail::throw_result_error(raw, conn, sql, params.views(), secrets);
}

}  // namespace

result connection::check(pg_result* raw, std::string_view sql, const param_pack& params,
                         const checked_columns* checked) {
  if (raw != nullptr) {
    switch (PQresultStatus(raw)) {
      case PGRES_TUPLES_OK:
        return result(raw, checked);
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
      case PGRES_SINGLE_TUPLE:
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        return result(raw);
      default:
        break;
    }
  }
  throw_failed(raw, conn_, sql, params, secrets_);
}

namespace {

// Case-insensitive search, for the simple-protocol statements that drop prepared statements.
bool mentions(std::string_view sql, std::string_view word) noexcept {
  if (sql.size() < word.size()) return false;
  for (std::size_t i = 0; i + word.size() <= sql.size(); ++i) {
    bool same = true;
    for (std::size_t j = 0; j < word.size() && same; ++j) {
      const char c = sql[i + j];
      same = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == word[j];
    }
    if (same) return true;
  }
  return false;
}

// Runs `run` (a statement's execution), reported to `obs` when there is one.
template <class F>
result observe(observer* obs, std::string_view sql, const param_pack& params,
               std::string_view server, F&& run) {
  if (obs == nullptr) return run();
  detail::statement_report report(obs, server, sql, params);
  try {
    result res = run();
    report.succeeded(res.rows() > 0 ? res.rows() : res.affected_rows());
    return res;
  } catch (...) {
    report.failed(std::current_exception());
    throw;
  }
}

}  // namespace

result connection::exec(std::string_view sql) { return simple_exec(sql, {}); }

result connection::exec(std::string_view sql, std::chrono::milliseconds timeout) {
  return simple_exec(sql, timeout);
}

pg_result* connection::run_simple(std::string_view sql, const detail::deadline& d) {
  PGconn* conn = checked_handle();
  detail::before_send(*this, d);
  if (PQsendQuery(conn, c_sql(sql)) != 1) {
    detail::throw_connection_error(conn, "sending the query failed", secrets_);
  }
  detail::command cmd(detail::command::just_sent, *this, d, sql);
  return cmd.last();
}

result connection::simple_exec(std::string_view sql, std::chrono::milliseconds timeout) {
  (void)checked_handle();
  if (sql.find('\0') != std::string_view::npos) detail::throw_nul_in_sql(sql);
  if (options_.pooler != pooler_mode::none && is_listen_statement(sql)) {
    detail::throw_pooler_unsupported(
        "LISTEN",
        "notifications reach the server session that listened, which the pooler hands "
        "to other clients after each transaction; listen on a direct connection");
  }
  return observe(options_.events.get(), sql, {}, description_, [&] {
    result res =
        check(run_simple(sql, detail::connection_access::call_deadline(*this, timeout)), sql, {});
    // DISCARD ALL / DEALLOCATE drop the server's prepared statements: forget ours too.
    if (mentions(sql, "discard") || mentions(sql, "deallocate")) cache_->clear();
    return res;
  });
}

result connection::exec_own(const char* sql, std::chrono::milliseconds timeout) {
  PGconn* conn = checked_handle();
  const std::string_view text(sql);
  return observe(options_.events.get(), text, {}, description_, [&] {
    const detail::deadline d = detail::connection_access::call_deadline(*this, timeout);
    detail::before_send(*this, d);
    if (PQsendQuery(conn, sql) != 1) {
      detail::throw_connection_error(conn, "sending the query failed", secrets_);
    }
    detail::command cmd(detail::command::just_sent, *this, d, text);
    return check(cmd.last(), text, {});
  });
}

bool connection::ping(std::chrono::milliseconds timeout) noexcept {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return false;
  try {
    const detail::deadline d = detail::connection_access::call_deadline(*this, timeout);
    // An empty query: the server answers EmptyQueryResponse without parsing or planning.
    pg_result* res = run_simple("", d);
    const bool ok = res != nullptr && PQresultStatus(res) == PGRES_EMPTY_QUERY;
    PQclear(res);
    if (ok && PQtransactionStatus(conn_) == PQTRANS_IDLE) return true;
  } catch (...) {  // NOLINT(bugprone-empty-catch): a failed ping closes the connection below
  }
  release();
  return false;
}

void connection::discard_all() { discard_all(std::chrono::milliseconds(0)); }

void connection::discard_all(std::chrono::milliseconds timeout) {
  (void)simple_exec("DISCARD ALL", timeout);
  cache_->clear();
}

std::size_t connection::prepared_statements() const noexcept {
  return cache_ ? cache_->lru.size() : 0;
}

void connection::set_observer(std::shared_ptr<observer> events) noexcept {
  options_.events = std::move(events);
  if (notices_) notices_->events = options_.events;
}

void connection::cancel() const {
  detail::cancel_state* cs = cancel_.get();
  if (cs == nullptr) return;
  detail::cancel_key key;
  {
    std::lock_guard lock(cs->mu);
    if (!cs->key) return;  // closed
    key = *cs->key;
    cs->in_flight.fetch_add(1, std::memory_order_acq_rel);
  }
  const auto limit = options_.connect_timeout.count() > 0 ? options_.connect_timeout
                                                          : std::chrono::milliseconds(5000);
  bool acknowledged = false;
  try {
    acknowledged = detail::send_cancel(key, detail::deadline::after(limit));
  } catch (...) {  // NOLINT(bugprone-empty-catch): reported as not acknowledged below
  }
  {
    std::lock_guard lock(cs->mu);
    // A request that may still arrive must not meet a later statement: the connection's next
    // command closes it instead (before_send).
    if (!acknowledged) cs->uncertain.store(true, std::memory_order_release);
    cs->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  }
  cs->acknowledged.notify_all();
  if (!acknowledged) {
    throw connection_error(fmt::format(
        "pgorm: the cancel request for {} was not acknowledged by the server within {} ms",
        description_, limit.count()));
  }
}

const char* connection::c_sql(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) detail::throw_nul_in_sql(sql);
  sql_buf_.assign(sql);
  return sql_buf_.c_str();
}

connection::statement_entry* connection::cached_statement(const statement_shape& shape,
                                                          const param_pack& params,
                                                          const detail::param_arrays& a,
                                                          const detail::deadline& d) {
  if (statement_entry* recent = cache_->find_fast(shape, a.types(), a.count())) return recent;
  const std::uint64_t h = statement_cache::hash(shape, a.types(), a.count());
  statement_entry* entry = nullptr;
  const auto found = cache_->find(h, shape, a.types(), a.count(), entry);
  if (found == statement_cache::lookup::hit) return entry;
  if (found == statement_cache::lookup::collision) return nullptr;
  std::string name = statement_cache::next_name();
  PGconn* conn = checked_handle();
  detail::before_send(*this, d);
  if (PQsendPrepare(conn, name.c_str(), c_sql(shape.sql), a.count(), a.types()) != 1) {
    detail::throw_connection_error(conn, "sending the statement failed", secrets_);
  }
  pg_result* prep = nullptr;
  {
    detail::command cmd(detail::command::just_sent, *this, d, shape.sql);
    prep = cmd.single();
  }
  const result prepared = check(prep, shape.sql, params);
  const std::string evicted = cache_->add(h, shape, a.types(), a.count(), std::move(name));
  // Behind PgBouncer (pooler_mode::transaction_prepared) an SQL DEALLOCATE reaches a server
  // session that knows only PgBouncer's names: it would fail, and abort a transaction. libpq
  // 15 cannot send the protocol's Close, which PgBouncer would handle: the name is dropped
  // (names are never reused) and PgBouncer frees it with the client connection.
  if (!evicted.empty() && options_.pooler != pooler_mode::transaction_prepared) {
    // Within the same deadline; a server error only leaves the statement allocated until
    // disconnect, so it is dropped (a deadline or a broken link propagates).
    PQclear(run_simple(fmt::format("DEALLOCATE {}", evicted), d));
  }
  return &cache_->lru.front();
}

prepared_statement connection::prepare_cached(std::string_view sql, std::span<const param> params) {
  const detail::prepared_ref ref = prepare_cached_within(
      statement_shape{.sql = sql}, params, detail::connection_access::call_deadline(*this, {}));
  return {ref.name == nullptr ? std::string() : std::string(*ref.name)};
}

detail::prepared_ref connection::prepare_cached_within(const statement_shape& shape,
                                                       const param_pack& params,
                                                       const detail::deadline& d) {
  (void)checked_handle();
  if (!options_.prepare) return {};
  detail::param_arrays a;
  a.fill(params, scratch_);
  statement_entry* entry = cached_statement(shape, params, a, d);
  if (entry == nullptr) return {};
  return {&entry->name, entry};
}

void connection::note_checked(const statement_shape& shape, std::span<const param> params,
                              const checked_columns* checked) noexcept {
  if (!cache_ || checked == nullptr) return;
  std::vector<Oid> types;
  try {
    types.reserve(params.size());
  } catch (...) {  // NOLINT(bugprone-empty-catch): only an optimization is lost
    return;
  }
  for (const param& p : params) types.push_back(p.type());
  const int n = static_cast<int>(types.size());
  statement_entry* entry = nullptr;
  if (cache_->find(statement_cache::hash(shape, types.data(), n), shape, types.data(), n, entry) ==
      statement_cache::lookup::hit) {
    entry->checked = checked;
  }
}

std::string connection::prepared_name(std::string_view sql, std::span<const param> params) {
  return prepare_cached(sql, params).name;
}

result connection::exec(std::string_view sql, std::span<const param> params,
                        data_format result_format) {
  return exec(statement_shape{.sql = sql}, params, result_format, std::chrono::milliseconds(0));
}

result connection::exec(std::string_view sql, std::span<const param> params,
                        data_format result_format, std::chrono::milliseconds timeout) {
  return exec(statement_shape{.sql = sql}, params, result_format, timeout);
}

result connection::exec(const statement_shape& shape, const param_pack& params,
                        data_format result_format, std::chrono::milliseconds timeout) {
  if (options_.events == nullptr) [[likely]] {
    return exec_impl(shape, params, result_format, timeout);
  }
  // Out of line: inlined, the observer's bookkeeping gave this function a frame that every
  // statement without an observer paid for (~25 instructions; without it the call above is a
  // jump).
  const auto observed = [&]() __attribute__((noinline)) {
    (void)checked_handle();
    return observe(options_.events.get(), shape.sql, params, description_,
                   [&] { return exec_impl(shape, params, result_format, timeout); });
  };
  return observed();
}

result connection::exec_impl(const statement_shape& shape, const param_pack& params,
                             data_format result_format, std::chrono::milliseconds timeout) {
  const std::string_view sql = shape.sql;
  PGconn* conn = checked_handle();
  detail::param_arrays a;
  a.fill(params, scratch_);
  const int fmt = static_cast<int>(result_format);
  // One deadline for the whole call: preparing, executing, the retry and the draining.
  const detail::deadline d = detail::connection_access::starting_call(*this, timeout);

  const auto finish = [&]() -> pg_result* {
    detail::command cmd(detail::command::just_sent, *this, d, sql);
    return cmd.single();
  };
  const auto unnamed = [&]() -> pg_result* {
    detail::before_send(*this, d);
    if (PQsendQueryParams(conn, c_sql(sql), a.count(), a.types(), a.values(), a.lengths(),
                          a.formats(), fmt) != 1) {
      detail::throw_connection_error(conn, "sending the query failed", secrets_);
    }
    return finish();
  };
  if (!options_.prepare) return check(unnamed(), sql, params);

  for (int attempt = 0;; ++attempt) {
    // A statement used last or recently is found in line; cached_statement() hashes, looks it
    // up in the map and prepares it when it is not there.
    statement_entry* entry = cache_->find_fast(shape, a.types(), a.count());
    if (entry == nullptr) entry = cached_statement(shape, params, a, d);
    if (entry == nullptr) return check(unnamed(), sql, params);
    detail::before_send(*this, d);
    if (PQsendQueryPrepared(conn, entry->name.c_str(), a.count(), a.values(), a.lengths(),
                            a.formats(), fmt) != 1) {
      detail::throw_connection_error(conn, "sending the query failed", secrets_);
    }
    PGresult* res = finish();
    const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    // The hot path: rows of a prepared select whose columns were checked at an earlier run
    // (the result carries them at once: one result built per call, and no second look at its
    // status in check()).
    if (status == PGRES_TUPLES_OK && result_format == data_format::binary) {
      if (const checked_columns* known = detail::known_layout(entry, shape.layout)) {
        return result(res, known);
      }
    }
    if (attempt == 0 && status == PGRES_FATAL_ERROR && res != nullptr) {
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const std::string_view code = state == nullptr ? "" : state;
      // 26000: the statement is gone (DISCARD ALL, DEALLOCATE, a pooler): prepare it again.
      // 0A000 "cached plan must not change result type" (after ALTER TABLE): re-prepare,
      // unless inside a transaction, which the error has aborted anyway.
      const bool gone = code == "26000";
      const bool stale = code == "0A000";
      if (gone) cache_->clear();  // whatever dropped this one probably dropped them all
      if ((gone || stale) && PQtransactionStatus(conn) == PQTRANS_IDLE) {
        PQclear(res);
        if (stale) {
          const std::string name = entry->name;
          cache_->erase(entry->hash);
          if (options_.pooler != pooler_mode::transaction_prepared) {  // as in cached_statement
            PQclear(run_simple(fmt::format("DEALLOCATE {}", name), d));
          }
        }
        continue;
      }
      // Inside a transaction the error stands (the transaction is aborted). The entry stays:
      // its next use outside a transaction meets 0A000 again and re-prepares it then, since
      // DEALLOCATE cannot run in an aborted transaction.
      if (gone) entry = nullptr;  // cleared with the cache
    }
    if (shape.layout == nullptr || result_format != data_format::binary || entry == nullptr) {
      return check(res, sql, params);
    }
    result out = check(res, sql, params);
    const checked_columns* checked = detail::check_layout(entry, out, shape.layout);
    if (checked == nullptr) return out;
    return result(out.release(), checked);
  }
}

void connection::exec_each(std::string_view sql, std::span<const param> params,
                           data_format result_format,
                           const std::function<void(const result&)>& on_row) {
  exec_each(sql, params, result_format, on_row, std::chrono::milliseconds(0));
}

void connection::exec_each(std::string_view sql, std::span<const param> params,
                           data_format result_format,
                           const std::function<void(const result&)>& on_row,
                           std::chrono::milliseconds timeout) {
  PGconn* conn = checked_handle();
  // Reported to the observer as one statement, with the rows it streamed.
  std::optional<detail::statement_report> report;
  if (options_.events != nullptr) report.emplace(*this, sql, params);
  try {
    const std::int64_t rows = stream_each(conn, sql, params, result_format, on_row, timeout);
    if (report) report->succeeded(rows);
  } catch (...) {
    if (report) report->failed(std::current_exception());
    throw;
  }
}

std::int64_t connection::stream_each(pg_conn* conn, std::string_view sql,
                                     std::span<const param> params, data_format result_format,
                                     const std::function<void(const result&)>& on_row,
                                     std::chrono::milliseconds timeout) {
  detail::param_arrays a;
  a.fill(params, scratch_);
  const detail::deadline d = detail::connection_access::starting_call(*this, timeout);
  detail::before_send(*this, d);
  if (PQsendQueryParams(conn, c_sql(sql), a.count(), a.types(), a.values(), a.lengths(),
                        a.formats(), static_cast<int>(result_format)) != 1) {
    detail::throw_connection_error(conn, "sending the query failed", secrets_);
  }
  // Single-row mode (libpq docs 34.6): one PGRES_SINGLE_TUPLE result per row, then a final
  // zero-row PGRES_TUPLES_OK, or an error.
  PQsetSingleRowMode(conn);
  detail::command cmd(detail::command::just_sent, *this, d, sql);
  std::int64_t rows = 0;
  while (PGresult* raw = cmd.next()) {
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_SINGLE_TUPLE) {
      ++rows;
      result row(raw);
      try {
        on_row(row);
      } catch (...) {
        // Stop the server from sending the rest, and drop what already arrived.
        cmd.abandon();
        throw;
      }
      continue;
    }
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      PQclear(raw);
      continue;
    }
    result failed(raw);
    try {
      cmd.drain();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the statement's own error is reported
    }
    detail::throw_result_error(raw, conn_, sql, params, secrets_);
  }
  return rows;
}

}  // namespace pgorm
