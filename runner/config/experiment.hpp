// The experiment file as a typed spec: what the runner reads of each table, validated.
// Torch-free (kiln::config): the built-in hooks and the optimizer table read their own keys.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "document.hpp"
#include "kiln/config.hpp"

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

/// An [[optimizers]] entry: a phase of each step. Its type's own keys stay in `config`:
/// the optimizer table (train/optimizers.hpp) checks `type` and reads them when the trainer
/// builds the optimizer, before any run starts.
struct OptimizerSpec {
  std::string name;
  std::string type;    ///< the `type` value, e.g. "adam"; the optimizer table checks it
  std::string params;  ///< the model's parameter group, "all" by default
  std::optional<double> lr;  ///< the learning rate it starts with; empty: the type's default
  std::vector<std::pair<std::string, double>> losses;  ///< loss name, weight
  std::vector<std::string> after;
  Config config;  ///< the whole table: the type's keys, and positions for errors found later
};

struct HookSpec {
  std::string name;  ///< unique among the run's hooks; names its state in checkpoints
  PluginSpec source;
  std::optional<int> priority;
};

/// [experiment] init_from: start a new run from another run's weights.
struct InitFromSpec {
  std::string source;            ///< a checkpoint path, or a run name; empty: none
  std::optional<std::int64_t> step;  ///< with a run name: that step's checkpoint, else its latest
  bool best = false;             ///< with a run name: the checkpoint it kept as "best" (early stopping)
  bool strict = true;            ///< false: skip (and list) tensors that do not fit
  Config config;
};

struct ExperimentSpec {
  std::filesystem::path file;
  std::string name;  ///< 1 to 200 of [A-Za-z0-9._-], not beginning with '-', not "." or ".."
  std::uint64_t seed = 0;
  std::int64_t max_steps = 0;
  int threads = 0;  ///< intra-op threads, at most 4 per usable core; 0: one per usable core, fewer under load
  std::string device = "auto";     ///< "auto", "cpu", "cuda" or "cuda:N", as written (train/device.hpp resolves it)
  std::string precision = "auto";  ///< "auto" (tf32 on CUDA, fp32 on the CPU), "fp32", "tf32", "bf16" or "fp16"
  /// Micro-batches forwarded per update, 1 to 1024: each phase sums their gradients (each
  /// scaled 1/N) before its update; a step takes N batches of data.batch_size.
  int accumulate = 1;
  /// Capture the training step as one CUDA graph after a few eager steps and replay it for
  /// every step after (train/step_graph.hpp); CUDA only, checked by the trainer.
  bool cuda_graphs = false;
  /// [experiment] tags: labels to find the run by (`kiln serve` filters on them); recorded
  /// in params as experiment.tags, as every key is.
  std::vector<std::string> tags;
  std::filesystem::path runs_dir;  ///< run directories go in runs_dir/<run name>
  std::filesystem::path database;
  std::vector<std::filesystem::path> plugin_paths;  ///< absolute
  DataSpec data;
  std::optional<PluginSpec> eval_data;  ///< [eval_data]: held-out examples for hooks
  PluginSpec model;
  std::vector<LossSpec> losses;
  std::vector<OptimizerSpec> optimizers;  ///< in phase order: `after` first, else as declared
  std::vector<HookSpec> hooks;
  /// The built-in hooks' tables, which each hook reads itself as a plugin hook reads its own
  /// (hooks/supervisor.hpp, hooks/saver.hpp, hooks/ema.hpp): [supervisor] and [saver] are
  /// empty tables when the file has none; [ema] is there only when the file has it.
  Config supervisor;
  Config saver;
  std::optional<Config> ema;
  /// [early_stopping], there only when the file has it (hooks/early_stopping.hpp reads it).
  std::optional<Config> early_stopping;
  /// [summaries]: which tags are better higher or lower (an empty table when the file has none).
  Config summaries;
  Config distributed;  ///< [distributed] (config/world.hpp's DistributedOptions reads it)
  InitFromSpec init_from;

  std::shared_ptr<detail::Document> document;  ///< the resolved document
  Config root;

  /// The declared losses' names, in file order.
  std::vector<std::string> loss_names() const;
};

/// Reads and validates an experiment file with `--set` overrides applied in order.
/// Throws ConfigError with file:line:column. Plugin keys are not checked here: call
/// `spec.root.reject_unread(...)` once every plugin has been built from its table.
ExperimentSpec load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

/// A ConfigError at `table`'s `key` for a reference to a `what` that is not declared, with a
/// did-you-mean and the declared names: "no loss named 'mes'; did you mean 'mse'? (declared: mse)".
[[noreturn]] void fail_unknown_name(const Config& table, std::string_view key, std::string_view what,
                                    const std::string& name, const std::vector<std::string>& known);

/// Orders optimizers so that each comes after those its `after` names (stable otherwise).
/// A cycle is a ConfigError naming it: "a -> b -> a".
std::vector<OptimizerSpec> order_phases(std::vector<OptimizerSpec> optimizers);

}  // namespace kiln::runner
