// What a run writes stays in its directory, and its exit code always matches its recorded
// status, however the signals fall.
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

TEST(cli_signals, second_sigint_never_contradicts_the_recorded_status) {
  // The second Ctrl-C lands at different points of the first one's clean stop: before the
  // final save, during it, while the status is recorded, after. Whichever it is, a run that
  // exits 0 is recorded stopped, and one killed by the signal is not recorded as ended.
  for (const auto gap : {0ms, 10ms, 30ms, 50ms, 80ms, 120ms, 200ms}) {
    SCOPED_TRACE("second SIGINT " + std::to_string(gap.count()) + " ms after the first");
    TempDir dir;
    write_text(dir, "exp.toml", mlp_experiment("[supervisor]\nlog_every_steps = 1\n", /*max_steps=*/1000000000));
    KilnProcess kiln({"run", "exp.toml"}, dir.path());
    ASSERT_TRUE(kiln.wait_until([](const KilnProcess& p) { return has_progress_line(p.err()); }, 60s));
    kiln.send_signal(SIGINT);
    std::this_thread::sleep_for(gap);  // the gap between the two signals is the point of the test
    kiln.send_signal(SIGINT);
    const KilnResult result = kiln.finish();
    const std::string status = sql_value(dir / "runs/kiln.db", "SELECT status FROM runs");
    if (result.exited()) {
      EXPECT_EQ(result.exit_code(), 0) << result.describe();
      EXPECT_EQ(status, "stopped") << result.describe();
    } else {
      EXPECT_TRUE(WIFSIGNALED(result.wait_status) && WTERMSIG(result.wait_status) == SIGINT) << result.describe();
      EXPECT_EQ(status, "running") << "killed, yet recorded as ended: " << result.describe();
    }
  }
}

TEST(cli_run_paths, run_directory_recorded_outside_the_runs_folder_is_refused) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", /*max_steps=*/5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  const fs::path db = dir / "runs/kiln.db";
  // A database edited by hand (or by another tool) points the run somewhere else.
  const fs::path elsewhere = dir / "elsewhere";
  fs::create_directories(elsewhere);
  sql_exec(db, "UPDATE runs SET run_dir = '" + elsewhere.string() + "'");

  const KilnResult result = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=10"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
  EXPECT_EQ(error_line(result), "error: run directory " + elsewhere.string() + " is not inside " +
                                    fs::canonical(dir / "runs").string() + ": kiln writes a run's files only there");
  EXPECT_TRUE(fs::is_empty(elsewhere)) << "nothing may be written outside the runs folder";
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");
}

TEST(cli_run_paths, checkpoint_folder_linked_out_of_the_run_directory_is_refused) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", /*max_steps=*/5));
  const fs::path outside = dir / "outside";
  fs::create_directories(outside);
  fs::create_directories(dir / "runs/t");
  fs::create_directory_symlink(outside, dir / "runs/t/checkpoints");

  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
  EXPECT_THAT(error_line(result), StartsWith("error: checkpoint folder " + (fs::path("runs/t") / "checkpoints").string() +
                                             " is not inside "));
  EXPECT_TRUE(fs::is_empty(outside)) << "nothing may be written outside the run directory";
  EXPECT_FALSE(fs::exists(dir / "runs/t/experiment.toml")) << "the paths are checked before anything is written";
}

}  // namespace
}  // namespace kiln::test
