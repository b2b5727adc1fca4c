// SPDX-License-Identifier: MIT
#include "pgorm/copy.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "command.hpp"
#include "engine.hpp"
#include "libpq_util.hpp"
#include "pgorm/detail/sql_scanner.hpp"

namespace pgorm::detail {

namespace {

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

[[noreturn]] void throw_bad_stream(const std::string& what) {
  throw conversion_error("pgorm: malformed binary COPY data: " + what, "", "", "", "");
}

PGconn* handle_of(connection& conn) {
  PGconn* c = conn.native_handle();
  if (c == nullptr) throw connection_error("pgorm: COPY on a closed connection");
  return c;
}

// Reads the COPY's remaining results through its end, within the command's deadline; returns
// the first failed one (if any) so that the caller can throw it once the connection is idle.
result_ptr drain(command& cmd, std::int64_t* rows) {
  result_ptr failed;
  while (PGresult* r = cmd.next()) {
    result_ptr res(r);
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK) {
      if (rows != nullptr) {
        const char* tag = PQcmdTuples(r);
        *rows = (tag != nullptr && *tag != '\0') ? std::stoll(tag) : 0;
      }
    } else if (!failed) {
      failed = std::move(res);
    }
  }
  return failed;
}

// Sends what libpq has buffered, waiting (within `d`) while the socket takes no more. Past the
// deadline the COPY is cancelled and the connection closed (abandon_at_deadline).
void flush_within(connection& conn, PGconn* c, const deadline& d, std::string_view what) {
  for (;;) {
    const int flushed = PQflush(c);
    if (flushed == 0) return;
    if (flushed < 0)
      throw_connection_error(c, "sending COPY data failed", connection_access::secrets(conn));
    io_watch w{PQsocket(c), io_wait::read_write};
    if (wait_io(std::span<io_watch>(&w, 1), d) != wait_status::ready) {
      abandon_at_deadline(conn, d, what);
    }
    if (PQconsumeInput(c) == 0)
      throw_connection_error(c, "sending COPY data failed", connection_access::secrets(conn));
  }
}

}  // namespace

// ---- copy_decoder -----------------------------------------------------------------------------

void copy_decoder::feed(std::string_view chunk, const row_fn& on_row, std::size_t expected_fields) {
  if (pending_.empty()) {
    const std::size_t used = parse(chunk, on_row, expected_fields);
    pending_.assign(chunk.substr(used));
  } else {
    pending_.append(chunk);
    const std::size_t used = parse(pending_, on_row, expected_fields);
    pending_.erase(0, used);
  }
}

void copy_decoder::finish() const {
  if (!header_done_) throw_bad_stream("the stream ended before its header");
  if (!trailer_seen_) throw_bad_stream("the stream ended without its trailer");
  if (!pending_.empty()) throw_bad_stream("bytes after the trailer");
}

// Returns how many bytes of `data` were consumed: whole header and whole tuples only.
std::size_t copy_decoder::parse(std::string_view data, const row_fn& on_row,
                                std::size_t expected_fields) {
  std::size_t at = 0;
  const auto have = [&](std::size_t n) { return data.size() - at >= n; };
  if (!header_done_) {
    if (!have(copy_signature.size() + 8)) return 0;
    if (data.substr(0, copy_signature.size()) != copy_signature) {
      throw_bad_stream("the signature is not PGCOPY\\n\\377\\r\\n\\0");
    }
    const auto flags = load_be<std::int32_t>(data.data() + copy_signature.size());
    if ((flags & (1 << 16)) != 0) throw_bad_stream("the stream includes OIDs");
    if ((static_cast<std::uint32_t>(flags) & 0xffff0000U) != 0) {
      throw_bad_stream("unknown critical flags in the header");
    }
    const auto ext = load_be<std::int32_t>(data.data() + copy_signature.size() + 4);
    if (ext < 0) throw_bad_stream("negative header extension length");
    const std::size_t header = copy_signature.size() + 8 + static_cast<std::size_t>(ext);
    if (data.size() < header) return 0;
    at = header;
    header_done_ = true;
  }
  while (have(2)) {
    if (trailer_seen_) throw_bad_stream("bytes after the trailer");
    const auto count = load_be<std::int16_t>(data.data() + at);
    if (count == -1) {
      trailer_seen_ = true;
      at += 2;
      continue;
    }
    if (count < 0) throw_bad_stream("negative field count");
    const auto n = static_cast<std::size_t>(count);
    if (expected_fields != 0 && n != expected_fields) {
      throw_bad_stream(fmt::format("a tuple has {} fields, expected {}", n, expected_fields));
    }
    // Scan the tuple first: only a complete one is handed out.
    std::size_t p = at + 2;
    fields_.clear();
    bool complete = true;
    for (std::size_t i = 0; i != n; ++i) {
      if (data.size() - p < 4) {
        complete = false;
        break;
      }
      const auto len = load_be<std::int32_t>(data.data() + p);
      p += 4;
      if (len == -1) {
        fields_.emplace_back(std::nullopt);
        continue;
      }
      if (len < 0) throw_bad_stream("negative field length");
      if (data.size() - p < static_cast<std::size_t>(len)) {
        complete = false;
        break;
      }
      fields_.emplace_back(data.substr(p, static_cast<std::size_t>(len)));
      p += static_cast<std::size_t>(len);
    }
    if (!complete) break;
    on_row(fields_);
    ++rows_;
    at = p;
  }
  return at;
}

// ---- copy_in_stream ---------------------------------------------------------------------------

copy_in_stream::copy_in_stream(connection& conn, std::string_view sql,
                               std::chrono::milliseconds timeout)
    : conn_(&conn),
      sql_(sql),
      deadline_(connection_access::call_deadline(conn, timeout)),
      report_(new statement_report(conn, sql_, {}), [](statement_report* r) { delete r; }) {
  PGconn* c = handle_of(conn);
  result_ptr r;
  try {
    r.reset(connection_access::run_simple(conn, sql_, deadline_));
  } catch (...) {
    open_ = false;
    report_->failed(std::current_exception());
    throw;
  }
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) {
    open_ = false;
    try {
      if (!r) throw_connection_error(c, "starting COPY failed", connection_access::secrets(*conn_));
      throw_result_error(r.get(), c, sql_, {}, connection_access::secrets(*conn_));
    } catch (...) {
      report_->failed(std::current_exception());
      throw;
    }
  }
}

copy_in_stream::~copy_in_stream() {
  if (open_) abort("pgorm: COPY abandoned");
}

void copy_in_stream::put(std::string_view bytes) {
  PGconn* c = handle_of(*conn_);
  while (!bytes.empty()) {
    // PQputCopyData takes an int length.
    const std::size_t n = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
    const int queued = PQputCopyData(c, bytes.data(), static_cast<int>(n));
    if (queued < 0) {
      open_ = false;
      throw_connection_error(c, "sending COPY data failed", connection_access::secrets(*conn_));
    }
    if (queued == 0) {
      // Non-blocking: libpq's buffer is full until the socket takes some of it.
      try {
        flush_within(*conn_, c, deadline_, "COPY");
      } catch (...) {
        open_ = false;
        throw;
      }
      continue;
    }
    bytes.remove_prefix(n);
    // Send it before queueing more: in non-blocking mode libpq keeps what the socket does not
    // take at once, and its buffer would grow (and be copied) with every chunk (bench: +60
    // instructions per bulk-inserted row).
    try {
      flush_within(*conn_, c, deadline_, "COPY");
    } catch (...) {
      open_ = false;
      throw;
    }
  }
}

std::int64_t copy_in_stream::finish() {
  try {
    PGconn* c = handle_of(*conn_);
    open_ = false;
    for (;;) {
      const int ended = PQputCopyEnd(c, nullptr);
      if (ended < 0)
        throw_connection_error(c, "ending COPY failed", connection_access::secrets(*conn_));
      if (ended == 1) break;
      flush_within(*conn_, c, deadline_, "COPY");
    }
    flush_within(*conn_, c, deadline_, "COPY");
    std::int64_t rows = 0;
    command cmd(*conn_, deadline_, sql_);
    const result_ptr failed = drain(cmd, &rows);
    if (failed) throw_result_error(failed.get(), c, sql_, {}, connection_access::secrets(*conn_));
    if (PQstatus(c) != CONNECTION_OK)
      throw_connection_error(c, "COPY failed", connection_access::secrets(*conn_));
    report_->succeeded(rows);
    return rows;
  } catch (...) {
    report_->failed(std::current_exception());
    throw;
  }
}

void copy_in_stream::abort(std::string_view reason) noexcept {
  if (!open_) return;
  open_ = false;
  PGconn* c = conn_->native_handle();
  if (c == nullptr) return;
  const std::string text(reason);
  // The server answers with an error (57014, "COPY from stdin failed: <reason>"): expected.
  // Within the grace period only: a dead link closes the connection instead.
  const auto grace = deadline::after(connection_access::options(*conn_).cancel_grace);
  try {
    if (PQputCopyEnd(c, text.c_str()) < 0) {
      connection_access::close(*conn_);
      return;
    }
    flush_within(*conn_, c, grace, "COPY");
    command cmd(*conn_, grace, sql_);
    (void)drain(cmd, nullptr);
  } catch (...) {
    connection_access::close(*conn_);
  }
}

// ---- copy out ---------------------------------------------------------------------------------

std::int64_t copy_out_chunks_unreported(connection& conn, std::string_view copy_sql,
                                        const std::function<void(std::string_view)>& on_chunk,
                                        std::chrono::milliseconds timeout);

std::int64_t copy_out_chunks(connection& conn, std::string_view copy_sql,
                             const std::function<void(std::string_view)>& on_chunk,
                             std::chrono::milliseconds timeout) {
  statement_report report(conn, copy_sql, {});
  try {
    const std::int64_t rows = copy_out_chunks_unreported(conn, copy_sql, on_chunk, timeout);
    report.succeeded(rows);
    return rows;
  } catch (...) {
    report.failed(std::current_exception());
    throw;
  }
}

std::int64_t copy_out_chunks_unreported(connection& conn, std::string_view copy_sql,
                                        const std::function<void(std::string_view)>& on_chunk,
                                        std::chrono::milliseconds timeout) {
  PGconn* c = handle_of(conn);
  const std::string sql(copy_sql);
  const deadline d = connection_access::call_deadline(conn, timeout);
  {
    result_ptr r(connection_access::run_simple(conn, sql, d));
    if (!r) throw_connection_error(c, "starting COPY failed", connection_access::secrets(conn));
    if (PQresultStatus(r.get()) != PGRES_COPY_OUT)
      throw_result_error(r.get(), c, sql, {}, connection_access::secrets(conn));
  }
  command cmd(conn, d, sql);
  for (;;) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(c, &buffer, 1);  // async: never blocks
    if (n == -1) break;                          // done: the final result follows
    if (n < -1)
      throw_connection_error(c, "receiving COPY data failed", connection_access::secrets(conn));
    if (n == 0) {
      if (!cmd.await_input()) break;  // the deadline passed: the COPY was cancelled
      if (PQconsumeInput(c) == 0)
        throw_connection_error(c, "receiving COPY data failed", connection_access::secrets(conn));
      continue;
    }
    std::unique_ptr<char, decltype(&PQfreemem)> owned(buffer, &PQfreemem);
    try {
      on_chunk(std::string_view(buffer, static_cast<std::size_t>(n)));
    } catch (...) {
      // Stop the server from sending the rest and drop what is on its way (within the cancel
      // grace period; the connection is closed when that fails).
      owned.reset();
      cmd.abandon();
      throw;
    }
  }
  std::int64_t rows = 0;
  const result_ptr failed = drain(cmd, &rows);
  if (failed) throw_result_error(failed.get(), c, sql, {}, connection_access::secrets(conn));
  return rows;
}

std::string inline_params_probe(std::span<const param> params) {
  // One round trip: the server renders each value as text and quotes it (quote_nullable), so
  // no value is ever spliced into SQL by hand. format_type() names the parameter's type.
  std::string probe = "SELECT ";
  for (std::size_t i = 0; i != params.size(); ++i) {
    if (i != 0) probe += ", ";
    const oid type = params[i].type();
    if (type == 0) {
      probe += fmt::format("quote_nullable(${}::text)", i + 1);
    } else {
      probe +=
          fmt::format("quote_nullable(${}::text) || '::' || format_type({}, NULL)", i + 1, type);
    }
  }
  return probe;
}

std::string inline_params_apply(std::string_view sql, const result& literals, std::size_t count) {
  std::string out;
  out.reserve(sql.size() + 16 * count);
  // pgorm's one SQL scanner: a $n inside quotes, comments or dollar quotes is not a parameter.
  sql::scanner scanner(sql);
  sql::token t;
  while (scanner.next(t)) {
    if (t.kind != sql::token_kind::parameter) {
      out.append(t.text(sql));
      continue;
    }
    const std::size_t n = sql::parameter_number(t.text(sql), count);
    if (n == 0 || n > count) {
      throw usage_error(fmt::format("pgorm: {} has no parameter ({} given)", t.text(sql), count));
    }
    out += '(';
    out += literals.value(0, static_cast<int>(n - 1));
    out += ')';
  }
  return out;
}

std::string inline_params(connection& conn, std::string_view sql, std::span<const param> params) {
  const result literals = conn.exec(inline_params_probe(params), params, data_format::text);
  return inline_params_apply(sql, literals, params.size());
}

oid copy_type_oid(const result& r, std::string_view type_name, std::string_view table,
                  std::string_view column) {
  if (r.rows() != 1 || r.is_null(0, 0)) {
    throw usage_error(fmt::format(
        "pgorm: COPY into {}.{}: the server has no type \"{}\" (enum_traits<E>::type_name of "
        "the array's elements); create it, or fix the name",
        table, column, type_name));
  }
  return static_cast<oid>(std::stoul(std::string(r.value(0, 0))));
}

oid copy_lookup_type(connection& conn, std::string_view type_name, std::string_view table,
                     std::string_view column) {
  const std::string name(type_name);
  return copy_type_oid(conn.exec(copy_lookup_sql, {param::text(name)}), type_name, table, column);
}

}  // namespace pgorm::detail
