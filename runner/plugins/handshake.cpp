// open_library(): the loader, the kiln handshake (the ABI first) and the register function.
#include "plugins/handshake.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <sstream>

#include <cxxabi.h>
#include <dlfcn.h>

#include <fmt/format.h>
#include <torch/version.h>

#include "kiln/kiln.hpp"
#include "plugins/elf_check.hpp"
#include "train/error_text.hpp"

namespace kiln::runner::detail {

namespace fs = std::filesystem;

namespace {

const char* or_unknown(const char* text) { return text ? text : "(unknown)"; }

[[noreturn]] void rebuild(const fs::path& file, const std::string& theirs, const std::string& ours) {
  throw PluginError(fmt::format("{} was built {} but this kiln {}; rebuild the plugin against this kiln",
                                file.string(), theirs, ours));
}

/// The loader's reason, worded for the one library the user asked about.
std::string load_failure(const fs::path& file, const std::string& why) {
  const std::string own = file.string() + ": ";
  if (why.rfind(own, 0) == 0) return why;  // about the file itself: "<file>: undefined symbol: ..."
  // About another library: "libx.so: cannot open shared object file: No such file or directory".
  if (why.find("cannot open shared object file") != std::string::npos)
    return fmt::format("{}: a library it needs is missing: {}", file.string(), why);
  return own + why;
}

/// What the library's optional build entry says about its LibTorch's CUDA; nullopt for a
/// library without one (built before it existed) or one that does not know.
std::optional<bool> torch_cuda_of(const boost::dll::shared_library& library) {
  if (!library.has(kPluginBuildEntry)) return std::nullopt;
  const PluginBuildInfo* build = library.get<const PluginBuildInfo*()>(kPluginBuildEntry)();
  if (build == nullptr || build->size < offsetof(PluginBuildInfo, with_cuda) + sizeof build->with_cuda)
    return std::nullopt;
  if (build->with_cuda != 0 && build->with_cuda != 1) return std::nullopt;
  return build->with_cuda == 1;
}

/// "ns::f(int) (_ZN2ns1fEi)" for a C++ symbol, the symbol itself for any other.
std::string demangled(const std::string& symbol) {
  if (symbol.rfind("_Z", 0) != 0) return symbol;
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || !name) return symbol;
  return fmt::format("{} ({})", name.get(), symbol);
}

}  // namespace

std::string demangle_undefined_symbols(std::string_view loader_message) {
  constexpr std::string_view kMarker = "undefined symbol: ";
  constexpr std::string_view kSymbolCharacters =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$";
  std::string out;
  std::size_t done = 0;
  for (auto at = loader_message.find(kMarker); at != std::string_view::npos;
       at = loader_message.find(kMarker, done)) {
    const std::size_t start = at + kMarker.size();
    // The name ends where its characters do: "undefined symbol: _ZNSt...E, version GLIBCXX_3.4.30".
    const std::size_t end = std::min(loader_message.find_first_not_of(kSymbolCharacters, start), loader_message.size());
    out.append(loader_message.substr(done, start - done));
    out += demangled(std::string(loader_message.substr(start, end - start)));
    done = end;
  }
  out.append(loader_message.substr(done));
  return out;
}

std::string one_line(std::string_view text) {
  std::istringstream lines{std::string(text)};
  std::string line, out;
  while (std::getline(lines, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    if (!out.empty()) out += ' ';
    out.append(line, first, last - first + 1);
  }
  return out;
}

std::string message_of(const std::exception& error) { return one_line(error_text(error)); }

std::string describe(const PluginLibraryInfo& info) {
  return fmt::format("{} (plugin '{}' {})", info.path.string(), info.plugin_name, info.version);
}

std::shared_ptr<LoadedLibrary> open_library(const fs::path& file) {
  // The loader's messages for a file that is not a shared library are about ELF internals
  // ("file too short"), and it maps a truncated file's segments past its end (SIGBUS).
  check_elf_file(file);
  auto loaded = std::make_shared<LoadedLibrary>();
  boost::dll::fs::error_code error;
  // rtld_now: a symbol the plugin needs but nobody provides fails here, with its name,
  // rather than as a crash in the middle of a run.
  loaded->library.load(file, boost::dll::load_mode::rtld_now, error);
  if (error) {
    const char* why = ::dlerror();  // Boost.DLL's error code drops the loader's reason
    throw PluginError(why ? load_failure(file, demangle_undefined_symbols(one_line(why)))
                          : fmt::format("{}: cannot load: {}", file.string(), error.message()));
  }
  if (!loaded->library.has(kPluginEntry))
    throw PluginError(fmt::format("{} is not a kiln plugin: it has no '{}' symbol", file.string(),
                                  kPluginEntry));
  const PluginInfo* info = loaded->library.get<const PluginInfo*()>(kPluginEntry)();
  if (info == nullptr)
    throw PluginError(fmt::format("{} is not a kiln plugin: its '{}' returned null", file.string(),
                                  kPluginEntry));

  // Under another ABI the rest of the struct may mean something else: check this first.
  if (info->abi != KILN_SDK_ABI)
    rebuild(file, fmt::format("for kiln SDK ABI {}", info->abi),
            fmt::format("has ABI {}", KILN_SDK_ABI));
  const std::string torch_version = or_unknown(info->torch_version);
  if (torch_version != TORCH_VERSION)
    rebuild(file, fmt::format("for torch {}", torch_version), fmt::format("uses torch {}", TORCH_VERSION));
  if (info->cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    rebuild(file, fmt::format("with _GLIBCXX_USE_CXX11_ABI={}", info->cxx11_abi),
            fmt::format("uses _GLIBCXX_USE_CXX11_ABI={}", _GLIBCXX_USE_CXX11_ABI));

  loaded->info.path = file;
  loaded->info.abi = info->abi;
  loaded->info.torch_version = torch_version;
  loaded->info.plugin_name = or_unknown(info->name);
  loaded->info.version = or_unknown(info->version);
  loaded->info.torch_cuda = torch_cuda_of(loaded->library);
  if (info->register_plugin == nullptr)
    throw PluginError(fmt::format("{} has no register function", describe(loaded->info)));

  loaded->registry = std::make_unique<Registry>();
  try {
    info->register_plugin(*loaded->registry);
  } catch (const std::exception& e) {
    throw RegistrationError(fmt::format("{} failed to register its names: {}", describe(loaded->info), message_of(e)));
  } catch (...) {
    throw RegistrationError(fmt::format(
        "{} failed to register its names: it threw something that is not a std::exception", describe(loaded->info)));
  }
  for (const KindInfo& kind : kKinds) loaded->info.names[kind.kind] = loaded->registry->names(kind.kind);
  return loaded;
}

}  // namespace kiln::runner::detail
