# SPDX-License-Identifier: MIT
# Conan 2 recipe for pgorm. Conan itself cannot be installed on pgorm's CI machine (no Conan in
# Debian 12's packages or on npm, and PyPI is not reachable there): this recipe has never run
# under Conan. What CI does check is the CMake build it drives (the same cache variables, static
# and shared), and test_package/ built against such an install (tests/consumer/run.sh).
# docs/install.md says what was and was not exercised.
#
#   conan create . --build=missing -s compiler.cppstd=20 [-o "pgorm/*:shared=True"]
#
# CMakeDeps consumers get find_package(pgorm CONFIG) with pgorm::pgorm (and pgorm::testing with
# with_testing=True); PkgConfigDeps consumers get pgorm.pc (and pgorm-testing.pc).
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"


class PgormConan(ConanFile):
    name = "pgorm"
    description = "Type-safe C++20 ORM for PostgreSQL"
    license = "MIT"
    topics = ("postgresql", "orm", "sql", "libpq")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "shared": [True, False],
        "fPIC": [True, False],
        # pgorm::testing and pgorm-test-server: a throwaway PostgreSQL server for tests
        # (PGORM_BUILD_TESTING). Needs the PostgreSQL server programs at run time, not at build.
        "with_testing": [True, False],
        # The `pgorm` migrations program (PGORM_BUILD_CLI); needs CLI11.
        "with_cli": [True, False],
    }
    default_options = {
        "shared": False,
        "fPIC": True,
        "with_testing": True,
        "with_cli": False,
        # pgorm uses Boost.PFR only, which is header-only.
        "boost/*:header_only": True,
    }
    exports_sources = (
        "CMakeLists.txt",
        "cmake/*",
        "include/*",
        "src/*",
        "tools/*",
        "vcpkg.json",
        "LICENSE",
        "CHANGELOG.md",
    )

    def set_version(self):
        # include/pgorm/version.hpp is the only place the version is written.
        header = load(self, os.path.join(self.recipe_folder, "include", "pgorm", "version.hpp"))
        parts = []
        for part in ("MAJOR", "MINOR", "PATCH"):
            match = re.search(rf"^#define PGORM_VERSION_{part} (\d+)$", header, re.MULTILINE)
            if not match:
                raise ConanInvalidConfiguration(f"version.hpp has no PGORM_VERSION_{part}")
            parts.append(match.group(1))
        self.version = ".".join(parts)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Public headers include <boost/pfr/...> and <libpq-fe.h>; fmt is private to the
        # libraries (with a static pgorm its library still reaches the consumer's link line).
        # pgorm reads field names through Boost.PFR's detail namespace (tie_as_tuple), so Boost
        # stays at the version it was built and tested with.
        self.requires("boost/1.81.0", transitive_headers=True)
        # Tested with libpq 15 (Debian 12).
        self.requires("libpq/[>=15.4 <16]", transitive_headers=True)
        # Built and tested with fmt 9.1 only (Debian 12); 10.x has not been tried.
        self.requires("fmt/[>=9.1 <10]")
        if self.options.with_cli:
            self.requires("cli11/[>=2.1 <3]")  # tested with 2.1.2 (Debian 12)

    def build_requirements(self):
        self.tool_requires("cmake/[>=3.25 <4]")

    def validate(self):
        check_min_cppstd(self, 20)
        # Linux only, honestly: the library uses eventfd, SOCK_NONBLOCK and MSG_NOSIGNAL, and
        # pgorm::testing uses close_range, pipe2 and /proc. It has been built with g++ 12 and
        # clang 16 on Debian 12 (x86_64) only.
        if self.settings.os != "Linux":
            raise ConanInvalidConfiguration(
                f"{self.ref} builds on Linux only (eventfd, MSG_NOSIGNAL, close_range)")

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["PGORM_BUILD_TESTS"] = False
        tc.cache_variables["PGORM_BUILD_EXAMPLES"] = False
        tc.cache_variables["PGORM_BUILD_BENCH"] = False
        tc.cache_variables["PGORM_BUILD_TESTING"] = bool(self.options.with_testing)
        tc.cache_variables["PGORM_BUILD_CLI"] = bool(self.options.with_cli)
        tc.cache_variables["PGORM_INSTALL"] = True
        tc.cache_variables["PGORM_WERROR"] = False
        # BUILD_SHARED_LIBS and CMAKE_POSITION_INDEPENDENT_CODE come from shared and fPIC.
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Conan writes its own CMake config and .pc files from package_info().
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))
        rmdir(self, os.path.join(self.package_folder, "share"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "pgorm")
        # The aggregate of all components has a name of its own, so that pgorm::pgorm does not
        # also link pgorm::testing.
        self.cpp_info.set_property("cmake_target_name", "pgorm::pgorm_all")
        self.cpp_info.set_property("pkg_config_name", "pgorm-all")

        core = self.cpp_info.components["pgorm"]
        core.set_property("cmake_target_name", "pgorm::pgorm")
        core.set_property("pkg_config_name", "pgorm")
        core.libs = ["pgorm"]
        core.requires = ["boost::headers", "libpq::libpq", "fmt::fmt"]
        core.system_libs = ["pthread"]
        if not self.options.shared:
            # pgorm/export.hpp: a static pgorm exports nothing from its users' shared libraries.
            core.defines = ["PGORM_STATIC"]

        if self.options.with_testing:
            testing = self.cpp_info.components["testing"]
            testing.set_property("cmake_target_name", "pgorm::testing")
            testing.set_property("pkg_config_name", "pgorm-testing")
            testing.libs = ["pgorm_testing"]
            testing.requires = ["pgorm", "fmt::fmt"]
