// What the resume tests share: experiments with the chaos fixture, and checks of what a
// killed, stopped or failed run left in its checkpoints and its database.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../cli/kiln_process.hpp"

namespace kiln::test {

/// mlp_experiment(extra, max_steps), with the test plugins' folder (kill_at, nan_at) on the
/// plugin path and the model's hidden layers set to `hidden`, a TOML array.
std::string chaos_experiment(const std::string& extra, long max_steps, const std::string& hidden = "[8]");

/// One row of the `checkpoints` table.
struct CheckpointRecord {
  std::int64_t step = 0;
  std::string path;
  std::string sha256;
  std::string reason;
  bool deleted = false;
};

/// The checkpoints of the run named `run`, oldest first; deleted ones only with `include_deleted`.
std::vector<CheckpointRecord> checkpoint_records(const std::filesystem::path& db, const std::string& run = "t",
                                                 bool include_deleted = false);

/// The steps of `records`, in their order.
std::vector<std::int64_t> steps_of(const std::vector<CheckpointRecord>& records);

/// A copy of the row of `records` at `step`; throws when there is none.
CheckpointRecord record_at(const std::vector<CheckpointRecord>& records, std::int64_t step);

/// Succeeds when the file of `record` exists and its sha256 is the row's.
::testing::AssertionResult file_matches_row(const CheckpointRecord& record);

/// Succeeds when the database at `db` passes PRAGMA integrity_check, every checkpoint it has
/// not deleted is a file whose sha256 is its row's, and no (run, tag, step) is in `summaries`
/// twice. A database that a kill during start-up left missing or without tables passes.
::testing::AssertionResult store_is_consistent(const std::filesystem::path& db);

/// The step of the newest checkpoint of run `run` that is not deleted, or 0 when it has none
/// (or the database has no tables yet).
std::int64_t newest_checkpoint_step(const std::filesystem::path& db, const std::string& run = "t");

/// True when `signal` ended the process of `result`.
bool killed_by(const KilnResult& result, int signal);

/// N of the first progress line ("[...] [info] step N/M ...") in `text`, or -1 without one.
std::int64_t first_progress_step(const std::string& text);

}  // namespace kiln::test
