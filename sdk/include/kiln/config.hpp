// kiln::Config: a read-only, typed view of one TOML table of an experiment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

/// Which ends of a range belong to it, for Config::get_in_range.
enum class Bounds {
  closed,       ///< [lo, hi]
  open,         ///< (lo, hi)
  closed_open,  ///< [lo, hi): a probability that must stay below 1, a decay
  open_closed,  ///< (lo, hi]
};

namespace detail {
/// The type of one checked value: T itself, or the element type of std::vector<T>.
template <class T>
struct Element {
  using type = T;
};
template <class T>
struct Element<std::vector<T>> {
  using type = T;
};
template <class T>
using element_t = typename Element<T>::type;
}  // namespace detail

/// One table of an experiment file, as a plugin or the runner sees it. Reads are typed;
/// every error is a ConfigError whose message starts with the file, line and column of
/// the offending value and, for a missing key, lists the keys the table does have.
///
/// \code
///   Mlp(const kiln::Config& config)
///       : inputs_(config.get<std::int64_t>("inputs")),
///         hidden_(config.get_or<std::vector<std::int64_t>>("hidden", {64, 64})) {}
/// \endcode
///
/// Supported types: bool, int, std::int64_t, double, float, std::string and std::vector of
/// std::int64_t, double or std::string. An integer is accepted where a float is asked for.
/// Every double and float read, array elements included, must be finite: nan, inf and -inf
/// are ConfigErrors ("model.lr: must be a finite number, got nan"). An array may hold at
/// most kMaxArrayLength elements.
///
/// Values with a valid range are read through the checked lookups, which say what is valid
/// when a value is not, at the value's position (an array's elements one by one):
///
/// \code
///   const auto size = config.get_positive<std::int64_t>("size", 512);          // > 0
///   const auto noise = config.get_non_negative<double>("noise", 0.05);         // >= 0
///   const auto dropout = config.get_in_range<double>("dropout", 0.5, 0.0, 1.0,
///                                                    kiln::Bounds::closed_open); // [0, 1)
///   const auto widths = config.get_positive<std::vector<std::int64_t>>("hidden", {64, 64});
///   const auto mode = config.get_choice("mode", "bce", {"bce", "lsgan"});
/// \endcode
///
///   exp.toml:7:11: model.dropout: must be in [0, 1), got 1.5
///   exp.toml:8:15: model.hidden[1]: must be greater than 0, got 0
///   exp.toml:9:8: model.mode: expected "bce" or "lsgan", got "lsgn"; did you mean "lsgan"?
///
/// Each takes the key alone for a required key, or the key and a fallback for an optional
/// one; the fallback is returned as given, unchecked.
///
/// Keys nobody reads are errors: after a plugin is built from its table, the runner
/// reports every key that neither it nor the plugin read, with a "did you mean".
class KILN_API Config {
 public:
  struct Impl;

  Config();  ///< an empty table with no source
  explicit Config(std::shared_ptr<Impl> impl);
  ~Config();
  Config(const Config&);
  Config& operator=(const Config&);

  template <class T>
  T get(std::string_view key) const;

  template <class T>
  T get_or(std::string_view key, T fallback) const;

  template <class T>
  std::optional<T> find(std::string_view key) const;

  /// The most elements an array may hold; a longer one is an error at the array.
  static constexpr std::size_t kMaxArrayLength = 65536;

  /// A number greater than 0 ("must be greater than 0, got 0"). T is int, std::int64_t,
  /// double or float, or a std::vector of std::int64_t or double whose every element is checked.
  template <class T>
  T get_positive(std::string_view key) const;
  template <class T>
  T get_positive(std::string_view key, T fallback) const;

  /// A number of 0 or more ("must be 0 or more, got -1"); T as for get_positive.
  template <class T>
  T get_non_negative(std::string_view key) const;
  template <class T>
  T get_non_negative(std::string_view key, T fallback) const;

  /// A number from lo to hi, each end in or out of the range as `bounds` says: "must be
  /// between 16 and 4096, got 8" for Bounds::closed, "must be in [0, 1), got 1" otherwise.
  /// T as for get_positive; lo and hi are of its element type.
  template <class T>
  T get_in_range(std::string_view key, detail::element_t<T> lo, detail::element_t<T> hi,
                 Bounds bounds = Bounds::closed) const;
  template <class T>
  T get_in_range(std::string_view key, T fallback, detail::element_t<T> lo, detail::element_t<T> hi,
                 Bounds bounds = Bounds::closed) const;

  /// One string of `choices`; another is an error listing them, with a "did you mean" when
  /// one is close: `expected "stop" or "skip", got "stpo"; did you mean "stop"?`.
  std::string get_choice(std::string_view key, const std::vector<std::string>& choices) const;
  std::string get_choice(std::string_view key, const std::string& fallback,
                         const std::vector<std::string>& choices) const;

  bool contains(std::string_view key) const;
  /// True when `key` holds a table (`[a.b]` or `b = { ... }`).
  bool has_table(std::string_view key) const;

  /// A nested table; a ConfigError if it is missing or not a table.
  Config table(std::string_view key) const;
  /// A nested table, or an empty one at this table's position when the key is absent.
  Config table_or_empty(std::string_view key) const;
  /// An array of tables ([[losses]]); empty when the key is absent.
  std::vector<Config> tables(std::string_view key) const;

  /// Keys present in this table, sorted.
  std::vector<std::string> keys() const;

  /// The dotted path of this table in its document ("optimizers[1]"), for messages.
  const std::string& path() const;
  /// Where this table, or one of its keys, was written.
  SourcePosition where() const;
  SourcePosition where(std::string_view key) const;

  /// A ConfigError at `key` (or at the table when `key` is empty) with this table's path.
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

  /// Keys of this table (and nested tables) that were never read, as dotted paths.
  std::vector<std::string> unread_keys() const;
  /// Throws a ConfigError for the first unread key, with a "did you mean" among the keys
  /// that were read. `owner` says whose table it is ("plugin 'mlp'").
  void reject_unread(std::string_view owner) const;

  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

#define KILN_CONFIG_EXTERN(T)                                               \
  extern template T Config::get<T>(std::string_view) const;                \
  extern template T Config::get_or<T>(std::string_view, T) const;          \
  extern template std::optional<T> Config::find<T>(std::string_view) const;
KILN_CONFIG_EXTERN(bool)
KILN_CONFIG_EXTERN(int)
KILN_CONFIG_EXTERN(std::int64_t)
KILN_CONFIG_EXTERN(double)
KILN_CONFIG_EXTERN(float)
KILN_CONFIG_EXTERN(std::string)
KILN_CONFIG_EXTERN(std::vector<std::int64_t>)
KILN_CONFIG_EXTERN(std::vector<double>)
KILN_CONFIG_EXTERN(std::vector<std::string>)
#undef KILN_CONFIG_EXTERN

#define KILN_CONFIG_CHECKED_EXTERN(T)                                                                       \
  extern template T Config::get_positive<T>(std::string_view) const;                                      \
  extern template T Config::get_positive<T>(std::string_view, T) const;                                   \
  extern template T Config::get_non_negative<T>(std::string_view) const;                                  \
  extern template T Config::get_non_negative<T>(std::string_view, T) const;                               \
  extern template T Config::get_in_range<T>(std::string_view, detail::element_t<T>, detail::element_t<T>, \
                                            Bounds) const;                                                \
  extern template T Config::get_in_range<T>(std::string_view, T, detail::element_t<T>, detail::element_t<T>, \
                                            Bounds) const;
KILN_CONFIG_CHECKED_EXTERN(int)
KILN_CONFIG_CHECKED_EXTERN(std::int64_t)
KILN_CONFIG_CHECKED_EXTERN(double)
KILN_CONFIG_CHECKED_EXTERN(float)
KILN_CONFIG_CHECKED_EXTERN(std::vector<std::int64_t>)
KILN_CONFIG_CHECKED_EXTERN(std::vector<double>)
#undef KILN_CONFIG_CHECKED_EXTERN

}  // namespace kiln
