// A summary's values over steps, and what the report computes from them: smoothing, thinning, best.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "store/rows.hpp"

namespace kiln::runner::report {

/// One summary value; NaN stands for a value that was not finite or not stored.
using store::Point;

/// TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's
/// (last = w * last + (1 - w) * v; smoothed = last / (1 - w^n) after n finite values).
/// Non-finite values pass through unsmoothed and do not touch the average; a constant
/// series is returned as it is. `weight` is in [0, 1): 0 returns the values.
std::vector<Point> smooth_ema(const std::vector<Point>& points, double weight);

/// At most about `max_points` of `points`, keeping each bucket's lowest and highest value in
/// step order, so spikes stay visible; a bucket holding a non-finite value keeps one.
/// Fewer points than that are returned unchanged.
std::vector<Point> decimate(const std::vector<Point>& points, std::size_t max_points);

/// Whether a lower or a higher value of a metric is the better one: as the run declares it
/// (RunData::higher_is_better), lower when it does not.
enum class Better { lower, higher };

/// The best finite value and its step (the earliest of equal ones), or nullopt if there is none.
std::optional<Point> best_of(const std::vector<Point>& points, Better better);

/// The last finite value and its step, or nullopt.
std::optional<Point> last_of(const std::vector<Point>& points);

/// How many of `points` are not finite.
std::size_t count_non_finite(const std::vector<Point>& points);

}  // namespace kiln::runner::report
