// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Compiler attributes pgorm's headers put on their declarations, empty where the compiler does
/// not know them.
///
/// PGORM_LIFETIMEBOUND marks a parameter whose object the function's result keeps referring
/// to, and PGORM_VIEW_TYPE a class whose objects refer to memory they do not own: with both,
/// clang's -Wdangling reports a view made from a temporary that is destroyed while the view is
/// still in use (`const pgorm::param p[] = {pgorm::param::text(std::to_string(n))};`).
/// GCC ignores them; AddressSanitizer finds such a use at run time
/// (stack-use-after-scope).

#if defined(__clang__) && defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::lifetimebound)
#define PGORM_LIFETIMEBOUND [[clang::lifetimebound]]
#endif
#if __has_cpp_attribute(gsl::Pointer)
#define PGORM_VIEW_TYPE [[gsl::Pointer]]
#endif
#endif

#ifndef PGORM_LIFETIMEBOUND
#define PGORM_LIFETIMEBOUND
#endif
#ifndef PGORM_VIEW_TYPE
#define PGORM_VIEW_TYPE
#endif
