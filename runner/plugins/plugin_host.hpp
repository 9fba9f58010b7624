// kiln::runner::PluginHost: finds plugin libraries, checks their handshake, builds objects from them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiln/config.hpp"
#include "kiln/registry.hpp"
#include "plugins/library_info.hpp"
#include "plugins/plugin_record.hpp"

namespace kiln::runner {

namespace detail {
struct LoadedLibrary;
}

/// Loads plugin libraries on demand and builds objects of every plugin kind (kiln::kKinds)
/// from them. Every object it returns keeps its library loaded, also after the host is gone:
/// \code
///   PluginHost host({experiment_dir / "plugins"}, KILN_PLUGIN_DIR);
///   auto model = host.make<kiln::Model>("mlp", /*library=*/"", spec.table("model"));
/// \endcode
/// Every failure is a one-line kiln::PluginError; when the object was asked for from a
/// table, the message starts with that table's position. Not thread-safe.
class PluginHost {
 public:
  using LibraryInfo = PluginLibraryInfo;

  /// A library found on the search path: what it says about itself, or why it is unusable.
  struct Found {
    LibraryInfo info;   ///< only `path` when `error` is set
    std::string error;  ///< the PluginError that refused it; empty for a usable library
  };

  /// Search order: `experiment_paths` (already absolute), then each folder in
  /// $KILN_PLUGIN_PATH (colon-separated), then `default_dir` (the build's plugin folder).
  PluginHost(std::vector<std::filesystem::path> experiment_paths, std::filesystem::path default_dir);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }

  /// Builds the T named `name` from `config`, T being a kind's interface (kiln::kKinds):
  /// `host.make<Model>("mlp", "", table)`. The library is `library` when it is not empty (a
  /// bare name X is libX.so or X.so in the search path; a value with a '/' is a path),
  /// otherwise lib<name>.so in the search path; when there is no such file, the first
  /// library in the search path that registers the name.
  /// A ConfigError from the plugin's constructor propagates unchanged.
  template <class T>
  std::shared_ptr<T> make(const std::string& name, const std::string& library, const kiln::Config& config) {
    return std::static_pointer_cast<T>(make(kiln::kind_of<T>, name, library, config));
  }
  /// The same for a kind known at run time: a pointer to the kind's interface.
  std::shared_ptr<void> make(kiln::Kind kind, const std::string& name, const std::string& library,
                             const kiln::Config& config);

  /// make<Model>, make<Loss>, make<Dataset> and make<Hook>.
  std::shared_ptr<kiln::Model> make_model(const std::string& name, const std::string& library,
                                          const kiln::Config& config) {
    return make<kiln::Model>(name, library, config);
  }
  std::shared_ptr<kiln::Loss> make_loss(const std::string& name, const std::string& library,
                                        const kiln::Config& config) {
    return make<kiln::Loss>(name, library, config);
  }
  std::shared_ptr<kiln::Dataset> make_dataset(const std::string& name, const std::string& library,
                                              const kiln::Config& config) {
    return make<kiln::Dataset>(name, library, config);
  }
  std::shared_ptr<kiln::Hook> make_hook(const std::string& name, const std::string& library,
                                        const kiln::Config& config) {
    return make<kiln::Hook>(name, library, config);
  }

  /// One record per kind+name+library built so far, in the order first built.
  std::vector<PluginRecord> records() const { return records_; }

  /// Every loadable plugin library in the search path, in search order; the others are
  /// left out and listed by failures().
  std::vector<LibraryInfo> scan();
  /// Every plugin library file (lib*.so) in the search path, in search order, loadable or
  /// not: `kiln plugins`. A folder's files are sorted; a file seen twice is listed once.
  std::vector<Found> list();
  /// Libraries this host could not load or trust, by canonical path, with the reason.
  const std::map<std::filesystem::path, std::string>& failures() const { return failures_; }

  /// The file a `library = "X"` value names in the search path (libX.so or X.so; X itself
  /// when it ends in .so), or nullopt.
  std::optional<std::filesystem::path> find_library(const std::string& library) const;
  /// The folders searched, comma-separated, for messages; one that is missing or is a file
  /// is marked so ("/x/plugins (missing)").
  std::string searched() const;

  /// Loads and checks one library, then unloads it; a PluginError saying exactly what is
  /// wrong when it is not a usable kiln plugin.
  static LibraryInfo inspect(const std::filesystem::path& library);

 private:
  std::shared_ptr<detail::LoadedLibrary> find_provider(kiln::Kind kind, const std::string& name,
                                                       const std::string& library);
  std::shared_ptr<detail::LoadedLibrary> scan_for(kiln::Kind kind, const std::string& name);
  std::shared_ptr<detail::LoadedLibrary> load(const std::filesystem::path& file);
  std::optional<std::filesystem::path> find_file(const std::vector<std::string>& file_names) const;
  std::vector<std::filesystem::path> all_libraries() const;
  /// After "library 'X' not found": a "did you mean" among the libraries on the search
  /// path, and their names (the first few when there are many).
  std::string libraries_found_hint(const std::string& library) const;
  void record(kiln::Kind kind, const std::string& name, detail::LoadedLibrary& library);

  std::vector<std::filesystem::path> search_path_;
  std::map<std::filesystem::path, std::shared_ptr<detail::LoadedLibrary>> loaded_;
  std::map<std::filesystem::path, std::string> failures_;
  /// Of failures_, the libraries whose register function threw (a name registered twice).
  std::set<std::filesystem::path> registration_failures_;
  std::vector<PluginRecord> records_;
};

}  // namespace kiln::runner
