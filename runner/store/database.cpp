// Database, Statement, Transaction: RAII over one SQLite connection, errors as StoreError.
#include "store/database.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

const char* code_name(int code) {
  switch (code & 0xff) {
    case SQLITE_OK: return "SQLITE_OK";
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_NOTFOUND: return "SQLITE_NOTFOUND";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL: return "SQLITE_PROTOCOL";
    case SQLITE_EMPTY: return "SQLITE_EMPTY";
    case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_NOLFS: return "SQLITE_NOLFS";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_FORMAT: return "SQLITE_FORMAT";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    case SQLITE_NOTICE: return "SQLITE_NOTICE";
    case SQLITE_WARNING: return "SQLITE_WARNING";
    case SQLITE_ROW: return "SQLITE_ROW";
    case SQLITE_DONE: return "SQLITE_DONE";
    default: return "SQLITE_UNKNOWN";
  }
}

bool is_memory(const std::filesystem::path& path) {
  return path.empty() || path == ":memory:";
}

/// Runs `sql` on `db` until it stops returning SQLITE_BUSY, for up to kBusyTimeoutMs, backing
/// off from 1 ms to 64 ms between tries. Only for statements whose SQLITE_BUSY SQLite returns
/// without calling the busy handler (see the constructor); returns the last result code.
int exec_until_not_busy(sqlite3* db, const char* sql) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if ((rc & 0xff) != SQLITE_BUSY || Clock::now() + pause > deadline) return rc;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(64));
  }
}

}  // namespace

Database::Database(std::filesystem::path path, OpenMode mode)
    : path_(std::move(path)), mode_(mode) {
  int flags = SQLITE_OPEN_READONLY;
  if (mode_ == OpenMode::read_write) {
    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (!is_memory(path_) && path_.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path_.parent_path(), ec);
      if (ec) {
        throw StoreError(fmt::format("{}: cannot create directory {}: {}", path_.string(),
                                     path_.parent_path().string(), ec.message()),
                         SQLITE_CANTOPEN);
      }
    }
  }
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    StoreError failure = error(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw failure;
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    if (mode_ == OpenMode::read_write) {
      // When several processes open a database that does not exist yet, the switch to WAL
      // can return SQLITE_BUSY at once while another one is creating the file: SQLite does
      // not call the busy handler there (with 4 processes starting together, about one
      // round in ten failed so). The mode is persistent: a retry finds it set, or sets it.
      if (const int rc = exec_until_not_busy(db_, "PRAGMA journal_mode = WAL"); rc != SQLITE_OK) throw error(rc);
      exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    } else {
      exec("PRAGMA query_only = ON;");
      // Tables may mean other things in a newer schema: refuse it, as migrate() does for read-write opens.
      refuse_newer_schema(*this, schema_version(*this));
    }
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::exec(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw error(rc);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t Database::changes() const { return sqlite3_changes64(db_); }

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

StoreError Database::error(int code) const {
  // The connection's message belongs to its latest call; fall back to the generic text
  // when that call is not the one being reported.
  const bool own_message = db_ != nullptr && (sqlite3_errcode(db_) & 0xff) == (code & 0xff);
  const char* message = own_message ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  return StoreError(fmt::format("{}: {} ({})", path_.string(), message, code_name(code)),
                    code & 0xff);
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_,
                              &tail);
  if (rc != SQLITE_OK) throw db.error(rc);
  if (stmt_ == nullptr) {
    throw StoreError(fmt::format("{}: no sql statement in \"{}\"", db.path().string(),
                                 detail::sql_excerpt(sql)),
                     SQLITE_ERROR);
  }
  // Whatever follows the first statement must prepare to nothing: only whitespace,
  // semicolons and comments.
  const std::string_view rest(tail, sql.size() - static_cast<std::size_t>(tail - sql.data()));
  sqlite3_stmt* next = nullptr;
  rc = sqlite3_prepare_v2(db.handle(), rest.data(), static_cast<int>(rest.size()), &next,
                          nullptr);
  sqlite3_finalize(next);
  if (rc != SQLITE_OK || next != nullptr) {
    sqlite3_finalize(stmt_);
    throw StoreError(fmt::format("{}: expected one sql statement, found more: \"{}\"",
                                 db.path().string(), detail::sql_excerpt(rest)),
                     SQLITE_ERROR);
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void Statement::check_bind(int rc) {
  if (rc != SQLITE_OK) throw db_->error(rc);
}

Statement& Statement::bind(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind(index, nullptr);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  StoreError failure = db_->error(rc);
  sqlite3_reset(stmt_);
  throw failure;
}

void Statement::reset() noexcept {
  // sqlite3_reset repeats the last step's error, which step() has already reported.
  sqlite3_reset(stmt_);
}

bool Statement::readonly() const { return sqlite3_stmt_readonly(stmt_) != 0; }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string Statement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name != nullptr ? name : "";
}

ColumnType Statement::column_type(int index) const {
  switch (sqlite3_column_type(stmt_, index)) {
    case SQLITE_INTEGER: return ColumnType::integer;
    case SQLITE_FLOAT: return ColumnType::real;
    case SQLITE_TEXT: return ColumnType::text;
    case SQLITE_BLOB: return ColumnType::blob;
    default: return ColumnType::null;
  }
}

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
}

std::size_t Statement::column_bytes(int index) const {
  return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled the transaction back.
  if (!committed_ && db_.in_transaction()) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  committed_ = true;
}

Database open_existing(const std::filesystem::path& path) {
  detail::require_database_file(path);
  return Database(path, OpenMode::read_only);
}

namespace detail {

void require_database_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw StoreError(fmt::format("no run database at {} (run an experiment first, or pass --db)", path.string()),
                     SQLITE_CANTOPEN);
  }
}

std::string sql_excerpt(std::string_view sql) {
  constexpr std::size_t kMaxLength = 60;
  std::string out;
  bool space = false;
  for (const char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > kMaxLength) {
    out.resize(kMaxLength - 3);
    out += "...";
  }
  return out;
}

}  // namespace detail
}  // namespace kiln::runner::store
