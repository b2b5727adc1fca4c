# SPDX-License-Identifier: MIT
# Builds TARGET in BUILD_DIR, which must fail, and checks that the first compiler error line
# matches EXPECT: a misuse must be reported by pgorm's own message, not by a cascade.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(all "${out}\n${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not:\n${all}")
endif()
string(REGEX MATCH "[^\n]*error:[^\n]*" first_error "${all}")
if(NOT first_error)
  message(FATAL_ERROR "${TARGET} failed without a compiler error line:\n${all}")
endif()
if(NOT first_error MATCHES "${EXPECT}")
  message(FATAL_ERROR "first error of ${TARGET} does not match '${EXPECT}':\n"
                      "  ${first_error}\nfull output:\n${all}")
endif()
message(STATUS "ok: ${first_error}")
