// SPDX-License-Identifier: MIT
// main() of every integration test: GoogleTest, plus the teardown of a server the process
// started for itself (test_database.hpp, server_conninfo() step 4).
#include <gtest/gtest.h>

#include "support/test_database.hpp"

namespace {

class local_server_environment : public ::testing::Environment {
 public:
  void TearDown() override { pgorm::test::stop_local_server(); }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // GoogleTest owns (and deletes) the environment.
  ::testing::AddGlobalTestEnvironment(new local_server_environment);
  const int result = RUN_ALL_TESTS();
  pgorm::test::stop_local_server();
  return result;
}
