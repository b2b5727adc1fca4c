# SPDX-License-Identifier: MIT
# Runs PROGRAM with DATABASE_URL set to the conninfo of the run's test server (the CTest
# fixture writes it to STATE_DIR/conninfo), or to PGORM_TEST_DATABASE_URL when that is set.
if(DEFINED ENV{PGORM_TEST_DATABASE_URL} AND NOT "$ENV{PGORM_TEST_DATABASE_URL}" STREQUAL "")
  set(url "$ENV{PGORM_TEST_DATABASE_URL}")
else()
  file(READ "${STATE_DIR}/conninfo" url)
  string(STRIP "${url}" url)
endif()
set(ENV{DATABASE_URL} "${url}")
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} failed with DATABASE_URL set: ${rc}")
endif()
