// kiln::Config: a read-only, typed view of one TOML table of an experiment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

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

}  // namespace kiln
