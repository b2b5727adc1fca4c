// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// PGORM_API marks the declarations that the pgorm libraries export: the functions and
/// classes defined in their .cpp files. The libraries are compiled with -fvisibility=hidden,
/// so in a shared build (BUILD_SHARED_LIBS=ON) only what is marked is visible to programs;
/// inline functions and templates live in the headers and need no mark.
///
/// A static build defines PGORM_STATIC for the library and for everything that links it
/// (CMake usage requirement, pgorm.pc's Cflags): the mark is then empty, so a shared library
/// of yours that links the static pgorm does not re-export pgorm's symbols.

#if defined(PGORM_STATIC)
#define PGORM_API
#elif defined(__GNUC__) || defined(__clang__)
#define PGORM_API __attribute__((visibility("default")))
#else
#define PGORM_API
#endif
