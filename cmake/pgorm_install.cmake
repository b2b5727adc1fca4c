# SPDX-License-Identifier: MIT
# Install rules and package config: find_package(pgorm CONFIG) gives pgorm::pgorm and
# pgorm::testing; the build tree is usable the same way through its exported targets.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PGORM_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pgorm")

install(TARGETS pgorm pgorm_testing
  EXPORT pgorm-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET pgorm-test-server)
  install(TARGETS pgorm-test-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT pgorm-targets NAMESPACE pgorm:: DESTINATION ${PGORM_CMAKE_DIR})
export(EXPORT pgorm-targets NAMESPACE pgorm::
       FILE "${CMAKE_CURRENT_BINARY_DIR}/pgorm-targets.cmake")

configure_package_config_file(cmake/pgormConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/pgormConfig.cmake"
  INSTALL_DESTINATION ${PGORM_CMAKE_DIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/pgormConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/pgormConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/pgormConfigVersion.cmake"
        DESTINATION ${PGORM_CMAKE_DIR})
