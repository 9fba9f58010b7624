// An experiment built the way `kiln run` builds it, shared by `kiln run` and `kiln validate`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner::cli {

/// The resolved spec, its plugins and a trainer with the built-in supervisor and EMA hooks,
/// every key of the file read (an unread one is a positioned ConfigError). The saver is not
/// added: it needs the run's store. Not movable: the trainer refers to the spec and host.
struct ExperimentSetup {
  ExperimentSetup(const std::filesystem::path& file, const std::vector<std::string>& overrides);
  ExperimentSetup(const ExperimentSetup&) = delete;
  ExperimentSetup& operator=(const ExperimentSetup&) = delete;

  const ExperimentSpec spec;
  PluginHost host;
  Trainer trainer;
};

}  // namespace kiln::runner::cli
