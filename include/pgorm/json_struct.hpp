// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Structs stored as jsonb documents, through Boost.JSON and the reflection tables use
/// (Boost.PFR field names). Opt in per struct:
///
/// ```cpp
/// struct Prefs { std::string theme; std::int32_t font_size; };
/// template <> inline constexpr bool pgorm::jsonb_struct<Prefs> = true;
/// ```
///
/// Then a `Prefs` field is a jsonb column, a `Prefs` value is a jsonb parameter, and the JSON
/// operators (pgorm/query/json_ops.hpp) apply to it. This header is optional: only translation
/// units that include it compile Boost.JSON. Boost.JSON is used header-only: include
/// `<boost/json/src.hpp>` in exactly one .cpp file of the program (or link Boost.JSON's
/// library). See docs/queries.md, "jsonb columns as structs".
///
/// Mapping: bool, integers and floating point as JSON numbers (checked for range on reading),
/// std::string as strings, std::optional as null or the value (an absent key reads as
/// std::nullopt), std::vector as arrays, nested structs as objects (their own fields by name,
/// no opt-in needed), pgorm::jsonb as the embedded document. Keys are the C++ field names;
/// unknown keys are ignored on reading; a missing key of a non-optional field, or a value of
/// the wrong JSON type, is a pgorm::conversion_error naming the path (e.g. `address.city`).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/pfr/core.hpp>

#include "pgorm/bytes.hpp"
#include "pgorm/codec.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/json.hpp"
#include "pgorm/oids.hpp"
#include "pgorm/reflect.hpp"

namespace pgorm {

/// Set to true for a struct to store it as a jsonb document (see the file comment).
template <class T>
inline constexpr bool jsonb_struct = false;

namespace detail::json_map {

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
inline constexpr bool is_object_v = std::is_class_v<T>&& std::is_aggregate_v<T> &&
                                    !is_vector<T>::value && !std::is_same_v<T, jsonb>;

template <class T>
boost::json::value to_json(const T& v);

template <class T, std::size_t... I>
boost::json::object object_of(const T& v, std::index_sequence<I...> /*fields*/) {
  boost::json::object out;
  (out.emplace(field_names_v<T>[I], to_json(boost::pfr::get<I>(v))), ...);
  return out;
}

/// The JSON form of a value (see the file comment for the mapping).
template <class T>
boost::json::value to_json(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return static_cast<std::int64_t>(v);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<std::uint64_t>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return boost::json::string(v);
  } else if constexpr (is_optional<T>::value) {
    if (!v) return nullptr;
    return to_json(*v);
  } else if constexpr (is_vector<T>::value) {
    boost::json::array out;
    out.reserve(v.size());
    for (const auto& e : v) out.push_back(to_json(e));
    return out;
  } else if constexpr (std::is_same_v<T, jsonb>) {
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(v.text, ec);
    if (ec) throw_encode_error("pgorm: a pgorm::jsonb field holds invalid JSON: " + ec.message());
    return parsed;
  } else if constexpr (is_object_v<T>) {
    return object_of(v, std::make_index_sequence<field_count_v<T>>{});
  } else {
    static_assert(is_object_v<T>,
                  "pgorm: a field of a jsonb struct must be bool, a number, std::string, "
                  "std::optional, std::vector, pgorm::jsonb or a struct of those");
    return nullptr;
  }
}

[[noreturn]] inline void fail(const std::string& path, std::string_view what) {
  throw_decode_error("pgorm: jsonb " + std::string(what) + " at " +
                     (path.empty() ? std::string("the document") : "'" + path + "'"));
}

template <class T>
void from_json(const boost::json::value& j, T& out, const std::string& path);

template <class T, std::size_t... I>
void object_from(const boost::json::value& j, T& out, const std::string& path,
                 std::index_sequence<I...> /*fields*/) {
  const boost::json::object* obj = j.if_object();
  if (obj == nullptr) fail(path, "expected an object");
  const auto field = [&](auto& member, std::string_view name) {
    using M = std::remove_cvref_t<decltype(member)>;
    const std::string sub = path.empty() ? std::string(name) : path + "." + std::string(name);
    const boost::json::value* v = obj->if_contains(name);
    if (v == nullptr) {
      if constexpr (is_optional<M>::value) {
        member.reset();
        return;
      } else {
        fail(sub, "has no such key");
      }
    }
    from_json(*v, member, sub);
  };
  (field(boost::pfr::get<I>(out), field_names_v<T>[I]), ...);
}

/// Reads `j` into `out`, throwing conversion_error that names `path` on a mismatch.
template <class T>
void from_json(const boost::json::value& j, T& out, const std::string& path) {
  if constexpr (std::is_same_v<T, bool>) {
    const bool* b = j.if_bool();
    if (b == nullptr) fail(path, "expected a boolean");
    out = *b;
  } else if constexpr (std::is_arithmetic_v<T>) {
    if (!j.is_number()) fail(path, "expected a number");
    boost::system::error_code ec;
    out = j.to_number<T>(ec);
    if (ec) fail(path, "number does not fit the field's type");
  } else if constexpr (std::is_same_v<T, std::string>) {
    const boost::json::string* s = j.if_string();
    if (s == nullptr) fail(path, "expected a string");
    out.assign(s->data(), s->size());
  } else if constexpr (is_optional<T>::value) {
    if (j.is_null()) {
      out.reset();
    } else {
      typename T::value_type v{};
      from_json(j, v, path);
      out = std::move(v);
    }
  } else if constexpr (is_vector<T>::value) {
    const boost::json::array* a = j.if_array();
    if (a == nullptr) fail(path, "expected an array");
    out.clear();
    out.reserve(a->size());
    for (std::size_t i = 0; i != a->size(); ++i) {
      typename T::value_type v{};
      from_json((*a)[i], v, path + "[" + std::to_string(i) + "]");
      out.push_back(std::move(v));
    }
  } else if constexpr (std::is_same_v<T, jsonb>) {
    out.text = boost::json::serialize(j);
  } else {
    object_from(j, out, path, std::make_index_sequence<field_count_v<T>>{});
  }
}

}  // namespace detail::json_map

/// A struct marked with pgorm::jsonb_struct <-> jsonb (binary: version byte 1, then the text).
template <class T>
requires jsonb_struct<T>
struct pg_type<T> {
  static constexpr pgorm::oid oid = oids::jsonb;
  static constexpr pgorm::oid array_oid = oids::jsonb_array;
  static constexpr std::string_view sql_name = "jsonb";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::jsonb; }
  static void encode(const T& value, byte_buffer& out) {
    out.push_back(char{1});
    out.append(boost::json::serialize(detail::json_map::to_json(value)));
  }
  static void decode(std::string_view bytes, pgorm::oid /*type*/, T& out) {
    if (bytes.empty() || bytes[0] != 1) [[unlikely]] {
      detail::throw_decode_error("unsupported jsonb binary format version (expected 1)");
    }
    boost::system::error_code ec;
    const boost::json::value j = boost::json::parse(bytes.substr(1), ec);
    if (ec) detail::throw_decode_error("pgorm: invalid jsonb text: " + ec.message());
    out = T{};
    detail::json_map::from_json(j, out, "");
  }
};

}  // namespace pgorm
