# SPDX-License-Identifier: MIT
# The `pgorm` command-line tool (tools/pgorm_cli.cpp): `pgorm migrate apply|status|new|baseline`,
# `pgorm --version`. Included by the top-level CMakeLists.txt when PGORM_BUILD_CLI is on (the
# default only when pgorm is the top-level project); it needs CLI11, which is then required.
# The binary lands in <build>/tools/pgorm; the integration tests look for it there (or take
# env PGORM_CLI). Installed as bin/pgorm and exported as the imported executable pgorm::cli.
include_guard(GLOBAL)

find_package(CLI11 CONFIG)
if(NOT CLI11_FOUND)
  message(FATAL_ERROR
    "pgorm: PGORM_BUILD_CLI is on but CLI11 was not found. Install it (Debian: libcli11-dev; "
    "vcpkg: feature \"cli\"; Conan: option with_cli) or pass -DPGORM_BUILD_CLI=OFF.")
endif()
add_executable(pgorm_cli "${PROJECT_SOURCE_DIR}/tools/pgorm_cli.cpp")
target_link_libraries(pgorm_cli PRIVATE pgorm::pgorm CLI11::CLI11 fmt::fmt)
set_target_properties(pgorm_cli PROPERTIES
  OUTPUT_NAME pgorm
  EXPORT_NAME cli
  RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tools")
pgorm_program_properties(pgorm_cli)
pgorm_set_warnings(pgorm_cli)
if(NOT PROJECT_IS_TOP_LEVEL AND NOT PGORM_INSTALL)
  set_target_properties(pgorm_cli PROPERTIES EXCLUDE_FROM_ALL ON)
endif()
