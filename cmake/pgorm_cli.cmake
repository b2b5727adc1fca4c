# SPDX-License-Identifier: MIT
# The `pgorm` command-line tool (tools/pgorm_cli.cpp): `pgorm migrate apply|status|new|baseline`.
# include() it from the top-level CMakeLists.txt anywhere after project(); the target itself is
# defined at the end of the top-level directory (cmake_language(DEFER)), once pgorm and the
# tests exist, so that integration_cli / integration_migrate can depend on it.
# The binary lands in <build>/tools/pgorm; the integration tests look for it there (or take
# env PGORM_CLI).
include_guard(GLOBAL)

if(NOT PROJECT_NAME STREQUAL "pgorm")
  return()
endif()

function(pgorm_define_cli)
  if(TARGET pgorm_cli OR NOT TARGET pgorm)
    return()
  endif()
  find_package(CLI11 CONFIG QUIET)
  if(NOT CLI11_FOUND)
    message(STATUS "pgorm: CLI11 not found; the pgorm CLI (tools/pgorm_cli.cpp) is not built")
    return()
  endif()
  add_executable(pgorm_cli "${PROJECT_SOURCE_DIR}/tools/pgorm_cli.cpp")
  target_link_libraries(pgorm_cli PRIVATE pgorm::pgorm CLI11::CLI11 fmt::fmt)
  set_target_properties(pgorm_cli PROPERTIES
    OUTPUT_NAME pgorm
    RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tools")
  pgorm_set_warnings(pgorm_cli)
  # The tests that run the binary must find it built.
  foreach(test_target IN ITEMS integration_cli integration_migrate)
    if(TARGET ${test_target})
      add_dependencies(${test_target} pgorm_cli)
    endif()
  endforeach()
  if(PGORM_INSTALL)
    include(GNUInstallDirs)
    install(TARGETS pgorm_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endfunction()

cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL pgorm_define_cli)
