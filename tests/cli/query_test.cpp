// `kiln query` and `kiln runs` refuse writes and missing databases with one "error:" line.
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// What a database holds, seen through SQLite itself: its file's bytes and its rows.
struct Snapshot {
  std::string bytes;
  std::vector<std::vector<std::string>> tables;
  std::vector<std::vector<std::string>> runs;
  std::string summaries;
  std::string user_version;

  explicit Snapshot(const fs::path& db)
      : bytes(read_file(db)),
        tables(sql_rows(db, "SELECT type, name FROM sqlite_schema ORDER BY name")),
        runs(sql_rows(db, "SELECT id, name, status, config FROM runs ORDER BY id")),
        summaries(sql_value(db, "SELECT COUNT(*) || ':' || SUM(value) FROM summaries")),
        user_version(sql_value(db, "PRAGMA user_version")) {}

  bool operator==(const Snapshot& other) const {
    return bytes == other.bytes && tables == other.tables && runs == other.runs && summaries == other.summaries &&
           user_version == other.user_version;
  }
};

/// A database with one finished run in it.
class cli_query : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_, "exp.toml", mlp_experiment("", /*max_steps=*/5));
    const KilnResult run = run_kiln({"run", "exp.toml"}, dir_.path());
    ASSERT_EQ(run.exit_code(), 0) << run.describe();
    ASSERT_EQ(sql_value(db_, "SELECT COUNT(*) FROM summaries WHERE tag = 'loss/mse'"), "2");
  }

  /// Runs `kiln query sql`, which must be refused with one error line and change nothing.
  KilnResult expect_refused_without_change(const std::string& sql) {
    const Snapshot before(db_);
    const KilnResult result = run_kiln({"query", sql}, dir_.path());
    EXPECT_TRUE(fails_with_one_error_line(result, 2));
    EXPECT_EQ(result.out, "");
    EXPECT_TRUE(Snapshot(db_) == before) << "kiln query changed the database with: " << sql;
    return result;
  }

  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
};

TEST_F(cli_query, insert_is_refused_and_the_database_is_unchanged) {
  const KilnResult result = expect_refused_without_change(
      "INSERT INTO runs (name, experiment, config, config_hash, status, started)"
      " VALUES ('intruder', 'e', 'c', 'h', 'completed', 0)");
  EXPECT_THAT(error_line(result), StartsWith("error: kiln query is read-only: \"INSERT INTO runs"));
  EXPECT_THAT(error_line(result), HasSubstr("would change runs/kiln.db"));
}

TEST_F(cli_query, delete_is_refused_and_the_database_is_unchanged) {
  const KilnResult result = expect_refused_without_change("DELETE FROM summaries");
  EXPECT_EQ(error_line(result), "error: kiln query is read-only: \"DELETE FROM summaries\" would change runs/kiln.db");
}

TEST_F(cli_query, drop_is_refused_and_the_database_is_unchanged) {
  const KilnResult result = expect_refused_without_change("DROP TABLE summaries");
  EXPECT_EQ(error_line(result), "error: kiln query is read-only: \"DROP TABLE summaries\" would change runs/kiln.db");
}

TEST_F(cli_query, pragma_that_writes_is_refused_and_the_database_is_unchanged) {
  const KilnResult result = expect_refused_without_change("PRAGMA user_version = 7");
  EXPECT_THAT(error_line(result), StartsWith("error: kiln query is read-only: "));
}

TEST_F(cli_query, write_after_a_select_is_refused_and_the_database_is_unchanged) {
  const KilnResult result = expect_refused_without_change("SELECT 1; DELETE FROM summaries");
  EXPECT_THAT(error_line(result), HasSubstr("expected one sql statement"));
}

TEST_F(cli_query, sql_syntax_error_is_one_line_with_sqlites_message) {
  const KilnResult result = expect_refused_without_change("SELEC name FROM runs");
  EXPECT_THAT(error_line(result), HasSubstr("near \"SELEC\": syntax error"));
}

TEST_F(cli_query, unknown_table_is_named) {
  const KilnResult result = expect_refused_without_change("SELECT * FROM nosuch");
  EXPECT_THAT(error_line(result), HasSubstr("no such table: nosuch"));
}

TEST(cli_missing_database, query_is_an_error_and_creates_nothing) {
  TempDir dir;
  const KilnResult result = run_kiln({"query", "SELECT * FROM runs"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(error_line(result), StartsWith("error: no run database at runs/kiln.db"));
  EXPECT_TRUE(fs::is_empty(dir.path())) << "kiln query must not create a database";
}

TEST(cli_missing_database, query_with_db_option_names_that_file) {
  TempDir dir;
  const KilnResult result = run_kiln({"query", "--db", "other.db", "SELECT 1"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), StartsWith("error: no run database at other.db"));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(cli_missing_database, runs_is_an_error_and_creates_nothing) {
  TempDir dir;
  const KilnResult result = run_kiln({"runs"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(error_line(result), StartsWith("error: no run database at runs/kiln.db"));
  EXPECT_TRUE(fs::is_empty(dir.path())) << "kiln runs must not create a database";
}

TEST(cli_missing_database, runs_names_the_database_from_kiln_db) {
  TempDir dir;
  const KilnResult result = run_kiln({"runs"}, dir.path(), {{"KILN_DB", "from-env.db"}});
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), StartsWith("error: no run database at from-env.db"));
}

TEST(cli_missing_database, runs_on_a_file_that_is_not_a_database_is_an_error) {
  TempDir dir;
  write_text(dir, "notes.db", "just some text, long enough to look like a header of a file\n");
  const KilnResult result = run_kiln({"runs", "--db", "notes.db"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), HasSubstr("not a database"));
}

}  // namespace
}  // namespace kiln::test
