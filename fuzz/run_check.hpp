// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The shared body of pgorm's libFuzzer entry points: run one check from checks.hpp, and turn a
/// failed property (or any stray exception) into an abort that libFuzzer reports as a crash,
/// after printing what failed.

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "checks.hpp"

namespace pgorm::fuzz {

template <class Check>
int run_check(Check&& check) {
  try {
    check();
  } catch (const property_violation& e) {
    std::fprintf(stderr, "pgorm fuzz: property violated: %s\n", e.what());
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pgorm fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace pgorm::fuzz
