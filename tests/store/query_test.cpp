// query_readonly(): one read-only statement, and clear errors for everything else.
#include "store/query.hpp"

#include <gtest/gtest.h>

#include "store/run_store.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

using test_support::query_int;
using test_support::sample_run;
using test_support::TempDir;

std::string query_error(const std::filesystem::path& db, const std::string& sql) {
  try {
    query_readonly(db, sql);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "no error";
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

}  // namespace
}  // namespace kiln::runner::store
