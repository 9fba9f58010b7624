// Runs that accumulate micro-batches, follow a learning-rate schedule and clip their gradients,
// killed by SIGKILL and run again, end bit-identical to runs that never stopped.
#include <csignal>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../cli/cli_support.hpp"
#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "hooks/checkpoint_file.hpp"
#include "resume_support.hpp"
#include "store/query.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Steps = std::vector<std::int64_t>;

/// The chaos experiment (kill_at never firing unless set, a save every 50 steps, summaries
/// every 10) with `experiment_keys` in [experiment] and `optimizer_keys` in its optimizer.
std::string experiment(const std::string& experiment_keys, const std::string& optimizer_keys) {
  std::string text = chaos_experiment(
      "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n"
      "[saver]\nevery_steps = 50\n"
      "[supervisor]\nlog_every_steps = 0\n",
      /*max_steps=*/200);
  text = replace_once(text, "threads = 1\n", "threads = 1\n" + experiment_keys);
  return replace_once(text, "lr = 1e-2\n", "lr = 1e-2\n" + optimizer_keys);
}

/// Every summary but the timings, by (tag, step).
std::map<std::pair<std::string, std::int64_t>, double> summaries(const fs::path& db) {
  const auto result = runner::store::query_readonly(
      db, "SELECT tag, step, value FROM summaries WHERE tag NOT LIKE 'time/%' ORDER BY tag, step");
  std::map<std::pair<std::string, std::int64_t>, double> out;
  for (const auto& row : result.rows)
    out[{std::get<std::string>(row.at(0)), std::get<std::int64_t>(row.at(1))}] = std::get<double>(row.at(2));
  return out;
}

/// Runs `text` straight through in one folder and, in another, killed at step 130 (once the
/// save of step 100 is complete) and resumed; the two must end with the same checkpoint and
/// the same summaries, bit for bit. Returns the uninterrupted run's summaries.
std::map<std::pair<std::string, std::int64_t>, double> expect_resume_is_exact(const std::string& text) {
  TempDir a, b;
  write_text(a, "exp.toml", text);
  write_text(b, "exp.toml", text);
  const fs::path db_a = a / "runs/kiln.db", db_b = b / "runs/kiln.db";

  const KilnResult straight = run_kiln({"run", "exp.toml"}, a.path());
  EXPECT_EQ(straight.exit_code(), 0) << straight.describe();
  const KilnResult killed = run_kiln(
      {"run", "exp.toml", "--set", "hooks.kill_at.step=130", "--set", "hooks.kill_at.after_save=100"}, b.path());
  EXPECT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
  EXPECT_EQ(steps_of(checkpoint_records(db_b)), (Steps{50, 100}));
  const KilnResult resumed = run_kiln({"run", "exp.toml"}, b.path());
  EXPECT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 200 of 200 (100 steps in"));

  const CheckpointRecord end_a = record_at(checkpoint_records(db_a), 200);
  const CheckpointRecord end_b = record_at(checkpoint_records(db_b), 200);
  const runner::CheckpointEntries entries_a = runner::read_checkpoint(end_a.path, end_a.sha256);
  const runner::CheckpointEntries entries_b = runner::read_checkpoint(end_b.path, end_b.sha256);
  std::map<std::string, torch::Tensor> tensors_b(entries_b.begin(), entries_b.end());
  EXPECT_EQ(entries_a.size(), entries_b.size());
  for (const auto& [name, tensor] : entries_a) {
    auto other = tensors_b.find(name);
    if (other == tensors_b.end()) {
      ADD_FAILURE() << name << " is only in the uninterrupted run's checkpoint";
      continue;
    }
    EXPECT_TRUE(tensor.sizes() == other->second.sizes() && tensor.scalar_type() == other->second.scalar_type() &&
                torch::equal(tensor, other->second))
        << name << " differs after the resume";
  }

  const auto summaries_a = summaries(db_a), summaries_b = summaries(db_b);
  EXPECT_EQ(summaries_a.size(), summaries_b.size());
  for (const auto& [key, value] : summaries_a) {
    auto other = summaries_b.find(key);
    if (other == summaries_b.end()) {
      ADD_FAILURE() << key.first << " at step " << key.second << " is missing after the resume";
      continue;
    }
    EXPECT_EQ(std::memcmp(&value, &other->second, sizeof value), 0)
        << key.first << " at step " << key.second << ": " << value << " uninterrupted, " << other->second << " resumed";
  }
  return summaries_a;
}

TEST(resume_training_controls, a_run_killed_mid_accumulation_resumes_bit_identical) {
  // 3 batches of 16 a step over 16 batches an epoch: steps straddle the epochs' ends.
  const auto rows = expect_resume_is_exact(experiment("accumulate = 3\n", "clip_norm = 0.5\n"));
  EXPECT_EQ(rows.count({"loss/mse", 199}), 1u);
  EXPECT_EQ(rows.count({"grad_norm/adam", 130}), 1u);
}

TEST(resume_training_controls, a_run_killed_mid_schedule_resumes_on_the_schedule) {
  // Warmup over 120 steps (the kill at 130 and the restore at 100 inside or near it), and
  // the rate halved every 40 steps.
  const auto rows = expect_resume_is_exact(
      experiment("", "schedule = { type = \"step\", step_size = 40, gamma = 0.5, warmup_steps = 120 }\n"));
  // The summaries of the rate follow the schedule: 1e-2 * 0.5^(k / 40) * min(1, k / 120).
  for (const std::int64_t k : {10, 100, 110, 130, 190}) {
    const double expected = 1e-2 * std::pow(0.5, static_cast<double>(k / 40)) * std::min(1.0, k / 120.0);
    ASSERT_EQ(rows.count({"lr/adam", k}), 1u) << k;
    EXPECT_NEAR(rows.at({"lr/adam", k}), expected, 1e-15) << k;
  }
}

}  // namespace
}  // namespace kiln::test
