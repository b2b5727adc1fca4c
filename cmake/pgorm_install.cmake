# SPDX-License-Identifier: MIT
# Install rules and package files, included by the top-level CMakeLists.txt when PGORM_INSTALL is
# on (the default only when pgorm is the top-level project). What gets installed (the table in
# docs/install.md says which option brings what):
#
#   include/pgorm/**.hpp (FILE_SET HEADERS; pgorm/testing/ only with PGORM_BUILD_TESTING)
#   lib/libpgorm.a, or lib/libpgorm.so.<version> with the soname link libpgorm.so.<major.minor>
#       and libpgorm.so (BUILD_SHARED_LIBS)
#   lib/libpgorm_testing.{a,so...}, bin/pgorm-test-server   PGORM_BUILD_TESTING (default on)
#   bin/pgorm                                               PGORM_BUILD_CLI
#   lib/cmake/pgorm/pgormConfig{,Version}.cmake, pgorm-targets*.cmake,
#       pgorm_embed_migrations.cmake
#       find_package(pgorm CONFIG [COMPONENTS testing]) gives pgorm_embed_migrations(),
#       pgorm::pgorm, and when built
#       pgorm::testing, the imported executables pgorm::test-server and pgorm::cli;
#       SameMinorVersion while the major version is 0 (then SameMajorVersion).
#   lib/pkgconfig/pgorm.pc, pgorm-testing.pc        (relocatable: ${pcfiledir})
#   share/doc/pgorm/LICENSE, CHANGELOG.md
#
# The build tree is usable the same way: pgorm_DIR=<build dir> (pgorm-targets.cmake, export()).
# tests/consumer/run.sh builds and runs a consumer of each kind; docs/install.md is the guide.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PGORM_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pgorm")

set(pgorm_install_targets pgorm)
if(TARGET pgorm_testing)
  list(APPEND pgorm_install_targets pgorm_testing)
endif()
if(TARGET pgorm-test-server)
  # Exported too, so that a consumer's CTest fixture can run `pgorm::test-server start`.
  set_target_properties(pgorm-test-server PROPERTIES EXPORT_NAME test-server)
  list(APPEND pgorm_install_targets pgorm-test-server)
endif()
if(TARGET pgorm_cli)
  list(APPEND pgorm_install_targets pgorm_cli)  # bin/pgorm, pgorm::cli
endif()
get_target_property(pgorm_library_type pgorm TYPE)

install(TARGETS ${pgorm_install_targets}
  EXPORT pgorm-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" "${PROJECT_SOURCE_DIR}/CHANGELOG.md"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")

install(EXPORT pgorm-targets NAMESPACE pgorm:: DESTINATION ${PGORM_CMAKE_DIR})
export(EXPORT pgorm-targets NAMESPACE pgorm::
       FILE "${PROJECT_BINARY_DIR}/pgorm-targets.cmake")

# A static libpgorm links fmt privately, but its users link libfmt ($<LINK_ONLY:fmt::fmt> in the
# exported targets), so the config file must find fmt; a shared one hides it entirely.
if(pgorm_library_type STREQUAL "STATIC_LIBRARY")
  set(PGORM_CONFIG_FIND_FMT "find_dependency(fmt 9)")
else()
  set(PGORM_CONFIG_FIND_FMT "# fmt: linked into the shared libpgorm, not needed by its users")
endif()

# The config file is written twice: for the install tree (relocatable, PACKAGE_PREFIX_DIR) and
# for the build tree, where it sits next to the export()ed pgorm-targets.cmake.
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/pgormConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/pgorm-install/pgormConfig.cmake"
  INSTALL_DESTINATION ${PGORM_CMAKE_DIR})
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/pgormConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/pgormConfig.cmake"
  INSTALL_DESTINATION "${PROJECT_BINARY_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/pgormConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${PGORM_VERSION_COMPATIBILITY})
install(FILES "${PROJECT_BINARY_DIR}/pgorm-install/pgormConfig.cmake"
              "${PROJECT_BINARY_DIR}/pgormConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/pgorm_embed_migrations.cmake"
        DESTINATION ${PGORM_CMAKE_DIR})
# The build tree's config file includes the helper from beside itself, as the installed one does.
configure_file("${PROJECT_SOURCE_DIR}/cmake/pgorm_embed_migrations.cmake"
               "${PROJECT_BINARY_DIR}/pgorm_embed_migrations.cmake" COPYONLY)

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

# A static libpgorm needs libpq and fmt on the consumer's link line, so both are Requires (not
# Requires.private, which `pkg-config --libs` follows only with --static), and Cflags carry
# PGORM_STATIC (pgorm/export.hpp). A shared one links fmt itself: fmt is Requires.private.
set(PGORM_PC_NAME "pgorm")
set(PGORM_PC_DESCRIPTION "${PROJECT_DESCRIPTION}")
if(pgorm_library_type STREQUAL "STATIC_LIBRARY")
  set(PGORM_PC_REQUIRES "libpq, fmt >= 9")
  set(PGORM_PC_REQUIRES_PRIVATE "")
  set(PGORM_PC_STATIC_CFLAGS " -DPGORM_STATIC")
else()
  set(PGORM_PC_REQUIRES "libpq")
  set(PGORM_PC_REQUIRES_PRIVATE "fmt >= 9")
  set(PGORM_PC_STATIC_CFLAGS "")
endif()
set(PGORM_PC_LIBS "-L\${libdir} -lpgorm -pthread")
set(PGORM_PC_CFLAGS "-I\${includedir}${PGORM_PC_STATIC_CFLAGS}${PGORM_PC_EXTRA_CFLAGS}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/pgorm.pc.in"
               "${PROJECT_BINARY_DIR}/pkgconfig/pgorm.pc" @ONLY)
set(pgorm_pc_files "${PROJECT_BINARY_DIR}/pkgconfig/pgorm.pc")

if(TARGET pgorm_testing)
  set(PGORM_PC_NAME "pgorm-testing")
  set(PGORM_PC_DESCRIPTION "pgorm::testing: a throwaway PostgreSQL server for tests")
  if(pgorm_library_type STREQUAL "STATIC_LIBRARY")
    set(PGORM_PC_REQUIRES "pgorm = ${PROJECT_VERSION}, fmt >= 9")
    set(PGORM_PC_REQUIRES_PRIVATE "")
  else()
    set(PGORM_PC_REQUIRES "pgorm = ${PROJECT_VERSION}")
    set(PGORM_PC_REQUIRES_PRIVATE "fmt >= 9")
  endif()
  set(PGORM_PC_LIBS "-L\${libdir} -lpgorm_testing")
  set(PGORM_PC_CFLAGS "-I\${includedir}")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/pgorm.pc.in"
                 "${PROJECT_BINARY_DIR}/pkgconfig/pgorm-testing.pc" @ONLY)
  list(APPEND pgorm_pc_files "${PROJECT_BINARY_DIR}/pkgconfig/pgorm-testing.pc")
endif()

install(FILES ${pgorm_pc_files} DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
