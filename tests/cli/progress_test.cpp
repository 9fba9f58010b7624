// kiln run's progress as a person sees it: a status line redrawn in place on a terminal,
// log lines every N steps (with the ETA and the loss averages) on a pipe.
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "cli_support.hpp"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kErase = "\x1b[K";

/// The texts the status line drew: each "\r<text>\x1b[K" in `output`, in order.
std::vector<std::string> drawn(const std::string& output) {
  std::vector<std::string> draws;
  for (std::size_t at = output.find('\r'); at != std::string::npos; at = output.find('\r', at + 1)) {
    const std::size_t end = output.find(kErase, at);
    if (end == std::string::npos) break;
    draws.push_back(output.substr(at + 1, end - at - 1));
  }
  return draws;
}

/// The progress lines of a piped stderr: the text after "] " of each "[...] [info] step ..." line.
std::vector<std::string> logged_progress(const std::string& err) {
  std::vector<std::string> out;
  for (const std::string& line : lines(err)) {
    const std::size_t at = line.find("] step ");
    if (!line.empty() && line.front() == '[' && at != std::string::npos) out.push_back(line.substr(at + 2));
  }
  return out;
}

std::string experiment(const std::string& supervisor, long max_steps) {
  return mlp_experiment("[supervisor]\n" + supervisor + "[saver]\nenabled = false\n", max_steps);
}

TEST(progress, on_a_terminal_is_one_line_redrawn_in_place_then_ended_before_the_summary) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("", 300));
  KilnOptions terminal;
  terminal.streams = Streams::terminal;  // stdout and stderr on one terminal, as in a shell
  terminal.columns = 150;
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path(), {}, terminal);
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const std::string& screen = result.err;

  // Everything before the summary is the status line's draws, and one newline that ends it.
  const std::size_t summary = screen.find("run t completed: step 300 of 300");
  ASSERT_NE(summary, std::string::npos) << result.describe();
  const std::string progress = screen.substr(0, summary);
  EXPECT_TRUE(std::regex_match(progress, std::regex("(\r[^\r\n\x1b]+\x1b\\[K)+\n"))) << result.describe();

  const std::vector<std::string> draws = drawn(progress);
  ASSERT_GE(draws.size(), 2u) << result.describe();
  // The first step draws at once, before any rate is known; the end draws the last step.
  EXPECT_TRUE(std::regex_match(draws.front(), std::regex("step 1/300  ETA -:--:--  elapsed [0-9]+:[0-9]{2}:[0-9]{2}  "
                                                         "ema mse [0-9.e-]+")))
      << draws.front();
  EXPECT_TRUE(std::regex_match(draws.back(), std::regex("step 300/300  [0-9.]+ steps/s  ETA 0:00:00  "
                                                        "elapsed [0-9]+:[0-9]{2}:[0-9]{2}  ema mse [0-9.e-]+")))
      << draws.back();
  for (const std::string& draw : draws) EXPECT_LT(draw.size(), 150u) << draw;
}

TEST(progress, on_a_narrow_terminal_is_cut_to_its_width) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("", 50));
  KilnOptions narrow;
  narrow.streams = Streams::stderr_terminal;
  narrow.columns = 30;
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path(), {}, narrow);
  ASSERT_EQ(result.exit_code(), 0) << result.describe();

  const std::vector<std::string> draws = drawn(result.err);
  ASSERT_GE(draws.size(), 2u) << result.describe();
  // One column short of the width: writing the last one makes some terminals wrap.
  EXPECT_EQ(draws.front(), "step 1/50  ETA -:--:--  elaps");
  for (const std::string& draw : draws) EXPECT_EQ(draw.size(), 29u) << draw;
  EXPECT_EQ(result.err.substr(result.err.size() - 4), std::string(kErase) + "\n");
  EXPECT_THAT(result.out, StartsWith("run t completed: step 50 of 50"));
}

TEST(progress, on_a_pipe_is_a_log_line_every_n_steps_with_eta_and_loss_averages) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("log_every_steps = 10\n", 50));
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();

  EXPECT_EQ(result.err.find('\r'), std::string::npos) << result.describe();
  const std::vector<std::string> logged = logged_progress(result.err);
  // The first step, every 10th (steps are counted from 0, shown from 1) and the last.
  ASSERT_EQ(logged.size(), 6u) << result.describe();
  const char* expected_steps[] = {"step 1/50  ", "step 11/50  ", "step 21/50  ",
                                  "step 31/50  ", "step 41/50  ", "step 50/50  "};
  for (std::size_t i = 0; i < logged.size(); ++i) {
    EXPECT_THAT(logged[i], StartsWith(expected_steps[i]));
    EXPECT_THAT(logged[i], HasSubstr("  ETA "));
    EXPECT_TRUE(std::regex_search(logged[i], std::regex("  ema mse [0-9.e-]+$"))) << logged[i];
  }
  EXPECT_THAT(logged.back(), HasSubstr("ETA 0:00:00"));
  EXPECT_EQ(message_lines(result.err), std::vector<std::string>{}) << result.describe();
}

TEST(progress, off_shows_nothing_even_on_a_terminal) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("progress = \"off\"\n", 20));
  KilnOptions terminal;
  terminal.streams = Streams::stderr_terminal;
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path(), {}, terminal);
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(result.out, StartsWith("run t completed: step 20 of 20"));
}

TEST(progress, log_forces_log_lines_on_a_terminal) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("progress = \"log\"\nlog_every_steps = 100\n", 20));
  KilnOptions terminal;
  terminal.streams = Streams::stderr_terminal;
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path(), {}, terminal);
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.err.find('\r'), std::string::npos) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("step 20/20  "));
}

TEST(progress, an_unknown_mode_is_a_config_error_with_its_position) {
  TempDir dir;
  write_text(dir, "exp.toml", experiment("progress = \"bar\"\n", 20));
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result),
            "error: exp.toml:24:12: supervisor.progress: expected \"auto\", \"line\", \"log\" or \"off\", got \"bar\"");
}

}  // namespace
}  // namespace kiln::test
