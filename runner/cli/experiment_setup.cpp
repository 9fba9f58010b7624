// An experiment built the way `kiln run` builds it, shared by `kiln run` and `kiln validate`.
#include "cli/experiment_setup.hpp"

#include <memory>

#include "cli/commands.hpp"
#include "hooks/ema.hpp"
#include "hooks/supervisor.hpp"

namespace kiln::runner::cli {

ExperimentSetup::ExperimentSetup(const std::filesystem::path& file, const std::vector<std::string>& overrides)
    : spec(load_experiment(file, overrides)), host(spec.plugin_paths, default_plugin_dir()), trainer(spec, host) {
  trainer.add_hook("supervisor", std::make_shared<Supervisor>(spec.supervisor), 1000);
  if (spec.ema.enabled) trainer.add_hook("ema", std::make_shared<Ema>(spec.ema), 500);
  spec.root.reject_unread("");
}

}  // namespace kiln::runner::cli
