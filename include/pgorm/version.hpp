// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm's version: the one place it is written. CMakeLists.txt reads these three numbers
/// for `project(VERSION)` (and so the package's version, the shared library's SOVERSION and
/// the pkg-config files), conanfile.py reads them in `set_version()`, and CMake checks at
/// configure time that vcpkg.json says the same. A release changes them here only.
///
/// \code
/// #if PGORM_VERSION < PGORM_VERSION_OF(0, 2, 0)
///   // pgorm 0.1.x
/// #endif
/// \endcode
///
/// While the major version is 0, a minor release may break the API and the ABI; a patch
/// release does not. CHANGELOG.md says what each release changed.

#include <string_view>

#include "pgorm/export.hpp"

/// The major, minor and patch numbers of these headers.
#define PGORM_VERSION_MAJOR 0
#define PGORM_VERSION_MINOR 1
#define PGORM_VERSION_PATCH 0

/// One integer for comparisons: major * 10000 + minor * 100 + patch (0.1.0 is 100).
#define PGORM_VERSION_OF(x, y, z) ((x)*10000 + (y)*100 + (z))
/// These headers' version as one integer, for `#if PGORM_VERSION >= PGORM_VERSION_OF(0, 2, 0)`.
#define PGORM_VERSION \
  PGORM_VERSION_OF(PGORM_VERSION_MAJOR, PGORM_VERSION_MINOR, PGORM_VERSION_PATCH)

#define PGORM_VERSION_STRINGIZE_(x) #x
#define PGORM_VERSION_STRINGIZE(x) PGORM_VERSION_STRINGIZE_(x)
/// These headers' version as a string literal, "0.1.0".
#define PGORM_VERSION_STRING                   \
  PGORM_VERSION_STRINGIZE(PGORM_VERSION_MAJOR) \
  "." PGORM_VERSION_STRINGIZE(PGORM_VERSION_MINOR) "." PGORM_VERSION_STRINGIZE(PGORM_VERSION_PATCH)

namespace pgorm {

/// The version of the pgorm library the program runs with, "0.1.0": compiled into the
/// library, so with a shared libpgorm it can differ from PGORM_VERSION_STRING (the headers the
/// program was compiled against) when the two were installed from different releases.
[[nodiscard]] PGORM_API std::string_view library_version() noexcept;

}  // namespace pgorm
