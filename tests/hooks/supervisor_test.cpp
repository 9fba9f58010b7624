// The supervisor's own table, [supervisor]: its keys, their defaults and errors, and the
// progress mode the `progress` key resolves to.
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"
#include "hooks/supervisor.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

/// The supervisor's options of an mlp experiment with `extra` at its end and `overrides`.
Supervisor::Options options_of(const std::string& extra, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment(extra)), overrides);
  return Supervisor::Options::read(spec.supervisor);
}

/// The error reading them is, the file's path shown as exp.toml.
std::string error_of(const std::string& extra, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment(extra));
  try {
    Supervisor::Options::read(load_experiment(file, overrides).supervisor);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

TEST(supervisor_options, without_a_table_are_the_defaults) {
  const Supervisor::Options options = options_of("");
  EXPECT_EQ(options.summary_every_steps, 10);
  EXPECT_EQ(options.summary_every_secs, 0.0);
  EXPECT_EQ(options.log_every_steps, 100);
  EXPECT_EQ(options.progress, "auto");
  EXPECT_EQ(options.max_time, 0.0);
  EXPECT_EQ(options.on_nan, "stop");
  EXPECT_FALSE(Supervisor(options).skip_non_finite());
}

TEST(supervisor_options, are_read_from_the_table_and_overrides) {
  const Supervisor::Options options =
      options_of("[supervisor]\nsummary_every_steps = 5\nsummary_every_secs = 2.5\nlog_every_steps = 0\n"
                 "progress = \"log\"\nmax_time = 60\n",
                 {"supervisor.on_nan=\"skip\""});
  EXPECT_EQ(options.summary_every_steps, 5);
  EXPECT_EQ(options.summary_every_secs, 2.5);
  EXPECT_EQ(options.log_every_steps, 0);
  EXPECT_EQ(options.progress, "log");
  EXPECT_EQ(options.max_time, 60.0);
  EXPECT_EQ(options.on_nan, "skip");
  EXPECT_TRUE(Supervisor(options).skip_non_finite());
}

TEST(supervisor_options, bad_values_are_errors_at_their_keys) {
  EXPECT_EQ(error_of("[supervisor]\non_nan = \"skp\"\n"),
            "exp.toml:24:10: supervisor.on_nan: expected \"stop\" or \"skip\", got \"skp\"; did you mean \"skip\"?");
  EXPECT_EQ(error_of("[supervisor]\nprogress = \"lines\"\n"),
            "exp.toml:24:12: supervisor.progress: expected \"auto\", \"line\", \"log\" or \"off\", got \"lines\"; "
            "did you mean \"line\"?");
  EXPECT_EQ(error_of("[supervisor]\nmax_time = nan\n"),
            "exp.toml:24:12: supervisor.max_time: must be a finite number, got nan");
  EXPECT_EQ(error_of("", {"supervisor.summary_every_steps=-1"}),
            "--set supervisor.summary_every_steps=-1: supervisor.summary_every_steps: must be 0 or more, got -1");
  EXPECT_EQ(error_of("", {"supervisor.log_every_steps=\"often\""}),
            "--set supervisor.log_every_steps=\"often\": supervisor.log_every_steps: expected an integer, got a "
            "string");
}

Supervisor::Options with_progress(const std::string& progress, std::int64_t log_every_steps) {
  Supervisor::Options options;
  options.progress = progress;
  options.log_every_steps = log_every_steps;
  return options;
}

TEST(supervisor_progress, auto_is_a_status_line_on_a_terminal_and_log_lines_elsewhere) {
  EXPECT_EQ(resolve_progress(with_progress("auto", 100), /*stderr_is_terminal=*/true), ProgressMode::line);
  EXPECT_EQ(resolve_progress(with_progress("auto", 100), /*stderr_is_terminal=*/false), ProgressMode::log);
}

TEST(supervisor_progress, log_every_steps_0_silences_auto_and_log_but_not_line) {
  EXPECT_EQ(resolve_progress(with_progress("auto", 0), true), ProgressMode::off);
  EXPECT_EQ(resolve_progress(with_progress("log", 0), false), ProgressMode::off);
  EXPECT_EQ(resolve_progress(with_progress("line", 0), false), ProgressMode::line);
}

TEST(supervisor_progress, explicit_modes_ignore_the_terminal) {
  EXPECT_EQ(resolve_progress(with_progress("line", 10), false), ProgressMode::line);
  EXPECT_EQ(resolve_progress(with_progress("log", 10), true), ProgressMode::log);
  EXPECT_EQ(resolve_progress(with_progress("off", 10), true), ProgressMode::off);
}

TEST(supervisor_progress, is_read_and_defaults_to_auto) {
  EXPECT_EQ(options_of("").progress, "auto");
  EXPECT_EQ(options_of("[supervisor]\nprogress = \"log\"\n").progress, "log");
  EXPECT_EQ(options_of("", {"supervisor.progress=\"off\""}).progress, "off");
}

}  // namespace
}  // namespace kiln::runner
