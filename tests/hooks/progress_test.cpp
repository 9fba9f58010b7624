// The supervisor's progress: loss averages, the rate window, durations, widths. Torch-free,
// like kiln::cli, whose part it is; the progress key and its modes are in supervisor_test.cpp.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "hooks/progress.hpp"
#include "report/format.hpp"

namespace kiln::runner {
namespace {

TEST(loss_average, has_no_value_before_the_first_step) {
  EXPECT_EQ(LossAverage(0.98).value(), std::nullopt);
}

TEST(loss_average, is_debiased_so_the_first_value_is_itself) {
  LossAverage average(0.98);
  average.add(2.0);
  ASSERT_TRUE(average.value());
  EXPECT_DOUBLE_EQ(*average.value(), 2.0);  // biased it would be 0.04
}

TEST(loss_average, weighs_recent_values_more_by_the_decay) {
  LossAverage average(0.5);
  average.add(4.0);  // biased 2, weight 0.5
  average.add(0.0);  // biased 1, weight 0.75
  EXPECT_DOUBLE_EQ(*average.value(), 4.0 / 3.0);
  average.add(1.0);  // biased 1, weight 0.875
  EXPECT_DOUBLE_EQ(*average.value(), 1.0 / 0.875);
}

TEST(loss_average, of_a_constant_is_that_constant_at_every_step) {
  LossAverage average(0.98);
  for (int i = 0; i < 500; ++i) {
    average.add(0.25);
    ASSERT_NEAR(*average.value(), 0.25, 1e-12) << "after " << i + 1 << " values";
  }
}

TEST(loss_average, ignores_nan_and_infinity) {
  LossAverage average(0.9);
  average.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(average.value(), std::nullopt);
  average.add(3.0);
  average.add(std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(*average.value(), 3.0);
}

TEST(rate_window, has_no_rate_until_time_passes) {
  RateWindow window(0.25);
  EXPECT_EQ(window.rate(), std::nullopt);
  window.add(1.0, 10);
  EXPECT_EQ(window.rate(), std::nullopt);
  window.add(1.0, 20);  // no time between the two
  EXPECT_EQ(window.rate(), std::nullopt);
}

TEST(rate_window, counts_from_the_oldest_sample_to_the_latest_step) {
  RateWindow window(0.25);
  window.add(0.0, 0);
  window.add(0.1, 50);  // too close to keep, but it is the latest
  EXPECT_DOUBLE_EQ(*window.rate(), 500.0);
  window.add(2.0, 100);
  EXPECT_DOUBLE_EQ(*window.rate(), 50.0);
}

TEST(rate_window, forgets_what_is_older_than_its_capacity) {
  RateWindow window(1.0);
  // 100 steps/s for 100 s, then 10 steps/s: once the ring has turned over, only the recent rate counts.
  for (int t = 0; t <= 100; ++t) window.add(t, t * 100);
  EXPECT_DOUBLE_EQ(*window.rate(), 100.0);
  for (int t = 101; t <= 100 + static_cast<int>(RateWindow::kCapacity); ++t) window.add(t, 10000 + (t - 100) * 10);
  EXPECT_DOUBLE_EQ(*window.rate(), 10.0);
}

TEST(rate_window, mixes_the_two_rates_while_the_ring_turns_over) {
  RateWindow window(1.0);
  for (int t = 0; t <= 100; ++t) window.add(t, t * 100);
  window.add(101, 10010);
  // The oldest kept sample is t = 101 - 31 = 70, step 7000: 3010 steps in 31 s.
  EXPECT_DOUBLE_EQ(*window.rate(), 3010.0 / 31.0);
}

TEST(format_clock, is_hours_minutes_seconds) {
  EXPECT_EQ(report::format_clock(0), "0:00:00");
  EXPECT_EQ(report::format_clock(7.4), "0:00:07");
  EXPECT_EQ(report::format_clock(59.6), "0:01:00");
  EXPECT_EQ(report::format_clock(3723), "1:02:03");
  EXPECT_EQ(report::format_clock(100000), "27:46:40");
}

TEST(format_clock, of_an_unknown_time_is_dashes) {
  EXPECT_EQ(report::format_clock(-1), "-:--:--");
  EXPECT_EQ(report::format_clock(std::numeric_limits<double>::infinity()), "-:--:--");
  EXPECT_EQ(report::format_clock(std::numeric_limits<double>::quiet_NaN()), "-:--:--");
}

TEST(format_rate, keeps_three_digits_without_an_exponent) {
  EXPECT_EQ(format_rate(2345.4), "2345");
  EXPECT_EQ(format_rate(123.4), "123");
  EXPECT_EQ(format_rate(12.34), "12.3");
  EXPECT_EQ(format_rate(1.234), "1.23");
  EXPECT_EQ(format_rate(0.4567), "0.457");
}

TEST(fit_to_width, cuts_to_the_columns) {
  EXPECT_EQ(fit_to_width("step 1/10  ETA 0:00:01", 9), "step 1/10");
  EXPECT_EQ(fit_to_width("short", 80), "short");
  EXPECT_EQ(fit_to_width("exactly", 7), "exactly");
  EXPECT_EQ(fit_to_width("", 3), "");
}

TEST(fit_to_width, never_cuts_a_character_in_half) {
  // "é" is two bytes and "→" three: each is one column.
  EXPECT_EQ(fit_to_width("d\xc3\xa9j\xc3\xa0", 2), "d\xc3\xa9");
  EXPECT_EQ(fit_to_width("a\xe2\x86\x92" "b", 2), "a\xe2\x86\x92");
  EXPECT_EQ(fit_to_width("\xe2\x86\x92", 1), "\xe2\x86\x92");
}

TEST(fit_to_width, without_a_width_keeps_everything) {
  EXPECT_EQ(fit_to_width("anything", 0), "anything");
  EXPECT_EQ(fit_to_width("anything", -5), "anything");
}

TEST(format_progress, shows_step_rate_eta_elapsed_and_loss_averages) {
  ProgressReport report;
  report.step = 120;
  report.max_steps = 1000;
  report.elapsed = 65;
  report.rate = 8.0;  // 880 steps left: 110 s
  report.losses = {{"gan", 0.693147}, {"l1", 0.0123456}, {"nothing_yet", std::nullopt}};
  EXPECT_EQ(format_progress(report),
            "step 120/1000  8.00 steps/s  ETA 0:01:50  elapsed 0:01:05  ema gan 0.69315  l1 0.012346");
}

TEST(format_progress, without_a_rate_has_an_unknown_eta) {
  ProgressReport report;
  report.step = 1;
  report.max_steps = 10;
  EXPECT_EQ(format_progress(report), "step 1/10  ETA -:--:--  elapsed 0:00:00");
  report.rate = 0.0;  // stalled
  EXPECT_EQ(format_progress(report), "step 1/10  0.000 steps/s  ETA -:--:--  elapsed 0:00:00");
}

}  // namespace
}  // namespace kiln::runner
