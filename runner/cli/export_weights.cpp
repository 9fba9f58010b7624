// `kiln export weights`: a checkpoint's model weights as safetensors or a .pt for Python.
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/chosen_checkpoint.hpp"
#include "cli/commands.hpp"
#include "hooks/checkpoint_file.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"
#include "report/format.hpp"
#include "store/database.hpp"
#include "store/run_ref.hpp"
#include "train/weights_file.hpp"

namespace kiln::runner::cli {
namespace {

/// The weights the run's EMA hook swaps into the model (hooks/ema.hpp): its shadow of each
/// averaged parameter and its copy of each buffer, over the trained `weights`; a parameter
/// it does not average stays the trained one. Read from the checkpoint alone, so that no
/// plugin is loaded.
void swap_in_averages(TensorMap& weights, const TensorMap& ema, const store::RunRef& run, std::int64_t step) {
  std::vector<std::string> unknown;
  bool averages = false;
  for (const auto& [key, tensor] : ema) {
    std::string name;
    if (key.rfind("params/", 0) == 0) {
      name = key.substr(7);
      averages = true;
    } else if (key.rfind("buffers/", 0) == 0) {
      name = key.substr(8);
    } else {
      continue;  // the loss averages
    }
    if (!weights.contains(name) || weights.at(name).sizes() != tensor.sizes() ||
        weights.at(name).scalar_type() != tensor.scalar_type())
      unknown.push_back(key);
    else weights.set(name, tensor);
  }
  if (!averages)
    throw Error(fmt::format("run '{}' has no EMA weights: its checkpoint at step {} holds no averaged parameters (an "
                            "[ema] table with `params` averages them); without --ema, kiln export weights writes the "
                            "trained weights",
                            run.name, step));
  if (!unknown.empty())
    throw CheckpointError(fmt::format("the EMA state of run '{}' at step {} does not fit its model: {} not among "
                                      "the model's parameters and buffers, or of another shape or type",
                                      run.name, step, fmt::join(unknown, ", ")));
}

}  // namespace

int export_weights(const ExportWeightsArgs& args) {
  store::Database db(args.database, store::OpenMode::read_only);
  const store::RunRef run = store::find_run_ref(db, args.run);
  const store::CheckpointRow chosen = choose_checkpoint(db, run, args.step, args.best, "kiln export weights");
  const CheckpointEntries entries = read_checkpoint(chosen.path, chosen.sha256);
  // The model's parameters and buffers, named as named_parameters() and named_buffers() name
  // them: a state_dict's names.
  TensorMap weights = entries_under(entries, "model/", /*keep_prefix=*/false);
  if (args.ema) swap_in_averages(weights, entries_under(entries, "hook/ema/", /*keep_prefix=*/false), run, chosen.step);

  std::uint64_t bytes = 0;
  if (args.format == WeightsFormat::safetensors) {
    // "format": "pt" is what the safetensors library writes for PyTorch tensors, and what
    // Hugging Face's loaders check for.
    const std::map<std::string, std::string> metadata{{"format", "pt"},
                                                      {"kiln_version", KILN_VERSION_STRING},
                                                      {"run", run.name},
                                                      {"step", std::to_string(chosen.step)},
                                                      {"weights", args.ema ? "ema" : "raw"}};
    bytes = write_safetensors(args.out, weights, metadata);
  } else {
    bytes = write_torch_dict(args.out, weights);
  }
  fmt::print("wrote {} tensor{} ({}) of run {} at step {}{} ({} weights) to {}\n", weights.size(),
             weights.size() == 1 ? "" : "s", report::format_bytes(static_cast<std::int64_t>(bytes)), run.name,
             chosen.step, args.best ? " (its best)" : "", args.ema ? "EMA" : "trained", args.out.string());
  return kExitOk;
}

}  // namespace kiln::runner::cli
