// The experiment file as a typed spec: what the runner reads of each table, validated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "document.hpp"
#include "kiln/config.hpp"

namespace torch::optim {
class OptimizerOptions;
}

namespace kiln::runner {

/// A table that names a plugin: `plugin = "mlp"`, optionally `library = "..."`, and the
/// plugin's own keys, which the plugin reads from `config`.
struct PluginSpec {
  std::string plugin;
  std::string library;  ///< empty: lib<plugin>.so, or whichever library registers the name
  Config config;
};

struct DataSpec {
  PluginSpec source;
  std::int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = true;
  int workers = 1;   ///< loader threads, at most 64; 0 loads on the training thread (the default on one core)
  int prefetch = 2;  ///< batches prepared ahead, 1 to 1024
};

struct LossSpec {
  std::string name;  ///< how optimizers and summaries refer to it; defaults to the plugin
  PluginSpec source;
};

/// An [[optimizers]] entry: a phase of each step. Its type's own keys are in `options`,
/// read and checked by the type's entry in the optimizer table (train/optimizers.hpp).
struct OptimizerSpec {
  std::string name;
  std::string type;    ///< a type of the optimizer table: adam, adamw or sgd
  std::string params;  ///< the model's parameter group, "all" by default
  double lr = 1e-3;    ///< the learning rate it starts with; the type's default when not given
  /// The type's options (e.g. torch::optim::AdamOptions), which only its table entry reads.
  std::shared_ptr<const torch::optim::OptimizerOptions> options;
  std::vector<std::pair<std::string, double>> losses;  ///< loss name, weight
  std::vector<std::string> after;
  Config config;  ///< for positioned errors found later (an unknown parameter group)
};

struct HookSpec {
  std::string name;  ///< unique among the run's hooks; names its state in checkpoints
  PluginSpec source;
  std::optional<int> priority;
};

struct SupervisorSpec {
  std::int64_t summary_every_steps = 10;  ///< 0 disables step-based summaries
  double summary_every_secs = 0;          ///< 0 disables time-based summaries
  std::int64_t log_every_steps = 100;     ///< progress lines on stderr; 0 disables
  /// "auto" (a status line on a terminal, else log lines), "line", "log" or "off"
  std::string progress = "auto";
  double max_time = 0;                    ///< seconds of training per process; 0 = no limit
  std::string on_nan = "stop";            ///< "stop" or "skip" (that step's updates)
};

/// [saver]: when to checkpoint and which checkpoints to keep (tf.train.Saver's rule).
struct SaverSpec {
  bool enabled = true;
  std::int64_t every_steps = 0;   ///< 0 disables step-based saves
  double every_secs = 600;        ///< 0 disables time-based saves
  std::int64_t max_to_keep = 5;   ///< 0 keeps every checkpoint
  double keep_every_hours = 0;    ///< 0 disables; else also keep one per this many hours
};

/// [ema]: exponential moving averages of parameter groups and losses (tf.train.ExponentialMovingAverage).
struct EmaSpec {
  bool enabled = false;              ///< true when the experiment has an [ema] table
  double decay = 0.999;
  bool num_updates = false;          ///< decay_t = min(decay, (1 + step) / (10 + step))
  bool zero_debias = false;          ///< debias loss shadows, which start at 0
  std::vector<std::string> params;   ///< parameter groups to average
  std::vector<std::string> losses;   ///< losses to average, as ema/<loss> summaries
  /// When ema/<loss> summaries are written: the supervisor's schedule for loss/<loss>
  /// (every step here, for code that builds an EmaSpec by hand).
  std::int64_t summary_every_steps = 1;
  double summary_every_secs = 0;
  Config config;                     ///< for positioned errors (an unknown group)
};

/// [experiment] init_from: start a new run from another run's weights.
struct InitFromSpec {
  std::string source;            ///< a checkpoint path, or a run name; empty: none
  std::optional<std::int64_t> step;  ///< with a run name: that step's checkpoint, else its latest
  bool strict = true;            ///< false: skip (and list) tensors that do not fit
  Config config;
};

struct ExperimentSpec {
  std::filesystem::path file;
  std::string name;  ///< 1 to 200 of [A-Za-z0-9._-], not beginning with '-', not "." or ".."
  std::uint64_t seed = 0;
  std::int64_t max_steps = 0;
  int threads = 0;  ///< intra-op threads, at most 4 per usable core; 0: one per usable core, fewer under load
  std::filesystem::path runs_dir;  ///< run directories go in runs_dir/<run name>
  std::filesystem::path database;
  std::vector<std::filesystem::path> plugin_paths;  ///< absolute
  DataSpec data;
  std::optional<PluginSpec> eval_data;  ///< [eval_data]: held-out examples for hooks
  PluginSpec model;
  std::vector<LossSpec> losses;
  std::vector<OptimizerSpec> optimizers;  ///< in phase order: `after` first, else as declared
  std::vector<HookSpec> hooks;
  SupervisorSpec supervisor;
  SaverSpec saver;
  EmaSpec ema;
  InitFromSpec init_from;

  std::shared_ptr<detail::Document> document;  ///< the resolved document
  Config root;
};

/// Reads and validates an experiment file with `--set` overrides applied in order.
/// Throws ConfigError with file:line:column. Plugin keys are not checked here: call
/// `spec.root.reject_unread(...)` once every plugin has been built from its table.
ExperimentSpec load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

/// Orders optimizers so that each comes after those its `after` names (stable otherwise).
/// A cycle is a ConfigError naming it: "a -> b -> a".
std::vector<OptimizerSpec> order_phases(std::vector<OptimizerSpec> optimizers);

}  // namespace kiln::runner
