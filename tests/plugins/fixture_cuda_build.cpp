// Test plugin: the handshake and build entry of a library built against a CUDA LibTorch of
// this kiln's version (its CUDA-ness is shown, never checked).
#include "kiln/plugin.hpp"

namespace {
void register_nothing(kiln::Registry&) {}
}  // namespace

extern "C" KILN_API const kiln::PluginInfo* kiln_plugin_info() {
  static const kiln::PluginInfo info{KILN_SDK_ABI, TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI, "fixture_cuda_build",
                                     "0.0.1", &register_nothing};
  return &info;
}

extern "C" KILN_API const kiln::PluginBuildInfo* kiln_plugin_build_info() {
  static const kiln::PluginBuildInfo info{sizeof(kiln::PluginBuildInfo), /*with_cuda=*/1};
  return &info;
}
