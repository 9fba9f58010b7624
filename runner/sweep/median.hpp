// Median stopping: is a running trial's metric worse than the finished trials' median at its step?
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/database.hpp"
#include "sweep/plan.hpp"
#include "sweep/trials.hpp"

namespace kiln::runner::sweep {

/// A metric's values by step, ascending.
using Series = std::vector<std::pair<std::int64_t, double>>;

/// The value at the nearest step at or before `step`, if any.
std::optional<double> value_at(const Series& series, std::int64_t step);

/// The median of the finished trials' values at `step` (each at its nearest step at or before
/// it); none when fewer than two of them have a value there.
std::optional<double> median_at(const std::vector<Series>& finished, std::int64_t step);

/// True when `value` is worse than `median` by `mode` ("min": greater; "max": smaller).
bool worse(double value, double median, const std::string& mode);

/// --median-stop, at a poll: the running trials whose latest value of the plan's metric, at
/// step s, is worse than the median of the completed trials' values at s (worse by the plan's
/// mode, else the tag's direction); each is recorded cut (record_cut, printed) before the
/// caller stops it. Completed trials not reaped yet (in `running`) are neither.
std::vector<std::int64_t> median_cuts(store::Database& db, const SweepPlan& plan, std::int64_t sweep_id,
                                      const std::vector<RunningTrial>& running);

}  // namespace kiln::runner::sweep
