// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::defaulted<T>: a field that holds a value, or asks INSERT for the column's default.
/// See docs/dml.md, "What INSERT writes".
///
/// ```cpp
/// struct User {
///   std::int64_t id{};
///   std::string email;
///   pgorm::defaulted<bool> is_active;  // DEFAULT true in table_traits<User>::defaults
/// };
/// pgorm::insert(User{.email = "a@b.c"}).exec(conn);                      // is_active: true
/// pgorm::insert(User{.email = "b@b.c", .is_active = false}).exec(conn);  // is_active: false
/// ```

#include <concepts>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/codec.hpp"
#include "pgorm/detail/codec_optional.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/error.hpp"

namespace pgorm {

/// The tag of "use the column default": `u.is_active = pgorm::use_default;`.
struct use_default_t {
  explicit constexpr use_default_t(int /*tag*/) noexcept {}
};

/// Assign or pass it to a pgorm::defaulted<T> to ask INSERT for the column default.
///
/// Example: `User u{.email = "a@b.c", .is_active = pgorm::use_default};`
inline constexpr use_default_t use_default{0};

template <class T>
class defaulted;

namespace detail {
template <class T>
struct is_defaulted : std::false_type {};
template <class T>
struct is_defaulted<defaulted<T>> : std::true_type {};

/// `T` for `pgorm::defaulted<T>`, else the type itself: the C++ type of a column's SQL value
/// (what pgorm::col<&T::m> compares and assigns).
template <class F>
struct remove_defaulted {
  using type = F;
};
template <class T>
struct remove_defaulted<defaulted<T>> {
  using type = T;
};
template <class F>
using remove_defaulted_t = typename remove_defaulted<F>::type;

[[noreturn]] inline void throw_defaulted_empty() {
  throw usage_error(
      "pgorm: this pgorm::defaulted<T> holds no value: it asks for the column default (read the "
      "row back, e.g. with returning_all(), to learn the value the server chose)");
}
}  // namespace detail

/// A field whose column has a default (table_traits<T>::defaults): it holds either a value,
/// which INSERT always writes, or "use the default" (a default-constructed defaulted<T>, or
/// pgorm::use_default), which makes INSERT write the column's DEFAULT instead. Reading a row
/// (select, returning_all(), copy_out) always fills in the value.
///
/// A plain field of a column with a default is always written: only defaulted<T> asks for the
/// default. `defaulted<std::optional<T>>` is a nullable column with a default: std::nullopt then
/// writes NULL, pgorm::use_default the default. The column's SQL type, nullability and
/// comparisons are T's: `pgorm::col<&User::is_active> == true`.
///
/// Example: `pgorm::defaulted<pgorm::timestamptz> created_at;  // DEFAULT now() unless set`
template <class T>
class defaulted {
  static_assert(!detail::is_defaulted<T>::value,
                "pgorm: pgorm::defaulted<pgorm::defaulted<T>> has no meaning; use "
                "pgorm::defaulted<T>");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                "pgorm: pgorm::defaulted<T> holds a value type: no reference, no const");

 public:
  /// The type of the value.
  using value_type = T;

  /// "Use the column default".
  constexpr defaulted() noexcept = default;
  /// "Use the column default".
  constexpr defaulted(use_default_t /*tag*/) noexcept {}  // NOLINT(google-explicit-constructor)
  /// A value, always written: `defaulted<bool> b = false;`, `defaulted<std::string> s = "x";`.
  template <class U = T>
  requires(!std::is_same_v<std::remove_cvref_t<U>, defaulted> &&
           !std::is_same_v<std::remove_cvref_t<U>, use_default_t> &&
           std::convertible_to<U&&, T>) constexpr defaulted(U&& value)  // NOLINT: implicit
      : value_(std::in_place, std::forward<U>(value)) {}

  /// Whether it holds a value (false: it asks for the column default).
  [[nodiscard]] constexpr bool has_value() const noexcept { return value_.has_value(); }
  /// Whether it asks for the column default.
  [[nodiscard]] constexpr bool is_default() const noexcept { return !value_.has_value(); }

  /// The value; throws pgorm::usage_error when it asks for the default.
  [[nodiscard]] constexpr const T& value() const& {
    if (!value_) detail::throw_defaulted_empty();
    return *value_;
  }
  /// The value; throws pgorm::usage_error when it asks for the default.
  [[nodiscard]] constexpr T& value() & {
    if (!value_) detail::throw_defaulted_empty();
    return *value_;
  }
  /// The value, or `fallback` when it asks for the default.
  template <class U>
  [[nodiscard]] constexpr T value_or(U&& fallback) const& {
    return value_.value_or(std::forward<U>(fallback));
  }
  /// The value, unchecked (precondition: has_value()).
  constexpr const T& operator*() const& noexcept { return *value_; }
  /// The value, unchecked (precondition: has_value()).
  constexpr T& operator*() & noexcept { return *value_; }
  /// The value's members, unchecked (precondition: has_value()).
  constexpr const T* operator->() const noexcept { return &*value_; }
  /// The value's members, unchecked (precondition: has_value()).
  constexpr T* operator->() noexcept { return &*value_; }

  /// Makes it hold a value constructed from `args` (decoding fills a field in place).
  template <class... A>
  constexpr T& emplace(A&&... args) {
    return value_.emplace(std::forward<A>(args)...);
  }
  /// Makes it ask for the column default again.
  constexpr void reset() noexcept { value_.reset(); }

  /// The value, where a T is expected (`timestamptz t = row.created_at;`); throws
  /// pgorm::usage_error when it asks for the default. A row read from the server always holds
  /// values.
  constexpr operator const T&() const& {  // NOLINT(google-explicit-constructor)
    return value();
  }

  /// Equal when both ask for the default or both hold equal values.
  friend constexpr bool operator==(const defaulted& a,
                                   const defaulted& b) requires std::equality_comparable<T> {
    return a.value_ == b.value_;
  }
  /// Equal when it holds a value equal to `b` (never when it asks for the default).
  template <class U>
  requires(!detail::is_defaulted<U>::value && !std::is_same_v<U, use_default_t> &&
           std::equality_comparable_with<const T&, const U&>) friend constexpr bool
  operator==(const defaulted& a, const U& b) {
    return a.value_.has_value() && *a.value_ == b;
  }
  /// Equal when it asks for the default.
  friend constexpr bool operator==(const defaulted& a, use_default_t /*tag*/) noexcept {
    return !a.value_.has_value();
  }

 private:
  std::optional<T> value_;
};

namespace detail {
/// pg_type<T>::element_type_name, or "" when T's codec has none.
template <class T>
constexpr std::string_view element_type_name_of() noexcept {
  if constexpr (requires { pg_type<T>::element_type_name; }) {
    return pg_type<T>::element_type_name;
  } else {
    return {};
  }
}
}  // namespace detail

/// pgorm::defaulted<T> <-> T's SQL type (nullable when T is). Encoding one that asks for the
/// default throws conversion_error: only INSERT knows how to ask for a default (COPY leaves such
/// a column out, see pgorm::insert). Decoding fills in the value.
///
/// Example: `static_assert(pgorm::pg_type<pgorm::defaulted<bool>>::oid == pgorm::oids::boolean);`
template <class T>
requires pg_encodable<T>
struct pg_type<defaulted<T>> {
  static constexpr pgorm::oid oid = pg_type<T>::oid;
  static constexpr pgorm::oid array_oid = detail::array_oid_of<T>();
  static constexpr std::string_view sql_name = pg_type<T>::sql_name;
  static constexpr bool nullable = pg_type<T>::nullable;
  static constexpr std::string_view element_type_name = detail::element_type_name_of<T>();

  static constexpr bool accepts(pgorm::oid type) noexcept requires pg_decodable<T> {
    return pg_type<T>::accepts(type);
  }
  static void encode(const defaulted<T>& value, byte_buffer& out) {
    pg_type<T>::encode(checked(value), out);
  }
  static void encode_binary(const defaulted<T>& value, byte_buffer& out,
                            pgorm::oid element_oid) requires requires(const T& v, byte_buffer& o) {
    pg_type<T>::encode_binary(v, o, pgorm::oid{});
  }
  { pg_type<T>::encode_binary(checked(value), out, element_oid); }
  static void encode_text_param(const defaulted<T>& value, byte_buffer& out) requires
      requires(const T& v, byte_buffer& o) {
    pg_type<T>::encode_text_param(v, o);
  }
  { pg_type<T>::encode_text_param(checked(value), out); }
  static void decode(std::string_view bytes, pgorm::oid type,
                     defaulted<T>& out) requires pg_decodable<T> {
    if (out.is_default()) out.emplace();
    pg_type<T>::decode(bytes, type, *out);
  }
  static bool is_null(const defaulted<T>& value) noexcept requires pg_type<T>::nullable {
    return value.has_value() && pg_type<T>::is_null(*value);
  }
  static void set_null(defaulted<T>& out) noexcept(
      noexcept(out.emplace())) requires pg_type<T>::nullable {
    if (out.is_default()) out.emplace();
    pg_type<T>::set_null(*out);
  }

 private:
  static const T& checked(const defaulted<T>& value) {
    if (value.is_default()) {
      detail::throw_encode_error(
          "pgorm: a pgorm::defaulted value that asks for the column default cannot be sent as "
          "a value; only insert() writes the default");
    }
    return *value;
  }
};

}  // namespace pgorm
