// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// OIDs of PostgreSQL's built-in types (pg_type.oid), and the table of the built-in types pgorm
/// knows: each one's OID, its array type's OID and its name. The OIDs are fixed across server
/// versions; the values are those of src/include/catalog/pg_type.dat. Every OID pgorm's code
/// uses comes from here (docs/types.md, "Adding a built-in type").

#include <string_view>

#include "pgorm/fwd.hpp"

/// The OIDs of the built-in PostgreSQL types pgorm knows, for pg_type<T> specializations.
///
/// Example: `static constexpr pgorm::oid oid = pgorm::oids::int4;`
namespace pgorm::oids {

inline constexpr oid boolean = 16;
inline constexpr oid bytea = 17;
inline constexpr oid char_ = 18;  ///< "char", the one-byte internal type
inline constexpr oid name = 19;
inline constexpr oid int8 = 20;
inline constexpr oid int2 = 21;
inline constexpr oid int4 = 23;
inline constexpr oid text = 25;
inline constexpr oid oid_ = 26;
inline constexpr oid json = 114;
inline constexpr oid xml = 142;
inline constexpr oid xml_array = 143;
inline constexpr oid json_array = 199;
inline constexpr oid point = 600;
inline constexpr oid cidr = 650;
inline constexpr oid cidr_array = 651;
inline constexpr oid float4 = 700;
inline constexpr oid float8 = 701;
inline constexpr oid unknown = 705;
inline constexpr oid money = 790;
inline constexpr oid money_array = 791;
inline constexpr oid macaddr = 829;
inline constexpr oid inet = 869;
inline constexpr oid boolean_array = 1000;
inline constexpr oid bytea_array = 1001;
inline constexpr oid char_array = 1002;
inline constexpr oid name_array = 1003;
inline constexpr oid int2_array = 1005;
inline constexpr oid int4_array = 1007;
inline constexpr oid text_array = 1009;
inline constexpr oid bpchar_array = 1014;
inline constexpr oid varchar_array = 1015;
inline constexpr oid int8_array = 1016;
inline constexpr oid point_array = 1017;
inline constexpr oid float4_array = 1021;
inline constexpr oid float8_array = 1022;
inline constexpr oid oid_array = 1028;
inline constexpr oid macaddr_array = 1040;
inline constexpr oid inet_array = 1041;
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
inline constexpr oid timetz = 1266;
inline constexpr oid timetz_array = 1270;
inline constexpr oid bit = 1560;
inline constexpr oid bit_array = 1561;
inline constexpr oid varbit = 1562;
inline constexpr oid varbit_array = 1563;
inline constexpr oid numeric = 1700;
inline constexpr oid record = 2249;
inline constexpr oid void_ = 2278;
inline constexpr oid record_array = 2287;
inline constexpr oid uuid = 2950;
inline constexpr oid uuid_array = 2951;
inline constexpr oid tsvector = 3614;
inline constexpr oid tsvector_array = 3643;
inline constexpr oid jsonb = 3802;
inline constexpr oid jsonb_array = 3807;
inline constexpr oid int4range = 3904;
inline constexpr oid int4range_array = 3905;
inline constexpr oid numrange = 3906;
inline constexpr oid numrange_array = 3907;
inline constexpr oid tsrange = 3908;
inline constexpr oid tsrange_array = 3909;
inline constexpr oid tstzrange = 3910;
inline constexpr oid tstzrange_array = 3911;
inline constexpr oid daterange = 3912;
inline constexpr oid daterange_array = 3913;
inline constexpr oid int8range = 3926;
inline constexpr oid int8range_array = 3927;

/// OIDs from here on belong to objects created after initdb: user-defined enum, domain and
/// composite types, and their arrays (FirstNormalObjectId in src/include/access/transam.h).
inline constexpr oid first_user_defined = 16384;

/// One built-in type: its OID, its array type's OID (0 when it has none) and its name as the
/// server spells it (pg_type.typname, "bool" rather than "boolean").
///
/// Example: `static_assert(pgorm::oids::builtin_types[0].name == "bool");`
struct builtin_type {
  oid type = 0;
  oid array = 0;
  std::string_view name;
};

/// The built-in types pgorm knows, one row each: the registration of a built-in type. Error
/// messages name a type from here ("int8", "text[]"), and an array column's element type is
/// found here; a type without a row is "oid N" in messages. tests/integration checks every row
/// against the server's pg_type.
///
/// Example:
/// ```
/// for (const pgorm::oids::builtin_type& t : pgorm::oids::builtin_types) {
///   if (t.type == pgorm::oids::int8) assert(t.array == pgorm::oids::int8_array);
/// }
/// ```
inline constexpr builtin_type builtin_types[] = {
    {boolean, boolean_array, "bool"},
    {bytea, bytea_array, "bytea"},
    {char_, char_array, "char"},
    {name, name_array, "name"},
    {int8, int8_array, "int8"},
    {int2, int2_array, "int2"},
    {int4, int4_array, "int4"},
    {text, text_array, "text"},
    {oid_, oid_array, "oid"},
    {json, json_array, "json"},
    {xml, xml_array, "xml"},
    {point, point_array, "point"},
    {cidr, cidr_array, "cidr"},
    {float4, float4_array, "float4"},
    {float8, float8_array, "float8"},
    {unknown, 0, "unknown"},
    {money, money_array, "money"},
    {macaddr, macaddr_array, "macaddr"},
    {inet, inet_array, "inet"},
    {bpchar, bpchar_array, "bpchar"},
    {varchar, varchar_array, "varchar"},
    {date, date_array, "date"},
    {time, time_array, "time"},
    {timestamp, timestamp_array, "timestamp"},
    {timestamptz, timestamptz_array, "timestamptz"},
    {interval, interval_array, "interval"},
    {timetz, timetz_array, "timetz"},
    {bit, bit_array, "bit"},
    {varbit, varbit_array, "varbit"},
    {numeric, numeric_array, "numeric"},
    {record, record_array, "record"},
    {void_, 0, "void"},
    {uuid, uuid_array, "uuid"},
    {tsvector, tsvector_array, "tsvector"},
    {jsonb, jsonb_array, "jsonb"},
    {int4range, int4range_array, "int4range"},
    {numrange, numrange_array, "numrange"},
    {tsrange, tsrange_array, "tsrange"},
    {tstzrange, tstzrange_array, "tstzrange"},
    {daterange, daterange_array, "daterange"},
    {int8range, int8range_array, "int8range"},
};

}  // namespace pgorm::oids
