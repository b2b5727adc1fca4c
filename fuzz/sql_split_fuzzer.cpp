// SPDX-License-Identifier: MIT
// libFuzzer target: pgorm's one SQL scanner and statement splitter
// (pgorm/detail/sql_scanner.hpp; checks.hpp, check_sql_split) and the masking of secrets in
// SQL text built on them (pgorm/detail/sql_redaction.hpp; check_sql_redaction).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "run_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  return pgorm::fuzz::run_check([&] { pgorm::fuzz::check_sql_split(sql); });
}
