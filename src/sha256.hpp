// SPDX-License-Identifier: MIT
#pragma once
// SHA-256 (FIPS 180-4), for the checksums of migration files: computed in the process, so that
// status() and apply() need no round trip per file, and identical to PostgreSQL's sha256() and
// to CMake's file(SHA256) (the embedded migrations carry the latter).

#include <string>
#include <string_view>

namespace pgorm::detail {

/// The SHA-256 digest of `bytes`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace pgorm::detail
