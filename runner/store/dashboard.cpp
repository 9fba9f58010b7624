// The reads `kiln serve` needs beyond store/history.hpp: best values, a series' new rows, one param.
#include "store/dashboard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

// metrics_best appeared in schema 4 and learnt directions (best_value, best_step) in 6.
constexpr int kMetricsBestSince = 4;
constexpr int kDirectionsSince = 6;

}  // namespace

std::vector<BestMetric> best_metrics(Database& db, std::int64_t run_id, const std::string& prefix) {
  const int version = schema_version(db);
  if (version < kMetricsBestSince) return {};
  const char* columns = version >= kDirectionsSince ? "tag, best_value, best_step, direction"
                                                    : "tag, min_value, min_step, 'min'";
  // substr() rather than LIKE or GLOB: a prefix is literal, whatever characters it holds.
  Statement select(db, std::string("SELECT ") + columns +
                           " FROM metrics_best WHERE run_id = ?1 AND substr(tag, 1, length(?2)) = ?2 ORDER BY tag");
  select.bind(1, run_id).bind(2, prefix);
  std::vector<BestMetric> out;
  while (select.step()) {
    if (select.column_type(1) == ColumnType::null || select.column_type(2) == ColumnType::null) continue;
    const double value = select.column_double(1);
    if (!std::isfinite(value)) continue;
    out.push_back({select.column_text(0), value, select.column_int64(2), select.column_text(3)});
  }
  return out;
}

SeriesTail summaries_after(Database& db, std::int64_t run_id, const std::string& tag, std::int64_t after,
                           std::size_t max_points) {
  // Newest first, one row more than asked: it tells a cut series from a full one.
  Statement select(db, "SELECT step, value FROM summaries WHERE run_id = ?1 AND tag = ?2 AND step > ?3 "
                       "ORDER BY step DESC LIMIT ?4");
  select.bind(1, run_id).bind(2, tag).bind(3, after).bind(4, static_cast<std::int64_t>(max_points) + 1);
  SeriesTail tail;
  while (select.step()) {
    if (tail.points.size() == max_points) {
      tail.truncated = true;
      break;
    }
    const double value = select.column_type(1) == ColumnType::null ? std::numeric_limits<double>::quiet_NaN()
                                                                   : select.column_double(1);
    tail.points.push_back({select.column_int64(0), value});
  }
  std::reverse(tail.points.begin(), tail.points.end());
  return tail;
}

std::optional<std::string> run_param(Database& db, std::int64_t run_id, const std::string& key) {
  Statement select(db, "SELECT value FROM params WHERE run_id = ?1 AND key = ?2");
  select.bind(1, run_id).bind(2, key);
  if (!select.step()) return std::nullopt;
  return select.column_type(0) == ColumnType::null ? std::string() : select.column_text(0);
}

}  // namespace kiln::runner::store
