// SPDX-License-Identifier: MIT
// Out of memory while connecting. This binary replaces the global operator new with one that can
// be told to fail the n-th allocation from now on this thread; the test makes every allocation
// of connection's constructor fail in turn (the first, the second, ... until the constructor
// makes fewer). Each failure must leave nothing behind: the libpq connection is closed (no
// backend left on the server, no descriptor left in the process), whatever the step it failed
// at (the statement cache, the cancel state, the description, ...). Ends with the leak check.

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"

namespace {

// Allocations left before one fails, on this thread; 0: none fails.
thread_local long allocations_until_failure = 0;

void fail_allocation_after(long n) noexcept { allocations_until_failure = n; }
void disarm() noexcept { allocations_until_failure = 0; }

}  // namespace

// Replacements of the global allocation functions (the array and nothrow forms call these).
void* operator new(std::size_t size) {
  if (allocations_until_failure > 0 && --allocations_until_failure == 0) throw std::bad_alloc();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;  // NOLINT(cppcoreguidelines-no-malloc)
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }  // NOLINT(cppcoreguidelines-no-malloc)
void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc)
}

namespace {

class alloc_failure_test : public pgorm::fault::fault_test {};

TEST_F(alloc_failure_test, a_failed_allocation_while_connecting_leaves_no_connection_behind) {
  std::string app;
  const std::string info = pool_conninfo("alloc_failure", &app);
  int failures = 0;
  bool connected = false;
  for (long n = 1; n <= 10000 && !connected; ++n) {
    fail_allocation_after(n);
    try {
      pgorm::connection c{info};
      disarm();
      connected = true;  // the constructor made fewer than n allocations: every one has failed
      EXPECT_EQ(c.exec("select 1").value(0, 0), "1");
    } catch (const std::bad_alloc&) {
      disarm();
      ++failures;
    } catch (const pgorm::error& e) {
      // An allocation failure reported as pgorm's error (a message could not be built, ...).
      disarm();
      ++failures;
      EXPECT_NE(std::string(e.what()).find("pgorm"), std::string::npos) << e.what();
    }
    // Backends exit a moment after their client lets go: checked at the end for all attempts
    // together (TearDown), and here every 16 attempts, so a leak names the step it came from.
    if (n % 16 == 0) {
      int left = -1;
      const bool none = pgorm::fault::eventually([&] { return (left = backends_of(app)) == 0; });
      ASSERT_TRUE(none) << left << " backends left after failing allocation " << n;
    }
  }
  EXPECT_TRUE(connected) << "the constructor kept allocating";
  // Far more than the few the constructor makes itself: the conninfo parsing, the secrets list,
  // the cache, the cancel state and the description all allocate.
  EXPECT_GE(failures, 5);
}

}  // namespace
