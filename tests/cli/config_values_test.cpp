// `kiln run` refuses out-of-range, non-finite and oversized config values before it starts a run.
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

/// Each refusal comes before anything slow (plugins, torch, data): a kiln still running after
/// this long is killed, and the test fails on its SIGKILL.
constexpr std::chrono::seconds kQuick(30);

class config_values : public KilnRunTest {
 protected:
  /// Runs `text` and expects it refused with exactly `error` as its one error line.
  void expect_error(const std::string& text, const std::string& error, const std::vector<std::string>& extra_args = {}) {
    const KilnResult result = run(text, extra_args, {}, kQuick);
    expect_refused(result);
    EXPECT_EQ(error_line(result), error);
  }
};

TEST_F(config_values, nan_learning_rate_is_refused_at_its_position) {
  const std::string text = replace_once(mlp_experiment(), "lr = 1e-2", "lr = nan");
  expect_error(text, error_at(text, "lr = nan", 6) + "optimizers.adam.lr: must be a finite number, got nan");
}

TEST_F(config_values, infinite_learning_rate_is_refused_at_its_position) {
  const std::string text = replace_once(mlp_experiment(), "lr = 1e-2", "lr = inf");
  expect_error(text, error_at(text, "lr = inf", 6) + "optimizers.adam.lr: must be a finite number, got inf");
}

TEST_F(config_values, nan_learning_rate_set_on_the_command_line_is_refused_at_the_assignment) {
  expect_error(mlp_experiment(), "error: --set optimizers.adam.lr=nan: optimizers.adam.lr: must be a finite number, got nan",
               {"--set", "optimizers.adam.lr=nan"});
}

TEST_F(config_values, nan_ema_decay_is_refused) {
  const std::string text = mlp_experiment("[ema]\nlosses = [\"mse\"]\ndecay = nan\n");
  expect_error(text, error_at(text, "decay = nan", 9) + "ema.decay: must be a finite number, got nan");
}

TEST_F(config_values, nan_saver_every_secs_is_refused) {
  const std::string text = mlp_experiment("[saver]\nevery_secs = nan\n");
  expect_error(text, error_at(text, "every_secs = nan", 14) + "saver.every_secs: must be a finite number, got nan");
}

TEST_F(config_values, nan_keep_every_hours_is_refused) {
  const std::string text = mlp_experiment("[saver]\nkeep_every_hours = nan\n");
  expect_error(text,
               error_at(text, "keep_every_hours = nan", 20) + "saver.keep_every_hours: must be a finite number, got nan");
}

TEST_F(config_values, nan_max_time_is_refused) {
  const std::string text = mlp_experiment("[supervisor]\nmax_time = nan\n");
  expect_error(text, error_at(text, "max_time = nan", 12) + "supervisor.max_time: must be a finite number, got nan");
}

TEST_F(config_values, negative_infinity_in_a_plugin_table_is_refused) {
  const std::string text = replace_once(mlp_experiment(), "size = 256\n", "size = 256\nnoise = -inf\n");
  expect_error(text, error_at(text, "noise = -inf", 9) + "data.noise: must be a finite number, got -inf");
}

const std::string kNameRule =
    "; a run's name is its directory's name: 1 to 200 of the ASCII letters, digits, '-', '_' and '.', not beginning "
    "with '-', and neither \".\" nor \"..\"";

TEST_F(config_values, run_name_dot_dot_is_refused) {
  const std::string text = replace_once(mlp_experiment(), "name = \"t\"", "name = \"..\"");
  expect_error(text, error_at(text, "name = \"..\"", 8) + "experiment.name: cannot be \"..\"" + kNameRule);
}

TEST_F(config_values, run_name_dot_is_refused) {
  const std::string text = replace_once(mlp_experiment(), "name = \"t\"", "name = \".\"");
  expect_error(text, error_at(text, "name = \".\"", 8) + "experiment.name: cannot be \".\"" + kNameRule);
}

TEST_F(config_values, run_name_with_a_slash_is_refused) {
  const std::string text = replace_once(mlp_experiment(), "name = \"t\"", "name = \"a/b\"");
  expect_error(text, error_at(text, "name = \"a/b\"", 8) + "experiment.name: \"a/b\" holds \"/\"" + kNameRule);
}

TEST_F(config_values, run_name_with_a_newline_is_refused_on_one_line) {
  const std::string text = replace_once(mlp_experiment(), "name = \"t\"", "name = \"a\\nb\"");
  expect_error(text, error_at(text, "name = \"a\\nb\"", 8) + "experiment.name: \"a\\nb\" holds \"\\n\"" + kNameRule);
}

TEST_F(config_values, threads_far_beyond_the_cores_are_refused_naming_the_limit) {
  const std::string text = replace_once(mlp_experiment(), "threads = 1", "threads = 100000");
  const KilnResult result = run(text, {}, {}, kQuick);
  expect_refused(result);
  EXPECT_EQ(error_line(result).rfind(error_at(text, "threads = 100000", 11) + "experiment.threads: must be at most ", 0), 0u)
      << error_line(result);
  EXPECT_NE(error_line(result).find("), got 100000; 0 uses one per core"), std::string::npos) << error_line(result);
}

TEST_F(config_values, loader_workers_beyond_the_limit_are_refused) {
  const std::string text = replace_once(mlp_experiment(), "workers = 1", "workers = 1000");
  expect_error(text, error_at(text, "workers = 1000", 11) + "data.workers: must be between 0 and 64, got 1000");
}

TEST_F(config_values, an_experiment_file_of_50_megabytes_is_refused_unread) {
  // A valid experiment whose model has a 17-million-element array, padded to 50 MiB exactly.
  std::string hidden = "hidden = [1";
  hidden.reserve(52428800);
  while (hidden.size() < 52428800 - 4096) hidden += ", 1";
  std::string text = replace_once(mlp_experiment(), "hidden = [8]", hidden + "]");
  text += "#" + std::string(52428800 - text.size() - 2, 'x') + "\n";
  ASSERT_EQ(text.size(), 52428800u);
  expect_error(text, "error: exp.toml: too large (52428800 bytes); an experiment file may be at most 4194304 bytes "
                     "(4 MiB)");
}

TEST_F(config_values, a_plugin_array_of_100000_elements_is_refused_at_the_array) {
  std::string hidden = "hidden = [1";
  for (int i = 1; i < 100000; ++i) hidden += ", 1";
  const std::string text = replace_once(mlp_experiment(), "hidden = [8]", hidden + "]");
  expect_error(text, error_at(text, "hidden = [", 10) + "model.hidden: an array may hold at most 65536 elements, got 100000");
}

TEST_F(config_values, a_deeply_nested_array_is_refused_without_crashing) {
  const std::string text =
      replace_once(mlp_experiment(), "hidden = [8]", "hidden = " + std::string(100000, '[') + std::string(100000, ']'));
  expect_error(text, error_at(text, "hidden = [", 72) +
                         "nested too deeply: tables, dotted keys, arrays and inline tables may nest at most 64 levels "
                         "together");
}

TEST_F(config_values, deeply_nested_dotted_keys_are_refused_without_crashing) {
  std::string key = "deep";
  for (int i = 0; i < 100000; ++i) key += ".a";
  const std::string text = mlp_experiment() + key + " = 1\n";
  expect_error(text, error_at(text, "deep.a", 129) +
                         "nested too deeply: tables, dotted keys, arrays and inline tables may nest at most 64 levels "
                         "together");
}

}  // namespace
}  // namespace kiln::test
