// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The pgorm mapping of the benchmark's users and sessions (bench/bench.hpp), shared by the
/// pgorm peers (sync and async).

#include <string_view>

#include "bench.hpp"
#include "pgorm/table.hpp"

template <>
struct pgorm::table_traits<pgorm_bench::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&pgorm_bench::User::id);
};
template <>
struct pgorm::table_traits<pgorm_bench::Session> {
  static constexpr std::string_view name = "sessions";
  static constexpr auto primary_key = pgorm::identity(&pgorm_bench::Session::id);
};
