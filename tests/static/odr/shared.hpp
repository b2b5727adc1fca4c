// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>

namespace odr {
struct Item {
  std::int64_t id;
  std::string label;
};
}  // namespace odr
