// SPDX-License-Identifier: MIT
#include "pgorm/pipeline.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "canceled_error.hpp"
#include "command.hpp"
#include "engine.hpp"
#include "exception_text.hpp"
#include "libpq_util.hpp"
#include "param_arrays.hpp"
#include "pipeline_reader.hpp"
#include "statement_cache.hpp"

namespace pgorm {

namespace detail {

void throw_pipeline_not_run(std::size_t index) {
  throw usage_error(fmt::format(
      "pgorm: pipeline statement {} was read before its pipeline ran; call run() first", index));
}

const pipeline_slot& pipeline_settled(const pipeline_slot& slot) {
  if (!slot.done) throw_pipeline_not_run(slot.index);
  if (slot.error) std::rethrow_exception(slot.error);
  return slot;
}

namespace {
constexpr std::size_t chunk_bytes = 16 * 1024;
}  // namespace

void* pipeline_arena::allocate_slow(std::size_t need) {
  static_assert(sizeof(chunk) <= header, "a chunk's count fits in a piece's header");
  if (need > chunk_bytes / 4) {
    // A large piece (a result of many rows) gets a chunk of its own: the arena carves on from
    // its current chunk.
    auto* base = static_cast<std::byte*>(::operator new(header + need));
    chunk* c = ::new (base) chunk;  // live: the piece
    std::memcpy(base + header, &c, sizeof c);
    return base + 2 * header;
  }
  next_chunk();
  return carve(need);
}

void pipeline_arena::next_chunk() {
  auto* base = static_cast<std::byte*>(::operator new(header + chunk_bytes));
  chunk* c = ::new (base) chunk;
  release(cur_);  // the arena moves on: the old chunk goes with its last piece
  cur_ = c;
  next_ = base + header;
  end_ = base + header + chunk_bytes;
}

void pipeline_arena::release(chunk* c) noexcept {
  if (c != nullptr && c->live.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    c->~chunk();
    ::operator delete(static_cast<void*>(c));
  }
}

namespace {

// Copies a value's `n` bytes: inline for the short ones most columns have (a call of memcpy
// per value cost ~15 instructions of a pipelined point select's ~60 per value).
inline void copy_value(char* to, const char* from, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    std::memcpy(to, from, 8);
    std::memcpy(to + n - 8, from + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(to, from, 4);
    std::memcpy(to + n - 4, from + n - 4, 4);
  } else if (n > 16) {
    std::memcpy(to, from, n);
  } else {
    for (std::size_t i = 0; i != n; ++i) to[i] = from[i];
  }
}

}  // namespace

void pipeline_rows::store(const result& res, pipeline_arena& arena, bool names) {
  pg_result* r = res.native_handle();
  const int rows = res.rows();
  const int cols = res.columns();
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  const std::size_t entries = n + (names ? static_cast<std::size_t>(cols) : 0);
  const std::size_t table_bytes = entries * sizeof(value);
  // One piece: the table of values (NULL: no data), then their bytes. A result of a few values
  // (a point select's) is copied in one pass into the free end of the arena's chunk, libpq
  // asked about each value once; a larger one, or one that does not fit there, is sized first
  // (every length asked for twice) and copied into a piece of its own size.
  constexpr std::size_t few = 1024;  // bytes of table, for the one pass
  if (table_bytes <= few) {
    std::size_t room = 0;
    std::byte* base = arena.reserve(table_bytes + few, room);
    auto* table = reinterpret_cast<value*>(base);
    char* out = reinterpret_cast<char*>(base + table_bytes);
    const char* const end = reinterpret_cast<const char*>(base + room);
    bool fits = true;
    value* v = table;
    for (int row = 0; row != rows && fits; ++row) {
      for (int col = 0; col != cols; ++col, ++v) {
        const int length = PQgetlength(r, row, col);
        if (length == 0 && PQgetisnull(r, row, col) == 1) {
          *v = value{nullptr, 0};
          continue;
        }
        if (length > end - out) {
          fits = false;
          break;
        }
        copy_value(out, PQgetvalue(r, row, col), static_cast<std::size_t>(length));
        *v = value{out, length};
        out += length;
      }
    }
    for (int col = 0; names && fits && col != cols; ++col, ++v) {
      const char* name = PQfname(r, col);
      const std::size_t length = std::strlen(name);
      if (length > static_cast<std::size_t>(end - out)) {
        fits = false;
        break;
      }
      copy_value(out, name, length);
      *v = value{out, static_cast<int>(length)};
      out += length;
    }
    if (fits) {
      const std::size_t size = static_cast<std::size_t>(out - reinterpret_cast<char*>(base));
      (void)arena.commit(size);
      keep(table, rows, cols, names);
      return;
    }
  }
  std::size_t bytes = 0;
  for (int row = 0; row != rows; ++row) {
    for (int col = 0; col != cols; ++col) {
      bytes += static_cast<std::size_t>(PQgetlength(r, row, col));
    }
  }
  if (names) {
    for (int col = 0; col != cols; ++col) bytes += std::strlen(PQfname(r, col));
  }
  auto* table = static_cast<value*>(arena.allocate(table_bytes + bytes));
  char* out = reinterpret_cast<char*>(table + entries);
  value* v = table;
  for (int row = 0; row != rows; ++row) {
    for (int col = 0; col != cols; ++col, ++v) {
      const int length = PQgetlength(r, row, col);
      if (length == 0 && PQgetisnull(r, row, col) == 1) {
        *v = value{nullptr, 0};
        continue;
      }
      copy_value(out, PQgetvalue(r, row, col), static_cast<std::size_t>(length));
      *v = value{out, length};
      out += length;
    }
  }
  for (int col = 0; names && col != cols; ++col, ++v) {
    const char* name = PQfname(r, col);
    const std::size_t length = std::strlen(name);
    copy_value(out, name, length);
    *v = value{out, static_cast<int>(length)};
    out += length;
  }
  keep(table, rows, cols, names);
}

void pipeline_rows::keep(const value* table, int rows, int cols, bool names) noexcept {
  reset();
  values_ = table;
  rows_ = rows;
  columns_ = cols;
  names_ = names;
}

std::string_view pipeline_rows::column_name(int col) const noexcept {
  if (!names_) return "?";
  const value& v = values_[static_cast<std::size_t>(rows_) * static_cast<std::size_t>(columns_) +
                           static_cast<std::size_t>(col)];
  return {v.data, static_cast<std::size_t>(v.length)};
}

void pipeline_settle(pipeline_slot& slot, pipeline_arena& arena) noexcept {
  if (slot.error || slot.res.native_handle() == nullptr) return;
  slot.rows = slot.res.rows();
  slot.affected = slot.res.affected_rows();
  if (slot.map != nullptr && slot.rows > 0) {
    try {
      slot.map(slot, slot.res);
      slot.stored.store(slot.res, arena, slot.keep_names);
    } catch (...) {
      slot.rows_error = std::current_exception();
    }
  }
  PQclear(slot.res.release());  // (no move-assignment of an empty result)
}

}  // namespace detail

namespace {

using slot_ptr = std::shared_ptr<detail::pipeline_slot>;

}  // namespace

void detail::send_pipelined(PGconn* c, const pipeline_slot& slot,
                            const std::vector<std::string>& secrets) {
  param_arrays a;
  std::string text_values;  // unused: a param_list holds its text values NUL-terminated
  a.fill(pack(slot.params), text_values);
  // A cached prepared statement skips parsing and planning on the server (Bind + Execute only).
  int sent = 0;
  if (slot.prepared.empty()) {
    const std::string text(slot.sql);  // NUL-terminated for libpq
    sent = PQsendQueryParams(c, text.c_str(), a.count(), a.types(), a.values(), a.lengths(),
                             a.formats(), 1);
  } else {
    sent = PQsendQueryPrepared(c, slot.prepared.c_str(), a.count(), a.values(), a.lengths(),
                               a.formats(), 1);
  }
  if (sent == 0) throw_connection_error(c, "sending a pipelined statement failed", secrets);
}

namespace {

// Leaves pipeline mode behind when run() ends early (an exception: a broken link, the deadline):
// results may still be on their way, and reading them could wait on the network, so the
// connection is closed instead of drained. On success run() has already left pipeline mode.
struct pipeline_mode_guard {
  connection& conn;
  explicit pipeline_mode_guard(connection& c) noexcept : conn(c) {}
  pipeline_mode_guard(const pipeline_mode_guard&) = delete;
  pipeline_mode_guard& operator=(const pipeline_mode_guard&) = delete;
  ~pipeline_mode_guard() {
    PGconn* c = detail::connection_access::handle(conn);
    if (c != nullptr && PQpipelineStatus(c) != PQ_PIPELINE_OFF && PQexitPipelineMode(c) == 0) {
      detail::connection_access::close(conn);
    }
  }
};

// A pipeline past its deadline. Closing the connection would not stop it: the batches sent
// before the stop are in the server's buffer, and the backend reads and runs the next one
// before it notices the closed socket. So the running statement is cancelled, and each later
// batch as it starts; each batch gets connect_options::cancel_grace to end (past it the
// connection is closed: the server does not answer), and a request the server drops while it
// binds (cancel_resend_after()) is sent again. The connection then stays usable.
class pipeline_stop {
 public:
  pipeline_stop(connection& conn, const detail::deadline& d) noexcept : conn_(conn), d_(d) {}

  [[nodiscard]] bool stopped() const noexcept { return stopped_; }

  // Until when to wait for the server's next results.
  [[nodiscard]] detail::deadline wait_until() const noexcept {
    return stopped_ ? grace_.sooner(resend_) : d_;
  }

  // The wait ended without input: the deadline passed (cancel), a resend is due, or a batch
  // did not end within its grace (close and throw).
  void on_timeout(std::size_t batches_left) {
    if (!stopped_) {
      stopped_ = true;
      on_batches(batches_left);
    } else if (grace_.passed()) {
      give_up("the server did not end it within the cancel grace period");
    } else if (resend_.passed()) {
      cancel();
    }
  }

  // Input arrived: the backend is sending, past the Bind where a request can be dropped.
  void on_input() noexcept {
    if (stopped_) resend_ = detail::deadline::after(detail::cancel_resend_after(resends_));
  }

  // Once stopped, a batch that ended lets the next one start: it gets a cancel of its own.
  void on_batches(std::size_t batches_left) {
    if (!stopped_ || batches_left == batches_ || batches_left == 0) return;
    batches_ = batches_left;
    resends_ = 0;
    grace_ = detail::connection_access::cancel_grace(conn_);
    cancel();
  }

  // The error run() throws once every batch has ended.
  [[nodiscard]] query_canceled error() const {
    return detail::canceled_error(
        fmt::format("the pipeline did not finish within its {} ms deadline; its statements "
                    "still running or waiting were cancelled on the server",
                    d_.budget().count()),
        {}, false);
  }

 private:
  // The server cannot be made to stop the pipeline: the connection is closed.
  [[noreturn]] void give_up(std::string_view why) {
    const std::string where = conn_.description();
    detail::connection_access::close(conn_);
    throw connection_error(fmt::format(
        "pgorm: the pipeline did not finish within its {} ms deadline and {}; the connection "
        "({}) was closed",
        d_.budget().count(), why, where));
  }

  void cancel() {
    const std::optional<detail::cancel_key> key = detail::connection_access::cancel_key_of(conn_);
    if (!key) give_up("the connection has no cancel key");
    if (!detail::send_cancel(*key, grace_)) {
      give_up("the server did not acknowledge the cancel request in time");
    }
    resend_ = detail::deadline::after(detail::cancel_resend_after(resends_++));
  }

  connection& conn_;
  const detail::deadline& d_;
  bool stopped_ = false;
  std::size_t batches_ = 0;  // batches left when the last cancel went out
  unsigned resends_ = 0;
  detail::deadline grace_;
  detail::deadline resend_;
};

}  // namespace

// ---- reading the results ----------------------------------------------------------------------

namespace detail {

std::size_t pipeline_reader::take(PGresult* r) {
  if (r == nullptr) {
    // The end of one statement's results (libpq 34.5.1.2).
    ++nulls_;
    if (cur_has_) {
      ++cur_;
      cur_has_ = false;
    }
    return none;
  }
  nulls_ = 0;
  const ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_PIPELINE_SYNC) {
    PQclear(r);
    --batches_left_;
    failed_ = none;
    if (cur_has_) {
      ++cur_;
      cur_has_ = false;
    }
    return none;
  }
  if (cur_has_) ++cur_;
  cur_has_ = true;
  if (cur_ >= slots_.size()) {
    PQclear(r);
    // After the last statement's end: libpq's report that the server closed the connection
    // (a terminated backend sends its own error first, which went to the statement it ended).
    if (PQstatus(c_) != CONNECTION_OK) {
      throw_connection_error(c_, "the connection was lost during a pipeline", secrets_);
    }
    throw connection_error("pgorm: pipeline: more results than statements");
  }
  pipeline_slot& slot = *slots_[cur_];
  switch (status) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
      // Built in place: the slot's result is empty (each statement gets one), and a move-
      // assignment and a temporary's destruction cost ~30 instructions per statement.
      std::destroy_at(&slot.res);
      std::construct_at(&slot.res, r, slot.checked);
      break;
    case PGRES_PIPELINE_ABORTED: {
      PQclear(r);
      std::string why = "an earlier statement of its batch failed";
      std::size_t failed_index = slot.index;
      if (failed_ != none) {
        const pipeline_slot& f = *slots_[failed_];
        failed_index = f.index;
        why = fmt::format("statement {} of its batch failed earlier: {}", f.index,
                          f.error ? what_of(f.error) : std::string("(no error text)"));
      }
      slot.error = std::make_exception_ptr(pipeline_aborted(
          fmt::format("pgorm: pipeline statement {} was skipped by the server because {} "
                      "(statements are numbered from 0 in add() order)",
                      slot.index, why),
          slot.index, failed_index));
      break;
    }
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
      PQclear(r);
      slot.error = std::make_exception_ptr(
          usage_error("pgorm: COPY cannot run in a pipeline; use pgorm::copy_in/copy_out"));
      failed_ = cur_;
      break;
    default:
      try {
        throw_result_error(r, c_, slot.sql, slot.params.params(), secrets_);
      } catch (...) {
        slot.error = std::current_exception();
      }
      PQclear(r);
      failed_ = cur_;
      if (PQstatus(c_) != CONNECTION_OK) {
        slot.done = true;
        std::rethrow_exception(slot.error);
      }
      break;
  }
  slot.done = true;
  return cur_;
}

}  // namespace detail

std::shared_ptr<const detail::pipeline_slot> pipeline_statements::push(
    std::shared_ptr<detail::pipeline_slot> slot, const statement_shape& shape, std::string sql) {
  const std::string_view static_sql = shape.sql;
  if (slot->params.size() > 65535) {
    throw usage_error(fmt::format(
        "pgorm: this statement needs {} parameters, more than PostgreSQL's limit of 65535; "
        "split it, or use pgorm::copy_in for bulk rows",
        slot->params.size()));
  }
  if (static_sql.empty()) {
    // libpq reads the text up to its first NUL: refuse it here rather than run a cut statement.
    // (A builder's static text is pgorm's own, made at compile time: the single-statement path
    // does not scan it either.)
    if (sql.find('\0') != std::string::npos) detail::throw_nul_in_sql(sql);
    slot->owned_sql = std::move(sql);
    slot->sql = slot->owned_sql;
  } else {
    slot->sql = static_sql;
  }
  slot->layout = shape.layout;
  slot->origin = shape.origin;
  slot->index = added_++;
  queued_.push_back(slot);
  return slot;
}

void pipeline_statements::reserve(std::size_t more) { queued_.reserve(queued_.size() + more); }

void pipeline_statements::sync() {
  if (!queued_.empty() && (syncs_.empty() || syncs_.back() != queued_.size())) {
    syncs_.push_back(queued_.size());
  }
}

detail::pipeline_batch pipeline_statements::take() {
  detail::pipeline_batch batch{std::move(queued_), std::move(syncs_)};
  queued_.clear();
  syncs_.clear();
  if (!batch.slots.empty() && (batch.syncs.empty() || batch.syncs.back() != batch.slots.size())) {
    batch.syncs.push_back(batch.slots.size());
  }
  return batch;
}

void pipeline::run() { run(std::chrono::milliseconds(0)); }

void pipeline::run(std::chrono::milliseconds timeout) {
  // Take the queue first: whatever happens below, the pipeline is empty and reusable after.
  detail::pipeline_batch batch = take();
  std::vector<slot_ptr>& slots = batch.slots;
  const std::vector<std::size_t>& syncs = batch.syncs;
  if (slots.empty()) return;

  // Statements whose results were first found to match their row layout in this run.
  std::vector<const detail::pipeline_slot*> newly_checked;
  const auto settle_rest = [&](const std::exception_ptr& error) {
    for (const slot_ptr& s : slots) {
      if (!s->done) {
        s->error = error;
        s->done = true;
      }
    }
  };

  PGconn* c = conn_->native_handle();
  // Every error message is scrubbed of the connection's secrets, as the connection's own are.
  const std::vector<std::string>& secrets = detail::connection_access::secrets(*conn_);
  // One budget for the whole run: preparing, sending and every result.
  const detail::deadline d = detail::connection_access::call_deadline(*conn_, timeout);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    try {
      if (c == nullptr) throw connection_error("pgorm: pipeline::run() on a closed connection");
      detail::throw_connection_error(c, "pipeline::run() on a broken connection", secrets);
    } catch (...) {
      settle_rest(std::current_exception());
      throw;
    }
  }
  if (PQpipelineStatus(c) != PQ_PIPELINE_OFF) {
    throw usage_error("pgorm: pipeline::run(): the connection is already in pipeline mode");
  }

  // Prepare (or find in the connection's cache) each distinct statement before entering
  // pipeline mode, where a synchronous PQprepare is not allowed. When the pipeline has more
  // distinct statements than the cache holds, early names could be evicted by later ones: it
  // then uses unnamed statements.
  // Statements added by add_each() share one text (often in static storage): a statement like
  // the one before it (same text and parameter types) reuses its lookup.
  const auto same_statement = [](const detail::pipeline_slot& a, const detail::pipeline_slot& b) {
    if (a.sql.size() != b.sql.size()) return false;
    if (a.sql.data() != b.sql.data() && a.sql != b.sql) return false;
    // The parameter types, from the arrays libpq is sent (no param views are built).
    const detail::bind_arrays& pa = a.params.arrays();
    const detail::bind_arrays& pb = b.params.arrays();
    return pa.count == pb.count && std::equal(pa.types, pa.types + pa.count, pb.types);
  };
  std::unordered_set<std::string_view> distinct;
  for (std::size_t i = 0; i != slots.size(); ++i) {
    if (i == 0 || slots[i]->sql.data() != slots[i - 1]->sql.data() ||
        slots[i]->sql.size() != slots[i - 1]->sql.size()) {
      distinct.insert(slots[i]->sql);
    }
  }
  if (distinct.size() <= conn_->statement_cache_capacity()) {
    try {
      for (std::size_t i = 0; i != slots.size(); ++i) {
        detail::pipeline_slot& slot = *slots[i];
        if (i > 0 && same_statement(slot, *slots[i - 1])) {
          slot.prepared = slots[i - 1]->prepared;
          slot.checked = slot.layout == slots[i - 1]->layout ? slots[i - 1]->checked : nullptr;
          continue;
        }
        const detail::prepared_ref ref = detail::connection_access::prepare_cached(
            *conn_, statement_shape{.sql = slot.sql}, detail::pack(slot.params), d);
        slot.prepared = ref.name == nullptr ? std::string() : *ref.name;
        // Read now: a later statement of this loop may evict the entry.
        slot.checked = ref.entry != nullptr && slot.layout != nullptr &&
                               ref.entry->checked != nullptr &&
                               ref.entry->checked->layout == slot.layout
                           ? ref.entry->checked
                           : nullptr;
      }
    } catch (const sql_error&) {
      // A statement the server rejects: send everything unnamed, so that its error is reported
      // at its place in the pipeline like any other.
      for (const slot_ptr& slot : slots) {
        slot->prepared.clear();
        slot->checked = nullptr;
      }
    } catch (...) {
      settle_rest(std::current_exception());
      throw;
    }
  }

  // Observer events, one per statement: each starts when its statement is sent and ends when
  // its result (or error) arrives, so its duration includes the wait behind the statements
  // before it in the pipeline.
  std::vector<std::unique_ptr<detail::statement_report>> reports(slots.size());
  const auto report = [&](std::size_t i) noexcept {
    if (!reports[i]) return;
    const detail::pipeline_slot& slot = *slots[i];
    if (slot.error) {
      reports[i]->failed(slot.error);
    } else if (slot.done) {
      reports[i]->succeeded(slot.rows > 0 ? slot.rows : slot.affected);
    } else {
      return;  // not settled yet
    }
    reports[i].reset();
  };
  const auto report_all = [&]() noexcept {
    for (std::size_t i = 0; i != slots.size(); ++i) report(i);
  };

  try {
    // The connection is in non-blocking mode (the engine's), so sending many statements cannot
    // deadlock against a server that is blocked writing results we are not reading yet (libpq
    // docs 34.5.1.1).
    detail::before_send(*conn_, d);
    pipeline_mode_guard guard{*conn_};
    if (PQenterPipelineMode(c) != 1) {
      detail::throw_connection_error(c, "pipeline: cannot enter pipeline mode", secrets);
    }

    std::size_t next_sync = 0;
    for (std::size_t i = 0; i != slots.size(); ++i) {
      if (conn_->events() != nullptr) {
        reports[i] = std::make_unique<detail::statement_report>(*conn_, slots[i]->sql,
                                                                slots[i]->params.params());
      }
      detail::send_pipelined(c, *slots[i], secrets);
      if (syncs[next_sync] == i + 1) {
        if (PQpipelineSync(c) != 1)
          detail::throw_connection_error(c, "pipeline: sync failed", secrets);
        ++next_sync;
      }
    }

    detail::pipeline_reader reader(slots, syncs.size(), c, secrets);
    detail::pipeline_arena rows_arena;  // the rows copied out of the results (pipeline_rows)
    pipeline_stop stop(*conn_, d);
    while (reader.batches_left() > 0) {
      const int flushed = PQflush(c);
      if (flushed < 0) detail::throw_connection_error(c, "pipeline: sending failed", secrets);
      reader.reset_nulls();
      while (reader.batches_left() > 0 && PQisBusy(c) == 0 && reader.nulls() < 2) {
        const std::size_t cur = reader.take(PQgetResult(c));
        if (cur == detail::pipeline_reader::none) continue;
        detail::pipeline_slot& slot = *slots[cur];
        if (!slot.error && slot.checked == nullptr && slot.layout != nullptr &&
            !slot.prepared.empty()) {
          // Not checked yet: check once here (a statement like the one before it reuses that)
          // and remember it on the cache entry after the run.
          const detail::pipeline_slot* prev = cur > 0 ? slots[cur - 1].get() : nullptr;
          const bool known = prev != nullptr && prev->checked != nullptr &&
                             prev->checked->layout == slot.layout &&
                             prev->prepared == slot.prepared;
          if (known) {
            slot.checked = prev->checked;
          } else if (slot.res.columns_match(*slot.layout)) {
            slot.checked = intern_checked_columns(*slot.layout, slot.res);
            newly_checked.push_back(&slot);
          }
          if (slot.checked != nullptr) slot.res = result(slot.res.release(), slot.checked);
        }
        detail::pipeline_settle(slot, rows_arena);
        report(cur);
      }
      if (reader.batches_left() == 0) break;
      stop.on_batches(reader.batches_left());
      if (PQisBusy(c) != 0 || reader.nulls() >= 2) {
        detail::io_watch w{PQsocket(c),
                           flushed == 1 ? detail::io_wait::read_write : detail::io_wait::read};
        if (detail::wait_io(std::span<detail::io_watch>(&w, 1), stop.wait_until()) !=
            detail::wait_status::ready) {
          stop.on_timeout(reader.batches_left());
          continue;
        }
        stop.on_input();
        if (PQconsumeInput(c) == 0) {
          detail::throw_connection_error(c, "pipeline: receiving results failed", secrets);
        }
      }
    }
    // Every result is in: leaving pipeline mode now succeeds (the guard would do it too).
    PQexitPipelineMode(c);
    for (const detail::pipeline_slot* slot : newly_checked) {
      detail::connection_access::note_checked(*conn_, statement_shape{.sql = slot->sql},
                                              slot->params.params(), slot->checked);
    }
    report_all();
    if (stop.stopped()) throw stop.error();
  } catch (...) {
    settle_rest(std::current_exception());
    report_all();
    throw;
  }
}

}  // namespace pgorm
