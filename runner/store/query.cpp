// Read-only SQL over the run database (`kiln query`).
#include "store/query.hpp"

#include <optional>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/database.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

Value column_value(const Statement& statement, int index) {
  switch (statement.column_type(index)) {
    case ColumnType::integer: return statement.column_int64(index);
    case ColumnType::real: return statement.column_double(index);
    case ColumnType::text: return statement.column_text(index);
    case ColumnType::blob: return fmt::format("<blob {} bytes>", statement.column_bytes(index));
    case ColumnType::null: break;
  }
  return std::monostate{};
}

}  // namespace

QueryResult query_readonly(const std::filesystem::path& db_path, const std::string& sql) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    throw StoreError(fmt::format("no run database at {} (run an experiment first, or pass --db)",
                                 db_path.string()),
                     SQLITE_CANTOPEN);
  }
  Database db(db_path, OpenMode::read_only);
  std::optional<Statement> prepared;
  try {
    prepared.emplace(db, sql);
  } catch (const StoreError& e) {
    // A database from an older kiln lacks the newer views until a read-write open upgrades it.
    const std::string message = e.what();
    const int version = schema_version(db);
    if (version < kSchemaVersion && (message.find("no such table") != std::string::npos ||
                                     message.find("no such view") != std::string::npos))
      throw StoreError(fmt::format("{} (this database has schema version {}, this kiln {}: any kiln run or kiln runs "
                                   "on it upgrades it)", message, version, kSchemaVersion),
                       e.code());
    throw;
  }
  Statement& statement = *prepared;
  if (!statement.readonly()) {
    throw StoreError(fmt::format("kiln query is read-only: \"{}\" would change {}",
                                 detail::sql_excerpt(sql), db_path.string()),
                     SQLITE_READONLY);
  }
  return collect(statement);
}

QueryResult collect(Statement& statement) {
  QueryResult result;
  const int columns = statement.column_count();
  for (int i = 0; i < columns; ++i) result.columns.push_back(statement.column_name(i));
  while (statement.step()) {
    std::vector<Value>& row = result.rows.emplace_back();
    row.reserve(static_cast<std::size_t>(columns));
    for (int i = 0; i < columns; ++i) row.push_back(column_value(statement, i));
  }
  return result;
}

}  // namespace kiln::runner::store
