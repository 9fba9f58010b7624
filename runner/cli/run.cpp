// `kiln run`: build the experiment, run it (runner/run/run.hpp), and say how it ended. A
// process of a data-parallel run (torchrun's or Slurm's variables, or kiln run --nproc) first
// meets the others (train/distributed.hpp); rank 0 runs the Run, the others train beside it.
#include <algorithm>
#include <csignal>
#include <chrono>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "config/world.hpp"
#include "hooks/signals.hpp"
#include "hooks/status_line.hpp"
#include "run/run.hpp"
#include "run/setup.hpp"
#include "store/run_store.hpp"
#include "train/distributed.hpp"
#include "train/error_text.hpp"
#include "train/recorder.hpp"

namespace kiln::runner::cli {

namespace fs = std::filesystem;

namespace {

/// Where a rank other than 0 records: nowhere (rank 0 records the run).
class NoRecorder final : public Recorder {
 public:
  void summary(std::string_view, std::int64_t, double) override {}
  void event(std::string_view, std::optional<std::int64_t>, std::string_view) override {}
  void image(std::string_view, std::int64_t, const std::string&) override {}
};

/// How a run ended, printed for the person who started it.
int report(const RunOutcome& outcome, const ExperimentSpec& spec, const std::string& processes) {
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
  if (!processes.empty()) fmt::print("  processes      {}\n", processes);
  fmt::print("  run directory  {}\n", outcome.run_dir.string());
  if (const fs::path images = outcome.run_dir / "images"; fs::is_directory(images))
    fmt::print("  images         {} (input | output | target grids, newest last)\n", images.string());
  fmt::print("  database       {}\n", spec.database.string());
  fmt::print("  try: kiln query \"SELECT tag, MIN(value), MAX(value) FROM summaries s JOIN runs r ON r.id = s.run_id "
             "WHERE r.name = '{}' GROUP BY tag\"\n", outcome.name);
  return kExitOk;
}

/// After every rank said how `stage` went: 0 to go on, else the exit code. Rank 0 prints the
/// first problem (its own, or "rank 2: ..."); another rank prints its own only when rank 0's
/// differs (a bad file fails every rank alike: one line, not one per process).
int settle(const World& world, const std::vector<std::string>& problems, int code) {
  const std::string& mine = problems[static_cast<std::size_t>(world.rank)];
  if (world.main()) {
    if (!mine.empty()) return fail(code, mine);
    for (std::size_t rank = 1; rank < problems.size(); ++rank)
      if (!problems[rank].empty()) return fail(code, fmt::format("rank {}: {}", rank, problems[rank]));
    return 0;
  }
  if (!mine.empty() && mine != problems[0]) return fail(code, fmt::format("rank {}: {}", world.rank, mine));
  for (const std::string& problem : problems)
    if (!problem.empty()) return code;
  return 0;
}

/// Rank 0: the run, as one process runs it, with the others training beside it. When it ends
/// before the training began (nothing to do, or an error) it tells the others.
int run_main_rank(const RunArgs& args, ExperimentSetup& setup, Rendezvous& rendezvous) {
  RunOptions options;
  options.fresh = args.fresh;
  options.backend = setup.backend;
  options.hosts = rendezvous.hosts();
  store::RunEnvironment environment;
  environment.world_size = setup.world.size;
  environment.backend = setup.backend;
  environment.hosts = rendezvous.hosts();
  const std::string processes = store::describe_processes(environment);  // as kiln show says it
  RunOutcome outcome;
  try {
    Run run(setup, std::move(options));
    outcome = run.execute();
  } catch (const std::exception& e) {
    if (!setup.trainer.started()) rendezvous.announce("start", "error:" + error_text(e));
    throw;
  }
  if (!setup.trainer.started())
    rendezvous.announce("start", outcome.status == "failed" ? "error:" + outcome.error : "done");
  return report(outcome, setup.spec, processes);
}

/// Another rank: trains beside rank 0 and records nothing; prints only its own failure.
int run_other_rank(ExperimentSetup& setup, Rendezvous& rendezvous) {
  const std::string start = rendezvous.announced("start");
  if (start == "done") return kExitOk;
  if (start.rfind("error:", 0) == 0) return kExitFailed;  // rank 0 says why
  NoRecorder recorder;
  Trainer& trainer = setup.trainer;
  trainer.attach(recorder, setup.spec.name, setup.spec.runs_dir / setup.spec.name);
  install_signal_handlers();
  try {
    trainer.run();
  } catch (const std::exception& e) {
    finishing_run();
    std::string what = error_text(e);
    if (const std::string hook = trainer.failed_hook(); !hook.empty()) what += fmt::format(" (in {})", hook);
    return fail(kExitFailed, fmt::format("rank {}: failed at step {}: {}", setup.world.rank, trainer.global_step(), what));
  }
  finishing_run();
  return kExitOk;
}

int run_distributed(const RunArgs& args, const World& world) {
  // A SIGHUP (a snapshot, forwarded by the launcher to every rank) before the handlers are in
  // would end the process: ignored until the training installs them.
  std::signal(SIGHUP, SIG_IGN);
  // The rendezvous first, so that each rank can say how its setup went: it waits as long as
  // [distributed] timeout says (a file that does not parse fails every rank alike, here).
  const ExperimentSpec early = load_experiment(args.experiment, args.overrides);
  const DistributedOptions options = DistributedOptions::read(early.distributed);
  Rendezvous rendezvous(world, std::chrono::milliseconds(static_cast<std::int64_t>(options.timeout * 1000)));

  std::unique_ptr<ExperimentSetup> setup;
  std::string problem;
  try {
    setup = std::make_unique<ExperimentSetup>(args.experiment, args.overrides, fs::path(), world);
  } catch (const std::exception& e) {
    problem = error_text(e);
  }
  if (const int code = settle(world, rendezvous.agree("setup", problem), kExitUsage)) return code;

  ProcessGroup group(rendezvous, setup->backend, setup->distributed, setup->trainer.device());
  setup->trainer.join(group);
  return world.main() ? run_main_rank(args, *setup, rendezvous) : run_other_rank(*setup, rendezvous);
}

}  // namespace

int run(const RunArgs& args) {
  const World world = read_world();
  if (world.distributed()) return run_distributed(args, world);
  // Everything that can be wrong with the experiment is found before the run is touched.
  ExperimentSetup setup(args.experiment, args.overrides);
  RunOptions options;
  options.fresh = args.fresh;
  Run run(setup, std::move(options));
  return report(run.execute(), setup.spec, "");
}

}  // namespace kiln::runner::cli
