// kiln::Registry: the names a plugin library offers, and how to build each; the plugin kinds.
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kiln/config.hpp"

namespace kiln {

class Model;
class Loss;
class Dataset;
class Hook;
class LearningRateSchedule;

namespace detail {
template <class... Interfaces>
struct InterfaceList {};
}  // namespace detail

// The plugin kinds, listed once. A new kind is one entry in each of the three below, in the
// same order (and its interface): registering, looking up, building, `kiln plugins` and
// every message follow from them.

/// What a plugin object is.
enum class Kind { model, loss, dataset, hook, schedule };

/// How kiln words a kind.
struct KindInfo {
  Kind kind;
  const char* name;    ///< "model", as in "model 'mlp' is registered twice"
  const char* plural;  ///< "models", as in "(models: mlp, pix2pix)"
};

/// Every kind, in the order kiln lists them.
inline constexpr KindInfo kKinds[] = {
    {Kind::model, "model", "models"},
    {Kind::loss, "loss", "losses"},
    {Kind::dataset, "dataset", "datasets"},
    {Kind::hook, "hook", "hooks"},
    {Kind::schedule, "schedule", "schedules"},
};

/// The interface each kind's objects implement, in kKinds' order.
using KindInterfaces = detail::InterfaceList<Model, Loss, Dataset, Hook, LearningRateSchedule>;

namespace detail {

constexpr bool kinds_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kKinds); ++i)
    if (kKinds[i].kind != static_cast<Kind>(i)) return false;
  return true;
}
static_assert(kinds_in_enum_order(), "kKinds must list the kinds in the order of enum Kind");

constexpr std::size_t kNoInterface = static_cast<std::size_t>(-1);

/// The index of the one true value in `matches`, kNoInterface when there is none.
template <std::size_t N>
constexpr std::size_t only_match(const bool (&matches)[N]) {
  std::size_t found = kNoInterface, count = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (matches[i]) found = i, ++count;
  return count == 1 ? found : kNoInterface;
}

/// The index in KindInterfaces of the interface T is, or else derives from.
template <class T, class... Interfaces>
constexpr std::size_t interface_index(InterfaceList<Interfaces...>) {
  static_assert(sizeof...(Interfaces) == std::size(kKinds), "KindInterfaces must name one interface per kind");
  constexpr bool same[] = {std::is_same_v<T, Interfaces>...};
  if constexpr (only_match(same) != kNoInterface) {
    return only_match(same);
  } else {
    // Only now: is_base_of needs T complete, and an interface may be only declared.
    constexpr bool derived[] = {std::is_base_of_v<Interfaces, T>...};
    static_assert(only_match(derived) != kNoInterface,
                  "a plugin class must implement exactly one of kiln::Model, Loss, Dataset, Hook, LearningRateSchedule");
    return only_match(derived);
  }
}

template <std::size_t I, class List>
struct InterfaceAt;
template <std::size_t I, class... Interfaces>
struct InterfaceAt<I, InterfaceList<Interfaces...>> {
  using type = std::tuple_element_t<I, std::tuple<Interfaces...>>;
};

}  // namespace detail

/// The words of `kind`; an Error for a value that is not one of kKinds.
constexpr const KindInfo& kind_info(Kind kind) {
  const auto index = static_cast<std::size_t>(kind);
  if (index >= std::size(kKinds)) throw Error("not a plugin kind: " + std::to_string(index));
  return kKinds[index];
}

/// The kind of object T is, T being a kind's interface or a class implementing one:
/// `kind_of<Mlp> == Kind::model`.
template <class T>
inline constexpr Kind kind_of = kKinds[detail::interface_index<T>(KindInterfaces{})].kind;

/// The kind's interface T is or implements: `interface_of<Mlp>` is Model.
template <class T>
using interface_of = typename detail::InterfaceAt<detail::interface_index<T>(KindInterfaces{}), KindInterfaces>::type;

/// "model", "loss", "dataset", "hook" or "schedule": kind_info(kind).name.
KILN_API const char* kind_name(Kind kind);

/// What a plugin's register function fills. Each name is built from its TOML table:
/// \code
///   KILN_PLUGIN("mlp", "1.0.0") {
///     registry.add<Mlp>("mlp");  // Mlp(const kiln::Config&), a kiln::Model
///   }
/// \endcode
/// A name may be registered once per kind: a second add of the same kind and name throws
/// a PluginError, and the host refuses the library, naming it and the name.
class KILN_API Registry {
 public:
  template <class T>
  using Factory = std::function<std::shared_ptr<T>(const Config&)>;

  /// Registers class T, built as T(config), under `name`, as the kind of the interface it
  /// implements.
  template <class T>
  void add(std::string name) {
    add(std::move(name), [](const Config& config) { return std::make_shared<T>(config); });
  }

  /// Registers a factory under `name`: a function of the table's Config returning a
  /// std::shared_ptr to an object of one kind (its kind is the one its type implements).
  /// \code
  ///   registry.add("mlp", [](const kiln::Config& config) { return std::make_shared<Mlp>(config, 4); });
  /// \endcode
  template <class F>
  void add(std::string name, F factory) {
    using Interface = interface_of<typename std::invoke_result_t<F&, const Config&>::element_type>;
    add_factory(kind_of<Interface>, std::move(name),
                [factory = std::move(factory)](const Config& config) -> std::shared_ptr<void> {
                  return std::shared_ptr<Interface>(factory(config));
                });
  }

  /// The same as add<T>(name), for T of each kind.
  template <class T>
  void add_model(std::string name) { add<T>(std::move(name)); }
  template <class T>
  void add_loss(std::string name) { add<T>(std::move(name)); }
  template <class T>
  void add_dataset(std::string name) { add<T>(std::move(name)); }
  template <class T>
  void add_hook(std::string name) { add<T>(std::move(name)); }
  template <class T>
  void add_schedule(std::string name) { add<T>(std::move(name)); }

  /// Registered names of one kind, sorted.
  std::vector<std::string> names(Kind kind) const;
  /// Whether `name` is registered as that kind.
  bool contains(Kind kind, const std::string& name) const;

  /// Builds the T registered as `name` (T a kind's interface) with its factory; a PluginError
  /// when there is none. What the factory throws propagates.
  template <class T>
  std::shared_ptr<T> build(const std::string& name, const Config& config) const {
    return std::static_pointer_cast<T>(build(kind_of<T>, name, config));
  }
  /// The same for a kind known at run time: a pointer to the kind's interface.
  std::shared_ptr<void> build(Kind kind, const std::string& name, const Config& config) const;

 private:
  /// Builds one object; it points to the kind's interface.
  using AnyFactory = std::function<std::shared_ptr<void>(const Config&)>;

  void add_factory(Kind kind, std::string name, AnyFactory factory);

  std::map<Kind, std::map<std::string, AnyFactory>> factories_;
};

}  // namespace kiln
