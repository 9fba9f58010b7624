// Database, Statement and Transaction: opening, errors, binding and rollback.
#include "store/database.hpp"

#include <functional>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::TempDir;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "no error";
}

TEST(database, read_only_open_of_a_missing_file_fails) {
  TempDir dir;
  const auto path = dir / "missing.db";
  try {
    Database db(path, OpenMode::read_only);
    FAIL() << "opened a missing database";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path.string() + ": unable to open database file (SQLITE_CANTOPEN)");
    EXPECT_EQ(e.code(), 14);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(database, syntax_error_names_the_database_and_sqlites_message) {
  Database db(":memory:");
  EXPECT_EQ(error_of([&] { Statement(db, "SELEC 1"); }),
            ":memory:: near \"SELEC\": syntax error (SQLITE_ERROR)");
}

TEST(database, statement_rejects_a_second_statement) {
  Database db(":memory:");
  EXPECT_EQ(error_of([&] { Statement(db, "SELECT 1; SELECT 2"); }),
            ":memory:: expected one sql statement, found more: \"SELECT 2\"");
}

TEST(database, statement_rejects_empty_sql) {
  Database db(":memory:");
  EXPECT_EQ(error_of([&] { Statement(db, " ;  -- nothing\n"); }),
            ":memory:: no sql statement in \"; -- nothing\"");
}

TEST(database, constraint_error_carries_its_code) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1);");
  try {
    db.exec("INSERT INTO t VALUES (1)");
    FAIL() << "duplicate accepted";
  } catch (const StoreError& e) {
    EXPECT_STREQ(e.what(), ":memory:: UNIQUE constraint failed: t.x (SQLITE_CONSTRAINT)");
    EXPECT_EQ(e.code(), 19);
  }
}

TEST(database, read_only_connection_refuses_writes) {
  TempDir dir;
  const auto path = dir / "kiln.db";
  Database(path).exec("CREATE TABLE t (x INTEGER)");
  Database db(path, OpenMode::read_only);
  const std::string message = error_of([&] { db.exec("INSERT INTO t VALUES (1)"); });
  EXPECT_NE(message.find("(SQLITE_READONLY)"), std::string::npos) << message;
}

TEST(database, read_write_open_creates_directories_and_sets_pragmas) {
  TempDir dir;
  const auto path = dir / "runs" / "nested" / "kiln.db";
  Database db(path);
  EXPECT_TRUE(std::filesystem::exists(path));

  Statement journal(db, "PRAGMA journal_mode");
  ASSERT_TRUE(journal.step());
  EXPECT_EQ(journal.column_text(0), "wal");
  Statement foreign_keys(db, "PRAGMA foreign_keys");
  ASSERT_TRUE(foreign_keys.step());
  EXPECT_EQ(foreign_keys.column_int64(0), 1);
  Statement synchronous(db, "PRAGMA synchronous");
  ASSERT_TRUE(synchronous.step());
  EXPECT_EQ(synchronous.column_int64(0), 1);  // NORMAL
  Statement busy(db, "PRAGMA busy_timeout");
  ASSERT_TRUE(busy.step());
  EXPECT_EQ(busy.column_int64(0), kBusyTimeoutMs);
}

TEST(database, binds_and_reads_every_type) {
  Database db(":memory:");
  Statement statement(db, "SELECT ?1, ?2, ?3, ?4, ?5, ?6, x'0102'");
  statement.bind(1, int64_t{1} << 40)
      .bind(2, 2.5)
      .bind(3, std::string_view("text"))
      .bind(4, nullptr)
      .bind(5, std::optional<int64_t>{})
      .bind(6, 7);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_count(), 7);
  EXPECT_EQ(statement.column_name(0), "?1");
  EXPECT_EQ(statement.column_type(0), ColumnType::integer);
  EXPECT_EQ(statement.column_int64(0), int64_t{1} << 40);
  EXPECT_EQ(statement.column_type(1), ColumnType::real);
  EXPECT_EQ(statement.column_double(1), 2.5);
  EXPECT_EQ(statement.column_type(2), ColumnType::text);
  EXPECT_EQ(statement.column_text(2), "text");
  EXPECT_EQ(statement.column_type(3), ColumnType::null);
  EXPECT_EQ(statement.column_type(4), ColumnType::null);
  EXPECT_EQ(statement.column_int64(5), 7);
  EXPECT_EQ(statement.column_type(6), ColumnType::blob);
  EXPECT_EQ(statement.column_bytes(6), 2u);
  EXPECT_FALSE(statement.step());
}

TEST(database, bind_out_of_range_fails) {
  Database db(":memory:");
  Statement statement(db, "SELECT ?1");
  EXPECT_EQ(error_of([&] { statement.bind(2, 1); }),
            ":memory:: column index out of range (SQLITE_RANGE)");
}

TEST(database, transaction_rolls_back_unless_committed) {
  TempDir dir;
  Database db(dir / "kiln.db");
  db.exec("CREATE TABLE t (x INTEGER)");
  {
    Transaction transaction(db);
    db.exec("INSERT INTO t VALUES (1)");
    EXPECT_TRUE(db.in_transaction());
  }
  EXPECT_FALSE(db.in_transaction());
  {
    Transaction transaction(db);
    db.exec("INSERT INTO t VALUES (2)");
    transaction.commit();
  }
  Statement rows(db, "SELECT group_concat(x) FROM t");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.column_text(0), "2");
}

TEST(database, statement_runs_again_after_reset) {
  Database db(":memory:");
  Statement statement(db, "SELECT ?1 * 2");
  for (int64_t i = 1; i <= 3; ++i) {
    statement.reset();
    statement.bind(1, i);
    ASSERT_TRUE(statement.step());
    EXPECT_EQ(statement.column_int64(0), 2 * i);
  }
}

}  // namespace
}  // namespace kiln::runner::store
