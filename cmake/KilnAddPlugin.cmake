# kiln_add_plugin(): how a kiln plugin library is built. One definition serves kiln's own
# plugins and every project that finds kiln with find_package(kiln); it is installed with
# the package.
include_guard(GLOBAL)

# kiln_add_plugin(<name> [SOURCES] <source>... [OUTPUT_DIRECTORY <dir>] [NO_INSTALL]
#                 [NO_PRECOMPILED_HEADER])
#
# Builds lib<name>.so, a MODULE library that kiln loads at run time:
#  - linked to kiln::sdk, and through it to torch (with torch's include directories and flags);
#  - compiled with KILN_WITH_CUDA=1 when that torch has CUDA, else 0: the handshake says which;
#  - C++17 without extensions, hidden visibility: the symbols KILN_PLUGIN exports are the
#    handshake the host reads and its build entry;
#  - optimized (-O2) when the build type is empty (no CMAKE_BUILD_TYPE given), which to CMake
#    means no optimization at all, while a plugin's code runs in kiln's training loop. A build
#    type the user sets (Debug, Release, ...) decides alone;
#  - linked with --no-undefined: a symbol no source file and no linked library defines (a
#    source file left out of SOURCES) fails the link, not kiln's load of the library;
#  - written to <dir>, by default ${KILN_PLUGIN_OUTPUT_DIRECTORY} when it is set, else
#    ${CMAKE_BINARY_DIR}/plugins: give that folder to kiln with `[plugins] paths` or
#    $KILN_PLUGIN_PATH;
#  - compiled with <torch/torch.h> precompiled, as kiln's own plugins are (every source file
#    includes it through kiln/kiln.hpp, about 10 s of parsing each): the header is compiled
#    once for the library, with the library's own flags, and each source file starts from it.
#    NO_PRECOMPILED_HEADER compiles without it (a compiler or a tool that cannot take GCC's
#    precompiled headers; a build that must see each file's includes, such as include-what-you-use);
#  - installed to ${KILN_PLUGIN_INSTALL_DIR} (lib/kiln/plugins), the folder an installed kiln
#    searches by default, unless NO_INSTALL. Install to kiln's own prefix to have it found.
function(kiln_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_INSTALL;NO_PRECOMPILED_HEADER" "OUTPUT_DIRECTORY" "SOURCES")
  set(sources ${arg_SOURCES} ${arg_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "kiln_add_plugin(${name}): no source files (kiln_add_plugin(NAME SOURCES a.cpp ...))")
  endif()
  if(arg_OUTPUT_DIRECTORY)
    set(output_dir ${arg_OUTPUT_DIRECTORY})
  elseif(KILN_PLUGIN_OUTPUT_DIRECTORY)
    set(output_dir ${KILN_PLUGIN_OUTPUT_DIRECTORY})
  else()
    set(output_dir ${CMAKE_BINARY_DIR}/plugins)
  endif()

  add_library(${name} MODULE ${sources})
  target_link_libraries(${name} PRIVATE kiln::sdk)
  target_compile_features(${name} PRIVATE cxx_std_17)
  target_compile_options(${name} PRIVATE $<$<CONFIG:>:-O2>)
  # A MODULE library may leave symbols undefined for the loader to find; a plugin has
  # nothing to find there (kiln exports nothing to it), so a missing one is a bug.
  target_link_options(${name} PRIVATE LINKER:--no-undefined)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    SUFFIX ".so"
    # The standard set on the target, not only as a feature: a feature the compiler's default
    # (gnu++17) already meets adds no -std flag under CMake < 3.22's policies, extensions or not.
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${output_dir}
    # Installed in <libdir>/kiln/plugins: libkiln_sdk.so is two folders up.
    INSTALL_RPATH "$ORIGIN/../..")
  # Whether this LibTorch has CUDA, for the handshake (kiln's own build sets it on torch).
  if(NOT KILN_IN_TREE)
    if(TARGET torch_cuda OR TARGET c10_cuda)
      target_compile_definitions(${name} PRIVATE KILN_WITH_CUDA=1)
    else()
      target_compile_definitions(${name} PRIVATE KILN_WITH_CUDA=0)
    endif()
  endif()
  # kiln's own build adds its warnings and the precompiled torch header all its targets share;
  # another project's plugin compiles its own (its flags are the project's, which kiln's PCH
  # would not match: GCC then ignores a PCH, and -Winvalid-pch says so).
  if(KILN_IN_TREE)
    # Listed for the kiln_app target: kiln and the plugins it loads, nothing else.
    set_property(GLOBAL APPEND PROPERTY KILN_IN_TREE_PLUGINS ${name})
    target_link_libraries(${name} PRIVATE kiln::warnings)
    if(NOT arg_NO_PRECOMPILED_HEADER)
      kiln_use_torch_pch(${name})
    endif()
  elseif(NOT arg_NO_PRECOMPILED_HEADER)
    # (CMake adds -Winvalid-pch: GCC says so when it cannot use the header.)
    target_precompile_headers(${name} PRIVATE <torch/torch.h>)
  endif()
  if(NOT arg_NO_INSTALL)
    if(NOT KILN_PLUGIN_INSTALL_DIR)
      set(KILN_PLUGIN_INSTALL_DIR lib/kiln/plugins)
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION ${KILN_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
