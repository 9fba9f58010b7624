// median_at(): the median stopping rule's reference value.
#include "sweep/median.hpp"

#include <algorithm>

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

}  // namespace kiln::runner::sweep
