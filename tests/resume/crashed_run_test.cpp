// A run whose process was killed shows as crashed and is resumed by the next `kiln run`; a
// finished run is not run again, and --fresh starts another.
#include <csignal>
#include <filesystem>
#include <fstream>
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
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;

TEST(resume_crashed, killed_run_shows_as_crashed_and_the_next_run_resumes_it) {
  TempDir dir;
  write_text(dir, "exp.toml",
             chaos_experiment("[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n[saver]\nevery_steps = 10\n"
                              "[supervisor]\nlog_every_steps = 0\n",
                              /*max_steps=*/50));
  const fs::path db = dir / "runs/kiln.db";

  const KilnResult killed =
      run_kiln({"run", "exp.toml", "--set", "hooks.kill_at.step=30", "--set", "hooks.kill_at.after_save=20"}, dir.path());
  ASSERT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "running");  // nobody has looked yet

  const KilnResult runs = run_kiln({"runs"}, dir.path());
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  EXPECT_THAT(lines(runs.out), Contains(MatchesRegex(" *1 +t +crashed +.*"))) << runs.out;
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "crashed");

  // kill_at runs before the saver: step 30 was never saved, 20 is the newest checkpoint.
  const std::string from = record_at(checkpoint_records(db), 20).path;
  const KilnResult resumed = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 50 of 50 (30 steps in"));
  // The first run had --set overrides that this one has not: the resume says so.
  EXPECT_EQ(sql_rows(db, "SELECT message FROM events WHERE kind = 'resume'"),
            (Rows{{"resuming run t (it was crashed) with a changed experiment: hooks.kill_at.after_save, "
                   "hooks.kill_at.step"}}));
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'restore'"),
            (Rows{{"20", "restored step 20 from " + from}}));
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"), (Rows{{"completed", "NULL"}}));

  const KilnResult again = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(again.exit_code(), 0) << again.describe();
  EXPECT_THAT(message_lines(again.out).at(0), StartsWith("run t already reached max_steps (50)"));
  EXPECT_EQ(sql_value(db, "SELECT MAX(step) FROM checkpoints"), "50");
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");

  // --fresh: another run, from step 0, with a directory of its own.
  const KilnResult fresh = run_kiln({"run", "exp.toml", "--fresh"}, dir.path());
  ASSERT_EQ(fresh.exit_code(), 0) << fresh.describe();
  EXPECT_THAT(fresh.out, HasSubstr("run t-2 completed: step 50 of 50 (50 steps in"));
  EXPECT_EQ(sql_rows(db, "SELECT name, status FROM runs ORDER BY id"), (Rows{{"t", "completed"}, {"t-2", "completed"}}));
  const std::string events = "SELECT e.kind, e.step FROM events e JOIN runs r ON r.id = e.run_id WHERE r.name = 't-2' "
                             "AND e.kind IN ('initialize', 'restore', 'resume', 'start') ORDER BY e.id";
  EXPECT_EQ(sql_rows(db, events), (Rows{{"initialize", "0"}, {"start", "0"}}));
  const auto saved = checkpoint_records(db, "t-2");
  ASSERT_FALSE(saved.empty());
  EXPECT_THAT(saved.back().path, HasSubstr("runs/t-2/checkpoints/ckpt-50.kiln"));
}

/// A run killed at max_steps right after its final checkpoint is durable and `latest` names
/// it, before the run's status was recorded: kill_at at priority 950 runs after the saver.
void kill_after_final_checkpoint(const TempDir& dir) {
  write_text(dir, "exp.toml",
             chaos_experiment("[[hooks]]\nplugin = \"kill_at\"\nstep = 30\nafter_save = 30\npriority = 950\n"
                              "[saver]\nevery_steps = 10\n[supervisor]\nlog_every_steps = 0\n",
                              /*max_steps=*/30));
  const KilnResult killed = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
}

TEST(resume_crashed, run_killed_after_its_final_checkpoint_is_marked_completed) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(kill_after_final_checkpoint(dir));
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "running");
  ASSERT_EQ(run_kiln({"runs"}, dir.path()).exit_code(), 0);
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "crashed");

  const KilnResult again = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(again.exit_code(), 0) << again.describe();
  EXPECT_THAT(message_lines(again.out).at(0), StartsWith("run t already reached max_steps (30) at step 30"));
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"), (Rows{{"completed", "NULL"}}));
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'completed'"),
            (Rows{{"30", "marked completed: its process ended (the run was crashed) after saving its final checkpoint "
                         "at step 30, which is verified, before recording the end"}}));
  EXPECT_NE(sql_value(db, "SELECT ended FROM runs"), "NULL");
  // Nothing was trained again: no resume, no restore.
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM events WHERE kind IN ('resume', 'restore')"), "0");

  // A completed run run again stays exactly as it is.
  const std::string events = sql_value(db, "SELECT COUNT(*) FROM events");
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM events"), events);
}

TEST(resume_crashed, run_still_marked_running_after_its_final_checkpoint_is_marked_completed_too) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(kill_after_final_checkpoint(dir));
  const fs::path db = dir / "runs/kiln.db";
  // Nobody looked in between: the row still says running, with a pid that is gone.
  const KilnResult again = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(again.exit_code(), 0) << again.describe();
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"), (Rows{{"completed", "NULL"}}));
  EXPECT_THAT(sql_value(db, "SELECT message FROM events WHERE kind = 'completed'"),
              HasSubstr("(the run was running)"));
}

TEST(resume_crashed, final_checkpoint_that_fails_its_check_is_not_trusted_to_complete_the_run) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(kill_after_final_checkpoint(dir));
  const fs::path db = dir / "runs/kiln.db";
  const CheckpointRecord last = record_at(checkpoint_records(db), 30);
  std::ofstream(last.path, std::ios::binary | std::ios::in | std::ios::out).write("garbage", 7);

  // The damaged checkpoint proves nothing: the run resumes from step 20 and trains to 30
  // (this time without the kill).
  const KilnResult again = run_kiln({"run", "exp.toml", "--set", "hooks.kill_at.step=-1"}, dir.path());
  ASSERT_EQ(again.exit_code(), 0) << again.describe();
  EXPECT_THAT(again.out, HasSubstr("run t completed: step 30 of 30 (10 steps in"));
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM events WHERE kind = 'completed'"), "0");
  EXPECT_EQ(sql_value(db, "SELECT step FROM events WHERE kind = 'restore'"), "20");
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"), (Rows{{"completed", "NULL"}}));
  EXPECT_TRUE(store_is_consistent(db));
}

TEST(resume_hooks, every_hook_begins_on_the_restored_step_whatever_its_priority) {
  TempDir dir;
  write_text(dir, "exp.toml", chaos_experiment("[[hooks]]\nplugin = \"begin_step\"\npriority = 100\n", 20));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  const KilnResult resumed = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=30"}, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT message FROM events WHERE kind = 'begin_step' ORDER BY id"),
            (Rows{{"begin at step 0"}, {"begin at step 20"}}));
  // The restore comes before every hook's begin.
  EXPECT_EQ(sql_rows(db, "SELECT kind FROM events WHERE id > (SELECT MAX(id) FROM events WHERE kind = 'resume') "
                         "AND kind IN ('restore', 'begin_step', 'start') ORDER BY id"),
            (Rows{{"restore"}, {"begin_step"}, {"start"}}));
}

}  // namespace
}  // namespace kiln::test
