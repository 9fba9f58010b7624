// Experiment files → ExperimentSpec: defaults, cross-references, phase order, errors. Torch-free,
// like kiln::config: the optimizer types' keys and the built-in hooks' tables are read (and
// tested) where they are used, in tests/train/optimizers_test.cpp and tests/hooks/.
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/cores.hpp"
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
  EXPECT_EQ(spec.optimizers[0].type, "adam");
  EXPECT_EQ(spec.optimizers[0].lr, 1e-2);
  // The built-in hooks' tables, empty when absent; no [ema], no EMA.
  EXPECT_EQ(spec.supervisor.path(), "supervisor");
  EXPECT_TRUE(spec.supervisor.keys().empty());
  EXPECT_TRUE(spec.saver.keys().empty());
  EXPECT_FALSE(spec.ema.has_value());
}

TEST(experiment, an_optimizer_without_lr_leaves_it_to_its_type) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", two_phase_experiment(kTwoPhases)));
  EXPECT_EQ(spec.optimizers.at(0).lr, std::nullopt);
}

TEST(experiment, the_built_in_hooks_tables_are_kept_for_their_hooks_to_read) {
  TempDir dir;
  const auto spec = load_experiment(write_text(
      dir, "exp.toml", mlp_experiment("[supervisor]\non_nan = \"skp\"\n[saver]\nenabled = false\n[ema]\ndecay = 2\n")));
  // Not read here, so not checked here: each hook reads and checks its own table.
  EXPECT_EQ(spec.supervisor.unread_keys(), std::vector<std::string>{"supervisor.on_nan"});
  EXPECT_EQ(spec.saver.unread_keys(), std::vector<std::string>{"saver.enabled"});
  ASSERT_TRUE(spec.ema.has_value());
  EXPECT_EQ(spec.ema->unread_keys(), std::vector<std::string>{"ema.decay"});
  EXPECT_EQ(spec.loss_names(), std::vector<std::string>{"mse"});
}

TEST(experiment, ema_must_be_a_table) {
  EXPECT_EQ(error_of("ema = 1\n" + mlp_experiment()), "exp.toml:1:7: ema: expected a table, got an integer");
}

TEST(experiment, after_orders_phases_and_weights_are_read) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", two_phase_experiment(kTwoPhases)));
  ASSERT_EQ(spec.optimizers.size(), 2u);
  EXPECT_EQ(spec.optimizers[0].name, "disc");
  EXPECT_EQ(spec.optimizers[1].name, "gen");
  EXPECT_EQ(spec.optimizers[0].type, "sgd");
  EXPECT_DOUBLE_EQ(spec.optimizers[1].losses.at(0).second, 100.0);
  // The type's own keys are the optimizer table's to read (train/optimizers.hpp).
  EXPECT_EQ(spec.optimizers[0].config.unread_keys(), std::vector<std::string>{"optimizers.disc.momentum"});
}

TEST(experiment, the_generic_optimizer_keys_are_errors_at_their_keys) {
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.lr=0"}),
            "--set optimizers.adam.lr=0: optimizers.adam.lr: must be greater than 0, got 0");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.type=1"}),
            "--set optimizers.adam.type=1: optimizers.adam.type: expected a string, got an integer");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.params=[]"}),
            "--set optimizers.adam.params=[]: optimizers.adam.params: expected a string, got an array");
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

TEST(experiment, an_optimizer_type_is_not_checked_here) {
  std::string text = mlp_experiment();
  text.replace(text.find("type = \"adam\""), 13, "type = \"adamm\"");
  EXPECT_EQ(error_of(text), "(no error)");
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
  EXPECT_EQ(error_of(mlp_experiment("[[hooks]]\nplugin = \"h\"\npriority = 0.5\n")),
            "exp.toml:25:12: hooks.h.priority: expected an integer, got a float");
}

TEST(experiment, tags_are_strings_read_in_order) {
  TempDir dir;
  std::string text = mlp_experiment();
  const std::string with_tags = "name = \"t\"\ntags = [\"baseline\", \"small lr\"]\n";
  text.replace(text.find("name = \"t\"\n"), 11, with_tags);
  EXPECT_EQ(load_experiment(write_text(dir, "exp.toml", text)).tags,
            (std::vector<std::string>{"baseline", "small lr"}));
  EXPECT_TRUE(load_experiment(write_text(dir, "plain.toml", mlp_experiment())).tags.empty());
  text.replace(text.find("\"small lr\""), 10, "3");
  EXPECT_EQ(error_of(text), "exp.toml:3:21: experiment.tags[1]: expected a string, got an integer");
  EXPECT_EQ(error_of(mlp_experiment(), {"experiment.tags=\"baseline\""}),
            "--set experiment.tags=\"baseline\": experiment.tags: expected an array, got a string");
}

TEST(experiment, an_unknown_name_is_an_error_with_a_suggestion_and_the_declared_names) {
  const auto doc = kiln::detail::Document::parse("[t]\nlosses = [\"mes\"]\n", "exp.toml");
  const Config table = doc->root().table("t");
  try {
    fail_unknown_name(table, "losses", "loss", "mes", {"mse", "l1"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "exp.toml:2:10: t.losses: no loss named 'mes'; did you mean 'mse'? (declared: mse, l1)");
  }
}

const std::string kNameRule =
    "; a run's name is its directory's name: 1 to 200 of the ASCII letters, digits, '-', '_' and '.', not beginning "
    "with '-', and neither \".\" nor \"..\"";

/// The error for `name` as the experiment's name, set on the command line.
std::string name_error(const std::string& name) {
  return error_of(mlp_experiment(), {"experiment.name=" + kiln::detail::quoted(name)});
}

TEST(experiment, a_run_name_that_is_no_plain_directory_name_is_refused) {
  const std::string at = "--set experiment.name=";
  EXPECT_EQ(name_error(".."), at + "\"..\": experiment.name: cannot be \"..\"" + kNameRule);
  EXPECT_EQ(name_error("."), at + "\".\": experiment.name: cannot be \".\"" + kNameRule);
  EXPECT_EQ(name_error(""), at + "\"\": experiment.name: is empty" + kNameRule);
  EXPECT_EQ(name_error("a/b"), at + "\"a/b\": experiment.name: \"a/b\" holds \"/\"" + kNameRule);
  EXPECT_EQ(name_error("a\\b"), at + "\"a\\\\b\": experiment.name: \"a\\\\b\" holds \"\\\\\"" + kNameRule);
  EXPECT_EQ(name_error("a\x01"), at + "\"a\\u0001\": experiment.name: \"a\\u0001\" holds \"\\u0001\"" + kNameRule);
  EXPECT_EQ(name_error("a b"), at + "\"a b\": experiment.name: \"a b\" holds \" \"" + kNameRule);
  EXPECT_EQ(name_error("-rf"), at + "\"-rf\": experiment.name: \"-rf\" begins with '-'" + kNameRule);
  const std::string long_name(201, 'a');
  EXPECT_EQ(name_error(long_name), at + "\"" + long_name + "\": experiment.name: is 201 bytes long" + kNameRule);
}

TEST(experiment, a_plain_run_name_is_accepted) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment());
  for (const std::string& name : std::vector<std::string>{"mlp", "mlp-2", "a.b_c", "..a", std::string(200, 'z')})
    EXPECT_EQ(load_experiment(file, {"experiment.name=" + name}).name, name);
}

TEST(experiment, threads_are_bounded_by_the_usable_cores) {
  const int limit = 4 * usable_cores();
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment());
  EXPECT_EQ(load_experiment(file, {"experiment.threads=" + std::to_string(limit)}).threads, limit);
  EXPECT_EQ(load_experiment(file, {"experiment.threads=0"}).threads, 0);
  EXPECT_EQ(error_of(mlp_experiment(), {"experiment.threads=100000"}),
            "--set experiment.threads=100000: experiment.threads: must be at most " + std::to_string(limit) +
                " (4 per usable core, and this process may use " + std::to_string(usable_cores()) +
                "), got 100000; 0 uses one per core");
}

TEST(experiment, loader_workers_and_prefetch_are_bounded) {
  EXPECT_EQ(error_of(mlp_experiment(), {"data.workers=65"}),
            "--set data.workers=65: data.workers: must be between 0 and 64, got 65");
  EXPECT_EQ(error_of(mlp_experiment(), {"data.prefetch=1025"}),
            "--set data.prefetch=1025: data.prefetch: must be between 1 and 1024, got 1025");
  EXPECT_EQ(error_of(mlp_experiment(), {"data.prefetch=0"}),
            "--set data.prefetch=0: data.prefetch: must be between 1 and 1024, got 0");
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
      "(known keys: data, distributed, early_stopping, ema, eval_data, experiment, hooks, losses, model, optimizers, plugins, saver, "
      "summaries, supervisor, sweep)";
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly), "(no error)");
  // The optional tables are known whether the file has them or not.
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[saverr]\nevery_steps = 5\n"),
            "exp.toml:12:2: unknown key 'saverr'; did you mean 'saver'? " + every_table);
  // (The built-in hooks' tables are empty here: their keys are their hooks' to read.)
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[saver]\n[supervisr]\nlog_every_steps = 5\n"),
            "exp.toml:13:2: unknown key 'supervisr'; did you mean 'supervisor'? " + every_table);
  EXPECT_EQ(unread_error_of(kRunnerKeysOnly + "[ema]\n[eval_date]\nplugin = \"d\"\n"),
            "exp.toml:13:2: unknown key 'eval_date'; did you mean 'eval_data'? " + every_table);
}

TEST(experiment, misspelled_optional_key_of_experiment_suggests_it) {
  const std::string text = mlp_experiment();
  EXPECT_EQ(unread_error_of(text.substr(0, text.find("[data]")) + "init_frm = \"old\"\n" + text.substr(text.find("[data]"))),
            "exp.toml:6:1: unknown key 'init_frm' in [experiment]; did you mean 'init_from'? "
            "(known keys: accumulate, cuda_graphs, database, device, init_from, max_steps, name, precision, runs_dir, seed, tags, threads)");
}

TEST(experiment, overrides_apply_in_order) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment()),
                                    {"optimizers.adam.lr=0.5", "optimizers.adam.lr=0.25", "experiment.max_steps=3"});
  EXPECT_EQ(spec.optimizers[0].lr, 0.25);
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
