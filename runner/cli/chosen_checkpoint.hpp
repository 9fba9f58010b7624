// Which checkpoint of a run a command reads (latest, --step N or --best), and its parts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hooks/checkpoint_file.hpp"
#include "kiln/tensors.hpp"
#include "store/database.hpp"
#include "store/rows.hpp"
#include "store/run_ref.hpp"

namespace kiln::runner::cli {

/// The live checkpoint of `run` that `kiln infer` and `kiln export weights` read: with `best`
/// the one early stopping kept as best, else the one at `step`, else the latest. None is an
/// Error naming the run and what would do, "run 't' has no checkpoint at step 7", with
/// `command` ("kiln infer") in the hint of a missing best.
store::CheckpointRow choose_checkpoint(store::Database& db, const store::RunRef& run,
                                       std::optional<std::int64_t> step, bool best, std::string_view command);

/// A checkpoint's entries whose names start with `prefix` ("model/", "hook/ema/"), named with
/// the prefix or without it.
TensorMap entries_under(const CheckpointEntries& entries, const std::string& prefix, bool keep_prefix);

}  // namespace kiln::runner::cli
