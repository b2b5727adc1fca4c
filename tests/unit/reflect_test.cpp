// SPDX-License-Identifier: MIT
// Reflection: field counts, types and names of aggregates, member pointer -> index, type names.

#include "pgorm/reflect.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/types.hpp"

namespace {

enum class role { admin, member };
enum plain_enum { red, green };

struct one_field {
  std::int64_t id;
};

struct user {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool is_active = true;
  pgorm::timestamptz created_at;
};

struct keywords {
  std::int32_t id_;
  std::string type;
  std::int32_t order;
  std::string user;
  std::string select;
  bool table;
  std::int64_t group;
};

struct all_types {
  bool b;
  std::int16_t i16;
  std::int32_t i32;
  std::int64_t i64;
  float f32;
  double f64;
  std::string text;
  std::optional<std::string> maybe_text;
  std::vector<std::byte> bytes;
  std::chrono::sys_time<std::chrono::microseconds> at;
  pgorm::timestamp local_at;
  pgorm::date day;
  pgorm::time_of_day time_of_day_;
  pgorm::interval span;
  pgorm::uuid uid;
  pgorm::json doc;
  pgorm::jsonb docb;
  pgorm::numeric amount;
  std::vector<int> ints;
  std::vector<std::string> tags;
  role the_role;
  plain_enum color;
  std::optional<std::vector<std::optional<std::int64_t>>> nested;
  std::optional<std::chrono::sys_time<std::chrono::microseconds>> deleted_at;
};

struct wide {
  std::int32_t f00;
  std::int32_t f01;
  std::int32_t f02;
  std::int32_t f03;
  std::int32_t f04;
  std::int32_t f05;
  std::int32_t f06;
  std::int32_t f07;
  std::int32_t f08;
  std::int32_t f09;
  std::int32_t f10;
  std::int32_t f11;
  std::int32_t f12;
  std::int32_t f13;
  std::int32_t f14;
  std::int32_t f15;
  std::int32_t f16;
  std::int32_t f17;
  std::int32_t f18;
  std::int32_t f19;
  std::int32_t f20;
  std::int32_t f21;
  std::int32_t f22;
  std::int32_t f23;
  std::int32_t f24;
  std::int32_t f25;
  std::int32_t f26;
  std::int32_t f27;
  std::int32_t f28;
  std::int32_t f29;
  std::int32_t f30;
  std::int32_t f31;
  std::int32_t f32;
  std::int32_t f33;
  std::int32_t f34;
  std::int32_t f35;
  std::int32_t f36;
  std::int32_t f37;
  std::int32_t f38;
  std::int32_t f39;
};

struct CamelCase {
  std::int32_t userId;
  std::string EmailAddress;
  bool isEmailVerified;
};

struct with_defaults {
  std::int32_t a = 1;
  std::string b = "x";
  std::optional<double> c = 2.5;
};

struct with_map {
  std::map<std::string, int> m;
  std::int32_t after;
};

struct const_member {
  const std::int32_t fixed;
  std::int32_t other;
};

struct dollar_ok {
  std::int32_t a1;
  std::int32_t _leading;
  std::int32_t trailing_;
  std::int32_t x2y3;
};

struct nested_inner {
  std::int32_t x;
  std::int32_t y;
};
struct nested_outer {
  nested_inner inner;
  std::int32_t z;
};

struct same_types {
  std::string a;
  std::string b;
  std::string c;
};

struct long_names {
  std::int32_t a_rather_long_member_name_that_is_still_under_the_postgres_limit;
  std::int32_t short_one;
};

struct array_of_bytes {
  std::vector<std::byte> data;
  std::optional<std::vector<std::byte>> maybe_data;
};

struct only_optionals {
  std::optional<std::int32_t> a;
  std::optional<bool> b;
  std::optional<pgorm::uuid> c;
};

struct ptr_fields {
  const char* name;
  int* p;
};

struct empty_struct {};

// Rejected kinds.
struct not_aggregate {
  explicit not_aggregate(int v) : value(v) {}
  int value;
};
struct has_private {
  int get() const { return hidden; }

 private:
  int hidden = 0;
};
struct base_struct {
  int base_field;
};
struct derived_struct : base_struct {
  int own;
};
struct polymorphic {
  virtual ~polymorphic() = default;
  int x;
};
union a_union {
  int i;
  float f;
};

}  // namespace

namespace outer::inner::deepest {
struct UserProfile {
  std::int64_t user_id;
  std::string bio;
};
struct HTTPRequestLog {
  std::int64_t id;
  std::string path;
};
}  // namespace outer::inner::deepest

namespace app {
template <class T>
struct wrapper {
  T value;
  std::int32_t id_;
};
template <class A, class B>
struct pair_of {
  A first;
  B second;
};
namespace {
struct in_anonymous {
  std::int32_t anon_field;
};
}  // namespace
struct with_nested_type {
  struct item {
    std::int32_t qty;
    std::string sku;
  };
  std::int32_t count;
};
inline namespace v2 {
struct versioned {
  std::int32_t ver;
};
}  // namespace v2
}  // namespace app

// ---- compile-time checks: constant evaluation is the proof --------------------------------------

static_assert(pgorm::field_count_v<one_field> == 1);
static_assert(pgorm::field_names_v<one_field>[0] == "id");
static_assert(pgorm::field_count_v<user> == 5);
static_assert(pgorm::field_count_v<wide> == 40);
static_assert(pgorm::field_name_v<wide, 39> == "f39");
static_assert(pgorm::member_index_v<&wide::f27> == 27);
static_assert(pgorm::member_name_v<&keywords::order> == "order");
static_assert(pgorm::member_index<&user::created_at>() == 4);
static_assert(pgorm::member_name<&user::email>() == "email");
static_assert(std::is_same_v<pgorm::field_type_t<user, 2>, std::optional<std::string>>);
static_assert(std::is_same_v<pgorm::member_type_t<&user::email>, std::string>);
static_assert(std::is_same_v<pgorm::member_class_t<&user::email>, user>);
static_assert(pgorm::type_name<outer::inner::deepest::UserProfile>() ==
              "outer::inner::deepest::UserProfile");
static_assert(pgorm::unqualified_type_name<outer::inner::deepest::UserProfile>() == "UserProfile");
static_assert(pgorm::snake_case_type_name<outer::inner::deepest::UserProfile>() == "user_profile");
static_assert(pgorm::snake_case_type_name<outer::inner::deepest::HTTPRequestLog>() ==
              "http_request_log");
static_assert(pgorm::unqualified_type_name<app::wrapper<int>>() == "wrapper");
static_assert(pgorm::type_name<app::wrapper<int>>() == "app::wrapper<int>");
static_assert(pgorm::member_name_v<&app::wrapper<std::string>::id_> == "id_");
static_assert(pgorm::member_name_v<&app::pair_of<app::wrapper<int>, std::string>::second> ==
              "second");
static_assert(pgorm::field_count_v<empty_struct> == 0);
static_assert(pgorm::field_count_v<all_types> == 24);

template <class T, std::size_t N>
constexpr bool names_are(const std::array<std::string_view, N>& expected) {
  if (pgorm::field_count_v<T> != N) return false;
  for (std::size_t i = 0; i != N; ++i) {
    if (pgorm::field_names_v<T>[i] != expected[i]) return false;
  }
  return true;
}

static_assert(names_are<user>(std::array<std::string_view, 5>{"id", "email", "name", "is_active",
                                                              "created_at"}));
static_assert(names_are<wide>(std::array<std::string_view, 40>{
    "f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09",
    "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19",
    "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29",
    "f30", "f31", "f32", "f33", "f34", "f35", "f36", "f37", "f38", "f39"}));

// ---- tests
// ---------------------------------------------------------------------------------------

template <class T>
std::vector<std::string> names_of() {
  const auto& names = pgorm::field_names_v<T>;
  return {names.begin(), names.end()};
}

using strings = std::vector<std::string>;

TEST(reflect_field_names, single_field) { EXPECT_EQ(names_of<one_field>(), strings{"id"}); }

TEST(reflect_field_names, typical_entity) {
  EXPECT_EQ(names_of<user>(), (strings{"id", "email", "name", "is_active", "created_at"}));
}

TEST(reflect_field_names, sql_keywords_and_trailing_underscore) {
  EXPECT_EQ(names_of<keywords>(),
            (strings{"id_", "type", "order", "user", "select", "table", "group"}));
}

TEST(reflect_field_names, every_codec_type) {
  EXPECT_EQ(
      names_of<all_types>(),
      (strings{"b",          "i16",    "i32",       "i64",      "f32",  "f64",          "text",
               "maybe_text", "bytes",  "at",        "local_at", "day",  "time_of_day_", "span",
               "uid",        "doc",    "docb",      "amount",   "ints", "tags",         "the_role",
               "color",      "nested", "deleted_at"}));
}

TEST(reflect_field_names, forty_fields) {
  const strings names = names_of<wide>();
  ASSERT_EQ(names.size(), 40U);
  for (std::size_t i = 0; i != names.size(); ++i) {
    EXPECT_EQ(names[i], (i < 10 ? "f0" : "f") + std::to_string(i));
  }
}

TEST(reflect_field_names, camel_case_kept_verbatim) {
  EXPECT_EQ(names_of<CamelCase>(), (strings{"userId", "EmailAddress", "isEmailVerified"}));
}

TEST(reflect_field_names, default_member_initializers) {
  EXPECT_EQ(names_of<with_defaults>(), (strings{"a", "b", "c"}));
}

TEST(reflect_field_names, non_literal_member_types) {
  EXPECT_EQ(names_of<with_map>(), (strings{"m", "after"}));
}

TEST(reflect_field_names, const_member) {
  EXPECT_EQ(names_of<const_member>(), (strings{"fixed", "other"}));
}

TEST(reflect_field_names, identifier_shapes) {
  EXPECT_EQ(names_of<dollar_ok>(), (strings{"a1", "_leading", "trailing_", "x2y3"}));
}

TEST(reflect_field_names, nested_aggregate_member) {
  EXPECT_EQ(names_of<nested_outer>(), (strings{"inner", "z"}));
  EXPECT_EQ(names_of<nested_inner>(), (strings{"x", "y"}));
}

TEST(reflect_field_names, fields_of_one_type) {
  EXPECT_EQ(names_of<same_types>(), (strings{"a", "b", "c"}));
}

TEST(reflect_field_names, long_names) {
  EXPECT_EQ(
      names_of<long_names>(),
      (strings{"a_rather_long_member_name_that_is_still_under_the_postgres_limit", "short_one"}));
}

TEST(reflect_field_names, bytea_and_optionals) {
  EXPECT_EQ(names_of<array_of_bytes>(), (strings{"data", "maybe_data"}));
  EXPECT_EQ(names_of<only_optionals>(), (strings{"a", "b", "c"}));
}

TEST(reflect_field_names, pointer_members) {
  EXPECT_EQ(names_of<ptr_fields>(), (strings{"name", "p"}));
}

TEST(reflect_field_names, empty_struct_has_none) { EXPECT_TRUE(names_of<empty_struct>().empty()); }

TEST(reflect_field_names, nested_namespaces) {
  EXPECT_EQ(names_of<outer::inner::deepest::UserProfile>(), (strings{"user_id", "bio"}));
  EXPECT_EQ(names_of<outer::inner::deepest::HTTPRequestLog>(), (strings{"id", "path"}));
}

TEST(reflect_field_names, class_templates) {
  EXPECT_EQ(names_of<app::wrapper<int>>(), (strings{"value", "id_"}));
  EXPECT_EQ(names_of<app::wrapper<std::vector<std::string>>>(), (strings{"value", "id_"}));
  EXPECT_EQ((names_of<app::pair_of<std::string, app::wrapper<int>>>()),
            (strings{"first", "second"}));
}

TEST(reflect_field_names, anonymous_namespace_nested_class_inline_namespace) {
  EXPECT_EQ(names_of<app::in_anonymous>(), strings{"anon_field"});
  EXPECT_EQ(names_of<app::with_nested_type::item>(), (strings{"qty", "sku"}));
  EXPECT_EQ(names_of<app::with_nested_type>(), strings{"count"});
  EXPECT_EQ(names_of<app::versioned>(), strings{"ver"});
}

TEST(reflect_member_index, matches_declaration_order) {
  EXPECT_EQ(pgorm::member_index_v<&user::id>, 0U);
  EXPECT_EQ(pgorm::member_index_v<&user::email>, 1U);
  EXPECT_EQ(pgorm::member_index_v<&user::name>, 2U);
  EXPECT_EQ(pgorm::member_index_v<&user::is_active>, 3U);
  EXPECT_EQ(pgorm::member_index_v<&user::created_at>, 4U);
}

TEST(reflect_member_index, same_typed_fields_are_told_apart) {
  EXPECT_EQ(pgorm::member_index_v<&same_types::a>, 0U);
  EXPECT_EQ(pgorm::member_index_v<&same_types::b>, 1U);
  EXPECT_EQ(pgorm::member_index_v<&same_types::c>, 2U);
  EXPECT_EQ(pgorm::member_index_v<&wide::f00>, 0U);
  EXPECT_EQ(pgorm::member_index_v<&wide::f39>, 39U);
}

TEST(reflect_member_index, every_codec_type) {
  EXPECT_EQ(pgorm::member_index_v<&all_types::bytes>, 8U);
  EXPECT_EQ(pgorm::member_index_v<&all_types::the_role>, 20U);
  EXPECT_EQ(pgorm::member_index_v<&all_types::nested>, 22U);
  EXPECT_EQ(pgorm::member_name_v<&all_types::deleted_at>, "deleted_at");
  EXPECT_EQ(pgorm::member_name_v<&all_types::time_of_day_>, "time_of_day_");
}

TEST(reflect_member_index, templates_namespaces_and_const) {
  EXPECT_EQ(pgorm::member_index_v<&app::wrapper<int>::id_>, 1U);
  EXPECT_EQ(pgorm::member_name_v<&outer::inner::deepest::UserProfile::bio>, "bio");
  EXPECT_EQ(pgorm::member_index_v<&const_member::other>, 1U);
  EXPECT_EQ(pgorm::member_name_v<&nested_outer::z>, "z");
  EXPECT_EQ(pgorm::member_name_v<&keywords::type>, "type");
}

TEST(reflect_type_name, qualified_and_unqualified) {
  // The qualified name is the compiler's spelling of the anonymous namespace.
#if defined(__clang__)
  EXPECT_EQ(pgorm::type_name<user>(), "(anonymous namespace)::user");
#else
  EXPECT_EQ(pgorm::type_name<user>(), "{anonymous}::user");
#endif
  EXPECT_EQ(pgorm::unqualified_type_name<user>(), "user");
  EXPECT_EQ(pgorm::unqualified_type_name<app::in_anonymous>(), "in_anonymous");
  EXPECT_EQ(pgorm::unqualified_type_name<app::with_nested_type::item>(), "item");
  EXPECT_EQ(pgorm::unqualified_type_name<app::versioned>(), "versioned");
  EXPECT_EQ((pgorm::unqualified_type_name<app::pair_of<app::wrapper<int>, std::string>>()),
            "pair_of");
}

TEST(reflect_snake_case, conversions) {
  EXPECT_EQ(pgorm::detail::to_snake_case("UserProfile"), "user_profile");
  EXPECT_EQ(pgorm::detail::to_snake_case("HTTPRequest"), "http_request");
  EXPECT_EQ(pgorm::detail::to_snake_case("userID"), "user_id");
  EXPECT_EQ(pgorm::detail::to_snake_case("already_snake"), "already_snake");
  EXPECT_EQ(pgorm::detail::to_snake_case("Item2Tag"), "item2_tag");
  EXPECT_EQ(pgorm::detail::to_snake_case("A"), "a");
  EXPECT_EQ(pgorm::detail::to_snake_case("ABC"), "abc");
  EXPECT_EQ(pgorm::detail::to_snake_case("Snake_Case"), "snake_case");
  EXPECT_EQ(pgorm::detail::to_snake_case(""), "");
  static_assert(pgorm::detail::snake_case_v<"OrderLineItem"> == "order_line_item");
// clang 16 cannot evaluate libstdc++ 12's std::string in a constant expression (its SSO buffer
// is a union member that clang's evaluator refuses to activate): checked at run time there.
#if defined(__clang__) && defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE < 13
  EXPECT_EQ(pgorm::detail::to_snake_case("IOError"), "io_error");
#else
  static_assert(pgorm::detail::to_snake_case("IOError") == "io_error");
#endif
}

TEST(reflect_access, get_field_and_for_each_field) {
  user u{7, "a@b.c", std::nullopt, true, {}};
  EXPECT_EQ(pgorm::get_field<1>(u), "a@b.c");
  pgorm::get_field<1>(u) = "x@y.z";
  EXPECT_EQ(u.email, "x@y.z");
  strings seen;
  pgorm::for_each_field(u, [&](auto& value, auto index) {
    seen.emplace_back(pgorm::field_name_v<user, decltype(index)::value>);
    static_cast<void>(value);
  });
  EXPECT_EQ(seen, (strings{"id", "email", "name", "is_active", "created_at"}));
}

TEST(reflect_concepts, accepted_and_rejected) {
  EXPECT_TRUE(pgorm::reflectable<user>);
  EXPECT_TRUE(pgorm::reflectable<wide>);
  EXPECT_TRUE(pgorm::reflectable<empty_struct>);
  EXPECT_FALSE(pgorm::reflectable<not_aggregate>);
  EXPECT_FALSE(pgorm::reflectable<has_private>);
  EXPECT_FALSE(pgorm::reflectable<derived_struct>);
  EXPECT_FALSE(pgorm::reflectable<polymorphic>);
  EXPECT_FALSE(pgorm::reflectable<a_union>);
  EXPECT_FALSE(pgorm::reflectable<int>);
  EXPECT_FALSE(pgorm::reflectable<const user>);
}
