// SPDX-License-Identifier: MIT
// The argument parser of pgorm::migrate::main<T...>() (src/migrate_cli.cpp), without a server:
// every usage error exits 2 with a message naming the option or command (one JSON object on
// stdout with --json), before anything connects; help and --version exit 0.
#include "pgorm/migrate_cli.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/version.hpp"

namespace migrate_cli_unit {

struct Account {
  std::int64_t id;
  std::string email;
};

struct cli_result {
  int code = -1;
  std::string out;
  std::string err;
};

// The compiled half of main<Account>() with no throwaway server to start (a unit test links
// no pgorm::testing), so these tests also show that nothing reaches for one.
cli_result run(std::vector<std::string> args) {
  char* out_data = nullptr;
  std::size_t out_size = 0;
  char* err_data = nullptr;
  std::size_t err_size = 0;
  std::FILE* out = open_memstream(&out_data, &out_size);
  std::FILE* err = open_memstream(&err_data, &err_size);
  args.insert(args.begin(), "/usr/local/bin/app_migrate");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const pgorm::schema::detail::table_spec specs[] = {pgorm::schema::detail::spec_of<Account>()};
  cli_result r;
  r.code = pgorm::migrate::detail::run_schema_cli(static_cast<int>(args.size()), argv.data(),
                                                  {specs, nullptr}, {.out = out, .err = err});
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_data, out_size);
  r.err.assign(err_data, err_size);
  std::free(out_data);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  std::free(err_data);  // NOLINT(cppcoreguidelines-no-malloc)
  return r;
}

using ::testing::HasSubstr;

class migrate_cli_args : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("DATABASE_URL"); }
};

TEST_F(migrate_cli_args, usage_errors_exit_2_naming_what_is_wrong) {
  const auto expect_usage = [](const std::vector<std::string>& args, const std::string& message) {
    const cli_result r = run(args);
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("app_migrate: error: " + message));
    EXPECT_EQ(r.out, "");
  };
  expect_usage({}, "no command");
  expect_usage({"frobnicate"}, "unknown command 'frobnicate' (`app_migrate help` lists them)");
  expect_usage({"status", "--no-such-flag"}, "unknown option --no-such-flag");
  expect_usage({"generate"}, "generate needs NAME");
  expect_usage({"baseline"}, "baseline needs VERSION");
  expect_usage({"generate", "a", "b"}, "unexpected argument 'b'");
  expect_usage({"status", "extra"}, "unexpected argument 'extra'");
  expect_usage({"resolve", "--url", "host=x"},
               "resolve needs exactly one of --applied VERSION and --rolled-back VERSION");
  expect_usage({"resolve", "--applied", "1", "--rolled-back", "1", "--url", "host=x"},
               "resolve needs exactly one of");
  expect_usage({"apply", "--force"}, "--force does not apply to apply");
  expect_usage({"push", "--shadow-url", "host=x"}, "--shadow-url does not apply to push");
  expect_usage({"status", "--accept-data-loss"}, "--accept-data-loss does not apply to status");
  expect_usage({"status", "--url"}, "--url needs a value");
  expect_usage({"status", "--json=yes"}, "--json takes no value");
  expect_usage({"status", "--connect-timeout", "soon"},
               "--connect-timeout: 'soon' is not a positive number of seconds");
  expect_usage({"status", "--connect-timeout=0"}, "--connect-timeout: '0' is not a positive");
  expect_usage({"apply", "--lock-timeout", "-1"}, "--lock-timeout: '-1' is not a non-negative");
  expect_usage({"apply", "--timeout", "1e999"}, "--timeout: '1e999' is not a non-negative");
  // No URL anywhere: a usage error before anything connects.
  expect_usage({"status"}, "no database: set DATABASE_URL (or pass --url)");
  expect_usage({"check"}, "no database");
  expect_usage({"reset", "--force"}, "no database");
  // generate needs no database, but a shadow: none can be started here without --shadow-url.
  expect_usage({"generate", "init"}, "generate needs --shadow-url here");
}

TEST_F(migrate_cli_args, reset_without_force_is_refused_before_connecting) {
  const cli_result r = run({"reset", "--url", "host=/nonexistent port=1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("disposable development database only; pass --force to confirm"));
}

TEST_F(migrate_cli_args, with_json_a_usage_error_is_one_object_on_stdout) {
  const cli_result r = run({"status", "--json", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out,
            "{\"ok\":false,\"exit_code\":2,\"kind\":\"usage\",\"error\":\"unknown option --bogus "
            "(`app_migrate help` lists them)\"}\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(migrate_cli_args, help_and_version_exit_0) {
  cli_result r = run({"help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: app_migrate COMMAND [options]"));
  for (const char* verb : {"generate NAME", "apply | deploy", "status", "check", "diff",
                           "resolve --applied V | --rolled-back V", "reset --force", "push"}) {
    EXPECT_THAT(r.out, HasSubstr(verb));
  }
  EXPECT_EQ(run({"--help"}).out, r.out);
  r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("app_migrate (pgorm ") + PGORM_VERSION_STRING + ")\n");
}

TEST_F(migrate_cli_args, a_password_on_the_command_line_is_warned_about_never_echoed) {
  const cli_result r =
      run({"check", "--url", "host=/nonexistent port=1 password=hunter2-secret", "--json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("app_migrate: warning: the password in --url is visible to other "
                               "users of this machine"));
  EXPECT_EQ(r.err.find("hunter2-secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hunter2-secret"), std::string::npos) << r.out;
}

TEST_F(migrate_cli_args, an_unreachable_database_is_a_connection_error_exit_1) {
  const cli_result r = run({"check", "--url", "host=/nonexistent port=1", "--json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr(R"({"ok":false,"exit_code":1,"kind":"connection","error":)"));
}

}  // namespace migrate_cli_unit
