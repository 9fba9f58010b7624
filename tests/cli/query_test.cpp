// `kiln query` and `kiln runs` refuse writes, pragmas that set, newer and missing databases
// with one "error:" line; `kiln query` streams its rows, with --limit and --timeout.
#include <chrono>
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

/// 1, 2, 3, ... without end.
const std::string kCounting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c";
/// kCounting as error messages quote it (its first 57 characters).
const std::string kCountingExcerpt = "\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FRO...\"";

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

TEST_F(cli_query, pragma_that_sets_a_value_is_refused_and_the_database_is_unchanged) {
  EXPECT_EQ(error_line(expect_refused_without_change("PRAGMA writable_schema = 1")),
            "error: kiln query is read-only: \"PRAGMA writable_schema = 1\" would set writable_schema (PRAGMA "
            "writable_schema alone reads it)");
  EXPECT_EQ(error_line(expect_refused_without_change("PRAGMA query_only = 0")),
            "error: kiln query is read-only: \"PRAGMA query_only = 0\" would set query_only (PRAGMA query_only alone "
            "reads it)");
  EXPECT_EQ(error_line(expect_refused_without_change("PRAGMA user_version(5)")),
            "error: kiln query is read-only: \"PRAGMA user_version(5)\" would set user_version (PRAGMA user_version "
            "alone reads it)");
  EXPECT_EQ(error_line(expect_refused_without_change("pragma MAIN.Journal_Mode = delete")),
            "error: kiln query is read-only: \"pragma MAIN.Journal_Mode = delete\" would set journal_mode (PRAGMA "
            "journal_mode alone reads it)");
}

TEST_F(cli_query, pragma_that_acts_is_refused_and_the_database_is_unchanged) {
  for (const std::string pragma : {"optimize", "wal_checkpoint", "shrink_memory", "incremental_vacuum"}) {
    const std::string sql = "PRAGMA " + pragma;
    EXPECT_EQ(error_line(expect_refused_without_change(sql)),
              "error: kiln query is read-only: \"" + sql + "\" would run " + pragma +
                  ", a pragma that does more than read");
  }
  EXPECT_EQ(error_line(expect_refused_without_change("PRAGMA wal_checkpoint(TRUNCATE)")),
            "error: kiln query is read-only: \"PRAGMA wal_checkpoint(TRUNCATE)\" would run wal_checkpoint, a pragma "
            "that does more than read");
  // The same pragma as a table function runs when the statement steps, and is refused there.
  EXPECT_EQ(error_line(expect_refused_without_change("SELECT * FROM pragma_optimize")),
            "error: kiln query is read-only: \"SELECT * FROM pragma_optimize\" would run optimize, a pragma that does "
            "more than read");
}

TEST_F(cli_query, pragmas_that_read_are_answered) {
  KilnResult result = run_kiln({"query", "PRAGMA user_version"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "user_version\n------------\n           8\n(1 row)\n");
  result = run_kiln({"query", "PRAGMA integrity_check"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "integrity_check\n---------------\nok\n(1 row)\n");
  result = run_kiln({"query", "--csv", "PRAGMA table_info(params)"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out,
            "cid,name,type,notnull,dflt_value,pk\n0,run_id,INTEGER,1,,1\n1,key,TEXT,1,,2\n2,value,TEXT,0,,0\n");
  result = run_kiln({"query", "--csv", "SELECT name FROM pragma_table_info('params') ORDER BY cid"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "name\nrun_id\nkey\nvalue\n");
}

TEST_F(cli_query, limit_stops_an_endless_query_and_the_row_count_says_so) {
  const KilnResult result = run_kiln({"query", "--limit", "3", kCounting}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "x\n-\n1\n2\n3\n(first 3 rows; --limit 3)\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(cli_query, limit_that_cuts_nothing_is_not_mentioned) {
  const std::string two = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2) SELECT x FROM c";
  const KilnResult result = run_kiln({"query", "--limit", "2", two}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "x\n-\n1\n2\n(2 rows)\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(cli_query, limit_with_csv_and_json_keeps_stdout_parseable_and_says_so_on_stderr) {
  KilnResult result = run_kiln({"query", "--csv", "--limit", "2", kCounting}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "x\n1\n2\n");
  ASSERT_EQ(lines(result.err).size(), 1u) << result.err;
  EXPECT_THAT(result.err, HasSubstr("printed the first 2 rows; there are more (--limit 2)\n"));

  result = run_kiln({"query", "--json", "--limit", "2", kCounting}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "[\n  {\"x\": 1},\n  {\"x\": 2}\n]\n");
  EXPECT_THAT(result.err, HasSubstr("printed the first 2 rows; there are more (--limit 2)\n"));
}

TEST_F(cli_query, timeout_stops_an_endless_query_that_prints_nothing) {
  const auto start = std::chrono::steady_clock::now();
  const KilnResult result = run_kiln({"query", "--timeout", "0.5", kCounting + " WHERE x < 0"}, dir_.path());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result), "error: runs/kiln.db: query stopped after 0.5 s, its timeout: " + kCountingExcerpt);
  EXPECT_EQ(result.out, "");
  EXPECT_LT(took, std::chrono::seconds(30)) << "the timeout did not stop the query";
}

TEST_F(cli_query, timeout_keeps_the_rows_printed_before_it) {
  // A row every 100000 steps of the recursion: many rows within the second, then the error.
  const std::string sql = kCounting + " WHERE x % 100000 = 0";
  KilnResult result = run_kiln({"query", "--csv", "--timeout", "1", sql}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result), "error: runs/kiln.db: query stopped after 1 s, its timeout: " + kCountingExcerpt);
  const std::vector<std::string> rows = lines(result.out);
  ASSERT_GE(rows.size(), 3u) << result.out;
  for (std::size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(rows[i], i == 0 ? "x" : std::to_string(i * 100000));

  // A table prints the rows it held to size its columns, and no row count.
  result = run_kiln({"query", "--timeout", "1", sql}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  const std::vector<std::string> table = lines(result.out);
  ASSERT_GE(table.size(), 3u) << result.out;
  EXPECT_THAT(table[0], ::testing::MatchesRegex(" *x"));
  EXPECT_THAT(table[2], ::testing::MatchesRegex(" *100000"));
  EXPECT_THAT(table.back(), ::testing::MatchesRegex(" *[0-9]+00000"));
}

TEST_F(cli_query, timeout_not_reached_changes_nothing) {
  const KilnResult result = run_kiln({"query", "--timeout", "30", "SELECT name, status FROM runs"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "name  status\n----  ---------\nt     completed\n(1 row)\n");
}

TEST_F(cli_query, limit_and_timeout_must_be_positive) {
  for (const std::string option : {"--limit", "--timeout"}) {
    const KilnResult result = run_kiln({"query", option, "0", "SELECT 1"}, dir_.path());
    EXPECT_TRUE(fails_with_one_error_line(result, 2));
    EXPECT_THAT(error_line(result), HasSubstr(option));
  }
}

TEST_F(cli_query, every_command_refuses_a_database_newer_than_this_kiln) {
  sql_exec(db_, "PRAGMA user_version = 999");
  const Snapshot before(db_);
  const std::vector<std::vector<std::string>> commands = {{"query", "SELECT name FROM runs"},
                                                          {"show", "t"},
                                                          {"compare", "t", "t"},
                                                          {"report", "t", "-o", "report.html"},
                                                          {"runs"}};
  for (const std::vector<std::string>& command : commands) {
    const KilnResult result = run_kiln(command, dir_.path());
    EXPECT_TRUE(fails_with_one_error_line(result, 2)) << command[0];
    EXPECT_EQ(error_line(result),
              "error: runs/kiln.db: database schema version 999 is newer than this kiln supports (8); upgrade kiln "
              "to use it")
        << command[0];
    EXPECT_EQ(result.out, "") << command[0];
  }
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
  EXPECT_TRUE(Snapshot(db_) == before);
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
