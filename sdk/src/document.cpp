// The experiment document: parsing with positions, --set overrides, rendering, flattening.
#include "document.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config_state.hpp"
#include "nesting.hpp"

namespace kiln::detail {

SourcePosition position_of(const toml::source_region& region, const std::string& fallback_file) {
  SourcePosition pos;
  pos.file = region.path ? *region.path : fallback_file;
  pos.line = static_cast<int>(region.begin.line);
  pos.column = static_cast<int>(region.begin.column);
  return pos;
}

SourcePosition Document::State::where(const toml::node& node) const {
  if (auto it = assigned.find(&node); it != assigned.end()) return it->second;
  return position_of(node.source(), file);
}

std::string element_label(const toml::table& element, std::size_t index) {
  if (auto name = element["name"].value<std::string>()) return *name;
  if (auto plugin = element["plugin"].value<std::string>()) return *plugin;
  return std::to_string(index);
}

Document::Document(std::shared_ptr<State> state) : state_(std::move(state)) {}
Document::~Document() = default;

namespace {

[[noreturn]] void too_large(const std::string& name, std::uintmax_t bytes) {
  throw ConfigError({name}, fmt::format("too large ({} bytes); an experiment file may be at most {} bytes (4 MiB)",
                                        bytes, Document::kMaxBytes));
}

[[noreturn]] void too_deep_at(const SourcePosition& where) {
  throw ConfigError(where, fmt::format("nested too deeply: tables, dotted keys, arrays and inline tables may nest "
                                       "at most {} levels together",
                                       Document::kMaxNesting));
}

}  // namespace

std::shared_ptr<Document> Document::parse(std::string_view text, const std::string& name) {
  // Both limits hold before toml++ sees the text: it would take ~70 bytes of memory per
  // array element, and recurse once per nesting level.
  if (text.size() > kMaxBytes) too_large(name, text.size());
  if (std::optional<SourcePosition> deep = too_deep(text, kMaxNesting)) {
    deep->file = name;
    too_deep_at(*deep);
  }
  auto state = std::make_shared<State>();
  state->file = name;
  try {
    state->root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(position_of(e.source(), name), std::string(e.description()));
  }
  return std::shared_ptr<Document>(new Document(std::move(state)));
}

std::shared_ptr<Document> Document::parse_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw ConfigError({file.string()},
                      std::filesystem::exists(file, ec) ? "not a regular file" : "no such file");
  if (const std::uintmax_t bytes = std::filesystem::file_size(file, ec); !ec && bytes > kMaxBytes)
    too_large(file.string(), bytes);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError({file.string()}, "cannot be read");
  // At most one byte past the limit, should the file grow after its size was read.
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw ConfigError({file.string()}, "cannot be read");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxBytes) too_large(file.string(), text.size());
  return parse(text, file.string());
}

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// The element of an array of tables that `label` addresses, or null.
toml::table* find_element(toml::array& array, const std::string& label) {
  for (std::size_t i = 0; i < array.size(); ++i)
    if (toml::table* element = array.get(i)->as_table())
      if (element_label(*element, i) == label || std::to_string(i) == label) return element;
  return nullptr;
}

}  // namespace

void Document::set(std::string_view assignment) {
  const std::string where = fmt::format("--set {}", assignment);
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError({where}, "expected KEY=VALUE, e.g. --set optimizers.gen.lr=1e-4");
  const std::string key(assignment.substr(0, eq));
  const std::string value_text(assignment.substr(eq + 1));

  // The key and the value together nest no deeper than a file may.
  if (too_deep(fmt::format("{} = {}", key, value_text), kMaxNesting)) too_deep_at({where});

  // The value is TOML when it parses as TOML, a bare string otherwise.
  toml::table parsed;
  const std::string origin = fmt::format("--set {}", key);
  try {
    parsed = toml::parse(fmt::format("value = {}", value_text), origin);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"value", value_text}};
  }

  const std::vector<std::string> parts = split_path(key);
  toml::table* table = &state_->root;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty()) throw ConfigError({where}, fmt::format("empty key segment in '{}'", key));
    walked = walked.empty() ? part : walked + "." + part;
    toml::node* node = table->get(part);
    if (!node) {
      table = table->insert_or_assign(part, toml::table{}).first->second.as_table();
      state_->assigned[table] = SourcePosition{fmt::format("--set {}", assignment)};
      continue;
    }
    if (toml::table* child = node->as_table()) {
      table = child;
      continue;
    }
    if (toml::array* array = node->as_array(); array && array->is_array_of_tables()) {
      if (i + 2 >= parts.size())
        throw ConfigError({where}, fmt::format("'{}' names a table; set one of its keys", key));
      toml::table* element = find_element(*array, parts[i + 1]);
      if (!element) {
        std::vector<std::string> labels;
        for (std::size_t j = 0; j < array->size(); ++j)
          if (const toml::table* t = array->get(j)->as_table()) labels.push_back(element_label(*t, j));
        throw ConfigError({where}, fmt::format("'{}' has no element '{}' (has: {})", walked, parts[i + 1],
                                               fmt::join(labels, ", ")));
      }
      table = element;
      ++i;
      walked += "." + parts[i];
      continue;
    }
    throw ConfigError({where}, fmt::format("'{}' is not a table", walked));
  }
  if (parts.back().empty()) throw ConfigError({where}, fmt::format("empty key segment in '{}'", key));
  toml::node& value = table->insert_or_assign(parts.back(), *parsed.get("value")).first->second;
  const SourcePosition here{fmt::format("--set {}", assignment)};
  state_->assigned[&value] = here;
  if (toml::array* array = value.as_array())
    for (toml::node& element : *array) state_->assigned[&element] = here;
}

Config Document::root() {
  auto impl = std::make_shared<Config::Impl>();
  impl->doc = state_;
  impl->table = &state_->root;
  impl->where = SourcePosition{state_->file};
  return Config(std::move(impl));
}

std::string Document::to_toml() const {
  std::ostringstream out;
  out << toml::toml_formatter(state_->root) << "\n";
  return out.str();
}

namespace {

std::string render_value(const toml::node& node) {
  if (auto s = node.as_string()) return s->get();
  std::ostringstream out;
  node.visit([&](auto&& n) { out << toml::toml_formatter(n); });
  return out.str();
}

void flatten_into(const toml::table& table, const std::string& prefix,
                  std::vector<std::pair<std::string, std::string>>& out) {
  for (auto&& [key, node] : table) {
    const std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* child = node.as_table()) {
      flatten_into(*child, path, out);
      continue;
    }
    const toml::array* array = node.as_array();
    if (array && array->is_array_of_tables()) {
      for (std::size_t i = 0; i < array->size(); ++i)
        flatten_into(*array->get(i)->as_table(), path + "." + element_label(*array->get(i)->as_table(), i), out);
      continue;
    }
    out.emplace_back(path, render_value(node));
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Document::flatten() const {
  std::vector<std::pair<std::string, std::string>> out;
  flatten_into(state_->root, "", out);
  return out;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        else out += c;
    }
  }
  return out + "\"";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates, Quote quote) {
  const std::string near = closest(word, candidates);
  if (near.empty()) return "";
  return fmt::format("; did you mean {}?", quote == Quote::value ? detail::quoted(near) : "'" + near + "'");
}

}  // namespace kiln::detail
