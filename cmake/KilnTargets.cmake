# Shared build settings: warnings for our own code, torch with one precompiled header,
# and kiln_add_plugin() for in-tree plugins.

add_library(kiln_warnings INTERFACE)
add_library(kiln::warnings ALIAS kiln_warnings)
target_compile_options(kiln_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter -Winvalid-pch)

# torch.h costs ~10 s per translation unit; every torch target reuses this one PCH.
add_library(kiln_torch_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(kiln_torch_pch PUBLIC torch)
target_precompile_headers(kiln_torch_pch PRIVATE <torch/torch.h>)

function(kiln_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM kiln_torch_pch)
  # The PCH is built with -fPIC; CMake would give executables -fPIE, and GCC refuses a PCH
  # built with other code-generation flags (it silently falls back to a 10 s parse).
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
endfunction()

# kiln_add_plugin() is the one plugin authors get from find_package(kiln); in this build it
# also adds kiln's warnings and the shared PCH, and writes to the folder the runner searches.
set(KILN_IN_TREE ON)
set(KILN_PLUGIN_OUTPUT_DIRECTORY ${KILN_PLUGIN_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/KilnAddPlugin.cmake)
