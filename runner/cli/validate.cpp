// `kiln validate EXP.toml`: everything `kiln run` checks before training, and one batch through.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/commands.hpp"
#include "run/setup.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/run_ref.hpp"
#include "train/device.hpp"
#include "train/error_text.hpp"
#include "train/lr_schedule.hpp"
#include "train/optimizers.hpp"
#include "train/trainer.hpp"

namespace kiln::runner::cli {
namespace {

/// What `kiln run` would do with the run this experiment names, read without writing.
std::string run_plan(const ExperimentSpec& spec) {
  if (!std::filesystem::is_regular_file(spec.database))
    return fmt::format("would start run {} (no database yet at {})", spec.name, spec.database.string());
  store::Database db = store::open_existing(spec.database);
  const std::optional<std::int64_t> id = store::find_run_id(db, spec.name);
  if (!id) return fmt::format("would start run {} in {}", spec.name, spec.database.string());
  return fmt::format("would resume run {} ({}, {} of {} steps recorded; --fresh starts another)", spec.name,
                     store::run_row(db, *id).status, store::steps_done(db, *id), spec.max_steps);
}

std::string plugin_of(const PluginHost& host, const std::string& kind, const std::string& name) {
  for (const PluginRecord& record : host.records())
    if (record.kind == kind && record.name == name)
      return fmt::format("{} {} ({})", record.library, record.version, std::filesystem::path(record.path).filename().string());
  return "?";
}

/// 8010980 as "8,010,980".
std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

}  // namespace

int validate(const ValidateArgs& args) {
  // The same construction as `kiln run`, in the same order, so it finds the same errors.
  ExperimentSetup setup(args.experiment, args.overrides);
  const ExperimentSpec& spec = setup.spec;
  const PluginHost& host = setup.host;
  Trainer& trainer = setup.trainer;
  std::vector<std::pair<std::string, double>> losses;
  try {
    losses = trainer.check_losses();
  } catch (const std::exception& e) {
    // A model that cannot take its data, or a loss that cannot take the model's outputs.
    throw Error(fmt::format("{}: the first batch fails: {}", args.experiment.string(), error_text(e)));
  }

  std::int64_t parameters = 0;
  for (const torch::Tensor& p : trainer.model().parameters()) parameters += p.numel();
  fmt::print("{}: valid\n", args.experiment.string());
  fmt::print("  run        {}\n", run_plan(spec));
  fmt::print("  device     {}\n", describe_line(describe(trainer.device(), trainer.precision())));
  fmt::print("  model      {}: {} parameters, from {}\n", spec.model.plugin, with_commas(parameters),
             plugin_of(host, "model", spec.model.plugin));
  const Dataset& data = *trainer.dataset("train");
  fmt::print("  data       {}: {} examples, batches of {} ({} per epoch), from {}\n", spec.data.source.plugin,
             data.size(), spec.data.batch_size, trainer.loader().batches_per_epoch(),
             plugin_of(host, "dataset", spec.data.source.plugin));
  if (spec.accumulate > 1)
    fmt::print("  accumulate {} micro-batches a step: {} examples per update\n", spec.accumulate,
               spec.accumulate * spec.data.batch_size);
  if (const Dataset* eval = trainer.dataset("eval"))
    fmt::print("  eval data  {}: {} examples\n", spec.eval_data->plugin, eval->size());
  for (const Phase& phase : trainer.phases()) {
    std::vector<std::string> names;
    for (const auto& [name, value] : losses)
      if (name.rfind(phase.spec.name + "/", 0) == 0) names.push_back(name.substr(phase.spec.name.size() + 1));
    const double lr = optimizer_type(phase.spec.type).lr(*phase.optimizer);  // the type's default when not given
    fmt::print("  phase      {}: {} lr {} on '{}' ({}), minimizing {}\n", phase.spec.name, phase.spec.type, lr,
               phase.spec.params, fmt::format("{} tensors", phase.params.size()), fmt::join(names, " + "));
    std::vector<std::string> controls;
    if (phase.schedule) controls.push_back("schedule " + phase.schedule->description());
    if (phase.clip_norm) controls.push_back(fmt::format("clip_norm {}", *phase.clip_norm));
    if (phase.clip_value) controls.push_back(fmt::format("clip_value {}", *phase.clip_value));
    if (!controls.empty()) fmt::print("             {}\n", fmt::join(controls, ", "));
  }
  // In the order they run: by priority, ties as added.
  std::vector<std::string> hooks;
  for (const OrderedHook& hook : trainer.hooks()) hooks.push_back(fmt::format("{} ({})", hook.name, hook.priority));
  fmt::print("  hooks      {}\n", fmt::join(hooks, ", "));
  std::vector<std::string> values;
  for (const auto& [name, value] : losses) values.push_back(fmt::format("{} {:.5g}", name, value));
  fmt::print("  losses     on the first batch: {}\n", fmt::join(values, ", "));
  return kExitOk;
}

}  // namespace kiln::runner::cli
