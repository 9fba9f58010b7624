# `cpack -G DEB` in the build folder: a kiln_<version>_<arch>.deb whose files are exactly what
# `cmake --install` puts under a prefix, here /usr.
set(CPACK_PACKAGE_NAME kiln)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "train LibTorch experiments declared in TOML, with plugins and a SQL run history")
set(CPACK_PACKAGE_DESCRIPTION
  "kiln runs machine-learning experiments declared in TOML. Models, losses, datasets, hooks and learning-rate schedules are shared-library plugins written against a small C++17 SDK; every run's resolved config, summaries, checkpoints and events go to one SQLite database. The package holds the kiln command, its plugins, the SDK headers and library, and the CMake package for find_package(kiln).")
set(CPACK_PACKAGE_CONTACT "kiln maintainers <kiln@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Depends: computed by dpkg-shlibdeps (package dpkg-dev) from the binaries (libtorch, libfmt,
# libspdlog, libsqlite3, libssl, libprotobuf, libcpp-httplib, libstdc++ ...); libkiln_sdk.so is the package's own. Boost
# is header-only here: no Boost library is needed at run time.
find_program(KILN_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(KILN_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/sdk)
else()
  # What dpkg-shlibdeps finds on Debian 12, written out for machines without dpkg-dev.
  message(STATUS "dpkg-shlibdeps not found (install dpkg-dev): the .deb gets Debian 12's runtime package names")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libtorch1.13, libfmt9, libspdlog1.10-fmt9, libsqlite3-0, libssl3, libprotobuf32, libcpp-httplib0.11, libstdc++6, libgcc-s1, libc6")
endif()
# OpenBLAS for speed at run time; the rest to build plugins with find_package(kiln).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread, libtorch-dev, cmake, g++")

include(CPack)
