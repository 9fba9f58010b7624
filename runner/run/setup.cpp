// ExperimentSetup: an experiment built from its file and plugins, checked, ready for a run.
#include "run/setup.hpp"

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"  // default_plugin_dir()
#include "config/cores.hpp"
#include "config/summary_rules.hpp"
#include "hooks/early_stopping.hpp"
#include "hooks/ema.hpp"
#include "hooks/saver.hpp"
#include "hooks/supervisor.hpp"
#include "hooks/thread_governor.hpp"
#include "train/distributed.hpp"

namespace kiln::runner {

ExperimentSetup::ExperimentSetup(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                                 const std::filesystem::path& plugin_dir, const World& world)
    : world(world),
      spec(load_experiment(file, overrides)),
      host(spec.plugin_paths, plugin_dir.empty() ? cli::default_plugin_dir() : plugin_dir),
      trainer(spec, host, world) {
  // The built-in hooks read their own tables, as plugin hooks do; the EMA's cross-checks
  // get what they need (the declared losses, the supervisor's summary schedule) from here.
  Supervisor::Options supervision = Supervisor::Options::read(spec.supervisor);
  const Saver::Options saving = Saver::Options::read(spec.saver);
  distributed = DistributedOptions::read(spec.distributed);
  backend = resolve_backend(distributed, trainer.device(), world.distributed());
  // Rank 0 shows the run's progress; the others would draw over it.
  if (!world.main()) supervision.progress = "off";
  trainer.add_hook("supervisor", std::make_shared<Supervisor>(supervision));
  if (spec.ema)
    trainer.add_hook("ema", std::make_shared<Ema>(Ema::Options::read(*spec.ema, spec.loss_names(), supervision)));
  // threads = 0: as many as the cores this process may use, fewer while others compete.
  if (const int cores = usable_cores() / std::max(1, world.local_size); spec.threads == 0 && cores > 1) {
    ThreadGovernor::Options options;
    options.max_threads = cores;
    trainer.add_hook("threads", std::make_shared<ThreadGovernor>(std::move(options)));
  }
  summary_rules = read_summary_rules(spec.summaries);
  if (spec.early_stopping)
    trainer.add_hook("early_stopping", std::make_shared<EarlyStopping>(EarlyStopping::Options::read(
                                           *spec.early_stopping, saving.enabled, summary_rules)));
  // Rank 0 alone restores and saves (and shares what it restored with the others).
  if (saving.enabled && world.main()) {
    SaverContext context;
    context.database = spec.database;
    context.init_from = spec.init_from;
    context.run_name = spec.name;
    saver = std::make_shared<Saver>(saving, std::move(context));
    trainer.add_hook("saver", saver);
  }
  spec.root.reject_unread("");
  trainer.prepare();
}

}  // namespace kiln::runner
