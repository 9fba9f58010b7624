// kiln::Schedule: at multiples of N steps whatever came before (a resumed run stays on its grid),
// or every T seconds in this process (its first call due); at most once per step.
#include "kiln/schedule.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "document.hpp"

namespace kiln {
namespace {

using namespace std::chrono_literals;
using Clock = Schedule::Clock;

const Clock::time_point kStart{};  // the clock never moves unless a test says so

/// The steps of 0..last at which the schedule is due, asked once per step at time kStart.
std::vector<std::int64_t> due_steps(Schedule& schedule, std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> due;
  for (std::int64_t step = first; step <= last; ++step)
    if (schedule.due(step, kStart)) due.push_back(step);
  return due;
}

/// The message of the error `action` throws; "no error" when it throws none.
template <class Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

Config table(const std::string& body) {
  return detail::Document::parse("[[hooks]]\nplugin = \"x\"\n" + body, "exp.toml")->root().tables("hooks").at(0);
}

TEST(schedule, rejects_negative_periods) {
  EXPECT_EQ(error_of([] { Schedule(-1, 0); }), "a schedule's every_steps must be 0 or more, got -1");
  EXPECT_EQ(error_of([] { Schedule(0, -0.5); }), "a schedule's every_secs must be 0 or more, got -0.5");
  EXPECT_EQ(error_of([] { Schedule::from_config(table("every_steps = -3\n"), 10); }),
            "exp.toml:3:15: hooks.x.every_steps: must be 0 or more, got -3");
}

TEST(schedule, without_a_period_is_never_due) {
  Schedule never;
  EXPECT_FALSE(never.enabled());
  EXPECT_THAT(due_steps(never, 0, 50), ::testing::IsEmpty());
  Schedule zero(0, 0);
  EXPECT_FALSE(zero.due(0, kStart));
}

TEST(schedule, by_steps_is_due_at_multiples_including_a_fresh_runs_first_step) {
  Schedule every_ten(10, 0);
  EXPECT_THAT(due_steps(every_ten, 0, 35), ::testing::ElementsAre(0, 10, 20, 30));
  EXPECT_EQ(every_ten.last_step(), 30);
}

TEST(schedule, by_steps_a_resumed_run_is_due_at_the_steps_of_an_uninterrupted_one) {
  Schedule uninterrupted(100, 0);
  const std::vector<std::int64_t> expected = due_steps(uninterrupted, 0, 2500);
  // A run stopped after step 1036 and resumed in a new process (a new Schedule) at 1037.
  Schedule before(100, 0);
  Schedule resumed(100, 0);
  std::vector<std::int64_t> fired = due_steps(before, 0, 1036);
  const std::vector<std::int64_t> after = due_steps(resumed, 1037, 2500);
  fired.insert(fired.end(), after.begin(), after.end());
  EXPECT_EQ(fired, expected);
  EXPECT_THAT(after, ::testing::ElementsAre(1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100, 2200,
                                            2300, 2400, 2500));
  // The first call in a process is due only on the grid: not at 1037.
  Schedule other(100, 0);
  EXPECT_FALSE(other.due(1037, kStart));
  EXPECT_TRUE(other.due(1100, kStart));
}

TEST(schedule, is_due_at_most_once_per_step) {
  Schedule schedule(1, 0.001);
  EXPECT_TRUE(schedule.due(5, kStart));
  EXPECT_FALSE(schedule.due(5, kStart + 1h));
  EXPECT_TRUE(schedule.due(6, kStart + 1h));
}

TEST(schedule, by_seconds_is_due_once_the_period_has_passed_since_it_was_last_due) {
  Schedule schedule(0, 2.0);
  EXPECT_TRUE(schedule.due(0, kStart));  // the first call
  EXPECT_FALSE(schedule.due(1, kStart + 1s));
  EXPECT_FALSE(schedule.due(2, kStart + 1999ms));
  EXPECT_TRUE(schedule.due(3, kStart + 2s));
  EXPECT_FALSE(schedule.due(4, kStart + 3s));  // 1 s since step 3
  EXPECT_TRUE(schedule.due(5, kStart + 5s));
}

TEST(schedule, by_steps_or_seconds_is_due_when_either_is) {
  Schedule schedule(100, 1.0);
  EXPECT_TRUE(schedule.due(0, kStart));
  EXPECT_TRUE(schedule.due(7, kStart + 1s));   // by time
  EXPECT_FALSE(schedule.due(8, kStart + 1s));
  EXPECT_TRUE(schedule.due(100, kStart + 1s));  // by steps
  EXPECT_FALSE(schedule.due(101, kStart + 1500ms));  // 0.5 s since step 100
}

TEST(schedule, reset_starts_the_time_period_again_and_leaves_the_step_grid_alone) {
  Schedule by_time(0, 60.0);
  EXPECT_TRUE(by_time.due(0, kStart));
  EXPECT_FALSE(by_time.due(3, kStart + 1s));
  by_time.reset();
  EXPECT_FALSE(by_time.last_step().has_value());
  EXPECT_TRUE(by_time.due(4, kStart + 2s));  // due as a first call is
  Schedule by_steps(10, 0);
  EXPECT_TRUE(by_steps.due(0, kStart));
  by_steps.reset();
  EXPECT_FALSE(by_steps.due(4, kStart));
  EXPECT_TRUE(by_steps.due(10, kStart));
}

TEST(schedule, reads_every_steps_and_every_secs_from_a_hook_table) {
  const Config config = table("every_steps = 25\nevery_secs = 1.5\n");
  const Schedule schedule = Schedule::from_config(config, 100);
  EXPECT_EQ(schedule.every_steps(), 25);
  EXPECT_EQ(schedule.every_secs(), 1.5);
  EXPECT_THAT(config.unread_keys(), ::testing::ElementsAre("hooks.x.plugin"));

  const Schedule defaults = Schedule::from_config(table(""), 100, 30);
  EXPECT_EQ(defaults.every_steps(), 100);
  EXPECT_EQ(defaults.every_secs(), 30);
}

}  // namespace
}  // namespace kiln
