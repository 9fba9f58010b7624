// A summary's values over steps, and what the report computes from them: smoothing, thinning, best.
#include "report/series.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

namespace kiln::runner::report {

std::vector<Point> smooth_ema(const std::vector<Point>& points, double weight) {
  const bool constant = std::all_of(points.begin(), points.end(),
                                    [&](const Point& p) { return p.value == points.front().value; });
  std::vector<Point> out = points;
  if (constant) return out;
  double last = 0;
  int count = 0;
  for (Point& p : out) {
    if (!std::isfinite(p.value)) continue;
    last = last * weight + (1 - weight) * p.value;
    ++count;
    const double debias = weight == 1 ? 1 : 1 - std::pow(weight, count);
    p.value = last / debias;
  }
  return out;
}

std::vector<Point> decimate(const std::vector<Point>& points, std::size_t max_points) {
  const std::size_t buckets = std::max<std::size_t>(1, max_points / 2);
  if (points.size() <= max_points || points.size() <= 2 * buckets) return points;
  std::vector<Point> out;
  out.reserve(2 * buckets + 1);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = points.size() * b / buckets, end = points.size() * (b + 1) / buckets;
    std::size_t low = end, high = end, odd = end;
    for (std::size_t i = begin; i < end; ++i) {
      const double v = points[i].value;
      if (!std::isfinite(v)) {
        if (odd == end) odd = i;
        continue;
      }
      if (low == end || v < points[low].value) low = i;
      if (high == end || v > points[high].value) high = i;
    }
    std::array<std::size_t, 3> keep = {low, high, odd};
    std::sort(keep.begin(), keep.end());
    for (std::size_t k = 0; k < keep.size(); ++k)
      if (keep[k] != end && (k == 0 || keep[k] != keep[k - 1])) out.push_back(points[keep[k]]);
  }
  return out;
}

std::optional<Point> best_of(const std::vector<Point>& points, Better better) {
  std::optional<Point> best;
  for (const Point& p : points) {
    if (!std::isfinite(p.value)) continue;
    if (!best || (better == Better::lower ? p.value < best->value : p.value > best->value)) best = p;
  }
  return best;
}

std::optional<Point> last_of(const std::vector<Point>& points) {
  for (auto p = points.rbegin(); p != points.rend(); ++p)
    if (std::isfinite(p->value)) return *p;
  return std::nullopt;
}

std::size_t count_non_finite(const std::vector<Point>& points) {
  return static_cast<std::size_t>(
      std::count_if(points.begin(), points.end(), [](const Point& p) { return !std::isfinite(p.value); }));
}

}  // namespace kiln::runner::report
