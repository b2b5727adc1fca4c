// SPDX-License-Identifier: MIT
// libFuzzer target: connection-string redaction against libpq's parser (checks.hpp,
// check_conninfo).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "run_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  return pgorm::fuzz::run_check([&] { pgorm::fuzz::check_conninfo(text); });
}
