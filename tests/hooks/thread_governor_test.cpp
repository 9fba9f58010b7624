// ThreadGovernor: on a simulated machine whose step time depends on the thread count and on
// another process's load, it keeps whichever count is clearly faster, and says so.
#include "hooks/thread_governor.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "train/null_run.hpp"

namespace kiln::runner {
namespace {

using Clock = ThreadGovernor::Clock;

class EventRun final : public NullRun {
 public:
  void event(std::string_view kind, std::string_view message) override {
    events.emplace_back(std::string(kind), std::string(message));
  }
  std::vector<std::pair<std::string, std::string>> events;
};

/// A machine where a step takes `step_ms(threads)` milliseconds; the governor's clock.
class SimulatedMachine {
 public:
  explicit SimulatedMachine(std::function<double(int)> step_ms, int cores = 2) : step_ms_(std::move(step_ms)) {
    options.max_threads = cores;
    options.set_threads = [this](int threads) { threads_ = threads; };
    options.clock = [this] { return now_; };
  }

  /// Runs `steps` steps through the governor; returns the thread count of each.
  std::vector<int> run(ThreadGovernor& governor, int steps) {
    std::vector<int> used;
    for (int i = 0; i < steps; ++i) {
      used.push_back(threads_);
      now_ += std::chrono::microseconds(static_cast<long>(1000 * step_ms_(threads_)));
      Step step(run_, step_++);
      governor.after_step(step);
    }
    return used;
  }

  void set_step_ms(std::function<double(int)> step_ms) { step_ms_ = std::move(step_ms); }
  int threads() const { return threads_; }

  ThreadGovernor::Options options;
  EventRun run_;

 private:
  std::function<double(int)> step_ms_;
  Clock::time_point now_{};
  int threads_ = 0;
  std::int64_t step_ = 0;
};

// The numbers measured with pix2pix on 2 cores (bench/contention.cpp).
double idle(int threads) { return threads == 2 ? 60.0 : 80.0; }
double busy(int threads) { return threads == 2 ? 270.0 : 95.0; }

TEST(thread_governor, keeps_every_core_on_an_idle_machine) {
  SimulatedMachine machine(idle);
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  EXPECT_EQ(machine.threads(), 2);
  const std::vector<int> used = machine.run(governor, 1000);
  EXPECT_EQ(governor.threads(), 2);
  EXPECT_TRUE(machine.run_.events.empty());
  // The probes at 1 thread are few: a window after the warm-up, then ever rarer.
  const auto probing = std::count(used.begin(), used.end(), 1);
  EXPECT_GT(probing, 0);
  EXPECT_LE(probing, 40) << "probing must cost a few percent of the steps, not more";
}

TEST(thread_governor, drops_to_one_thread_beside_a_busy_process_and_says_why) {
  SimulatedMachine machine(busy);
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  const std::vector<int> used = machine.run(governor, 200);
  EXPECT_EQ(governor.threads(), 1);
  // Warm-up (3) and a window (6) at 2 threads, then the probe decides.
  EXPECT_EQ(used[15], 1);
  ASSERT_EQ(machine.run_.events.size(), 1u);
  EXPECT_EQ(machine.run_.events[0].first, "threads");
  EXPECT_EQ(machine.run_.events[0].second,
            "intra-op threads 2 -> 1: a step took 270.0 ms at 2 and 95.0 ms at 1 (other processes are using the cores)");
  // Later probes at 2 threads find it still slower and go back.
  EXPECT_EQ(std::count(used.begin() + 20, used.end(), 2), 6 + 1) << "one probe window (plus its first step) in 180 steps";
}

TEST(thread_governor, goes_back_to_every_core_when_the_other_process_ends) {
  SimulatedMachine machine(busy);
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  machine.run(governor, 100);
  ASSERT_EQ(governor.threads(), 1);
  machine.set_step_ms(idle);
  machine.run(governor, 400);
  EXPECT_EQ(governor.threads(), 2);
  ASSERT_EQ(machine.run_.events.size(), 2u);
  EXPECT_EQ(machine.run_.events[1].second, "intra-op threads 1 -> 2: a step took 80.0 ms at 1 and 60.0 ms at 2");
}

TEST(thread_governor, small_differences_do_not_switch) {
  // 10% apart: below the 15% a switch needs, so noise cannot make it flap.
  SimulatedMachine machine([](int threads) { return threads == 2 ? 100.0 : 95.0; });
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  machine.run(governor, 500);
  EXPECT_EQ(governor.threads(), 2);
  EXPECT_TRUE(machine.run_.events.empty());
}

TEST(thread_governor, one_slow_step_in_a_window_does_not_decide) {
  // An evaluation or a save makes one step of a window slow; the median ignores it.
  int step = 0;
  SimulatedMachine machine([&step](int threads) { return ++step == 13 ? 5000.0 : idle(threads); });
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  machine.run(governor, 100);
  EXPECT_EQ(governor.threads(), 2);
  EXPECT_TRUE(machine.run_.events.empty());
}

TEST(thread_governor, halves_and_doubles_on_a_larger_machine) {
  // 8 cores, 3 taken: 4 threads is best, 8 and 2 are worse.
  SimulatedMachine machine([](int threads) { return threads == 8 ? 200.0 : threads == 4 ? 50.0 : threads == 2 ? 70.0 : 120.0; },
                           /*cores=*/8);
  ThreadGovernor governor(machine.options);
  governor.begin(machine.run_);
  EXPECT_EQ(machine.threads(), 8);
  machine.run(governor, 2000);
  EXPECT_EQ(governor.threads(), 4);
  ASSERT_EQ(machine.run_.events.size(), 1u);
  EXPECT_EQ(machine.run_.events[0].second,
            "intra-op threads 8 -> 4: a step took 200.0 ms at 8 and 50.0 ms at 4 (other processes are using the cores)");
}

}  // namespace
}  // namespace kiln::runner
