# kiln as a CMake package, find_package(kiln), twice: installed (lib/cmake/kiln) and from this
# build tree (-Dkiln_DIR=<build dir>), each with kiln::sdk and kiln_add_plugin().
include(CMakePackageConfigHelpers)

write_basic_package_version_file(${CMAKE_BINARY_DIR}/kilnConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)

# The build tree's package: targets exported from here, plugins in build/plugins/lib.
export(EXPORT kilnTargets NAMESPACE kiln:: FILE ${CMAKE_BINARY_DIR}/kilnTargets.cmake)
set(KILN_CONFIG_PLUGIN_DIR ${KILN_PLUGIN_DIR})
configure_package_config_file(cmake/kilnConfig.cmake.in ${CMAKE_BINARY_DIR}/kilnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_BINARY_DIR}
  INSTALL_PREFIX ${CMAKE_BINARY_DIR}
  PATH_VARS KILN_CONFIG_PLUGIN_DIR)
configure_file(cmake/KilnAddPlugin.cmake ${CMAKE_BINARY_DIR}/KilnAddPlugin.cmake COPYONLY)

# The installed package: the same files, with paths relative to the install prefix.
set(KILN_CONFIG_PLUGIN_DIR ${KILN_PLUGIN_INSTALL_DIR})
configure_package_config_file(cmake/kilnConfig.cmake.in ${CMAKE_BINARY_DIR}/install/kilnConfig.cmake
  INSTALL_DESTINATION ${KILN_CMAKE_INSTALL_DIR}
  PATH_VARS KILN_CONFIG_PLUGIN_DIR)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_CMAKE_INSTALL_DIR})
install(FILES
  ${CMAKE_BINARY_DIR}/install/kilnConfig.cmake
  ${CMAKE_BINARY_DIR}/kilnConfigVersion.cmake
  cmake/KilnAddPlugin.cmake
  DESTINATION ${KILN_CMAKE_INSTALL_DIR})

# The plugin guide, the SQL cookbook it points to, and the template it walks through, to copy
# and start from.
install(FILES docs/writing-plugins.md docs/sql-cookbook.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY examples/plugin-template DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PATTERN build EXCLUDE PATTERN runs EXCLUDE)
