# SPDX-License-Identifier: MIT
# pgorm_consumer_check_subproject(<pgorm source dir> <CMAKE_CXX_FLAGS before adding pgorm>)
# For the add_subdirectory and FetchContent consumers: pgorm inside a parent project must
#   - leave PGORM_BUILD_TESTS, PGORM_BUILD_EXAMPLES, PGORM_BUILD_CLI and PGORM_INSTALL off
#     (PROJECT_IS_TOP_LEVEL), define no pgorm_cli target, add no subdirectories (tests/,
#     examples/) and register no tests;
#   - not touch the parent's CMAKE_CXX_FLAGS or directory compile options;
#   - put no compile options (warnings, -Werror, sanitizers) in its targets' usage requirements.
# run.sh also checks the consumer's compile command in compile_commands.json.
function(pgorm_consumer_check_subproject pgorm_dir flags_before)
  foreach(option IN ITEMS PGORM_BUILD_TESTS PGORM_BUILD_EXAMPLES PGORM_BUILD_CLI PGORM_INSTALL)
    if(${option})
      message(FATAL_ERROR "${option} is on in a parent project; it must default to off")
    endif()
  endforeach()
  if(TARGET pgorm_cli)
    message(FATAL_ERROR "pgorm defined its CLI (pgorm_cli) in a parent project")
  endif()
  get_property(subdirs DIRECTORY "${pgorm_dir}" PROPERTY SUBDIRECTORIES)
  if(subdirs)
    message(FATAL_ERROR "pgorm added subdirectories in a parent project: ${subdirs}")
  endif()
  get_property(tests DIRECTORY "${pgorm_dir}" PROPERTY TESTS)
  if(tests)
    message(FATAL_ERROR "pgorm registered tests in a parent project: ${tests}")
  endif()
  if(NOT CMAKE_CXX_FLAGS STREQUAL flags_before)
    message(FATAL_ERROR "pgorm changed CMAKE_CXX_FLAGS: '${flags_before}' -> '${CMAKE_CXX_FLAGS}'")
  endif()
  get_property(options DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY COMPILE_OPTIONS)
  if(options)
    message(FATAL_ERROR "the parent directory has compile options: ${options}")
  endif()
  foreach(target IN ITEMS pgorm::pgorm pgorm::testing)
    get_target_property(real ${target} ALIASED_TARGET)
    foreach(property IN ITEMS INTERFACE_COMPILE_OPTIONS INTERFACE_LINK_OPTIONS)
      get_target_property(value ${real} ${property})
      if(value)
        message(FATAL_ERROR "${target} passes ${property} to consumers: ${value}")
      endif()
    endforeach()
  endforeach()
  message(STATUS "pgorm as a subproject: no tests, no examples, no install, no flags leak")
endfunction()
