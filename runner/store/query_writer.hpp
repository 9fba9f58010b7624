// Printing a query's rows as they come: an aligned table, CSV or JSON, in bounded memory.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/query.hpp"

namespace kiln::runner::store {

/// Where a RowWriter's text goes, piece by piece: stdout, a string, a socket.
using TextSink = std::function<void(std::string_view)>;

/// Prints a result one row at a time, as format_table, format_csv and format_json would
/// print it whole:
///
///     auto writer = csv_writer(cursor.columns(), [](std::string_view text) { std::fwrite(...); });
///     while (const auto* row = cursor.next()) writer->row(*row);
///     writer->finish();
class RowWriter {
 public:
  virtual ~RowWriter() = default;
  virtual void row(const std::vector<Value>& row) = 0;
  /// Prints what is held and ends the output. A non-empty `cut_by` says what cut the rows
  /// short, and a table's row count says so: "(first 100 rows; --limit 100)".
  virtual void finish(std::string_view cut_by = {}) = 0;
  /// Prints the rows held so far without ending the output (no row count, no closing
  /// bracket), for when the query fails part way; nothing when no row came.
  virtual void flush() = 0;
};

/// The table format_table prints; with `style.sized_by_rows` it holds at most that many rows.
std::unique_ptr<RowWriter> table_writer(std::vector<std::string> columns, TableStyle style, TextSink sink);
/// The CSV format_csv prints; the header comes with the first row, or from finish().
std::unique_ptr<RowWriter> csv_writer(std::vector<std::string> columns, TextSink sink);
/// The JSON format_json prints.
std::unique_ptr<RowWriter> json_writer(std::vector<std::string> columns, TextSink sink);

}  // namespace kiln::runner::store
