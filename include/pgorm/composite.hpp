// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Composite types as nested structs: a plain struct that opts in with
/// `pgorm::composite_traits<S>` maps to a PostgreSQL composite type (CREATE TYPE ... AS (...)),
/// field by field in declaration order, in the binary record format both ways. Not included by
/// pgorm/types.hpp (it brings Boost.PFR): include it where composites are used. See
/// docs/types.md, "Composite types".
///
/// ```cpp
/// struct address { std::string street; std::string city; std::optional<std::string> zip; };
/// template <> struct pgorm::composite_traits<address> {
///   static constexpr std::string_view type_name = "address";
/// };
/// conn.exec(pgorm::schema::create_type<address>());
/// // CREATE TYPE address AS (street text, city text, zip text);
/// ```

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/codec.hpp"
#include "pgorm/detail/codec_record.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/reflect.hpp"

namespace pgorm {

/// The opt-in of a struct as a composite type: specialize it with
/// `static constexpr std::string_view type_name = "...";`, the composite type's name as the
/// server knows it (schema-qualified if needed). The primary template has no type_name.
///
/// Example: `template <> struct pgorm::composite_traits<address> { static constexpr
/// std::string_view type_name = "address"; };`
template <class T>
struct composite_traits {};

/// A struct mapped to a composite type: reflectable, with composite_traits<T>::type_name, and
/// every field encodable.
///
/// Example: `static_assert(pgorm::pg_composite<address>);`
template <class T>
concept pg_composite = reflectable<T> && requires {
  { composite_traits<T>::type_name } -> std::convertible_to<std::string_view>;
};

namespace detail {

template <class T, std::size_t... I>
constexpr bool composite_fields_encodable(std::index_sequence<I...>) {
  return (pg_encodable<field_type_t<T, I>> && ...);
}

/// Whether a composite has a field whose type OID only the server knows (a nested composite, a
/// PostgreSQL enum): record_recv checks every field's OID, so such a composite goes out as
/// text, and the server reads each field with its attribute's own type.
template <class T, std::size_t... I>
constexpr bool composite_needs_text(std::index_sequence<I...>) {
  return ((pg_type<field_type_t<T, I>>::oid == 0) || ...);
}

/// Appends the text form of a composite's field value (not NULL) to `out`: numbers, bool,
/// text, enums (their label) and nested composites.
template <class F>
void append_field_text(const F& value, std::string& out);

/// Appends the record literal of composite `value`, `("a","b",)`: every value double-quoted
/// with `"` and `\` escaped, NULL as nothing.
template <class T>
void append_record_text(const T& value, std::string& out) {
  out += '(';
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (I != 0) out += ',';
          using F = field_type_t<T, I>;
          const F& field = get_field<I>(value);
          if constexpr (pg_type<F>::nullable) {
            if (pg_type<F>::is_null(field)) return;
          }
          std::string text;
          if constexpr (is_optional<F>::value) {
            append_field_text(*field, text);
          } else {
            append_field_text(field, text);
          }
          out += '"';
          for (char c : text) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
          }
          out += '"';
        }(),
        ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  out += ')';
}

template <class F>
void append_field_text(const F& value, std::string& out) {
  if constexpr (std::is_same_v<F, bool>) {
    out += value ? 't' : 'f';
  } else if constexpr (std::is_integral_v<F> || std::is_floating_point_v<F>) {
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
  } else if constexpr (std::is_same_v<F, std::string> || std::is_enum_v<F>) {
    byte_buffer bytes;  // their binary form is their text: the string, the label
    pg_type<F>::encode(value, bytes);
    out.append(bytes.data(), bytes.size());
  } else if constexpr (requires { composite_traits<F>::type_name; }) {
    append_record_text(value, out);
  } else {
    static_assert(always_false_v<F>,
                  "pgorm: a composite holding a nested composite or a PostgreSQL enum is sent "
                  "as text, and this field type has no text form there; use numbers, bool, "
                  "std::string, enums and composites in it, or cast a text parameter in SQL");
  }
}

}  // namespace detail

/// A struct with pgorm::composite_traits <-> its composite type, in record_send's format:
/// int32 field count, then per field its type OID, an int32 length (-1 for NULL) and its
/// bytes. Fields map in declaration order; a std::optional field may be NULL.
///
/// As a parameter the value goes out with OID 0, so the server takes the composite type from
/// the context (`insert ... values ($1)`, `$1::address`), and checks each field's OID against
/// the type's attribute: a std::string field needs a `text` attribute (not varchar), a
/// std::int64_t one `bigint`. A composite holding a field whose OID only the server knows (a
/// nested composite, a PostgreSQL enum) goes out as a text parameter instead, its record
/// literal `("Main St 1","Springfield",)` (encode_text_param()); its fields are then numbers,
/// bool, std::string, enums and composites, each read by the server with its attribute's
/// type.
///
/// Example: `conn.exec("insert into people (home) values ($1)",
/// pgorm::encode_params(address{"Main St 1", "Springfield", std::nullopt}).params());`
template <class T>
requires pg_composite<T> &&(detail::composite_fields_encodable<T>(
    std::make_index_sequence<field_count_v<T>>{})) struct pg_type<T> {
 private:
  static constexpr std::size_t count = field_count_v<T>;

  template <std::size_t I>
  static void encode_field(const T& value, byte_buffer& out) {
    using F = field_type_t<T, I>;
    using codec = pg_type<F>;
    out.append_be(static_cast<std::uint32_t>(codec::oid));
    const auto& field = get_field<I>(value);
    if constexpr (codec::nullable) {
      if (codec::is_null(field)) {
        out.append_be(std::int32_t{-1});
        return;
      }
    }
    const std::size_t at = out.append_placeholder32();
    codec::encode(field, out);
    out.patch_be32(at, static_cast<std::int32_t>(out.size() - at - 4));
  }

  /// The error paths of field I, for decode_record_field(): conversion_errors that name the
  /// field (read_value() adds the column).
  template <std::size_t I>
  struct field_errors {
    [[gnu::cold, gnu::noinline]] static std::string label() {
      return "record " + detail::record_field_label(names, I);
    }
    template <class F>
    [[noreturn, gnu::cold, gnu::noinline]] void null() const {
      detail::throw_decode_error(label() +
                                 " is NULL; make the field a std::optional to allow NULL");
    }
    template <class F>
    [[noreturn, gnu::cold, gnu::noinline]] void failed(const conversion_error& e,
                                                       pgorm::oid) const {
      detail::throw_decode_error(label() + ": " + e.what());
    }
    template <class F>
    [[noreturn, gnu::cold, gnu::noinline]] void mismatch(pgorm::oid type) const {
      detail::throw_decode_error(label() + " of SQL type " + detail::sql_type_name(type) +
                                 " does not convert to " + detail::cpp_type_name<F>());
    }
  };

  static constexpr detail::record_names names{composite_traits<T>::type_name, field_names_v<T>};

 public:
  static constexpr pgorm::oid oid = 0;  ///< assigned by CREATE TYPE: known only to the server
  static constexpr std::string_view sql_name = composite_traits<T>::type_name;
  static constexpr bool nullable = false;

  /// A named composite type (any user-defined OID) or an anonymous record (ROW(...)).
  static constexpr bool accepts(pgorm::oid type) noexcept {
    return type == oids::record || type >= oids::first_user_defined;
  }

  static void encode(const T& value, byte_buffer& out) {
    out.append_be(static_cast<std::int32_t>(count));
    [&]<std::size_t... I>(std::index_sequence<I...>) { (encode_field<I>(value, out), ...); }
    (std::make_index_sequence<count>{});
  }

  /// The record literal, for a parameter: only for a composite with a nested composite or enum
  /// field (see above); the others go out in binary.
  static void encode_text_param(const T& value, byte_buffer& out) requires(
      detail::composite_needs_text<T>(std::make_index_sequence<field_count_v<T>>{})) {
    std::string text;
    detail::append_record_text(value, text);
    out.append(std::string_view{text});
  }

  static void decode(std::string_view bytes, pgorm::oid, T& out) {
    detail::record_reader r(bytes, count, names);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (detail::decode_record_field(r.next(I), get_field<I>(out), field_errors<I>{}), ...);
    }
    (std::make_index_sequence<count>{});
    r.finish();
  }
};

namespace detail {
template <class T>
struct composite_list;  // the values of an in(): pgorm/expr.hpp
}  // namespace detail

/// The values of an in() over a composite column (`col<&Person::home>.in(addresses)`), as one
/// text parameter: the array literal of their records, each quoted, `{"(\"Main St 1\",...)"}`;
/// the statement casts it to the composite's array type. Its fields need a text form (numbers,
/// bool, std::string, enums, composites), as for a composite sent as text.
///
/// Example: `pgorm::select<Person>().where(pgorm::col<&Person::home>.in(addresses))`
template <class T>
requires pg_composite<T>
struct pg_type<detail::composite_list<T>> {
  static constexpr pgorm::oid oid = 0;  ///< the server takes the type from the cast
  static constexpr std::string_view sql_name = composite_traits<T>::type_name;
  static constexpr bool nullable = false;

  static void encode_text_param(const detail::composite_list<T>& list, byte_buffer& out) {
    out.push_back('{');
    std::string record;
    for (std::size_t i = 0; i != list.values->size(); ++i) {
      if (i != 0) out.push_back(',');
      record.clear();
      detail::append_record_text((*list.values)[i], record);
      out.push_back('"');
      for (char c : record) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    }
    out.push_back('}');
  }
  /// The same literal: the list is only ever a text parameter.
  static void encode(const detail::composite_list<T>& list, byte_buffer& out) {
    encode_text_param(list, out);
  }
};

namespace schema {

/// The CREATE TYPE statement of a composite struct: its fields, in order, with their SQL types
/// (`pg_type<F>::sql_name`; a field's std::optional does not show: attributes are nullable).
/// The type name is written as composite_traits<T>::type_name gives it.
///
/// Example: `conn.exec(pgorm::schema::create_type<address>());  // CREATE TYPE address AS
/// (street text, city text, zip text);`
template <class T>
requires pg_composite<T> std::string create_type() {
  std::string sql = "CREATE TYPE ";
  sql += composite_traits<T>::type_name;
  sql += " AS (";
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((sql += (I == 0 ? "" : ", "), sql += detail::quote_identifier(field_names_v<T>[I]), sql += ' ',
      sql += pg_type<field_type_t<T, I>>::sql_name),
     ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  sql += ");";
  return sql;
}

}  // namespace schema

}  // namespace pgorm
