// Database, Statement, Transaction: RAII over one SQLite connection, errors as StoreError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "store/store_error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::runner::store {

enum class OpenMode { read_write, read_only };

/// How long a connection waits for another writer before SQLITE_BUSY.
inline constexpr int kBusyTimeoutMs = 10'000;

/// One connection. Read-write opens create the file and its parent directories, and set
/// WAL, `synchronous=NORMAL` and `foreign_keys=ON`; read-only opens never write anything,
/// and refuse a database whose schema is newer than this kiln (refuse_newer_schema).
/// Several processes may open one new file at once: the switch to WAL, whose SQLITE_BUSY
/// SQLite does not wait out, is retried for up to kBusyTimeoutMs.
/// Not movable: statements keep a pointer to their database.
class Database {
 public:
  explicit Database(std::filesystem::path path, OpenMode mode = OpenMode::read_write);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs one or more statements that return no rows (schema, pragmas, BEGIN/COMMIT).
  void exec(const std::string& sql);

  int64_t last_insert_rowid() const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t changes() const;
  bool in_transaction() const;

  const std::filesystem::path& path() const { return path_; }
  OpenMode mode() const { return mode_; }
  sqlite3* handle() const { return db_; }

  /// The error for result code `code`, with this connection's latest message.
  StoreError error(int code) const;

 private:
  std::filesystem::path path_;
  OpenMode mode_;
  sqlite3* db_ = nullptr;
};

enum class ColumnType { integer, real, text, blob, null };

/// One prepared statement. `sql` must hold exactly one statement (trailing whitespace,
/// semicolons and comments are fine). Bind indexes start at 1, column indexes at 0, as in
/// SQLite. Strings are copied when bound.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, std::nullptr_t);
  Statement& bind(int index, const std::optional<int64_t>& value);

  /// Advances to the next row: true if there is one, false when the statement is done.
  bool step();
  /// Makes the statement ready to run again; bindings are kept until rebound.
  void reset() noexcept;
  /// True if running the statement cannot change the database file (sqlite3_stmt_readonly).
  bool readonly() const;

  int column_count() const;
  std::string column_name(int index) const;
  ColumnType column_type(int index) const;
  int64_t column_int64(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  std::size_t column_bytes(int index) const;

 private:
  void check_bind(int rc);

  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// `BEGIN IMMEDIATE` on construction; rolls back on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  bool committed_ = false;
};

/// A read-only connection to a run database that must already exist, as every reading
/// command opens it: a path that is not a file is the StoreError "no run database at PATH
/// (run an experiment first, or pass --db)" with code SQLITE_CANTOPEN, and a database with
/// a newer schema is refused (Database's read-only open).
///
///     Database db = open_existing("runs/kiln.db");
Database open_existing(const std::filesystem::path& path);

namespace detail {
/// Throws open_existing()'s error when `path` is not a file.
void require_database_file(const std::filesystem::path& path);

/// `sql` on one line, trimmed and shortened, for error messages.
std::string sql_excerpt(std::string_view sql);
}  // namespace detail

}  // namespace kiln::runner::store
