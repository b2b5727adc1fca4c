# SPDX-License-Identifier: MIT
# Install rules and package files, included by the top-level CMakeLists.txt when PGORM_INSTALL is
# on (the default only when pgorm is the top-level project). What gets installed:
#
#   lib/libpgorm.a, lib/libpgorm_testing.a, include/pgorm/**.hpp (FILE_SET HEADERS)
#   bin/pgorm-test-server                           (when tools/test_server.cpp exists)
#   lib/cmake/pgorm/pgormConfig{,Version}.cmake, pgorm-targets*.cmake
#       find_package(pgorm CONFIG [COMPONENTS testing]) gives pgorm::pgorm, pgorm::testing and
#       the imported executable pgorm::test-server; SameMajorVersion.
#   lib/pkgconfig/pgorm.pc, pgorm-testing.pc        (relocatable: ${pcfiledir})
#
# The build tree is usable the same way: pgorm_DIR=<build dir> (pgorm-targets.cmake, export()).
# tests/consumer/run.sh builds and runs a consumer of each kind; docs/install.md is the guide.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PGORM_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pgorm")

set(pgorm_install_targets pgorm pgorm_testing)
if(TARGET pgorm-test-server)
  # Exported too, so that a consumer's CTest fixture can run `pgorm::test-server start`.
  set_target_properties(pgorm-test-server PROPERTIES EXPORT_NAME test-server)
  list(APPEND pgorm_install_targets pgorm-test-server)
endif()

install(TARGETS ${pgorm_install_targets}
  EXPORT pgorm-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT pgorm-targets NAMESPACE pgorm:: DESTINATION ${PGORM_CMAKE_DIR})
export(EXPORT pgorm-targets NAMESPACE pgorm::
       FILE "${PROJECT_BINARY_DIR}/pgorm-targets.cmake")

# The config file is written twice: for the install tree (relocatable, PACKAGE_PREFIX_DIR) and
# for the build tree, where it sits next to the export()ed pgorm-targets.cmake.
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/pgormConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/pgorm-install/pgormConfig.cmake"
  INSTALL_DESTINATION ${PGORM_CMAKE_DIR})
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/pgormConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/pgormConfig.cmake"
  INSTALL_DESTINATION "${PROJECT_BINARY_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/pgormConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/pgorm-install/pgormConfig.cmake"
              "${PROJECT_BINARY_DIR}/pgormConfigVersion.cmake"
        DESTINATION ${PGORM_CMAKE_DIR})

# ---- pkg-config -------------------------------------------------------------------------------
# Relocatable: prefix is derived from the .pc file's own location (${pcfiledir}, supported by
# pkg-config and pkgconf), so `cmake --install build --prefix /anywhere` yields a working file.
# Absolute CMAKE_INSTALL_{LIB,INCLUDE}DIR values are written as they are.
function(pgorm_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(PGORM_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  # lib/pkgconfig -> ../.., lib/x86_64-linux-gnu/pkgconfig -> ../../..
  set(PGORM_PC_PREFIX "\${pcfiledir}")
  string(REPLACE "/" ";" pgorm_pc_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  foreach(part IN LISTS pgorm_pc_parts)
    if(NOT part STREQUAL "" AND NOT part STREQUAL ".")
      string(APPEND PGORM_PC_PREFIX "/..")
    endif()
  endforeach()
endif()
pgorm_pc_dir(PGORM_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
pgorm_pc_dir(PGORM_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")

# Boost has no .pc file: name its include directory unless the compiler searches it anyway.
set(PGORM_PC_EXTRA_CFLAGS "")
get_target_property(pgorm_boost_includes Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
foreach(dir IN LISTS pgorm_boost_includes)
  if(dir AND NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND PGORM_PC_EXTRA_CFLAGS " -I${dir}")
  endif()
endforeach()

# libpgorm.a is static: its dependencies must reach the consumer's link line, so they are
# Requires (not Requires.private), which `pkg-config --libs` follows without --static.
set(PGORM_PC_NAME "pgorm")
set(PGORM_PC_DESCRIPTION "${PROJECT_DESCRIPTION}")
set(PGORM_PC_REQUIRES "libpq, fmt >= 9")
set(PGORM_PC_LIBS "-L\${libdir} -lpgorm -pthread")
set(PGORM_PC_CFLAGS "-I\${includedir}${PGORM_PC_EXTRA_CFLAGS}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/pgorm.pc.in"
               "${PROJECT_BINARY_DIR}/pkgconfig/pgorm.pc" @ONLY)

set(PGORM_PC_NAME "pgorm-testing")
set(PGORM_PC_DESCRIPTION "pgorm::testing: a throwaway PostgreSQL server for tests")
set(PGORM_PC_REQUIRES "pgorm = ${PROJECT_VERSION}, fmt >= 9")
set(PGORM_PC_LIBS "-L\${libdir} -lpgorm_testing")
set(PGORM_PC_CFLAGS "-I\${includedir}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/pgorm.pc.in"
               "${PROJECT_BINARY_DIR}/pkgconfig/pgorm-testing.pc" @ONLY)

install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/pgorm.pc"
              "${PROJECT_BINARY_DIR}/pkgconfig/pgorm-testing.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
