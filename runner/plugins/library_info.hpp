// PluginLibraryInfo: what one plugin library says about itself in its handshake.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/registry.hpp"

namespace kiln::runner {

/// What a plugin library says about itself and what it registers.
struct PluginLibraryInfo {
  std::filesystem::path path;
  std::string plugin_name, version, torch_version;
  std::uint32_t abi = 0;
  std::optional<bool> torch_cuda;  ///< whether its LibTorch has CUDA; nullopt: not recorded
  std::map<kiln::Kind, std::vector<std::string>> names;  ///< every kind, names sorted
};

}  // namespace kiln::runner
