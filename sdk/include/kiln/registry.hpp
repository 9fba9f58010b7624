// kiln::Registry: the names a plugin library offers, and how to build each.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/config.hpp"

namespace kiln {

class Model;
class Loss;
class Dataset;
class Hook;

enum class Kind { model, loss, dataset, hook };

/// "model", "loss", "dataset" or "hook".
KILN_API const char* kind_name(Kind kind);

/// What a plugin's register function fills. Each name is built from its TOML table:
/// \code
///   KILN_PLUGIN("mlp", "1.0.0") {
///     registry.add_model<Mlp>("mlp");  // Mlp(const kiln::Config&)
///   }
/// \endcode
/// A name may be registered once per kind: a second add of the same kind and name throws
/// a PluginError, and the host refuses the library, naming it and the name.
class KILN_API Registry {
 public:
  template <class T>
  using Factory = std::function<std::shared_ptr<T>(const Config&)>;

  void add(std::string name, Factory<Model> factory);
  void add(std::string name, Factory<Loss> factory);
  void add(std::string name, Factory<Dataset> factory);
  void add(std::string name, Factory<Hook> factory);

  template <class T>
  void add_model(std::string name) { add(std::move(name), make<Model, T>()); }
  template <class T>
  void add_loss(std::string name) { add(std::move(name), make<Loss, T>()); }
  template <class T>
  void add_dataset(std::string name) { add(std::move(name), make<Dataset, T>()); }
  template <class T>
  void add_hook(std::string name) { add(std::move(name), make<Hook, T>()); }

  const std::map<std::string, Factory<Model>>& models() const { return models_; }
  const std::map<std::string, Factory<Loss>>& losses() const { return losses_; }
  const std::map<std::string, Factory<Dataset>>& datasets() const { return datasets_; }
  const std::map<std::string, Factory<Hook>>& hooks() const { return hooks_; }

  /// Registered names of one kind, sorted.
  std::vector<std::string> names(Kind kind) const;

 private:
  template <class Base, class T>
  static Factory<Base> make() {
    return [](const Config& config) -> std::shared_ptr<Base> { return std::make_shared<T>(config); };
  }

  std::map<std::string, Factory<Model>> models_;
  std::map<std::string, Factory<Loss>> losses_;
  std::map<std::string, Factory<Dataset>> datasets_;
  std::map<std::string, Factory<Hook>> hooks_;
};

}  // namespace kiln
