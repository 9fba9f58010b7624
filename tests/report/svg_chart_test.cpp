// Ticks, scales and the SVG a chart renders to.
#include "report/svg_chart.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace kiln::runner::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> labels(const Axis& axis) {
  std::vector<std::string> out;
  for (const double t : axis.ticks) out.push_back(axis.label(t));
  return out;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(report_svg, linear_ticks_are_one_two_or_five_times_a_power_of_ten) {
  const Axis unit = linear_axis(0, 1, 5);
  EXPECT_DOUBLE_EQ(unit.step, 0.2);
  EXPECT_EQ(labels(unit), (std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"}));

  const Axis loss = linear_axis(0.413, 0.496, 5);
  EXPECT_DOUBLE_EQ(loss.step, 0.02);
  EXPECT_NEAR(loss.lo, 0.40, 1e-12);
  EXPECT_NEAR(loss.hi, 0.50, 1e-12);
  EXPECT_EQ(labels(loss), (std::vector<std::string>{"0.40", "0.42", "0.44", "0.46", "0.48", "0.50"}));

  const Axis steps = linear_axis(0, 3000, 6, 1);
  EXPECT_EQ(labels(steps), (std::vector<std::string>{"0", "500", "1000", "1500", "2000", "2500", "3000"}));

  const Axis negative = linear_axis(-0.7, 0.3, 5);
  EXPECT_EQ(labels(negative), (std::vector<std::string>{"-0.8", "-0.6", "-0.4", "-0.2", "0", "0.2", "0.4"}));
}

TEST(report_svg, an_empty_range_is_widened) {
  const Axis flat = linear_axis(2, 2, 5);
  EXPECT_NEAR(flat.lo, 1.8, 1e-12);
  EXPECT_NEAR(flat.hi, 2.2, 1e-12);
  EXPECT_EQ(labels(flat), (std::vector<std::string>{"1.8", "1.9", "2.0", "2.1", "2.2"}));
  // One step: the x axis still has whole-number ticks.
  const Axis one_step = linear_axis(0, 0, 6, 1);
  EXPECT_EQ(labels(one_step), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(labels(linear_axis(0, 0, 5)), (std::vector<std::string>{"-1.0", "-0.5", "0", "0.5", "1.0"}));
}

TEST(report_svg, very_large_and_very_small_ticks_use_exponents) {
  const Axis large = linear_axis(0, 3e6, 5);
  EXPECT_DOUBLE_EQ(large.step, 5e5);
  EXPECT_EQ(large.label(1.5e6), "1.5e+06");
  const Axis small = linear_axis(0, 4e-5, 4);
  EXPECT_DOUBLE_EQ(small.step, 1e-5);
  EXPECT_EQ(small.label(3e-5), "3e-05");
}

TEST(report_svg, log_ticks_are_powers_of_ten_inside_a_tight_domain) {
  const Axis axis = log_axis(0.0077, 1.1);
  EXPECT_DOUBLE_EQ(axis.lo, 0.005);
  EXPECT_DOUBLE_EQ(axis.hi, 2);
  EXPECT_EQ(labels(axis), (std::vector<std::string>{"0.01", "0.1", "1"}));
  const Axis exact = log_axis(0.01, 100);
  EXPECT_DOUBLE_EQ(exact.lo, 0.01);
  EXPECT_DOUBLE_EQ(exact.hi, 100);
  EXPECT_EQ(labels(exact), (std::vector<std::string>{"0.01", "0.1", "1", "10", "100"}));
  EXPECT_NEAR(exact.position(1), 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(axis.position(0)));
  EXPECT_TRUE(std::isnan(axis.position(-1)));
  const Axis wide = log_axis(1e-9, 1e3);
  EXPECT_EQ(labels(wide), (std::vector<std::string>{"1e-9", "1e-7", "1e-5", "0.001", "0.1", "10", "1000"}));
}

TEST(report_svg, log_scale_only_past_two_decades_of_positive_values) {
  EXPECT_FALSE(wants_log(0.1, 5));
  EXPECT_TRUE(wants_log(0.01, 1.5));
  EXPECT_FALSE(wants_log(0, 100));
  EXPECT_FALSE(wants_log(-1, 1000));
}

TEST(report_svg, positions_run_from_lo_to_hi) {
  const Axis axis = linear_axis(0, 1, 5);
  EXPECT_DOUBLE_EQ(axis.position(0.25), 0.25);
  EXPECT_TRUE(std::isnan(axis.position(kNaN)));
  EXPECT_TRUE(std::isnan(axis.position(std::numeric_limits<double>::infinity())));
}

TEST(report_svg, a_chart_has_one_path_per_series_and_breaks_at_nan) {
  Chart chart;
  chart.tag = "loss/<l1>";
  chart.width = 300;
  chart.height = 200;
  chart.series.push_back(
      {"a&b", "#4e79a7", SeriesStyle::raw, {{0, 1.0}, {10, 0.5}, {20, kNaN}, {30, 0.25}, {40, 0.2}}});
  chart.series.push_back({"c", "#f28e2b", SeriesStyle::smooth, {{0, 0.9}, {40, 0.3}}});
  const std::string svg = render_chart(chart);
  EXPECT_EQ(svg.rfind("<svg class=\"chart\" data-tag=\"loss/&lt;l1&gt;\" viewBox=\"0 0 300 200\"", 0), 0u) << svg;
  EXPECT_EQ(count(svg, "<path "), 2u);
  EXPECT_EQ(count(svg, "<path class=\"raw\" data-run=\"a&amp;b\" stroke=\"#4e79a7\" d=\"M"), 1u);
  EXPECT_EQ(count(svg, "<path class=\"smooth\" data-run=\"c\""), 1u);
  // The raw line is two pieces: two "M" in its d attribute.
  const auto d = svg.find(" d=\"", svg.find("class=\"raw\""));
  const std::string raw_d = svg.substr(d, svg.find('"', d + 4) - d);
  EXPECT_EQ(count(raw_d, "M"), 2u) << raw_d;
  // The plot area starts right of the widest y label ("1.0": 13 + 12 + 3 × 6.8 = 45.4) and
  // ends 16 before the right edge; step 0 is at its left, value 1.0 at its top (y = 12).
  EXPECT_NE(svg.find("M45.4,12.0 L"), std::string::npos) << svg;
  EXPECT_NE(svg.find("L284.0,"), std::string::npos) << svg;  // step 40 at 300 - 16
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
}

TEST(report_svg, a_lone_point_is_a_dot_and_points_have_tooltips) {
  Chart chart;
  chart.tag = "eval/l1";
  chart.series.push_back({"r", "#e15759", SeriesStyle::points, {{5, 0.3}}});
  chart.markers.push_back({{5, 0.3}, "#e15759", "best of r"});
  const std::string svg = render_chart(chart);
  EXPECT_NE(svg.find("h0\"/>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>r: 0.3 at step 5</title>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("class=\"marker\""), std::string::npos);
  EXPECT_NE(svg.find("<title>best of r</title>"), std::string::npos);
}

TEST(report_svg, wide_ranges_get_a_log_axis_and_no_values_get_a_note) {
  Chart chart;
  chart.tag = "loss/x";
  chart.series.push_back({"r", "#000", SeriesStyle::smooth, {{0, 1.0}, {1, 1e-4}}});
  EXPECT_NE(render_chart(chart).find("loss/x (log)"), std::string::npos);
  chart.allow_log = false;
  EXPECT_EQ(render_chart(chart).find("(log)"), std::string::npos);

  Chart empty;
  empty.tag = "loss/nan";
  empty.series.push_back({"r", "#000", SeriesStyle::smooth, {{0, kNaN}}});
  const std::string svg = render_chart(empty);
  EXPECT_NE(svg.find("loss/nan: no finite values"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<path"), std::string::npos);
}

}  // namespace
}  // namespace kiln::runner::report
