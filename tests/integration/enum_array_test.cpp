// SPDX-License-Identifier: MIT
// Arrays of PostgreSQL enums as statement parameters: sent as text (OID 0), so that the server
// takes the enum type from the context; read back in binary. Raw parameters, the builders
// (insert, in(), update), pipelines; and through binary COPY (copy_in, insert(range) past its
// COPY threshold), which looks the enum type's OID up.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"

namespace ea {

enum class role { admin, member, guest };
// Labels that the array text format must quote or escape.
enum class odd { quote, backslash, comma, braces, spaces, null_word };
enum class ghost { boo };  // its PostgreSQL type is never created

struct Haunted {
  std::int64_t id;
  std::vector<ghost> ghosts;
};

/// A table with two- and three-dimensional enum array columns.
struct Board {
  std::int64_t id;
  std::vector<std::vector<role>> grid;
  std::vector<std::vector<std::vector<std::optional<odd>>>> cube;
};

struct Member {
  std::int64_t id;
  std::string name;
  role main_role;
  std::vector<role> roles;
  std::vector<std::optional<role>> maybe_roles;
};

}  // namespace ea

template <>
struct pgorm::enum_traits<ea::role> {
  static constexpr std::string_view type_name = "ea_role";
  static constexpr std::array values{std::pair{ea::role::admin, "admin"},
                                     std::pair{ea::role::member, "member"},
                                     std::pair{ea::role::guest, "guest"}};
};

template <>
struct pgorm::enum_traits<ea::odd> {
  static constexpr std::string_view type_name = "ea_odd";
  static constexpr std::array values{
      std::pair{ea::odd::quote, "say \"hi\""}, std::pair{ea::odd::backslash, "back\\slash"},
      std::pair{ea::odd::comma, "a,b"},        std::pair{ea::odd::braces, "{x}"},
      std::pair{ea::odd::spaces, " padded "},  std::pair{ea::odd::null_word, "NULL"}};
};

template <>
struct pgorm::enum_traits<ea::ghost> {
  static constexpr std::string_view type_name = "ea_ghost";
  static constexpr std::array values{std::pair{ea::ghost::boo, "boo"}};
};

template <>
struct pgorm::table_traits<ea::Haunted> {
  static constexpr std::string_view name = "ea_haunted";
};

template <>
struct pgorm::table_traits<ea::Board> {
  static constexpr std::string_view name = "ea_board";
  static constexpr auto primary_key = pgorm::identity(&ea::Board::id);
};

template <>
struct pgorm::table_traits<ea::Member> {
  static constexpr std::string_view name = "ea_member";
  static constexpr auto primary_key = pgorm::identity(&ea::Member::id);
};

namespace {

using ea::Board;
using ea::ghost;
using ea::Haunted;
using ea::Member;
using ea::odd;
using ea::role;
using pgorm::col;

class enum_array_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create type ea_role as enum ('admin', 'member', 'guest');
      create type ea_odd as enum ('say "hi"', 'back\slash', 'a,b', '{x}', ' padded ', 'NULL');
      create table ea_member (
        id bigint generated always as identity primary key,
        name text not null,
        main_role ea_role not null,
        roles ea_role[] not null,
        maybe_roles ea_role[] not null
      );
    )");
  }

  template <class T, class... Args>
  T one_value(pgorm::sql_literal sql, const Args&... args) {
    return pgorm::query<T>(sql, args...).one(conn());
  }

  std::vector<std::string> names(auto query) {
    std::vector<std::string> out;
    for (const Member& m : query.order_by(col<&Member::name>).all(conn())) out.push_back(m.name);
    return out;
  }

  void add(std::string name, role main, std::vector<role> roles) {
    pgorm::insert(Member{0, std::move(name), main, std::move(roles), {}}).exec(conn());
  }
};

TEST_F(enum_array_test, a_raw_parameter_takes_the_enum_type_from_its_context) {
  const std::vector<role> roles{role::guest, role::admin};
  EXPECT_EQ(one_value<std::string>("select $1::ea_role[]::text", roles), "{guest,admin}");
  EXPECT_EQ(one_value<std::string>("select pg_typeof($1::ea_role[])::text", roles), "ea_role[]");
  EXPECT_EQ(one_value<std::vector<role>>("select $1::ea_role[]", roles), roles);
  EXPECT_EQ(one_value<std::vector<role>>("select $1::ea_role[]", std::vector<role>{}),
            std::vector<role>{});
  EXPECT_EQ(one_value<bool>("select 'admin'::ea_role = any($1)", roles), true);
  EXPECT_EQ(one_value<bool>("select 'member'::ea_role = any($1)", roles), false);
}

TEST_F(enum_array_test, null_elements_and_labels_that_need_quoting_survive) {
  const std::vector<std::optional<role>> maybe{role::member, std::nullopt, role::admin};
  EXPECT_EQ(one_value<std::string>("select $1::ea_role[]::text", maybe), "{member,NULL,admin}");
  EXPECT_EQ((one_value<std::vector<std::optional<role>>>("select $1::ea_role[]", maybe)), maybe);

  const std::vector<odd> all{odd::quote,  odd::backslash, odd::comma,
                             odd::braces, odd::spaces,    odd::null_word};
  EXPECT_EQ(one_value<std::vector<odd>>("select $1::ea_odd[]", all), all);
  // The label "NULL" is a value, not a NULL element.
  EXPECT_EQ(
      one_value<std::int64_t>("select count(*) from unnest($1::ea_odd[]) e where e is null", all),
      0);
  EXPECT_EQ(one_value<std::string>("select ($1::ea_odd[])[6]::text", all), "NULL");
  EXPECT_EQ(one_value<std::string>("select ($1::ea_odd[])[1]::text", all), "say \"hi\"");
  EXPECT_EQ(one_value<std::string>("select ($1::ea_odd[])[2]::text", all), "back\\slash");
}

TEST_F(enum_array_test, a_label_the_server_does_not_know_is_its_error) {
  try {
    (void)one_value<std::vector<role>>("select $1::ea_role[]", std::vector<odd>{odd::comma});
    FAIL() << "no exception";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22P02") << e.what();  // invalid input value for enum ea_role
  }
}

TEST_F(enum_array_test, the_builders_insert_filter_and_update_enum_arrays) {
  pgorm::insert(
      Member{0, "ada", role::admin, {role::admin, role::member}, {role::guest, std::nullopt}})
      .exec(conn());
  add("bob", role::member, {role::member});
  add("cy", role::guest, {});

  const auto ada = pgorm::select<Member>().where(col<&Member::name> == "ada").one(conn());
  EXPECT_EQ(ada.roles, (std::vector<role>{role::admin, role::member}));
  EXPECT_EQ(ada.maybe_roles, (std::vector<std::optional<role>>{role::guest, std::nullopt}));

  EXPECT_EQ(names(pgorm::select<Member>().where(
                col<&Member::main_role>.in(std::vector<role>{role::admin, role::guest}))),
            (std::vector<std::string>{"ada", "cy"}));
  EXPECT_EQ(
      names(pgorm::select<Member>().where(col<&Member::roles> == std::vector<role>{role::member})),
      (std::vector<std::string>{"bob"}));

  EXPECT_EQ(pgorm::update<Member>()
                .set(col<& Member::roles> = std::vector<role>{role::guest, role::guest})
                .where(col<&Member::name> == "cy")
                .exec(conn()),
            1);
  EXPECT_EQ(one_value<std::string>("select roles::text from ea_member where name = 'cy'"),
            "{guest,guest}");
}

TEST_F(enum_array_test, a_pipeline_sends_enum_arrays_too) {
  add("ada", role::admin, {role::admin});
  pgorm::pipeline p{conn()};
  auto inserted = p.add(pgorm::insert(Member{0, "bob", role::member, {role::guest}, {}}));
  auto found = p.add(pgorm::select<Member>().where(
      col<&Member::main_role>.in(std::vector<role>{role::admin, role::member})));
  p.run();
  EXPECT_EQ(inserted.exec(), 1);
  EXPECT_EQ(found.all().size(), 2U);
}

struct operations : pgorm::observer {
  std::vector<std::string> seen;
  void on_query_start(const pgorm::query_event& /*q*/) override {}
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& /*o*/) override {
    seen.emplace_back(q.operation);
  }
};

TEST_F(enum_array_test, binary_copy_looks_the_enum_type_up) {
  auto ops = std::make_shared<operations>();
  pgorm::connection c{conninfo(), {.events = ops}};
  std::vector<Member> rows;
  const std::size_t n = pgorm::insert_copy_threshold + 500;
  for (std::size_t i = 0; i != n; ++i) {
    rows.push_back(Member{0,
                          "m" + std::to_string(i),
                          role::member,
                          {i % 2 == 0 ? role::admin : role::guest, role::member},
                          {std::nullopt}});
  }
  EXPECT_EQ(pgorm::insert(rows).exec(c), static_cast<std::int64_t>(n));
  EXPECT_NE(std::find(ops->seen.begin(), ops->seen.end(), "COPY"), ops->seen.end());
  EXPECT_EQ(pgorm::copy_in(c, std::vector<Member>{{0, "x", role::guest, {}, {role::admin}}}), 1);
  EXPECT_EQ(one_value<std::int64_t>(
                "select count(*) from ea_member where roles = '{admin,member}'::ea_role[] "
                "and maybe_roles = '{NULL}'::ea_role[]"),
            static_cast<std::int64_t>(n / 2));
  EXPECT_EQ(one_value<std::string>("select maybe_roles::text from ea_member where name = 'x'"),
            "{admin}");
  const auto back = pgorm::select<Member>().where(col<&Member::name> == "m1").one(conn());
  EXPECT_EQ(back.roles, (std::vector<role>{role::guest, role::member}));
}

TEST_F(enum_array_test, copy_names_an_enum_type_the_server_does_not_have) {
  conn().exec("create table ea_haunted (id bigint, ghosts text[])");
  try {
    pgorm::copy_in(conn(), std::vector<Haunted>{{1, {ghost::boo}}});
    FAIL() << "no exception";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"ea_ghost\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ea_haunted.ghosts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(one_value<std::int64_t>("select count(*) from ea_haunted"), 0);
}

// ---- multi-dimensional arrays of enums -------------------------------------------------------

using grid_t = std::vector<std::vector<role>>;
using cube_t = std::vector<std::vector<std::vector<std::optional<odd>>>>;

TEST_F(enum_array_test, two_and_three_dimensions_round_trip_as_parameters) {
  const grid_t grid{{role::admin, role::member, role::guest},
                    {role::guest, role::guest, role::admin}};
  EXPECT_EQ(one_value<std::string>("select $1::ea_role[]::text", grid),
            "{{admin,member,guest},{guest,guest,admin}}");
  EXPECT_EQ(one_value<std::int32_t>("select array_ndims($1::ea_role[])", grid), 2);
  EXPECT_EQ(one_value<grid_t>("select $1::ea_role[]", grid), grid);
  EXPECT_EQ(one_value<grid_t>("select $1::ea_role[]", grid_t{}), grid_t{});
  EXPECT_EQ(one_value<grid_t>("select $1::ea_role[]", grid_t{{}, {}}), grid_t{});
  EXPECT_EQ(one_value<grid_t>("select '{{admin},{member}}'::ea_role[]"),
            (grid_t{{role::admin}, {role::member}}));

  // NULL leaves, and labels the text format must quote, three levels deep.
  const cube_t cube{{{odd::quote, std::nullopt}, {odd::null_word, odd::braces}},
                    {{odd::comma, odd::backslash}, {odd::spaces, std::nullopt}}};
  EXPECT_EQ(one_value<std::string>("select array_dims($1::ea_odd[])", cube), "[1:2][1:2][1:2]");
  EXPECT_EQ(one_value<cube_t>("select $1::ea_odd[]", cube), cube);
  EXPECT_EQ(
      one_value<std::int64_t>("select count(*) from unnest($1::ea_odd[]) e where e is null", cube),
      2);
  EXPECT_EQ(one_value<std::string>("select ($1::ea_odd[])[1][2][1]::text", cube), "NULL");
  EXPECT_EQ(one_value<std::string>("select ($1::ea_odd[])[2][1][2]::text", cube), "back\\slash");
}

TEST_F(enum_array_test, ragged_or_mismatched_enum_grids_are_errors) {
  // Ragged: refused before it is sent, naming the parameter.
  try {
    (void)one_value<grid_t>("select $1::ea_role[]",
                            grid_t{{role::admin, role::member}, {role::guest}});
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string(e.what()).find("$1"), std::string::npos) << e.what();
  }
  // Read into the wrong number of dimensions.
  EXPECT_THROW((void)one_value<grid_t>("select '{admin,member}'::ea_role[]"),
               pgorm::conversion_error);
  // A label the server's type does not have.
  try {
    (void)one_value<grid_t>("select $1::ea_role[]",
                            std::vector<std::vector<odd>>{{odd::comma}, {odd::quote}});
    FAIL() << "no exception";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22P02") << e.what();
  }
}

TEST_F(enum_array_test, enum_grid_columns_through_the_builders_and_copy) {
  conn().exec(R"(create table ea_board (id bigint generated always as identity primary key,
                                        grid ea_role[][] not null, cube ea_odd[] not null))");
  const grid_t grid{{role::admin, role::guest}, {role::member, role::member}};
  const cube_t cube{{{odd::spaces}, {std::nullopt}}};
  pgorm::insert(Board{0, grid, cube}).exec(conn());
  pgorm::insert(Board{0, {}, {}}).exec(conn());
  const auto boards = pgorm::select<Board>().order_by(col<&Board::id>).all(conn());
  ASSERT_EQ(boards.size(), 2U);
  EXPECT_EQ(boards[0].grid, grid);
  EXPECT_EQ(boards[0].cube, cube);
  EXPECT_EQ(boards[1].grid, grid_t{});

  // Compared and updated through builders: the parameter takes the column's type.
  EXPECT_EQ(pgorm::update<Board>()
                .set(col<& Board::grid> = grid_t{{role::guest}})
                .where(col<&Board::grid> == grid)
                .exec(conn()),
            1);
  EXPECT_EQ(one_value<std::string>("select grid::text from ea_board where id = 1"), "{{guest}}");

  // Binary COPY looks the element type up, as for one-dimensional enum arrays.
  EXPECT_EQ(pgorm::copy_in(conn(), std::vector<Board>{{0, grid, cube}}), 1);
  EXPECT_EQ(one_value<std::string>("select grid::text || ' ' || cube::text from ea_board "
                                   "where id = 3"),
            R"({{admin,guest},{member,member}} {{{" padded "},{NULL}}})");
}

}  // namespace
