// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::enum_traits, the opt-in that maps a C++ enum to a PostgreSQL enum type or to text.
/// The codec comes with pgorm/types.hpp; docs/types.md, "Enums", has the details.

namespace pgorm {

/// Opt-in for a C++ enum: specialize with `values`, a constexpr range of (enumerator, label)
/// pairs, and optionally `type_name`, the PostgreSQL enum type the labels belong to. Without
/// type_name, the enum is stored as text.
///
/// A PostgreSQL enum type's OID is assigned by `create type`, so pg_type<E>::oid is 0
/// (parameters let the server infer the type from context) and reading accepts any
/// user-defined type, as well as text.
///
/// Example:
/// ```
/// enum class role { admin, member };
/// template <> struct pgorm::enum_traits<role> {
///   static constexpr std::string_view type_name = "user_role";  // create type user_role ...
///   static constexpr std::array values{std::pair{role::admin, "admin"},
///                                      std::pair{role::member, "member"}};
/// };
/// ```
template <class E>
struct enum_traits;

}  // namespace pgorm
