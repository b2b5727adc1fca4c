# SPDX-License-Identifier: MIT
# Compiles SOURCE with the flags a user's code gets from pgorm::pgorm (COMPILER, STANDARD,
# FLAGS, and the '|'-joined INCLUDES, DEFINES and OPTIONS; IMPLICIT: the compiler's own
# include directories, left out of INCLUDES), syntax only: it must fail, and the
# first compiler error line must match EXPECT: a misuse must be reported by pgorm's own
# message, not by a cascade. Run by the compiler directly, not through the build tree, so that
# these tests run in parallel.
cmake_minimum_required(VERSION 3.25)
foreach(var IN ITEMS INCLUDES DEFINES OPTIONS IMPLICIT)
  string(REPLACE "|" ";" ${var} "${${var}}")
endforeach()
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
set(command ${COMPILER} ${STANDARD} ${flags})
foreach(dir IN LISTS INCLUDES)
  if(NOT dir IN_LIST IMPLICIT)
    list(APPEND command "-I${dir}")
  endif()
endforeach()
foreach(def IN LISTS DEFINES)
  list(APPEND command "-D${def}")
endforeach()
list(APPEND command ${OPTIONS} -fsyntax-only "${SOURCE}")
execute_process(COMMAND ${command} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(all "${out}\n${err}")
get_filename_component(name "${SOURCE}" NAME)
if(rc EQUAL 0)
  message(FATAL_ERROR "${name} compiled, but it must not:\n${all}")
endif()
string(REGEX MATCH "[^\n]*error:[^\n]*" first_error "${all}")
if(NOT first_error)
  list(JOIN command " " shown)
  message(FATAL_ERROR "${name} failed without a compiler error line:\n${shown}\n${all}")
endif()
if(NOT first_error MATCHES "${EXPECT}")
  message(FATAL_ERROR "first error of ${name} does not match '${EXPECT}':\n"
                      "  ${first_error}\nfull output:\n${all}")
endif()
message(STATUS "ok: ${first_error}")
