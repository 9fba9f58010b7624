// A save that the disk refuses fails the run cleanly, and costs none of the earlier checkpoints.
#include <filesystem>
#include <memory>
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
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;
using Steps = std::vector<std::int64_t>;

// Above what the database grows to, below one checkpoint: RLIMIT_FSIZE stands in for a full
// disk, and kiln (which ignores SIGXFSZ) sees its writes fail with EFBIG.
constexpr rlim_t kFileSizeLimit = 600 * 1024;

std::set<std::string> file_names(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.insert(entry.path().filename().string());
  return out;
}

TEST(resume_full_disk, save_past_the_file_size_limit_fails_the_run_and_keeps_earlier_checkpoints) {
  TempDir dir;
  // About 264k parameters: 1 MB of weights, 3 MB with Adam's moments, in every checkpoint.
  write_text(dir, "exp.toml",
             chaos_experiment("[saver]\nevery_steps = 3\n[supervisor]\nlog_every_steps = 0\n", /*max_steps=*/6,
                              /*hidden=*/"[512, 512]"));
  const fs::path db = dir / "runs/kiln.db";
  const fs::path checkpoints = dir / "runs/t/checkpoints";

  const KilnResult first = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  const auto saved = checkpoint_records(db);
  ASSERT_EQ(steps_of(saved), (Steps{3, 6}));
  // The test's premise: the database fits under the limit, a checkpoint does not.
  ASSERT_LT(fs::file_size(db), kFileSizeLimit / 2);
  ASSERT_GT(fs::file_size(saved.back().path), 2 * kFileSizeLimit);

  std::unique_ptr<KilnProcess> limited;
  {
    const ScopedResourceLimit limit(RLIMIT_FSIZE, kFileSizeLimit);
    limited = std::make_unique<KilnProcess>(std::vector<std::string>{"run", "exp.toml", "--set", "experiment.max_steps=12"},
                                            dir.path());
  }
  const KilnResult result = limited->finish();

  // The save at step 9 fails on the saver's thread; the next save, at step 12, reports it.
  ASSERT_TRUE(fails_with_one_error_line(result, 1)) << result.describe();
  EXPECT_THAT(error_line(result), StartsWith("error: run t failed at step 12: checkpoint at step 9 was not saved ("));
  EXPECT_THAT(error_line(result), HasSubstr("File too large"));
  EXPECT_THAT(error_line(result), HasSubstr("earlier checkpoints are intact"));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "failed");

  // Nothing of the failed write is left, and the checkpoints before it are untouched.
  const auto after = checkpoint_records(db);
  ASSERT_EQ(steps_of(after), (Steps{3, 6}));
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].sha256, saved[i].sha256);
    EXPECT_TRUE(file_matches_row(after[i]));
  }
  EXPECT_EQ(file_names(checkpoints), (std::set<std::string>{"ckpt-3.kiln", "ckpt-6.kiln", "latest"}));
  EXPECT_EQ(read_file(checkpoints / "latest"), "ckpt-6.kiln\n");
  EXPECT_TRUE(store_is_consistent(db));

  // With room again, the run resumes from step 6 and finishes.
  const KilnResult resumed = run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=12"}, dir.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run t completed: step 12 of 12 (6 steps in"));
  // Both the failed run and this one restored step 6.
  const std::vector<std::string> restore = {"6", "restored step 6 from " + saved.back().path};
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'restore'"), (Rows{restore, restore}));
  EXPECT_EQ(steps_of(checkpoint_records(db)), (Steps{3, 6, 9, 12}));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");
}

}  // namespace
}  // namespace kiln::test
