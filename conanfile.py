# SPDX-License-Identifier: MIT
# Conan 2 recipe for pgorm. Not tested in pgorm's CI (no access to a Conan remote there); see
# docs/install.md. `conan create . --build=missing -s compiler.cppstd=20` builds the package
# and installs what `cmake --install` installs; CMakeDeps consumers then get
# find_package(pgorm CONFIG) with pgorm::pgorm and pgorm::testing, PkgConfigDeps consumers get
# pgorm.pc and pgorm-testing.pc.
import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, rmdir

required_conan_version = ">=2.0"


class PgormConan(ConanFile):
    name = "pgorm"
    version = "0.1.0"
    description = "Type-safe C++20 ORM for PostgreSQL"
    license = "MIT"
    topics = ("postgresql", "orm", "sql", "libpq")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {
        "shared": False,
        "fPIC": True,
        # pgorm uses Boost.PFR only, which is header-only.
        "boost/*:header_only": True,
    }
    exports_sources = (
        "CMakeLists.txt",
        "cmake/*",
        "include/*",
        "src/*",
        "tools/*",
        "LICENSE*",
    )

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Public headers include <boost/pfr/...>; libpq and fmt are only linked (the library
        # is static, so their libraries reach the consumer's link line).
        self.requires("boost/1.81.0", transitive_headers=True)
        self.requires("libpq/[>=15.4 <16]")
        self.requires("fmt/9.1.0")

    def build_requirements(self):
        self.tool_requires("cmake/[>=3.25 <4]")

    def validate(self):
        check_min_cppstd(self, 20)
        if self.options.shared:
            # CMakeLists.txt builds add_library(pgorm STATIC) and add_library(pgorm_testing
            # STATIC); a shared build is not supported yet.
            raise ConanInvalidConfiguration(f"{self.ref} is a static library only (shared=False)")
        if self.settings.os == "Windows":
            raise ConanInvalidConfiguration(
                f"{self.ref}: pgorm::testing uses fork/exec and POSIX users (Linux, macOS)")

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["PGORM_BUILD_TESTS"] = False
        tc.cache_variables["PGORM_BUILD_EXAMPLES"] = False
        tc.cache_variables["PGORM_INSTALL"] = True
        tc.cache_variables["PGORM_WERROR"] = False
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE*", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Conan writes its own CMake config and .pc files from package_info().
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "pgorm")
        # The aggregate of all components; a name of its own, so it is not pgorm::pgorm (which
        # would then link pgorm::testing too). Link pgorm::pgorm and pgorm::testing instead.
        self.cpp_info.set_property("cmake_target_name", "pgorm::pgorm_all")
        self.cpp_info.set_property("pkg_config_name", "pgorm-all")

        core = self.cpp_info.components["pgorm"]
        core.set_property("cmake_target_name", "pgorm::pgorm")
        core.set_property("pkg_config_name", "pgorm")
        core.libs = ["pgorm"]
        core.requires = ["boost::headers", "libpq::libpq", "fmt::fmt"]
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        testing = self.cpp_info.components["testing"]
        testing.set_property("cmake_target_name", "pgorm::testing")
        testing.set_property("pkg_config_name", "pgorm-testing")
        testing.libs = ["pgorm_testing"]
        testing.requires = ["pgorm", "fmt::fmt"]
