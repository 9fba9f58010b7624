// The plugin handshake: the one exported entry of every plugin library, written by KILN_PLUGIN.
#pragma once

#include <cstdint>

#include <torch/version.h>

#include "kiln/registry.hpp"
#include "kiln/version.hpp"

namespace kiln {

/// What a plugin library says about itself. The host reads `abi` first and refuses the
/// library, before touching any other field, when it differs from its own KILN_SDK_ABI;
/// then it checks the torch version and the libstdc++ string ABI. The layout of this
/// struct may only grow at the end, and `abi` stays the first member forever.
struct PluginInfo {
  std::uint32_t abi;             ///< KILN_SDK_ABI the plugin was built with
  const char* torch_version;     ///< TORCH_VERSION the plugin was built with
  int cxx11_abi;                 ///< _GLIBCXX_USE_CXX11_ABI the plugin was built with
  const char* name;              ///< plugin name, e.g. "mlp"
  const char* version;           ///< plugin's own version, e.g. "1.0.0"
  void (*register_plugin)(Registry& registry);
};

/// The exported symbol the host looks up.
inline constexpr const char* kPluginEntry = "kiln_plugin_info";

/// How a plugin library was built, beyond what the handshake checks: what `kiln plugins`
/// shows. It is a second exported entry rather than more of PluginInfo, so that libraries
/// built before it existed load as before (kiln shows "not recorded" for them). Fields may
/// only be added at the end: `size` tells the host which ones a library has.
struct PluginBuildInfo {
  std::uint32_t size;  ///< sizeof(PluginBuildInfo) in the library
  int with_cuda;       ///< 1: its LibTorch has CUDA, 0: CPU only, -1: not known
};

/// The exported symbol that returns a PluginBuildInfo; optional.
inline constexpr const char* kPluginBuildEntry = "kiln_plugin_build_info";

namespace detail {
/// KILN_WITH_CUDA as the plugin's build set it (kiln_add_plugin() does, from its torch).
#if defined(KILN_WITH_CUDA)
inline constexpr int kPluginWithCuda = KILN_WITH_CUDA ? 1 : 0;
#else
inline constexpr int kPluginWithCuda = -1;
#endif
}  // namespace detail

}  // namespace kiln

/// Declares a plugin library and opens its register function, whose parameter is
/// `registry`. Use it exactly once per library:
/// \code
///   KILN_PLUGIN("losses", "1.0.0") {
///     registry.add_loss<Mse>("mse");
///     registry.add_loss<L1>("l1");
///   }
/// \endcode
#define KILN_PLUGIN(NAME, VERSION)                                                      \
  static void kiln_register_plugin_(::kiln::Registry& registry);                       \
  extern "C" KILN_API const ::kiln::PluginInfo* kiln_plugin_info() {                   \
    static const ::kiln::PluginInfo info{KILN_SDK_ABI, TORCH_VERSION,                   \
                                         _GLIBCXX_USE_CXX11_ABI, NAME, VERSION,         \
                                         &kiln_register_plugin_};                       \
    return &info;                                                                       \
  }                                                                                     \
  extern "C" KILN_API const ::kiln::PluginBuildInfo* kiln_plugin_build_info() {        \
    static const ::kiln::PluginBuildInfo info{sizeof(::kiln::PluginBuildInfo),         \
                                              ::kiln::detail::kPluginWithCuda};        \
    return &info;                                                                       \
  }                                                                                     \
  static void kiln_register_plugin_(::kiln::Registry& registry)
