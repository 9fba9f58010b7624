// [summaries] -> (pattern, direction) rules: maximize and minimize, and every refusal at its key.
#include "config/summary_rules.hpp"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;
using Rules = std::vector<std::pair<std::string, std::string>>;

/// The rules of an experiment whose [summaries] table is `table`.
Rules rules_of(const std::string& table) {
  TempDir dir;
  const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment() + "[summaries]\n" + table));
  const Rules rules = read_summary_rules(spec.summaries);
  EXPECT_EQ(spec.summaries.unread_keys(), std::vector<std::string>{});
  return rules;
}

/// The message of the ConfigError reading `table` gives, with the file's path cut to its name.
std::string error_of(const std::string& table) {
  TempDir dir;
  const std::string text = mlp_experiment() + "[summaries]\n" + table;
  const auto file = write_text(dir, "exp.toml", text);
  try {
    const ExperimentSpec spec = load_experiment(file, {});
    read_summary_rules(spec.summaries);
    spec.summaries.reject_unread("");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

/// "exp.toml:LINE:COLUMN: " of the value of `key` in the [summaries] table appended to mlp_experiment().
std::string at(const std::string& key, int column) {
  const std::string text = mlp_experiment();
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  const int line = lines + 2 + (key == "minimize");  // [summaries], then maximize, then minimize
  return "exp.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": summaries." + key + ": ";
}

TEST(summary_rules, a_pattern_in_both_lists_is_an_error_at_the_second) {
  EXPECT_EQ(error_of("maximize = [\"eval/psnr\", \"acc/*\"]\nminimize = [\"acc/*\"]\n"),
            at("minimize", 12) + "\"acc/*\" is in both maximize and minimize; keep it in one");
}

TEST(summary_rules, a_star_before_the_end_or_an_empty_tag_is_an_error_at_its_key) {
  EXPECT_EQ(error_of("maximize = [\"eval/*/psnr\"]\n"),
            at("maximize", 12) + "\"eval/*/psnr\" has a '*' before its end; write a tag (\"eval/psnr\") or a prefix "
                                 "ending in '*' (\"acc/*\")");
  EXPECT_EQ(error_of("maximize = [\"eval/l1\"]\nminimize = [\"\"]\n"),
            at("minimize", 12) + "a summary tag must not be empty (write a tag, \"eval/psnr\", or a prefix, \"acc/*\")");
  EXPECT_THAT(error_of("maximize = \"eval/psnr\"\n"), ::testing::StartsWith(at("maximize", 12) + "expected an array"));
  EXPECT_THAT(error_of("maximise = [\"eval/psnr\"]\n"), ::testing::HasSubstr("maximise"));
}

TEST(summary_rules, maximize_and_minimize_become_rules_each_pattern_once) {
  EXPECT_EQ(rules_of("maximize = [\"eval/psnr\", \"acc/*\", \"eval/psnr\"]\nminimize = [\"acc/loss\", \"*\"]\n"),
            (Rules{{"eval/psnr", "max"}, {"acc/*", "max"}, {"acc/loss", "min"}, {"*", "min"}}));
  EXPECT_EQ(rules_of(""), Rules{});
}

}  // namespace
}  // namespace kiln::runner
