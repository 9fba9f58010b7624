// The median stopping rule's arithmetic: values at or before a step, the median, worse by mode.
#include "sweep/median.hpp"

#include <gtest/gtest.h>

namespace {

using kiln::runner::sweep::median_at;
using kiln::runner::sweep::Series;
using kiln::runner::sweep::value_at;
using kiln::runner::sweep::worse;

TEST(sweep_median, takes_each_series_at_its_nearest_step_at_or_before) {
  const Series series{{0, 1.0}, {10, 0.5}, {20, 0.25}};
  EXPECT_FALSE(value_at(series, -1));
  EXPECT_EQ(*value_at(series, 0), 1.0);
  EXPECT_EQ(*value_at(series, 15), 0.5);
  EXPECT_EQ(*value_at(series, 99), 0.25);
}

TEST(sweep_median, needs_two_finished_values) {
  EXPECT_FALSE(median_at({Series{{0, 1.0}}}, 5));
  EXPECT_FALSE(median_at({Series{{0, 1.0}}, Series{{10, 2.0}}}, 5));  // the second has nothing at 5 yet
  EXPECT_EQ(*median_at({Series{{0, 1.0}}, Series{{0, 2.0}}}, 5), 1.5);
  EXPECT_EQ(*median_at({Series{{0, 3.0}}, Series{{0, 1.0}}, Series{{0, 2.0}}}, 5), 2.0);
}

TEST(sweep_median, worse_follows_the_mode) {
  EXPECT_TRUE(worse(2.0, 1.0, "min"));
  EXPECT_FALSE(worse(1.0, 1.0, "min"));
  EXPECT_TRUE(worse(0.5, 1.0, "max"));
  EXPECT_FALSE(worse(2.0, 1.0, "max"));
}

}  // namespace
