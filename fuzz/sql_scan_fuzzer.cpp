// SPDX-License-Identifier: MIT
// libFuzzer target: the $n placeholder scanner of sql_literal (checks.hpp, check_sql_scan).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "run_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  return pgorm::fuzz::run_check([&] { pgorm::fuzz::check_sql_scan(sql); });
}
