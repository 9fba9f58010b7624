// PluginRecord: which library a run built one of its objects from (a row of `plugins`).
#pragma once

#include <cstdint>
#include <string>

namespace kiln::runner {

struct PluginRecord {
  std::string kind;     ///< the kind's name (kiln::kKinds): "model", "loss", ...
  std::string name;     ///< the registered name, e.g. "mlp"
  std::string library;  ///< the plugin's own name from its handshake, e.g. "mlp"
  std::string path;     ///< canonical path of the library file
  std::string sha256;   ///< of the library file, lowercase hex
  std::string version;  ///< the plugin's own version
  std::int64_t abi = 0; ///< the SDK ABI the plugin was built with
};

}  // namespace kiln::runner
