// expect: pgorm: a field of a jsonb struct must be bool, a number, std::string
#include <chrono>

#include "pgorm/json_struct.hpp"

// A duration has no JSON form pgorm picks for you: store a number of seconds instead.
struct Timer {
  std::chrono::seconds every;
};
template <>
inline constexpr bool pgorm::jsonb_struct<Timer> = true;

void encode(const Timer& t, pgorm::byte_buffer& out) { pgorm::pg_type<Timer>::encode(t, out); }
