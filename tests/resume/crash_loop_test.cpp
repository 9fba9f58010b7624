// kill -9 at random moments, fifty times over: every kill leaves a consistent store and a run
// that the next `kiln run` resumes from its newest checkpoint.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

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
using namespace std::chrono_literals;

constexpr int kIterations = 50;

/// $KILN_CRASH_SEED when set, to replay a failure; a fresh seed otherwise.
unsigned crash_seed() {
  if (const char* text = std::getenv("KILN_CRASH_SEED"); text && *text) return static_cast<unsigned>(std::stoul(text));
  return std::random_device{}();
}

TEST(resume_crash_loop, kills_at_random_moments_leave_a_consistent_store_and_a_resumable_run) {
  const unsigned seed = crash_seed();
  std::cout << "crash loop seed " << seed << " (replay with KILN_CRASH_SEED=" << seed << ")" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(0, 600);
  std::uniform_int_distribution<int> fifth(0, 4);

  // A checkpoint of ~3 MB every 3 steps: a save takes some milliseconds, so kills land in
  // the middle of writes, renames, row commits and deletions of old checkpoints.
  TempDir dir;
  write_text(dir, "exp.toml",
             chaos_experiment("[saver]\nevery_steps = 3\n[supervisor]\nlog_every_steps = 1\n",
                              /*max_steps=*/1000000000, /*hidden=*/"[512, 512]"));
  const fs::path db = dir / "runs/kiln.db";

  std::int64_t newest = 0;
  int in_start_up = 0;
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    // A fifth of the kills count from the spawn, so they mostly land while kiln starts, opens
    // the store and restores; the others from the first step, so they land while it trains.
    const bool from_spawn = fifth(random) == 0;
    const auto delay = std::chrono::milliseconds(delay_ms(random));
    KilnProcess kiln({"run", "exp.toml"}, dir.path());
    if (!from_spawn) {
      const auto progress = [](const KilnProcess& p) { return has_progress_line(p.out()) || has_progress_line(p.err()); };
      ASSERT_TRUE(kiln.wait_until(progress, 60s)) << "no progress line within 60 s:\n" << kiln.out() << kiln.err();
      // The supervisor logs the first step it runs: the one after the newest checkpoint.
      EXPECT_EQ(first_progress_step(kiln.out() + kiln.err()), newest + 1) << kiln.out() << kiln.err();
      EXPECT_EQ(sql_value(db, "SELECT status FROM runs WHERE name = 't'"), "running");
    } else {
      ++in_start_up;
    }
    // Not synchronisation: the random moment of the kill is what this test is about. Waiting
    // drains the pipes, so a chatty child never blocks on them.
    kiln.wait_until([](const KilnProcess&) { return false; }, delay);
    kiln.send_signal(SIGKILL);
    const KilnResult result = kiln.finish();
    ASSERT_TRUE(killed_by(result, SIGKILL)) << result.describe();

    ASSERT_TRUE(store_is_consistent(db));
    const std::int64_t now = newest_checkpoint_step(db);
    ASSERT_GE(now, newest) << "the newest checkpoint went back";
    newest = now;
  }
  std::cout << kIterations << " kills (" << in_start_up << " counted from the spawn); newest checkpoint at step "
            << newest << std::endl;
  ASSERT_GT(newest, 0) << "no kill came after a checkpoint";

  // Finally a run that is left to finish: it resumes from the newest checkpoint and goes on
  // to its max_steps.
  const std::int64_t end = newest + 10;
  const KilnResult last =
      run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=" + std::to_string(end)}, dir.path());
  ASSERT_EQ(last.exit_code(), 0) << last.describe();
  EXPECT_THAT(last.out, HasSubstr("run t completed: step " + std::to_string(end) + " of " + std::to_string(end) +
                                  " (10 steps in"));
  EXPECT_EQ(sql_value(db, "SELECT step FROM events WHERE kind = 'restore' ORDER BY id DESC LIMIT 1"),
            std::to_string(newest));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs WHERE name = 't'"), "completed");
  EXPECT_EQ(sql_value(db, "SELECT MAX(step) FROM summaries WHERE tag = 'loss/mse'"), std::to_string(end - 1));
  EXPECT_EQ(newest_checkpoint_step(db), end);
  EXPECT_TRUE(store_is_consistent(db));
}

}  // namespace
}  // namespace kiln::test
