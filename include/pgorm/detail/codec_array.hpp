// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codecs for arrays: one-dimensional as std::vector<T> (std::vector<std::optional<T>> allows
/// NULL elements), multi-dimensional as nested vectors, std::vector<std::vector<T>> and deeper
/// (rectangular, up to PostgreSQL's 6 dimensions). Wire format (array_send): int32 ndim, int32
/// has-null flag, element type OID, then per dimension int32 size and int32 lower bound, then per
/// element int32 length (-1 for NULL) and the element's bytes. An empty array has ndim 0 and no
/// dimensions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pgorm/detail/codec_enum.hpp"
#include "pgorm/detail/codec_optional.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/export.hpp"

namespace pgorm {

namespace detail {

template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};

/// An element type for std::vector<T>: encodable, and not itself an array (a vector of vectors
/// is a multi-dimensional array, which has a codec of its own below).
template <class T>
concept array_element = pg_encodable<T> && !requires {
  typename pg_type<typename unwrap_optional<T>::type>::element_type;
};

/// The header of a binary array value, as read_array_header() found it.
struct array_header {
  oid element_type = 0;
  std::size_t count = 0;   ///< number of elements
  std::size_t offset = 0;  ///< where the first element's length word starts
};

/// Parses and checks the array header: ndim 0 or 1, a sane has-null flag, lower bound free.
/// Throws conversion_error (multi-dimensional arrays, truncated input). In src/types.cpp.
PGORM_API array_header read_array_header(std::string_view bytes);
[[noreturn]] PGORM_API void throw_bad_array_element(std::size_t index);
[[noreturn]] PGORM_API void throw_array_too_long(std::size_t size);
[[noreturn]] PGORM_API void throw_array_element_type(oid element_type, std::string cpp_element);

/// Quotes, in place, the array element text written to `out` from `at` on: `"` before it, a
/// backslash before each `"` or `\`, `"` after it (the array text format's quoting, which
/// keeps a label such as `NULL`, `a,b` or `{x}` one element).
inline void quote_array_text_element(byte_buffer& out, std::size_t at) {
  // Shifted right past the opening quote and the escapes, filled from the end so that nothing
  // is overwritten.
  const std::size_t length = out.size() - at;
  std::size_t escapes = 0;
  for (std::size_t k = at; k != out.size(); ++k) {
    escapes += (out.data()[k] == '"' || out.data()[k] == '\\') ? 1 : 0;
  }
  out.grow_by(escapes + 2);
  char* p = out.data() + at;
  std::size_t to = length + escapes + 1;  // the closing quote's position
  p[to] = '"';
  for (std::size_t from = length; from-- != 0;) {
    p[--to] = p[from];
    if (p[from] == '"' || p[from] == '\\') p[--to] = '\\';
  }
  p[0] = '"';
}

template <std::size_t N>
struct array_name_storage {
  std::array<char, N + 2> chars{};
};

/// "<element sql_name>[]", e.g. "bigint[]", as a static string.
template <class T>
struct array_sql_name {
  static constexpr std::string_view element = pg_type<T>::sql_name;
  static constexpr auto storage = [] {
    array_name_storage<element.size()> s;
    for (std::size_t i = 0; i != element.size(); ++i) s.chars[i] = element[i];
    s.chars[element.size()] = '[';
    s.chars[element.size() + 1] = ']';
    return s;
  }();
  static constexpr std::string_view value{storage.chars.data(), storage.chars.size()};
};

}  // namespace detail

/// std::vector<T> <-> T[] (one dimension). Elements may be NULL when T is std::optional<U>.
/// std::vector<std::byte> is bytea, not an array.
///
/// Example: `std::vector<std::optional<std::int32_t>> scores{1, std::nullopt, 3};  // integer[]`
template <class T, class Alloc>
requires detail::array_element<T>
struct pg_type<std::vector<T, Alloc>> {
 private:
  using element = typename detail::unwrap_optional<T>::type;
  using codec = pg_type<T>;

 public:
  /// Marks this as an array codec, so that arrays of arrays are refused.
  using element_type = T;

  static constexpr pgorm::oid oid = detail::array_oid_of<element>();
  static constexpr std::string_view sql_name = detail::array_sql_name<element>::value;
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept requires pg_decodable<T> {
    if (oid != 0 && type == oid) return true;
    const pgorm::oid element_oid = detail::array_element_oid(type);
    if (element_oid != 0) return codec::accepts(element_oid);
    // The array type of an element type known only at run time (a PostgreSQL enum).
    return oid == 0 && type >= oids::first_user_defined;
  }

  static void encode(const std::vector<T, Alloc>& value, byte_buffer& out) {
    encode_binary(value, out, pg_type<element>::oid);
  }

  /// The PostgreSQL enum type of the elements, for looking up its OID at run time (binary
  /// COPY, which has no text form to fall back on; see copy_in).
  static constexpr std::string_view element_type_name = [] {
    if constexpr (detail::pg_enum<element>) {
      return std::string_view{enum_traits<element>::type_name};
    } else {
      return std::string_view{};
    }
  }();

  /// The binary form with `element_oid` in its header: encode() writes pg_type<element>::oid,
  /// which is 0 for a PostgreSQL enum.
  static void encode_binary(const std::vector<T, Alloc>& value, byte_buffer& out,
                            pgorm::oid element_oid) {
    if (value.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        [[unlikely]] {
      detail::throw_array_too_long(value.size());
    }
    bool has_null = false;
    if constexpr (codec::nullable) {
      for (const auto& v : value) has_null = has_null || codec::is_null(v);
    }
    char* header = out.grow_by(value.empty() ? 12 : 20);
    store_be(header, std::int32_t{value.empty() ? 0 : 1});
    store_be(header + 4, std::int32_t{has_null ? 1 : 0});
    store_be(header + 8, element_oid);
    if (!value.empty()) {
      store_be(header + 12, static_cast<std::int32_t>(value.size()));
      store_be(header + 16, std::int32_t{1});  // lower bound: SQL arrays start at 1
    }
    for (const auto& v : value) {
      if constexpr (codec::nullable) {
        if (codec::is_null(v)) {
          out.append_be(std::int32_t{-1});
          continue;
        }
      }
      const std::size_t at = out.append_placeholder32();
      codec::encode(v, out);
      out.patch_be32(at, static_cast<std::int32_t>(out.size() - at - 4));
    }
  }

  /// As a statement parameter, an array of a PostgreSQL enum goes out in the text format,
  /// `{"admin","member",NULL}`, with OID 0: the binary form must carry the element type's OID,
  /// which `create type` assigned and only the server knows, while the text form lets the
  /// server take the type from the context (the column compared or written). encode() still
  /// writes the binary form (element OID 0), for round trips of decoded values.
  static void encode_text_param(const std::vector<T, Alloc>& value,
                                byte_buffer& out) requires detail::pg_enum<element> {
    out.push_back('{');
    for (std::size_t i = 0; i != value.size(); ++i) {
      if (i != 0) out.push_back(',');
      if constexpr (codec::nullable) {
        if (codec::is_null(value[i])) {
          out.append(std::string_view{"NULL"});
          continue;
        }
      }
      const std::size_t at = out.size();
      codec::encode(value[i], out);  // the bare label, then quoted in place
      detail::quote_array_text_element(out, at);
    }
    out.push_back('}');
  }

  static void decode(std::string_view bytes, pgorm::oid,
                     std::vector<T, Alloc>& out) requires pg_decodable<T> {
    const detail::array_header header = detail::read_array_header(bytes);
    if (!codec::accepts(header.element_type)) [[unlikely]] {
      detail::throw_array_element_type(header.element_type, detail::cpp_type_name<T>());
    }
    out.resize(header.count);
    std::size_t pos = header.offset;
    for (std::size_t i = 0; i != header.count; ++i) {
      if (bytes.size() - pos < 4) [[unlikely]]
        detail::throw_bad_array_element(i);
      const auto length = load_be<std::int32_t>(bytes.data() + pos);
      pos += 4;
      if (length < 0) {
        if constexpr (codec::nullable) {
          codec::set_null(out[i]);
          continue;
        } else {
          detail::throw_decode_error("array element " + std::to_string(i + 1) +
                                     " is NULL; use std::vector<std::optional<T>> to allow NULL "
                                     "elements");
        }
      }
      const auto size = static_cast<std::size_t>(length);
      if (bytes.size() - pos < size) [[unlikely]]
        detail::throw_bad_array_element(i);
      if constexpr (std::is_same_v<T, bool>) {
        bool b = false;  // std::vector<bool> hands out proxies, not bool&
        codec::decode(bytes.substr(pos, size), header.element_type, b);
        out[i] = b;
      } else {
        codec::decode(bytes.substr(pos, size), header.element_type, out[i]);
      }
      pos += size;
    }
  }
};

namespace detail {

/// The shape of nested vectors: `leaf` is the innermost element type (std::vector<std::byte>
/// is bytea, a leaf), `depth` the number of vector levels.
template <class V>
struct nested_shape {
  using leaf = V;
  static constexpr std::size_t depth = 0;
};
template <class U, class A>
requires(!std::is_same_v<U, std::byte>) struct nested_shape<std::vector<U, A>> {
  using leaf = typename nested_shape<U>::leaf;
  static constexpr std::size_t depth = nested_shape<U>::depth + 1;
};

/// PostgreSQL's MAXDIM.
inline constexpr std::size_t max_array_dimensions = 6;

/// The header of a binary multi-dimensional array value.
struct md_array_header {
  oid element_type = 0;
  std::size_t ndim = 0;  ///< 0 for an empty array
  std::array<std::size_t, max_array_dimensions> dims{};
  std::size_t offset = 0;  ///< where the first element's length word starts
};

/// Parses and checks the header of an array read into `depth` levels of std::vector: ndim 0
/// or `depth`, sane sizes (the bytes must hold a length word per element). Throws
/// conversion_error. In src/md_array.cpp.
PGORM_API md_array_header read_md_array_header(std::string_view bytes, std::size_t depth);
/// Throws conversion_error (via throw_encode_error): a ragged multi-dimensional array.
[[noreturn]] PGORM_API void throw_ragged_array(std::size_t level, std::size_t index_size,
                                               std::size_t expected);

}  // namespace detail

/// std::vector<std::vector<T>> (and deeper, up to 6 levels) <-> a multi-dimensional T[].
/// Rectangular only: every vector at one level has the same size, or encode throws
/// conversion_error (as a parameter: naming it, e.g. "$1"). Leaves may be enums of a
/// PostgreSQL enum type (sent as text parameters, as one-dimensional arrays of them are). An array
/// with a zero-length dimension is the empty array, which reads back as an empty outer vector. Leaf
/// elements may be NULL when T is std::optional<U>.
///
/// Example: `std::vector<std::vector<std::int32_t>> grid{{1, 2, 3}, {4, 5, 6}};  // integer[][]`
template <class T, class A1, class A2>
requires(!std::is_same_v<T, std::byte>) &&
    detail::array_element<typename detail::nested_shape<std::vector<T, A2>>::leaf> &&
    (detail::nested_shape<std::vector<std::vector<T, A2>, A1>>::depth <=
     detail::max_array_dimensions) struct pg_type<std::vector<std::vector<T, A2>, A1>> {
 private:
  using value_t = std::vector<std::vector<T, A2>, A1>;
  using shape = detail::nested_shape<value_t>;
  using leaf = typename shape::leaf;
  using element = typename detail::unwrap_optional<leaf>::type;
  using codec = pg_type<leaf>;
  static constexpr std::size_t depth = shape::depth;
  using dims_t = std::array<std::size_t, depth>;

  template <std::size_t Level, class V>
  static void measure(const V& v, dims_t& dims) {
    dims[Level] = v.size();
    if constexpr (Level + 1 < depth) {
      if (!v.empty()) measure<Level + 1>(v.front(), dims);
    }
  }

  // Checks the shape and finds NULLs; returns the number of leaves.
  template <std::size_t Level, class V>
  static void check(const V& v, const dims_t& dims, bool& has_null) {
    if (v.size() != dims[Level]) [[unlikely]]
      detail::throw_ragged_array(Level + 1, v.size(), dims[Level]);
    if constexpr (Level + 1 < depth) {
      for (const auto& inner : v) check<Level + 1>(inner, dims, has_null);
    } else if constexpr (codec::nullable) {
      for (const auto& x : v) has_null = has_null || codec::is_null(x);
    }
  }

  template <std::size_t Level, class V>
  static void write(const V& v, byte_buffer& out) {
    if constexpr (Level + 1 < depth) {
      for (const auto& inner : v) write<Level + 1>(inner, out);
    } else {
      for (const auto& x : v) {
        if constexpr (codec::nullable) {
          if (codec::is_null(x)) {
            out.append_be(std::int32_t{-1});
            continue;
          }
        }
        const std::size_t at = out.append_placeholder32();
        codec::encode(x, out);
        out.patch_be32(at, static_cast<std::int32_t>(out.size() - at - 4));
      }
    }
  }

  template <std::size_t Level, class V>
  static void write_text(const V& v, byte_buffer& out) {
    out.push_back('{');
    for (std::size_t i = 0; i != v.size(); ++i) {
      if (i != 0) out.push_back(',');
      if constexpr (Level + 1 < depth) {
        write_text<Level + 1>(v[i], out);
      } else {
        if constexpr (codec::nullable) {
          if (codec::is_null(v[i])) {
            out.append(std::string_view{"NULL"});
            continue;
          }
        }
        const std::size_t at = out.size();
        codec::encode(v[i], out);
        detail::quote_array_text_element(out, at);
      }
    }
    out.push_back('}');
  }

  template <std::size_t Level, class V>
  static void read(std::string_view bytes, const detail::md_array_header& h, std::size_t& pos,
                   std::size_t& index, V& v) {
    v.resize(h.dims[Level]);
    if constexpr (Level + 1 < depth) {
      for (auto& inner : v) read<Level + 1>(bytes, h, pos, index, inner);
    } else {
      for (std::size_t i = 0; i != v.size(); ++i, ++index) {
        if (bytes.size() - pos < 4) [[unlikely]]
          detail::throw_bad_array_element(index);
        const auto length = load_be<std::int32_t>(bytes.data() + pos);
        pos += 4;
        if (length < 0) {
          if constexpr (codec::nullable) {
            codec::set_null(v[i]);
            continue;
          } else {
            detail::throw_decode_error("array element " + std::to_string(index + 1) +
                                       " is NULL; use std::optional<T> elements to allow NULL");
          }
        }
        const auto size = static_cast<std::size_t>(length);
        if (bytes.size() - pos < size) [[unlikely]]
          detail::throw_bad_array_element(index);
        if constexpr (std::is_same_v<leaf, bool>) {
          bool b = false;  // std::vector<bool> hands out proxies, not bool&
          codec::decode(bytes.substr(pos, size), h.element_type, b);
          v[i] = b;
        } else {
          codec::decode(bytes.substr(pos, size), h.element_type, v[i]);
        }
        pos += size;
      }
    }
  }

 public:
  /// Marks this as an array codec (no arrays of it).
  using element_type = leaf;

  static constexpr pgorm::oid oid = detail::array_oid_of<element>();
  static constexpr std::string_view sql_name = detail::array_sql_name<element>::value;
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept requires pg_decodable<leaf> {
    if (oid != 0 && type == oid) return true;
    const pgorm::oid element_oid = detail::array_element_oid(type);
    if (element_oid != 0) return codec::accepts(element_oid);
    // The array type of an element type known only at run time (a PostgreSQL enum).
    return oid == 0 && type >= oids::first_user_defined;
  }

  /// The PostgreSQL enum type of the elements, for binary COPY (see the one-dimensional
  /// codec).
  static constexpr std::string_view element_type_name =
      pg_type<std::vector<leaf>>::element_type_name;

  static void encode(const value_t& value, byte_buffer& out) {
    encode_binary(value, out, pg_type<element>::oid);
  }

  /// As a statement parameter, an array of a PostgreSQL enum goes out in the text format,
  /// `{{"admin","member"},{NULL,"guest"}}`, with OID 0, as the one-dimensional codec's does
  /// (the server takes the type from the context). Ragged input throws conversion_error.
  static void encode_text_param(const value_t& value,
                                byte_buffer& out) requires detail::pg_enum<element> {
    dims_t dims{};
    measure<0>(value, dims);
    bool has_null = false;
    check<0>(value, dims, has_null);
    std::size_t total = 1;
    for (const std::size_t d : dims) total *= d;
    if (total == 0) {  // any zero-length dimension: the empty array, as encode() writes it
      out.append(std::string_view{"{}"});
      return;
    }
    write_text<0>(value, out);
  }

  /// The binary form with `element_oid` in its header (encode() writes pg_type<element>::oid,
  /// which is 0 for a PostgreSQL enum; binary COPY passes the looked-up one).
  static void encode_binary(const value_t& value, byte_buffer& out, pgorm::oid element_oid) {
    dims_t dims{};
    measure<0>(value, dims);
    bool has_null = false;
    check<0>(value, dims, has_null);
    std::size_t total = 1;
    for (const std::size_t d : dims) {
      if (d > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) [[unlikely]]
        detail::throw_array_too_long(d);
      total *= d;
    }
    if (total > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) [[unlikely]]
      detail::throw_array_too_long(total);
    if (total == 0) {  // any zero-length dimension: the empty array
      char* header = out.grow_by(12);
      store_be(header, std::int32_t{0});
      store_be(header + 4, std::int32_t{0});
      store_be(header + 8, element_oid);
      return;
    }
    char* header = out.grow_by(12 + 8 * depth);
    store_be(header, static_cast<std::int32_t>(depth));
    store_be(header + 4, std::int32_t{has_null ? 1 : 0});
    store_be(header + 8, element_oid);
    for (std::size_t k = 0; k != depth; ++k) {
      store_be(header + 12 + 8 * k, static_cast<std::int32_t>(dims[k]));
      store_be(header + 16 + 8 * k, std::int32_t{1});
    }
    write<0>(value, out);
  }

  static void decode(std::string_view bytes, pgorm::oid, value_t& out) requires pg_decodable<leaf> {
    const detail::md_array_header h = detail::read_md_array_header(bytes, depth);
    if (!codec::accepts(h.element_type)) [[unlikely]] {
      detail::throw_array_element_type(h.element_type, detail::cpp_type_name<leaf>());
    }
    if (h.ndim == 0) {
      out.clear();
      return;
    }
    std::size_t pos = h.offset;
    std::size_t index = 0;
    read<0>(bytes, h, pos, index, out);
  }
};

}  // namespace pgorm
