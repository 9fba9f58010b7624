// A run whose database fills up fails cleanly: exit 1, one error naming the run and the step,
// the run marked failed when the database can take that one last write, no checkpoint file
// without its row, and everything saved before intact.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../cli/cli_support.hpp"
#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "resume_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using Rows = std::vector<std::vector<std::string>>;

/// The LD_PRELOAD library that makes the disk under the database full (tests/fixtures).
fs::path full_disk_library() { return fixture_dir().parent_path() / "preload/libkiln_full_disk.so"; }

/// Environment for a kiln whose database files (kiln.db, -wal, -journal) may grow by
/// `bytes` more, in all; the checkpoints beside them are not limited.
EnvChanges database_room(long long bytes) {
  return {{"LD_PRELOAD", full_disk_library().string()},
          {"KILN_FULL_DISK_MATCH", "kiln.db"},
          {"KILN_FULL_DISK_BYTES", std::to_string(bytes)}};
}

/// The checkpoint files in `dir` (ckpt-N.kiln), by name.
std::set<std::string> checkpoint_files(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".kiln") out.insert(entry.path().filename().string());
  return out;
}

class resume_full_database : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(full_disk_library())) << full_disk_library();
    // Summaries every step and a checkpoint every 5 steps: the database grows all the time.
    write_text(dir_, "exp.toml",
               chaos_experiment("[saver]\nevery_steps = 5\nmax_to_keep = 0\n"
                                "[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 0\n",
                                /*max_steps=*/100000));
    // A first, short run makes the database and two checkpoints with all the room there is.
    const KilnResult first = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=10"}, dir_.path());
    ASSERT_EQ(first.exit_code(), 0) << first.describe();
    saved_ = checkpoint_records(db_);
    ASSERT_EQ(steps_of(saved_), (std::vector<std::int64_t>{5, 10}));
  }

  /// What must hold whatever step the disk filled at: the earlier checkpoints as they were,
  /// a row for every checkpoint file and a file for every row, a consistent database.
  void expect_nothing_lost() const {
    const auto now = checkpoint_records(db_);
    ASSERT_GE(now.size(), saved_.size());
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      EXPECT_EQ(now[i].step, saved_[i].step);
      EXPECT_EQ(now[i].sha256, saved_[i].sha256);
    }
    std::set<std::string> rows;
    for (const CheckpointRecord& record : now) {
      EXPECT_TRUE(file_matches_row(record));
      rows.insert(fs::path(record.path).filename().string());
    }
    EXPECT_EQ(checkpoint_files(dir_ / "runs/t/checkpoints"), rows) << "a checkpoint file without its row, or a row without its file";
    EXPECT_TRUE(store_is_consistent(db_));
  }

  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
  std::vector<CheckpointRecord> saved_;
};

TEST_F(resume_full_database, run_fails_with_exit_1_naming_the_run_and_the_step_and_loses_nothing) {
  const KilnResult full = run_kiln({"run", "exp.toml"}, dir_.path(), database_room(300 * 1024));
  ASSERT_TRUE(fails_with_one_error_line(full, 1)) << full.describe();
  EXPECT_THAT(error_line(full), MatchesRegex("error: run t failed at step [0-9]+: .*"));
  EXPECT_THAT(error_line(full), HasSubstr("database or disk is full (SQLITE_FULL)"));
  ASSERT_NO_FATAL_FAILURE(expect_nothing_lost());

  // The status is the last, small write: it lands in the room the failed batch had taken,
  // unless the disk filled exactly between two batches; the error line says which.
  const bool unrecorded = error_line(full).find("its status could not be recorded") != std::string::npos;
  EXPECT_EQ(sql_value(db_, "SELECT status FROM runs"), unrecorded ? "running" : "failed") << full.describe();
  if (!unrecorded) {
    const std::string error = sql_value(db_, "SELECT error FROM runs");
    EXPECT_EQ("error: run t failed at " + error, error_line(full));
  }

  // With room again, the run resumes from its newest checkpoint.
  const auto before = checkpoint_records(db_);
  const KilnResult resumed = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=" +
                                       std::to_string(before.back().step + 5)}, dir_.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_EQ(sql_value(db_, "SELECT step FROM events WHERE kind = 'restore' ORDER BY id DESC LIMIT 1"),
            std::to_string(before.back().step));
  EXPECT_EQ(sql_value(db_, "SELECT status FROM runs"), "completed");
}

TEST_F(resume_full_database, database_full_from_the_start_fails_the_run_before_its_first_step) {
  // No room at all: the resumed row cannot even be marked running.
  const KilnResult full = run_kiln({"run", "exp.toml"}, dir_.path(), database_room(0));
  ASSERT_TRUE(fails_with_one_error_line(full, 1)) << full.describe();
  EXPECT_THAT(error_line(full), HasSubstr("error: run t failed at step 0: "));
  EXPECT_THAT(error_line(full), HasSubstr("database or disk is full (SQLITE_FULL)"));
  EXPECT_EQ(sql_value(db_, "SELECT status FROM runs"), "completed");  // as the first run left it
  ASSERT_NO_FATAL_FAILURE(expect_nothing_lost());
}

}  // namespace
}  // namespace kiln::test
