// Printing query results as an aligned table, CSV or JSON, whole or row by row.
#include "store/query_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "store/json_text.hpp"

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

std::string json_value(const Value& value) {
  return std::visit(
      Overloaded{[](std::monostate) { return std::string("null"); },
                 [](int64_t v) { return fmt::to_string(v); },
                 [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; },
                 [](const std::string& v) { return json_string(v); }},
      value);
}

/// One line of cells, each padded to its column's width (a wider cell pushes the rest
/// right), without trailing spaces.
std::string table_line(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                       const std::vector<bool>& right, const std::string& indent) {
  std::string line = indent;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    const std::size_t width = display_width(cells[i]);
    const std::string padding(widths[i] > width ? widths[i] - width : 0, ' ');
    line += right[i] ? padding + cells[i] : cells[i] + padding;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  line += '\n';
  return line;
}

class TableWriter : public RowWriter {
 public:
  TableWriter(std::vector<std::string> columns, TableStyle style, TextSink sink)
      : style_(std::move(style)), sink_(std::move(sink)), columns_(columns.size()) {
    for (const std::string& name : columns) header_.push_back(fit(table_text(name), style_.max_width));
    has_number_.assign(columns_, false);
    has_text_.assign(columns_, false);
  }

  void row(const std::vector<Value>& row) override {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < columns_; ++i) line.push_back(fit(table_cell(row[i]), style_.max_width));
    ++rows_;
    if (sized_) {
      sink_(table_line(line, widths_, right_, style_.indent));
      return;
    }
    // A column is right-aligned when it holds numbers and nothing but numbers or NULL.
    for (std::size_t i = 0; i < columns_; ++i) {
      has_number_[i] = has_number_[i] || is_number(row[i]);
      has_text_[i] = has_text_[i] || std::holds_alternative<std::string>(row[i]);
    }
    held_.push_back(std::move(line));
    if (style_.sized_by_rows > 0 && held_.size() >= style_.sized_by_rows) print_held();
  }

  void finish(std::string_view cut_by) override {
    print_held();
    if (!style_.row_count) return;
    const std::string rows = fmt::format("{} row{}", rows_, rows_ == 1 ? "" : "s");
    sink_(cut_by.empty() ? fmt::format("{}({})\n", style_.indent, rows)
                         : fmt::format("{}(first {}; {})\n", style_.indent, rows, cut_by));
  }

  void flush() override {
    if (rows_ > 0) print_held();
  }

 private:
  /// Sizes the columns from the rows held (once), then prints and forgets them.
  void print_held() {
    if (!sized_) {
      sized_ = true;
      for (const std::string& name : header_) widths_.push_back(display_width(name));
      for (const std::vector<std::string>& line : held_)
        for (std::size_t i = 0; i < columns_; ++i) widths_[i] = std::max(widths_[i], display_width(line[i]));
      std::vector<std::string> separator;
      for (std::size_t i = 0; i < columns_; ++i) {
        right_.push_back(has_number_[i] && !has_text_[i]);
        separator.emplace_back(widths_[i], '-');
      }
      std::string head = table_line(header_, widths_, right_, style_.indent);
      head += table_line(separator, widths_, right_, style_.indent);
      sink_(head);
    }
    std::string text;
    for (const std::vector<std::string>& line : held_) text += table_line(line, widths_, right_, style_.indent);
    if (!text.empty()) sink_(text);
    held_.clear();
    held_.shrink_to_fit();
  }

  TableStyle style_;
  TextSink sink_;
  std::size_t columns_;
  std::vector<std::string> header_;
  std::vector<bool> has_number_, has_text_;
  std::vector<std::vector<std::string>> held_;  // rows waiting for the column widths
  bool sized_ = false;
  std::vector<std::size_t> widths_;
  std::vector<bool> right_;
  std::size_t rows_ = 0;
};

class CsvWriter : public RowWriter {
 public:
  CsvWriter(std::vector<std::string> columns, TextSink sink) : columns_(std::move(columns)), sink_(std::move(sink)) {}

  void row(const std::vector<Value>& row) override {
    std::string line = header_printed_ ? "" : header();
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += ',';
      line += csv_cell(row[i]);
    }
    line += '\n';
    sink_(line);
  }

  void finish(std::string_view) override {
    if (!header_printed_) sink_(header());
  }

  void flush() override {}

 private:
  std::string header() {
    header_printed_ = true;
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) line += ',';
      line += csv_field(columns_[i]);
    }
    return line + '\n';
  }

  std::vector<std::string> columns_;
  TextSink sink_;
  bool header_printed_ = false;
};

class JsonWriter : public RowWriter {
 public:
  JsonWriter(std::vector<std::string> columns, TextSink sink) : sink_(std::move(sink)) {
    for (const std::string& name : columns) keys_.push_back(json_string(name) + ": ");
  }

  void row(const std::vector<Value>& row) override {
    std::string text = rows_++ == 0 ? "[\n  {" : ",\n  {";
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (i > 0) text += ", ";
      text += keys_[i];
      text += json_value(row[i]);
    }
    text += '}';
    sink_(text);
  }

  void finish(std::string_view) override { sink_(rows_ == 0 ? "[]\n" : "\n]\n"); }

  void flush() override {}

 private:
  TextSink sink_;
  std::vector<std::string> keys_;
  std::size_t rows_ = 0;
};

/// What `writer` prints for every row of `result`, as one string.
template <class MakeWriter>
std::string format_all(const QueryResult& result, MakeWriter make_writer) {
  std::string out;
  const std::unique_ptr<RowWriter> writer = make_writer([&out](std::string_view text) { out += text; });
  for (const std::vector<Value>& row : result.rows) writer->row(row);
  writer->finish();
  return out;
}

}  // namespace

std::unique_ptr<RowWriter> table_writer(std::vector<std::string> columns, TableStyle style, TextSink sink) {
  return std::make_unique<TableWriter>(std::move(columns), std::move(style), std::move(sink));
}

std::unique_ptr<RowWriter> csv_writer(std::vector<std::string> columns, TextSink sink) {
  return std::make_unique<CsvWriter>(std::move(columns), std::move(sink));
}

std::unique_ptr<RowWriter> json_writer(std::vector<std::string> columns, TextSink sink) {
  return std::make_unique<JsonWriter>(std::move(columns), std::move(sink));
}

std::string format_table(const QueryResult& result, int max_width) {
  TableStyle style;
  style.max_width = max_width;
  return format_table(result, style);
}

std::string format_table(const QueryResult& result, const TableStyle& style) {
  return format_all(result, [&](TextSink sink) { return table_writer(result.columns, style, std::move(sink)); });
}

std::string format_csv(const QueryResult& result) {
  return format_all(result, [&](TextSink sink) { return csv_writer(result.columns, std::move(sink)); });
}

std::string format_json(const QueryResult& result) {
  return format_all(result, [&](TextSink sink) { return json_writer(result.columns, std::move(sink)); });
}

}  // namespace kiln::runner::store
