// train_commands(): finds libkiln_train.so relative to the kiln executable and loads it.
#include "cli/train_library.hpp"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "kiln/version.hpp"

namespace kiln::runner::cli {

namespace fs = std::filesystem;

namespace {

/// The library beside this executable's build tree, else in its install prefix's <libdir>.
fs::path train_library_path() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error(fmt::format("cannot find kiln's own executable: /proc/self/exe: {}", error.message()));
  const fs::path dir = exe.parent_path();
  const fs::path build = (dir / KILN_EXE_TO_BUILD_TRAIN).lexically_normal();
  const fs::path installed = (dir / KILN_EXE_TO_INSTALLED_TRAIN).lexically_normal();
  if (fs::exists(build, error)) return build;
  if (fs::exists(installed, error)) return installed;
  throw std::runtime_error(fmt::format("kiln's training library is missing: neither {} nor {} exists (reinstall kiln)",
                                       build.string(), installed.string()));
}

const TrainCommands& load() {
  const fs::path path = train_library_path();
  // Never closed: LibTorch and the plugins it loads stay until the process exits. Global, as
  // when kiln linked LibTorch itself: plugins see the same symbols they saw then.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) throw std::runtime_error(fmt::format("cannot load kiln's training library: {}", dlerror()));
  using Entry = const TrainCommands* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "kiln_train_commands"));
  if (!entry) throw std::runtime_error(fmt::format("{} is not kiln's training library: it has no kiln_train_commands", path.string()));
  const TrainCommands* commands = entry();
  if (std::strcmp(commands->version, KILN_VERSION_STRING) != 0)
    throw std::runtime_error(fmt::format("{} is from kiln {}, not from this kiln {} (reinstall kiln)", path.string(),
                                         commands->version, KILN_VERSION_STRING));
  if (commands->size != sizeof(TrainCommands))
    throw std::runtime_error(fmt::format("{} is from another build of kiln {} (rebuild or reinstall kiln)",
                                         path.string(), KILN_VERSION_STRING));
  return *commands;
}

}  // namespace

const TrainCommands& train_commands() {
  static const TrainCommands& commands = load();
  return commands;
}

}  // namespace kiln::runner::cli
