// ExperimentSetup: an experiment built from its file and plugins, checked, ready for a run.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {

class Saver;

/// The resolved spec, its plugins and a trainer with the built-in hooks (supervisor, EMA,
/// early stopping, saver, thread governor, each built from its own table), every key of the file read (an unread one is a positioned
/// ConfigError) and every hook prepared (Hook::prepare: what needs the whole experiment,
/// such as init_from's run or [eval_data]): whatever is wrong with the experiment is an
/// error here, before a run is touched. The saver is bound to a run by Run. Not movable:
/// the trainer refers to the spec and host.
struct ExperimentSetup {
  /// `plugin_dir` is kiln's own plugin folder, searched last (cli::default_plugin_dir()
  /// when empty: the one beside the kiln executable).
  ///
  /// `world`: this process's place in a data-parallel run (config/world.hpp). Every rank
  /// builds the same experiment; a rank other than 0 gets no saver (rank 0 alone writes) and
  /// shows no progress.
  ExperimentSetup(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                  const std::filesystem::path& plugin_dir = {}, const World& world = {});
  ExperimentSetup(const ExperimentSetup&) = delete;
  ExperimentSetup& operator=(const ExperimentSetup&) = delete;

  const World world;
  const ExperimentSpec spec;
  PluginHost host;
  Trainer trainer;
  std::shared_ptr<Saver> saver;  ///< null with [saver] enabled = false
  /// [summaries] as read_summary_rules() returns it: (pattern, "max" or "min"); Run records it.
  std::vector<std::pair<std::string, std::string>> summary_rules;
  /// [distributed], read (and checked) in every run, and its backend resolved for the device.
  DistributedOptions distributed;
  std::string backend;
};

}  // namespace kiln::runner
