// Smoothing, decimation and best values of a summary series, with exact values.
#include "report/series.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace kiln::runner::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Point> series(const std::vector<double>& values) {
  std::vector<Point> out;
  for (std::size_t i = 0; i < values.size(); ++i) out.push_back({static_cast<std::int64_t>(i) * 10, values[i]});
  return out;
}

std::vector<double> values(const std::vector<Point>& points) {
  std::vector<double> out;
  for (const Point& p : points) out.push_back(p.value);
  return out;
}

TEST(report_series, smoothing_is_tensorboards_debiased_ema) {
  // last = 0.9 last + 0.1 v; shown = last / (1 - 0.9^n): 0.1/0.1, 0.29/0.19, 0.561/0.271.
  const std::vector<Point> smoothed = smooth_ema(series({1, 2, 3}), 0.9);
  ASSERT_EQ(smoothed.size(), 3u);
  EXPECT_DOUBLE_EQ(smoothed[0].value, 1.0);
  EXPECT_NEAR(smoothed[1].value, 1.5263157894736843, 1e-14);
  EXPECT_NEAR(smoothed[2].value, 2.0701107011070110, 1e-14);
  EXPECT_EQ(smoothed[2].step, 20);
  const std::vector<Point> half = smooth_ema(series({1, 3}), 0.5);
  EXPECT_NEAR(half[1].value, 1.75 / 0.75, 1e-15);
}

TEST(report_series, smoothing_passes_non_finite_values_through) {
  const std::vector<double> smoothed = values(smooth_ema(series({1, kNaN, 3, kInf}), 0.5));
  EXPECT_DOUBLE_EQ(smoothed[0], 1.0);
  EXPECT_TRUE(std::isnan(smoothed[1]));
  EXPECT_NEAR(smoothed[2], 1.75 / 0.75, 1e-15);  // as if the NaN were not there
  EXPECT_EQ(smoothed[3], kInf);
}

TEST(report_series, smoothing_leaves_constant_series_and_weight_zero_alone) {
  EXPECT_EQ(values(smooth_ema(series({2, 2, 2}), 0.9)), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(values(smooth_ema(series({1, 5, 3}), 0.0)), (std::vector<double>{1, 5, 3}));
  EXPECT_TRUE(smooth_ema({}, 0.9).empty());
}

TEST(report_series, decimation_keeps_spikes_and_gaps) {
  std::vector<double> raw(10'000, 1.0);
  raw[4321] = 50;
  raw[777] = -3;
  raw[9000] = kNaN;
  const std::vector<Point> kept = decimate(series(raw), 200);
  EXPECT_LE(kept.size(), 300u);
  EXPECT_GE(kept.size(), 100u);
  const std::vector<double> v = values(kept);
  double top = -kInf;
  for (const double x : v) top = std::max(top, std::isnan(x) ? top : x);
  EXPECT_EQ(top, 50);
  EXPECT_NE(std::find(v.begin(), v.end(), -3.0), v.end());
  EXPECT_EQ(std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), 1);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end(), [](const Point& a, const Point& b) { return a.step < b.step; }));
}

TEST(report_series, decimation_leaves_short_series_alone) {
  const std::vector<Point> short_one = series({3, 1, 2});
  EXPECT_EQ(values(decimate(short_one, 200)), values(short_one));
}

TEST(report_series, best_value_is_the_earliest_of_equals_and_skips_non_finite) {
  const std::vector<Point> points = series({0.5, kNaN, 0.25, -kInf, 0.25, 0.75});
  EXPECT_EQ(best_of(points, Better::lower)->step, 20);
  EXPECT_DOUBLE_EQ(best_of(points, Better::lower)->value, 0.25);
  EXPECT_EQ(best_of(points, Better::higher)->step, 50);
  EXPECT_FALSE(best_of(series({kNaN, kInf}), Better::lower));
  EXPECT_FALSE(best_of({}, Better::lower));
}

TEST(report_series, last_value_skips_trailing_non_finite_ones) {
  EXPECT_EQ(last_of(series({1, 2, kNaN}))->step, 10);
  EXPECT_FALSE(last_of(series({kNaN})));
  EXPECT_EQ(count_non_finite(series({1, kNaN, kInf, 2})), 2u);
}

}  // namespace
}  // namespace kiln::runner::report
