// SIGINT and SIGTERM end a run with a checkpoint that the next run resumes; SIGHUP saves a
// snapshot and the run goes on.
#include <csignal>
#include <filesystem>
#include <regex>
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
using Rows = std::vector<std::vector<std::string>>;
using namespace std::chrono_literals;

bool has_progress(const KilnProcess& p) { return has_progress_line(p.out()) || has_progress_line(p.err()); }

/// Starts a run far too long to finish, sends `signal` once it trains, and checks the
/// checkpoint it stops with; then runs it again, five steps further.
void expect_stop_checkpoint_and_resume(int signal) {
  TempDir dir;
  // No periodic saves: the only checkpoint is the one the signal causes.
  write_text(dir, "exp.toml", chaos_experiment("[supervisor]\nlog_every_steps = 1\n", /*max_steps=*/1000000000));
  const fs::path db = dir / "runs/kiln.db";
  KilnProcess kiln({"run", "exp.toml"}, dir.path());
  // kiln installs its signal handlers before the first step, so once a progress line shows
  // the signal is kiln's to handle.
  ASSERT_TRUE(kiln.wait_until(has_progress, 60s)) << "no progress line within 60 s:\n" << kiln.out() << kiln.err();
  kiln.send_signal(signal);
  const KilnResult result = kiln.finish();

  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const std::vector<std::string> out = message_lines(result.out);
  std::smatch match;
  ASSERT_FALSE(out.empty()) << result.describe();
  ASSERT_TRUE(std::regex_search(out[0], match, std::regex("^run t stopped: step ([0-9]+) of 1000000000 ")))
      << result.describe();
  const std::int64_t stop = std::stoll(match[1]);
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "stopped");

  const auto saved = checkpoint_records(db, "t", /*include_deleted=*/true);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].step, stop);
  EXPECT_EQ(saved[0].reason, "stop");
  EXPECT_TRUE(file_matches_row(saved[0]));

  const std::string end = std::to_string(stop + 5);
  const KilnResult resumed = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=" + end}, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step " + end + " of " + end + " (5 steps in"));
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'restore'"),
            (Rows{{std::to_string(stop), "restored step " + std::to_string(stop) + " from " + saved[0].path}}));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");
}

TEST(resume_signals, sigint_saves_a_stop_checkpoint_that_the_next_run_resumes) {
  expect_stop_checkpoint_and_resume(SIGINT);
}

TEST(resume_signals, sigterm_saves_a_stop_checkpoint_that_the_next_run_resumes) {
  expect_stop_checkpoint_and_resume(SIGTERM);
}

TEST(resume_signals, sighup_saves_a_snapshot_and_the_run_goes_on_to_complete) {
  TempDir dir;
  // The supervisor logs the first step whatever log_every_steps is, and then not again until
  // the last. 10000 small steps take a second or two: time enough for the signal to land.
  constexpr std::int64_t kSteps = 10000;
  write_text(dir, "exp.toml", chaos_experiment("[supervisor]\nlog_every_steps = 1000000\n", kSteps));
  const fs::path db = dir / "runs/kiln.db";
  KilnProcess kiln({"run", "exp.toml"}, dir.path());
  ASSERT_TRUE(kiln.wait_until(has_progress, 60s)) << "no progress line within 60 s:\n" << kiln.out() << kiln.err();
  kiln.send_signal(SIGHUP);
  const KilnResult result = kiln.finish();

  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("run t completed: step 10000 of 10000 (10000 steps in"));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");

  const auto saved = checkpoint_records(db, "t", /*include_deleted=*/true);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].reason, "snapshot");
  EXPECT_GT(saved[0].step, 0);
  EXPECT_LT(saved[0].step, kSteps);
  EXPECT_EQ(saved[1].step, kSteps);
  EXPECT_EQ(saved[1].reason, "end");
  for (const CheckpointRecord& record : saved) EXPECT_TRUE(file_matches_row(record));
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'signal'"),
            (Rows{{std::to_string(saved[0].step), "SIGHUP received: saving a snapshot"}}));
}

}  // namespace
}  // namespace kiln::test
