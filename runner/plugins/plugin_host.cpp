// PluginHost: the search path, building objects, and objects that keep their library loaded.
#include "plugins/plugin_host.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string_view>
#include <utility>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "document.hpp"
#include "kiln/kiln.hpp"
#include "plugins/handshake.hpp"
#include "plugins/sha256.hpp"

namespace kiln::runner {

namespace fs = std::filesystem;

namespace {

using detail::describe;
using detail::LoadedLibrary;
using detail::message_of;
using detail::open_library;

/// An object built by a plugin, owned together with a handle on the plugin's library.
/// The object is declared last so it dies first: its destructor is the library's code.
struct Holder {
  boost::dll::shared_library library;
  std::shared_ptr<void> object;  ///< the kind's interface
};

std::string located(const Config& config, const std::string& message) {
  const std::string at = config.where().str();
  return at.empty() ? message : fmt::format("{}: {}", at, message);
}

/// Nothing when `library` registers `name` as that kind, else a PluginError listing what it does register.
void check_registers(const LoadedLibrary& library, Kind kind, const std::string& name) {
  if (library.registry->contains(kind, name)) return;
  std::string message = fmt::format("{} has no {} '{}'", describe(library.info), kind_name(kind), name);
  const std::vector<std::string>& names = library.info.names.at(kind);
  if (names.empty()) {
    message += fmt::format(" (it registers no {})", kind_info(kind).plural);
  } else {
    message += kiln::detail::did_you_mean(name, names);
    message += fmt::format(" ({}: {})", kind_info(kind).plural, fmt::join(names, ", "));
  }
  throw PluginError(message);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The file names a `library = "X"` value stands for, in the order they are tried.
std::vector<std::string> library_file_names(const std::string& library) {
  if (library.size() > 3 && ends_with(library, ".so")) return {library};
  return {"lib" + library + ".so", library + ".so"};
}

bool is_plugin_file_name(const std::string& name) {
  return name.size() > 6 && name.rfind("lib", 0) == 0 && ends_with(name, ".so");
}

/// What a `library = "X"` value is called without "lib" and ".so": "libsine.so" -> "sine".
std::string bare_library_name(std::string name) {
  if (ends_with(name, ".so")) name.resize(name.size() - 3);
  if (name.rfind("lib", 0) == 0 && name.size() > 3) name.erase(0, 3);
  return name;
}

/// The plugin library files (lib*.so) directly in `folder`, sorted; none when it cannot be listed.
std::vector<fs::path> plugin_files_in(const fs::path& folder) {
  std::error_code error;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    std::error_code file_error;
    if (is_plugin_file_name(it->path().filename().string()) && it->is_regular_file(file_error))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Why a search-path entry cannot hold libraries, as a note after it; "" for a folder.
std::string folder_note(const fs::path& folder) {
  std::error_code error;
  const fs::file_status status = fs::status(folder, error);
  switch (status.type()) {
    case fs::file_type::directory: return "";
    case fs::file_type::not_found: return " (missing)";
    case fs::file_type::none:
    case fs::file_type::unknown: return fmt::format(" ({})", error.message());
    default: break;
  }
  // [plugins] paths = ["build/libsine.so"]: the folder is meant, or library = "...".
  if (ends_with(folder.filename().string(), ".so"))
    return fmt::format(" (a file, not a folder: give its folder, or name the file with library = \"{}\")",
                       folder.string());
  return " (a file, not a folder)";
}

/// " (found 2 libraries: <listed>)", or " (found no plugin library there)".
std::string found_clause(std::size_t count, const std::string& listed) {
  if (count == 0) return " (found no plugin library there)";
  return fmt::format(" (found {} {}: {})", count, count == 1 ? "library" : "libraries", listed);
}

/// "[libsine.so registers hooks: none; models: sine_net]": what one library offers, the
/// kind asked for first, so that a name it forgot to register is plain to see.
std::string registrations(const PluginLibraryInfo& info, Kind asked) {
  std::vector<std::string> parts;
  const std::vector<std::string>& own = info.names.at(asked);
  parts.push_back(fmt::format("{}: {}", kind_info(asked).plural,
                              own.empty() ? "none" : fmt::format("{}", fmt::join(own, ", "))));
  for (const KindInfo& kind : kKinds) {
    const std::vector<std::string>& names = info.names.at(kind.kind);
    if (kind.kind != asked && !names.empty())
      parts.push_back(fmt::format("{}: {}", kind.plural, fmt::join(names, ", ")));
  }
  return fmt::format("[{} registers {}]", info.path.filename().string(), fmt::join(parts, "; "));
}

void add_folder(std::vector<fs::path>& folders, fs::path folder) {
  if (folder.empty()) return;
  folder = folder.lexically_normal();
  if (!folder.has_filename() && folder.has_relative_path()) folder = folder.parent_path();  // "a/b/"
  if (std::find(folders.begin(), folders.end(), folder) == folders.end()) folders.push_back(std::move(folder));
}

}  // namespace

PluginHost::PluginHost(std::vector<fs::path> experiment_paths, fs::path default_dir) {
  for (fs::path& folder : experiment_paths) add_folder(search_path_, std::move(folder));
  if (const char* env = std::getenv("KILN_PLUGIN_PATH")) {
    std::istringstream folders{std::string(env)};
    std::string folder;
    while (std::getline(folders, folder, ':'))
      if (!folder.empty()) add_folder(search_path_, fs::absolute(folder));
  }
  add_folder(search_path_, std::move(default_dir));
}

PluginHost::~PluginHost() = default;

std::shared_ptr<void> PluginHost::make(Kind kind, const std::string& name, const std::string& library,
                                       const Config& config) {
  std::shared_ptr<LoadedLibrary> provider;
  try {
    provider = find_provider(kind, name, library);
    check_registers(*provider, kind, name);
  } catch (const PluginError& e) {
    throw PluginError(located(config, e.what()));
  }

  const auto failed = [&](const std::string& why) {
    return PluginError(located(config, fmt::format("plugin '{}' failed to build {} '{}': {}",
                                                   provider->info.plugin_name, kind_name(kind), name, why)));
  };
  std::shared_ptr<void> object;
  try {
    object = provider->registry->build(kind, name, config);
  } catch (const ConfigError&) {
    throw;  // already says where in the experiment the bad value is
  } catch (const std::exception& e) {
    throw failed(message_of(e));
  } catch (...) {
    throw failed("it threw something that is not a std::exception");
  }
  if (!object) throw failed("its factory returned null");

  record(kind, name, *provider);
  auto holder = std::make_shared<Holder>(Holder{provider->library, std::move(object)});
  return std::shared_ptr<void>(holder, holder->object.get());
}

std::shared_ptr<LoadedLibrary> PluginHost::find_provider(Kind kind, const std::string& name,
                                                         const std::string& library) {
  if (library.find('/') != std::string::npos) {
    const fs::path file = fs::absolute(library);
    std::error_code error;
    if (!fs::is_regular_file(file, error))
      throw PluginError(fmt::format("plugin library '{}' not found", library));
    return load(file);
  }
  if (!library.empty()) {
    const std::vector<std::string> file_names = library_file_names(library);
    if (auto file = find_file(file_names)) return load(*file);
    throw PluginError(fmt::format("plugin library '{}' not found (searched: {}){}", file_names.front(), searched(),
                                  libraries_found_hint(library)));
  }
  if (auto file = find_file({"lib" + name + ".so"})) return load(*file);
  return scan_for(kind, name);
}

std::shared_ptr<LoadedLibrary> PluginHost::scan_for(Kind kind, const std::string& name) {
  std::vector<std::string> known, found, skipped, unregistered;
  for (const fs::path& file : all_libraries()) {
    std::shared_ptr<LoadedLibrary> library;
    try {
      library = load(file);
    } catch (const PluginError& e) {
      // A library that failed while registering its names (one registered twice) may be the
      // one meant to provide `name`: that is the error to report, before what was searched.
      if (registration_failures_.count(file)) unregistered.push_back(e.what());
      else skipped.push_back(fmt::format("[{}]", e.what()));
      continue;
    }
    const std::vector<std::string>& names = library->info.names.at(kind);
    if (std::binary_search(names.begin(), names.end(), name)) return library;
    known.insert(known.end(), names.begin(), names.end());
    found.push_back(registrations(library->info, kind));
  }

  std::string message =
      unregistered.empty()
          ? fmt::format("no plugin library provides {} '{}' (searched: {})", kind_name(kind), name, searched())
          : fmt::format("{}; no other plugin library provides {} '{}' (searched: {})", fmt::join(unregistered, "; "),
                        kind_name(kind), name, searched());
  // A library that failed to register its names is the likely provider: no other name is suggested.
  if (unregistered.empty()) message += kiln::detail::did_you_mean(name, known);
  // What each library does register: a name its author forgot to register shows here.
  if (!found.empty() || skipped.empty()) message += found_clause(found.size(), fmt::format("{}", fmt::join(found, " ")));
  // The name may be in a library that failed its handshake: say which ones were skipped.
  if (!skipped.empty())
    message += fmt::format(" (skipped {} unusable {}: {})", skipped.size(),
                           skipped.size() == 1 ? "library" : "libraries", fmt::join(skipped, " "));
  throw PluginError(message);
}

std::shared_ptr<LoadedLibrary> PluginHost::load(const fs::path& file) {
  std::error_code error;
  const fs::path canonical = fs::canonical(file, error);
  if (error) throw PluginError(fmt::format("{}: {}", file.string(), error.message()));
  if (auto it = loaded_.find(canonical); it != loaded_.end()) return it->second;
  if (auto it = failures_.find(canonical); it != failures_.end()) throw PluginError(it->second);
  try {
    return loaded_[canonical] = open_library(canonical);
  } catch (const PluginError& e) {
    failures_[canonical] = e.what();
    if (dynamic_cast<const detail::RegistrationError*>(&e)) registration_failures_.insert(canonical);
    throw;
  }
}

std::optional<fs::path> PluginHost::find_file(const std::vector<std::string>& file_names) const {
  for (const fs::path& folder : search_path_) {
    for (const std::string& file_name : file_names) {
      std::error_code error;
      if (fs::is_regular_file(folder / file_name, error)) return folder / file_name;
    }
  }
  return std::nullopt;
}

std::optional<fs::path> PluginHost::find_library(const std::string& library) const {
  return find_file(library_file_names(library));
}

std::vector<fs::path> PluginHost::all_libraries() const {
  std::vector<fs::path> libraries;
  for (const fs::path& folder : search_path_) {
    std::vector<fs::path> in_folder;
    for (const fs::path& file : plugin_files_in(folder)) {
      std::error_code error;
      fs::path library = fs::canonical(file, error);
      if (!error) in_folder.push_back(std::move(library));
    }
    std::sort(in_folder.begin(), in_folder.end());
    for (fs::path& library : in_folder)
      if (std::find(libraries.begin(), libraries.end(), library) == libraries.end())
        libraries.push_back(std::move(library));
  }
  return libraries;
}

std::string PluginHost::searched() const {
  std::vector<std::string> folders;
  for (const fs::path& folder : search_path_) folders.push_back(folder.string() + folder_note(folder));
  return folders.empty() ? "nowhere: the search path is empty" : fmt::format("{}", fmt::join(folders, ", "));
}

std::string PluginHost::libraries_found_hint(const std::string& library) const {
  std::vector<std::string> names;
  for (const fs::path& folder : search_path_)
    for (const fs::path& file : plugin_files_in(folder)) names.push_back(bare_library_name(file.filename().string()));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::string hint = kiln::detail::did_you_mean(bare_library_name(library), names);
  // Names only, and only the first few: a system-wide plugin folder may hold many.
  constexpr std::size_t kListed = 10;
  std::string listed = fmt::format("{}", fmt::join(names.begin(), names.begin() + std::min(names.size(), kListed), ", "));
  if (names.size() > kListed) listed += fmt::format(", and {} more", names.size() - kListed);
  return hint + found_clause(names.size(), listed);
}

void PluginHost::record(Kind kind, const std::string& name, LoadedLibrary& library) {
  const std::string path = library.info.path.string();
  for (const PluginRecord& known : records_)
    if (known.kind == kind_name(kind) && known.name == name && known.path == path) return;
  if (library.sha256.empty()) library.sha256 = sha256_file(library.info.path);
  records_.push_back(PluginRecord{kind_name(kind), name, library.info.plugin_name, path, library.sha256,
                                  library.info.version, static_cast<int>(library.info.abi)});
}

std::vector<PluginHost::LibraryInfo> PluginHost::scan() {
  std::vector<LibraryInfo> libraries;
  for (Found& found : list())
    if (found.error.empty()) libraries.push_back(std::move(found.info));
  return libraries;
}

std::vector<PluginHost::Found> PluginHost::list() {
  std::vector<Found> found;
  for (const fs::path& file : all_libraries()) {
    Found entry;
    entry.info.path = file;
    try {
      entry.info = load(file)->info;
    } catch (const PluginError& e) {
      entry.error = e.what();  // also remembered in failures_
    }
    found.push_back(std::move(entry));
  }
  return found;
}

PluginHost::LibraryInfo PluginHost::inspect(const fs::path& library) { return open_library(library)->info; }

}  // namespace kiln::runner
