// SPDX-License-Identifier: MIT
// clang's -Wdangling must report a pgorm::param stored beyond the life of the temporary string
// it views (pgorm::param is a view: PGORM_VIEW_TYPE, and text(std::string) is
// PGORM_LIFETIMEBOUND), and must stay silent on the safe spellings above it.
// expect: error: temporary whose address is used as value of .*local variable 'stored'
#include <string>

#include <pgorm/connection.hpp>

int safe(pgorm::connection& conn, int id) {
  // In the call's argument list: the temporary lives until exec() returns.
  auto r = conn.exec("select $1::int", {pgorm::param::text(std::to_string(id))});
  // Stored, from a named string, a literal, or a view of a named string.
  const std::string named = std::to_string(id);
  const pgorm::param kept[] = {pgorm::param::text(named), pgorm::param::text("41"),
                               pgorm::param::text(std::string_view(named))};
  return r.rows() + static_cast<int>(kept[0].bytes().size());
}

int dangling(int id) {
  const pgorm::param stored[] = {pgorm::param::text(std::to_string(id))};
  return static_cast<int>(stored[0].bytes().size());
}
