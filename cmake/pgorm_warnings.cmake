# SPDX-License-Identifier: MIT
# Warnings and sanitizers are applied per target, never globally, so a parent project that
# add_subdirectory()s pgorm keeps its own flags and never inherits -Werror.
function(pgorm_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wold-style-cast
      -Wnon-virtual-dtor -Woverloaded-virtual)
    if(PGORM_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(PGORM_SANITIZE)
      target_compile_options(${target} PRIVATE
        -fsanitize=${PGORM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
      target_link_options(${target} PRIVATE -fsanitize=${PGORM_SANITIZE})
    endif()
  endif()
endfunction()
