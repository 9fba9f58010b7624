// Median stopping: the rule's reference value, and the poll that cuts trials with it.
#include "sweep/median.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "store/history.hpp"
#include "store/sweeps.hpp"

namespace kiln::runner::sweep {

std::optional<double> value_at(const Series& series, std::int64_t step) {
  auto after = std::upper_bound(series.begin(), series.end(), step,
                                [](std::int64_t s, const std::pair<std::int64_t, double>& point) { return s < point.first; });
  if (after == series.begin()) return std::nullopt;
  return std::prev(after)->second;
}

std::optional<double> median_at(const std::vector<Series>& finished, std::int64_t step) {
  std::vector<double> values;
  for (const Series& series : finished)
    if (const std::optional<double> v = value_at(series, step)) values.push_back(*v);
  if (values.size() < 2) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

bool worse(double value, double median, const std::string& mode) {
  return mode == "max" ? value < median : value > median;
}

namespace {

/// A run's values of `tag`, by step.
Series metric_series(store::Database& db, std::int64_t run_id, const std::string& tag) {
  Series out;
  const auto all = store::summary_series(db, run_id);
  if (auto found = all.find(tag); found != all.end())
    for (const store::Point& point : found->second) out.emplace_back(point.step, point.value);
  return out;
}

}  // namespace

std::vector<std::int64_t> median_cuts(store::Database& db, const SweepPlan& plan, std::int64_t sweep_id,
                                      const std::vector<RunningTrial>& running) {
  std::vector<std::int64_t> cuts;
  const std::vector<store::TrialRow> rows = store::sweep_trials(db, sweep_id);
  std::vector<Series> finished;
  const auto is_running = [&](std::int64_t number) {
    return std::any_of(running.begin(), running.end(), [&](const RunningTrial& t) { return t.number == number; });
  };
  // A trial whose run has just completed but whose process is not reaped yet is neither.
  for (const store::TrialRow& row : rows)
    if (row.status == "completed" && !row.cut_step && row.run_id && !is_running(row.trial))
      finished.push_back(metric_series(db, *row.run_id, *plan.metric));
  if (finished.size() < 2) return cuts;
  for (const RunningTrial& trial : running) {
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const store::TrialRow& r) { return r.trial == trial.number; });
    if (row == rows.end() || !row->run_id || row->cut_step || row->status != "running") continue;
    const Series series = metric_series(db, *row->run_id, *plan.metric);
    if (series.empty()) continue;
    const auto [step, value] = series.back();
    const std::optional<double> median = median_at(finished, step);
    const std::string mode = plan.mode.value_or(row->direction.empty() ? "min" : row->direction);
    if (!median || !worse(value, *median, mode)) continue;
    store::record_cut(db, sweep_id, trial.number, step,
                      fmt::format("median stopping: {} {:.5g} at step {} is worse than the median {:.5g} of {} "
                                  "finished trials",
                                  *plan.metric, value, step, *median, finished.size()));
    fmt::print("trial {} {} cut at step {}: {} {:.5g}, median {:.5g}\n", trial.number, trial.run, step, *plan.metric,
               value, *median);
    cuts.push_back(trial.number);
  }
  return cuts;
}

}  // namespace kiln::runner::sweep
