# SPDX-License-Identifier: MIT
# examples/migrate_app.cpp: an application embedding its structs for `diff` / `check`.
# include() it from examples/CMakeLists.txt (where pgorm::pgorm and pgorm_set_warnings exist).
add_executable(migrate_app "${CMAKE_CURRENT_LIST_DIR}/migrate_app.cpp")
target_link_libraries(migrate_app PRIVATE pgorm::pgorm)
pgorm_set_warnings(migrate_app)
