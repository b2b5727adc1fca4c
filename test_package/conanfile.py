# SPDX-License-Identifier: MIT
# Conan's check of a built pgorm package (`conan create .` runs it): builds test_package.cpp
# against the package with CMakeDeps and runs it. The same CMake project is built and run
# against a plain `cmake --install` of pgorm, static and shared, by tests/consumer/run.sh.
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class PgormTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.cpp.build.bindir, "test_package"), env="conanrun")
