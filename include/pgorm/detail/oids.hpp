// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// OIDs of PostgreSQL's built-in types (pg_type.oid). They are fixed across server versions;
/// the values are those of src/include/catalog/pg_type.dat.

#include "pgorm/fwd.hpp"

/// The OIDs of the built-in PostgreSQL types pgorm maps, for pg_type<T> specializations.
///
/// Example: `static constexpr pgorm::oid oid = pgorm::oids::int4;`
namespace pgorm::oids {

inline constexpr oid boolean = 16;
inline constexpr oid bytea = 17;
inline constexpr oid char_ = 18;  // "char", the one-byte internal type
inline constexpr oid name = 19;
inline constexpr oid int8 = 20;
inline constexpr oid int2 = 21;
inline constexpr oid int4 = 23;
inline constexpr oid text = 25;
inline constexpr oid oid_ = 26;
inline constexpr oid json = 114;
inline constexpr oid xml = 142;
inline constexpr oid json_array = 199;
inline constexpr oid float4 = 700;
inline constexpr oid float8 = 701;
inline constexpr oid unknown = 705;
inline constexpr oid boolean_array = 1000;
inline constexpr oid bytea_array = 1001;
inline constexpr oid name_array = 1003;
inline constexpr oid int2_array = 1005;
inline constexpr oid int4_array = 1007;
inline constexpr oid text_array = 1009;
inline constexpr oid bpchar_array = 1014;
inline constexpr oid varchar_array = 1015;
inline constexpr oid int8_array = 1016;
inline constexpr oid float4_array = 1021;
inline constexpr oid float8_array = 1022;
inline constexpr oid bpchar = 1042;
inline constexpr oid varchar = 1043;
inline constexpr oid date = 1082;
inline constexpr oid time = 1083;
inline constexpr oid timestamp = 1114;
inline constexpr oid timestamp_array = 1115;
inline constexpr oid date_array = 1182;
inline constexpr oid time_array = 1183;
inline constexpr oid timestamptz = 1184;
inline constexpr oid timestamptz_array = 1185;
inline constexpr oid interval = 1186;
inline constexpr oid interval_array = 1187;
inline constexpr oid numeric_array = 1231;
inline constexpr oid numeric = 1700;
inline constexpr oid uuid = 2950;
inline constexpr oid uuid_array = 2951;
inline constexpr oid jsonb = 3802;
inline constexpr oid jsonb_array = 3807;

/// OIDs from here on belong to objects created after initdb: user-defined enum, domain and
/// composite types, and their arrays (FirstNormalObjectId in src/include/access/transam.h).
inline constexpr oid first_user_defined = 16384;

}  // namespace pgorm::oids

namespace pgorm::detail {

/// The element type of a built-in array type, or 0 when `array` is not one pgorm knows.
constexpr oid array_element_oid(oid array) noexcept {
  switch (array) {
    case oids::boolean_array:
      return oids::boolean;
    case oids::bytea_array:
      return oids::bytea;
    case oids::name_array:
      return oids::name;
    case oids::int2_array:
      return oids::int2;
    case oids::int4_array:
      return oids::int4;
    case oids::int8_array:
      return oids::int8;
    case oids::text_array:
      return oids::text;
    case oids::bpchar_array:
      return oids::bpchar;
    case oids::varchar_array:
      return oids::varchar;
    case oids::float4_array:
      return oids::float4;
    case oids::float8_array:
      return oids::float8;
    case oids::timestamp_array:
      return oids::timestamp;
    case oids::timestamptz_array:
      return oids::timestamptz;
    case oids::date_array:
      return oids::date;
    case oids::time_array:
      return oids::time;
    case oids::interval_array:
      return oids::interval;
    case oids::numeric_array:
      return oids::numeric;
    case oids::uuid_array:
      return oids::uuid;
    case oids::json_array:
      return oids::json;
    case oids::jsonb_array:
      return oids::jsonb;
    default:
      return 0;
  }
}

/// Types whose binary format is the raw text (textsend/varcharsend/bpcharsend/namesend):
/// std::string and text-mapped enums read all of them.
constexpr bool is_text_like(oid type) noexcept {
  return type == oids::text || type == oids::varchar || type == oids::bpchar ||
         type == oids::name || type == oids::unknown;
}

}  // namespace pgorm::detail
