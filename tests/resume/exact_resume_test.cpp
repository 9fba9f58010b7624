// A run killed by SIGKILL and run again ends bit-identical to one that never stopped.
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

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
using Rows = std::vector<std::vector<std::string>>;
using Steps = std::vector<std::int64_t>;

// The kill_at hook is in both runs, so that their hooks (and checkpoints) are the same; the
// uninterrupted run and the resumed process set its step to -1, never.
const std::string kExperiment = chaos_experiment(
    "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n"
    "[saver]\nevery_steps = 50\n"
    "[ema]\ndecay = 0.9\nparams = [\"all\"]\nlosses = [\"mse\"]\n"
    "[supervisor]\nlog_every_steps = 0\n",
    /*max_steps=*/200);

/// Every summary but the timings, by (tag, step); fails the test on a (tag, step) seen twice.
std::map<std::pair<std::string, std::int64_t>, double> summaries(const fs::path& db) {
  const auto result = runner::store::query_readonly(
      db, "SELECT tag, step, value FROM summaries WHERE tag NOT LIKE 'time/%' ORDER BY tag, step");
  std::map<std::pair<std::string, std::int64_t>, double> out;
  for (const auto& row : result.rows) {
    const auto key = std::make_pair(std::get<std::string>(row.at(0)), std::get<std::int64_t>(row.at(1)));
    const bool fresh = out.emplace(key, std::get<double>(row.at(2))).second;
    EXPECT_TRUE(fresh) << db << ": two rows for " << key.first << " at step " << key.second;
  }
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(resume_exact, killed_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one) {
  TempDir a, b;
  write_text(a, "exp.toml", kExperiment);
  write_text(b, "exp.toml", kExperiment);
  const fs::path db_a = a / "runs/kiln.db", db_b = b / "runs/kiln.db";

  const KilnResult straight = run_kiln({"run", "exp.toml"}, a.path());
  ASSERT_EQ(straight.exit_code(), 0) << straight.describe();
  EXPECT_THAT(straight.out, HasSubstr("run t completed: step 200 of 200 (200 steps in"));

  // Killed at step 130, once the save of step 100 is complete (it is written in the background).
  const KilnResult killed = run_kiln(
      {"run", "exp.toml", "--set", "hooks.kill_at.step=130", "--set", "hooks.kill_at.after_save=100"}, b.path());
  ASSERT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
  // kill_at (priority 100) runs before the saver (900): step 130 was never saved.
  const auto before = checkpoint_records(db_b);
  ASSERT_EQ(steps_of(before), (Steps{50, 100}));
  EXPECT_EQ(sql_value(db_b, "SELECT status FROM runs"), "running");

  const KilnResult resumed = run_kiln({"run", "exp.toml"}, b.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 200 of 200 (100 steps in"));
  EXPECT_EQ(sql_rows(db_b, "SELECT step, message FROM events WHERE kind = 'restore'"),
            (Rows{{"100", "restored step 100 from " + record_at(before, 100).path}}));

  // The final checkpoints hold the same tensors, bit for bit: the model, the EMA's shadows,
  // and also the optimizer's moments, the RNG and the data cursor.
  const CheckpointRecord end_a = record_at(checkpoint_records(db_a), 200);
  const CheckpointRecord end_b = record_at(checkpoint_records(db_b), 200);
  const runner::CheckpointEntries entries_a = runner::read_checkpoint(end_a.path, end_a.sha256);
  const runner::CheckpointEntries entries_b = runner::read_checkpoint(end_b.path, end_b.sha256);
  std::map<std::string, torch::Tensor> tensors_b(entries_b.begin(), entries_b.end());
  ASSERT_EQ(entries_a.size(), entries_b.size());
  int model = 0, ema = 0;
  for (const auto& [name, tensor] : entries_a) {
    model += name.rfind("model/", 0) == 0;
    ema += name.rfind("hook/ema/", 0) == 0;
    auto other = tensors_b.find(name);
    ASSERT_NE(other, tensors_b.end()) << name << " is only in the uninterrupted run's checkpoint";
    ASSERT_EQ(tensor.sizes(), other->second.sizes()) << name;
    ASSERT_EQ(tensor.scalar_type(), other->second.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(tensor, other->second)) << name << " differs after the resume";
  }
  EXPECT_EQ(model, 4);  // two linear layers' weights and biases
  EXPECT_GE(ema, model + 1);  // a shadow per parameter, and the loss's

  // The summaries too: the resumed process recorded steps 100 to 129 again, over the
  // killed one's rows, and with the same values.
  const auto summaries_a = summaries(db_a), summaries_b = summaries(db_b);
  EXPECT_EQ(summaries_a.size(), summaries_b.size());
  EXPECT_EQ(summaries_a.count({"loss/mse", 199}), 1u);
  EXPECT_EQ(summaries_a.count({"ema/mse", 199}), 1u);
  for (const auto& [key, value] : summaries_a) {
    auto other = summaries_b.find(key);
    if (other == summaries_b.end()) {
      ADD_FAILURE() << key.first << " at step " << key.second << " is missing after the resume";
      continue;
    }
    EXPECT_TRUE(same_bits(value, other->second))
        << key.first << " at step " << key.second << ": " << value << " uninterrupted, " << other->second << " resumed";
  }
  for (const auto& [key, value] : summaries_b)
    EXPECT_EQ(summaries_a.count(key), 1u) << key.first << " at step " << key.second << " is only in the resumed run";
}

}  // namespace
}  // namespace kiln::test
