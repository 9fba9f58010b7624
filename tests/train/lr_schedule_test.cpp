// An optimizer's `schedule` table: each built-in type gives PyTorch's learning rates, warmup
// multiplies any schedule, plugins load from a library, and every bad key is a positioned error.
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/lr_schedule.hpp"
#include "train/null_run.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

/// Where tests/fixtures/fixture_schedule.cpp is built: a folder of its own.
constexpr const char* kScheduleFixtureDir = KILN_FIXTURE_DIR "/../schedule";

/// The mlp experiment of `max_steps` steps whose one optimizer (lr 0.1) has the lines
/// `schedule` after its own, which begin on line 23 of the file.
std::string with_schedule(const std::string& schedule, long max_steps) {
  std::string text = mlp_experiment("", max_steps);
  const std::string lr = "lr = 1e-2";
  text.replace(text.find(lr), lr.size(), "lr = 0.1");
  return text + schedule;
}

/// An experiment file read and its optimizer's schedule built, with the host that built it.
struct Read {
  TempDir dir;
  std::filesystem::path file;
  ExperimentSpec spec;
  PluginHost host{{kScheduleFixtureDir}, KILN_PLUGIN_DIR};
  std::unique_ptr<PhaseSchedule> schedule;

  Read(const std::string& schedule_lines, long max_steps)
      : file(write_text(dir, "exp.toml", with_schedule(schedule_lines, max_steps))), spec(load_experiment(file)) {
    schedule = read_schedule(spec.optimizers.at(0).config, host, spec.max_steps);
  }
};

std::unique_ptr<PhaseSchedule> schedule_of(const std::string& schedule_lines, long max_steps = 20) {
  return Read(schedule_lines, max_steps).schedule;
}

/// The ConfigError reading `schedule_lines` gives (or the one an unread key gives after),
/// with the file's path shown as exp.toml.
std::string error_of(const std::string& schedule_lines, long max_steps = 20) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", with_schedule(schedule_lines, max_steps));
  try {
    const ExperimentSpec spec = load_experiment(file);
    const Config& optimizer = spec.optimizers.at(0).config;
    PluginHost host({kScheduleFixtureDir}, KILN_PLUGIN_DIR);
    read_schedule(optimizer, host, spec.max_steps);
    optimizer.table("schedule").reject_unread("optimizer 'adam'");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

/// The schedule's rates at `expected`'s steps, asked in increasing order, with base lr 0.1,
/// against the expected ones to 1e-12 relative.
void expect_rates(PhaseSchedule& schedule, const std::map<std::int64_t, double>& expected) {
  NullRun run;
  for (const auto& [step, rate] : expected)
    EXPECT_NEAR(schedule.lr(step, 0.1, run), rate, 1e-12 * rate + 1e-18) << "step " << step;
}

// The expected rates below are what torch.optim.lr_scheduler 1.13 gives (SGD, lr 0.1): the
// rate of the update after k calls of scheduler.step(), read from param_groups[0]["lr"]; e.g.
//   sched = StepLR(opt, step_size=3, gamma=0.5)
//   for k in range(11): rates[k] = opt.param_groups[0]["lr"]; opt.step(); sched.step()
// Where PyTorch has no such schedule (warmup, pix2pix's decay), LambdaLR with the formula
// written out gave them. tests/train/lr_schedule_reference.py prints them all.

TEST(lr_schedule, no_schedule_table_gives_none) { EXPECT_EQ(schedule_of(""), nullptr); }

TEST(lr_schedule, constant_keeps_the_base_rate) {
  const auto schedule = schedule_of("schedule = { type = \"constant\" }\n");
  expect_rates(*schedule, {{0, 0.1}, {7, 0.1}, {1000000, 0.1}});
  EXPECT_EQ(schedule->description(), "constant");
  NullRun run;
  EXPECT_DOUBLE_EQ(schedule->lr(3, 2e-4, run), 2e-4);
}

TEST(lr_schedule, step_is_steplr) {
  // StepLR(step_size=3, gamma=0.5)
  const auto schedule = schedule_of("schedule = { type = \"step\", step_size = 3, gamma = 0.5 }\n");
  expect_rates(*schedule, {{0, 0.1}, {2, 0.1}, {3, 0.05}, {5, 0.05}, {6, 0.025}, {10, 0.0125}});
  EXPECT_EQ(schedule->description(), "step (step_size 3, gamma 0.5)");
  EXPECT_EQ(schedule_of("schedule = { type = \"step\", step_size = 3 }\n")->description(),
            "step (step_size 3, gamma 0.1)");
}

TEST(lr_schedule, multistep_is_multisteplr) {
  // MultiStepLR(milestones=[2, 5, 9]), gamma 0.1 by default
  const auto schedule = schedule_of("[optimizers.schedule]\ntype = \"multistep\"\nmilestones = [2, 5, 9]\n");
  expect_rates(*schedule, {{0, 0.1},
                           {1, 0.1},
                           {2, 0.010000000000000002},
                           {4, 0.010000000000000002},
                           {5, 0.0010000000000000002},
                           {8, 0.0010000000000000002},
                           {9, 0.00010000000000000003},
                           {20, 0.00010000000000000003}});
  EXPECT_EQ(schedule->description(), "multistep (milestones [2, 5, 9], gamma 0.1)");
}

TEST(lr_schedule, exponential_is_exponentiallr) {
  // ExponentialLR(gamma=0.9)
  const auto schedule = schedule_of("schedule = { type = \"exponential\", gamma = 0.9 }\n");
  expect_rates(*schedule, {{0, 0.1}, {1, 0.09000000000000001}, {5, 0.05904900000000002}, {20, 0.01215766545905694}});
  EXPECT_EQ(schedule->description(), "exponential (gamma 0.9)");
}

TEST(lr_schedule, cosine_is_cosineannealinglr_then_holds_min_lr) {
  // CosineAnnealingLR(T_max=10, eta_min=0.001)
  const auto schedule = schedule_of("schedule = { type = \"cosine\", total_steps = 10, min_lr = 0.001 }\n");
  expect_rates(*schedule, {{0, 0.1},
                           {1, 0.09757729755661011},
                           {3, 0.07959536998847742},
                           {5, 0.0505},
                           {9, 0.0034227024433899004},
                           {10, 0.001},
                           // PyTorch's would rise again after T_max; kiln's stays down.
                           {11, 0.001},
                           {15, 0.001},
                           {1000, 0.001}});
  EXPECT_EQ(schedule->description(), "cosine (total_steps 10, min_lr 0.001)");
  // Over the run's max_steps by default, down to 0.
  const auto whole_run = schedule_of("schedule = { type = \"cosine\" }\n", /*max_steps=*/10);
  EXPECT_EQ(whole_run->description(), "cosine (total_steps 10, min_lr 0)");
  expect_rates(*whole_run, {{5, 0.05}, {10, 0.0}});
}

TEST(lr_schedule, linear_is_linearlr) {
  // LinearLR(start_factor=0.25, end_factor=1.0, total_iters=4)
  const auto rising =
      schedule_of("schedule = { type = \"linear\", start_factor = 0.25, end_factor = 1.0, total_steps = 4 }\n");
  expect_rates(*rising, {{0, 0.025},
                         {1, 0.043750000000000004},
                         {2, 0.06250000000000001},
                         {3, 0.08125000000000002},
                         {4, 0.10000000000000002},
                         {6, 0.10000000000000002}});
  EXPECT_EQ(rising->description(), "linear (start_factor 0.25, end_factor 1, start_step 0, total_steps 4)");
  // LinearLR(start_factor=1.0, end_factor=0.0, total_iters=10): the defaults over max_steps.
  const auto falling = schedule_of("schedule = { type = \"linear\" }\n", /*max_steps=*/10);
  expect_rates(*falling, {{0, 0.1}, {1, 0.09000000000000001}, {5, 0.05000000000000001}, {9, 0.010000000000000004}});
  EXPECT_EQ(falling->description(), "linear (start_factor 1, end_factor 0, start_step 0, total_steps 10)");
}

TEST(lr_schedule, linear_from_start_step_is_pix2pixs_decay) {
  // LambdaLR(lambda k: 1 - max(0, k - 5) / 5): constant for half the run, then down to 0.
  const auto schedule = schedule_of("schedule = { type = \"linear\", start_step = 5 }\n", /*max_steps=*/10);
  expect_rates(*schedule, {{0, 0.1}, {4, 0.1}, {5, 0.1}, {6, 0.08000000000000002}, {9, 0.019999999999999997}, {10, 0}});
  EXPECT_EQ(schedule->description(), "linear (start_factor 1, end_factor 0, start_step 5, total_steps 5)");

  // start_fraction: the same recipe for a run of any length (rounded down to a step).
  const auto half = schedule_of("schedule = { type = \"linear\", start_fraction = 0.5 }\n", /*max_steps=*/10);
  expect_rates(*half, {{0, 0.1}, {4, 0.1}, {5, 0.1}, {6, 0.08000000000000002}, {9, 0.019999999999999997}, {10, 0}});
  EXPECT_EQ(half->description(), "linear (start_factor 1, end_factor 0, start_step 5, total_steps 5)");
  EXPECT_EQ(schedule_of("schedule = { type = \"linear\", start_fraction = 0.5 }\n", 2000)->description(),
            "linear (start_factor 1, end_factor 0, start_step 1000, total_steps 1000)");
  EXPECT_EQ(schedule_of("schedule = { type = \"linear\", start_fraction = 0.5 }\n", 7)->description(),
            "linear (start_factor 1, end_factor 0, start_step 3, total_steps 4)");
}

TEST(lr_schedule, onecycle_is_onecyclelrs_rate) {
  // OneCycleLR(max_lr=0.1, total_steps=20): pct_start 0.3, cos, div_factor 25, final_div_factor 1e4
  const auto cos = schedule_of("schedule = { type = \"onecycle\", max_lr = 0.1, total_steps = 20 }\n");
  expect_rates(*cos, {{0, 0.0040000000000000036},
                      {1, 0.013167184270002533},
                      {3, 0.06683281572999747},
                      {5, 0.1},
                      {6, 0.09874640062350874},
                      {10, 0.07169430017913009},
                      {19, 4e-07},
                      // PyTorch refuses steps past total_steps; kiln keeps the last rate.
                      {20, 4e-07},
                      {100, 4e-07}});
  EXPECT_EQ(cos->description(),
            "onecycle (max_lr 0.1, total_steps 20, pct_start 0.3, anneal_strategy cos, div_factor 25, "
            "final_div_factor 10000, three_phase false)");

  // OneCycleLR(max_lr=0.1, total_steps=20, anneal_strategy="linear"); max_lr is the lr here.
  const auto linear = schedule_of("schedule = { type = \"onecycle\", anneal_strategy = \"linear\" }\n", 20);
  expect_rates(*linear, {{0, 0.004}, {3, 0.0616}, {5, 0.1}, {12, 0.0500002}, {19, 3.999999999976245e-07}});
  EXPECT_NE(linear->description().find("max_lr as lr"), std::string::npos) << linear->description();

  // OneCycleLR(max_lr=0.1, total_steps=20, pct_start=0.25, three_phase=True, div_factor=10,
  //            final_div_factor=100)
  const auto three = schedule_of(
      "schedule = { type = \"onecycle\", max_lr = 0.1, pct_start = 0.25, three_phase = true, div_factor = 10, "
      "final_div_factor = 100 }\n");
  expect_rates(*three, {{0, 0.009999999999999995},
                        {2, 0.055},
                        {4, 0.1},
                        {6, 0.05500000000000001},
                        {8, 0.01},
                        {12, 0.007106304314359339},
                        {19, 0.0001}});
}

TEST(lr_schedule, warmup_multiplies_any_schedule) {
  // LambdaLR(lambda k: (0.01 + 0.99 * (1 + cos(pi * k / 10)) / 2) * (0.2 + 0.8 * min(k, 4) / 4)):
  // cosine(total_steps 10, min_lr 0.001) warmed up over 4 steps from 0.2.
  const auto cosine = schedule_of(
      "schedule = { type = \"cosine\", total_steps = 10, min_lr = 0.001, warmup_steps = 4, warmup_start_factor = 0.2 "
      "}\n");
  expect_rates(*cosine, {{0, 0.020000000000000004},
                         {1, 0.03903091902264405},
                         {2, 0.05432780473293595},
                         {3, 0.06367629599078194},
                         {4, 0.0657963412215599},
                         {5, 0.0505}});
  EXPECT_EQ(cosine->description(), "cosine (total_steps 10, min_lr 0.001), warmup 4 steps from 0.2x");
  EXPECT_EQ(cosine->warmup_steps(), 4);

  // From 0 by default: the first update is made at rate 0.
  const auto constant = schedule_of("schedule = { type = \"constant\", warmup_steps = 2 }\n");
  expect_rates(*constant, {{0, 0.0}, {1, 0.05}, {2, 0.1}, {3, 0.1}});
  EXPECT_EQ(constant->description(), "constant, warmup 2 steps from 0x");

  // A plugin's rate too: inverse_sqrt(scale 4) is flat at 0.1 for 4 steps.
  const auto plugin = schedule_of("schedule = { plugin = \"inverse_sqrt\", scale = 4, warmup_steps = 4 }\n");
  expect_rates(*plugin, {{0, 0.0}, {1, 0.025}, {3, 0.075}, {4, 0.0894427190999916}, {15, 0.05}});
  EXPECT_EQ(plugin->description(), "plugin 'inverse_sqrt', warmup 4 steps from 0x");
}

TEST(lr_schedule, a_plugin_is_built_from_the_table_with_its_own_keys) {
  Read read("[optimizers.schedule]\nplugin = \"inverse_sqrt\"\nlibrary = \"fixture_schedule\"\nscale = 9\n", 20);
  EXPECT_EQ(read.schedule->description(), "plugin 'inverse_sqrt' from 'fixture_schedule'");
  expect_rates(*read.schedule, {{0, 0.1}, {8, 0.1}, {35, 0.05}});
  ASSERT_EQ(read.host.records().size(), 1u);
  EXPECT_EQ(read.host.records().at(0).kind, "schedule");
  EXPECT_EQ(read.host.records().at(0).library, "fixture_schedule");
  EXPECT_EQ(read.host.records().at(0).name, "inverse_sqrt");

  // Its state goes through the PhaseSchedule both ways.
  const auto counting = schedule_of("schedule = { plugin = \"counting\" }\n");
  NullRun run;
  EXPECT_DOUBLE_EQ(counting->lr(0, 0.1, run), 0.1);
  EXPECT_DOUBLE_EQ(counting->lr(1, 0.1, run), 0.05);
  const TensorMap saved = counting->state();
  EXPECT_EQ(saved.at("calls").item<std::int64_t>(), 2);
  EXPECT_DOUBLE_EQ(counting->lr(2, 0.1, run), 0.025);
  counting->load_state(saved);
  EXPECT_DOUBLE_EQ(counting->lr(2, 0.1, run), 0.025);
  EXPECT_TRUE(schedule_of("schedule = { type = \"cosine\" }\n")->state().empty());
}

TEST(lr_schedule, a_negative_or_non_finite_rate_is_an_error_naming_the_schedule_and_step) {
  const auto falling = schedule_of("schedule = { plugin = \"falling\", slope = 0.04, warmup_steps = 2 }\n");
  NullRun run;
  EXPECT_NEAR(falling->lr(2, 0.1, run), 0.02, 1e-15);
  try {
    falling->lr(3, 0.1, run);
    FAIL() << "a negative rate was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "schedule plugin 'falling', warmup 2 steps from 0x: the rate at step 3 is -0.01999999999999999; a "
                 "learning rate must be a finite number, 0 or more");
  }

  // Checked before the warmup, whose factor 0 at step 0 would hide an infinite rate as nan.
  class Infinite : public LearningRateSchedule {
    double lr(std::int64_t, double, const RunContext&) override { return std::numeric_limits<double>::infinity(); }
  };
  PhaseSchedule infinite(std::make_shared<Infinite>(), "infinite", /*warmup_steps=*/10, /*warmup_start_factor=*/0);
  try {
    infinite.lr(0, 0.1, run);
    FAIL() << "an infinite rate was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "schedule infinite: the rate at step 0 is inf; a learning rate must be a finite number, 0 or more");
  }
  // An exponential growth that overflows is caught the same way.
  const auto overflowing = schedule_of("schedule = { type = \"step\", step_size = 1, gamma = 1e10 }\n");
  EXPECT_THROW(overflowing->lr(40, 0.1, run), Error);
}

TEST(lr_schedule, the_table_names_a_type_or_a_plugin) {
  EXPECT_EQ(error_of("schedule = \"cosine\"\n"),
            "exp.toml:23:12: optimizers.adam.schedule: must be a table naming a `type` or a `plugin`, e.g. schedule = "
            "{ type = \"cosine\", warmup_steps = 100 }");
  EXPECT_EQ(error_of("schedule = { warmup_steps = 10 }\n"),
            "exp.toml:23:12: [optimizers.adam.schedule]: needs a built-in `type` (constant, step, multistep, "
            "exponential, cosine, linear, onecycle) or a `plugin`");
  EXPECT_EQ(error_of("schedule = { type = \"cosine\", plugin = \"inverse_sqrt\" }\n"),
            "exp.toml:23:40: optimizers.adam.schedule.plugin: a schedule is a built-in `type` or a `plugin`, not both");
  EXPECT_EQ(error_of("schedule = { type = \"cosin\" }\n"),
            "exp.toml:23:21: optimizers.adam.schedule.type: expected \"constant\", \"step\", \"multistep\", "
            "\"exponential\", \"cosine\", \"linear\" or \"onecycle\", got \"cosin\"; did you mean \"cosine\"?");
  EXPECT_EQ(error_of("schedule = { type = \"cosine\", library = \"fixture_schedule\" }\n"),
            "exp.toml:23:41: optimizers.adam.schedule.library: goes with `plugin`: a built-in `type` has no library");
  EXPECT_EQ(error_of("schedule = { type = \"cosine\", gamma = 0.5 }\n"),
            "exp.toml:23:31: unknown key 'gamma' in [optimizers.adam.schedule] (optimizer 'adam') (known keys: "
            "library, min_lr, plugin, total_steps, type, warmup_start_factor, warmup_steps)");
}

TEST(lr_schedule, every_bad_key_is_an_error_at_its_position) {
  const std::map<std::string, std::string> cases = {
      {"schedule = { type = \"step\" }\n",
       "exp.toml:23:12: [optimizers.adam.schedule]: missing key 'step_size' (has: type)"},
      {"schedule = { type = \"step\", step_size = 0 }\n",
       "exp.toml:23:41: optimizers.adam.schedule.step_size: must be greater than 0, got 0"},
      {"schedule = { type = \"step\", step_size = 2, gamma = -0.5 }\n",
       "exp.toml:23:52: optimizers.adam.schedule.gamma: must be greater than 0, got -0.5"},
      {"schedule = { type = \"multistep\", milestones = [] }\n",
       "exp.toml:23:47: optimizers.adam.schedule.milestones: needs at least one step, e.g. milestones = [1000, 1500]"},
      {"schedule = { type = \"multistep\", milestones = [5, 0] }\n",
       "exp.toml:23:51: optimizers.adam.schedule.milestones[1]: must be greater than 0, got 0"},
      {"schedule = { type = \"multistep\", milestones = [5, 5] }\n",
       "exp.toml:23:47: optimizers.adam.schedule.milestones: must be strictly increasing, got 5 after 5"},
      {"schedule = { type = \"exponential\" }\n",
       "exp.toml:23:12: [optimizers.adam.schedule]: missing key 'gamma' (has: type)"},
      {"schedule = { type = \"exponential\", gamma = 1.5 }\n",
       "exp.toml:23:44: optimizers.adam.schedule.gamma: must be in (0, 1], got 1.5"},
      {"schedule = { type = \"exponential\", gamma = 0 }\n",
       "exp.toml:23:44: optimizers.adam.schedule.gamma: must be in (0, 1], got 0"},
      {"schedule = { type = \"cosine\", total_steps = 0 }\n",
       "exp.toml:23:45: optimizers.adam.schedule.total_steps: must be greater than 0, got 0"},
      {"schedule = { type = \"cosine\", min_lr = -1e-5 }\n",
       "exp.toml:23:40: optimizers.adam.schedule.min_lr: must be 0 or more, got -1e-05"},
      {"schedule = { type = \"linear\", start_factor = -1 }\n",
       "exp.toml:23:46: optimizers.adam.schedule.start_factor: must be 0 or more, got -1"},
      {"schedule = { type = \"linear\", start_step = 20 }\n",
       "exp.toml:23:44: optimizers.adam.schedule.start_step: must be less than max_steps (20) when total_steps is "
       "not given, got 20"},
      {"schedule = { type = \"linear\", start_step = 5, start_fraction = 0.5 }\n",
       "exp.toml:23:64: optimizers.adam.schedule.start_fraction: give start_step or start_fraction, not both"},
      {"schedule = { type = \"linear\", start_fraction = 1 }\n",
       "exp.toml:23:48: optimizers.adam.schedule.start_fraction: must be in [0, 1), got 1"},
      {"schedule = { type = \"linear\", start_step = -1 }\n",
       "exp.toml:23:44: optimizers.adam.schedule.start_step: must be 0 or more, got -1"},
      {"schedule = { type = \"onecycle\", max_lr = 0 }\n",
       "exp.toml:23:42: optimizers.adam.schedule.max_lr: must be greater than 0, got 0"},
      {"schedule = { type = \"onecycle\", pct_start = 1 }\n",
       "exp.toml:23:45: optimizers.adam.schedule.pct_start: must be in (0, 1), got 1"},
      {"schedule = { type = \"onecycle\", pct_start = 0.04 }\n",
       "exp.toml:23:45: optimizers.adam.schedule.pct_start: pct_start * total_steps must be more than 1 so that the "
       "rise has a step, got 0.04 * 20"},
      {"schedule = { type = \"onecycle\", pct_start = 0.6, three_phase = true }\n",
       "exp.toml:23:45: optimizers.adam.schedule.pct_start: leaves no steps for the third phase with three_phase and "
       "total_steps 20, got 0.6"},
      {"schedule = { type = \"onecycle\", anneal_strategy = \"cosine\" }\n",
       "exp.toml:23:51: optimizers.adam.schedule.anneal_strategy: expected \"cos\" or \"linear\", got \"cosine\""},
      {"schedule = { type = \"onecycle\", div_factor = 0 }\n",
       "exp.toml:23:46: optimizers.adam.schedule.div_factor: must be greater than 0, got 0"},
      {"schedule = { type = \"onecycle\", three_phase = 1 }\n",
       "exp.toml:23:47: optimizers.adam.schedule.three_phase: expected a boolean (true or false), got an integer"},
      {"schedule = { type = \"constant\", warmup_steps = -1 }\n",
       "exp.toml:23:48: optimizers.adam.schedule.warmup_steps: must be 0 or more, got -1"},
      {"schedule = { type = \"constant\", warmup_steps = 5, warmup_start_factor = 1.5 }\n",
       "exp.toml:23:73: optimizers.adam.schedule.warmup_start_factor: must be between 0 and 1, got 1.5"},
      {"schedule = { type = \"constant\", warmup_start_factor = 0.1 }\n",
       "exp.toml:23:55: optimizers.adam.schedule.warmup_start_factor: has no effect without warmup_steps (the steps "
       "it rises over)"},
      {"schedule = { plugin = \"inverse_sqrt\", scale = 0 }\n",
       "exp.toml:23:47: optimizers.adam.schedule.scale: must be greater than 0, got 0"},
  };
  for (const auto& [lines, expected] : cases) EXPECT_EQ(error_of(lines), expected) << lines;
}

TEST(lr_schedule, an_unknown_plugin_is_a_plugin_error) {
  TempDir dir;
  const ExperimentSpec spec =
      load_experiment(write_text(dir, "exp.toml", with_schedule("schedule = { plugin = \"inverse_sqr\" }\n", 20)));
  PluginHost host({kScheduleFixtureDir}, KILN_PLUGIN_DIR);
  try {
    read_schedule(spec.optimizers.at(0).config, host, spec.max_steps);
    FAIL() << "an unknown plugin was built";
  } catch (const PluginError& e) {
    const std::string what = e.what();
    // The host words it from kiln::kKinds: the kind is "schedule", its plural "schedules".
    EXPECT_NE(what.find("no plugin library provides schedule 'inverse_sqr'"), std::string::npos) << what;
    EXPECT_NE(what.find("[libfixture_schedule.so registers schedules: counting, falling, inverse_sqrt]"),
              std::string::npos)
        << what;
  }
}

}  // namespace
}  // namespace kiln::runner
