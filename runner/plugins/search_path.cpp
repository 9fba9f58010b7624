// default_plugin_dir(): the build tree's or the install prefix's plugin folder, from /proc/self/exe.
#include "plugins/search_path.hpp"

#include <system_error>

#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::runner {

namespace fs = std::filesystem;

namespace {

bool is_folder(const fs::path& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

/// True when `path` is `folder` or lies below it (both absolute and normal).
bool is_inside(const fs::path& path, const fs::path& folder) {
  const fs::path relative = path.lexically_relative(folder);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

const PluginDirLayout& built_layout() {
  static const PluginDirLayout layout{KILN_EXE_TO_BUILD_PLUGINS, KILN_EXE_TO_INSTALLED_PLUGINS, KILN_BUILD_DIR,
                                      KILN_BUILD_PLUGIN_DIR};
  return layout;
}

fs::path default_plugin_dir(const fs::path& executable, const PluginDirLayout& layout) {
  const fs::path exe = executable.lexically_normal();
  const fs::path dir = exe.parent_path();
  if (const fs::path build = (dir / layout.build_relative).lexically_normal(); is_folder(build)) return build;
  const fs::path installed = (dir / layout.install_relative).lexically_normal();
  if (is_folder(installed)) return installed;
  if (!layout.build_dir.empty() && is_inside(exe, layout.build_dir.lexically_normal()))
    return layout.build_plugin_dir.lexically_normal();
  return installed;
}

fs::path current_executable() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) throw Error(fmt::format("cannot find kiln's own executable: /proc/self/exe: {}", error.message()));
  return exe;
}

}  // namespace kiln::runner
