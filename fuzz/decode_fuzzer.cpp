// SPDX-License-Identifier: MIT
// libFuzzer target: every built-in codec's decode() on hostile bytes (checks.hpp, check_decode).
#include <cstddef>
#include <cstdint>
#include <span>

#include "run_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pgorm::fuzz::run_check([&] { pgorm::fuzz::check_decode(std::span(data, size)); });
}
