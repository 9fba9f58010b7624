// An experiment built the way `kiln run` builds it, shared by `kiln run` and `kiln validate`.
#include "cli/experiment_setup.hpp"

#include <memory>

#include "cli/commands.hpp"
#include "config/cores.hpp"
#include "hooks/ema.hpp"
#include "hooks/supervisor.hpp"
#include "hooks/thread_governor.hpp"

namespace kiln::runner::cli {

ExperimentSetup::ExperimentSetup(const std::filesystem::path& file, const std::vector<std::string>& overrides)
    : spec(load_experiment(file, overrides)), host(spec.plugin_paths, default_plugin_dir()), trainer(spec, host) {
  trainer.add_hook("supervisor", std::make_shared<Supervisor>(spec.supervisor), 1000);
  if (spec.ema.enabled) trainer.add_hook("ema", std::make_shared<Ema>(spec.ema), 500);
  // threads = 0: as many as the cores this process may use, fewer while others compete.
  if (const int cores = usable_cores(); spec.threads == 0 && cores > 1) {
    ThreadGovernor::Options options;
    options.max_threads = cores;
    trainer.add_hook("threads", std::make_shared<ThreadGovernor>(std::move(options)), 1100);
  }
  spec.root.reject_unread("");
}

}  // namespace kiln::runner::cli
