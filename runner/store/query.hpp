// Read-only SQL over the run database (`kiln query`) and the ways to print its result.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
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

/// Bounds on one read-only query.
struct QueryOptions {
  int64_t limit = 0;                     ///< positive: stop after this many rows
  std::chrono::milliseconds timeout{0};  ///< positive: interrupt the query once it has been open this long
};

/// One read-only statement on a run database, its rows read one at a time, so that a result
/// of any size needs the memory of one row:
///
///     QueryCursor cursor("runs/kiln.db", "SELECT step, value FROM summaries", {/*limit=*/100});
///     while (const std::vector<Value>* row = cursor.next()) print(*row);
///     if (cursor.limited()) print("(first 100 rows)");
///
/// Opening refuses, as StoreErrors: a missing database, one whose schema is newer than this
/// kiln, more than one statement, a statement that would write, a pragma that does more
/// than read, and SQLite's own errors. next() throws SQLite's errors while stepping, and a
/// StoreError with code SQLITE_INTERRUPT, "<db>: query stopped after 2 s, its timeout: ...",
/// once the timeout has passed.
class QueryCursor {
 public:
  QueryCursor(const std::filesystem::path& db, const std::string& sql, const QueryOptions& options = {});
  ~QueryCursor();
  QueryCursor(QueryCursor&&) noexcept;
  QueryCursor& operator=(QueryCursor&&) noexcept;

  const std::vector<std::string>& columns() const;
  /// The next row, valid until the next call; nullptr after the last one, once `limit` rows
  /// have been read, or after an error.
  const std::vector<Value>* next();
  /// Rows next() has returned.
  int64_t rows() const;
  /// True once next() stopped at the limit and the statement had more rows (or failed, or
  /// timed out, while looking for one).
  bool limited() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Every row of one read-only statement on `db`, with what QueryCursor refuses refused.
///
///     auto result = query_readonly("runs/kiln.db", "SELECT name, status FROM runs");
///     std::cout << format_table(result);
QueryResult query_readonly(const std::filesystem::path& db, const std::string& sql, const QueryOptions& options = {});

/// Every row of a prepared (and bound) statement, stepped to its end.
QueryResult collect(Statement& statement);

/// How format_table and table_writer lay a table out.
struct TableStyle {
  int max_width = 0;        ///< positive: cut longer cells to this many characters, ending in "…"
  bool row_count = true;    ///< end with "(N rows)"
  std::string indent;       ///< put before every line
  /// Positive: the column widths and alignments come from the first this many rows, and the
  /// rest are printed as they come (a wider cell then pushes the rest of its line right);
  /// 0: from every row.
  std::size_t sized_by_rows = 0;
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
