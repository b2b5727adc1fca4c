// SPDX-License-Identifier: MIT
// expect: pgorm: pgorm::defaulted<pgorm::defaulted<T>> has no meaning
// clang-format off
#include "pgorm/defaulted.hpp"
pgorm::defaulted<pgorm::defaulted<int>> twice;
