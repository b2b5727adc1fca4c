// SPDX-License-Identifier: MIT
// The code blocks of docs/connection.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <pgorm/row.hpp>

#include "schema.hpp"

// doc-begin(connect)
#include <pgorm/connection.hpp>

void open_connection() {
  using namespace std::chrono_literals;
  pgorm::connection conn{"postgresql://app@db.internal/app", {.connect_timeout = 2s}};
  pgorm::result r =
      conn.exec("select id, email from users where id = $1", {pgorm::param::text("42")});
}
// doc-end(connect)

namespace docs::connection {

void deadlines(const std::string& url) {
  // doc-begin(deadlines)
  using namespace std::chrono_literals;
  pgorm::connection c{url, {.query_timeout = 5s}};
  try {
    c.exec("select pg_sleep(60)", {}, pgorm::data_format::text, 200ms);
  } catch (const pgorm::query_canceled& e) {
    // cancelled on the server; c is still usable
  }
  c.exec("vacuum analyze users", 10min);  // a longer deadline for one call
  // doc-end(deadlines)
}

void text_params(pgorm::connection& conn) {
  // doc-begin(text_params)
  auto r = conn.exec("select $1::int + 1", {pgorm::param::text("41")});
  assert(r.value(0, 0) == "42");
  // doc-end(text_params)
}

void binary_params(pgorm::connection& conn) {
  // doc-begin(binary_params)
  const std::array<std::byte, 4> v{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{42}};
  auto r =
      conn.exec("select $1::int4 * 2", {pgorm::param::binary(v, 23)}, pgorm::data_format::binary);
  // r.value(0, 0) holds 4 big-endian bytes: 00 00 00 54
  // doc-end(binary_params)
}

void null_and_empty(pgorm::connection& conn) {
  // doc-begin(null_and_empty)
  auto r = conn.exec("select $1::text, $2::text", {pgorm::param::null(), pgorm::param::text("")});
  assert(r.get(0, 0) == std::nullopt && r.get(0, 1) == std::optional<std::string_view>(""));
  // doc-end(null_and_empty)
}

void prepared(pgorm::connection& conn) {
  // doc-begin(prepared)
  const std::array params{pgorm::param::text("41")};
  const pgorm::prepared_statement s = conn.prepare_cached("select $1::int + 1", params);
  // s.name: the server-side name, for PQsendQueryPrepared on conn.native_handle().
  assert(!s.name.empty());
  // A shape whose row layout is one int: checked on the first result, remembered after.
  const pgorm::statement_shape shape{.sql = "select $1::int + 1",
                                     .layout = &pgorm::row_layout_v<std::int32_t>};
  auto r = conn.exec(shape, params, pgorm::data_format::binary);
  assert(r.checked_layout() == shape.layout);
  assert(pgorm::row_reader<std::int32_t>(r).read(0) == 42);
  // doc-end(prepared)
}

void param_pack(pgorm::connection& conn) {
  // doc-begin(param_pack)
  const std::array values{pgorm::param::text("20"), pgorm::param::text("22")};
  const pgorm::param_pack pack = std::span<const pgorm::param>(values);
  assert(pack.size() == 2 && pack.views()[1].bytes() == "22");
  auto r = conn.exec(pgorm::statement_shape{.sql = "select $1::int + $2::int"}, pack,
                     pgorm::data_format::text);
  assert(r.value(0, 0) == "42");
  // doc-end(param_pack)
}

}  // namespace docs::connection
