// An experiment run in-process against a real run store, the way `kiln run` runs it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiment_file.hpp"
#include "hooks/saver.hpp"
#include "run/run.hpp"
#include "run/setup.hpp"
#include "store/writer.hpp"
#include "temp_dir.hpp"

namespace kiln::test {

/// What `kiln run` builds and runs, in this process: the experiment written to `dir` as
/// exp.toml with its runs folder in `dir`, its built-in hooks, and a runner::Run on `dir`'s
/// store (no signal handlers). A second RunFixture on the same directory and run name
/// resumes the run. Hooks a test adds to `trainer` before execute() run with the others.
struct RunFixture {
  RunFixture(const TempDir& dir, const std::string& text, const std::vector<std::string>& overrides = {},
             std::function<double()> clock = {})
      : setup(write_text(dir, "exp.toml", text), with_paths(dir, overrides), KILN_PLUGIN_DIR),
        run(setup, options(std::move(clock))),
        spec(setup.spec),
        trainer(setup.trainer),
        saver(setup.saver) {}

  /// The run's lifecycle: its row, the restore, the steps, its final status.
  runner::RunOutcome execute() { return run.execute(); }
  runner::store::Writer& writer() { return *run.writer(); }

  static std::vector<std::string> with_paths(const TempDir& dir, std::vector<std::string> overrides) {
    overrides.insert(overrides.begin(), "experiment.runs_dir=\"" + (dir / "runs").string() + "\"");
    return overrides;
  }
  static runner::RunOptions options(std::function<double()> clock) {
    runner::RunOptions options;
    options.handle_signals = false;
    options.clock = std::move(clock);
    return options;
  }

  runner::ExperimentSetup setup;
  runner::Run run;
  const runner::ExperimentSpec& spec;
  runner::Trainer& trainer;
  std::shared_ptr<runner::Saver> saver;
};

}  // namespace kiln::test
