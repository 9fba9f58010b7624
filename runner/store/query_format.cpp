// Printing a QueryResult as an aligned table, CSV or JSON.
#include "store/query.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>

namespace kiln::runner::store {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

bool is_number(const Value& value) {
  return std::holds_alternative<int64_t>(value) || std::holds_alternative<double>(value);
}

// Characters on a terminal: UTF-8 code points (continuation bytes do not count).
std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (const char c : text) width += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return width;
}

std::string fit(std::string text, int max_width) {
  if (max_width <= 0 || display_width(text) <= static_cast<std::size_t>(max_width)) {
    return text;
  }
  std::size_t kept = 0;
  std::size_t end = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) continue;
    if (kept == static_cast<std::size_t>(max_width - 1)) break;
    ++kept;
  }
  text.resize(end);
  return text + "…";
}

// A table cell stays on one line: control characters are shown escaped.
std::string table_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string table_cell(const Value& value) {
  return std::visit(Overloaded{[](std::monostate) { return std::string(); },
                               [](int64_t v) { return fmt::to_string(v); },
                               [](double v) { return fmt::format("{:.6g}", v); },
                               [](const std::string& v) { return table_text(v); }},
                    value);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_cell(const Value& value) {
  return std::visit(Overloaded{[](std::monostate) { return std::string(); },
                               [](int64_t v) { return fmt::to_string(v); },
                               [](double v) { return fmt::format("{}", v); },
                               // "" tells an empty text from NULL.
                               [](const std::string& v) {
                                 return v.empty() ? std::string("\"\"") : csv_field(v);
                               }},
                    value);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + '"';
}

std::string json_value(const Value& value) {
  return std::visit(
      Overloaded{[](std::monostate) { return std::string("null"); },
                 [](int64_t v) { return fmt::to_string(v); },
                 [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; },
                 [](const std::string& v) { return json_string(v); }},
      value);
}

void append_line(std::string& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths, const std::vector<bool>& right,
                 const std::string& indent) {
  std::string line = indent;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    const std::string padding(widths[i] - display_width(cells[i]), ' ');
    line += right[i] ? padding + cells[i] : cells[i] + padding;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out += line;
  out += '\n';
}

}  // namespace

std::string format_table(const QueryResult& result, int max_width) {
  TableStyle style;
  style.max_width = max_width;
  return format_table(result, style);
}

std::string format_table(const QueryResult& result, const TableStyle& style) {
  const int max_width = style.max_width;
  const std::size_t columns = result.columns.size();
  std::vector<std::string> header;
  std::vector<std::size_t> widths;
  for (const std::string& name : result.columns) {
    header.push_back(fit(table_text(name), max_width));
    widths.push_back(display_width(header.back()));
  }
  // A column is right-aligned when it holds numbers and nothing but numbers or NULL.
  std::vector<bool> has_number(columns, false);
  std::vector<bool> has_text(columns, false);
  std::vector<std::vector<std::string>> cells;
  for (const std::vector<Value>& row : result.rows) {
    std::vector<std::string>& line = cells.emplace_back();
    for (std::size_t i = 0; i < columns; ++i) {
      line.push_back(fit(table_cell(row[i]), max_width));
      widths[i] = std::max(widths[i], display_width(line.back()));
      has_number[i] = has_number[i] || is_number(row[i]);
      has_text[i] = has_text[i] || std::holds_alternative<std::string>(row[i]);
    }
  }
  std::vector<bool> right(columns);
  std::vector<std::string> separator;
  for (std::size_t i = 0; i < columns; ++i) {
    right[i] = has_number[i] && !has_text[i];
    separator.emplace_back(widths[i], '-');
  }

  std::string out;
  append_line(out, header, widths, right, style.indent);
  append_line(out, separator, widths, right, style.indent);
  for (const std::vector<std::string>& line : cells) append_line(out, line, widths, right, style.indent);
  const std::size_t count = result.rows.size();
  if (style.row_count) out += fmt::format("{}({} row{})\n", style.indent, count, count == 1 ? "" : "s");
  return out;
}

std::string format_csv(const QueryResult& result) {
  std::string out;
  for (std::size_t i = 0; i < result.columns.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(result.columns[i]);
  }
  out += '\n';
  for (const std::vector<Value>& row : result.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_cell(row[i]);
    }
    out += '\n';
  }
  return out;
}

std::string format_json(const QueryResult& result) {
  if (result.rows.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t r = 0; r < result.rows.size(); ++r) {
    out += "  {";
    for (std::size_t i = 0; i < result.columns.size(); ++i) {
      if (i > 0) out += ", ";
      out += json_string(result.columns[i]);
      out += ": ";
      out += json_value(result.rows[r][i]);
    }
    out += r + 1 < result.rows.size() ? "},\n" : "}\n";
  }
  return out + "]\n";
}

}  // namespace kiln::runner::store
