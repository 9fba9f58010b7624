// Internal state shared by Config views and their Document (the toml++ side of the SDK).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "document.hpp"
#include "kiln/config.hpp"

namespace kiln::detail {

struct Document::State {
  toml::table root;
  std::string file;                   // display name of the document
  std::set<const toml::node*> read;   // nodes some reader asked for
  // Keys a reader asked a table for that it does not have (get_or, find, contains,
  // has_table, table_or_empty, tables): an optional key or table the reader knows but the
  // file omits is still a good "did you mean", and belongs in the "known keys" list.
  std::map<const toml::table*, std::set<std::string>> asked;
  // Nodes written by --set have no place in the file; they are reported at the assignment.
  std::map<const toml::node*, SourcePosition> assigned;
  std::mutex mutex;

  /// Where `node` was written: its --set assignment, or its place in the file.
  SourcePosition where(const toml::node& node) const;

  void mark(const toml::node* node) {
    std::lock_guard<std::mutex> lock(mutex);
    read.insert(node);
  }
  void mark_asked(const toml::table* table, std::string_view key) {
    std::lock_guard<std::mutex> lock(mutex);
    asked[table].emplace(key);
  }
  bool was_read(const toml::node* node) {
    std::lock_guard<std::mutex> lock(mutex);
    return read.count(node) != 0;
  }
};

SourcePosition position_of(const toml::source_region& region, const std::string& fallback_file);

/// How an element of an array of tables is addressed: its name, its plugin, or its index.
std::string element_label(const toml::table& element, std::size_t index);

/// One value being read, for its errors: the key, and the element's index when the value is
/// an element of the key's array. Errors are positioned at the value itself.
struct Site {
  const Config& config;
  std::string_view key;
  const toml::node& node;
  std::optional<std::size_t> index;

  /// A ConfigError at the value: "file:line:column: table.key[index]: message".
  [[noreturn]] void fail(const std::string& message) const;
  /// The same key's element `i`, whose node is `element`.
  Site element(std::size_t i, const toml::node& element) const { return {config, key, element, i}; }
};

}  // namespace kiln::detail

namespace kiln {

struct Config::Impl {
  std::shared_ptr<detail::Document::State> doc;  // null for an empty, source-less Config
  const toml::table* table = nullptr;
  std::string path;                              // dotted path of `table`
  SourcePosition where;                          // where `table` was written
};

}  // namespace kiln
