// query_readonly() and QueryCursor: one read-only statement, rows one at a time, a limit and
// a timeout, and clear errors for everything else.
#include "store/query.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "store/database.hpp"
#include "store/schema.hpp"

#include "store/run_store.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;
using namespace std::chrono_literals;

/// 1, 2, 3, ... without end: no query that holds every row before the first would finish.
const std::string kCounting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c";
/// kCounting as error messages quote it (its first 57 characters).
const std::string kCountingExcerpt = "\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FRO...\"";

std::string query_error(const std::filesystem::path& db, const std::string& sql, const QueryOptions& options = {}) {
  try {
    query_readonly(db, sql, options);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "no error";
}

QueryOptions limit(int64_t rows) {
  QueryOptions options;
  options.limit = rows;
  return options;
}

QueryOptions timeout(std::chrono::milliseconds after) {
  QueryOptions options;
  options.timeout = after;
  return options;
}

std::vector<std::vector<Value>> numbers(std::initializer_list<int64_t> values) {
  std::vector<std::vector<Value>> rows;
  for (int64_t value : values) rows.push_back({value});
  return rows;
}

class query : public ::testing::Test {
 protected:
  void SetUp() override {
    RunStore store(path_);
    store.create_run(sample_run("hello"));
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "kiln.db";
};

TEST(query_missing, names_the_missing_database) {
  TempDir dir;
  const auto path = dir / "runs" / "kiln.db";
  EXPECT_EQ(query_error(path, "SELECT 1"),
            "no run database at " + path.string() + " (run an experiment first, or pass --db)");
  EXPECT_FALSE(std::filesystem::exists(path.parent_path()));
}

TEST_F(query, rejects_writes_and_leaves_the_database_unchanged) {
  const std::string schema_before = std::get<std::string>(
      query_readonly(path_, "SELECT group_concat(sql, ';') FROM sqlite_master").rows[0][0]);
  EXPECT_EQ(query_error(path_, "INSERT INTO runs (name, experiment, config, config_hash, "
                               "status, started) VALUES ('x', 'e', '', 'h', 'running', 1)"),
            "kiln query is read-only: \"INSERT INTO runs (name, experiment, config, "
            "config_hash, ...\" would change " +
                path_.string());
  EXPECT_EQ(query_error(path_, "DELETE FROM runs"),
            "kiln query is read-only: \"DELETE FROM runs\" would change " + path_.string());
  EXPECT_EQ(query_error(path_, "CREATE TABLE notes (x TEXT)"),
            "kiln query is read-only: \"CREATE TABLE notes (x TEXT)\" would change " +
                path_.string());
  EXPECT_EQ(query_int(path_, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(std::get<std::string>(
                query_readonly(path_, "SELECT group_concat(sql, ';') FROM sqlite_master")
                    .rows[0][0]),
            schema_before);
}

TEST_F(query, rejects_two_statements) {
  EXPECT_EQ(query_error(path_, "SELECT 1; DELETE FROM runs"),
            path_.string() + ": expected one sql statement, found more: \"DELETE FROM runs\"");
  EXPECT_EQ(query_int(path_, "SELECT count(*) FROM runs"), 1);
}

TEST_F(query, reports_sqlites_syntax_error) {
  EXPECT_EQ(query_error(path_, "SELECT * FORM runs"),
            path_.string() + ": near \"FORM\": syntax error (SQLITE_ERROR)");
  EXPECT_EQ(query_error(path_, "SELECT * FROM missing"),
            path_.string() + ": no such table: missing (SQLITE_ERROR)");
}

TEST_F(query, accepts_a_trailing_semicolon_and_whitespace) {
  const QueryResult result = query_readonly(path_, "  SELECT name FROM runs ;\n ; \n");
  EXPECT_EQ(result.columns, std::vector<std::string>{"name"});
  EXPECT_EQ(result.rows, (std::vector<std::vector<Value>>{{"hello"}}));
}

TEST_F(query, returns_typed_values) {
  const QueryResult result =
      query_readonly(path_, "SELECT 1 AS i, 2.5 AS r, 'text' AS t, NULL AS n, x'00ff10' AS b");
  EXPECT_EQ(result.columns, (std::vector<std::string>{"i", "r", "t", "n", "b"}));
  EXPECT_EQ(result.rows, (std::vector<std::vector<Value>>{
                             {int64_t{1}, 2.5, "text", std::monostate{}, "<blob 3 bytes>"}}));
}

TEST_F(query, returns_columns_of_an_empty_result) {
  const QueryResult result = query_readonly(path_, "SELECT name, status FROM runs WHERE 0");
  EXPECT_EQ(result.columns, (std::vector<std::string>{"name", "status"}));
  EXPECT_TRUE(result.rows.empty());
}

TEST_F(query, cursor_returns_rows_as_the_statement_makes_them_in_order) {
  QueryCursor cursor(path_, kCounting);
  EXPECT_EQ(cursor.columns(), std::vector<std::string>{"x"});
  for (int64_t expected = 1; expected <= 5; ++expected) {
    const std::vector<Value>* row = cursor.next();
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(*row, std::vector<Value>{expected});
  }
  EXPECT_EQ(cursor.rows(), 5);
  EXPECT_FALSE(cursor.limited());
}

TEST_F(query, cursor_ends_after_the_last_row) {
  QueryCursor cursor(path_, "SELECT name FROM runs");
  ASSERT_NE(cursor.next(), nullptr);
  EXPECT_EQ(cursor.next(), nullptr);
  EXPECT_EQ(cursor.next(), nullptr);
  EXPECT_EQ(cursor.rows(), 1);
  EXPECT_FALSE(cursor.limited());
}

TEST_F(query, limit_stops_an_endless_query_and_says_there_was_more) {
  EXPECT_EQ(query_readonly(path_, kCounting, limit(3)).rows, numbers({1, 2, 3}));
  QueryCursor cursor(path_, kCounting, limit(2));
  while (cursor.next() != nullptr) {
  }
  EXPECT_EQ(cursor.rows(), 2);
  EXPECT_TRUE(cursor.limited());
}

TEST_F(query, limit_at_or_above_the_row_count_cuts_nothing) {
  const std::string three = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3) SELECT x FROM c";
  for (int64_t rows : {3, 4}) {
    QueryCursor cursor(path_, three, limit(rows));
    while (cursor.next() != nullptr) {
    }
    EXPECT_EQ(cursor.rows(), 3);
    EXPECT_FALSE(cursor.limited()) << "limit " << rows;
  }
}

TEST_F(query, timeout_interrupts_an_endless_query_that_returns_nothing) {
  const auto start = std::chrono::steady_clock::now();
  try {
    query_readonly(path_, kCounting + " WHERE x < 0", timeout(200ms));
    FAIL() << "an endless query ended";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": query stopped after 0.2 s, its timeout: " + kCountingExcerpt);
    EXPECT_EQ(e.code(), 9);  // SQLITE_INTERRUPT
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 10s);
}

TEST_F(query, timeout_interrupts_a_query_between_rows_it_has_returned) {
  QueryCursor cursor(path_, kCounting + " WHERE x % 1000 = 0", timeout(300ms));
  ASSERT_NE(cursor.next(), nullptr);  // the first row comes at once
  try {
    while (cursor.next() != nullptr) {
    }
    FAIL() << "an endless query ended";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), path_.string() + ": query stopped after 0.3 s, its timeout: " + kCountingExcerpt);
  }
  const int64_t rows = cursor.rows();
  EXPECT_GE(rows, 1);
  EXPECT_EQ(cursor.next(), nullptr) << "a failed query does not start again";
  EXPECT_EQ(cursor.rows(), rows);
}

TEST_F(query, without_a_timeout_a_long_query_runs_to_its_end) {
  EXPECT_EQ(query_int(path_, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
                             "SELECT count(*) FROM c"),
            200000);
  EXPECT_EQ(query_readonly(path_, "SELECT name FROM runs", timeout(10s)).rows.size(), 1u);
}

TEST_F(query, pragmas_that_read_are_answered_and_pragmas_that_set_or_act_are_refused) {
  EXPECT_EQ(query_readonly(path_, "PRAGMA user_version").rows, numbers({kSchemaVersion}));
  EXPECT_EQ(query_readonly(path_, "SELECT count(*) FROM pragma_table_info('runs')").rows, numbers({24}));
  EXPECT_EQ(query_error(path_, "PRAGMA user_version = 5"),
            "kiln query is read-only: \"PRAGMA user_version = 5\" would set user_version (PRAGMA user_version alone "
            "reads it)");
  EXPECT_EQ(query_error(path_, "PRAGMA optimize"),
            "kiln query is read-only: \"PRAGMA optimize\" would run optimize, a pragma that does more than read");
  EXPECT_EQ(query_error(path_, "SELECT * FROM pragma_optimize"),
            "kiln query is read-only: \"SELECT * FROM pragma_optimize\" would run optimize, a pragma that does more "
            "than read");
}

TEST_F(query, refuses_a_database_newer_than_this_kiln_naming_both_versions) {
  Database(path_).exec("PRAGMA user_version = 999");
  const std::string newer = path_.string() + ": database schema version 999 is newer than this kiln supports (" +
                            std::to_string(kSchemaVersion) + "); upgrade kiln to use it";
  EXPECT_EQ(query_error(path_, "SELECT name FROM runs"), newer);
  try {
    Database db(path_, OpenMode::read_only);
    FAIL() << "opened a newer database read-only";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.what(), newer);
  }
}

}  // namespace
}  // namespace kiln::runner::store
