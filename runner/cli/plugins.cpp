// `kiln plugins`: the plugin libraries on the search path, or one library's handshake checked.
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/version.h>

#include "cli/commands.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"
#include "plugins/plugin_host.hpp"
#include "plugins/search_path.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;

/// The search `kiln run` uses: --path folders, then $KILN_PLUGIN_PATH, then the default folder.
PluginHost search_host(const std::vector<fs::path>& paths) {
  std::vector<fs::path> folders;
  for (const fs::path& path : paths) folders.push_back(fs::absolute(path));
  return PluginHost(std::move(folders), default_plugin_dir());
}

/// "2.11.0 with CUDA", "1.13.0 without CUDA"; "1.13.0 (CUDA not recorded)" for a library built
/// before its handshake said, or outside kiln_add_plugin().
std::string torch_text(const std::string& version, std::optional<bool> cuda) {
  if (!cuda) return version + " (CUDA not recorded)";
  return version + (*cuda ? " with CUDA" : " without CUDA");
}

/// This kiln's LibTorch, as torch_text() words a library's.
std::string own_torch() { return torch_text(TORCH_VERSION, KILN_WITH_CUDA != 0); }

/// The handshake's fields and the registered names, indented under the library's path.
void print_details(const PluginLibraryInfo& info) {
  fmt::print("  plugin    {} {}\n", info.plugin_name, info.version);
  fmt::print("  sdk abi   {}\n", info.abi);
  fmt::print("  torch     {}\n", torch_text(info.torch_version, info.torch_cuda));
  for (const KindInfo& kind : kKinds) {
    const auto names = info.names.find(kind.kind);
    if (names != info.names.end() && !names->second.empty())
      fmt::print("  {:<9} {}\n", kind.plural, fmt::join(names->second, ", "));
  }
}

/// The library `--check LIB` means: a file, else a library name looked up like `library = "LIB"`.
fs::path resolve_check(const fs::path& library, const PluginHost& host) {
  std::error_code error;
  if (fs::exists(library, error)) return fs::absolute(library).lexically_normal();  // "./libx.so" -> "/dir/libx.so"
  const std::string text = library.string();
  if (text.find('/') == std::string::npos)
    if (auto found = host.find_library(text)) return *found;
  throw PluginError(fmt::format("{}: no such file{}", text,
                                text.find('/') == std::string::npos
                                    ? fmt::format(", and no lib{}.so or {}.so in the search path ({})", text, text,
                                                  host.searched())
                                    : ""));
}

int check(const PluginsArgs& args) {
  const PluginHost host = search_host(args.paths);
  const fs::path library = resolve_check(args.check, host);
  const PluginLibraryInfo info = PluginHost::inspect(library);  // a PluginError says what is wrong
  fmt::print("{}: a kiln plugin this kiln can load (kiln {}, SDK ABI {}, torch {})\n", info.path.string(),
             KILN_VERSION_STRING, KILN_SDK_ABI, own_torch());
  print_details(info);
  return kExitOk;
}

int list(const PluginsArgs& args) {
  PluginHost host = search_host(args.paths);
  fmt::print("search path: {}\n", host.searched());
  const std::vector<PluginHost::Found> found = host.list();
  std::size_t usable = 0;
  for (const PluginHost::Found& library : found) {
    fmt::print("{}\n", library.info.path.string());
    if (library.error.empty()) {
      ++usable;
      print_details(library.info);
    } else {
      fmt::print("  refused   {}\n", library.error);
    }
  }
  fmt::print("{} plugin {}, {} usable (kiln {}, SDK ABI {}, torch {})\n", found.size(),
             found.size() == 1 ? "library" : "libraries", usable, KILN_VERSION_STRING, KILN_SDK_ABI, own_torch());
  return kExitOk;
}

}  // namespace

fs::path default_plugin_dir() { return runner::default_plugin_dir(current_executable()); }

int plugins(const PluginsArgs& args) { return args.check.empty() ? list(args) : check(args); }

}  // namespace kiln::runner::cli
