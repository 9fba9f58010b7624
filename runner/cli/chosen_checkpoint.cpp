// Which checkpoint of a run a command reads (latest, --step N or --best), and its parts.
#include "cli/chosen_checkpoint.hpp"

#include <vector>

#include <fmt/format.h>

#include "kiln/error.hpp"
#include "store/checkpoints.hpp"

namespace kiln::runner::cli {

store::CheckpointRow choose_checkpoint(store::Database& db, const store::RunRef& run,
                                       std::optional<std::int64_t> step, bool best, std::string_view command) {
  if (best) {
    std::optional<store::CheckpointRow> kept = store::kept_checkpoint(db, run.id, store::kKeptBest);
    if (!kept)
      throw Error(fmt::format("run '{}' has no checkpoint kept as best (an [early_stopping] table with keep_best = "
                              "true keeps one); without --best, {} uses its latest",
                              run.name, command));
    return std::move(*kept);
  }
  std::vector<store::CheckpointRow> rows = store::list_checkpoints(db, run.id);
  if (rows.empty()) throw Error(fmt::format("run '{}' has no checkpoint yet", run.name));
  if (!step) return std::move(rows.back());
  std::vector<std::int64_t> steps;
  for (auto& row : rows) {
    if (row.step == *step) return std::move(row);
    steps.push_back(row.step);
  }
  throw Error(fmt::format("run '{}' has no checkpoint at step {} (it has {} {})", run.name, *step,
                          steps.size() == 1 ? "step" : "steps", fmt::join(steps, ", ")));
}

TensorMap entries_under(const CheckpointEntries& entries, const std::string& prefix, bool keep_prefix) {
  TensorMap out(prefix);
  for (const auto& [name, tensor] : entries)
    if (name.rfind(prefix, 0) == 0) out.set(keep_prefix ? name : name.substr(prefix.size()), tensor);
  return out;
}

}  // namespace kiln::runner::cli
