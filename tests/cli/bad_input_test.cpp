// `kiln run` refuses every bad input with one "error:" line, exit code 2 and no run created.
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// The small valid experiment with its model taken from `library` among the test plugins.
std::string with_model_library(const std::string& library) {
  return replace_once(mlp_experiment(), "plugin = \"mlp\"\n", "plugin = \"mlp\"\nlibrary = \"" + library + "\"\n");
}

/// The small valid experiment with its model `name` and the test plugins in [plugins] paths.
std::string with_fixture_model(const std::string& name) {
  return replace_once(mlp_experiment(), "plugin = \"mlp\"\n", "plugin = \"" + name + "\"\n") +
         "[plugins]\npaths = [\"" + fixture_dir().string() + "\"]\n";
}

class cli_errors : public KilnRunTest {};

TEST_F(cli_errors, bad_toml_syntax_names_the_file_line_and_column) {
  const std::string text = mlp_experiment() + "[supervisor\nsummary_every_steps = 10\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[supervisor", 12)));
  EXPECT_THAT(error_line(result), HasSubstr("expected ']'"));
}

TEST_F(cli_errors, missing_experiment_file_is_named) {
  const KilnResult result = run_kiln({"run", "missing.toml"}, dir_.path());
  expect_refused(result);
  EXPECT_EQ(error_line(result), "error: missing.toml: no such file");
}

TEST_F(cli_errors, unknown_command_line_option_is_named) {
  const KilnResult result = run(mlp_experiment(), {"--bogus"});
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("--bogus"));
  EXPECT_THAT(error_line(result), HasSubstr("kiln --help"));
}

TEST_F(cli_errors, missing_subcommand_is_refused) {
  const KilnResult result = run_kiln({}, dir_.path());
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("subcommand is required"));
}

TEST_F(cli_errors, unknown_subcommand_is_refused) {
  const KilnResult result = run_kiln({"frob"}, dir_.path());
  expect_refused(result);
}

TEST_F(cli_errors, unknown_subcommand_is_named) {
  const KilnResult result = run_kiln({"frob"}, dir_.path());
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("frob"));
}

TEST_F(cli_errors, query_with_both_csv_and_json_is_refused) {
  const KilnResult result = run_kiln({"query", "--csv", "--json", "SELECT 1"}, dir_.path());
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("--csv excludes --json"));
}

TEST_F(cli_errors, negative_checkpoint_step_is_refused_not_taken_as_the_latest) {
  for (const char* command : {"infer", "export"}) {
    const std::vector<std::string> args =
        std::string(command) == "infer" ? std::vector<std::string>{"infer", "r", "in.png", "--step", "-5"}
                                        : std::vector<std::string>{"export", "weights", "r", "--step", "-5",
                                                                   "--format", "pt", "--out", "w.pt"};
    const KilnResult result = run_kiln(args, dir_.path());
    expect_refused(result);
    EXPECT_EQ(error_line(result), "error: --step: '-5' is not a step: a whole number, 0 or more (see kiln --help)")
        << command;
  }
}

TEST_F(cli_errors, export_without_what_is_refused_naming_its_subcommands) {
  const KilnResult result = run_kiln({"export"}, dir_.path());
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("subcommand is required"));
}

TEST_F(cli_errors, set_without_a_value_shows_the_expected_form) {
  const KilnResult result = run(mlp_experiment(), {"--set", "max_steps"});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith("error: --set max_steps: expected KEY=VALUE"));
}

TEST_F(cli_errors, unknown_key_names_its_position_table_and_plugin) {
  const std::string text = replace_once(mlp_experiment(), "hidden = [8]", "hiden = [8]");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "hiden", 1) + "unknown key 'hiden' in [model] (plugin 'mlp')"));
}

TEST_F(cli_errors, unknown_key_suggests_an_optional_key_the_plugin_reads) {
  const std::string text = replace_once(mlp_experiment(), "hidden = [8]", "hiden = [8]");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), HasSubstr("did you mean 'hidden'?"));
}

TEST_F(cli_errors, unknown_key_set_on_the_command_line_suggests_the_close_key) {
  const KilnResult result = run(mlp_experiment(), {"--set", "experiment.max_step=5"});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith("error: --set experiment.max_step=5: unknown key 'max_step' in "
                                             "[experiment]; did you mean 'max_steps'?"));
}

TEST_F(cli_errors, wrong_type_names_the_expected_and_the_given_type) {
  const std::string text = replace_once(mlp_experiment(), "max_steps = 20", "max_steps = \"lots\"");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result),
            error_at(text, "max_steps", 13) + "experiment.max_steps: expected an integer, got a string");
}

TEST_F(cli_errors, wrong_type_set_on_the_command_line_names_the_override) {
  const KilnResult result = run(mlp_experiment(), {"--set", "experiment.max_steps=many"});
  expect_refused(result);
  EXPECT_EQ(error_line(result),
            "error: --set experiment.max_steps=many: experiment.max_steps: expected an integer, got a string");
}

TEST_F(cli_errors, out_of_range_value_names_what_is_valid) {
  const std::string text = replace_once(mlp_experiment(), "max_steps = 20", "max_steps = 0");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result), error_at(text, "max_steps", 13) + "experiment.max_steps: must be greater than 0, got 0");
}

TEST_F(cli_errors, missing_key_names_the_table_and_the_keys_it_has) {
  const std::string text = replace_once(mlp_experiment(), "name = \"t\"\n", "");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result),
            error_at(text, "[experiment]", 1) + "[experiment]: missing key 'name' (has: max_steps, seed, threads)");
}

TEST_F(cli_errors, optimizer_cycle_names_every_optimizer_in_it) {
  const std::string text = mlp_experiment() +
                           "after = [\"sgd\"]\n"
                           "[[optimizers]]\nname = \"sgd\"\ntype = \"sgd\"\nlosses = [\"mse\"]\nafter = [\"adam\"]\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result), error_at(text, "after = [\"sgd\"]", 9) +
                                    "optimizers.adam.after: optimizers form a cycle: adam after sgd after adam");
}

TEST_F(cli_errors, plugin_library_not_found_names_the_library_and_the_folders_searched) {
  const std::string text = with_model_library("nosuch");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1) + "plugin library 'libnosuch.so' not found"));
  EXPECT_THAT(error_line(result), HasSubstr("searched: "));
}

TEST_F(cli_errors, library_that_is_not_a_kiln_plugin_is_refused) {
  const std::string text = with_model_library("fixture_not_kiln");
  const KilnResult result = run(text, {}, {{"KILN_PLUGIN_PATH", fixture_dir().string()}});
  expect_refused(result);
  EXPECT_EQ(error_line(result), error_at(text, "[model]", 1) + (fixture_dir() / "libfixture_not_kiln.so").string() +
                                    " is not a kiln plugin: it has no 'kiln_plugin_info' symbol");
}

TEST_F(cli_errors, file_that_is_not_a_shared_library_is_refused) {
  fs::create_directories(dir_ / "junk");
  write_text(dir_, "junk/libjunk.so", "not a shared library\n");
  const std::string text = with_model_library("junk/libjunk.so");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1) + (dir_ / "junk/libjunk.so").string()));
}

TEST_F(cli_errors, sdk_abi_mismatch_names_both_versions) {
  const std::string text = with_model_library("fixture_bad_abi");
  const KilnResult result = run(text, {}, {{"KILN_PLUGIN_PATH", fixture_dir().string()}});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1)));
  EXPECT_THAT(error_line(result), HasSubstr("libfixture_bad_abi.so was built for kiln SDK ABI 999 but this kiln has ABI "));
}

TEST_F(cli_errors, cxx11_abi_mismatch_names_both_settings) {
  const std::string text = with_model_library("fixture_bad_cxx_abi");
  const KilnResult result = run(text, {}, {{"KILN_PLUGIN_PATH", fixture_dir().string()}});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1)));
  EXPECT_THAT(error_line(result), HasSubstr("libfixture_bad_cxx_abi.so was built with _GLIBCXX_USE_CXX11_ABI="));
}

TEST_F(cli_errors, torch_mismatch_names_both_versions) {
  const std::string text = with_model_library("fixture_bad_torch");
  const KilnResult result = run(text, {}, {{"KILN_PLUGIN_PATH", fixture_dir().string()}});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1)));
  EXPECT_THAT(error_line(result), HasSubstr("libfixture_bad_torch.so was built for torch 0.0.0 but this kiln uses torch "));
}

TEST_F(cli_errors, unregistered_name_suggests_the_closest_registered_one) {
  const std::string text = replace_once(mlp_experiment(), "plugin = \"mlp\"", "plugin = \"mpl\"");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1) + "no plugin library provides model 'mpl'"));
  EXPECT_THAT(error_line(result), HasSubstr("did you mean 'mlp'?"));
}

TEST_F(cli_errors, factory_that_throws_names_the_plugin_and_its_message) {
  const std::string text = with_fixture_model("broken");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result),
            error_at(text, "[model]", 1) + "plugin 'fixture_throws' failed to build model 'broken': weights file missing");
}

TEST_F(cli_errors, key_missing_in_a_plugin_table_points_at_that_table) {
  const std::string text = with_fixture_model("needs_width");
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1) + "[model]: missing key 'width'"));
}

TEST_F(cli_errors, misspelled_optional_table_suggests_it_among_every_table_kiln_knows) {
  const std::string text = mlp_experiment() + "[saverr]\nevery_steps = 5\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result), error_at(text, "[saverr]", 2) +
                                    "unknown key 'saverr'; did you mean 'saver'? (known keys: data, distributed, early_stopping, ema, "
                                    "eval_data, experiment, hooks, losses, model, optimizers, plugins, saver, summaries, "
                                    "supervisor, sweep)");
}

TEST_F(cli_errors, missing_plugin_folder_is_marked_in_the_folders_searched) {
  const std::string text = replace_once(mlp_experiment(), "plugin = \"mlp\"", "plugin = \"sine_net\"") +
                           "[plugins]\npaths = [\"build/plugin\"]\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result),
              StartsWith(error_at(text, "[model]", 1) + "no plugin library provides model 'sine_net' (searched: " +
                         (fs::canonical(dir_.path()) / "build/plugin").string() + " (missing), " +
                         kiln_plugin_dir().string() + ") (found "));
}

TEST_F(cli_errors, missing_kiln_plugin_path_folder_is_marked_and_a_close_library_suggested) {
  const std::string text = with_model_library("mpl");
  const fs::path gone = dir_ / "gone";
  const KilnResult result = run(text, {}, {{"KILN_PLUGIN_PATH", gone.string()}});
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[model]", 1) + "plugin library 'libmpl.so' not found (searched: " +
                                             gone.string() + " (missing), " + kiln_plugin_dir().string() +
                                             "); did you mean 'mlp'? (found "));
  EXPECT_THAT(error_line(result), HasSubstr(" libraries: datasets, image_hooks, losses, mlp, pix2pix"));
}

TEST_F(cli_errors, unregistered_name_shows_what_each_library_registers) {
  const std::string text = mlp_experiment() + "[[hooks]]\nplugin = \"best_loss\"\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith(error_at(text, "[[hooks]]", 1) +
                                             "no plugin library provides hook 'best_loss' (searched: " +
                                             kiln_plugin_dir().string() + ") (found "));
  // The library that was meant to register it, and did not, says what it does register.
  EXPECT_THAT(error_line(result), HasSubstr("[libmlp.so registers hooks: none; models: mlp]"));
}

TEST_F(cli_errors, library_registering_a_name_twice_is_refused_naming_it_and_the_name) {
  const fs::path twice = fixture_dir().parent_path() / "twice/libfixture_registers_twice.so";
  const std::string text = with_model_library(twice.string());
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_EQ(error_line(result), error_at(text, "[model]", 1) + twice.string() +
                                    " (plugin 'fixture_registers_twice' 0.1.0) failed to register its names: "
                                    "model 'twin' is registered twice");
}

TEST_F(cli_errors, a_name_registered_twice_in_a_library_found_by_search_is_reported_first) {
  // No `library = ...`: kiln searches the libraries for 'twin'; the one that registers it
  // twice is the error, not "no plugin library provides model 'twin'".
  const fs::path twice = fixture_dir().parent_path() / "twice";
  const std::string text = replace_once(mlp_experiment(), "plugin = \"mlp\"\n", "plugin = \"twin\"\n") +
                           "[plugins]\npaths = [\"" + twice.string() + "\"]\n";
  const KilnResult result = run(text);
  expect_refused(result);
  EXPECT_THAT(error_line(result),
              StartsWith(error_at(text, "[model]", 1) + fs::canonical(twice / "libfixture_registers_twice.so").string() +
                         " (plugin 'fixture_registers_twice' 0.1.0) failed to register its names: model 'twin' is "
                         "registered twice; no other plugin library provides model 'twin' (searched: "));
}

}  // namespace
}  // namespace kiln::test
