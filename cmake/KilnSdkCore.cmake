# kiln::sdk_core: the SDK's torch-free half (errors, Config, the experiment document,
# schedules) as a static library, for the code that never touches a tensor: the run store,
# the report and the `kiln` front, which must start without loading LibTorch. Its sources are
# libkiln_sdk.so's, less the one file that uses torch (interfaces.cpp); a torch include added
# to any other SDK source fails this library's build, loudly.
#
# Targets that also link libkiln_sdk.so (kiln::runner, libkiln_train.so, the torch tests) take
# every SDK symbol from it: it comes first on their link line, so no member of this archive is
# pulled in beside it (tests/CMakeLists.txt checks libkiln_train.so and kiln_runner_tests for that).
get_target_property(sdk_sources kiln_sdk SOURCES)
get_target_property(sdk_dir kiln_sdk SOURCE_DIR)
list(FILTER sdk_sources EXCLUDE REGEX "interfaces\\.cpp$")
list(TRANSFORM sdk_sources PREPEND ${sdk_dir}/)

add_library(kiln_sdk_core STATIC ${sdk_sources})
add_library(kiln::sdk_core ALIAS kiln_sdk_core)
target_include_directories(kiln_sdk_core PUBLIC ${sdk_dir}/include ${sdk_dir}/src)
target_include_directories(kiln_sdk_core PRIVATE
  $<TARGET_PROPERTY:tomlplusplus::tomlplusplus,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(kiln_sdk_core PRIVATE $<TARGET_PROPERTY:kiln_sdk,COMPILE_DEFINITIONS>)
target_link_libraries(kiln_sdk_core PRIVATE fmt::fmt kiln::warnings)
