// Experiment files → ExperimentSpec: defaults, cross-references, phase order, errors.
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", text);
  try {
    load_experiment(file, overrides);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    const std::string prefix = file.string();
    return what.rfind(prefix, 0) == 0 ? "exp.toml" + what.substr(prefix.size()) : what;
  }
  return "(no error)";
}

const std::string kTwoPhases = R"(
[[optimizers]]
name = "gen"
type = "adam"
losses = { mse = 100.0 }
after = ["disc"]
[[optimizers]]
name = "disc"
type = "sgd"
momentum = 0.9
losses = ["mse"]
)";

std::string two_phase_experiment(const std::string& optimizers) {
  std::string text = mlp_experiment();
  return text.substr(0, text.find("[[optimizers]]")) + optimizers;
}

TEST(experiment, reads_runner_keys_and_defaults) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment()));
  EXPECT_EQ(spec.name, "t");
  EXPECT_EQ(spec.max_steps, 20);
  EXPECT_EQ(spec.data.batch_size, 16);
  EXPECT_EQ(spec.database, std::filesystem::path("runs/kiln.db"));
  ASSERT_EQ(spec.optimizers.size(), 1u);
  EXPECT_EQ(spec.optimizers[0].params, "all");
  EXPECT_DOUBLE_EQ(spec.optimizers[0].lr, 1e-2);
  EXPECT_EQ(spec.supervisor.summary_every_steps, 10);
}

TEST(experiment, after_orders_phases_and_weights_are_read) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", two_phase_experiment(kTwoPhases)));
  ASSERT_EQ(spec.optimizers.size(), 2u);
  EXPECT_EQ(spec.optimizers[0].name, "disc");
  EXPECT_EQ(spec.optimizers[1].name, "gen");
  EXPECT_DOUBLE_EQ(spec.optimizers[0].momentum, 0.9);
  EXPECT_DOUBLE_EQ(spec.optimizers[1].losses.at(0).second, 100.0);
}

TEST(experiment, a_cycle_is_an_error_naming_it) {
  const std::string text = two_phase_experiment(R"(
[[optimizers]]
name = "a"
type = "adam"
losses = ["mse"]
after = ["b"]
[[optimizers]]
name = "b"
type = "adam"
losses = ["mse"]
after = ["a"]
)");
  EXPECT_EQ(error_of(text), "exp.toml:23:9: optimizers.a.after: optimizers form a cycle: a after b after a");
}

TEST(experiment, unknown_optimizer_type_suggests) {
  std::string text = mlp_experiment();
  text.replace(text.find("type = \"adam\""), 13, "type = \"adamm\"");
  EXPECT_EQ(error_of(text),
            "exp.toml:20:8: optimizers.adam.type: no optimizer type named 'adamm'; did you mean 'adam'? "
            "(declared: adam, adamw, sgd)");
}

TEST(experiment, unknown_loss_reference_suggests) {
  std::string text = mlp_experiment();
  text.replace(text.find("losses = [\"mse\"]"), 16, "losses = [\"mes\"]");
  EXPECT_EQ(error_of(text),
            "exp.toml:22:10: optimizers.adam.losses: no loss named 'mes'; did you mean 'mse'? (declared: mse)");
}

TEST(experiment, unknown_after_reference_is_an_error) {
  std::string text = mlp_experiment("after = [\"dsc\"]\n");
  EXPECT_NE(error_of(text).find("no optimizer named 'dsc'"), std::string::npos);
}

TEST(experiment, bad_values_are_errors_with_positions) {
  EXPECT_EQ(error_of(mlp_experiment(), {"data.batch_size=0"}),
            "--set data.batch_size=0: data.batch_size: must be greater than 0, got 0");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.betas=[0.9]"}),
            "--set optimizers.adam.betas=[0.9]: optimizers.adam.betas: expected two numbers in [0, 1), e.g. [0.5, 0.999]");
  EXPECT_EQ(error_of(mlp_experiment(), {"experiment.name=a/b"}).find("cannot name a run directory") != std::string::npos,
            true);
}

TEST(experiment, missing_tables_are_errors) {
  std::string text = mlp_experiment();
  text.erase(text.find("[model]"), text.find("[[losses]]") - text.find("[model]"));
  EXPECT_EQ(error_of(text), "exp.toml: missing table 'model' (has: data, experiment, losses, optimizers)");
}

/// The error `reject_unread` gives once the runner has read the experiment `text`.
std::string unread_error_of(const std::string& text) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", text));
  try {
    spec.root.reject_unread("");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return "exp.toml" + what.substr(spec.file.string().size());
  }
  return "(no error)";
}

/// An experiment of the runner's keys only, on 11 lines: nothing unread until a test adds it.
const std::string kRunnerKeysOnly =
    "[experiment]\nname = \"t\"\n[data]\nplugin = \"d\"\n[model]\nplugin = \"m\"\n[[losses]]\nplugin = \"mse\"\n"
    "[[optimizers]]\ntype = \"adam\"\nlosses = [\"mse\"]\n";

TEST(experiment, misspelled_optional_table_suggests_it_and_every_table_is_known) {
  const std::string every_table =
      "(known keys: data, ema, eval_data, experiment, hooks, losses, model, optimizers, plugins, saver, supervisor)";
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly), "(no error)");
  // The optional tables are known whether the file has them or not.
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[saverr]\nevery_steps = 5\n"),
            "exp.toml:12:2: unknown key 'saverr'; did you mean 'saver'? " + every_table);
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[saver]\nevery_steps = 5\n[supervisr]\nlog_every_steps = 5\n"),
            "exp.toml:14:2: unknown key 'supervisr'; did you mean 'supervisor'? " + every_table);
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[ema]\nlosses = [\"mse\"]\n[eval_date]\nplugin = \"d\"\n"),
            "exp.toml:14:2: unknown key 'eval_date'; did you mean 'eval_data'? " + every_table);
}

TEST(experiment, misspelled_optional_key_of_experiment_suggests_it) {
  const std::string text = mlp_experiment();
  EXPECT_EQ(unread_error_of(text.substr(0, text.find("[data]")) + "init_frm = \"old\"\n" + text.substr(text.find("[data]"))),
            "exp.toml:6:1: unknown key 'init_frm' in [experiment]; did you mean 'init_from'? "
            "(known keys: database, init_from, max_steps, name, runs_dir, seed, threads)");
}

TEST(experiment, overrides_apply_in_order) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment()),
                                    {"optimizers.adam.lr=0.5", "optimizers.adam.lr=0.25", "experiment.max_steps=3"});
  EXPECT_DOUBLE_EQ(spec.optimizers[0].lr, 0.25);
  EXPECT_EQ(spec.max_steps, 3);
}

TEST(experiment, plugin_paths_are_relative_to_the_file) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment("[plugins]\npaths = [\"lib\"]\n")));
  ASSERT_EQ(spec.plugin_paths.size(), 1u);
  EXPECT_EQ(spec.plugin_paths[0], (std::filesystem::absolute(dir.path()) / "lib").lexically_normal());
}

}  // namespace
}  // namespace kiln::runner
