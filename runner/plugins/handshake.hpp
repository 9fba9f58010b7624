// Opening one plugin library: the loader's refusal, the handshake checked field by field.
#pragma once

#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

// Boost.DLL on std::filesystem paths: kiln::plugins defines this for itself and whoever links
// it. Without it Boost.DLL's paths are boost::filesystem's, which kiln neither passes nor links.
#ifndef BOOST_DLL_USE_STD_FS
#error "BOOST_DLL_USE_STD_FS is not defined: link kiln::plugins (runner/plugins/CMakeLists.txt)"
#endif
#include <boost/dll/shared_library.hpp>

#include "kiln/registry.hpp"
#include "plugins/library_info.hpp"

namespace kiln::runner {

namespace detail {

/// A library that passed the handshake, and the registry its register function filled.
/// Members die in reverse order: the registry, whose std::functions are the library's
/// code, is destroyed before the library is closed.
struct LoadedLibrary {
  boost::dll::shared_library library;
  PluginLibraryInfo info;
  std::unique_ptr<Registry> registry;
  std::string sha256;  // of the file, computed when the first object is built from it
};

/// A library whose register function threw (a name registered twice, a bad registration):
/// its names past the failure are unknown, so a search for a name it may hold says this first.
class RegistrationError : public PluginError {
 public:
  using PluginError::PluginError;
};

/// Loads `file` and checks it, each failure one PluginError naming the file and saying what
/// is wrong: not a shared library this kiln can map (check_elf_file: no ELF header, cut
/// short, another machine); a library it needs is missing or lacks a symbol (the
/// loader's words, C++ symbols demangled); no kiln handshake symbol; another
/// SDK ABI (checked before anything else in the handshake is read), torch version or
/// libstdc++ string ABI, naming both sides' values; a register function that throws (a
/// RegistrationError).
std::shared_ptr<LoadedLibrary> open_library(const std::filesystem::path& file);

/// The loader's message with each C++ symbol after "undefined symbol: " shown demangled, the
/// mangled name after it for `nm`; other symbols and the rest of the text are left as they are:
///   "libx.so: undefined symbol: _ZN1x3addERN4kiln8RegistryE"
///   -> "libx.so: undefined symbol: x::add(kiln::Registry&) (_ZN1x3addERN4kiln8RegistryE)"
std::string demangle_undefined_symbols(std::string_view loader_message);

/// `text` on one line: lines trimmed and joined with spaces (the CLI prints one error line).
std::string one_line(std::string_view text);

/// An exception's message on one line; a torch error without its backtrace.
std::string message_of(const std::exception& error);

/// "/path/libx.so (plugin 'x' 1.2.3)"
std::string describe(const PluginLibraryInfo& info);

}  // namespace detail
}  // namespace kiln::runner
