// Read-only SQL over the run database (`kiln query`) and the ways to print its result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace kiln::runner::store {

class Statement;

/// One cell: NULL, an integer, a real or text (a blob becomes the text "<blob N bytes>").
using Value = std::variant<std::monostate, int64_t, double, std::string>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

/// Runs exactly one statement on `db` opened read-only. A missing database, more than one
/// statement, a statement that would write, and SQLite's own errors are StoreErrors.
///
///     auto result = query_readonly("runs/kiln.db", "SELECT name, status FROM runs");
///     std::cout << format_table(result);
QueryResult query_readonly(const std::filesystem::path& db, const std::string& sql);

/// Every row of a prepared (and bound) statement, stepped to its end.
QueryResult collect(Statement& statement);

/// How format_table lays a table out.
struct TableStyle {
  int max_width = 0;        ///< positive: cut longer cells to this many characters, ending in "…"
  bool row_count = true;    ///< end with "(N rows)"
  std::string indent;       ///< put before every line
};

/// Aligned columns under a header and a `---` separator, then "(N rows)". Numeric columns
/// are right-aligned, NULL is empty, reals have up to 6 significant digits. A positive
/// `max_width` cuts longer cells to that many characters, ending in "…".
std::string format_table(const QueryResult& result, int max_width = 0);
std::string format_table(const QueryResult& result, const TableStyle& style);

/// A header line then one line per row, quoted as RFC 4180 says; NULL is an empty field.
std::string format_csv(const QueryResult& result);

/// An array with one object per row; NULL, NaN and infinities are null.
std::string format_json(const QueryResult& result);

}  // namespace kiln::runner::store
