# SPDX-License-Identifier: MIT
# examples/migrate_app.cpp: an application's own migrations CLI, pgorm::migrate::main<T...>().
# include() it from examples/CMakeLists.txt (where pgorm::pgorm and pgorm_set_warnings exist).
# It links pgorm::testing for the throwaway shadow server of `generate`.
add_executable(migrate_app "${CMAKE_CURRENT_LIST_DIR}/migrate_app.cpp")
target_link_libraries(migrate_app PRIVATE pgorm::pgorm pgorm::testing)
pgorm_set_warnings(migrate_app)
if(PGORM_BUILD_TESTS)
  # generate from nothing, then generate again: the first file, replayed into a shadow server,
  # must leave nothing to write (the structs' DDL round-trips through the catalog).
  add_test(NAME example.migrate_app
           COMMAND ${CMAKE_COMMAND} -D PROGRAM=$<TARGET_FILE:migrate_app>
                   -D WORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/migrate_app_test
                   -P ${CMAKE_CURRENT_LIST_DIR}/migrate_app_test.cmake)
  set_tests_properties(example.migrate_app PROPERTIES LABELS example TIMEOUT 300)
endif()
