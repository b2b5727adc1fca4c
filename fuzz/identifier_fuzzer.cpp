// SPDX-License-Identifier: MIT
// libFuzzer target: quote_identifier's round trip through PostgreSQL's identifier rules
// (checks.hpp, check_identifier).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "run_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  return pgorm::fuzz::run_check([&] { pgorm::fuzz::check_identifier(name); });
}
