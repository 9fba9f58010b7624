// kiln::Config: typed reads with positions, unread-key detection and "did you mean".
#include "kiln/config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "config_state.hpp"

namespace kiln {

namespace detail {

void Site::fail(const std::string& message) const {
  if (!index) config.fail(key, message);
  const std::string item = fmt::format("{}[{}]", key, *index);
  const Config::Impl& impl = config.impl();
  throw ConfigError(impl.doc ? impl.doc->where(node) : config.where(key),
                    fmt::format("{}: {}", impl.path.empty() ? item : impl.path + "." + item, message));
}

}  // namespace detail

namespace {

using detail::Document;
using detail::Site;

const toml::table& empty_table() {
  static const toml::table table;
  return table;
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

[[noreturn]] void wrong_type(const Site& site, std::string_view expected) {
  site.fail(fmt::format("expected {}, got {}", expected, type_name(site.node)));
}

template <class T>
struct Reader;

template <>
struct Reader<bool> {
  static bool read(const Site& site) {
    if (auto v = site.node.as_boolean()) return v->get();
    wrong_type(site, "a boolean (true or false)");
  }
};

template <>
struct Reader<std::int64_t> {
  static std::int64_t read(const Site& site) {
    if (auto v = site.node.as_integer()) return v->get();
    wrong_type(site, "an integer");
  }
};

template <>
struct Reader<int> {
  static int read(const Site& site) {
    const std::int64_t v = Reader<std::int64_t>::read(site);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
      site.fail(fmt::format("{} is out of range for a 32-bit integer", v));
    return static_cast<int>(v);
  }
};

template <>
struct Reader<double> {
  static double read(const Site& site) {
    double value = 0;
    if (auto v = site.node.as_floating_point()) value = v->get();
    else if (auto i = site.node.as_integer()) value = static_cast<double>(i->get());
    else wrong_type(site, "a number");
    // TOML writes nan and inf as floats, and no range check catches them (nan <= 0 is false).
    if (!std::isfinite(value)) site.fail(fmt::format("must be a finite number, got {}", value));
    return value;
  }
};

template <>
struct Reader<float> {
  static float read(const Site& site) {
    const double value = Reader<double>::read(site);
    if (std::abs(value) > std::numeric_limits<float>::max())
      site.fail(fmt::format("{} is out of range for a 32-bit float", value));
    return static_cast<float>(value);
  }
};

template <>
struct Reader<std::string> {
  static std::string read(const Site& site) {
    if (auto v = site.node.as_string()) return v->get();
    wrong_type(site, "a string");
  }
};

template <class T>
struct Reader<std::vector<T>> {
  static std::vector<T> read(const Site& site) {
    const toml::array* array = site.node.as_array();
    if (!array) wrong_type(site, "an array");
    if (array->size() > Config::kMaxArrayLength)
      site.fail(fmt::format("an array may hold at most {} elements, got {}", Config::kMaxArrayLength, array->size()));
    std::vector<T> out;
    out.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) out.push_back(Reader<T>::read(site.element(i, *array->get(i))));
    return out;
  }
};

std::string join(const std::vector<std::string>& items) {
  return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ", "));
}

}  // namespace

Config::Config() : impl_(std::make_shared<Impl>()) { impl_->table = &empty_table(); }
Config::Config(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Config::~Config() = default;
Config::Config(const Config&) = default;
Config& Config::operator=(const Config&) = default;

namespace {

const toml::node* lookup(const Config::Impl& impl, std::string_view key) {
  const toml::node* node = impl.table->get(key);
  if (impl.doc) {
    if (node) impl.doc->mark(node);
    else impl.doc->mark_asked(impl.table, key);
  }
  return node;
}

}  // namespace

template <class T>
std::optional<T> Config::find(std::string_view key) const {
  const toml::node* node = lookup(*impl_, key);
  if (!node) return std::nullopt;
  return Reader<T>::read(Site{*this, key, *node, std::nullopt});
}

template <class T>
T Config::get(std::string_view key) const {
  if (auto value = find<T>(key)) return *std::move(value);
  fail("", fmt::format("missing key '{}' (has: {})", key, join(keys())));
}

template <class T>
T Config::get_or(std::string_view key, T fallback) const {
  if (auto value = find<T>(key)) return *std::move(value);
  return fallback;
}

#define KILN_CONFIG_INSTANTIATE(T)                                 \
  template KILN_API T Config::get<T>(std::string_view) const;      \
  template KILN_API T Config::get_or<T>(std::string_view, T) const; \
  template KILN_API std::optional<T> Config::find<T>(std::string_view) const;
KILN_CONFIG_INSTANTIATE(bool)
KILN_CONFIG_INSTANTIATE(int)
KILN_CONFIG_INSTANTIATE(std::int64_t)
KILN_CONFIG_INSTANTIATE(double)
KILN_CONFIG_INSTANTIATE(float)
KILN_CONFIG_INSTANTIATE(std::string)
KILN_CONFIG_INSTANTIATE(std::vector<std::int64_t>)
KILN_CONFIG_INSTANTIATE(std::vector<double>)
KILN_CONFIG_INSTANTIATE(std::vector<std::string>)
#undef KILN_CONFIG_INSTANTIATE

namespace {

/// Asking whether an optional key is there names it as one the reader knows, so that a
/// misspelling of an absent optional table ([saverr]) still gets its "did you mean".
bool has_key(const Config::Impl& impl, std::string_view key) {
  if (impl.table->contains(key)) return true;
  if (impl.doc) impl.doc->mark_asked(impl.table, key);
  return false;
}

}  // namespace

bool Config::contains(std::string_view key) const { return has_key(*impl_, key); }

bool Config::has_table(std::string_view key) const {
  if (!has_key(*impl_, key)) return false;
  return impl_->table->get(key)->is_table();
}

namespace {

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

Config view(const Config::Impl& parent, const toml::table& table, std::string path) {
  auto impl = std::make_shared<Config::Impl>();
  impl->doc = parent.doc;
  impl->table = &table;
  impl->path = std::move(path);
  impl->where = detail::position_of(table.source(), parent.where.file);
  if (impl->where.line == 0) impl->where = parent.where;  // tables made by --set
  return Config(std::move(impl));
}

}  // namespace

Config Config::table(std::string_view key) const {
  const toml::node* node = lookup(*impl_, key);
  if (!node) fail("", fmt::format("missing table '{}' (has: {})", key, join(keys())));
  if (!node->is_table()) wrong_type(Site{*this, key, *node, std::nullopt}, "a table");
  return view(*impl_, *node->as_table(), child_path(impl_->path, key));
}

Config Config::table_or_empty(std::string_view key) const {
  if (contains(key)) return table(key);
  auto impl = std::make_shared<Impl>(*impl_);
  impl->table = &empty_table();
  impl->path = child_path(impl_->path, key);
  return Config(std::move(impl));
}

std::vector<Config> Config::tables(std::string_view key) const {
  const toml::node* node = lookup(*impl_, key);
  if (!node) return {};
  const Site site{*this, key, *node, std::nullopt};
  const toml::array* array = node->as_array();
  if (!array) wrong_type(site, "an array of tables ([[" + std::string(key) + "]])");
  if (array->size() > kMaxArrayLength)
    site.fail(fmt::format("an array may hold at most {} tables, got {}", kMaxArrayLength, array->size()));
  std::vector<Config> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const toml::table* table = element.as_table();
    if (!table) wrong_type(site.element(i, element), "a table");
    if (impl_->doc) impl_->doc->mark(&element);
    out.push_back(view(*impl_, *table,
                       child_path(impl_->path, fmt::format("{}.{}", key, detail::element_label(*table, i)))));
  }
  return out;
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  for (auto&& [key, node] : *impl_->table) out.emplace_back(key.str());
  return out;
}

const std::string& Config::path() const { return impl_->path; }

SourcePosition Config::where() const { return impl_->where; }

SourcePosition Config::where(std::string_view key) const {
  if (const toml::node* node = impl_->table->get(key)) {
    SourcePosition pos = impl_->doc ? impl_->doc->where(*node) : SourcePosition{};
    if (!pos.file.empty() && (pos.line != 0 || impl_->doc->assigned.count(node))) return pos;
  }
  return impl_->where;
}

void Config::fail(std::string_view key, const std::string& message) const {
  const std::string subject = key.empty() ? (impl_->path.empty() ? "" : "[" + impl_->path + "]")
                                          : child_path(impl_->path, key);
  throw ConfigError(key.empty() ? where() : where(key),
                    subject.empty() ? message : fmt::format("{}: {}", subject, message));
}

namespace {

struct Unread {
  std::string path;
  SourcePosition where;
  std::vector<std::string> known;  // keys of the same table that were read
  std::string owner;               // "plugin 'mlp'" when the table names one
};

void collect_unread(detail::Document::State& doc, const toml::table& table, const std::string& path,
                    const std::string& file, std::vector<Unread>& out) {
  std::set<std::string> known_set;
  for (auto&& [key, node] : table)
    if (doc.was_read(&node)) known_set.emplace(key.str());
  if (auto it = doc.asked.find(&table); it != doc.asked.end()) known_set.insert(it->second.begin(), it->second.end());
  const std::vector<std::string> known(known_set.begin(), known_set.end());
  std::string owner;
  if (auto plugin = table["plugin"].value<std::string>()) owner = fmt::format("plugin '{}'", *plugin);
  for (auto&& [key, node] : table) {
    const std::string key_path = child_path(path, key.str());
    if (!doc.was_read(&node)) {
      SourcePosition where = doc.where(node);
      if (!doc.assigned.count(&node) && key.source().begin.line != 0) where = detail::position_of(key.source(), file);
      out.push_back({key_path, where, known, owner});
      continue;
    }
    if (const toml::table* child = node.as_table()) {
      collect_unread(doc, *child, key_path, file, out);
    } else if (const toml::array* array = node.as_array()) {
      for (std::size_t i = 0; i < array->size(); ++i)
        if (const toml::table* element = array->get(i)->as_table())
          collect_unread(doc, *element,
                         child_path(path, fmt::format("{}.{}", key.str(), detail::element_label(*element, i))),
                         file, out);
    }
  }
}

std::vector<Unread> unread(const Config::Impl& impl) {
  std::vector<Unread> out;
  if (impl.doc) collect_unread(*impl.doc, *impl.table, impl.path, impl.where.file, out);
  std::stable_sort(out.begin(), out.end(), [](const Unread& a, const Unread& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return out;
}

}  // namespace

std::vector<std::string> Config::unread_keys() const {
  std::vector<std::string> out;
  for (const Unread& u : unread(*impl_)) out.push_back(u.path);
  return out;
}

void Config::reject_unread(std::string_view owner) const {
  const std::vector<Unread> found = unread(*impl_);
  if (found.empty()) return;
  const Unread& first = found.front();
  const auto dot = first.path.rfind('.');
  const std::string key = dot == std::string::npos ? first.path : first.path.substr(dot + 1);
  const std::string table = dot == std::string::npos ? "" : first.path.substr(0, dot);
  std::string message = table.empty() ? fmt::format("unknown key '{}'", key)
                                      : fmt::format("unknown key '{}' in [{}]", key, table);
  const std::string& whose = first.owner.empty() ? std::string(owner) : first.owner;
  if (!whose.empty()) message += fmt::format(" ({})", whose);
  message += detail::did_you_mean(key, first.known);
  message += fmt::format(" (known keys: {})", join(first.known));
  throw ConfigError(first.where, message);
}

}  // namespace kiln
