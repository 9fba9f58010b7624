# LibTorch: the one CMake is pointed at (Torch_DIR or CMAKE_PREFIX_PATH; scripts/setup.sh does
# it with KILN_LIBTORCH), Debian's libtorch-dev by default. Sets for the rest of the build:
#   KILN_TORCH_VERSION  TORCH_VERSION from its torch/version.h, e.g. 1.13.0 or 2.11.0
#   KILN_WITH_CUDA      1 when this LibTorch has CUDA (its torch_cuda library), else 0; every
#                       target that links torch compiles with -DKILN_WITH_CUDA=<that>
#   KILN_CXX11_ABI      its _GLIBCXX_USE_CXX11_ABI, which every kiln target compiles with

# A build directory stays with the LibTorch it was first configured with: its cache holds that
# LibTorch's libraries and CUDA settings, and every object in it was compiled against it.
if(DEFINED KILN_TORCH_DIR AND DEFINED Torch_DIR AND NOT Torch_DIR STREQUAL KILN_TORCH_DIR)
  message(FATAL_ERROR
    "${CMAKE_BINARY_DIR} was configured with the LibTorch at ${KILN_TORCH_DIR} "
    "(${KILN_TORCH_VERSION}); Torch_DIR now asks for ${Torch_DIR}. Build against another LibTorch "
    "in another build directory (KILN_BUILD_DIR=build-gpu scripts/setup.sh), or remove "
    "${CMAKE_BINARY_DIR}.")
endif()

find_package(Torch REQUIRED)

# The version its headers say, which plugins and checkpoints record too (TORCH_VERSION).
find_file(KILN_TORCH_VERSION_HEADER torch/version.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
if(KILN_TORCH_VERSION_HEADER)
  file(STRINGS ${KILN_TORCH_VERSION_HEADER} torch_version_lines REGEX "^#define TORCH_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3" torch_version
         "${torch_version_lines}")
endif()
if(NOT torch_version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "LibTorch at ${Torch_DIR}: no TORCH_VERSION_MAJOR/MINOR/PATCH in a torch/version.h under "
                      "${TORCH_INCLUDE_DIRS}")
endif()

# A CUDA LibTorch exports torch_cuda and c10_cuda beside torch_cpu.
if(TARGET torch_cuda OR TARGET c10_cuda)
  set(KILN_WITH_CUDA 1)
  set(torch_kind "CUDA")
else()
  set(KILN_WITH_CUDA 0)
  set(torch_kind "CPU only")
endif()
# On torch itself, so that the torch-free targets keep their flags. A plugin's handshake
# reports it (kiln/plugin.hpp); kiln_add_plugin() sets it for plugins built elsewhere.
set_property(TARGET torch APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS KILN_WITH_CUDA=${KILN_WITH_CUDA})

# libstdc++'s string ABI: std::string and std::list change layout with _GLIBCXX_USE_CXX11_ABI,
# so a torch-free library (kiln::store, kiln::sdk_core, the kiln front) passing a std::string
# to a torch one must be compiled like it. LibTorch says which in TORCH_CXX_FLAGS (LibTorch
# 2.8 and later no longer do: they are built with the C++11 ABI, GCC's default).
set(KILN_CXX11_ABI 1)
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
  set(KILN_CXX11_ABI ${CMAKE_MATCH_1})
endif()
include(CheckCXXSourceCompiles)
check_cxx_source_compiles("
  #include <string>
  #if _GLIBCXX_USE_CXX11_ABI != ${KILN_CXX11_ABI}
  #error another string ABI
  #endif
  int main() { return 0; }" KILN_COMPILER_ABI_IS_TORCHS_${KILN_CXX11_ABI})
if(KILN_COMPILER_ABI_IS_TORCHS_${KILN_CXX11_ABI})
  set(abi_note "the compiler's default too")
else()
  # Every kiln target, torch-free or not. The libraries kiln links that are built by the
  # system (fmt, spdlog, GTest, Google Benchmark) keep theirs: with 0 they cannot link.
  add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=${KILN_CXX11_ABI})
  set(abi_note "set for every kiln target")
  if(KILN_CXX11_ABI STREQUAL "0")
    message(WARNING "The LibTorch at ${Torch_DIR} uses the pre-C++11 string ABI "
      "(_GLIBCXX_USE_CXX11_ABI=0): the system's fmt, spdlog, GTest and Google Benchmark use the "
      "C++11 one, so linking kiln against them fails. Use a cxx11-abi LibTorch.")
  endif()
endif()

set(KILN_TORCH_DIR "${Torch_DIR}" CACHE INTERNAL "The LibTorch this build directory is configured with")
set(KILN_TORCH_VERSION "${torch_version}" CACHE INTERNAL "TORCH_VERSION of that LibTorch")
message(STATUS "kiln: LibTorch ${KILN_TORCH_VERSION}, ${torch_kind}, at ${Torch_DIR}; "
               "_GLIBCXX_USE_CXX11_ABI=${KILN_CXX11_ABI} (${abi_note})")

# A pip torch ships its own fmt headers (torch/include/fmt: fmt 12 in torch 2.11) in the include
# directory every torch target gets, ahead of the system's. kiln links the system's libfmt (and
# libspdlog, built on it), so its code must compile against the system's headers: a folder
# holding only a link to them goes first (-I is searched before torch's -isystem).
find_package(fmt REQUIRED)
get_target_property(fmt_include_dirs fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
set(system_fmt "")
foreach(dir IN LISTS fmt_include_dirs)
  if(NOT system_fmt AND EXISTS "${dir}/fmt/format.h")
    get_filename_component(system_fmt "${dir}/fmt" REALPATH)
  endif()
endforeach()
foreach(dir IN LISTS TORCH_INCLUDE_DIRS)
  if(system_fmt AND EXISTS "${dir}/fmt/format.h")
    get_filename_component(torch_fmt "${dir}/fmt" REALPATH)
    if(NOT torch_fmt STREQUAL system_fmt)
      file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/system-fmt)
      file(CREATE_LINK ${system_fmt} ${CMAKE_BINARY_DIR}/system-fmt/fmt SYMBOLIC)
      include_directories(BEFORE ${CMAKE_BINARY_DIR}/system-fmt)
      message(STATUS "kiln: fmt headers from ${system_fmt}, ahead of LibTorch's ${torch_fmt}")
    endif()
  endif()
endforeach()
