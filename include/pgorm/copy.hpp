// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Bulk transfer with binary COPY: copy_in() writes a range of structs with
/// `COPY table (cols) FROM STDIN (FORMAT binary)`; copy_out() streams a table or a select back
/// into structs with `COPY (select ...) TO STDOUT (FORMAT binary)`. Values go through the same
/// codecs (pg_type<T>) as parameters and results. See docs/copy.md.
///
/// ```cpp
/// std::int64_t written = pgorm::copy_in(conn, users);
/// pgorm::copy_out<User>(conn, [&](const User& u) { index.add(u); });
/// ```

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/row.hpp"
#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace pgorm {

namespace detail {

// ---- the binary COPY format (PostgreSQL docs, COPY, "Binary Format") -------------------------

/// The 11-byte signature that starts every binary COPY stream.
inline constexpr std::string_view copy_signature{"PGCOPY\n\377\r\n\0", 11};

/// Appends the header: signature, flags (0: no OIDs), header-extension length (0).
inline void copy_write_header(byte_buffer& out) {
  out.append(copy_signature);
  out.append_be(std::int32_t{0});
  out.append_be(std::int32_t{0});
}

/// Appends the trailer: a field count of -1.
inline void copy_write_trailer(byte_buffer& out) { out.append_be(std::int16_t{-1}); }

/// A field whose binary form needs a type OID that only the server knows: an array of a
/// PostgreSQL enum (its codec names the element type, element_type_name).
template <class F>
concept runtime_oid_field = !pg_type<F>::element_type_name.empty();

/// Appends one field: its byte length (-1 for NULL), then its binary form from pg_type<F>;
/// `element_oid` is the looked-up element type of a runtime_oid_field, else unused.
template <class F>
[[gnu::always_inline]] inline void copy_write_field(const F& value, byte_buffer& out,
                                                    oid element_oid = 0) {
  using codec = pg_type<F>;
  if constexpr (codec::nullable) {
    if (codec::is_null(value)) {
      out.append_be(std::int32_t{-1});
      return;
    }
  }
  const std::size_t at = out.append_placeholder32();
  if constexpr (runtime_oid_field<F>) {
    codec::encode_binary(value, out, element_oid);
  } else {
    (void)element_oid;
    codec::encode(value, out);
  }
  const std::size_t size = out.size() - at - 4;
  if (size > 0x7fffffffU) [[unlikely]]
    throw_encode_error("pgorm: a COPY field is larger than 2 GiB");
  out.patch_be32(at, static_cast<std::int32_t>(size));
}

/// Which fields of T a COPY writes, by field index.
template <class T>
using copy_mask = std::array<bool, field_count_v<T>>;

/// The default mask: every column but identity columns (see copy_in).
template <class T>
constexpr copy_mask<T> copy_default_mask() {
  copy_mask<T> mask{};
  for (std::size_t i = 0; i != mask.size(); ++i) mask[i] = !table<T>::columns[i].is_identity();
  return mask;
}

/// How many columns `mask` writes: each row's field count in the binary COPY format.
template <class T>
constexpr std::int16_t copy_field_count(const copy_mask<T>& mask) noexcept {
  std::int16_t fields = 0;
  for (bool b : mask) fields = static_cast<std::int16_t>(fields + (b ? 1 : 0));
  return fields;
}

/// Per field of T, the element type OID its binary form needs (runtime_oid_field), else 0.
template <class T>
using copy_oids = std::array<oid, field_count_v<T>>;

/// The OID of the type `type_name` (to_regtype, through the search_path). Throws usage_error
/// naming the type, table and column when the server has no such type. In src/copy.cpp.
PGORM_API oid copy_lookup_type(connection& conn, std::string_view type_name, std::string_view table,
                               std::string_view column);

/// The query copy_lookup_type() runs, with the type's name as its one (text) parameter.
inline constexpr std::string_view copy_lookup_sql = "select to_regtype($1)::oid::int8";

/// The OID in `r`, the result of copy_lookup_sql for `type_name` (see copy_lookup_type()).
PGORM_API oid copy_type_oid(const result& r, std::string_view type_name, std::string_view table,
                            std::string_view column);

/// Looks up the element types of the runtime_oid_field fields `mask` selects (one round trip
/// each; none for most tables).
template <class T>
copy_oids<T> copy_lookup_oids(connection& conn, const copy_mask<T>& mask) {
  copy_oids<T> oids{};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using F = field_type_t<T, I>;
          if constexpr (runtime_oid_field<F>) {
            if (mask[I]) {
              oids[I] = copy_lookup_type(conn, pg_type<F>::element_type_name,
                                         table<T>::qualified_name, table<T>::columns[I].name);
            }
          }
        }(),
        ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  return oids;
}

/// Appends one tuple: the field count, then each field `mask` selects, in field order.
template <class T>
void copy_write_row(const T& row, const copy_mask<T>& mask, std::int16_t fields, byte_buffer& out,
                    const copy_oids<T>& oids = {}) {
  out.append_be(fields);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((mask[I] ? copy_write_field(get_field<I>(row), out, oids[I]) : void()), ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
}

/// Parses a binary COPY stream fed in arbitrary chunks (the header may share a chunk with
/// the first tuple; a tuple may be split across chunks) and hands each tuple's fields to a
/// callback: std::nullopt for NULL. In src/copy.cpp.
///
/// Example: `copy_decoder d; d.feed(bytes, [&](auto fields) { ... }); d.finish();`
class PGORM_API copy_decoder {
 public:
  using row_fn = std::function<void(std::span<const std::optional<std::string_view>>)>;

  /// Consumes `chunk`, calling `on_row` for each complete tuple. Throws conversion_error for a
  /// malformed stream (bad signature, OIDs included, unknown critical flags, bad lengths, or a
  /// tuple with another field count than `expected_fields` when that is not 0).
  void feed(std::string_view chunk, const row_fn& on_row, std::size_t expected_fields = 0);
  /// Checks that the stream ended with its trailer and nothing after it.
  void finish() const;
  /// Tuples decoded so far.
  [[nodiscard]] std::int64_t rows() const noexcept { return rows_; }

 private:
  std::size_t parse(std::string_view data, const row_fn& on_row, std::size_t expected_fields);

  std::string pending_;
  std::vector<std::optional<std::string_view>> fields_;
  std::int64_t rows_ = 0;
  bool header_done_ = false;
  bool trailer_seen_ = false;
};

/// A COPY ... FROM STDIN in progress on a connection. The constructor sends the statement;
/// put() sends data; finish() ends it and returns the row count, or throws the statement's
/// typed error (e.g. unique_violation). Destroyed unfinished, it aborts the COPY (the server
/// discards every row) and leaves the connection usable. In src/copy.cpp.
class statement_report;  // src/libpq_util.hpp: reports the COPY to the connection's observer

class PGORM_API copy_in_stream {
 public:
  /// `timeout` bounds the whole COPY, from its start to finish() (zero: the connection's
  /// connect_options::query_timeout).
  copy_in_stream(connection& conn, std::string_view sql,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  copy_in_stream(const copy_in_stream&) = delete;
  copy_in_stream& operator=(const copy_in_stream&) = delete;
  ~copy_in_stream();

  void put(std::string_view bytes);
  std::int64_t finish();
  /// Aborts with `reason` (PQputCopyEnd with an error message) and drains the results.
  void abort(std::string_view reason) noexcept;

 private:
  connection* conn_;
  std::string sql_;
  deadline deadline_;
  bool open_ = true;
  std::unique_ptr<statement_report, void (*)(statement_report*)> report_;
};

/// Runs `copy_sql` (a COPY ... TO STDOUT) and hands each data chunk to `on_chunk`. An
/// exception from on_chunk cancels the COPY on the server, drains the connection (which stays
/// usable) and propagates. Returns the server's row count. In src/copy.cpp.
PGORM_API std::int64_t copy_out_chunks(
    connection& conn, std::string_view copy_sql,
    const std::function<void(std::string_view)>& on_chunk,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

/// `sql` with every `$n` placeholder (outside quotes and comments) replaced by the value of
/// params[n-1] as a typed SQL literal (`'42'::bigint`), rendered and quoted by the server in
/// one round trip: COPY (query) accepts no parameters. In src/copy.cpp.
PGORM_API std::string inline_params(connection& conn, std::string_view sql,
                                    std::span<const param> params);

/// The query inline_params() runs (with `params` as its parameters, text results): one
/// quoted, typed literal per parameter.
PGORM_API std::string inline_params_probe(std::span<const param> params);

/// `sql` with each `$n` replaced by the literal in column n-1 of `literals` (the result of
/// inline_params_probe() for `count` parameters).
PGORM_API std::string inline_params_apply(std::string_view sql, const result& literals,
                                          std::size_t count);

/// `COPY <table> (<cols>) FROM STDIN (FORMAT binary)` for the columns `mask` selects.
template <class T>
std::string copy_in_sql(const copy_mask<T>& mask) {
  std::string sql = "COPY ";
  sql += table<T>::qualified_name;
  sql += " (";
  bool first = true;
  for (std::size_t i = 0; i != mask.size(); ++i) {
    if (!mask[i]) continue;
    if (!first) sql += ", ";
    first = false;
    sql += table<T>::columns[i].sql_name;
  }
  sql += ") FROM STDIN (FORMAT binary)";
  return sql;
}

/// Bytes buffered before each PQputCopyData: large enough to amortize the call, small enough
/// to stay in cache.
inline constexpr std::size_t copy_chunk_bytes = 256 * 1024;

/// The deadline of one COPY call: `timeout`, else the connection's default.
inline deadline copy_deadline(const connection& conn, std::chrono::milliseconds timeout) noexcept {
  return deadline::after(timeout.count() > 0 ? timeout : conn.default_timeout());
}

/// copy_in with an explicit column mask (insert() uses it to leave "not set" defaults out).
template <class T, class R>
std::int64_t copy_in_masked(connection& conn, R&& rows, const copy_mask<T>& mask,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  const deadline d = copy_deadline(conn, timeout);
  const std::int16_t fields = copy_field_count<T>(mask);
  const copy_oids<T> oids = copy_lookup_oids<T>(conn, mask);
  copy_in_stream stream(conn, copy_in_sql<T>(mask), d.as_timeout());
  byte_buffer out;
  out.reserve(copy_chunk_bytes + 4096);
  copy_write_header(out);
  for (const auto& row : rows) {
    copy_write_row<T>(row, mask, fields, out, oids);
    if (out.size() >= copy_chunk_bytes) {
      stream.put(out.view());
      out.clear();
    }
  }
  copy_write_trailer(out);
  stream.put(out.view());
  return stream.finish();
}

/// Decodes one COPY field into `out` as read_value() does for a result value.
template <class F>
void copy_read_field(const std::optional<std::string_view>& bytes, oid type, F& out,
                     const field_context& ctx) {
  if (!bytes) [[unlikely]] {
    if constexpr (pg_type<F>::nullable) {
      pg_type<F>::set_null(out);
      return;
    } else {
      throw_unexpected_null(ctx, cpp_type_name<F>());
    }
  }
  try {
    pg_type<F>::decode(*bytes, type, out);
  } catch (const conversion_error& e) {
    rethrow_in_context(e, ctx, type, cpp_type_name<F>());
  }
}

/// The LIMIT 0 run of `sql` whose result names and types the columns a COPY of it returns.
inline std::string copy_shape_sql(std::string_view sql) {
  std::string shape_sql = "SELECT * FROM (";
  shape_sql += sql;
  shape_sql += ") AS pgorm_copy LIMIT 0";
  return shape_sql;
}

/// `COPY (<select>) TO STDOUT (FORMAT binary)`.
inline std::string copy_out_sql(std::string_view select) {
  std::string copy_sql = "COPY (";
  copy_sql += select;
  copy_sql += ") TO STDOUT (FORMAT binary)";
  return copy_sql;
}

/// The select that copy_out<T>() copies: every column of T's table.
template <class T>
std::string copy_table_select() {
  std::string sql = "SELECT ";
  sql += table<T>::select_list;
  sql += " FROM ";
  sql += table<T>::qualified_name;
  return sql;
}

/// Reads the tuples of a binary COPY stream into Rows: columns matched by name and
/// type-checked against `shape` (a LIMIT 0 run of the query, copy_shape_sql()) as row_reader
/// does, then each tuple decoded into one Row, reused.
template <class Row>
class copy_row_reader {
 public:
  explicit copy_row_reader(const result& shape)
      : width_(static_cast<std::size_t>(shape.columns())) {
    mapper_.prepare(shape, 0, shape.columns(), true);
  }
  /// Decodes the complete tuples of `chunk` (the rest waits for the next), calling
  /// fn(const Row&) for each.
  template <class F>
  void feed(std::string_view chunk, F& fn) {
    using desc = table<Row>;
    const copy_decoder::row_fn on_row = [&](std::span<const std::optional<std::string_view>> f) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (copy_read_field(f[static_cast<std::size_t>(mapper_.cols[I])], mapper_.types[I],
                         get_field<I>(row_), {desc::name, desc::columns[I].name}),
         ...);
      }
      (std::make_index_sequence<desc::column_count>{});
      fn(std::as_const(row_));
    };
    decoder_.feed(chunk, on_row, width_);
  }
  /// Checks that the stream ended whole.
  void finish() const { decoder_.finish(); }

 private:
  element_mapper<Row> mapper_;
  std::size_t width_;
  copy_decoder decoder_;
  Row row_{};
};

/// Streams the rows of `sql` (a SELECT with `params`) into `fn` through binary COPY. Columns
/// are matched and type-checked first, as row_reader does, from a LIMIT 0 run of the query.
template <class Row, class F>
std::int64_t copy_out_query(connection& conn, std::string_view sql, std::span<const param> params,
                            F& fn,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  static_assert(reflectable<Row> && !has_pg_type<Row>,
                "pgorm: copy_out() reads rows into a struct of columns (matched by name); "
                "select a struct, or use all()/each() for tuples and single values");
  if constexpr (reflectable<Row> && !has_pg_type<Row>) {
    const deadline d = copy_deadline(conn, timeout);
    const result shape =
        conn.exec(copy_shape_sql(sql), params, data_format::binary, d.as_timeout());
    copy_row_reader<Row> reader(shape);
    const std::string copy_sql =
        copy_out_sql(params.empty() ? std::string(sql) : inline_params(conn, sql, params));
    const std::int64_t n = copy_out_chunks(
        conn, copy_sql, [&](std::string_view chunk) { reader.feed(chunk, fn); }, d.as_timeout());
    reader.finish();
    return n;
  } else {
    return 0;
  }
}

}  // namespace detail

/// Writes every struct of `rows` into T's table with one binary `COPY ... FROM STDIN`, and
/// returns the number of rows written. Far faster than INSERT for many rows, and not bound by
/// the 65535-parameter limit.
///
/// Columns: every column of table<T> except identity columns (both GENERATED ALWAYS and BY
/// DEFAULT; the server numbers the rows, as with insert()). Unlike insert(), COPY has no
/// per-row defaults: every other column is written exactly as given, so a field left at its
/// value-initialized state is stored as that value (0, "", the epoch), not the column's
/// DEFAULT. Give such fields a value, or use insert().
///
/// Atomic: a failing row (constraint, conversion) writes nothing. Throws the statement's typed
/// error (unique_violation, not_null_violation, ...) or conversion_error from a codec; the
/// connection stays usable either way. Runs inside the current transaction, if any.
///
/// `timeout` bounds the whole call (zero: the connection's connect_options::query_timeout).
/// Past it the COPY is cancelled on the server, the connection is closed (data buffered on
/// the way would still arrive) and connection_error is thrown; nothing is written.
///
/// Example: `std::int64_t n = pgorm::copy_in(conn, users);  // std::vector<User>`
template <class R>
std::int64_t copy_in(connection& conn, R&& rows,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  static_assert(std::ranges::input_range<R>,
                "pgorm: copy_in() takes a range of structs, e.g. std::vector<User>");
  if constexpr (std::ranges::input_range<R>) {
    using T = std::remove_cvref_t<std::ranges::range_value_t<R>>;
    static_assert(reflectable<T>, "pgorm: copy_in() takes a range of structs that map to a table");
    if constexpr (reflectable<T>) {
      static constexpr detail::copy_mask<T> mask = detail::copy_default_mask<T>();
      return detail::copy_in_masked<T>(conn, std::forward<R>(rows), mask, timeout);
    }
  }
  return 0;
}

/// Streams every row of T's table into `fn(const T&)` with one binary
/// `COPY (SELECT ... FROM table) TO STDOUT`. Rows are decoded one at a time (nothing is held
/// whole in memory); the T passed to fn is reused, so copy it to keep it. Returns the number of
/// rows. An exception from fn cancels the COPY and propagates; the connection stays usable.
///
/// Throws conversion_error / unexpected_null as row mapping does (checked before any row
/// arrives), sql_error for server errors. Costs one extra round trip to check the columns.
/// `timeout` bounds the whole call (zero: the connection's default); past it the COPY is
/// cancelled on the server and query_canceled thrown (the connection stays usable), or the
/// connection closed when the server does not answer in time.
///
/// Example: `pgorm::copy_out<User>(conn, [&](const User& u) { out.push_back(u); });`
template <class T, class F>
std::int64_t copy_out(connection& conn, F&& fn,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  static_assert(reflectable<T>, "pgorm: copy_out<T>() reads T's table; T must map to a table");
  if constexpr (reflectable<T>) {
    return detail::copy_out_query<T>(conn, detail::copy_table_select<T>(), {}, fn, timeout);
  }
  return 0;
}

/// Streams the rows of a select builder (whose rows are a struct) into `fn(const Row&)` through
/// binary COPY. Parameters of the query are rendered as quoted, typed literals by the server
/// (COPY takes no `$n` parameters), which costs one more round trip.
///
/// Example:
/// ```
/// pgorm::copy_out(conn, pgorm::select<User>().where(pgorm::col<&User::age> > 18),
///                 [&](const User& u) { write_csv(u); });
/// ```
template <class Q, class F>
requires requires(const Q& q) {
  typename Q::row_type;
  { q.to_sql() } -> std::same_as<statement>;
}
std::int64_t copy_out(connection& conn, const Q& query, F&& fn,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  const statement s = query.to_sql();
  return detail::copy_out_query<typename Q::row_type>(conn, s.sql, s.params.params(), fn, timeout);
}

}  // namespace pgorm
