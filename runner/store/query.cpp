// Read-only SQL over the run database (`kiln query`): refusals, limits, the timeout, rows one at a time.
#include "store/query.hpp"

#include <algorithm>
#include <iterator>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/database.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

using Clock = std::chrono::steady_clock;

// Pragmas that only read, run bare ("PRAGMA user_version"). Any other bare pragma may act
// (optimize, wal_checkpoint, shrink_memory, incremental_vacuum) and is refused.
constexpr std::string_view kReadingPragmas[] = {
    "analysis_limit", "application_id", "auto_vacuum", "automatic_index", "busy_timeout", "cache_size",
    "cache_spill", "cell_size_check", "checkpoint_fullfsync", "collation_list", "compile_options",
    "data_version", "database_list", "defer_foreign_keys", "encoding", "foreign_key_check", "foreign_keys",
    "freelist_count", "fullfsync", "function_list", "hard_heap_limit", "ignore_check_constraints",
    "integrity_check", "journal_mode", "journal_size_limit", "legacy_alter_table", "locking_mode",
    "max_page_count", "mmap_size", "module_list", "page_count", "page_size", "pragma_list", "query_only",
    "quick_check", "read_uncommitted", "recursive_triggers", "reverse_unordered_selects", "schema_version",
    "secure_delete", "soft_heap_limit", "synchronous", "table_list", "temp_store", "threads",
    "trusted_schema", "user_version", "wal_autocheckpoint", "writable_schema"};
// Pragmas whose argument says what to read ("PRAGMA table_info(runs)"); any other pragma
// given a value sets something.
constexpr std::string_view kReadingPragmasWithArgument[] = {
    "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
    "integrity_check",   "quick_check",      "table_info", "table_list", "table_xinfo"};

template <std::size_t N>
bool contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

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

struct QueryCursor::State {
  std::filesystem::path path;
  std::string sql;
  QueryOptions options;
  Clock::time_point deadline;
  std::optional<Database> db;
  std::optional<Statement> statement;
  std::vector<std::string> columns;
  std::vector<Value> row;
  int64_t rows = 0;
  bool done = false;
  bool limited = false;
  std::string refused_pragma;  // why the authorizer refused a pragma, for the error

  /// SQLite's authorizer: refuses every pragma that does more than read, also one run by a
  /// pragma table function (SELECT * FROM pragma_optimize) while the statement steps.
  static int authorize(void* self, int action, const char* name, const char* argument, const char*,
                       const char*) {
    if (action != SQLITE_PRAGMA || name == nullptr) return SQLITE_OK;
    auto& state = *static_cast<State*>(self);
    const std::string pragma = lowercase(name);
    const bool reads = contains(kReadingPragmas, pragma);
    if (argument == nullptr ? reads : contains(kReadingPragmasWithArgument, pragma)) return SQLITE_OK;
    state.refused_pragma = argument != nullptr && reads
                               ? fmt::format("would set {} (PRAGMA {} alone reads it)", pragma, pragma)
                               : fmt::format("would run {}, a pragma that does more than read", pragma);
    return SQLITE_DENY;
  }

  static int past_deadline(void* self) { return Clock::now() >= static_cast<State*>(self)->deadline ? 1 : 0; }

  StoreError read_only_error(const std::string& why) const {
    return StoreError(fmt::format("kiln query is read-only: \"{}\" {}", detail::sql_excerpt(sql), why),
                      SQLITE_READONLY);
  }

  /// What a failed step means: the timeout, a refused pragma, or SQLite's own error.
  StoreError step_error(const StoreError& error) const {
    if (!refused_pragma.empty()) return read_only_error(refused_pragma);
    if (error.code() == SQLITE_INTERRUPT && options.timeout.count() > 0 && Clock::now() >= deadline)
      return StoreError(fmt::format("{}: query stopped after {:g} s, its timeout: \"{}\"", path.string(),
                                    std::chrono::duration<double>(options.timeout).count(),
                                    detail::sql_excerpt(sql)),
                        SQLITE_INTERRUPT);
    return error;
  }

  bool step() {
    try {
      return statement->step();
    } catch (const StoreError& e) {
      done = true;  // SQLite has reset the statement: another step would start it again
      throw step_error(e);
    }
  }
};

QueryCursor::QueryCursor(const std::filesystem::path& db_path, const std::string& sql, const QueryOptions& options)
    : state_(std::make_unique<State>()) {
  State& state = *state_;
  state.path = db_path;
  state.sql = sql;
  state.options = options;
  state.deadline = Clock::now() + options.timeout;
  detail::require_database_file(db_path);
  Database& db = state.db.emplace(db_path, OpenMode::read_only);
  sqlite3_set_authorizer(db.handle(), &State::authorize, &state);
  if (options.timeout.count() > 0) sqlite3_progress_handler(db.handle(), 1000, &State::past_deadline, &state);
  try {
    state.statement.emplace(db, sql);
  } catch (const StoreError& e) {
    if (!state.refused_pragma.empty()) throw state.read_only_error(state.refused_pragma);
    // A database from an older kiln lacks the newer views and columns until a read-write
    // open upgrades it.
    const std::string message = e.what();
    const int version = schema_version(db);
    if (version < kSchemaVersion && (message.find("no such table") != std::string::npos ||
                                     message.find("no such view") != std::string::npos ||
                                     message.find("no such column") != std::string::npos))
      throw StoreError(fmt::format("{} (this database has schema version {}, this kiln {}: any kiln run or kiln runs "
                                   "on it upgrades it)", message, version, kSchemaVersion),
                       e.code());
    throw;
  }
  if (!state.statement->readonly())
    throw state.read_only_error(fmt::format("would change {}", db_path.string()));
  const int columns = state.statement->column_count();
  for (int i = 0; i < columns; ++i) state.columns.push_back(state.statement->column_name(i));
}

QueryCursor::~QueryCursor() = default;
QueryCursor::QueryCursor(QueryCursor&&) noexcept = default;
QueryCursor& QueryCursor::operator=(QueryCursor&&) noexcept = default;

const std::vector<std::string>& QueryCursor::columns() const { return state_->columns; }

const std::vector<Value>* QueryCursor::next() {
  State& state = *state_;
  if (state.done) return nullptr;
  if (state.options.limit > 0 && state.rows >= state.options.limit) {
    state.done = true;
    // One more step tells "exactly N rows" from "cut at N"; the N rows stand whatever it finds.
    try {
      state.limited = state.step();
    } catch (const StoreError&) {
      state.limited = true;
    }
    return nullptr;
  }
  if (!state.step()) {
    state.done = true;
    return nullptr;
  }
  state.row.clear();
  const int columns = static_cast<int>(state.columns.size());
  for (int i = 0; i < columns; ++i) state.row.push_back(column_value(*state.statement, i));
  ++state.rows;
  return &state.row;
}

int64_t QueryCursor::rows() const { return state_->rows; }

bool QueryCursor::limited() const { return state_->limited; }

QueryResult query_readonly(const std::filesystem::path& db, const std::string& sql, const QueryOptions& options) {
  QueryCursor cursor(db, sql, options);
  QueryResult result;
  result.columns = cursor.columns();
  while (const std::vector<Value>* row = cursor.next()) result.rows.push_back(*row);
  return result;
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
