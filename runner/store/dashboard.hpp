// The reads `kiln serve` needs beyond store/history.hpp: best values, a series' new rows, one param.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::store {

/// One tag's best value, as metrics_best picks it: the lowest, or the highest for a tag
/// whose direction is "max", with the first step that reached it.
struct BestMetric {
  std::string tag;
  double value = 0;
  std::int64_t step = 0;
  std::string direction;  ///< "min" or "max"
};

/// The best value of each of the run's tags that start with `prefix` ("eval/"), by tag;
/// tags with no finite value are left out. Index lookups per tag (summaries_by_value). A
/// database older than schema 6 knows no directions: every tag is "min" there.
std::vector<BestMetric> best_metrics(Database& db, std::int64_t run_id, const std::string& prefix);

/// The rows of one tag with a step above `after`, steps ascending, at most `max_points` of
/// them: the latest when there are more (`truncated`). NULL reads as NaN. An index range.
struct SeriesTail {
  std::vector<Point> points;
  bool truncated = false;
};
SeriesTail summaries_after(Database& db, std::int64_t run_id, const std::string& tag, std::int64_t after,
                           std::size_t max_points);

/// One value of the run's flattened config (`params`), if the run has that key.
std::optional<std::string> run_param(Database& db, std::int64_t run_id, const std::string& key);

}  // namespace kiln::runner::store
