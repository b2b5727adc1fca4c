# SPDX-License-Identifier: MIT
# example.migrate_app: `migrate_app generate init` writes 0001_init.sql (with the enum type),
# and a second `generate` replays it into a new shadow server and finds nothing to write.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(dir "${WORK_DIR}/migrations")

execute_process(COMMAND "${PROGRAM}" generate init --dir "${dir}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS "${dir}/0001_init.sql")
  message(FATAL_ERROR "generate init: exit ${rc}\n${out}\n${err}")
endif()
file(READ "${dir}/0001_init.sql" sql)
foreach(expected IN ITEMS "CREATE TYPE user_role AS ENUM ('member', 'admin');"
                          "CREATE TABLE users (" "CREATE TABLE sessions (")
  string(FIND "${sql}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "0001_init.sql lacks '${expected}':\n${sql}")
  endif()
endforeach()

execute_process(COMMAND "${PROGRAM}" generate again --dir "${dir}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}" "no changes:" at)
if(NOT rc EQUAL 0 OR at EQUAL -1 OR EXISTS "${dir}/0002_again.sql")
  message(FATAL_ERROR "generate again: exit ${rc}, expected 'no changes'\n${out}\n${err}")
endif()
message(STATUS "${out}")
