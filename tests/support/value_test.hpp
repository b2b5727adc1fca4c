// SPDX-License-Identifier: MIT
// A db_test for the type tests: one value sent as a binary parameter and read back, in binary
// and as the server's text.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/params.hpp"
#include "pgorm/read_field.hpp"
#include "support/db_test.hpp"

namespace pgorm::test {

class value_test : public db_test {
 protected:
  // The first column of the first row of `sql` run with `args` as binary parameters, decoded
  // from binary into T.
  template <class T, class... Args>
  T binary(std::string_view sql, const Args&... args) {
    const auto params = pgorm::encode_params(args...);
    const auto res = conn().exec(sql, params.params(), pgorm::data_format::binary);
    T out{};
    pgorm::read_field(res, 0, 0, out, {"", "value"});
    return out;
  }

  // The server's text output for the first column of the first row ("NULL" for NULL).
  template <class... Args>
  std::string text(std::string_view sql, const Args&... args) {
    const auto params = pgorm::encode_params(args...);
    const auto res = conn().exec(sql, params.params(), pgorm::data_format::text);
    return res.is_null(0, 0) ? "NULL" : std::string(res.value(0, 0));
  }

  // Sends `value`, checks it reads back equal in binary, and returns the server's text.
  template <class T>
  std::string round_trip(const T& value) {
    EXPECT_EQ(binary<T>("select $1", value), value);
    return text("select $1::text", value);
  }
};

}  // namespace pgorm::test
