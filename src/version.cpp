// SPDX-License-Identifier: MIT
#include "pgorm/version.hpp"

namespace pgorm {

std::string_view library_version() noexcept { return PGORM_VERSION_STRING; }

}  // namespace pgorm
