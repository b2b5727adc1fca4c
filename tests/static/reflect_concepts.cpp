// SPDX-License-Identifier: MIT
// Concept table for reflect.hpp: compiling this file is the test.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgorm/reflect.hpp"

namespace {

struct plain {
  std::int64_t id;
  std::string email;
};
struct empty {};
struct with_ctor {
  explicit with_ctor(int v) : x(v) {}
  int x;
};
struct with_private {
 private:
  int hidden = 0;

 public:
  int shown() const { return hidden; }
};
struct base {
  int a;
};
struct derived : base {
  int b;
};
struct virtual_fn {
  virtual ~virtual_fn() = default;
  virtual void f() {}
  int x;
};
union u {
  int i;
};
template <class T>
struct wrapper {
  T value;
};

static_assert(pgorm::reflectable<plain>);
static_assert(pgorm::reflectable<empty>);
static_assert(pgorm::reflectable<wrapper<int>>);
static_assert(pgorm::reflectable<wrapper<std::vector<std::optional<std::string>>>>);
static_assert(!pgorm::reflectable<with_ctor>);
static_assert(!pgorm::reflectable<with_private>);
static_assert(!pgorm::reflectable<derived>);
static_assert(!pgorm::reflectable<virtual_fn>);
static_assert(!pgorm::reflectable<u>);
static_assert(!pgorm::reflectable<int>);
static_assert(!pgorm::reflectable<plain*>);
static_assert(!pgorm::reflectable<const plain>);
static_assert(!pgorm::reflectable<std::string>);

static_assert(pgorm::data_member_pointer<decltype(&plain::email)>);
static_assert(!pgorm::data_member_pointer<decltype(&virtual_fn::f)>);
static_assert(!pgorm::data_member_pointer<int>);
static_assert(!pgorm::data_member_pointer<int*>);

static_assert(pgorm::field_count_v<plain> == 2);
static_assert(pgorm::member_index_v<&plain::email> == 1);
static_assert(pgorm::member_name_v<&plain::email> == "email");

}  // namespace
