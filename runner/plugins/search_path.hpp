// Where kiln's own plugins are: found at run time from where the kiln executable is.
#pragma once

#include <filesystem>

namespace kiln::runner {

/// How an executable finds kiln's own plugin folder, relative to its own folder.
struct PluginDirLayout {
  std::filesystem::path build_relative;    ///< in the build tree: "plugins/lib" beside build/kiln
  std::filesystem::path install_relative;  ///< installed: "../lib/kiln/plugins" from <prefix>/bin
  std::filesystem::path build_dir;         ///< the build tree this program was built in
  std::filesystem::path build_plugin_dir;  ///< its plugin folder, for its other programs (tests)
};

/// The layout this program was built with.
const PluginDirLayout& built_layout();

/// The plugin folder for the kiln executable at `executable`, the first of:
/// <exe dir>/plugins/lib (a build tree's kiln), <exe dir>/../lib/kiln/plugins (an installed
/// kiln, wherever its prefix was moved), the build tree's folder for any other program
/// inside the build tree (a test binary), else the installed location, which the search
/// path then lists as searched.
/// \code
///   default_plugin_dir("/opt/kiln/bin/kiln")  // "/opt/kiln/lib/kiln/plugins"
/// \endcode
std::filesystem::path default_plugin_dir(const std::filesystem::path& executable,
                                         const PluginDirLayout& layout = built_layout());

/// This process's executable, symlinks resolved (/proc/self/exe).
std::filesystem::path current_executable();

}  // namespace kiln::runner
