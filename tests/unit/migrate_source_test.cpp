// SPDX-License-Identifier: MIT
// Migration sources without a server: the sha256 checksums load() computes (FIPS 180-4 test
// vectors, block boundaries), embedded sets (the form pgorm_embed_migrations() generates:
// sorting, name and checksum checks), migration_source's conversions, summarize(), and the
// defaults a deploy relies on (a 10 s lock timeout).
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/migrate.hpp"

namespace {

namespace migrate = pgorm::migrate;

class temp_dir {
 public:
  temp_dir() {
    path_ = std::filesystem::temp_directory_path() /
            ("pgorm_migrate_source_" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&&) = delete;
  temp_dir& operator=(temp_dir&&) = delete;
  ~temp_dir() { std::filesystem::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string checksum_of(const std::string& text) {
  const std::array files{migrate::embedded_file{"0001_x.sql", text, ""}};
  return migrate::load(migrate::embedded_migrations{"t", "", files}).at(0).checksum;
}

TEST(migrate_checksums, are_sha256_as_fips_180_4_gives_it) {
  EXPECT_EQ(checksum_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(checksum_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(checksum_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(checksum_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                        "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(checksum_of(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(migrate_checksums, of_a_directory_and_of_the_same_bytes_embedded_agree) {
  temp_dir dir;
  constexpr char text[] = "-- caf\xc3\xa9\r\nselect 1;\0 x";  // a NUL inside, on purpose
  const std::string bytes(text, sizeof text - 1);
  dir.write("0001_a.sql", bytes);
  const auto from_dir = migrate::load(dir.path());
  ASSERT_EQ(from_dir.size(), 1U);
  EXPECT_EQ(from_dir[0].sql, bytes);
  EXPECT_EQ(from_dir[0].checksum, checksum_of(bytes));
  EXPECT_EQ(from_dir[0].checksum.size(), 64U);
}

TEST(migrate_embedded, loads_sorted_with_the_same_rules_as_a_directory) {
  const std::array files{
      migrate::embedded_file{"0010_ten.sql", "select 10;", ""},
      migrate::embedded_file{"0002_two.sql", "-- pgorm: no-transaction\nselect 2;", ""},
      migrate::embedded_file{"20240131120000_stamp.sql", "select 3;", ""}};
  const migrate::embedded_migrations set{"app_migrations", "/src/migrations", files};
  const migrate::migration_source source = set;
  EXPECT_TRUE(source.embedded());
  EXPECT_EQ(source.describe(), "embedded set \"app_migrations\"");
  const auto loaded = source.load();
  ASSERT_EQ(loaded.size(), 3U);
  EXPECT_EQ(loaded[0].file, "0002_two.sql");
  EXPECT_FALSE(loaded[0].transactional);
  EXPECT_TRUE(loaded[0].path.empty());
  EXPECT_EQ(loaded[1].version, "0010");
  EXPECT_EQ(loaded[1].name, "ten");
  EXPECT_EQ(loaded[2].version, "20240131120000");

  const std::array bad_name{migrate::embedded_file{"create_users.sql", "", ""}};
  try {
    static_cast<void>(migrate::load(migrate::embedded_migrations{"s", "", bad_name}));
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "create_users.sql");
  }
  const std::array twice{migrate::embedded_file{"0001_a.sql", "", ""},
                         migrate::embedded_file{"1_b.sql", "", ""}};
  EXPECT_THROW(static_cast<void>(migrate::load(migrate::embedded_migrations{"s", "", twice})),
               pgorm::migration_error);
  const std::array empty_set = std::array<migrate::embedded_file, 0>{};
  EXPECT_TRUE(migrate::load(migrate::embedded_migrations{"s", "", empty_set}).empty());
}

TEST(migrate_embedded, refuses_bytes_that_do_not_match_their_build_time_sha256) {
  const std::array files{
      migrate::embedded_file{"0001_a.sql", "select 2;",
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
  try {
    static_cast<void>(migrate::load(migrate::embedded_migrations{"app", "", files}));
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0001_a.sql");
    EXPECT_NE(std::string(e.what()).find("does not match the sha256"), std::string::npos)
        << e.what();
  }
  const std::string good = checksum_of("select 2;");
  const std::array matching{migrate::embedded_file{"0001_a.sql", "select 2;", good}};
  EXPECT_EQ(migrate::load(migrate::embedded_migrations{"app", "", matching}).at(0).checksum, good);
}

TEST(migrate_source, converts_from_a_directory_in_every_spelling) {
  const std::string as_string = "migrations";
  const std::filesystem::path as_path = "migrations";
  for (const migrate::migration_source& s :
       {migrate::migration_source("migrations"), migrate::migration_source(as_string),
        migrate::migration_source(std::string_view(as_string)),
        migrate::migration_source(as_path)}) {
    EXPECT_FALSE(s.embedded());
    EXPECT_EQ(s.directory(), as_path);
    EXPECT_EQ(s.describe(), "directory \"migrations\"");
  }
  // A missing directory is reported when it is read, naming it.
  try {
    static_cast<void>(migrate::migration_source("/nonexistent/pgorm/migrations").load());
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pgorm/migrations"), std::string::npos);
  }
}

TEST(migrate_status, summarize_counts_and_judges) {
  std::vector<migrate::migration_status> list(2);
  list[0].state = migrate::state::applied;
  list[1].state = migrate::state::applied;
  auto sum = migrate::summarize(list);
  EXPECT_EQ(sum.applied, 2U);
  EXPECT_TRUE(sum.up_to_date());
  EXPECT_FALSE(sum.needs_attention());
  list.push_back({});  // pending
  sum = migrate::summarize(list);
  EXPECT_EQ(sum.pending, 1U);
  EXPECT_FALSE(sum.up_to_date());
  EXPECT_FALSE(sum.needs_attention());
  for (const migrate::state s :
       {migrate::state::failed, migrate::state::changed, migrate::state::missing}) {
    auto with = list;
    with.push_back({});
    with.back().state = s;
    sum = migrate::summarize(with);
    EXPECT_TRUE(sum.needs_attention()) << migrate::to_string(s);
    EXPECT_FALSE(sum.up_to_date()) << migrate::to_string(s);
    EXPECT_EQ(sum.failed + sum.changed + sum.missing, 1U);
  }
  EXPECT_TRUE(migrate::summarize({}).up_to_date());
}

TEST(migrate_options, wait_ten_seconds_for_the_lock_and_have_no_migration_deadline) {
  const migrate::options o;
  EXPECT_EQ(o.lock_timeout, std::chrono::seconds(10));
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(o.tracking_table, "pgorm_migrations");
}

TEST(migrate_errors, carry_where_and_what_was_applied) {
  const pgorm::migration_error plain("x", "0001_a.sql", "0001", "22012");
  EXPECT_EQ(plain.file(), "0001_a.sql");
  EXPECT_EQ(plain.line(), 0);
  EXPECT_TRUE(plain.applied().empty());
  const pgorm::migration_error full(
      "y",
      migrate::failure{.file = "0002_b.sql",
                       .version = "0002",
                       .sqlstate = "42601",
                       .line = 3,
                       .column = 7,
                       .message = "syntax error",
                       .hint = "a hint",
                       .applied = {{"0001", "a", "0001_a.sql", std::chrono::milliseconds(5)}}});
  const pgorm::migration_error copy = full;  // copying never throws: shared details
  EXPECT_EQ(copy.line(), 3);
  EXPECT_EQ(copy.column(), 7);
  EXPECT_EQ(copy.hint(), "a hint");
  ASSERT_EQ(copy.applied().size(), 1U);
  EXPECT_EQ(copy.applied()[0].file, "0001_a.sql");
  const pgorm::migration_lock_timeout timeout("z", std::chrono::milliseconds(300), 42);
  const pgorm::migration_error& as_base = timeout;
  EXPECT_EQ(dynamic_cast<const pgorm::migration_lock_timeout&>(as_base).holder_pid(), 42);
  EXPECT_EQ(timeout.waited(), std::chrono::milliseconds(300));
}

}  // namespace
