// `kiln sweep show NAME`: a sweep's trials ranked by its metric, with their overrides.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/json_text.hpp"
#include "store/query.hpp"
#include "store/run_store.hpp"
#include "store/sweeps.hpp"

namespace kiln::runner::cli {
namespace {

/// A trial's overrides, key -> the TOML text given to --set; none for text that is not a flat
/// JSON object (a database another program wrote), so the trial shows empty cells.
std::map<std::string, std::string> overrides_of(const store::TrialRow& trial) {
  std::map<std::string, std::string> values;
  if (const auto object = store::parse_json_flat_object(trial.overrides))
    for (const auto& [key, value] : *object) values[key] = value.text;
  return values;
}

/// "eval/l1, lower is better (the tag's direction)" or "eval/l1, higher is better (--mode max)".
std::string describe_metric(const store::SweepRow& sweep, const std::vector<store::TrialRow>& trials) {
  if (!sweep.metric) return "none (the trials are not ranked; kiln sweep --metric TAG ranks them)";
  if (sweep.mode) return fmt::format("{}, {} is better (--mode {})", *sweep.metric,
                                     *sweep.mode == "max" ? "higher" : "lower", *sweep.mode);
  for (const store::TrialRow& trial : trials)
    if (!trial.direction.empty())
      return fmt::format("{}, {} is better (the tag's direction)", *sweep.metric,
                         trial.direction == "max" ? "higher" : "lower");
  return fmt::format("{} (no trial has a value yet)", *sweep.metric);
}

bool finished(const std::string& status) { return !status.empty() && status != "running"; }

}  // namespace

int sweep_show(const SweepShowArgs& args) {
  store::Database db = store::open_existing(args.database);
  // A trial whose process died without finishing is shown as crashed, as kiln runs does.
  store::RunStore(args.database).mark_crashed();
  const store::SweepRow sweep = store::require_sweep(db, args.name);
  const std::vector<store::TrialRow> trials = store::sweep_trials(db, sweep.id);

  std::vector<std::map<std::string, std::string>> overrides;
  std::vector<std::string> keys;  // each swept key once, in order
  for (const store::TrialRow& trial : trials) {
    overrides.push_back(overrides_of(trial));
    for (const auto& [key, value] : overrides.back())
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());

  std::size_t done = 0, running = 0, cut = 0;
  for (const store::TrialRow& trial : trials) {
    if (finished(trial.status)) ++done;
    if (trial.status == "running") ++running;
    if (trial.cut_step) ++cut;
  }
  fmt::print("sweep {} (id {})  {} of {} trials done", sweep.name, sweep.id, done, sweep.trials);
  if (running) fmt::print(", {} running", running);
  if (cut) fmt::print(", {} cut", cut);
  fmt::print("\n");
  fmt::print("  {:<11}{}\n", "experiment", sweep.experiment);
  fmt::print("  {:<11}{}\n", "metric", describe_metric(sweep, trials));
  fmt::print("  {:<11}{}\n\n", "created", format_time(sweep.created));

  store::QueryResult table;
  table.columns = {"rank", "trial", "run", "status", "best", "step", "cut"};
  table.columns.insert(table.columns.end(), keys.begin(), keys.end());
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const store::TrialRow& trial = trials[i];
    auto optional = [](const auto& value) { return value ? store::Value(*value) : store::Value{}; };
    std::vector<store::Value> row = {optional(trial.rank),
                                     trial.trial,
                                     trial.run,
                                     trial.status.empty() ? std::string("not started") : trial.status,
                                     trial.best_value ? store::Value(format_value(*trial.best_value)) : store::Value{},
                                     optional(trial.best_step),
                                     optional(trial.cut_step)};
    for (const std::string& key : keys) {
      const auto value = overrides[i].find(key);
      row.push_back(value == overrides[i].end() ? store::Value{} : store::Value(value->second));
    }
    table.rows.push_back(std::move(row));
  }
  std::fputs(store::format_table(table, cell_limit()).c_str(), stdout);
  return kExitOk;
}

}  // namespace kiln::runner::cli
