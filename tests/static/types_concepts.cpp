// SPDX-License-Identifier: MIT
// Which C++ types map to PostgreSQL (has_pg_type: both ways, so usable as a column) and which
// can only be sent (pg_encodable). Compiling this file is the test.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/params.hpp"
#include "pgorm/types.hpp"

namespace types_concepts {

enum class mood { happy, sad };
enum class untraited { a, b };
enum plain_enum { x, y };

struct point {
  double x;
  double y;
};

}  // namespace types_concepts

template <>
struct pgorm::enum_traits<types_concepts::mood> {
  static constexpr std::string_view type_name = "mood";
  static constexpr std::array values{std::pair{types_concepts::mood::happy, "happy"},
                                     std::pair{types_concepts::mood::sad, "sad"}};
};

template <>
struct pgorm::enum_traits<types_concepts::plain_enum> {
  static constexpr std::array values{std::pair{types_concepts::x, "x"},
                                     std::pair{types_concepts::y, "y"}};
};

// A user-defined codec: point as PostgreSQL's point (two float8, point_send).
template <>
struct pgorm::pg_type<types_concepts::point> {
  static constexpr pgorm::oid oid = 600;
  static constexpr pgorm::oid array_oid = 1017;
  static constexpr std::string_view sql_name = "point";
  static constexpr bool nullable = false;
  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oid; }
  static void encode(const types_concepts::point& p, pgorm::byte_buffer& out) {
    out.append_be(p.x);
    out.append_be(p.y);
  }
  static void decode(std::string_view bytes, pgorm::oid, types_concepts::point& out) {
    out.x = pgorm::load_be<double>(bytes.data());
    out.y = pgorm::load_be<double>(bytes.data() + 8);
  }
};

namespace types_concepts {

using pgorm::has_pg_type;
using pgorm::pg_encodable;

// ---- positive: usable as columns ---------------------------------------------------------------
static_assert(has_pg_type<bool>);
static_assert(has_pg_type<std::int16_t> && has_pg_type<std::int32_t> && has_pg_type<std::int64_t>);
static_assert(has_pg_type<long long>);
static_assert(has_pg_type<float> && has_pg_type<double>);
static_assert(has_pg_type<std::string>);
static_assert(has_pg_type<std::vector<std::byte>>);
static_assert(has_pg_type<pgorm::timestamptz> && has_pg_type<pgorm::timestamp>);
static_assert(has_pg_type<pgorm::date> && has_pg_type<std::chrono::sys_days>);
static_assert(has_pg_type<pgorm::time_of_day> && has_pg_type<pgorm::interval>);
static_assert(has_pg_type<pgorm::uuid> && has_pg_type<pgorm::numeric>);
static_assert(has_pg_type<pgorm::json> && has_pg_type<pgorm::jsonb>);
static_assert(has_pg_type<mood> && has_pg_type<plain_enum>);
static_assert(has_pg_type<point> && has_pg_type<std::optional<point>>);
static_assert(has_pg_type<std::vector<point>>);
static_assert(has_pg_type<std::optional<std::int64_t>> && has_pg_type<std::optional<std::string>>);
static_assert(has_pg_type<std::vector<std::int32_t>> && has_pg_type<std::vector<std::string>>);
static_assert(has_pg_type<std::vector<std::optional<std::int32_t>>>);
static_assert(has_pg_type<std::optional<std::vector<std::int32_t>>>);
static_assert(has_pg_type<std::vector<std::vector<std::byte>>>);     // bytea[]
static_assert(has_pg_type<std::vector<std::vector<std::int32_t>>>);  // integer[], 2 dimensions
static_assert(has_pg_type<std::vector<std::vector<std::vector<std::optional<std::string>>>>>);
static_assert(
    !has_pg_type<std::vector<std::vector<
        std::vector<std::vector<std::vector<std::vector<std::vector<int>>>>>>>>);  // 7 > MAXDIM
static_assert(has_pg_type<std::vector<bool>> && has_pg_type<std::vector<mood>>);
static_assert(has_pg_type<std::vector<pgorm::numeric>> && has_pg_type<std::vector<pgorm::uuid>>);

// ---- parameters only ---------------------------------------------------------------------------
static_assert(pg_encodable<std::string_view> && !has_pg_type<std::string_view>);
static_assert(pg_encodable<const char*> && !has_pg_type<const char*>);
static_assert(pg_encodable<std::span<const std::byte>> && !has_pg_type<std::span<const std::byte>>);
static_assert(pg_encodable<std::optional<std::string_view>>);
static_assert(!has_pg_type<std::optional<std::string_view>>);
static_assert(pg_encodable<std::vector<std::string_view>>);
static_assert(!has_pg_type<std::vector<std::string_view>>);
static_assert(pg_encodable<std::nullopt_t> && !has_pg_type<std::nullopt_t>);
static_assert(pg_encodable<pgorm::detail::param_type_t<const char (&)[4]>>);
static_assert(pg_encodable<pgorm::detail::param_type_t<char*>>);

// ---- negative ----------------------------------------------------------------------------------
static_assert(!has_pg_type<void> && !pg_encodable<void>);
static_assert(!has_pg_type<void*> && !pg_encodable<void*>);
static_assert(!has_pg_type<std::vector<void*>> && !pg_encodable<std::vector<void*>>);
static_assert(!has_pg_type<std::optional<void*>>);
static_assert(!has_pg_type<char> && !has_pg_type<signed char> && !has_pg_type<wchar_t>);
static_assert(!has_pg_type<unsigned> && !has_pg_type<std::uint64_t> && !has_pg_type<std::uint16_t>);
static_assert(!has_pg_type<long double>);
static_assert(!has_pg_type<untraited>);                          // no enum_traits
static_assert(!has_pg_type<std::optional<std::optional<int>>>);  // one NULL only
static_assert(!has_pg_type<std::vector<std::optional<std::vector<int>>>>);
static_assert(!has_pg_type<std::list<int>> && !has_pg_type<std::map<int, int>>);
static_assert(!has_pg_type<std::array<int, 3>>);
static_assert(!has_pg_type<const int> && !has_pg_type<int&>);  // codecs take plain types
static_assert(!has_pg_type<std::chrono::sys_time<std::chrono::nanoseconds>>);
static_assert(!has_pg_type<std::chrono::seconds>);

// ---- the agreed members ------------------------------------------------------------------------
static_assert(pgorm::pg_type<std::int64_t>::sql_name == "bigint");
static_assert(pgorm::pg_type<std::vector<std::string>>::sql_name == "text[]");
static_assert(pgorm::pg_type<std::vector<mood>>::sql_name == "mood[]");
static_assert(pgorm::pg_type<std::optional<pgorm::jsonb>>::sql_name == "jsonb");
static_assert(pgorm::pg_type<std::optional<pgorm::jsonb>>::nullable);
static_assert(!pgorm::pg_type<pgorm::jsonb>::nullable);
static_assert(pgorm::pg_type<mood>::oid == 0 && pgorm::pg_type<mood>::sql_name == "mood");
static_assert(pgorm::pg_type<plain_enum>::oid == pgorm::oids::text);
static_assert(pgorm::pg_type<pgorm::timestamptz>::oid == 1184);
static_assert(pgorm::pg_type<pgorm::numeric>::accepts(pgorm::oids::numeric));

}  // namespace types_concepts
