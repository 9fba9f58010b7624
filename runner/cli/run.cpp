// `kiln run`: build the experiment, run it (runner/run/run.hpp), and say how it ended.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "hooks/status_line.hpp"
#include "run/run.hpp"
#include "run/setup.hpp"

namespace kiln::runner::cli {

namespace fs = std::filesystem;

int run(const RunArgs& args) {
  // Everything that can be wrong with the experiment is found before the run is touched.
  ExperimentSetup setup(args.experiment, args.overrides);
  const ExperimentSpec& spec = setup.spec;
  RunOptions options;
  options.fresh = args.fresh;
  Run run(setup, std::move(options));
  const RunOutcome outcome = run.execute();

  const std::string raise = "raise it to train on (--set experiment.max_steps=N), or start another run with --fresh";
  if (outcome.status == "done") {
    if (outcome.marked_completed)
      spdlog::info("run {} had saved its final checkpoint (step {}) before its process ended: marked completed",
                   outcome.name, outcome.step);
    fmt::print("run {} already reached max_steps ({}) at step {}; {}\n", outcome.name, spec.max_steps, outcome.step,
               raise);
    return kExitOk;
  }
  if (outcome.status == "failed" || !outcome.unrecorded.empty()) {
    StatusLine::on_stderr().finish();  // end() never ran: the status line may still be open
    const std::string unrecorded =
        outcome.unrecorded.empty() ? "" : fmt::format(" (its status could not be recorded: {})", outcome.unrecorded);
    if (outcome.status == "failed")
      fmt::print(stderr, "error: run {} failed at {}{}\n", outcome.name, outcome.error, unrecorded);
    else
      fmt::print(stderr, "error: run {} {} at step {}, but its status could not be recorded: {}\n", outcome.name,
                 outcome.status, outcome.step, outcome.unrecorded);
    return kExitFailed;
  }
  if (outcome.steps_run == 0 && outcome.step >= spec.max_steps) {
    fmt::print("run {} already reached max_steps ({}); {}\n", outcome.name, spec.max_steps, raise);
    return kExitOk;
  }
  fmt::print("run {} {}: step {} of {} ({} step{} in {:.1f} s){}\n", outcome.name, outcome.status, outcome.step,
             spec.max_steps, outcome.steps_run, outcome.steps_run == 1 ? "" : "s", outcome.seconds,
             outcome.status == "stopped" ? fmt::format(", {}", outcome.stop_reason) : "");
  if (!outcome.device.empty()) fmt::print("  device         {}\n", outcome.device);
  fmt::print("  run directory  {}\n", outcome.run_dir.string());
  if (const fs::path images = outcome.run_dir / "images"; fs::is_directory(images))
    fmt::print("  images         {} (input | output | target grids, newest last)\n", images.string());
  fmt::print("  database       {}\n", spec.database.string());
  fmt::print("  try: kiln query \"SELECT tag, MIN(value), MAX(value) FROM summaries s JOIN runs r ON r.id = s.run_id "
             "WHERE r.name = '{}' GROUP BY tag\"\n", outcome.name);
  return kExitOk;
}

}  // namespace kiln::runner::cli
