// `kiln infer`: translate images with a run's model, from its latest, best or chosen checkpoint.
#include <algorithm>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/chosen_checkpoint.hpp"
#include "cli/commands.hpp"
#include "config/experiment.hpp"
#include "image/image_io.hpp"
#include "hooks/checkpoint_file.hpp"
#include "hooks/ema.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "store/database.hpp"
#include "store/run_ref.hpp"
#include "train/device.hpp"
#include "train/null_run.hpp"
#include "train/precision.hpp"
#include "train/state.hpp"

namespace kiln::runner::cli {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> images_in(const fs::path& input) {
  if (fs::is_regular_file(input)) return {input};
  if (!fs::is_directory(input)) throw Error(fmt::format("{}: no such file or folder", input.string()));
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(input)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (entry.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(fmt::format("{}: no PNG or JPEG files in this folder", input.string()));
  return files;
}

}  // namespace

int infer(const InferArgs& args) {
  store::Database db(args.database, store::OpenMode::read_only);
  const store::RunRef run = store::find_run_ref(db, args.run);
  const store::CheckpointRow chosen = choose_checkpoint(db, run, args.step, args.best, "kiln infer");

  // The model as the run built it: its resolved config, its plugins.
  const ExperimentSpec spec = load_experiment(run.run_dir / "experiment.toml");
  PluginHost host(spec.plugin_paths, default_plugin_dir());
  const std::shared_ptr<Model> model = host.make_model(spec.model.plugin, spec.model.library, spec.model.config);
  const CheckpointEntries entries = read_checkpoint(chosen.path, chosen.sha256);
  load_model_weights(*model, entries_under(entries, "model/", /*keep_prefix=*/true), /*strict=*/true);
  // Checkpoints hold CPU tensors: a run trained on a GPU translates on the CPU and the other
  // way round. The first GPU when there is one (--device chooses), at the run's precision
  // where this device has it (tf32 and fp16 are CUDA's: fp32 on the CPU).
  std::string problem;
  const std::optional<c10::Device> found =
      parse_device(args.device.empty() ? "auto" : args.device, CudaProbe::detect(), problem);
  if (!found) throw Error("--device " + problem);
  const c10::Device device = *found;
  const bool cuda_only = spec.precision == "tf32" || spec.precision == "fp16";
  const Precision precision = resolve_precision(device.is_cpu() && cuda_only ? "auto" : spec.precision, device,
                                                spec.root.table("experiment"), "precision");
  set_math_modes(device, precision);
  model->to(device);
  // The EMA's averages in place of the trained weights, as the run's own hook swaps them in
  // for evaluation: its state (hook/ema/ in the checkpoint) loaded into an Ema like the run's.
  std::unique_ptr<Ema> ema;
  std::optional<AveragedWeights> averaged;
  if (!args.raw && spec.ema) {
    // Its [ema] read as the run's hook read it (the supervisor's table gives its summary schedule).
    Ema::Options options = Ema::Options::read(*spec.ema, spec.loss_names(), Supervisor::Options::read(spec.supervisor));
    const TensorMap state = entries_under(entries, "hook/ema/", /*keep_prefix=*/false);
    if (!options.params.empty() && !state.empty()) {
      ema = std::make_unique<Ema>(std::move(options));
      ema->load_state(state);
      NullRun run(*model);
      ema->begin(run);
      averaged.emplace(*ema);
    }
  }
  model->train(false);
  const std::int64_t size = spec.model.config.get_or<std::int64_t>("image_size", 0);

  fs::create_directories(args.out);
  torch::NoGradGuard no_grad;
  std::size_t written = 0;
  for (const fs::path& file : images_in(args.input)) {
    torch::Tensor image = image::to_signed(image::read_image(file));
    if (args.paired) image = image.narrow(/*dim=*/2, /*start=*/0, image.size(2) / 2);
    if (size > 0 && (image.size(1) != size || image.size(2) != size)) image = image::resize(image, size, size);
    Batch batch("batch");
    batch.set(args.input_key, image.unsqueeze(0).to(device));
    // Inference needs no run; the step only tells the model it is not training.
    NullRun context(*model);
    Step step(context, 0);
    step.set_phase("infer");
    step.set_training(false);
    AutocastScope autocast(device, precision);
    const Outputs outputs = model->forward(batch, step);
    image::write_png(args.out / (file.stem().string() + ".png"), outputs.at(args.output_key)[0]);
    ++written;
  }
  fmt::print("translated {} image{} with run {} at step {}{} ({} weights) into {}\n", written,
             written == 1 ? "" : "s", run.name, chosen.step, args.best ? " (its best)" : "",
             averaged ? "EMA" : "trained", args.out.string());
  return kExitOk;
}

}  // namespace kiln::runner::cli
