// Test plugin: a library built by an SDK from before the build entry (kiln_plugin_build_info),
// whose KILN_PLUGIN wrote the handshake alone. kiln loads it and records no CUDA either way.
#include "kiln/plugin.hpp"

namespace {
void register_nothing(kiln::Registry&) {}
}  // namespace

extern "C" KILN_API const kiln::PluginInfo* kiln_plugin_info() {
  static const kiln::PluginInfo info{KILN_SDK_ABI, TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI, "fixture_old_handshake",
                                     "0.0.1", &register_nothing};
  return &info;
}
