// The sweep's plan: flags and [sweep] merged, the grid's order, the seeded draws, bad flags' errors.
#include "sweep/plan.hpp"

#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"
#include "config/sweep_table.hpp"

namespace {

using kiln::runner::SweepTable;
using kiln::runner::sweep::make_plan;
using kiln::runner::sweep::PlanError;
using kiln::runner::sweep::SweepFlags;
using kiln::runner::sweep::SweepPlan;
using Overrides = std::vector<std::pair<std::string, std::string>>;

SweepPlan plan_of(const SweepFlags& flags, const SweepTable& table = {}) {
  return make_plan("exp.toml", flags, table, "exp", 7);
}

std::string plan_error(const SweepFlags& flags) {
  try {
    plan_of(flags);
  } catch (const PlanError& e) {
    return e.what();
  }
  return "no error";
}

/// The [sweep] table of `text` as the experiment's reader reads it.
SweepTable table_of(const std::string& text) {
  kiln::test::TempDir dir;
  const auto spec = kiln::runner::load_experiment(write_text(dir, "exp.toml", kiln::test::mlp_experiment(text)));
  return kiln::runner::read_sweep_table(spec.document->root().table("sweep"));
}

std::string table_error(const std::string& text) {
  try {
    table_of(text);
  } catch (const kiln::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(sweep_plan, refuses_bad_flags_naming_them) {
  EXPECT_EQ(plan_error({}), "nothing to sweep: give --grid KEY=V1,V2 or --random N with --uniform, --log-uniform or "
                            "--choice (or a [sweep] table)");
  SweepFlags no_eq;
  no_eq.grid = {"optimizers.adam.lr"};
  EXPECT_EQ(plan_error(no_eq), "--grid optimizers.adam.lr: expected KEY=V1,V2,...");
  SweepFlags empty_value;
  empty_value.grid = {"a=1,,2"};
  EXPECT_EQ(plan_error(empty_value), "--grid a=1,,2: an empty value (values are separated by commas)");
  SweepFlags reversed;
  reversed.random = 2;
  reversed.uniform = {"a=2:1"};
  EXPECT_EQ(plan_error(reversed), "--uniform a=2:1: LO 2 is not below HI 1");
  SweepFlags log_zero;
  log_zero.random = 2;
  log_zero.log_uniform = {"a=0:1"};
  EXPECT_EQ(plan_error(log_zero), "--log-uniform a=0:1: a log-uniform range must be positive, got LO 0");
  SweepFlags not_number;
  not_number.random = 2;
  not_number.uniform = {"a=x:1"};
  EXPECT_EQ(plan_error(not_number), "--uniform a=x:1: 'x' is not a number");
  SweepFlags no_random;
  no_random.choice = {"a=1,2"};
  EXPECT_EQ(plan_error(no_random), "--choice a=1,2: drawn keys need --random N (how many trials to draw)");
  SweepFlags nothing_drawn;
  nothing_drawn.random = 3;
  EXPECT_EQ(plan_error(nothing_drawn), "--random N draws from --uniform, --log-uniform or --choice: give at least one");
  SweepFlags twice;
  twice.grid = {"a=1,2"};
  twice.random = 2;
  twice.choice = {"a=3,4"};
  EXPECT_EQ(plan_error(twice), "--choice a=3,4: 'a' is swept twice; give each key one --grid, range or --choice");
  SweepFlags name;
  name.grid = {"experiment.name=x,y"};
  EXPECT_EQ(plan_error(name),
            "--grid experiment.name=x,y: a sweep names its trials itself (<sweep>-001, ...); use --name");
}

TEST(sweep_plan, splits_values_outside_quotes_and_brackets) {
  EXPECT_EQ(kiln::runner::sweep::split_values("1e-4, 2e-4,4e-4"), (std::vector<std::string>{"1e-4", "2e-4", "4e-4"}));
  EXPECT_EQ(kiln::runner::sweep::split_values(R"("a,b",[1, 2],'c,d',"x\",y")"),
            (std::vector<std::string>{R"("a,b")", "[1, 2]", "'c,d'", R"("x\",y")"}));
}

TEST(sweep_plan, grid_is_the_product_in_key_order_last_key_fastest) {
  SweepFlags flags;
  flags.grid = {"optimizers.adam.lr=1e-4,2e-4,4e-4", "data.batch_size=1,4"};
  flags.name = "lr";
  const SweepPlan plan = plan_of(flags);
  ASSERT_EQ(plan.trials.size(), 6u);
  EXPECT_EQ(plan.trials[0].run, "lr-001");
  EXPECT_EQ(plan.trials[5].run, "lr-006");
  EXPECT_EQ(plan.trials[0].overrides, (Overrides{{"optimizers.adam.lr", "1e-4"}, {"data.batch_size", "1"}}));
  EXPECT_EQ(plan.trials[1].overrides, (Overrides{{"optimizers.adam.lr", "1e-4"}, {"data.batch_size", "4"}}));
  EXPECT_EQ(plan.trials[2].overrides, (Overrides{{"optimizers.adam.lr", "2e-4"}, {"data.batch_size", "1"}}));
  EXPECT_EQ(plan.trials[5].overrides, (Overrides{{"optimizers.adam.lr", "4e-4"}, {"data.batch_size", "4"}}));
  EXPECT_EQ(plan.parallel, 1);
  EXPECT_EQ(plan.seed, 7u);
}

TEST(sweep_plan, names_have_more_digits_past_999_trials) {
  EXPECT_EQ(kiln::runner::sweep::trial_name("s", 7, 12), "s-007");
  EXPECT_EQ(kiln::runner::sweep::trial_name("s", 7, 1000), "s-0007");
}

TEST(sweep_plan, random_draws_are_reproducible_from_the_seed) {
  SweepFlags flags;
  flags.random = 4;
  flags.uniform = {"model.dropout=0:0.5"};
  flags.log_uniform = {"optimizers.adam.lr=1e-5:1e-2"};
  flags.choice = {"data.batch_size=8,16,32"};
  flags.seed = 3;
  const SweepPlan a = plan_of(flags);
  const SweepPlan b = plan_of(flags);
  ASSERT_EQ(a.trials.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(a.trials[i].overrides, b.trials[i].overrides);
  for (const auto& trial : a.trials) {
    ASSERT_EQ(trial.overrides.size(), 3u);
    const double dropout = std::stod(trial.overrides[0].second);
    const double lr = std::stod(trial.overrides[1].second);
    EXPECT_TRUE(dropout >= 0 && dropout < 0.5) << dropout;
    EXPECT_TRUE(lr >= 1e-5 && lr < 1e-2) << lr;
    EXPECT_TRUE(trial.overrides[2].second == "8" || trial.overrides[2].second == "16" ||
                trial.overrides[2].second == "32");
  }
  EXPECT_NE(a.trials[0].overrides, a.trials[1].overrides);
  flags.seed = 4;
  const SweepPlan other = plan_of(flags);
  EXPECT_NE(other.trials[0].overrides, a.trials[0].overrides);
  EXPECT_NE(other.spec_json(), a.spec_json());
  EXPECT_EQ(a.spec_json(), b.spec_json());
}

TEST(sweep_plan, grid_and_random_give_each_point_n_draws) {
  SweepFlags flags;
  flags.grid = {"data.batch_size=8,16"};
  flags.random = 3;
  flags.uniform = {"model.dropout=0:0.5"};
  const SweepPlan plan = plan_of(flags);
  ASSERT_EQ(plan.trials.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(plan.trials[i].overrides[0].second, i < 3 ? "8" : "16");
  EXPECT_EQ(plan.trials[3].run, "exp-004");
}

TEST(sweep_plan, spec_json_is_canonical) {
  SweepFlags flags;
  flags.grid = {"a=1,2"};
  flags.set = {"experiment.max_steps=5"};
  EXPECT_EQ(plan_of(flags).spec_json(),
            R"({"choice":[],"experiment":"exp.toml","grid":[["a",["1","2"]]],"log_uniform":[],"random":0,"seed":7,)"
            R"("set":["experiment.max_steps=5"],"uniform":[]})");
  flags.parallel = 3;  // not part of the spec: a rerun may run more at once
  EXPECT_EQ(plan_of(flags).spec_json().find("parallel"), std::string::npos);
}

TEST(sweep_table, reads_every_key_and_flags_override_it) {
  const SweepTable table = table_of(
      "[sweep]\nname = \"s\"\nparallel = 2\nmetric = \"eval/l1\"\nmode = \"min\"\nseed = 9\nmedian_stop = true\n"
      "grid = { \"optimizers.adam.lr\" = [1e-4, 2e-4], \"data.batch_size\" = [8, 16] }\n"
      "choice = { \"model.activation\" = [\"relu\", \"gelu\"] }\nrandom = 2\n");
  ASSERT_EQ(table.grid.size(), 2u);
  EXPECT_EQ(table.grid[0].values, (std::vector<std::string>{"0.0001", "0.0002"}));
  EXPECT_NE(table.grid[0].origin.find("exp.toml:30:"), std::string::npos) << table.grid[0].origin;
  EXPECT_EQ(table.choice[0].values, (std::vector<std::string>{"\"relu\"", "\"gelu\""}));
  SweepFlags flags;
  flags.grid = {"data.batch_size=32"};
  flags.parallel = 4;
  const SweepPlan plan = plan_of(flags, table);
  EXPECT_EQ(plan.name, "s");
  EXPECT_EQ(plan.parallel, 4);
  EXPECT_EQ(plan.seed, 9u);
  EXPECT_EQ(*plan.metric, "eval/l1");
  EXPECT_TRUE(plan.median_stop);
  ASSERT_EQ(plan.trials.size(), 4u);  // 2 lr x 1 batch size x 2 draws
  EXPECT_EQ(plan.trials[0].overrides[1], (std::pair<std::string, std::string>{"data.batch_size", "32"}));
}

TEST(sweep_table, errors_point_at_the_line) {
  EXPECT_NE(table_error("[sweep]\nparalel = 2\n").find(":24:1: unknown key 'paralel' in [sweep]; did you mean 'parallel'?"),
            std::string::npos)
      << table_error("[sweep]\nparalel = 2\n");
  EXPECT_NE(table_error("[sweep]\nuniform = { a = [2, 1] }\n").find("lo 2 is not below hi 1"), std::string::npos);
  EXPECT_NE(table_error("[sweep]\ngrid = { a = [] }\n").find("an empty list"), std::string::npos);
  EXPECT_NE(table_error("[sweep]\nmode = \"low\"\n").find("mode"), std::string::npos);
}

}  // namespace
