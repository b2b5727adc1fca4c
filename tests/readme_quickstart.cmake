# SPDX-License-Identifier: MIT
# The README's quick-start code block must be examples/quickstart.cpp byte for byte, so the
# snippet people copy is the one CI compiles and runs.
file(READ "${SOURCE_DIR}/README.md" readme)
file(READ "${SOURCE_DIR}/examples/quickstart.cpp" example)
string(FIND "${readme}" "<!-- quickstart:begin -->\n```cpp\n" begin)
string(FIND "${readme}" "```\n<!-- quickstart:end -->" end)
if(begin EQUAL -1 OR end EQUAL -1)
  message(FATAL_ERROR "README.md lacks the quickstart:begin/end markers around a ```cpp block")
endif()
string(LENGTH "<!-- quickstart:begin -->\n```cpp\n" marker)
math(EXPR begin "${begin} + ${marker}")
math(EXPR length "${end} - ${begin}")
string(SUBSTRING "${readme}" ${begin} ${length} snippet)
if(NOT snippet STREQUAL example)
  message(FATAL_ERROR "README.md's quick start differs from examples/quickstart.cpp")
endif()
message(STATUS "README quick start == examples/quickstart.cpp")
